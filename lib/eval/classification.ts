/**
 * Classification metrics over plain arrays: accuracy, confusion matrix, precision/recall/F1, top-k
 * accuracy, and the mistakes worth looking at. *
 * Inputs are `ArrayLike<number>` (a `Uint8Array` of labels, a `Float32Array` of probabilities):
 * `probabilities` is always flat and row-major, `n × numClasses`, one row per example. Outputs are
 * plain numbers, arrays and objects, ready for tables and charts. Bad input throws a `RangeError`
 * (or a `TypeError` for values of the wrong kind) in lib's one message grammar.
 *
 * @module
 */
import { NUM_CLASSES } from "../data/mnist.ts";
import { integer, rangeError } from "../util/validate.ts";
import {
  checkClasses,
  checkLabelsAndProbabilities,
  checkLimit,
  checkNotEmpty,
  checkNumClasses,
  checkSameLength,
  rowArgmax,
  rowCount,
} from "./_checks.ts";

/** Precision, recall, F1 and support of one class. */
export interface ClassMetrics {
  /** The class. */
  class: number;
  /** Of the examples predicted as this class, the fraction that are (0 when none are predicted). */
  precision: number;
  /** Of the examples of this class, the fraction predicted as it (0 when there are none). */
  recall: number;
  /** Harmonic mean of precision and recall (0 when both are 0). */
  f1: number;
  /** Number of examples of this class. */
  support: number;
}

/** Precision, recall and F1 averaged over classes. */
export interface AveragedMetrics {
  /** Averaged precision. */
  precision: number;
  /** Averaged recall. */
  recall: number;
  /** Averaged F1 (the average of per-class F1, not the F1 of the averages). */
  f1: number;
  /** Total number of examples. */
  support: number;
}

/** The result of {@linkcode classificationReport}. */
export interface ClassificationReport {
  /** One row per class, in class order. */
  rows: ClassMetrics[];
  /** Unweighted mean over all `numClasses` classes. */
  macro: AveragedMetrics;
  /** Mean weighted by each class's support. */
  weighted: AveragedMetrics;
  /** Fraction of correct predictions. */
  accuracy: number;
}

/** An off-diagonal cell of a confusion matrix. */
export interface ConfusedPair {
  /** The true class (the matrix row). */
  label: number;
  /** The predicted class (the matrix column). */
  predicted: number;
  /** How many examples of `label` were predicted as `predicted`. */
  count: number;
}

/** A misclassified example. */
export interface Mistake {
  /** Index of the example in the inputs. */
  index: number;
  /** Its true class. */
  label: number;
  /** The predicted class (the most probable one). */
  predicted: number;
  /** The probability of the predicted class. */
  confidence: number;
  /** The probability given to the true class. */
  labelProbability: number;
}

/**
 * The fraction of predictions equal to their labels.
 *
 * @param labels True classes, non-negative integers.
 * @param predictions Predicted classes, as many as labels.
 * @returns A number from 0 to 1.
 * @throws {RangeError} If the lengths differ, the inputs are empty or hold non-integers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(accuracy([0, 1, 2, 2], [0, 1, 1, 2]), 0.75);
 * ```
 */
export function accuracy(labels: ArrayLike<number>, predictions: ArrayLike<number>): number {
  const where = { action: "compute accuracy" };
  checkSameLength(where, "labels", labels, "predictions", predictions);
  checkNotEmpty(where, "labels", labels);
  checkClasses(where, "labels", labels, Infinity);
  checkClasses(where, "predictions", predictions, Infinity);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === predictions[i]) correct++;
  return correct / labels.length;
}

/**
 * Counts each (true class, predicted class) pair.
 *
 * @param labels True classes, integers from 0 to `numClasses - 1`.
 * @param predictions Predicted classes, as many as labels.
 * @param numClasses Number of classes. Default 10.
 * @returns `matrix[t][p]`: how many examples of class `t` were predicted as `p`.
 * @throws {RangeError} If the lengths differ or a class is not an integer in range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(confusionMatrix([0, 1, 1], [0, 0, 1], 2), [[1, 0], [1, 1]]);
 * ```
 */
export function confusionMatrix(
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  numClasses: number = NUM_CLASSES,
): number[][] {
  const where = { action: "compute the confusion matrix" };
  checkNumClasses(where, numClasses);
  checkSameLength(where, "labels", labels, "predictions", predictions);
  checkClasses(where, "labels", labels, numClasses);
  checkClasses(where, "predictions", predictions, numClasses);
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) matrix[labels[i]][predictions[i]]++;
  return matrix;
}

