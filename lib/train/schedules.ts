/**
 * Learning-rate schedules as plain functions `(step, stepsPerEpoch) => learningRate`, to pass to
 * `train({ learningRateAt })`, with PyTorch's semantics: the rate a schedule gives for step `t`
 * (counting batches from 0 over the whole run) is the rate PyTorch's scheduler gives for the
 * `t`-th batch when `scheduler.step()` is called once per batch (per epoch for `StepLR`).
 *
 * Also the learning-rate range test (Smith 2015, fastai's `lr_find`): train for a short while
 * with a rate growing geometrically, record the loss of each batch, and read a good rate off the
 * curve.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { Split } from "../data/mnist.ts";
import type { OptimizerConfig } from "../model/optimizer.ts";
import { ORIGINAL_OPTIMIZER, train } from "./train.ts";

/** A learning rate for each step; `step` counts batches from 0 over the whole run. */
export type LearningRateSchedule = (step: number, stepsPerEpoch: number) => number;

/** Options of {@linkcode stepDecay}. */
export interface StepDecayOptions {
  /** Epochs between decays (PyTorch's `step_size`). */
  stepSize: number;
  /** Factor applied at each decay. Default 0.1, as in PyTorch. */
  gamma?: number;
}

/** Options of {@linkcode cosineAnnealing}. */
export interface CosineAnnealingOptions {
  /** Epochs of the whole run; the curve reaches `minLr` after `epochs × stepsPerEpoch` steps. */
  epochs: number;
  /** Rate at the end (PyTorch's `eta_min`). Default 0. */
  minLr?: number;
}

/** Options of {@linkcode oneCycle}. */
export interface OneCycleOptions {
  /** Epochs of the whole run. */
  epochs: number;
  /** Fraction of the steps spent warming up, in (0, 1). Default 0.3. */
  pctStart?: number;
  /** The rate starts at `maxLr / divFactor`. Default 25. */
  divFactor?: number;
  /** The rate ends at `maxLr / (divFactor · finalDivFactor)`. Default 1e4. */
  finalDivFactor?: number;
}

/** Options of {@linkcode scheduleCurve}. */
export interface ScheduleCurveOptions {
  /** Epochs of the run. */
  epochs: number;
  /** Batches per epoch, e.g. `Math.ceil(51_000 / 64)` = 797. */
  stepsPerEpoch: number;
  /** Rows to return, evenly spaced over the steps, first and last included. Default 300. */
  points?: number;
}

/** One row of {@linkcode scheduleCurve}. */
export interface SchedulePoint {
  /** Step (batch) from 0. */
  step: number;
  /** Epochs completed when the step starts: `step / stepsPerEpoch`. */
  epoch: number;
  learningRate: number;
}

/** A learning rate and the (batch) loss seen with it. */
export interface LrLossPoint {
  learningRate: number;
  loss: number;
}

/** Options of {@linkcode suggestLearningRate}. */
export interface SuggestOptions {
  /**
   * Weight of each new loss in the moving average, in (0, 1]: `avg ← (1 − s)·avg + s·loss`,
   * then divided by `1 − (1 − s)^(i+1)` to remove the bias towards the starting 0 (fastai's
   * `SmoothenValue`, whose β is `1 − s`). 1 means no smoothing. Default 0.05. The average lags
   * the raw losses by about `(1 − s) / s` points (19 at the default), which moves both suggested
   * rates that many points to the right: sweep with enough steps (100 or more).
   */
  smoothing?: number;
  /** The curve is cut where the smoothed loss exceeds this times its best so far. Default 4. */
  divergenceFactor?: number;
}

/** What {@linkcode suggestLearningRate} reads off a range test. */
export interface LrSuggestion {
  /**
   * The rate where the smoothed loss falls fastest per unit of log(rate), before its minimum
   * (fastai's "steepest" suggestion: the left end of the steepest segment); `null` if the loss
   * never fell.
   */
  suggested: number | null;
  /** The rate at the lowest smoothed loss; past it, training gets unstable. */
  minLossRate: number;
  /** `minLossRate / 10`, the other common rule of thumb (fastai's "minimum"). */
  minLossRateOver10: number;
  /** The smoothed curve up to where it was cut. */
  smoothed: LrLossPoint[];
  /** Index in the input of the first point left out (divergence or a non-finite loss), or `null`. */
  stoppedAt: number | null;
}

