/**
 * The training loop of the original notebook: seeded shuffling every epoch, mini-batches, SGD with
 * momentum on the NLL loss, and per epoch the mean train and validation loss (and accuracy), as tidy
 * history rows. A non-finite loss stops the run and marks it diverged.
 *
 * One step path: on the host, a step here is `createHostStep`, the grid's forward, loss head,
 * backward and update blocks (`grid_step.ts`) on a wide net of one model. The epoch loop around it
 * stays apart from the grid's (`runSharedPass`) because it serves what a single run needs and a
 * grid does not: any `tf.LayersModel` (the tape path when the host cannot train it), per-batch
 * callbacks for live progress, tfjs-side evaluation and dynamics on the model itself. Both loops
 * draw the same batch order and stop at the same divergence test; `tests/train/grid_test.ts` checks
 * that a grid's runs equal their `train()` runs within 1e-4.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Split } from "../data/mnist.ts";
import { createOptimizer, type OptimizerConfig } from "../model/optimizer.ts";
import { evaluateModel } from "../model/predict.ts";
import { currentBlas } from "../backend/backend.ts";
import { createHostStep, hostTrainable } from "./host_step.ts";
import { inkOrder, inPixelOrder } from "./pixel_order.ts";
import {
  type Backpropagation,
  backpropagation,
  type Batch,
  batchCount,
  dropoutStream,
  shuffledBatches,
  trainableVariables,
} from "./steps.ts";
// Training dynamics (issue 14): the `dynamics` option, measured steps (see dynamics.ts).
import {
  type DynamicsOptions,
  type DynamicsStep,
  measuredBatch,
  probeOf,
  type StepNorms,
  stepsToMeasure,
} from "./dynamics.ts";
import { tfEpochDynamics, tfMeasuredStep } from "./dynamics_tf.ts";
import type { HistoryRow } from "./history.ts";
import { phrase, positiveInteger, rangeError } from "../util/validate.ts";

/** Progress after one batch, for live displays. */
export interface BatchInfo {
  epoch: number;
  epochs: number;
  /** 1-based batch within the epoch. */
  batch: number;
  batches: number;
  /** This batch's mean loss. */
  loss: number;
  /** Mean loss of the epoch so far. */
  runningLoss: number;
  learningRate: number;
  /** Seconds since training started. */
  elapsed: number;
}

/** Progress after one epoch. */
export interface EpochInfo {
  epoch: number;
  epochs: number;
  /** This epoch's rows (train, then validation when given). */
  rows: HistoryRow[];
  /** Every row so far. */
  history: HistoryRow[];
  /** Seconds this epoch took, validation included. */
  seconds: number;
  /** Seconds since training started. */
  elapsed: number;
}

/** Return `"stop"` from a callback to end training after the current batch or epoch. */
export type CallbackResult = void | "stop" | Promise<void | "stop">;

/** Hooks called while training; each may be async (a live display) and may ask to stop. */
export interface TrainCallbacks {
  onBatchEnd?: (info: BatchInfo) => CallbackResult;
  onEpochEnd?: (info: EpochInfo) => CallbackResult;
}

/** Options of {@linkcode train}; the defaults are the original notebook's recipe. */
export interface TrainOptions {
  /** Passes over the training data. Default 30. */
  epochs?: number;
  /** Examples per step. Default 64. */
  batchSize?: number;
  /** Seed of the batch order (and dropout masks). Default 0. */
  seed?: number;
  /** Optimizer. Default SGD with learning rate 0.01 and momentum 0.5. */
  optimizer?: OptimizerConfig;
  /**
   * Learning rate of each step, for schedules and range tests; `step` counts from 0 over the
   * whole run. Default: the optimizer's constant `learningRate`.
   */
  learningRateAt?: (step: number, stepsPerEpoch: number) => number;
  /** Data evaluated after every epoch. */
  validation?: Split;
  /** Returns the training images to use in an epoch (augmentation); labels stay the same. */
  augment?: (images: Float32Array, epoch: number) => Float32Array;
  /** Hooks for progress and early stopping. */
  callbacks?: TrainCallbacks;
  /**
   * A batch loss above this counts as divergence, like a non-finite one. Default 100 nats, far
   * beyond chance level (ln 10 ≈ 2.3): ReLU networks that blow up often produce huge but finite
   * losses and then go quiet with dead units rather than reach NaN. `Infinity` keeps only NaN/∞.
   */
  divergenceLoss?: number;
  /** `"dense"`: hand-written backward pass; `"tape"`: tfjs autograd; `"auto"` (default): dense when the model allows. */
  gradients?: "auto" | "dense" | "tape";
  /**
   * Record per-layer gradient norms, update ratios, weight norms and dead ReLU units in each
   * epoch's `train` row (see `dynamics.ts` for the columns and which step is measured).
   */
  dynamics?: DynamicsOptions;
}

