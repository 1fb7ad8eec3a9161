/**
 * Learning-rate schedules as plain functions `(step, stepsPerEpoch) => learningRate`, to pass to
 * `train({ learningRateAt })`, with PyTorch's semantics: the rate a schedule gives for step `t`
 * (counting batches from 0 over the whole run) is the rate PyTorch's scheduler gives for the
 * `t`-th batch when `scheduler.step()` is called once per batch (per epoch for `StepLR`).
 *
 * The range test that reads a good rate off a short run is in `range_test.ts`.
 *
 * @module
 */
import {
  integer,
  nonNegativeNumber,
  numberInRange,
  positiveInteger,
  positiveNumber,
  rangeError,
  type Where,
} from "../util/validate.ts";

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
  const where = { action: "build schedule", subject: "constantLr" };
  positiveNumber(where, "option lr", lr);
  return (step, stepsPerEpoch) => {
    checkStep(where, step, stepsPerEpoch);
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
  const where = { action: "build schedule", subject: "stepDecay" };
  positiveNumber(where, "option lr", lr);
  const { stepSize, gamma = 0.1 } = options;
  positiveInteger(where, "option stepSize", stepSize);
  positiveNumber(where, "option gamma", gamma);
  return (step, stepsPerEpoch) => {
    checkStep(where, step, stepsPerEpoch);
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
  const where = { action: "build schedule", subject: "cosineAnnealing" };
  positiveNumber(where, "option lr", lr);
  const { epochs, minLr = 0 } = options;
  positiveInteger(where, "option epochs", epochs);
  numberInRange(where, "option minLr", minLr, { min: 0, max: lr });
  return (step, stepsPerEpoch) => {
    checkStep(where, step, stepsPerEpoch);
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
  const where = { action: "build schedule", subject: "oneCycle" };
  positiveNumber(where, "option maxLr", maxLr);
  const { epochs, pctStart = 0.3, divFactor = 25, finalDivFactor = 1e4 } = options;
  positiveInteger(where, "option epochs", epochs);
  numberInRange(where, "option pctStart", pctStart, {
    min: 0,
    max: 1,
    minExclusive: true,
    maxExclusive: true,
  });
  positiveNumber(where, "option divFactor", divFactor);
  positiveNumber(where, "option finalDivFactor", finalDivFactor);
  const initialLr = maxLr / divFactor, finalLr = initialLr / finalDivFactor;
  return (step, stepsPerEpoch) => {
    checkStep(where, step, stepsPerEpoch);
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
  const where = { action: "build schedule", subject: "exponentialRange" };
  positiveNumber(where, "option minLr", minLr);
  positiveNumber(where, "option maxLr", maxLr);
  if (!(maxLr > minLr)) rangeError(where, "option maxLr", maxLr, `more than minLr (${minLr})`);
  integer(where, "option steps", steps, { min: 2 });
  const ratio = maxLr / minLr;
  return (step, stepsPerEpoch) => {
    checkStep(where, step, stepsPerEpoch);
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
  const where = { action: "build the schedule curve" };
  const { epochs, stepsPerEpoch, points = 300 } = options;
  positiveInteger(where, "option epochs", epochs);
  positiveInteger(where, "option stepsPerEpoch", stepsPerEpoch);
  integer(where, "option points", points, { min: 2 });
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

/** Half a cosine from `start` (fraction 0) to `end` (fraction 1), PyTorch's `_annealing_cos`. */
function cosineBetween(start: number, end: number, fraction: number): number {
  return end + ((start - end) / 2) * (Math.cos(Math.PI * fraction) + 1);
}

/** Checks the step a schedule is asked about, and the epoch length it is given with it. */
function checkStep(where: Where, step: number, stepsPerEpoch: number): void {
  nonNegativeNumber(where, "step", step);
  positiveInteger(where, "stepsPerEpoch", stepsPerEpoch);
}