/** Options of {@linkcode rangeTest}. */
export interface RangeTestOptions extends SuggestOptions {
  /** Rate of the first batch. Default 1e-5. */
  minLr?: number;
  /** Rate of the last batch. Default 10. */
  maxLr?: number;
  /** Batches to run (≥ 2), over several epochs if needed. Default: one epoch (at least 2). */
  steps?: number;
  /** Examples per batch. Default 64. */
  batchSize?: number;
  /** Seed of the batch order. Default 0. */
  seed?: number;
  /** Optimizer whose rate is swept (its `learningRate` is ignored). Default SGD, momentum 0.5. */
  optimizer?: OptimizerConfig;
}

/** What {@linkcode rangeTest} gives back. */
export interface RangeTestResult {
  /** Rate and batch loss of every batch run, in order (a final non-finite loss included). */
  points: LrLossPoint[];
  /** The rates read off the curve. */
  suggestion: LrSuggestion;
  /** Why the sweep ended: the batch loss blew up, or all `steps` batches ran. */
  stopReason: "divergence" | "steps";
  /** Wall-clock seconds. */
  seconds: number;
}

/**
 * The same rate at every step.
 *
 * @param lr The learning rate (> 0).
 * @returns The schedule.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(constantLr(0.01)(123, 797), 0.01);
 * ```
 */
export function constantLr(lr: number): LearningRateSchedule {
  checkPositive("lr", lr);
  return (step, stepsPerEpoch) => {
    checkStep(step, stepsPerEpoch);
    return lr;
  };
}

/**
 * Multiplies the rate by `gamma` every `stepSize` epochs, constant within an epoch: PyTorch's
 * `StepLR` stepped once per epoch. In epoch `e` (from 0) the rate is `lr · gamma^⌊e / stepSize⌋`.
 *
 * @param lr The starting rate (> 0).
 * @param options Epochs between decays and the factor.
 * @returns The schedule.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const schedule = stepDecay(0.1, { stepSize: 2, gamma: 0.5 });
 * assert.deepEqual([0, 1, 2, 3, 4].map((epoch) => schedule(epoch * 100, 100)), [0.1, 0.1, 0.05, 0.05, 0.025]);
 * ```
 */
export function stepDecay(lr: number, options: StepDecayOptions): LearningRateSchedule {
  checkPositive("lr", lr);
  const { stepSize, gamma = 0.1 } = options;
  checkPositiveInteger("stepSize", stepSize);
  checkPositive("gamma", gamma);
  return (step, stepsPerEpoch) => {
    checkStep(step, stepsPerEpoch);
    return lr * gamma ** Math.floor(Math.floor(step / stepsPerEpoch) / stepSize);
  };
}

/**
 * Half a cosine from `lr` down to `minLr` over the whole run, per step: PyTorch's
 * `CosineAnnealingLR` with `T_max` = total steps, stepped per batch:
 * `minLr + (lr − minLr)·(1 + cos(π·t / T))/2`. After `T` steps it stays at `minLr` (PyTorch would
 * climb back up).
 *
 * @param lr The starting rate (> 0).
 * @param options Epochs of the run and the final rate.
 * @returns The schedule.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const schedule = cosineAnnealing(0.1, { epochs: 2, minLr: 0.01 });
 * assert.equal(schedule(0, 50), 0.1);
 * assert.ok(Math.abs(schedule(50, 50) - 0.055) < 1e-12); // halfway: the mean of the two
 * assert.equal(schedule(100, 50), 0.01);
 * ```
 */
export function cosineAnnealing(lr: number, options: CosineAnnealingOptions): LearningRateSchedule {
  checkPositive("lr", lr);
  const { epochs, minLr = 0 } = options;
  checkPositiveInteger("epochs", epochs);
  if (!(minLr >= 0 && minLr <= lr)) {
    throw new RangeError(`Invalid option minLr: ${minLr}, expected a number in [0, ${lr}]`);
  }
  return (step, stepsPerEpoch) => {
    checkStep(step, stepsPerEpoch);
    const total = epochs * stepsPerEpoch;
    if (step >= total) return minLr;
    return minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * step) / total))) / 2;
  };
}

