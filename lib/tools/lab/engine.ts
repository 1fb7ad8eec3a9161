/**
 * The learning-rate lab's training: K copies of the original network, one per learning rate,
 * trained side by side on the same batches by the project's own shared pass (`runSharedPass`, the
 * step `train()` and `trainGrid()` run), with the TypeScript BLAS, so it runs unchanged in a
 * browser's worker. Nothing here touches the DOM or Deno; `worker.ts` wires it to messages and
 * `tests/tools/lab_test.ts` checks it against `train()`.
 *
 * @module
 */
import { jsBlas } from "../../backend/js_blas.ts";
import { IMAGE_PIXELS } from "../../data/shape.ts";
import { type DenseWeights, pytorchInitialWeights } from "../../model/init.ts";
import { type PassData, type PassStep, runSharedPass } from "../../train/grid_pass.ts";
import {
  integer,
  numberInRange,
  positiveInteger,
  rangeError,
  typeError,
} from "../../util/validate.ts";

/** The original network's widths. */
export const LAB_SIZES: readonly number[] = [IMAGE_PIXELS, 128, 64, 10];
/** The learning-rate sliders' range. */
export const LAB_RATE_RANGE = { min: 1e-4, max: 3 } as const;
/** Most runs side by side. */
export const LAB_MAX_RUNS = 6;
/** A batch whose mean loss exceeds this (or is not finite) ends its run as diverged, as in `train()`. */
export const LAB_DIVERGENCE_LOSS = 100;

/** What `window.labTrain` and the controls train. */
export interface LabConfig {
  /** One run per rate, each in [1e-4, 3]. */
  learningRates: number[];
  /** SGD momentum in [0, 1). */
  momentum: number;
  batchSize: number;
  epochs: number;
  /** Seeds the initial weights (as `createModel({ seed })`) and the batch order. */
  seed: number;
  /** How many of the page's training images to train on (the first ones). */
  trainImages: number;
}

/** The original recipe's settings, at the lab's scale. */
export const LAB_DEFAULTS: LabConfig = {
  learningRates: [0.001, 0.01, 0.1, 1],
  momentum: 0.5,
  batchSize: 64,
  epochs: 10,
  seed: 0,
  trainImages: 5000,
};

/** One epoch of one run, as `labTrain` reports it. */
export interface LabEpoch {
  epoch: number;
  /** Mean training loss over the epoch's batches (the loss that ended the run, if it diverged). */
  loss: number;
  accuracy: number | null;
  val_loss: number | null;
  val_accuracy: number | null;
  /** Whether the run diverged in this epoch (its last row then). */
  diverged: boolean;
}

/** Where a run diverged. */
export interface LabDivergence {
  epoch: number;
  batch: number;
  /** Step of the run (1-based, over epochs). */
  step: number;
  loss: number;
}

/** The update/weight ratio of each dense layer at one step: ‖ΔW‖ / ‖W‖. */
export interface LabRatios {
  step: number;
  /** Per dense layer (kernels only), in layer order. */
  ratios: number[];
}

/** Live hooks of {@linkcode trainLab}; each may be async (awaiting one pauses training). */
export interface LabEvents {
  onStep?(step: PassStep): void | Promise<void>;
  onEpoch?(run: number, row: LabEpoch): void;
  onDiverged?(run: number, at: LabDivergence): void;
  /** Run `run`'s update/weight ratios, every `ratioEvery`-th step. */
  onRatios?(run: number, ratios: LabRatios): void;
}

/** Options of {@linkcode trainLab}. */
export interface TrainLabOptions {
  /** Measure the update/weight ratios every this many steps (default 10; 0 for never). */
  ratioEvery?: number;
}

/**
 * Checks a lab configuration, filling what is missing from {@linkcode LAB_DEFAULTS}.
 *
 * @param config What the caller asked for.
 * @param available How many training images the page holds.
 * @returns A complete configuration.
 * @throws {RangeError | TypeError} Naming the option, what it is and what it should be.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(labConfig({ learningRates: [0.1] }, 5000).learningRates, [0.1]);
 * assert.throws(() => labConfig({ learningRates: [5] }, 5000), /learningRates\[0\] is 5/);
 * ```
 */
