/**
 * Loss and gradients of one batch, two ways with the same results:
 *
 * - `denseGradients` backpropagates by hand through a stack of dense layers (ReLU or linear, optional
 *   dropout) ending in log-softmax: about 30 kernels a step, the matrix products fused with bias and
 *   activation. It is the fast path for this project's networks.
 * - `tapeGradients` lets tfjs's autograd differentiate `model.apply`: any model, more kernels.
 *
 * Both take the negative log-likelihood of the true class averaged over the batch, as PyTorch's
 * `F.nll_loss` on log-softmax outputs, and both run inside the caller's `tf.tidy`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/random.ts";
import { nllHead } from "./nll.ts";

/** What one batch gives: the mean loss, the number classified right, a gradient per parameter. */
export interface BatchGradients {
  /** Mean negative log-likelihood over the batch. */
  loss: number;
  /** How many examples have their true class as the most probable one. */
  correct: number;
  /** One gradient per `model.trainableWeights` entry, in that order. */
  gradients: tf.Tensor[];
}

/**
 * Computes a batch's loss and gradients.
 *
 * @param x `[batch, inputs]` inputs.
 * @param labels `[batch]` true classes.
 * @param rng Random source for dropout masks.
 */
export type GradientFunction = (x: tf.Tensor2D, labels: Int32Array, rng: Rng) => BatchGradients;

/** One dense layer as the hand-written backward pass sees it. */
interface DenseStage {
  kernel: tf.Variable;
  bias: tf.Variable;
  relu: boolean;
  /** Dropout rate applied after the activation, 0 for none. */
  dropout: number;
}

/**
 * Describes why a model cannot use the hand-written backward pass, or returns its stages.
 * Supported: Dense layers with ReLU (hidden) or linear (last) activations, Dropout layers, and a
 * final log-softmax Activation layer.
 */
function denseStages(model: tf.LayersModel): DenseStage[] | string {
  const stages: DenseStage[] = [];
  const layers = model.layers;
  const last = layers.at(-1);
  const lastActivation = last?.getClassName() === "Activation"
    ? String(last.getConfig().activation)
    : "";
  if (!["log_softmax", "logSoftmax"].includes(lastActivation)) {
    return "the last layer is not a log-softmax activation";
  }
  for (const layer of layers.slice(0, -1)) {
    const kind = layer.getClassName();
    const config = layer.getConfig();
    if (kind === "Dense") {
      const activation = String(config.activation);
      if (activation !== "relu" && activation !== "linear") {
        return `layer ${layer.name} has activation ${activation}`;
      }
      if (!config.useBias) return `layer ${layer.name} has no bias`;
      const [kernel, bias] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      stages.push({ kernel, bias, relu: activation === "relu", dropout: 0 });
    } else if (kind === "Dropout" && stages.length > 0) {
      if (config.noiseShape) return `layer ${layer.name} has a noise shape`;
      stages[stages.length - 1].dropout = Number(config.rate);
    } else {
      return `layer ${layer.name} is a ${kind}`;
    }
  }
  if (stages.length === 0 || stages.at(-1)!.relu || stages.at(-1)!.dropout > 0) {
    return "the log-softmax does not directly follow a linear dense layer";
  }
  const trainable = model.trainableWeights.length;
  if (trainable !== 2 * stages.length) return "some dense layers are frozen";
  return stages;
}

/**
 * Whether `denseGradients` supports a model, and if not, why.
 *
 * @param model The model.
 * @returns `null` if supported, else the reason.
 */
export function denseGradientsUnsupported(model: tf.LayersModel): string | null {
  const stages = denseStages(model);
  return typeof stages === "string" ? stages : null;
}

/** A dropout mask scaled like inverted dropout: 0 with probability `rate`, else 1/(1-rate). */
function dropoutMask(rows: number, units: number, rate: number, rng: Rng): tf.Tensor2D {
  const mask = new Float32Array(rows * units);
  const keep = 1 / (1 - rate);
  for (let i = 0; i < mask.length; i++) mask[i] = rng() < rate ? 0 : keep;
  return tf.tensor2d(mask, [rows, units]);
}