/**
 * The one-cycle policy, per step, as PyTorch's `OneCycleLR` with `anneal_strategy="cos"` and
 * `three_phase=False`: from `maxLr / divFactor` up to `maxLr` along a half cosine until step
 * `pctStart · T − 1`, then down along a half cosine to `maxLr / (divFactor · finalDivFactor)` at
 * the last step `T − 1`, where `T = epochs × stepsPerEpoch`. Later steps keep the final rate
 * (PyTorch raises an error). PyTorch also cycles the momentum inversely; that part is left out,
 * as `train()` keeps the optimizer's momentum fixed.
 *
 * @param maxLr The peak rate (> 0).
 * @param options Epochs of the run, warm-up fraction, and the start and end divisors.
 * @returns The schedule.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const schedule = oneCycle(0.1, { epochs: 1, pctStart: 0.3 });
 * assert.ok(Math.abs(schedule(0, 10) - 0.1 / 25) < 1e-15);
 * assert.equal(schedule(2, 10), 0.1); // the peak, at step 0.3 · 10 − 1
 * assert.ok(Math.abs(schedule(9, 10) - 0.1 / 25 / 1e4) < 1e-18);
 * ```
 */
export function oneCycle(maxLr: number, options: OneCycleOptions): LearningRateSchedule {
  checkPositive("maxLr", maxLr);
  const { epochs, pctStart = 0.3, divFactor = 25, finalDivFactor = 1e4 } = options;
  checkPositiveInteger("epochs", epochs);
  if (!(pctStart > 0 && pctStart < 1)) {
    throw new RangeError(
      `Invalid option pctStart: ${pctStart}, expected a fraction in (0, 1)`,
    );
  }
  checkPositive("divFactor", divFactor);
  checkPositive("finalDivFactor", finalDivFactor);
  const initialLr = maxLr / divFactor, finalLr = initialLr / finalDivFactor;
  return (step, stepsPerEpoch) => {
    checkStep(step, stepsPerEpoch);
    const total = epochs * stepsPerEpoch;
    // PyTorch's phase ends are floats: pctStart·T − 1, then T − 1.
    const peak = pctStart * total - 1, last = total - 1;
    const t = Math.min(step, last);
    if (t <= peak) return cosineBetween(initialLr, maxLr, peak > 0 ? t / peak : 1);
    return cosineBetween(maxLr, finalLr, last > peak ? (t - peak) / (last - peak) : 1);
  };
}

/**
 * The rate of an LR range test: geometric growth from `minLr` at step 0 to `maxLr` at step
 * `steps − 1` (each step multiplies it by `(maxLr / minLr)^(1 / (steps − 1))`), then `maxLr`.
 * Ignores epochs.
 *
 * @param minLr The first rate (> 0).
 * @param maxLr The last rate (> minLr).
 * @param steps Steps of the sweep (≥ 2).
 * @returns The schedule.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const schedule = exponentialRange(1e-4, 1, 5);
 * assert.equal(schedule(0, 100), 1e-4);
 * assert.ok(Math.abs(schedule(2, 100) / 1e-2 - 1) < 1e-12);
 * assert.equal(schedule(4, 100), 1);
 * ```
 */
export function exponentialRange(
  minLr: number,
  maxLr: number,
  steps: number,
): LearningRateSchedule {
  checkPositive("minLr", minLr);
  checkPositive("maxLr", maxLr);
  if (!(maxLr > minLr)) {
    throw new RangeError(
      `Invalid option maxLr: ${maxLr}, expected more than minLr (${minLr})`,
    );
  }
  if (!Number.isInteger(steps) || steps < 2) {
    throw new RangeError(`Invalid option steps: ${steps}, expected an integer ≥ 2`);
  }
  const ratio = maxLr / minLr;
  return (step, stepsPerEpoch) => {
    checkStep(step, stepsPerEpoch);
    return step >= steps - 1 ? maxLr : minLr * ratio ** (step / (steps - 1));
  };
}

/**
 * Samples a schedule over a run for plotting: rows `{ step, epoch, learningRate }` at evenly
 * spaced steps, the first and last step included.
 *
 * @param schedule The schedule.
 * @param options Length of the run and how many rows.
 * @returns At most `points` rows (every step if the run is shorter).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rows = scheduleCurve(stepDecay(1, { stepSize: 1, gamma: 0.5 }), { epochs: 2, stepsPerEpoch: 2 });
 * assert.deepEqual(rows.map((r) => [r.step, r.epoch, r.learningRate]), [[0, 0, 1], [1, 0.5, 1], [2, 1, 0.5], [3, 1.5, 0.5]]);
 * ```
 */
export function scheduleCurve(
  schedule: LearningRateSchedule,
  options: ScheduleCurveOptions,
): SchedulePoint[] {
  const { epochs, stepsPerEpoch, points = 300 } = options;
  checkPositiveInteger("epochs", epochs);
  checkPositiveInteger("stepsPerEpoch", stepsPerEpoch);
  if (!Number.isInteger(points) || points < 2) {
    throw new RangeError(`Invalid option points: ${points}, expected an integer ≥ 2`);
  }
  const total = epochs * stepsPerEpoch;
  const count = Math.min(points, total);
  const rows: SchedulePoint[] = [];
  for (let i = 0; i < count; i++) {
    const step = count === 1 ? 0 : Math.round((i * (total - 1)) / (count - 1));
    rows.push({
      step,
      epoch: step / stepsPerEpoch,
      learningRate: schedule(step, stepsPerEpoch),
    });
  }
  return rows;
}