/**
 * The most probable class of each row of a flat `n × numClasses` array. Ties go to the lowest
 * class, as `numpy.argmax` and `torch.argmax` do.
 *
 * @param probabilities Scores, row-major; any real numbers (probabilities, logits), no `NaN`.
 * @param numClasses Row length. Default 10.
 * @returns One class per row: a `Uint8Array` for up to 256 classes, else an `Int32Array`.
 * @throws {RangeError} If the length is not a multiple of `numClasses` or a value is `NaN`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual([...argmaxRows([0.2, 0.8, 0.5, 0.5], 2)], [1, 0]);
 * ```
 */
export function argmaxRows(
  probabilities: ArrayLike<number>,
  numClasses: number = NUM_CLASSES,
): Uint8Array | Int32Array {
  const where = { action: "pick the most likely classes" };
  const n = rowCount(where, probabilities, numClasses);
  const out = numClasses <= 256 ? new Uint8Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = rowArgmax(probabilities, i * numClasses, numClasses);
  return out;
}

/**
 * Per-class precision, recall, F1 and support, with macro and support-weighted averages, like
 * scikit-learn's `classification_report` with `zero_division=0`: a precision with no predictions
 * of the class, a recall with no examples of it, and an F1 whose precision and recall are both 0
 * are all 0.
 * The macro average runs over all `numClasses` classes, including any absent from the data.
 *
 * @param labels True classes, integers from 0 to `numClasses - 1`.
 * @param predictions Predicted classes, as many as labels.
 * @param numClasses Number of classes. Default 10.
 * @returns One row per class, the averages and the accuracy.
 * @throws {RangeError} If the lengths differ, the inputs are empty or a class is out of range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const report = classificationReport([0, 0, 1, 1], [0, 1, 1, 1], 2);
 * assert.deepEqual(report.rows[1], { class: 1, precision: 2 / 3, recall: 1, f1: 0.8, support: 2 });
 * assert.equal(report.accuracy, 0.75);
 * ```
 */
export function classificationReport(
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  numClasses: number = NUM_CLASSES,
): ClassificationReport {
  const where = { action: "compute the classification report" };
  checkNotEmpty(where, "labels", labels);
  const matrix = confusionMatrix(labels, predictions, numClasses);
  const rows = matrix.map((row, c) => {
    const truePositives = row[c];
    const predicted = matrix.reduce((sum, r) => sum + r[c], 0);
    const support = row.reduce((sum, v) => sum + v, 0);
    const precision = ratioOrZero(truePositives, predicted);
    const recall = ratioOrZero(truePositives, support);
    const f1 = ratioOrZero(2 * precision * recall, precision + recall);
    return { class: c, precision, recall, f1, support };
  });
  const total = labels.length;
  const correct = matrix.reduce((sum, row, c) => sum + row[c], 0);
  return {
    rows,
    macro: averageRows(rows, () => 1 / numClasses, total),
    weighted: averageRows(rows, (row) => row.support / total, total),
    accuracy: correct / total,
  };
}

/**
 * The fraction of examples whose label is among the `k` most probable classes. Classes are ranked
 * by probability, ties broken towards the lower class as in {@linkcode argmaxRows}, so `k = 1`
 * gives exactly the accuracy of `argmaxRows` and `k = numClasses` gives 1.
 *
 * @param labels True classes, integers from 0 to `numClasses - 1`.
 * @param probabilities Flat `n × numClasses` scores, row-major; no `NaN`.
 * @param k How many top classes count, from 1 to `numClasses`.
 * @param numClasses Number of classes. Default 10.
 * @returns A number from 0 to 1.
 * @throws {RangeError} On bad input or a `k` out of range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const probabilities = [0.5, 0.3, 0.2, 0.1, 0.3, 0.6];
 * assert.equal(topKAccuracy([1, 1], probabilities, 1, 3), 0);
 * assert.equal(topKAccuracy([1, 1], probabilities, 2, 3), 1);
 * ```
 */
export function topKAccuracy(
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  k: number,
  numClasses: number = NUM_CLASSES,
): number {
  const where = { action: "compute top-k accuracy" };
  const n = checkLabelsAndProbabilities(where, labels, probabilities, numClasses, 1);
  checkNotEmpty(where, "labels", labels);
  integer(where, "k", k, { min: 1, max: numClasses });
  let hits = 0;
  for (let i = 0; i < n; i++) {
    if (rankOfClass(probabilities, i * numClasses, numClasses, labels[i]) < k) hits++;
  }
  return hits / n;
}

