/**
 * Writes the playground: `playground.html`, where a reader draws a digit and watches the trained
 * model's ten probabilities change, with everything it needs in `playground/` beside it: stock
 * tfjs (the browser bundle from the project's own node_modules) and the model's files. Nothing
 * is fetched from the network.
 *
 * Over http(s) the page loads `playground/model.json` with `tf.loadLayersModel`; opened from disk
 * (file://, where Chromium refuses fetches) it reads a copy of the model embedded in the page
 * (JSON and base64 weights, `tf.io.fromMemory`). The page exposes
 * `window.predictDigit(pixels: Float32Array): Promise<number[]>` for 784 MNIST-style inputs.
 *
 * @module
 */
import { basename, join, relative } from "node:path";
import { toBase64 } from "./_base64.ts";
import { copyAtomically, writeAtomically } from "../util/atomic.ts";
import { cannotMessage } from "../util/validate.ts";
import { projectPath } from "../util/paths.ts";

/** File name of the page. */
export const PLAYGROUND_FILE = "playground.html";
/** Folder beside the page holding tfjs and the model. */
export const PLAYGROUND_ASSETS = "playground";
/** The stock tfjs browser bundle that `deno install` puts in node_modules. */
export const TFJS_BUNDLE: string = projectPath("node_modules/@tensorflow/tfjs/dist/tf.min.js");

const TEMPLATE_DIR = new URL("./playground/", import.meta.url);
const PREPARE_IMPORT = /^import \{[^}]*\} from "\.\/prepare\.js";$/m;

/** Options of {@linkcode writePlayground}. */
export interface PlaygroundOptions {
  /** The tfjs browser bundle to copy. Default {@linkcode TFJS_BUNDLE}. */
  tfjsBundle?: string;
}

/** What {@linkcode writePlayground} wrote. */
export interface WrittenPlayground {
  /** Path of `playground.html`. */
  htmlPath: string;
  /** Path of the assets folder beside it. */
  assetsDir: string;
  /** One line about the model, as the page shows it. */
  modelInfo: string;
}

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: { shape: number[] }[] }[];
  userDefinedMetadata?: Record<string, unknown>;
}

/**
 * Writes `playground.html` and its `playground/` folder into `outDir` for the model in `modelDir`.
 *
 * @param modelDir A folder with a tfjs layers `model.json` and its weights (see `saveModel`).
 * @param outDir Where the page goes (created if missing), e.g. `reports/`.
 * @param options The tfjs bundle to copy.
 * @returns The paths written and the model's description.
 * @throws {Deno.errors.NotFound} If the model or the tfjs bundle is missing, saying what to run.
 * @throws {TypeError} If `model.json` is not a tfjs layers model.
 *
 * @example
 * ```ts ignore
 * const { htmlPath } = await writePlayground("reports/models/ann_mnist_full", "reports");
 * ```
 */
export async function writePlayground(
  modelDir: string,
  outDir: string,
  options: PlaygroundOptions = {},
): Promise<WrittenPlayground> {
  const { tfjsBundle = TFJS_BUNDLE } = options;
  const modelPath = join(modelDir, "model.json");
  const where = { action: "write the playground", subject: modelPath };
  const modelText = await readOrExplain(
    modelPath,
    cannotMessage(
      where,
      "model",
      { phrase: "missing" },
      "a tfjs layers model saved by notebook 03",
      "Run notebook 03 (make report) first",
    ),
  );
  const model = parseModelJson(modelText, where);
  await Deno.stat(tfjsBundle).catch(() => {
    throw new Deno.errors.NotFound(
      cannotMessage(
        { action: "write the playground", subject: tfjsBundle },
        "the tfjs browser bundle",
        { phrase: "missing" },
        "the file @tensorflow/tfjs installs",
        "Run `deno install` first",
      ),
    );
  });
  const weightFiles = model.weightsManifest.flatMap((group) => group.paths);
  const weights = await Promise.all(weightFiles.map((name) => Deno.readFile(join(modelDir, name))));

  const assetsDir = join(outDir, PLAYGROUND_ASSETS);
  await Deno.mkdir(assetsDir, { recursive: true });
  await copyAtomically(tfjsBundle, join(assetsDir, "tf.min.js"));
  for (const [i, name] of weightFiles.entries()) {
    await writeAtomically(join(assetsDir, name), weights[i]);
  }
  await writeAtomically(join(assetsDir, "model.json"), modelText);
  await removeStaleWeights(assetsDir, weightFiles);

  const modelInfo = describeModel(model, modelDir, (await Deno.stat(modelPath)).mtime);
  const html = renderPlayground({
    modelUrl: `${PLAYGROUND_ASSETS}/model.json`,
    tfjsSrc: `${PLAYGROUND_ASSETS}/tf.min.js`,
    modelInfo,
    modelData: {
      modelTopology: model.modelTopology,
      weightSpecs: model.weightsManifest.flatMap((group) => group.weights),
      weightsBase64: toBase64(concatBytes(weights)),
    },
    script: await pageScript(),
  }, await Deno.readTextFile(new URL("page.html", TEMPLATE_DIR)));
  const htmlPath = join(outDir, PLAYGROUND_FILE);
  await writeAtomically(htmlPath, html);
  return { htmlPath, assetsDir, modelInfo };
}

