/**
 * ROC curves and their area: binary, one class against the rest, and micro and macro averages.
 * Ties count one half (Mann–Whitney), so the AUC equals the trapezoidal area under the curve. *
 * Inputs are `ArrayLike<number>` (a `Uint8Array` of labels, a `Float32Array` of probabilities):
 * `probabilities` is always flat and row-major, `n × numClasses`, one row per example. Outputs are
 * plain numbers, arrays and objects, ready for tables and charts. Bad input throws a `RangeError`
 * (or a `TypeError` for values of the wrong kind) in lib's one message grammar.
 *
 * @module
 */
import { NUM_CLASSES } from "../data/mnist.ts";
import { phrase, rangeError, typeError, type Where } from "../util/validate.ts";
import {
  checkLabelsAndProbabilities,
  checkNoNaN,
  checkNotEmpty,
  checkSameLength,
} from "./_checks.ts";

/** Points of a ROC curve: false positive rate and true positive rate, both from 0 to 1. */
export interface RocPoints {
  /** False positive rates, non-decreasing, from 0 to 1. */
  fpr: number[];
  /** True positive rates, non-decreasing, from 0 to 1. */
  tpr: number[];
}

/** A ROC curve with the score threshold of each point. */
export interface RocCurve extends RocPoints {
  /**
   * `thresholds[i]` is the score at or above which examples are flagged positive at point `i`,
   * decreasing. The first, `+Infinity`, is a sentinel for the point (0, 0): nothing flagged.
   */
  thresholds: number[];
}

/** The ROC curve and AUC of one class against all others. */
export interface ClassRoc {
  /** The class scored as positive. */
  class: number;
  /** Area under the curve. */
  auc: number;
  /** The curve. */
  curve: RocCurve;
}

/**
 * The ROC curve of a binary scoring: one point per distinct score, from (0, 0) to (1, 1). Tied
 * scores form a single point, so a tie between a positive and a negative shows as a diagonal step.
 *
 * @param scores Higher means more likely positive; no `NaN`.
 * @param positives Whether each example is positive, as many as scores.
 * @returns False and true positive rates and the threshold of each point.
 * @throws {RangeError} If the lengths differ, a score is `NaN`, or there are no positives or no
 *   negatives (the rates would divide by zero).
 * @throws {TypeError} If `positives` holds something other than booleans.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const curve = rocCurve([0.9, 0.4, 0.4, 0.1], [true, true, false, false]);
 * assert.deepEqual(curve.fpr, [0, 0, 0.5, 1]);
 * assert.deepEqual(curve.tpr, [0, 0.5, 1, 1]);
 * assert.deepEqual(curve.thresholds, [Infinity, 0.9, 0.4, 0.1]);
 * ```
 */
export function rocCurve(scores: ArrayLike<number>, positives: ArrayLike<boolean>): RocCurve {
  const where = { action: "compute the ROC curve" };
  const split = splitByClass(where, scores, positives);
  checkBothClasses(where, split);
  return curveFromSorted(split);
}

/**
 * The area under the ROC curve: the probability that a random positive scores above a random
 * negative, ties counting one half (the Mann–Whitney U statistic over all pairs). Computed by
 * sorting, in O(n log n).
 *
 * @param scores Higher means more likely positive; no `NaN`.
 * @param positives Whether each example is positive, as many as scores.
 * @returns A number from 0 to 1, or `NaN` when there are no positives or no negatives (no pairs).
 * @throws {RangeError} If the lengths differ or a score is `NaN`.
 * @throws {TypeError} If `positives` holds something other than booleans.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Pairs (positive, negative): (0.9, 0.4), (0.9, 0.1), (0.4, 0.1) win; (0.4, 0.4) ties.
 * assert.equal(rocAuc([0.9, 0.4, 0.4, 0.1], [true, true, false, false]), 3.5 / 4);
 * assert.ok(Number.isNaN(rocAuc([0.3, 0.7], [true, true])));
 * ```
 */
export function rocAuc(scores: ArrayLike<number>, positives: ArrayLike<boolean>): number {
  const where = { action: "compute the ROC AUC" };
  return aucFromSorted(splitByClass(where, scores, positives));
}

/**
 * One ROC curve per class, each class's probability scored against all other classes.
 *
 * @param labels True classes, integers from 0 to `numClasses - 1`.
 * @param probabilities Flat `n × numClasses` scores, row-major; no `NaN`.
 * @param numClasses Number of classes, at least 2. Default 10.
 * @returns One entry per class, in class order.
 * @throws {RangeError} On bad input, empty inputs, or if a class has no examples or all examples
 *   (its curve would divide by zero).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rocs = oneVsRestRoc([0, 1, 1], [0.7, 0.3, 0.4, 0.6, 0.8, 0.2], 2);
 * assert.deepEqual(rocs.map((r) => r.auc), [0.5, 0.5]);
 * ```
 */
