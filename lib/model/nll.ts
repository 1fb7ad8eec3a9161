/**
 * The loss head of every training path here: log-softmax of the logits, the negative
 * log-likelihood of the true class (PyTorch's `F.nll_loss(F.log_softmax(z))`), how many rows are
 * right, and the gradient with respect to the logits, `(softmax − one-hot) / rows`. In float64,
 * on the host: 64×10 numbers a batch, where a tfjs head would launch about fifteen tiny kernels.
 *
 * One function serves one network (the tfjs path, `denseGradients`) and K networks side by side
 * (the host and grid step, whose logits sit in column blocks of one wide matrix).
 *
 * @module
 */

/** Per network: the batch's mean loss and how many rows it classified right. */
export interface HeadResult {
  loss: Float64Array;
  correct: Int32Array;
}

/**
 * The NLL head of `models` networks whose logits sit side by side: row r of network k's logits is
 * `logits[r·models·classes + k·classes …]`. Fills `result` (mean loss, count right, taking the
 * first index on ties as argmax does) and, unless `delta` is `null`, the logits' gradient in the
 * same layout.
 *
 * @param logits `rows × models·classes` logits, row-major.
 * @param labels `rows` true classes.
 * @param rows Rows of the batch.
 * @param models Networks side by side.
 * @param classes Classes per network.
 * @param result Where the per-network loss and count go (its first `models` entries).
 * @param delta Where the gradient goes, or `null` (validation).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Two networks on one row of two classes: logits (0, 0) and (0, ln 3).
 * const result = { loss: new Float64Array(2), correct: new Int32Array(2) };
 * const delta = new Float32Array(4);
 * nllHeads(new Float32Array([0, 0, 0, Math.log(3)]), [1], 1, 2, 2, result, delta);
 * assert.ok(Math.abs(result.loss[0] - Math.log(2)) < 1e-12);
 * assert.ok(Math.abs(result.loss[1] - Math.log(4 / 3)) < 1e-7);
 * assert.deepEqual([...result.correct], [0, 1]); // a tie goes to class 0
 * assert.deepEqual([...delta].map((d) => +d.toFixed(6)), [0.5, -0.5, 0.25, -0.25]);
 * ```
 */
export function nllHeads(
  logits: Float32Array,
  labels: ArrayLike<number>,
  rows: number,
  models: number,
  classes: number,
  result: HeadResult,
  delta: Float32Array | null,
): void {
  const wide = models * classes;
  result.loss.fill(0);
  result.correct.fill(0);
  for (let r = 0; r < rows; r++) {
    const label = labels[r];
    for (let k = 0; k < models; k++) {
      const offset = r * wide + k * classes;
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits[offset + c] > logits[offset + best]) best = c;
      const max = logits[offset + best];
      let sum = 0;
      for (let c = 0; c < classes; c++) {
        const e = Math.exp(logits[offset + c] - max);
        sum += e;
        if (delta !== null) delta[offset + c] = e; // softmax numerators, normalised below
      }
      result.loss[k] -= logits[offset + label] - (max + Math.log(sum));
      if (best === label) result.correct[k]++;
      if (delta === null) continue;
      const scale = 1 / (sum * rows);
      for (let c = 0; c < classes; c++) {
        delta[offset + c] = delta[offset + c] * scale - (c === label ? 1 / rows : 0);
      }
    }
  }
  for (let k = 0; k < models; k++) result.loss[k] /= rows;
}

/**
 * The NLL head of one network ({@linkcode nllHeads} with one model), allocating its gradient.
 *
 * @param logits `rows × classes` logits, row-major.
 * @param labels `rows` true classes.
 * @param classes Classes per row.
 * @returns The mean loss, the count right, and the logits' gradient.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const { loss, correct, delta } = nllHead(new Float32Array([0, 0]), new Int32Array([1]), 2);
 * assert.ok(Math.abs(loss - Math.log(2)) < 1e-12);
 * assert.equal(correct, 0); // a tie goes to class 0
 * assert.deepEqual([...delta], [0.5, -0.5]);
 * ```
 */
export function nllHead(
  logits: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
): { loss: number; correct: number; delta: Float32Array } {
  const rows = labels.length;
  const result = { loss: new Float64Array(1), correct: new Int32Array(1) };
  const delta = new Float32Array(rows * classes);
  nllHeads(logits, labels, rows, 1, classes, result, delta);
  return { loss: result.loss[0], correct: result.correct[0], delta };
}
