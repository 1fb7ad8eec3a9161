/**
 * Calibration: do the model's confidences match how often it is right? Reliability bins and the
 * expected calibration error (ECE). *
 * Inputs are `ArrayLike<number>` (a `Uint8Array` of labels, a `Float32Array` of probabilities):
 * `probabilities` is always flat and row-major, `n × numClasses`, one row per example. Outputs are
 * plain numbers, arrays and objects, ready for tables and charts. Bad input throws a `RangeError`
 * (or a `TypeError` for values of the wrong kind) in lib's one message grammar.
 *
 * @module
 */
import { NUM_CLASSES } from "../data/mnist.ts";
import { positiveInteger } from "../util/validate.ts";
import {
  checkLabelsAndProbabilities,
  checkNotEmpty,
  checkUnitInterval,
  rowArgmax,
} from "./_checks.ts";

/** One bin of a reliability diagram. */
export interface ReliabilityBin {
  /** Lower edge of the bin (included). */
  lower: number;
  /** Upper edge of the bin (excluded, except 1 in the last bin). */
  upper: number;
  /** Number of examples whose confidence falls in the bin. */
  count: number;
  /** Mean confidence of those examples (`NaN` for an empty bin). */
  confidence: number;
  /** Fraction of those examples predicted correctly (`NaN` for an empty bin). */
  accuracy: number;
}

/** Options of {@linkcode reliabilityBins} and {@linkcode expectedCalibrationError}. */
export interface CalibrationOptions {
  /** Number of classes, the row length of `probabilities`. Default 10. */
  numClasses?: number;
  /** Number of equal-width confidence bins on [0, 1]. Default 15. */
  bins?: number;
}

/** Default number of bins of {@linkcode reliabilityBins}. */
export const DEFAULT_CALIBRATION_BINS = 15;

/**
 * Reliability-diagram bins: examples grouped by confidence (the largest probability of their row)
 * into equal-width bins on [0, 1], each with its mean confidence and accuracy. Bin `b` holds
 * confidences in `[b / bins, (b + 1) / bins)`; the last bin also holds 1.
 *
 * @param labels True classes, integers from 0 to `numClasses - 1`.
 * @param probabilities Flat `n × numClasses` probabilities in [0, 1], row-major.
 * @param options Number of classes (default 10) and of bins (default 15).
 * @returns One entry per bin, empty bins included (with `NaN` mean confidence and accuracy).
 * @throws {RangeError} On bad input or a probability outside [0, 1].
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const probabilities = [0.75, 0.25, 0.625, 0.375, 0.125, 0.875];
 * const bins = reliabilityBins([0, 1, 1], probabilities, { numClasses: 2, bins: 2 });
 * assert.deepEqual(bins[1], {
 *   lower: 0.5, upper: 1, count: 3, confidence: 0.75, accuracy: 2 / 3,
 * });
 * assert.equal(bins[0].count, 0);
 * ```
 */
export function reliabilityBins(
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  options: CalibrationOptions = {},
): ReliabilityBin[] {
  const where = { action: "bin confidences" };
  const { numClasses = NUM_CLASSES, bins = DEFAULT_CALIBRATION_BINS } = options;
  positiveInteger(where, "option bins", bins);
  const n = checkLabelsAndProbabilities(where, labels, probabilities, numClasses, 1);
  checkUnitInterval(where, probabilities);
  const counts = new Float64Array(bins), confidences = new Float64Array(bins);
  const correct = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const predicted = rowArgmax(probabilities, i * numClasses, numClasses);
    const confidence = probabilities[i * numClasses + predicted];
    const b = Math.min(Math.floor(confidence * bins), bins - 1);
    counts[b]++;
    confidences[b] += confidence;
    if (predicted === labels[i]) correct[b]++;
  }
  return Array.from(counts, (count, b) => ({
    lower: b / bins,
    upper: (b + 1) / bins,
    count,
    confidence: count > 0 ? confidences[b] / count : NaN,
    accuracy: count > 0 ? correct[b] / count : NaN,
  }));
}

/**
 * The expected calibration error: the gap between accuracy and mean confidence in each
 * {@linkcode reliabilityBins} bin, averaged with weights proportional to the bins' counts.
 *
 * @param labels True classes, integers from 0 to `numClasses - 1`.
 * @param probabilities Flat `n × numClasses` probabilities in [0, 1], row-major.
 * @param options Number of classes (default 10) and of bins (default 15).
 * @returns A number from 0 to 1; 0 for perfectly calibrated predictions.
 * @throws {RangeError} On bad input, empty inputs or a probability outside [0, 1].
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Confidences 0.75, 0.625, 0.875 share one bin of mean 0.75 and accuracy 2/3.
 * const probabilities = [0.75, 0.25, 0.625, 0.375, 0.125, 0.875];
 * const ece = expectedCalibrationError([0, 1, 1], probabilities, { numClasses: 2, bins: 2 });
 * assert.ok(Math.abs(ece - (0.75 - 2 / 3)) < 1e-12);
 * ```
 */
export function expectedCalibrationError(
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  options: CalibrationOptions = {},
): number {
  const where = { action: "compute the calibration error" };
  checkNotEmpty(where, "labels", labels);
  return calibrationErrorFromBins(reliabilityBins(labels, probabilities, options));
}

/**
 * Expected calibration error from already computed bins: the count-weighted mean gap between
 * confidence and accuracy, skipping empty bins.
 *
 * @param bins Reliability bins, e.g. from {@linkcode reliabilityBins}.
 * @returns The error in [0, 1], or NaN if the bins hold no predictions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bins = [
 *   { lower: 0.5, upper: 0.75, confidence: 0.6, accuracy: 0.5, count: 10 },
 *   { lower: 0.75, upper: 1, confidence: 0.9, accuracy: 0.9, count: 30 },
 * ];
 * assert.ok(Math.abs(calibrationErrorFromBins(bins) - 0.025) < 1e-12);
 * ```
 */
export function calibrationErrorFromBins(bins: readonly ReliabilityBin[]): number {
  let total = 0, gap = 0;
  for (const bin of bins) {
    if (!(bin.count > 0)) continue;
    total += bin.count;
    gap += bin.count * Math.abs(bin.accuracy - bin.confidence);
  }
  return total > 0 ? gap / total : NaN;
}