export function labConfig(config: Partial<LabConfig>, available: number): LabConfig {
  const where = { action: "train in the lab" };
  const full = { ...LAB_DEFAULTS, ...config };
  if (!Array.isArray(full.learningRates)) {
    typeError(where, "option learningRates", full.learningRates, "an array of numbers");
  }
  const runs = full.learningRates.length;
  if (runs < 1 || runs > LAB_MAX_RUNS) {
    rangeError(where, "the number of learningRates", runs, `1 to ${LAB_MAX_RUNS}`);
  }
  return {
    learningRates: full.learningRates.map((rate, i) =>
      numberInRange(where, `option learningRates[${i}]`, rate, LAB_RATE_RANGE)
    ),
    momentum: numberInRange(where, "option momentum", full.momentum, {
      min: 0,
      max: 1,
      maxExclusive: true,
    }),
    batchSize: integer(where, "option batchSize", full.batchSize, { min: 1, max: 1024 }),
    epochs: integer(where, "option epochs", full.epochs, { min: 1, max: 1000 }),
    seed: integer(where, "option seed", full.seed, { min: 0, max: 2 ** 31 - 1 }),
    trainImages: integer(where, "option trainImages", full.trainImages, {
      min: 1,
      max: available,
    }),
  };
}

/**
 * Trains one network per learning rate on the same batches, the way `trainGrid` trains a grid.
 *
 * @param config The runs (see {@linkcode labConfig}).
 * @param data Training images (the first `config.trainImages` are used) and validation images.
 * @param events Live hooks.
 * @param options How often to measure the update/weight ratios.
 * @returns One list of epochs per learning rate, in `config.learningRates`' order.
 */
export async function trainLab(
  config: LabConfig,
  data: { train: PassData; validation: PassData },
  events: LabEvents = {},
  options: TrainLabOptions = {},
): Promise<LabEpoch[][]> {
  const { ratioEvery = 10 } = options;
  positiveInteger({ action: "train in the lab" }, "the training images", data.train.count);
  const n = config.trainImages;
  const train: PassData = {
    images: data.train.images.subarray(0, n * IMAGE_PIXELS),
    labels: data.train.labels.subarray(0, n),
    count: n,
  };
  const K = config.learningRates.length;
  const histories: LabEpoch[][] = Array.from({ length: K }, () => []);
  const initial = pytorchInitialWeights(LAB_SIZES, config.seed);
  const before: (DenseWeights[] | null)[] = new Array(K).fill(null);
  const blas = jsBlas();
  await runSharedPass({ blas, wide: blas }, {
    sizes: [...LAB_SIZES],
    specs: config.learningRates.map((learningRate) => ({
      optimizer: { kind: "sgd", learningRate, momentum: config.momentum },
      dropout: 0,
    })),
    weights: config.learningRates.map(() => initial),
    data: train,
    validation: data.validation,
    batchSize: config.batchSize,
    seed: config.seed,
    epochs: new Array(K).fill(config.epochs),
    divergenceLoss: LAB_DIVERGENCE_LOSS,
    learningRate: (k) => config.learningRates[k],
  }, {
    onEpoch(k, epoch, rows) {
      const [trainRow, validation] = rows;
      const row: LabEpoch = {
        epoch,
        loss: trainRow.loss,
        accuracy: trainRow.accuracy ?? null,
        val_loss: validation?.loss ?? null,
        val_accuracy: validation?.accuracy ?? null,
        diverged: false,
      };
      histories[k].push(row);
      events.onEpoch?.(k, row);
      return false;
    },
    onFinish(k, _weights, outcome) {
      const at = outcome.diverged;
      if (!at) return;
      const step = (at.epoch - 1) * Math.ceil(n / config.batchSize) + at.batch;
      const row: LabEpoch = {
        epoch: at.epoch,
        loss: at.loss,
        accuracy: null,
        val_loss: null,
        val_accuracy: null,
        diverged: true,
      };
      histories[k].push(row);
      events.onEpoch?.(k, row);
      events.onDiverged?.(k, { ...at, step });
    },
    async onStep(step) {
      if (ratioEvery > 0 && events.onRatios) measureRatios(step, ratioEvery, before, events);
      await events.onStep?.(step);
    },
  });
  return histories;
}

/** Keeps each run's weights the step before a measured one, and reports ‖ΔW‖/‖W‖ after it. */
function measureRatios(
  step: PassStep,
  every: number,
  before: (DenseWeights[] | null)[],
  events: LabEvents,
): void {
  const measured = step.step % every === 0, keep = (step.step + 1) % every === 0;
  if (!measured && !keep) return;
  for (let k = 0; k < before.length; k++) {
    const now = step.weightsOf(k);
    if (now === null) continue;
    const previous = before[k];
    if (measured && previous) {
      events.onRatios!(k, { step: step.step, ratios: now.map((l, i) => ratio(l, previous[i])) });
    }
    before[k] = keep ? now : null;
  }
}

function ratio(now: DenseWeights, previous: DenseWeights): number {
  let update = 0, norm = 0;
  for (let i = 0; i < now.kernel.length; i++) {
    const d = now.kernel[i] - previous.kernel[i];
    update += d * d;
    norm += now.kernel[i] * now.kernel[i];
  }
  return Math.sqrt(update / norm);
}