/**
 * Reads a learning rate off an LR range test, fastai style. The losses are smoothed with a
 * bias-corrected exponential moving average; the curve is cut at the first point whose smoothed
 * loss exceeds `divergenceFactor` × the best smoothed loss before it (or whose loss is not
 * finite). On what is left:
 *
 * - `minLossRate` is the rate at the lowest smoothed loss;
 * - `suggested` is the left end of the segment with the steepest fall of smoothed loss per unit of
 *   ln(rate), among the segments before that minimum: where a larger rate still buys the most.
 *
 * @param points Rates (strictly increasing) with the loss of the batch run at each.
 * @param options Smoothing weight and divergence factor.
 * @returns The suggestions and the smoothed curve.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Loss falls fastest between 1e-3 and 1e-2, bottoms out at 1e-1, then blows up.
 * const points = [[1e-5, 2.3], [1e-4, 2.25], [1e-3, 2.1], [1e-2, 1.0], [1e-1, 0.6], [1, 0.9], [10, 40]]
 *   .map(([learningRate, loss]) => ({ learningRate, loss }));
 * const result = suggestLearningRate(points, { smoothing: 1 });
 * assert.equal(result.suggested, 1e-3);
 * assert.equal(result.minLossRate, 1e-1);
 * assert.equal(result.stoppedAt, 6);
 * ```
 */
export function suggestLearningRate(
  points: readonly LrLossPoint[],
  options: SuggestOptions = {},
): LrSuggestion {
  const { smoothing = 0.05, divergenceFactor = 4 } = options;
  if (!(smoothing > 0 && smoothing <= 1)) {
    throw new RangeError(`Invalid option smoothing: ${smoothing}, expected a weight in (0, 1]`);
  }
  if (!(divergenceFactor > 1) || divergenceFactor === Infinity) {
    throw new RangeError(
      `Invalid option divergenceFactor: ${divergenceFactor}, expected a finite number > 1`,
    );
  }
  checkLrLossPoints(points);
  const beta = 1 - smoothing;
  const smoothed: LrLossPoint[] = [];
  let average = 0, best = Infinity, stoppedAt: number | null = null;
  for (let i = 0; i < points.length; i++) {
    const { learningRate, loss } = points[i];
    if (!Number.isFinite(loss)) {
      stoppedAt = i;
      break;
    }
    average = beta * average + smoothing * loss;
    const value = average / (1 - beta ** (i + 1));
    if (value > divergenceFactor * best) {
      stoppedAt = i;
      break;
    }
    best = Math.min(best, value);
    smoothed.push({ learningRate, loss: value });
  }
  if (smoothed.length === 0) {
    throw new RangeError("Cannot suggest a learning rate: the first point's loss is not finite");
  }
  let lowest = 0;
  for (let i = 1; i < smoothed.length; i++) {
    if (smoothed[i].loss < smoothed[lowest].loss) lowest = i;
  }
  let steepest = -1, steepestSlope = 0;
  for (let i = 0; i < lowest; i++) {
    const slope = (smoothed[i + 1].loss - smoothed[i].loss) /
      (Math.log(smoothed[i + 1].learningRate) - Math.log(smoothed[i].learningRate));
    if (slope < steepestSlope) [steepest, steepestSlope] = [i, slope];
  }
  const minLossRate = smoothed[lowest].learningRate;
  return {
    suggested: steepest < 0 ? null : smoothed[steepest].learningRate,
    minLossRate,
    minLossRateOver10: minLossRate / 10,
    smoothed,
    stoppedAt,
  };
}