export function oneVsRestRoc(
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  numClasses: number = NUM_CLASSES,
): ClassRoc[] {
  const where = { action: "compute one-vs-rest ROC curves" };
  const splits = splitOneVsRest(where, labels, probabilities, numClasses);
  return splits.map((split, c) => {
    checkBothClasses(where, split, c);
    return { class: c, auc: aucFromSorted(split), curve: curveFromSorted(split) };
  });
}

/**
 * The micro-averaged ROC curve and AUC: every (example, class) pair pooled into one binary problem,
 * positive when the class is the example's label, scored by the class's probability.
 *
 * @param labels True classes, integers from 0 to `numClasses - 1`.
 * @param probabilities Flat `n × numClasses` scores, row-major; no `NaN`.
 * @param numClasses Number of classes, at least 2. Default 10.
 * @returns The pooled curve and its AUC.
 * @throws {RangeError} On bad input or empty inputs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Positive scores 0.7, 0.6 vs negative scores 0.3, 0.4: every positive wins.
 * assert.equal(microAverageRoc([0, 1], [0.7, 0.3, 0.4, 0.6], 2).auc, 1);
 * ```
 */
export function microAverageRoc(
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  numClasses: number = NUM_CLASSES,
): { auc: number; curve: RocCurve } {
  const where = { action: "compute the micro-averaged ROC" };
  const n = checkLabelsAndProbabilities(where, labels, probabilities, numClasses, 2);
  checkNotEmpty(where, "labels", labels);
  const positive = new Float64Array(n);
  const negative = new Float64Array(n * (numClasses - 1));
  for (let i = 0, j = 0; i < n; i++) {
    for (let c = 0; c < numClasses; c++) {
      const score = probabilities[i * numClasses + c];
      if (c === labels[i]) positive[i] = score;
      else negative[j++] = score;
    }
  }
  const split = { positive: positive.sort(), negative: negative.sort() };
  return { auc: aucFromSorted(split), curve: curveFromSorted(split) };
}

/**
 * The macro-averaged AUC (the mean of the one-vs-rest AUCs, scikit-learn's
 * `roc_auc_score(average="macro", multi_class="ovr")`) and a mean ROC curve to draw it.
 *
 * The curve averages the per-class curves on the union of their false positive rates, as
 * scikit-learn's ROC example does with `np.interp`; where a class curve rises vertically at a
 * rate, both the bottom and the top of the rise are averaged and kept, so the trapezoidal area
 * under the mean curve equals the macro AUC.
 *
 * @param labels True classes, integers from 0 to `numClasses - 1`.
 * @param probabilities Flat `n × numClasses` scores, row-major; no `NaN`.
 * @param numClasses Number of classes, at least 2. Default 10.
 * @returns The macro AUC and the mean curve.
 * @throws {RangeError} On bad input, or if a class has no examples or all examples.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const macro = macroAverageRoc([0, 1, 1], [0.7, 0.3, 0.4, 0.6, 0.8, 0.2], 2);
 * assert.equal(macro.auc, 0.5);
 * assert.deepEqual(macro.curve.fpr, [0, 0, 0.5, 0.5, 1, 1]);
 * assert.deepEqual(macro.curve.tpr, [0, 0.25, 0.25, 0.75, 0.75, 1]);
 * ```
 */
export function macroAverageRoc(
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  numClasses: number = NUM_CLASSES,
): { auc: number; curve: RocPoints } {
  const rocs = oneVsRestRoc(labels, probabilities, numClasses);
  const auc = rocs.reduce((sum, roc) => sum + roc.auc, 0) / rocs.length;
  return { auc, curve: meanCurve(rocs.map((roc) => roc.curve)) };
}

/** Scores of the positives and of the negatives, each sorted ascending. */
interface SortedSplit {
  positive: Float64Array;
  negative: Float64Array;
}

function splitByClass(
  where: Where,
  scores: ArrayLike<number>,
  positives: ArrayLike<boolean>,
): SortedSplit {
  checkSameLength(where, "scores", scores, "positives", positives);
  checkNoNaN(where, "scores", scores);
  let count = 0;
  for (let i = 0; i < positives.length; i++) {
    const flag = positives[i];
    if (typeof flag !== "boolean") {
      typeError(where, `positives[${i}]`, flag, "a boolean");
    }
    if (flag) count++;
  }
  const positive = new Float64Array(count);
  const negative = new Float64Array(scores.length - count);
  for (let i = 0, p = 0, q = 0; i < scores.length; i++) {
    if (positives[i]) positive[p++] = scores[i];
    else negative[q++] = scores[i];
  }
  return { positive: positive.sort(), negative: negative.sort() };
}

