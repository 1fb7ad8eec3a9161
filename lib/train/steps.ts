/**
 * The building blocks of the training loop, small enough to read in a notebook: seeded batches in
 * reused host buffers, one batch's loss and gradients (the hand-written backward pass or tfjs
 * autograd), the model's weights and momentum buffers, and the loss for checks. `train()` and the
 * loop written out in notebook 03 are built from the same blocks, so they give the same numbers.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { IMAGE_PIXELS, type Split } from "../data/mnist.ts";
import {
  type BatchGradients,
  denseGradients,
  denseGradientsUnsupported,
  type GradientFunction,
  tapeGradients,
} from "../model/gradients.ts";
import { nllHead } from "../model/nll.ts";
import { createRng, deriveSeed, permutation, type Rng } from "../util/random.ts";
import { positiveInteger, rangeError } from "../util/validate.ts";

/** One mini-batch, its pixels and labels on the host (views of buffers reused by the next batch). */
export interface Batch {
  /** 1-based epoch the batch belongs to. */
  epoch: number;
  /** 1-based position in the epoch. */
  batch: number;
  /** Batches in the epoch. */
  batches: number;
  /** `size × 784` pixels. */
  images: Float32Array;
  /** `size` true classes. */
  labels: Int32Array;
  /** Examples in this batch (the last one may be smaller). */
  size: number;
  /** Examples of the epoch up to and including this batch. */
  seen: number;
}

/** Options of {@linkcode shuffledBatches}. */
export interface BatchOptions {
  /** 1-based epoch: with the seed it fixes the order. */
  epoch: number;
  /** Examples per batch. Default 64. */
  batchSize?: number;
  /** Seed of the order. Default 0. */
  seed?: number;
  /** The epoch's pixels, e.g. augmented copies of `split.images`. Default `split.images`. */
  images?: Float32Array;
}

/**
 * The number of batches an epoch has.
 *
 * @param count Examples.
 * @param batchSize Examples per batch.
 * @returns `⌈count / batchSize⌉`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(batchCount(51_000, 64), 797);
 * ```
 */
export function batchCount(count: number, batchSize: number): number {
  return Math.ceil(count / batchSize);
}

/**
 * One epoch's batches in a seeded random order, like PyTorch's `DataLoader(shuffle=True)`.
 * Batches are copied into two host buffers reused from batch to batch (a host copy costs about
 * 20 µs, a gather on the device about 2 ms): use a batch before asking for the next.
 *
 * @param split The examples.
 * @param options Epoch, batch size, seed, and the epoch's pixels.
 * @returns A generator of batches covering every example once.
 * @throws {RangeError} If the split is empty or the batch size is not a positive integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const split = { images: new Float32Array(5 * 784), labels: new Uint8Array([0, 1, 2, 3, 4]), count: 5 };
 * const sizes = [...shuffledBatches(split, { epoch: 1, batchSize: 2 })].map((b) => b.size);
 * assert.deepEqual(sizes, [2, 2, 1]);
 * ```
 */
