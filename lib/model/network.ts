/**
 * The network of the original notebook: 784 → 128 → 64 → 10 with ReLU and a log-softmax output,
 * 109,386 parameters, initialised exactly as PyTorch's `nn.Linear` does.
 *
 * @module
 */
import { phrase, rangeError, typeError } from "../util/validate.ts";
import * as tf from "@tensorflow/tfjs";
import { IMAGE_PIXELS, NUM_CLASSES } from "../data/mnist.ts";
import { pytorchInitialWeights } from "./init.ts";

/** Options of {@linkcode createModel}. */
export interface ModelOptions {
  /** Units of each hidden layer. Default `[128, 64]`, as in the original. */
  hiddenUnits?: readonly number[];
  /** Dropout rate after each hidden layer; 0 (the default) adds no dropout layers. */
  dropout?: number;
  /** Seed of the initial weights. Default 0. */
  seed?: number;
  /** Inputs per example. Default 784 (28×28 pixels). */
  inputSize?: number;
  /** Output classes. Default 10. */
  numClasses?: number;
}

const MODEL_DEFAULTS = {
  hiddenUnits: [128, 64],
  dropout: 0,
  seed: 0,
  inputSize: IMAGE_PIXELS,
  numClasses: NUM_CLASSES,
} as const;

/**
 * Builds the network as a tf.layers model: dense layers `linear1`, `linear2`, … with ReLU between,
 * then `log_softmax`, so the model outputs log-probabilities like the original's `forward`.
 *
 * @param options Layer sizes, dropout and the seed of the initial weights.
 * @returns A new model; the caller disposes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const model = createModel();
 * assert.equal(model.countParams(), 109_386);
 * model.dispose();
 * ```
 */
export function createModel(options: ModelOptions = {}): tf.Sequential {
  const { hiddenUnits, dropout, seed, inputSize, numClasses } = { ...MODEL_DEFAULTS, ...options };
  if (!(dropout >= 0 && dropout < 1)) {
    rangeError({ action: "create the model" }, "option dropout", dropout, "a rate in [0, 1)");
  }
  for (const units of hiddenUnits) {
    if (!Number.isInteger(units) || units < 1) {
      rangeError(
        { action: "create the model" },
        "option hiddenUnits",
        hiddenUnits,
        "positive integers",
      );
    }
  }
  const model = tf.sequential({ name: "ann_mnist" });
  const sizes = [...hiddenUnits, numClasses];
  sizes.forEach((units, i) => {
    const last = i === sizes.length - 1;
    model.add(tf.layers.dense({
      units,
      activation: last ? "linear" : "relu",
      name: `linear${i + 1}`,
      ...(i === 0 ? { inputShape: [inputSize] } : {}),
    }));
    if (!last && dropout > 0) {
      model.add(tf.layers.dropout({ rate: dropout, name: `dropout${i + 1}` }));
    }
  });
  model.add(logSoftmax());
  initializeLikePyTorch(model, seed);
  return model;
}

/**
 * The output layer `log_softmax`: log-probabilities `z_k − log Σ_j exp z_j`, like PyTorch's
 * `F.log_softmax(x, dim=1)`.
 *
 * @returns A new activation layer named `log_softmax`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs";
 * const p = logSoftmax().apply(tf.tensor2d([[0, 0]])) as tf.Tensor;
 * assert.ok(Math.abs(p.dataSync()[0] - Math.log(0.5)) < 1e-6);
 * ```
 */
export function logSoftmax(): tf.layers.Layer {
  // tfjs-layers registers a "logSoftmax" activation (so saved models load in stock tfjs), but its
  // TypeScript union of activation names omits it.
  return tf.layers.activation({
    activation: "logSoftmax" as tf.serialization.ConfigDictValue as "linear",
    name: "log_softmax",
  });
}

