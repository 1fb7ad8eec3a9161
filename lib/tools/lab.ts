/**
 * Writes the learning-rate lab: `lab.html`, where a reader trains the original network at several
 * learning rates side by side and watches the curves, the update ratios and the first layer's
 * weights change, with what it needs in `lab/` beside it: Observable Plot and d3 (the browser
 * bundles from the project's own node_modules) and an MNIST subset (`lab/data.js`). The training
 * code is the project's own (`lab/engine.ts` on `runSharedPass`), bundled by `deno bundle` into the
 * page and run in a Web Worker. Nothing is fetched from the network; it works from file://.
 *
 * Run `deno task lab` to write it alone; `deno task report` writes it too.
 *
 * @module
 */
import { join, relative } from "node:path";
import { CATEGORY_COLORS } from "../charts/frame.ts";
import { datasetTitle } from "../data/dataset.ts";
import { loadSplits, type Split } from "../data/mnist.ts";
import { IMAGE_PIXELS } from "../data/shape.ts";
import { copyAtomically, writeAtomically } from "../util/atomic.ts";
import { projectPath } from "../util/paths.ts";
import { cannotMessage, positiveInteger } from "../util/validate.ts";
import { toBase64 } from "./_base64.ts";
import { LAB_DEFAULTS, LAB_MAX_RUNS, LAB_RATE_RANGE } from "./lab/engine.ts";

/** File name of the page. */
export const LAB_FILE = "lab.html";
/** Folder beside the page with Plot, d3 and the images. */
export const LAB_ASSETS = "lab";
/** Training images the page holds by default (validation: a fifth as many). */
export const LAB_TRAIN_IMAGES = 5000;

const TEMPLATE_DIR = new URL("./lab/", import.meta.url);
const BROWSER_BUNDLES = {
  "d3.min.js": projectPath("node_modules/d3/dist/d3.min.js"),
  "plot.umd.min.js": projectPath("node_modules/@observablehq/plot/dist/plot.umd.min.js"),
};
/** The rates of the page's six run slots (the first four on at the start). */
const SLOT_RATES = [...LAB_DEFAULTS.learningRates, 0.03, 0.3];

/** Options of {@linkcode writeLab}. */
export interface LabOptions {
  /** Training images to embed (the first of the notebooks' training split); default 5,000. */
  trainImages?: number;
  /** The splits to take them from; default `loadSplits({ limit: trainImages })`. */
  splits?: { train: Split; validation: Split };
}

/** What {@linkcode writeLab} wrote. */
export interface WrittenLab {
  htmlPath: string;
  assetsDir: string;
  /** The sentence about the data the page shows. */
  dataInfo: string;
}

/**
 * Writes `lab.html` and its `lab/` folder into `outDir`.
 *
 * @param outDir Where the page goes (created if missing), e.g. `reports/`.
 * @param options How many images to embed, or the splits to take them from.
 * @returns The paths written.
 * @throws {Deno.errors.NotFound} If Plot's or d3's browser bundle is missing (run `deno install`).
 * @throws {Error} If `deno bundle` cannot bundle the worker.
 *
 * @example
 * ```ts ignore
 * const { htmlPath } = await writeLab("reports");
 * ```
 */
export async function writeLab(outDir: string, options: LabOptions = {}): Promise<WrittenLab> {
  const { trainImages = LAB_TRAIN_IMAGES } = options;
  positiveInteger({ action: "write the lab" }, "option trainImages", trainImages);
  for (const path of Object.values(BROWSER_BUNDLES)) {
    await Deno.stat(path).catch(() => {
      throw new Deno.errors.NotFound(cannotMessage(
        { action: "write the lab", subject: path },
        "the browser bundle",
        { phrase: "missing" },
        "the file its npm package installs",
        "Run `deno install` first",
      ));
    });
  }
  const splits = options.splits ?? await loadSplits({ limit: trainImages });
  const train = firstExamples(splits.train, trainImages);
  const validation = firstExamples(splits.validation, Math.ceil(trainImages / 5));
  const worker = await bundleWorker();

  const assetsDir = join(outDir, LAB_ASSETS);
  await Deno.mkdir(assetsDir, { recursive: true });
  for (const [name, path] of Object.entries(BROWSER_BUNDLES)) {
    await copyAtomically(path, join(assetsDir, name));
  }
  const data = `globalThis.LAB_DATA = ${
    JSON.stringify({ train: encode(train), validation: encode(validation) })
  };\n`;
  await writeAtomically(join(assetsDir, "data.js"), data);

  const megabytes = (data.length / 1e6).toFixed(1);
  const dataInfo = `${train.count.toLocaleString("en")} training and ` +
    `${
      validation.count.toLocaleString("en")
    } validation images of ${datasetTitle()}, the first of ` +
    `the notebooks' seeded split (${megabytes} MB in lab/data.js).`;
  const trainSizes = [1000, 2000, train.count].filter((n, i, all) =>
    n <= train.count && all.indexOf(n) === i
  );
  const lab = {
    defaults: { ...LAB_DEFAULTS, trainImages: Math.min(LAB_DEFAULTS.trainImages, train.count) },
    slotRates: SLOT_RATES.slice(0, LAB_MAX_RUNS),
    colors: CATEGORY_COLORS.slice(0, LAB_MAX_RUNS),
    rateRange: LAB_RATE_RANGE,
    trainSizes,
  };
  const html = renderLab({
    dataInfo,
    lab,
    worker,
    script: await Deno.readTextFile(new URL("page.js", TEMPLATE_DIR)),
  }, await Deno.readTextFile(new URL("page.html", TEMPLATE_DIR)));
  const htmlPath = join(outDir, LAB_FILE);
  await writeAtomically(htmlPath, html);
  return { htmlPath, assetsDir, dataInfo };
}