/** What a run gives back. */
export interface TrainResult {
  /** Tidy rows, two per epoch when validation data is given. */
  history: HistoryRow[];
  /** Where the loss became non-finite or exceeded `divergenceLoss`, or `null` if it never did. */
  diverged: { epoch: number; batch: number; loss: number } | null;
  /** Whether a callback asked to stop early. */
  stopped: boolean;
  /** Epochs completed. */
  epochs: number;
  /** Wall-clock seconds of the whole run. */
  seconds: number;
  /** Which gradient path ran. */
  gradients: "dense" | "tape";
  /** With `dynamics.every`: the measured steps (issue 14). */
  stepDynamics?: DynamicsStep[];
}

/** The original notebook's optimizer: SGD, learning rate 0.01, momentum 0.5. */
export const ORIGINAL_OPTIMIZER: OptimizerConfig = {
  kind: "sgd",
  learningRate: 0.01,
  momentum: 0.5,
};

const TRAIN_DEFAULTS = {
  epochs: 30,
  batchSize: 64,
  seed: 0,
  optimizer: ORIGINAL_OPTIMIZER,
  gradients: "auto",
  divergenceLoss: 100,
} as const;

/**
 * Trains a model in place.
 *
 * @param model A model mapping `[n, 784]` pixels to log-probabilities (see `createModel`).
 * @param data The training examples.
 * @param options Recipe, validation data, hooks.
 * @returns The history and how the run ended.
 */
export async function train(
  model: tf.LayersModel,
  data: Split,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const { epochs, batchSize, seed, optimizer: optimizerConfig, gradients: path, divergenceLoss } = {
    ...TRAIN_DEFAULTS,
    ...options,
  };
  const { validation, augment, learningRateAt, callbacks = {} } = options;
  const where = { action: "train", subject: model.name };
  positiveInteger(where, "option epochs", epochs);
  positiveInteger(where, "option batchSize", batchSize);
  if (data.count === 0) rangeError(where, "the training split", phrase("empty"), "examples");

  const backprop = backpropagation(model, { gradients: path, seed });
  const stepper = chooseStep(
    model,
    optimizerConfig,
    backprop,
    batchSize,
    seed,
    augment ? null : data.images,
  );
  const batches = batchCount(data.count, batchSize);
  const history: HistoryRow[] = [];
  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;
  let diverged: TrainResult["diverged"] = null;
  let stopped = false;
  let completed = 0;
  // Dynamics (issue 14): the probe, the measured batch and the epoch's measured step.
  const probe = options.dynamics ? probeOf(options.dynamics, "train") : null;
  const measured = measuredBatch(data.count, batchSize);
  const stepMeasured = probe ? stepsToMeasure(options.dynamics!) : () => false;
  const stepDynamics: DynamicsStep[] = [];
  let norms: StepNorms | null = null;

  try {
    for (let epoch = 1; epoch <= epochs && !diverged && !stopped; epoch++) {
      const epochStart = performance.now();
      const images = stepper.images(augment ? augment(data.images, epoch) : data.images);
      let lossSum = 0, correctSum = 0;
      norms = null;
      for (const batch of shuffledBatches(data, { epoch, batchSize, seed, images })) {
        const step = (epoch - 1) * batches + batch.batch - 1;
        const learningRate = learningRateAt?.(step, batches) ?? optimizerConfig.learningRate;
        const recordStep = stepMeasured(step);
        const atMeasured = probe !== null && batch.batch - 1 === measured;
        const measure = atMeasured || recordStep;
        const { loss, correct, norms: stepNorms = null } = stepper.step(
          batch,
          learningRate,
          measure,
        );
        if (atMeasured) norms = stepNorms;
        if (probe && recordStep) {
          stepper.sync();
          const columns = tfEpochDynamics(model, probe, stepNorms);
          stepDynamics.push({ step: step + 1, epoch, batch: batch.batch, loss, ...columns });
        }
        if (!(loss <= divergenceLoss)) { // NaN fails every comparison
          diverged = { epoch, batch: batch.batch, loss };
          break;
        }
        lossSum += loss * batch.size;
        correctSum += correct;
        const verdict = await callbacks.onBatchEnd?.({
          epoch,
          epochs,
          batch: batch.batch,
          batches,
          loss,
          runningLoss: lossSum / batch.seen,
          learningRate,
          elapsed: elapsed(),
        });
        if (verdict === "stop") {
          stopped = true;
          break;
        }
      }
      if (diverged || stopped) break;
      const rows: HistoryRow[] = [
        { epoch, split: "train", loss: lossSum / data.count, accuracy: correctSum / data.count },
      ];
      stepper.sync();
      if (probe) Object.assign(rows[0], tfEpochDynamics(model, probe, norms));
      if (validation) {
        rows.push({ epoch, split: "validation", ...evaluateModel(model, validation) });
      }
      history.push(...rows);
      completed = epoch;
      const verdict = await callbacks.onEpochEnd?.({
        epoch,
        epochs,
        rows,
        history,
        seconds: (performance.now() - epochStart) / 1000,
        elapsed: elapsed(),
      });
      if (verdict === "stop") stopped = true;
    }
  } finally {
    stepper.sync(); // also after a stop or a divergence mid-epoch: the model holds every step taken
    stepper.dispose();
  }
  return {
    history,
    diverged,
    stopped,
    epochs: completed,
    seconds: elapsed(),
    gradients: backprop.path,
    ...(probe ? { stepDynamics } : {}),
  };
}

