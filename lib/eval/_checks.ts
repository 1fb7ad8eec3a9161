/**
 * Input checks shared by the metrics, in lib's one message grammar, and the row argmax they all
 * use. Private to eval/.
 *
 * @module
 */
import { integer, phrase, rangeError, typeError, type Where } from "../util/validate.ts";

export function checkNumClasses(where: Where, numClasses: number, minimum = 1): void {
  integer(where, "numClasses", numClasses, { min: minimum });
}

export function checkSameLength(
  where: Where,
  name: string,
  values: ArrayLike<unknown>,
  otherName: string,
  other: ArrayLike<unknown>,
): void {
  if (values.length !== other.length) {
    rangeError(
      where,
      `the length of ${otherName}`,
      other.length,
      `${values.length}, the length of ${name}`,
    );
  }
}

export function checkNotEmpty(where: Where, name: string, values: ArrayLike<unknown>): void {
  if (values.length === 0) rangeError(where, name, phrase("empty"), "at least one element");
}

/** Classes must be integers in [0, numClasses); `Infinity` only asks for non-negative integers. */
export function checkClasses(
  where: Where,
  name: string,
  values: ArrayLike<number>,
  numClasses: number,
): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
      const expected = numClasses === Infinity
        ? "a non-negative integer"
        : `an integer from 0 to ${numClasses - 1}`;
      rangeError(where, `${name}[${i}]`, v, expected);
    }
  }
}

export function checkNoNaN(where: Where, name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number") typeError(where, `${name}[${i}]`, v, "a number");
    if (Number.isNaN(v)) rangeError(where, `${name}[${i}]`, v, "a number");
  }
}

export function checkUnitInterval(where: Where, probabilities: ArrayLike<number>): void {
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i];
    if (!(p >= 0 && p <= 1)) rangeError(where, `probabilities[${i}]`, p, "a number from 0 to 1");
  }
}

export function checkLimit(where: Where, limit: number): void {
  integer(where, "option limit", limit, { min: 0 });
}

/** Checks a flat `n × numClasses` array and returns `n`. */
export function rowCount(
  where: Where,
  probabilities: ArrayLike<number>,
  numClasses: number,
  minClasses = 1,
): number {
  checkNumClasses(where, numClasses, minClasses);
  if (probabilities.length % numClasses !== 0) {
    rangeError(
      where,
      "the length of probabilities",
      probabilities.length,
      `a multiple of numClasses (${numClasses})`,
    );
  }
  checkNoNaN(where, "probabilities", probabilities);
  return probabilities.length / numClasses;
}

/** Checks labels against flat probabilities (one row per label) and returns the number of rows. */
export function checkLabelsAndProbabilities(
  where: Where,
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  numClasses: number,
  minClasses: number,
): number {
  const n = rowCount(where, probabilities, numClasses, minClasses);
  if (labels.length !== n) {
    rangeError(
      where,
      "the number of labels",
      labels.length,
      `${n}, one per row of ${numClasses} probabilities`,
    );
  }
  checkClasses(where, "labels", labels, numClasses);
  return n;
}

/** The index of the largest of `length` values from `offset`, the lowest on ties. */
export function rowArgmax(values: ArrayLike<number>, offset: number, length: number): number {
  let best = 0;
  for (let c = 1; c < length; c++) if (values[offset + c] > values[offset + best]) best = c;
  return best;
}