/**
 * Fills the page template: text escaped, JSON and scripts so that they cannot end their element.
 *
 * @param parts What to put in the page.
 * @param template The template (lib/tools/lab/page.html).
 * @returns The page.
 * @throws {Error} If a script contains `</script`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const html = renderLab(
 *   { dataInfo: "a < b", lab: { s: "</script>" }, worker: "w()", script: "s()" },
 *   "{{data_info}}|{{lab}}|{{worker}}|{{script}}",
 * );
 * assert.equal(html, 'a &lt; b|{"s":"\\u003c/script>"}|w()|s()');
 * ```
 */
export function renderLab(
  parts: { dataInfo: string; lab: unknown; worker: string; script: string },
  template: string,
): string {
  for (const [name, text] of [["worker", parts.worker], ["page script", parts.script]]) {
    if (/<\/script/i.test(text)) {
      throw new Error(`Cannot write the lab: the ${name} contains "</script", which ends its tag`);
    }
  }
  const values: Record<string, string> = {
    data_info: parts.dataInfo.replaceAll("&", "&amp;").replaceAll("<", "&lt;")
      .replaceAll(">", "&gt;"),
    lab: JSON.stringify(parts.lab).replaceAll("<", "\\u003c"),
    worker: parts.worker,
    script: parts.script,
  };
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, key: string) => values[key] ?? whole);
}

/** The worker (lib/tools/lab/worker.ts and what it imports) as one browser script. */
async function bundleWorker(): Promise<string> {
  const out = await Deno.makeTempFile({ prefix: "lab-worker-", suffix: ".js" });
  try {
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--format",
        "iife",
        "--minify",
        "--output",
        out,
        new URL("worker.ts", TEMPLATE_DIR).pathname,
      ],
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (!success) {
      throw new Error(
        `Cannot bundle the lab's worker with deno bundle: ${
          new TextDecoder().decode(stderr).trim()
        }`,
      );
    }
    return await Deno.readTextFile(out);
  } finally {
    await Deno.remove(out).catch(() => {});
  }
}

function firstExamples(split: Split, count: number): Split {
  const n = Math.min(count, split.count);
  return {
    images: split.images.subarray(0, n * IMAGE_PIXELS),
    labels: split.labels.subarray(0, n),
    count: n,
  };
}

/** Pixels back to the bytes they were (x = byte / 255), and labels, in base64. */
function encode(split: Split) {
  const pixels = new Uint8Array(split.images.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.round(split.images[i] * 255);
  return { count: split.count, pixels: toBase64(pixels), labels: toBase64(split.labels) };
}

/**
 * For `deno task report`: writes the lab and returns one line for the report's output.
 *
 * @param outDir The reports folder.
 * @returns The line.
 */
export async function writeReportLab(outDir: string): Promise<string> {
  const { htmlPath } = await writeLab(outDir);
  const shown = relative(Deno.cwd(), htmlPath);
  return `lab         ${shown.startsWith("..") ? htmlPath : shown}\n`;
}

if (import.meta.main) {
  const { htmlPath, dataInfo } = await writeLab(projectPath("reports"));
  console.log(`Wrote ${relative(Deno.cwd(), htmlPath)}: ${dataInfo}`);
  console.log("Open it in a browser (from disk is fine); nothing is fetched from the network.");
}
