/**
 * The loss along a straight line through weight space, `w(α) = from + α·(to − from)`: from the
 * initial to the final weights of a run (Goodfellow et al., 2015, "Qualitatively characterizing
 * neural network optimization problems"), or, with `to = from − g`, along one gradient step, where
 * α is the learning rate of that step: the 1-D picture of why a large step overshoots the valley.
 *
 * All α are evaluated at once, as the K models of a wide net (`grid_step.ts`), when a BLAS library
 * is loaded; else with tfjs ops.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { currentBlas } from "../backend/backend.ts";
import type { Blas } from "../backend/blas.ts";
import { IMAGE_PIXELS, type Split } from "../data/mnist.ts";
import { finiteNumber, positiveInteger, rangeError } from "../util/validate.ts";
import { createWideNet, setModelWeights } from "./wide_net.ts";
import { forward, type HeadResult, lossHead } from "./grid_step.ts";
import { backpropagation, shuffledBatches, trainableVariables } from "./steps.ts";

/** One point of the line. */
export interface LinePoint {
  /** Position on the line: 0 is `from`, 1 is `to`. */
  alpha: number;
  /** Mean NLL on the data. */
  loss: number;
  /** Share classified right. */
  accuracy: number;
}

const CHUNK = 500;

/**
 * Loss and accuracy of a dense ReLU stack (linear last layer, log-softmax) at points of a line.
 *
 * @param from Weights at α = 0, in `model.getWeights()` order: kernel (`inputs × units`), bias, …
 * @param to Weights at α = 1, same shapes.
 * @param data Examples to evaluate on (a few thousand are plenty).
 * @param alphas Positions on the line.
 * @param options The BLAS library (default the backend's; `null` for tfjs ops).
 * @returns One point per α, in order.
 * @throws {RangeError} On mismatched shapes, no α, a non-finite α or no data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setupBackend } from "../backend/backend.ts";
 * import { createModel } from "../model/network.ts";
 * await setupBackend({ log: false });
 * const model = createModel({ seed: 0 });
 * const w = model.getWeights().map((t) => t.dataSync() as Float32Array);
 * const data = { images: new Float32Array(4 * 784).fill(0.5), labels: new Uint8Array([0, 1, 2, 3]), count: 4 };
 * const [a, b] = lossAlongLine(w, w, data, [0, 1]);
 * assert.equal(a.loss, b.loss);
 * model.dispose();
 * ```
 */
export function lossAlongLine(
  from: readonly Float32Array[],
  to: readonly Float32Array[],
  data: Split,
  alphas: readonly number[],
  options: { blas?: Blas | null } = {},
): LinePoint[] {
  const where = { action: "compute the loss along a line", subject: `${alphas.length} points` };
  if (alphas.length === 0) positiveInteger(where, "the number of points", 0);
  alphas.forEach((a, i) => finiteNumber(where, `alpha ${i + 1}`, a));
  positiveInteger(where, "the number of examples", data.count);
  if (from.length !== to.length || from.some((w, i) => w.length !== to[i].length)) {
    rangeError(
      where,
      "the shapes of to",
      to.map((w) => w.length),
      `those of from, ${from.map((w) => w.length)}`,
    );
  }
  const sizes = [
    from[0].length / from[1].length,
    ...from.filter((_, i) => i % 2 === 1).map((b) => b.length),
  ];
  const points = alphas.map((alpha) =>
    from.map((w, i) => w.map((v, j) => v + alpha * (to[i][j] - v)))
  );
  const blas = options.blas === undefined ? currentBlas() : options.blas;
  const scores = blas ? wideScores(blas, sizes, points, data) : points.map((p) => tfScore(p, data));
  return alphas.map((alpha, k) => ({ alpha, ...scores[k] }));
}

function wideScores(blas: Blas, sizes: number[], points: Float32Array[][], data: Split) {
  const optimizer = { kind: "sgd", learningRate: 0 } as const;
  const net = createWideNet(sizes, points.map(() => ({ optimizer, dropout: 0 })), CHUNK);
  points.forEach((p, k) =>
    setModelWeights(
      net,
      k,
      Array.from({ length: p.length / 2 }, (_, l) => ({ kernel: p[2 * l], bias: p[2 * l + 1] })),
    )
  );
  const K = points.length;
  const head: HeadResult = { loss: new Float64Array(K), correct: new Int32Array(K) };
  const loss = new Float64Array(K), correct = new Float64Array(K);
  for (let start = 0; start < data.count; start += CHUNK) {
    const rows = Math.min(CHUNK, data.count - start);
    const x = data.images.subarray(start * IMAGE_PIXELS, (start + rows) * IMAGE_PIXELS);
    forward({ blas, wide: blas }, net, x, rows, null);
    lossHead(net, data.labels.subarray(start, start + rows), rows, head, false);
    for (let k = 0; k < K; k++) {
      loss[k] += head.loss[k] * rows;
      correct[k] += head.correct[k];
    }
  }
  return points.map((_, k) => ({ loss: loss[k] / data.count, accuracy: correct[k] / data.count }));
}

function tfScore(weights: Float32Array[], data: Split): { loss: number; accuracy: number } {
  return tf.tidy(() => {
    let h: tf.Tensor2D = tf.tensor2d(data.images, [data.count, IMAGE_PIXELS]);
    const layers = weights.length / 2;
    for (let l = 0; l < layers; l++) {
      const bias = weights[2 * l + 1];
      const kernel = tf.tensor2d(weights[2 * l], [h.shape[1], bias.length]);
      h = tf.add(tf.matMul(h, kernel), tf.tensor1d(bias));
      if (l < layers - 1) h = tf.relu(h);
    }
    const logp = tf.logSoftmax(h);
    const labels = tf.tensor1d(Int32Array.from(data.labels), "int32");
    const loss = tf.neg(tf.mean(tf.sum(tf.mul(logp, tf.oneHot(labels, h.shape[1])), 1)));
    const right = tf.sum(tf.cast(tf.equal(tf.argMax(h, 1), labels), "float32"));
    return { loss: loss.dataSync()[0], accuracy: right.dataSync()[0] / data.count };
  });
}

/**
 * The line of one plain gradient step from a model's current weights: `from` its weights, `to`
 * them minus the gradient of the mean loss on `data`, so that on {@linkcode lossAlongLine}'s line
 * α is the learning rate of that step (SGD without momentum).
 *
 * @param model A dense model ending in log-softmax.
 * @param data Examples of the gradient (one batch of all of them; a few thousand are plenty).
 * @returns The two ends, in `model.getWeights()` order.
 */
export function gradientLine(
  model: tf.LayersModel,
  data: Split,
): { from: Float32Array[]; to: Float32Array[] } {
  const backprop = backpropagation(model);
  const [batch] = shuffledBatches(data, { epoch: 1, batchSize: data.count });
  const from = trainableVariables(model).map((v) => v.dataSync().slice() as Float32Array);
  const gradients = tf.tidy(() => backprop(batch).gradients.map((g) => g.dataSync().slice()));
  return { from, to: from.map((w, i) => w.map((v, j) => v - gradients[i][j])) };
}