/**
 * Sets every dense layer's weights and biases to uniform values in ±1/√fan_in, PyTorch's
 * `nn.Linear` default: its learning-rate behaviour depends on this scale, so we match it rather than
 * use tfjs's Glorot default. Values come from a seeded generator, the same on every backend.
 *
 * @param model The model to initialise in place.
 * @param seed Seed of the generator.
 */
export function initializeLikePyTorch(model: tf.LayersModel, seed = 0): void {
  const dense = model.layers.filter((layer) => layer.getClassName() === "Dense");
  const kernels = dense.map((layer) => layer.getWeights()[0].shape as [number, number]);
  const weights = pytorchInitialWeights(
    [kernels[0][0], ...kernels.map(([, units]) => units)],
    seed,
  );
  dense.forEach((layer, l) => {
    const [fanIn, fanOut] = kernels[l];
    const tensors = [tf.tensor2d(weights[l].kernel, [fanIn, fanOut]), tf.tensor1d(weights[l].bias)];
    layer.setWeights(tensors);
    tf.dispose(tensors);
  });
}

/** One row of {@linkcode parameterSummary} (a type alias, so it passes as a table row). */
export type LayerSummary = {
  layer: string;
  kind: string;
  outputShape: string;
  weights: number;
  biases: number;
  parameters: number;
};

/**
 * Lists each layer with its output shape and parameter counts, like PyTorch's `print(model)` plus
 * a parameter count.
 *
 * @param model The model.
 * @returns One row per layer; the counts add up to `model.countParams()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const model = createModel();
 * const rows = parameterSummary(model);
 * assert.deepEqual(rows.map((r) => r.parameters), [100_480, 8_256, 650, 0]);
 * model.dispose();
 * ```
 */
export function parameterSummary(model: tf.LayersModel): LayerSummary[] {
  return model.layers.map((layer) => {
    const [weights = 0, biases = 0] = layer.getWeights().map((w) => w.size);
    const shape = layer.outputShape as (number | null)[];
    return {
      layer: layer.name,
      kind: layer.getClassName() === "Dense"
        ? `Dense ${(layer.getWeights()[0]?.shape ?? []).join("→")}`
        : layerKind(layer),
      outputShape: `[${shape.map((d) => d ?? "batch").join(", ")}]`,
      weights,
      biases,
      parameters: weights + biases,
    };
  });
}

function layerKind(layer: tf.layers.Layer): string {
  const config = layer.getConfig();
  if (layer.getClassName() === "Activation") return `Activation ${config.activation}`;
  if (layer.getClassName() === "Dropout") return `Dropout ${config.rate}`;
  return layer.getClassName();
}

/**
 * The incoming weights of each unit of a dense layer, one row per unit: for `linear1` these are
 * 128 vectors of 784 weights, which read as 28×28 pictures of what each unit responds to.
 *
 * @param model The model.
 * @param layerName A dense layer. Default `"linear1"`.
 * @returns `units × inputs` weights, row-major.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const model = createModel({ hiddenUnits: [3], inputSize: 2, numClasses: 2 });
 * const kernel = model.getLayer("linear1").getWeights()[0].arraySync() as number[][];
 * const rows = unitWeights(model, "linear1");
 * assert.equal(rows[1 * 2 + 0], kernel[0][1]); // unit 1, input 0
 * model.dispose();
 * ```
 */
export function unitWeights(model: tf.LayersModel, layerName = "linear1"): Float32Array {
  const layer = model.getLayer(layerName);
  if (layer.getClassName() !== "Dense") {
    typeError(
      { action: "read unit weights of layer", subject: layerName },
      "it",
      phrase(`a ${layer.getClassName()} layer`),
      "a Dense layer",
    );
  }
  const kernel = layer.getWeights()[0];
  const [inputs, units] = kernel.shape;
  const values = kernel.dataSync();
  const out = new Float32Array(units * inputs);
  for (let i = 0; i < inputs; i++) {
    for (let u = 0; u < units; u++) out[u * inputs + i] = values[i * units + u];
  }
  return out;
}