/**
 * For `deno task report`: writes the playground if the model exists, else says why not.
 *
 * @param modelDir The folder notebook 03 saved the model into.
 * @param outDir The reports folder.
 * @returns One line for the report's progress output.
 */
export async function writeReportPlayground(modelDir: string, outDir: string): Promise<string> {
  try {
    const { htmlPath } = await writePlayground(modelDir, outDir);
    const shown = relative(Deno.cwd(), htmlPath);
    return `playground  ${shown.startsWith("..") ? htmlPath : shown}\n`;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    return `playground  skipped: ${error.message}\n`;
  }
}

/**
 * Fills the page template. Values go in as text (escaped) or as JSON that cannot end the
 * `<script>` element it sits in.
 *
 * @param parts What to put in the page.
 * @param template The page template (lib/tools/playground/page.html).
 * @returns The page.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const html = renderPlayground(
 *   { modelUrl: "m.json", tfjsSrc: "tf.js", modelInfo: "a < b", modelData: { s: "</script>" },
 *     script: "" },
 *   "{{model_info}}|{{model_data}}",
 * );
 * assert.equal(html, 'a &lt; b|{"s":"\\u003c/script>"}');
 * ```
 */
export function renderPlayground(
  parts: {
    modelUrl: string;
    tfjsSrc: string;
    modelInfo: string;
    modelData: unknown;
    script: string;
  },
  template: string,
): string {
  const values: Record<string, string> = {
    model_url: escapeText(parts.modelUrl),
    tfjs_src: escapeText(parts.tfjsSrc),
    model_info: escapeText(parts.modelInfo),
    model_data: JSON.stringify(parts.modelData).replaceAll("<", "\\u003c"),
    script: parts.script,
  };
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, key: string) => values[key] ?? whole);
}

/** page.js with prepare.js inlined in place of its import: one module script, no fetches. */
async function pageScript(): Promise<string> {
  const page = await Deno.readTextFile(new URL("page.js", TEMPLATE_DIR));
  const prepare = await Deno.readTextFile(new URL("prepare.js", TEMPLATE_DIR));
  if (!PREPARE_IMPORT.test(page)) {
    throw new Error('Cannot inline prepare.js: page.js has no `import … from "./prepare.js"`');
  }
  const script = page.replace(PREPARE_IMPORT, () => prepare);
  if (/<\/script/i.test(script)) {
    throw new Error("Cannot inline the playground script: it contains </script");
  }
  return script;
}

function parseModelJson(text: string, where: { action: string; subject: string }): ModelJson {
  let json: Partial<ModelJson>;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TypeError(cannotMessage(where, "model.json", { phrase: "not JSON" }, "JSON"));
  }
  if (!json?.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new TypeError(
      cannotMessage(
        where,
        "its keys",
        Object.keys(json ?? {}),
        'a tfjs layers model with "modelTopology" and "weightsManifest"',
      ),
    );
  }
  return json as ModelJson;
}

/** "ann_mnist_full: 109,386 parameters, test accuracy 97.4 %, saved 2026-12-01 20:40 UTC." */
function describeModel(model: ModelJson, modelDir: string, savedAt: Date | null): string {
  const parameters = model.weightsManifest.flatMap((group) => group.weights)
    .reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1), 0);
  const facts = [`${parameters.toLocaleString("en")} parameters`];
  const accuracy = model.userDefinedMetadata?.test_accuracy;
  if (typeof accuracy === "number") facts.push(`test accuracy ${(100 * accuracy).toFixed(1)} %`);
  if (savedAt) facts.push(`saved ${savedAt.toISOString().slice(0, 16).replace("T", " ")} UTC`);
  return `Model ${basename(modelDir)}: ${facts.join(", ")}.`;
}

async function readOrExplain(path: string, message: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new Deno.errors.NotFound(message);
    throw error;
  }
}

async function removeStaleWeights(dir: string, keep: string[]): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".bin") && !keep.includes(entry.name)) {
      await Deno.remove(join(dir, entry.name));
    }
  }
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function escapeText(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}