/**
 * The hand-written forward and backward pass of a dense stack ending in log-softmax.
 *
 * @param model A model `denseGradientsUnsupported` accepts.
 * @returns The gradient function for that model.
 * @throws {TypeError} If the model has layers the hand-written pass does not cover.
 */
export function denseGradients(model: tf.LayersModel): GradientFunction {
  const stages = denseStages(model);
  if (typeof stages === "string") {
    throw new TypeError(`Cannot use the dense backward pass on model "${model.name}": ${stages}`);
  }
  return (x, labels, rng) => {
    const rows = x.shape[0];
    // Forward, keeping each layer's input (after dropout) and each dropout mask for the backward pass.
    const inputs: tf.Tensor2D[] = [];
    const masks: (tf.Tensor2D | null)[] = [];
    let h: tf.Tensor2D = x;
    for (const stage of stages) {
      inputs.push(h);
      h = tf.fused.matMul({
        a: h,
        b: stage.kernel as tf.Tensor2D,
        bias: stage.bias,
        activation: stage.relu ? "relu" : "linear",
      }) as tf.Tensor2D;
      const mask = stage.dropout > 0 ? dropoutMask(rows, h.shape[1], stage.dropout, rng) : null;
      if (mask) h = tf.mul(h, mask);
      masks.push(mask);
    }
    // The loss head runs on the host, the one every path shares (nll.ts): reading 64×10 logits
    // and uploading their gradient replaces about fifteen tiny kernels.
    const head = nllHead(h.dataSync() as Float32Array, labels, h.shape[1]);
    let delta = tf.tensor2d(head.delta, h.shape);
    const gradients: tf.Tensor[] = new Array(2 * stages.length);
    for (let i = stages.length - 1; i >= 0; i--) {
      const stage = stages[i];
      gradients[2 * i] = tf.matMul(inputs[i], delta, true, false);
      gradients[2 * i + 1] = tf.sum(delta, 0);
      if (i === 0) break;
      let upstream: tf.Tensor2D = tf.matMul(delta, stage.kernel as tf.Tensor2D, false, true);
      const below = stages[i - 1];
      const mask = masks[i - 1];
      if (mask) upstream = tf.mul(upstream, mask);
      // ReLU passes gradient where its output was positive; after dropout, inputs[i] is zero
      // exactly where the ReLU output was zero or the unit was dropped (already masked above).
      if (below.relu) upstream = tf.mul(upstream, tf.step(inputs[i]));
      delta = upstream;
    }
    return { loss: head.loss, correct: head.correct, gradients };
  };
}

/**
 * Loss and gradients by tfjs's autograd through `model.apply(x, { training: true })`.
 *
 * @param model Any model ending in log-softmax. Its dropout layers draw from tfjs's own
 *   (unseeded) random source, so runs with dropout are not bit-for-bit reproducible on this path.
 * @returns The gradient function for that model.
 */
export function tapeGradients(model: tf.LayersModel): GradientFunction {
  return (x, labels) => {
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const labelTensor = tf.tensor1d(labels, "int32");
    let correct = 0;
    const { value, grads } = tf.variableGrads(() => {
      const logProbabilities = model.apply(x, { training: true }) as tf.Tensor2D;
      correct = tf.sum(tf.equal(tf.argMax(logProbabilities, 1), labelTensor)).dataSync()[0];
      const oneHot = tf.oneHot(labelTensor, logProbabilities.shape[1]);
      return tf.div(tf.neg(tf.sum(tf.mul(logProbabilities, oneHot))), x.shape[0]) as tf.Scalar;
    }, variables);
    return {
      loss: value.dataSync()[0],
      correct,
      gradients: variables.map((v) => grads[v.name]),
    };
  };
}