/**
 * The largest off-diagonal cells of a confusion matrix: which classes are mistaken for which.
 *
 * @param matrix A square confusion matrix, rows true classes, columns predictions.
 * @param options.limit How many pairs at most. Default 10.
 * @returns Non-zero cells by decreasing count; ties by true class, then predicted class.
 * @throws {RangeError} If the matrix is not square or holds a negative or non-finite count.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const pairs = mostConfusedPairs([[5, 2, 0], [0, 6, 3], [1, 0, 4]], { limit: 2 });
 * assert.deepEqual(pairs, [
 *   { label: 1, predicted: 2, count: 3 },
 *   { label: 0, predicted: 1, count: 2 },
 * ]);
 * ```
 */
export function mostConfusedPairs(
  matrix: ArrayLike<ArrayLike<number>>,
  options: { limit?: number } = {},
): ConfusedPair[] {
  const where = { action: "rank confused pairs" };
  const { limit = 10 } = options;
  checkLimit(where, limit);
  const pairs: ConfusedPair[] = [];
  for (let label = 0; label < matrix.length; label++) {
    const row = matrix[label];
    if (row?.length !== matrix.length) {
      rangeError(
        where,
        `the length of row ${label}`,
        row?.length,
        `${matrix.length}, a square matrix`,
      );
    }
    for (let predicted = 0; predicted < row.length; predicted++) {
      const count = row[predicted];
      if (!(count >= 0 && count < Infinity)) {
        rangeError(where, `matrix[${label}][${predicted}]`, count, "a non-negative finite count");
      }
      if (label !== predicted && count > 0) pairs.push({ label, predicted, count });
    }
  }
  // The sort is stable and the pairs were pushed in (label, predicted) order.
  return pairs.sort((a, b) => b.count - a.count).slice(0, limit);
}

/**
 * The misclassified examples the model was surest about, most confident first: good candidates to
 * look at, and to find mislabelled data.
 *
 * @param labels True classes, integers from 0 to `numClasses - 1`.
 * @param probabilities Flat `n × numClasses` probabilities, row-major; no `NaN`.
 * @param options How many at most (`limit`, default 10) and the number of classes (default 10).
 * @returns Mistakes by decreasing confidence; ties by index.
 * @throws {RangeError} On bad input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const probabilities = [0.2, 0.8, 0.3, 0.7, 0.4, 0.6];
 * const mistakes = mostConfidentMistakes([0, 1, 0], probabilities, { numClasses: 2 });
 * assert.deepEqual(mistakes.map((m) => m.index), [0, 2]);
 * assert.deepEqual(mistakes[0], {
 *   index: 0, label: 0, predicted: 1, confidence: 0.8, labelProbability: 0.2,
 * });
 * ```
 */
export function mostConfidentMistakes(
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  options: { limit?: number; numClasses?: number } = {},
): Mistake[] {
  const where = { action: "rank confident mistakes" };
  const { limit = 10, numClasses = NUM_CLASSES } = options;
  checkLimit(where, limit);
  const n = checkLabelsAndProbabilities(where, labels, probabilities, numClasses, 1);
  const mistakes: Mistake[] = [];
  for (let i = 0; i < n; i++) {
    const offset = i * numClasses;
    const predicted = rowArgmax(probabilities, offset, numClasses);
    const label = labels[i];
    if (predicted === label) continue;
    const confidence = probabilities[offset + predicted];
    mistakes.push({
      index: i,
      label,
      predicted,
      confidence,
      labelProbability: probabilities[offset + label],
    });
  }
  // Stable sort: equal confidences keep index order.
  return mistakes.sort((a, b) => b.confidence - a.confidence).slice(0, limit);
}

/** Position of class `target` when the row is sorted by decreasing value, ties by lower class. */
function rankOfClass(values: ArrayLike<number>, offset: number, length: number, target: number) {
  const value = values[offset + target];
  let rank = 0;
  for (let c = 0; c < length; c++) {
    const other = values[offset + c];
    if (other > value || (other === value && c < target)) rank++;
  }
  return rank;
}

function ratioOrZero(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

function averageRows(
  rows: ClassMetrics[],
  weight: (row: ClassMetrics) => number,
  support: number,
): AveragedMetrics {
  let precision = 0, recall = 0, f1 = 0;
  for (const row of rows) {
    const w = weight(row);
    precision += w * row.precision;
    recall += w * row.recall;
    f1 += w * row.f1;
  }
  return { precision, recall, f1, support };
}