/**
 * Runs an LR range test: trains `model` for up to `steps` batches with the rate growing
 * geometrically from `minLr` to `maxLr`, records each batch's rate and loss, stops once a batch
 * loss exceeds `divergenceFactor` × the best batch loss so far (or is not finite), and reads the
 * suggestions off the curve with {@linkcode suggestLearningRate}. It changes the weights: give it
 * a fresh model and train another fresh one with the rate it suggests.
 *
 * For the original 784-128-64-10 network with SGD and momentum 0.5, 100 steps of 64 on 2,000
 * MNIST images: the loss stays at ln 10 ≈ 2.30 up to about 0.05, falls until about 0.7, and a
 * batch loss passes 4 × the best at rates 1.2–5.7 in 9 of 10 seeds (in the tenth the network
 * dies quietly at loss ≈ 2.3, and the sweep runs to the end); `suggested` is 0.4–0.9 and
 * `minLossRateOver10` 0.06–0.14 over those ten seeds. Five epochs on those images then reach
 * 84–92 % validation accuracy at rates 0.1–0.5, 44–64 % at 1 and about 47 % at the original 0.01.
 * With so short a sweep the steepest point sits near the edge of stability; `minLossRateOver10`
 * is the safer choice.
 *
 * @param model A freshly initialised model (see `createModel`).
 * @param data Training examples.
 * @param options The sweep, batch size, seed, optimizer and the reading of the curve.
 * @returns The points, the suggestions and why the sweep ended.
 */
export async function rangeTest(
  model: tf.LayersModel,
  data: Split,
  options: RangeTestOptions = {},
): Promise<RangeTestResult> {
  const {
    minLr = 1e-5,
    maxLr = 10,
    batchSize = 64,
    seed = 0,
    optimizer = ORIGINAL_OPTIMIZER,
    smoothing = 0.05,
    divergenceFactor = 4,
  } = options;
  checkPositiveInteger("batchSize", batchSize);
  const batchesPerEpoch = Math.ceil(data.count / batchSize);
  const steps = options.steps ?? Math.max(2, batchesPerEpoch);
  const learningRateAt = exponentialRange(minLr, maxLr, steps);
  // Check these now, not after the sweep.
  suggestLearningRate([{ learningRate: 1, loss: 1 }], { smoothing, divergenceFactor });

  const points: LrLossPoint[] = [];
  let best = Infinity;
  let stopReason: RangeTestResult["stopReason"] = "steps";
  const result = await train(model, data, {
    epochs: Math.max(1, Math.ceil(steps / batchesPerEpoch)),
    batchSize,
    seed,
    optimizer: { ...optimizer, learningRate: minLr },
    learningRateAt,
    // Our own rule ends the sweep; train() only stops on NaN or ∞.
    divergenceLoss: Infinity,
    callbacks: {
      onBatchEnd: ({ learningRate, loss }) => {
        points.push({ learningRate, loss });
        if (loss > divergenceFactor * best) {
          stopReason = "divergence";
          return "stop";
        }
        best = Math.min(best, loss);
        if (points.length >= steps) return "stop";
      },
    },
  });
  if (result.diverged) {
    const { epoch, batch, loss } = result.diverged;
    const step = (epoch - 1) * batchesPerEpoch + batch - 1;
    points.push({ learningRate: learningRateAt(step, batchesPerEpoch), loss });
    stopReason = "divergence";
  }
  return {
    points,
    suggestion: suggestLearningRate(points, { smoothing, divergenceFactor }),
    stopReason,
    seconds: result.seconds,
  };
}

/** Half a cosine from `start` (fraction 0) to `end` (fraction 1), PyTorch's `_annealing_cos`. */
function cosineBetween(start: number, end: number, fraction: number): number {
  return end + ((start - end) / 2) * (Math.cos(Math.PI * fraction) + 1);
}

function checkLrLossPoints(points: readonly LrLossPoint[]): void {
  if (points.length === 0) {
    throw new RangeError("Cannot suggest a learning rate: points is empty");
  }
  for (let i = 0; i < points.length; i++) {
    const rate = points[i].learningRate;
    if (!(rate > 0) || !Number.isFinite(rate) || (i > 0 && !(rate > points[i - 1].learningRate))) {
      throw new RangeError(
        `Invalid points[${i}].learningRate: ${rate}, expected a finite rate > 0, ` +
          "increasing from point to point",
      );
    }
  }
}

function checkPositive(name: string, value: number): void {
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`Invalid option ${name}: ${value}, expected a finite number > 0`);
  }
}

function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Invalid option ${name}: ${value}, expected a positive integer`);
  }
}

function checkStep(step: number, stepsPerEpoch: number): void {
  if (!(step >= 0) || !Number.isFinite(step)) {
    throw new RangeError(`Invalid schedule step: ${step}, expected a number ≥ 0`);
  }
  if (!Number.isInteger(stepsPerEpoch) || stepsPerEpoch < 1) {
    throw new RangeError(
      `Invalid schedule stepsPerEpoch: ${stepsPerEpoch}, expected a positive integer`,
    );
  }
}