/** One training step on a batch, wherever the weights live, and the way back into the model. */
interface Stepper {
  /** The epoch's images as this step wants them (in the host step's pixel order). */
  images(epochImages: Float32Array): Float32Array;
  /** With `measure`, also the step's kernel norms (issue 14's dynamics). */
  step(
    batch: Batch,
    learningRate: number,
    measure?: boolean,
  ): { loss: number; correct: number; norms?: StepNorms };
  /** Writes host-side weights into the model (before a validation pass, at the end). */
  sync(): void;
  dispose(): void;
}

/**
 * The fastest step that gives the textbook numbers. On wasm-blas a dense model trains on the host
 * with no tfjs kernel per step (`host_step.ts`): forward, loss head and backward as BLAS calls and
 * fused loops, SGD's momentum folded into the weight-gradient product. It is notebook 03's loop
 * (`hostNetwork`, then `v ← μ·v + g`, `w ← w − lr·v`) with the update fused, so the two give the
 * same history within float32 rounding. Elsewhere, tfjs kernels.
 */
function chooseStep(
  model: tf.LayersModel,
  config: OptimizerConfig,
  backprop: Backpropagation,
  batchSize: number,
  seed: number,
  fixedImages: Float32Array | null,
): Stepper {
  const blas = backprop.path === "dense" && hostTrainable(model) ? currentBlas() : null;
  if (blas !== null) {
    // Images that stay the same every epoch are seen in ink order (`pixel_order.ts`).
    const order = fixedImages === null ? null : inkOrder(fixedImages);
    const host = createHostStep(model, config, batchSize, blas, order);
    const dropout = dropoutStream(seed);
    return {
      images: (epochImages) => (order === null ? epochImages : inPixelOrder(epochImages, order)),
      step(batch, learningRate, measure = false) {
        return host.step(
          batch.images,
          batch.labels,
          batch.size,
          learningRate,
          dropout(batch),
          measure,
        );
      },
      sync: () => host.sync(),
      dispose() {},
    };
  }
  const optimizer = createOptimizer(config);
  const weights = trainableVariables(model);
  return {
    images: (epochImages) => epochImages,
    step(batch, learningRate, measure = false) {
      let norms: StepNorms | undefined;
      const result = tf.tidy(() => {
        const { loss, correct, gradients } = backprop(batch);
        const update = () => optimizer.step(weights, gradients, learningRate);
        if (measure) norms = tfMeasuredStep(model, weights, gradients, update);
        else update();
        return { loss, correct };
      });
      return { ...result, norms };
    },
    sync() {},
    dispose: () => optimizer.dispose(),
  };
}

/**
 * One line per epoch for terminals and logs, nanoGPT style.
 *
 * @param info The epoch's progress.
 * @returns E.g. `epoch 3/30: train loss 0.2412 (acc 93.01 %), val loss 0.2219 (acc 93.60 %), 1.2 s`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rows = [{ epoch: 1, split: "train" as const, loss: 0.5, accuracy: 0.9 }];
 * assert.equal(
 *   formatEpoch({ epoch: 1, epochs: 2, rows, history: rows, seconds: 1.25, elapsed: 1.25 }),
 *   "epoch 1/2: train loss 0.5000 (acc 90.00 %), 1.3 s",
 * );
 * ```
 */
export function formatEpoch(info: EpochInfo): string {
  const parts = info.rows.map((row) =>
    `${row.split === "train" ? "train" : "val"} loss ${row.loss.toFixed(4)} (acc ${
      (100 * row.accuracy).toFixed(2)
    } %)`
  );
  return `epoch ${info.epoch}/${info.epochs}: ${parts.join(", ")}, ${info.seconds.toFixed(1)} s`;
}

/**
 * Turns tidy history rows into one row per epoch, the shape of the CLI's JSON and of tables.
 *
 * @param history Tidy rows.
 * @returns `{ epoch, train_loss, train_accuracy, val_loss?, val_accuracy? }` per epoch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const wide = widenHistory([
 *   { epoch: 1, split: "train", loss: 0.5, accuracy: 0.8 },
 *   { epoch: 1, split: "validation", loss: 0.4, accuracy: 0.85 },
 * ]);
 * assert.deepEqual(wide, [{ epoch: 1, train_loss: 0.5, train_accuracy: 0.8, val_loss: 0.4, val_accuracy: 0.85 }]);
 * ```
 */
export function widenHistory(history: HistoryRow[]): Record<string, number>[] {
  const byEpoch = new Map<number, Record<string, number>>();
  for (const row of history) {
    const wide = byEpoch.get(row.epoch) ?? { epoch: row.epoch };
    const prefix = row.split === "train" ? "train" : "val";
    wide[`${prefix}_loss`] = row.loss;
    wide[`${prefix}_accuracy`] = row.accuracy;
    byEpoch.set(row.epoch, wide);
  }
  return [...byEpoch.values()];
}
