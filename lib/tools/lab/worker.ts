/**
 * The lab page's Web Worker: receives the images once, trains with {@linkcode trainLab} when told
 * to, and streams what the page draws (loss points, epochs, divergences, update ratios, the first
 * layer's weights) at most every {@linkcode FLUSH_MS} ms, so the page never waits on training.
 * `lab.ts` bundles it (`deno bundle --platform browser`) into the page.
 *
 * Messages in: `{ type: "start", config, train, validation }` (pixels as bytes 0–255),
 * `{ type: "pause" }`, `{ type: "resume" }`, `{ type: "watch", run }` (whose weights to send).
 *
 * @module
 */
import { IMAGE_PIXELS } from "../../data/shape.ts";
import type { PassData } from "../../train/grid_pass.ts";
import { pytorchInitialWeights } from "../../model/init.ts";
import { LAB_SIZES, type LabConfig, labConfig, trainLab } from "./engine.ts";

/** How often the worker posts what it has gathered. */
export const FLUSH_MS = 100;
/** Training runs this long at most before letting the worker read its messages (pause). */
const SLICE_MS = 25;
/** Hidden units of the first layer whose weights the page shows. */
export const SHOWN_UNITS = 16;
/** A loss point is the mean of this many steps' batch losses. */
const POINT_STEPS = 5;

/** Images as the page sends them: bytes, as MNIST stores them. */
export interface ByteSplit {
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
}

interface Scope {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
}

/** The pixels in [0, 1], as `loadMnist` scales them (byte / 255 in float32). */
export function fromBytes(split: ByteSplit): PassData {
  const images = new Float32Array(split.count * IMAGE_PIXELS);
  for (let i = 0; i < images.length; i++) images[i] = split.pixels[i] / 255;
  return { images, labels: split.labels, count: split.count };
}

/**
 * Serves the lab in a worker's global scope.
 *
 * @param scope The worker's `self`.
 */
export function serveLab(scope: Scope): void {
  let paused = false, resume: () => void = () => {};
  let watched = 0;
  scope.onmessage = (event) => {
    const message = event.data;
    if (message.type === "pause") paused = true;
    if (message.type === "resume") {
      paused = false;
      resume();
    }
    if (message.type === "watch") watched = message.run;
    if (message.type === "start") {
      const train = fromBytes(message.train);
      // Checked here, so a bad labTrain option rejects its promise with the message.
      Promise.resolve().then(() => labConfig(message.config, train.count)).then((config) =>
        run(config, train, fromBytes(message.validation))
      ).catch(
        (error) => scope.postMessage({ type: "error", message: String(error?.message ?? error) }),
      );
    }
  };

  async function run(config: LabConfig, train: PassData, validation: PassData) {
    const K = config.learningRates.length;
    let outbox: unknown[] = [];
    const sums = new Float64Array(K), counts = new Int32Array(K);
    const started = performance.now();
    let lastFlush = started, lastYield = started;
    let pausedMs = 0, lastStep = 0;
    const initialUnits = firstUnits(pytorchInitialWeights(LAB_SIZES, config.seed)[0].kernel);
    const histories = await trainLab(config, { train, validation }, {
      onEpoch: (run, row) => outbox.push({ type: "epoch", run, row }),
      onDiverged: (run, at) => outbox.push({ type: "diverged", run, at }),
      onRatios: (run, { step, ratios }) => outbox.push({ type: "ratios", run, step, ratios }),
      async onStep(step) {
        lastStep = step.step;
        for (let k = 0; k < K; k++) {
          if (Number.isNaN(step.losses[k])) continue;
          sums[k] += step.losses[k];
          counts[k]++;
        }
        if (step.step % POINT_STEPS === 0 || step.batch === step.batches) {
          const points = [];
          for (let k = 0; k < K; k++) {
            if (counts[k] > 0) points.push({ run: k, step: step.step, loss: sums[k] / counts[k] });
          }
          sums.fill(0);
          counts.fill(0);
          outbox.push({ type: "points", points });
        }
        const now = performance.now();
        if (now - lastFlush >= FLUSH_MS) {
          const seconds = (now - started - pausedMs) / 1000;
          const { epoch, batch, batches } = step;
          const stepsPerSecond = step.step / seconds;
          outbox.push({ type: "progress", step: step.step, epoch, batch, batches, stepsPerSecond });
          const weights = step.weightsOf(watched);
          if (weights) {
            const units = firstUnits(weights[0].kernel);
            outbox.push({ type: "weights", run: watched, step: step.step, units, initialUnits });
          }
          scope.postMessage({ type: "batch", messages: outbox });
          outbox = [];
          lastFlush = now;
        }
        if (now - lastYield >= SLICE_MS || paused) {
          await nextTask();
          const pauseStart = performance.now();
          if (paused) {
            // Everything up to this step is drawn before the page says "paused".
            scope.postMessage({ type: "batch", messages: outbox });
            outbox = [];
            scope.postMessage({ type: "paused", step: step.step });
          }
          while (paused) await new Promise<void>((done) => (resume = done));
          pausedMs += performance.now() - pauseStart;
          lastYield = performance.now();
        }
      },
    });
    scope.postMessage({ type: "batch", messages: outbox });
    scope.postMessage({ type: "done", histories, steps: lastStep });
  }
}

/**
 * Resolves in a new task, so the worker reads its messages: a message channel's, which browsers do
 * not clamp to 4 ms as they clamp nested timeouts.
 */
function nextTask(): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((done) => {
    port1.onmessage = () => {
      port1.close();
      done();
    };
    port2.postMessage(null);
  });
}

/** The first {@linkcode SHOWN_UNITS} hidden units' 784 input weights, unit after unit. */
function firstUnits(kernel: Float32Array): Float32Array {
  const units = kernel.length / IMAGE_PIXELS;
  const out = new Float32Array(SHOWN_UNITS * IMAGE_PIXELS);
  for (let p = 0; p < IMAGE_PIXELS; p++) {
    for (let j = 0; j < SHOWN_UNITS; j++) out[j * IMAGE_PIXELS + p] = kernel[p * units + j];
  }
  return out;
}

if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  serveLab(globalThis as unknown as Scope);
}
