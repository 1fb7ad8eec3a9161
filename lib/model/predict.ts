/**
 * Batched inference: a whole split in chunks, every tensor disposed, results as typed arrays.
 *
 * @module
 */
import { phrase, positiveInteger, rangeError } from "../util/validate.ts";
import * as tf from "@tensorflow/tfjs";
import { IMAGE_PIXELS, type Split } from "../data/mnist.ts";

/** Options of the prediction helpers. */
export interface PredictOptions {
  /** Examples per forward pass. Default 1,000: large enough to be fast, small enough for memory. */
  batchSize?: number;
}

/**
 * Runs `fn` on consecutive chunks of `images` and concatenates what it returns.
 *
 * @param images `n × inputSize` values, row-major.
 * @param inputSize Values per example.
 * @param fn Maps a `[rows, inputSize]` tensor to a `[rows, outputSize]` tensor, inside `tf.tidy`.
 * @param options Chunk size.
 * @returns The concatenated `n × outputSize` outputs.
 */
export function mapInChunks(
  images: Float32Array,
  inputSize: number,
  fn: (batch: tf.Tensor2D) => tf.Tensor,
  options: PredictOptions = {},
): Float32Array {
  const { batchSize = 1000 } = options;
  positiveInteger({ action: "predict" }, "option batchSize", batchSize);
  if (images.length % inputSize !== 0) {
    rangeError(
      { action: "predict" },
      "the number of input values",
      images.length,
      `a multiple of ${inputSize} per example`,
    );
  }
  const count = images.length / inputSize;
  let out: Float32Array | undefined;
  for (let start = 0; start < count; start += batchSize) {
    const rows = Math.min(batchSize, count - start);
    const result = tf.tidy(() => {
      const batch = tf.tensor2d(
        images.subarray(start * inputSize, (start + rows) * inputSize),
        [rows, inputSize],
      );
      return fn(batch);
    });
    const values = result.dataSync() as Float32Array;
    const outputSize = result.shape[1] ?? 1;
    result.dispose();
    out ??= new Float32Array(count * outputSize);
    out.set(values, start * outputSize);
  }
  return out ?? new Float32Array(0);
}

/** One inference pass over a whole chunk (`predict` alone would split it into batches of 32). */
function forward(model: tf.LayersModel, x: tf.Tensor2D): tf.Tensor {
  return model.predict(x, { batchSize: x.shape[0] }) as tf.Tensor;
}

/**
 * The model's log-probabilities for every example (the model ends in log-softmax).
 *
 * @param model A model mapping `[n, 784]` pixels to `[n, 10]` log-probabilities.
 * @param images `n × 784` pixels.
 * @param options Chunk size.
 * @returns `n × 10` log-probabilities, row-major.
 */
export function predictLogProbabilities(
  model: tf.LayersModel,
  images: Float32Array,
  options: PredictOptions = {},
): Float32Array {
  return mapInChunks(images, IMAGE_PIXELS, (x) => forward(model, x), options);
}

/**
 * The model's class probabilities for every example.
 *
 * @param model A model ending in log-softmax.
 * @param images `n × 784` pixels.
 * @param options Chunk size.
 * @returns `n × 10` probabilities, each row summing to 1.
 */
export function predictProbabilities(
  model: tf.LayersModel,
  images: Float32Array,
  options: PredictOptions = {},
): Float32Array {
  return mapInChunks(images, IMAGE_PIXELS, (x) => tf.exp(forward(model, x)), options);
}

/**
 * The output of one named layer for every example, e.g. the 64-unit hidden representation.
 *
 * @param model The model.
 * @param images `n × 784` pixels.
 * @param layerName Name of the layer whose output to return (`"linear2"`).
 * @param options Chunk size.
 * @returns `n × units` activations, row-major.
 */