export function* shuffledBatches(split: Split, options: BatchOptions): Generator<Batch> {
  const { epoch, batchSize = 64, seed = 0, images = split.images } = options;
  const where = { action: "make batches" };
  positiveInteger(where, "option batchSize", batchSize);
  positiveInteger(where, "option epoch", epoch);
  if (split.count === 0) rangeError(where, "the split's size", 0, "at least one example");
  const order = permutation(split.count, createRng(deriveSeed(seed, epoch)));
  const batches = batchCount(split.count, batchSize);
  const pixels = new Float32Array(batchSize * IMAGE_PIXELS);
  const labels = new Int32Array(batchSize);
  for (let b = 0; b < batches; b++) {
    const indices = order.subarray(b * batchSize, Math.min((b + 1) * batchSize, split.count));
    for (let i = 0; i < indices.length; i++) {
      const j = indices[i];
      pixels.set(images.subarray(j * IMAGE_PIXELS, (j + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
      labels[i] = split.labels[j];
    }
    const size = indices.length;
    yield {
      epoch,
      batch: b + 1,
      batches,
      images: pixels.subarray(0, size * IMAGE_PIXELS),
      labels: labels.subarray(0, size),
      size,
      seen: b * batchSize + size,
    };
  }
}

/**
 * The dropout masks' random stream for each batch: one stream per epoch, derived from the seed, so
 * a run's masks are the same however it is resumed, and every training path (tfjs, host, grid)
 * draws the same masks.
 *
 * @param seed The run's seed.
 * @returns A function giving the stream for a batch (the same one for every batch of an epoch).
 */
export function dropoutStream(seed: number): (batch: Pick<Batch, "epoch">) => Rng {
  let epoch = -1;
  let rng: Rng = createRng(0);
  return (batch) => {
    if (batch.epoch !== epoch) {
      [epoch, rng] = [batch.epoch, createRng(deriveSeed(seed, batch.epoch, 1))];
    }
    return rng;
  };
}

/**
 * The batch's pixels as a `[size, 784]` tensor (inside the caller's `tf.tidy`).
 *
 * @param batch The batch.
 * @returns A new tensor.
 */
export function batchTensor(batch: Batch): tf.Tensor2D {
  return tf.tensor2d(batch.images, [batch.size, IMAGE_PIXELS]);
}

/**
 * The model's log-probabilities for a batch, as in training (dropout active), for autograd to
 * differentiate: PyTorch's `model(x)`.
 *
 * @param model A model ending in log-softmax.
 * @param batch The batch.
 * @returns `[size, classes]` log-probabilities (inside the caller's `tf.tidy`).
 */
export function forward(model: tf.LayersModel, batch: Batch): tf.Tensor2D {
  return model.apply(batchTensor(batch), { training: true }) as tf.Tensor2D;
}

/** Options of {@linkcode backpropagation}. */
export interface BackpropagationOptions {
  /** `"dense"`: the hand-written backward pass; `"tape"`: tfjs autograd; `"auto"` (default): dense when the model allows. */
  gradients?: "auto" | "dense" | "tape";
  /** Seed of the dropout masks (one stream per epoch). Default 0. */
  seed?: number;
}

/** One batch's forward pass, NLL loss and backward pass; `path` says which backward pass runs. */
export interface Backpropagation {
  (batch: Batch): BatchGradients;
  /** Which gradient path runs. */
  readonly path: "dense" | "tape";
}

/**
 * Makes the function that gives one batch's mean NLL loss, how many it got right and the gradient
 * of every weight, in `model.trainableWeights` order. Call it inside `tf.tidy`: the gradients are
 * tensors for the caller to use and let go.
 *
 * @param model A model ending in log-softmax, e.g. from `createModel`.
 * @param options Which backward pass, and the dropout seed.
 * @returns The function, with its `path`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs";
 * import { createModel } from "../model/network.ts";
 * const model = createModel();
 * const backprop = backpropagation(model);
 * const split = { images: new Float32Array(2 * 784), labels: new Uint8Array([3, 7]), count: 2 };
 * const [batch] = shuffledBatches(split, { epoch: 1 });
 * const loss = tf.tidy(() => backprop(batch).loss);
 * assert.equal(backprop.path, "dense");
 * assert.ok(Math.abs(loss - Math.log(10)) < 0.5); // an untrained network: about ln 10
 * model.dispose();
 * ```
 */
export function backpropagation(
  model: tf.LayersModel,
  options: BackpropagationOptions = {},
): Backpropagation {
  const { gradients = "auto", seed = 0 } = options;
  const path = gradients === "tape" ||
      (gradients === "auto" && denseGradientsUnsupported(model) !== null)
    ? "tape"
    : "dense";
  const compute: GradientFunction = path === "dense" ? denseGradients(model) : tapeGradients(model);
  const dropout = dropoutStream(seed);
  const step = (batch: Batch) => compute(batchTensor(batch), batch.labels, dropout(batch));
  return Object.assign(step, { path }) as Backpropagation;
}

/**
 * The model's trainable weights as variables, in the order gradients come in.
 *
 * @param model The model.
 * @returns `[kernel1, bias1, kernel2, …]` for a dense stack.
 */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * One zero-filled buffer per weight, e.g. the velocities of SGD with momentum. Dispose them when
 * training ends.
 *
 * @param weights The weights.
 * @returns New variables of the same shapes, not trainable.
 */
export function zeroBuffers(weights: readonly tf.Variable[]): tf.Variable[] {
  return weights.map((w) => tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
}

/**
 * The mean NLL loss of log-probabilities as a tensor, `F.nll_loss` in PyTorch, for autograd.
 *
 * @param logProbabilities `[rows, classes]` log-probabilities.
 * @param labels `rows` true classes.
 * @returns A scalar.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs";
 * const loss = nllLoss(tf.log(tf.tensor2d([[0.5, 0.5]])), new Int32Array([1]));
 * assert.ok(Math.abs(loss.dataSync()[0] - Math.log(2)) < 1e-6);
 * ```
 */
export function nllLoss(logProbabilities: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.tensor1d(labels, "int32"), logProbabilities.shape[1]);
    return tf.div(tf.neg(tf.sum(tf.mul(logProbabilities, oneHot))), labels.length) as tf.Scalar;
  });
}

/**
 * A batch's mean NLL loss with the current weights, in float64 from the model's outputs: the
 * quantity a finite-difference check differentiates.
 *
 * @param model A model ending in log-softmax.
 * @param batch The batch.
 * @returns The loss.
 */
export function batchLoss(model: tf.LayersModel, batch: Batch): number {
  const logProbabilities = tf.tidy(() => (model.predict(batchTensor(batch)) as tf.Tensor2D));
  const values = logProbabilities.dataSync() as Float32Array;
  const classes = logProbabilities.shape[1];
  logProbabilities.dispose();
  return nllHead(values, batch.labels, classes).loss;
}

/**
 * Adds `delta` to one entry of a weight, in place: `nudge(w, k, +ε)` then `nudge(w, k, −ε)` puts
 * it back (up to float32 rounding).
 *
 * @param weight The variable.
 * @param index Flat index of the entry (row-major).
 * @param delta What to add.
 * @throws {RangeError} If the index is outside the weight.
 */
export function nudge(weight: tf.Variable, index: number, delta: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= weight.size) {
    rangeError(
      { action: "nudge weight", subject: weight.name },
      "index",
      index,
      `an integer in [0, ${weight.size - 1}]`,
    );
  }
  const values = weight.dataSync().slice() as Float32Array;
  values[index] += delta;
  tf.tidy(() => weight.assign(tf.tensor(values, weight.shape)));
}

/**
 * The largest absolute difference between two tensors of the same shape.
 *
 * @param a One tensor.
 * @param b The other.
 * @returns `max |a − b|`.
 */
export function maxAbsDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}