/** Splits flat probabilities into one sorted binary problem per class. */
function splitOneVsRest(
  where: Where,
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  numClasses: number,
): SortedSplit[] {
  const n = checkLabelsAndProbabilities(where, labels, probabilities, numClasses, 2);
  checkNotEmpty(where, "labels", labels);
  const support = new Int32Array(numClasses);
  for (let i = 0; i < n; i++) support[labels[i]]++;
  const splits = Array.from(support, (s) => ({
    positive: new Float64Array(s),
    negative: new Float64Array(n - s),
  }));
  const filledPositive = new Int32Array(numClasses), filledNegative = new Int32Array(numClasses);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < numClasses; c++) {
      const score = probabilities[i * numClasses + c];
      if (labels[i] === c) splits[c].positive[filledPositive[c]++] = score;
      else splits[c].negative[filledNegative[c]++] = score;
    }
  }
  for (const split of splits) {
    split.positive.sort();
    split.negative.sort();
  }
  return splits;
}

/** A ROC curve divides by the numbers of positives and of negatives: neither may be 0. */
function checkBothClasses(where: Where, split: SortedSplit, oneVsRestClass?: number): void {
  const { positive: { length: p }, negative: { length: q } } = split;
  if (p > 0 && q > 0) return;
  const what = oneVsRestClass === undefined
    ? "the count of positives and negatives"
    : `the count of class ${oneVsRestClass} and of other classes`;
  rangeError(where, what, phrase(`${p} and ${q}`), "at least one of each");
}

/** Mann–Whitney: for each positive, the negatives below it plus half those equal to it. */
function aucFromSorted({ positive, negative }: SortedSplit): number {
  if (positive.length === 0 || negative.length === 0) return NaN;
  let below = 0, belowOrEqual = 0, wins = 0;
  for (const score of positive) {
    while (below < negative.length && negative[below] < score) below++;
    if (belowOrEqual < below) belowOrEqual = below;
    while (belowOrEqual < negative.length && negative[belowOrEqual] <= score) belowOrEqual++;
    wins += below + 0.5 * (belowOrEqual - below);
  }
  return wins / (positive.length * negative.length);
}

/** Walks both sorted arrays from the top, one point per distinct score. */
function curveFromSorted({ positive, negative }: SortedSplit): RocCurve {
  const fpr = [0], tpr = [0], thresholds = [Infinity];
  let p = positive.length - 1, q = negative.length - 1;
  while (p >= 0 || q >= 0) {
    const threshold = Math.max(p >= 0 ? positive[p] : -Infinity, q >= 0 ? negative[q] : -Infinity);
    while (p >= 0 && positive[p] === threshold) p--;
    while (q >= 0 && negative[q] === threshold) q--;
    fpr.push((negative.length - 1 - q) / negative.length);
    tpr.push((positive.length - 1 - p) / positive.length);
    thresholds.push(threshold);
  }
  return { fpr, tpr, thresholds };
}

/**
 * Averages curves on the union of their false positive rates. At each rate every curve has a
 * bottom (where it arrives) and a top (where it leaves; higher after a vertical rise); between its
 * own points a curve is a straight line, so it is interpolated there.
 */
function meanCurve(curves: RocPoints[]): RocPoints {
  const grid = [...new Set(curves.flatMap((curve) => curve.fpr))].sort((a, b) => a - b);
  const bottoms = new Float64Array(grid.length), tops = new Float64Array(grid.length);
  for (const { fpr, tpr } of curves) {
    let i = 0; // the first point of the curve with fpr >= x
    grid.forEach((x, g) => {
      while (fpr[i] < x) i++;
      if (fpr[i] === x) {
        let j = i;
        while (j + 1 < fpr.length && fpr[j + 1] === x) j++;
        bottoms[g] += tpr[i];
        tops[g] += tpr[j];
      } else {
        // fpr[0] is 0 and the grid starts at 0, so i > 0 here.
        const t = (x - fpr[i - 1]) / (fpr[i] - fpr[i - 1]);
        const y = tpr[i - 1] + t * (tpr[i] - tpr[i - 1]);
        bottoms[g] += y;
        tops[g] += y;
      }
    });
  }
  const fpr: number[] = [], tpr: number[] = [];
  grid.forEach((x, g) => {
    fpr.push(x);
    tpr.push(bottoms[g] / curves.length);
    if (tops[g] !== bottoms[g]) {
      fpr.push(x);
      tpr.push(tops[g] / curves.length);
    }
  });
  return { fpr, tpr };
}