export function layerOutputs(
  model: tf.LayersModel,
  images: Float32Array,
  layerName: string,
  options: PredictOptions = {},
): Float32Array {
  const names = model.layers.map((l) => l.name);
  if (!names.includes(layerName)) {
    rangeError(
      { action: "read layer", subject: layerName },
      "it",
      phrase("missing"),
      `one of ${names.join(", ")}`,
    );
  }
  const probe = tf.model({ inputs: model.inputs, outputs: model.getLayer(layerName).output });
  return mapInChunks(images, IMAGE_PIXELS, (x) => forward(probe, x), options);
}

/** Mean loss and accuracy of a model on a split. */
export interface Evaluation {
  /** Mean negative log-likelihood of the true class. */
  loss: number;
  /** Fraction of examples whose most probable class is the true one. */
  accuracy: number;
}

/**
 * Mean negative log-likelihood and accuracy from log-probabilities.
 *
 * @param logProbabilities `n × k` log-probabilities.
 * @param labels `n` true classes.
 * @returns The mean loss and the accuracy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const logp = new Float32Array([Math.log(0.75), Math.log(0.25), Math.log(0.5), Math.log(0.5)]);
 * const { loss, accuracy } = lossAndAccuracy(logp, new Uint8Array([0, 1]));
 * assert.ok(Math.abs(loss - (-Math.log(0.75) - Math.log(0.5)) / 2) < 1e-6);
 * assert.equal(accuracy, 0.5); // a tie goes to the first class, as argmax does
 * ```
 */
export function lossAndAccuracy(
  logProbabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
): Evaluation {
  const n = labels.length;
  const k = n === 0 ? 0 : logProbabilities.length / n;
  if (!Number.isInteger(k)) {
    rangeError(
      { action: "score" },
      "the number of log-probabilities",
      logProbabilities.length,
      `a multiple of the ${n} labels`,
    );
  }
  let loss = 0, correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) {
      if (logProbabilities[i * k + c] > logProbabilities[i * k + best]) best = c;
    }
    if (best === labels[i]) correct++;
    loss -= logProbabilities[i * k + labels[i]];
  }
  return { loss: loss / n, accuracy: correct / n };
}

/**
 * Loss and accuracy of a model on a whole split, in chunks.
 *
 * @param model A model ending in log-softmax.
 * @param split The examples.
 * @param options Chunk size.
 * @returns The mean loss and the accuracy.
 */
export function evaluateModel(
  model: tf.LayersModel,
  split: Split,
  options: PredictOptions = {},
): Evaluation {
  return lossAndAccuracy(predictLogProbabilities(model, split.images, options), split.labels);
}

/** One layer's output for one example. */
export interface LayerTrace {
  /** Layer name, e.g. `"linear1"`. */
  layer: string;
  /** The layer's class and activation, e.g. `"Dense relu"`. */
  kind: string;
  /** Its outputs for the example. */
  values: Float32Array;
}

/**
 * Runs one example through the model and keeps every layer's output, to follow it layer by layer.
 *
 * @param model The model.
 * @param image One example's 784 pixels.
 * @returns One entry per layer, input side first.
 */
export function forwardTrace(model: tf.LayersModel, image: Float32Array): LayerTrace[] {
  if (image.length !== IMAGE_PIXELS) {
    rangeError({ action: "trace" }, "the length of the image", image.length, `${IMAGE_PIXELS}`);
  }
  const probe = tf.model({
    inputs: model.inputs,
    outputs: model.layers.map((l) => l.output as tf.SymbolicTensor),
  });
  const outputs = tf.tidy(() =>
    probe.predict(tf.tensor2d(image, [1, IMAGE_PIXELS])) as tf.Tensor[]
  );
  const trace = model.layers.map((layer, i) => {
    const activation = layer.getConfig().activation;
    return {
      layer: layer.name,
      kind: activation ? `${layer.getClassName()} ${activation}` : layer.getClassName(),
      values: outputs[i].dataSync() as Float32Array,
    };
  });
  tf.dispose(outputs);
  return trace;
}
