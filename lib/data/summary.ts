/**
 * Small summaries of a dataset for the data notebook: counts per class and split, and the mean
 * image of each class.
 *
 * @module
 */
import { classCounts, IMAGE_PIXELS, NUM_CLASSES, type Split } from "./mnist.ts";

/** How many examples of one class a split holds. */
export interface ClassCountRow {
  split: string;
  class: number;
  count: number;
}

/**
 * Counts every class in every split, as tidy rows for a chart or a table.
 *
 * @param splits Splits by name, e.g. `{ train, validation, test }`.
 * @returns One row per split and class.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const split = { images: new Float32Array(2 * 784), labels: new Uint8Array([3, 3]), count: 2 };
 * const rows = classCountRows({ test: split });
 * assert.deepEqual(rows.find((r) => r.class === 3), { split: "test", class: 3, count: 2 });
 * assert.equal(rows.length, 10);
 * ```
 */
export function classCountRows(splits: Record<string, Split>): ClassCountRow[] {
  return Object.entries(splits).flatMap(([split, { labels }]) =>
    classCounts(labels).map((count, c) => ({ split, class: c, count }))
  );
}

/**
 * The mean image of each class: what an "average" 0, 1, … looks like.
 *
 * @param split The examples.
 * @param numClasses Number of classes.
 * @returns `numClasses × 784` pixel means, row-major (a class without examples is all 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const images = new Float32Array(2 * 784);
 * images[0] = 1; // first image (class 4) has its first pixel on
 * const means = classMeanImages({ images, labels: new Uint8Array([4, 4]), count: 2 });
 * assert.equal(means[4 * 784], 0.5);
 * ```
 */
export function classMeanImages(split: Split, numClasses = NUM_CLASSES): Float32Array {
  const sums = new Float64Array(numClasses * IMAGE_PIXELS);
  for (let i = 0; i < split.count; i++) {
    const offset = split.labels[i] * IMAGE_PIXELS;
    const image = i * IMAGE_PIXELS;
    for (let p = 0; p < IMAGE_PIXELS; p++) sums[offset + p] += split.images[image + p];
  }
  const counts = classCounts(split.labels, numClasses);
  const means = new Float32Array(numClasses * IMAGE_PIXELS);
  for (let c = 0; c < numClasses; c++) {
    for (let p = 0; p < IMAGE_PIXELS; p++) {
      means[c * IMAGE_PIXELS + p] = counts[c] > 0 ? sums[c * IMAGE_PIXELS + p] / counts[c] : 0;
    }
  }
  return means;
}
