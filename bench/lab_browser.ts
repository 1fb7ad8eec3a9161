/**
 * How fast the learning-rate lab trains in headless Chromium: one epoch of its 5,000 images at
 * batch 64 (79 steps) with 1 and with 4 rates side by side, in the page's Web Worker, through
 * `window.labTrain` (what the Start button runs). The two sizes alternate (1, 4, 1, 4, …) and the
 * medians are kept; each time counts from the call to its histories, worker start-up included.
 *
 * ```sh
 * deno task bench:lab          # alone; `deno task bench` runs it too unless --no-lab
 * ```
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";
import { DEFAULT_CHROMIUM } from "../lib/tools/screenshot.ts";
import { LAB_TRAIN_IMAGES, writeLab } from "../lib/tools/lab.ts";

/** One size's measurement. */
export interface LabSpeed {
  runs: number;
  /** Median seconds of one epoch (all runs together). */
  epoch_s: number;
  /** Steps of the shared pass per second (each step trains every run on one batch). */
  steps_per_s: number;
  /** Images per second summed over the runs. */
  run_images_per_s: number;
}

/** The lab's speeds and what it ran on. */
export interface LabBench {
  engine: string;
  images: number;
  rounds: number;
  sizes: LabSpeed[];
}

const RATES = [0.003, 0.01, 0.03, 0.1]; // none diverges in an epoch: every run trains every step

/**
 * Writes a lab into a temporary folder and times it in Chromium.
 *
 * @param rounds Rounds of (1 run, 4 runs).
 * @returns The medians.
 */
export async function measureLab(rounds = 3): Promise<LabBench> {
  const folder = await Deno.makeTempDir({ prefix: "lab-bench-" });
  const browser = await puppeteer.launch({
    executablePath: DEFAULT_CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
  try {
    const { htmlPath } = await writeLab(folder);
    const page = await browser.newPage();
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: "load" });
    await page.waitForFunction(() => "labTrain" in globalThis);
    const time = (runs: number) =>
      page.evaluate(async (rates) => {
        const start = performance.now();
        await (globalThis as unknown as { labTrain(c: unknown): Promise<unknown> })
          .labTrain({ learningRates: rates, epochs: 1 });
        return (performance.now() - start) / 1000;
      }, RATES.slice(0, runs));
    await time(1); // warm-up: the first call compiles the worker's code
    const seconds: Record<number, number[]> = { 1: [], 4: [] };
    for (let round = 0; round < rounds; round++) {
      for (const runs of [1, 4]) seconds[runs].push(await time(runs));
    }
    const steps = Math.ceil(LAB_TRAIN_IMAGES / 64);
    return {
      engine: "lib/train/grid_pass.ts + TypeScript BLAS in a Web Worker (Chromium " +
        `${(await browser.version()).replace(/^.*?\//, "")})`,
      images: LAB_TRAIN_IMAGES,
      rounds,
      sizes: [1, 4].map((runs) => {
        const epoch_s = median(seconds[runs]);
        return {
          runs,
          epoch_s,
          steps_per_s: steps / epoch_s,
          run_images_per_s: (runs * LAB_TRAIN_IMAGES) / epoch_s,
        };
      }),
    };
  } finally {
    await browser.close();
    await Deno.remove(folder, { recursive: true });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The table `deno task bench` prints. */
export function labTable(lab: LabBench): string {
  return [
    `| lab in Chromium, one epoch of ${
      lab.images.toLocaleString("en")
    } images | seconds | steps/s | images/s (all runs) |`,
    "| --- | ---: | ---: | ---: |",
    ...lab.sizes.map((s) =>
      `| ${s.runs} run${s.runs > 1 ? "s" : ""} side by side | ${s.epoch_s.toFixed(2)} | ` +
      `${s.steps_per_s.toFixed(0)} | ${s.run_images_per_s.toFixed(0)} |`
    ),
  ].join("\n");
}

if (import.meta.main) {
  const lab = await measureLab();
  console.log(`${lab.engine}\n\n${labTable(lab)}`);
  console.log(JSON.stringify(lab));
}
