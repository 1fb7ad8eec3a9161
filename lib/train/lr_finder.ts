/**
 * The learning-rate range test (Smith, 2017): train once while the rate grows exponentially from
 * tiny to huge, record the loss at every step, and read a good rate off the curve — the steepest
 * descent of the smoothed loss, and the minimum before it blows up.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { Split } from "../data/mnist.ts";
import type { OptimizerConfig } from "../model/optimizer.ts";
import {
  numberInRange,
  phrase,
  positiveInteger,
  rangeError,
  type Where,
} from "../util/validate.ts";
import { exponentialRange } from "./schedules.ts";
import { ORIGINAL_OPTIMIZER, train } from "./train.ts";

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
  const where = { action: "suggest a learning rate" };
  const { smoothing = 0.05, divergenceFactor = 4 } = options;
  numberInRange(where, "option smoothing", smoothing, { min: 0, max: 1, minExclusive: true });
  numberInRange(where, "option divergenceFactor", divergenceFactor, { min: 1, minExclusive: true });
  checkLrLossPoints(where, points);
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
    rangeError(where, "the first point's loss", points[0].loss, "a finite number");
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
  positiveInteger({ action: "run the range test" }, "option batchSize", batchSize);
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

function checkLrLossPoints(where: Where, points: readonly LrLossPoint[]): void {
  if (points.length === 0) rangeError(where, "points", phrase("empty"), "at least one point");
  for (let i = 0; i < points.length; i++) {
    const rate = points[i].learningRate;
    if (!(rate > 0) || !Number.isFinite(rate) || (i > 0 && !(rate > points[i - 1].learningRate))) {
      rangeError(
        where,
        `points[${i}].learningRate`,
        rate,
        "a finite rate > 0, increasing from point to point",
      );
    }
  }
}
