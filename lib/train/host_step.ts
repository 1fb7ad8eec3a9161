/**
 * The training step of a dense model on the host: the model's weights copied once into typed
 * arrays, then every batch runs forward, backward and the optimizer update with BLAS calls and a
 * few fused loops (the product adds onto the bias rows, ReLU and its backward are one branch-free
 * pass each, the loss head runs in float64, SGD momentum is folded into the weight-gradient
 * product), and no tfjs kernel at all. The weights go back into the model when asked (before
 * validation, at the end of training).
 *
 * It is what `grid_step.ts` does for K models, with K = 1, so `train()` and `trainGrid()` share
 * one implementation; the arithmetic is `denseGradients` and `createOptimizer`'s.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Blas } from "../backend/blas.ts";
import { IMAGE_PIXELS } from "../data/mnist.ts";
import { denseGradientsUnsupported } from "../model/gradients.ts";
import type { DenseWeights } from "../model/init.ts";
import type { OptimizerConfig } from "../model/optimizer.ts";
import type { Rng } from "../util/random.ts";
import { measuredWideStep, type StepNorms } from "./dynamics.ts";
import { createWideNet, getModelWeights, setModelWeights } from "./wide_net.ts";
import { backward, forward, type HeadResult, lossHead, updateModels } from "./grid_step.ts";

export type { DenseWeights };

/**
 * Whether a model can train on the host: a dense stack `denseGradients` supports, on 784 inputs.
 *
 * @param model The model.
 * @returns `true` when {@linkcode createHostStep} and `trainGrid`'s shared pass accept it.
 */
export function hostTrainable(model: tf.LayersModel): boolean {
  return denseGradientsUnsupported(model) === null &&
    (model.inputs[0]?.shape.at(-1) ?? 0) === IMAGE_PIXELS;
}

/** Widths of a dense stack, inputs first, e.g. `[784, 128, 64, 10]`. */
export function layerSizes(model: tf.LayersModel): number[] {
  const kernels = denseLayers(model).map((l) => l.getWeights()[0].shape as number[]);
  return [kernels[0][0], ...kernels.map((shape) => shape[1])];
}

/** The dropout rate after the hidden layers (one rate per model, as `createModel` builds them). */
export function dropoutRate(model: tf.LayersModel): number {
  const layer = model.layers.find((l) => l.getClassName() === "Dropout");
  return layer === undefined ? 0 : Number(layer.getConfig().rate);
}

/** Copies every dense layer's kernel and bias out of the model. */
export function readWeights(model: tf.LayersModel): DenseWeights[] {
  return denseLayers(model).map((layer) => {
    const [kernel, bias] = layer.getWeights().map((w) => w.dataSync() as Float32Array);
    return { kernel, bias };
  });
}

/** Writes every dense layer's kernel and bias into the model (tensors disposed). */
export function writeWeights(model: tf.LayersModel, layers: readonly DenseWeights[]): void {
  denseLayers(model).forEach((layer, i) => {
    const [inputs, units] = layer.getWeights()[0].shape;
    const tensors = [tf.tensor2d(layers[i].kernel, [inputs, units]), tf.tensor1d(layers[i].bias)];
    layer.setWeights(tensors);
    tf.dispose(tensors);
  });
}

function denseLayers(model: tf.LayersModel) {
  return model.layers.filter((l) => l.getClassName() === "Dense");
}

/** A model's training step on the host. */
export interface HostStep {
  /**
   * Trains on one batch: `rows` images (`rows × 784`) and labels, at this learning rate; dropout
   * masks come from `rng`, drawn as `denseGradients` draws them.
   *
   * With `measure`, also measures the step's kernel norms (see `dynamics.ts`).
   *
   * @returns The batch's mean loss and the number classified right, before the update, and with
   * `measure` the step's norms.
   */
  step(
    images: Float32Array,
    labels: Int32Array,
    rows: number,
    learningRate: number,
    rng: Rng,
    measure?: boolean,
  ): { loss: number; correct: number; norms?: StepNorms };
  /** Writes the current weights into the model. */
  sync(): void;
}

/**
 * Copies a model's weights to the host and returns its training step there.
 *
 * @param model A model {@linkcode hostTrainable} accepts.
 * @param optimizer The optimizer (its state lives with the step).
 * @param batchSize Largest batch.
 * @param blas The BLAS library to call.
 * @param pixelOrder The order the images given to `step` hold their pixels in (`inkOrder`);
 *   default their own.
 * @returns The step.
 */
export function createHostStep(
  model: tf.LayersModel,
  optimizer: OptimizerConfig,
  batchSize: number,
  blas: Blas,
  pixelOrder: Int32Array | null = null,
): HostStep {
  const dropout = dropoutRate(model);
  const net = createWideNet(layerSizes(model), [{ optimizer, dropout }], batchSize, pixelOrder);
  setModelWeights(net, 0, readWeights(model));
  const kernels = { blas, wide: blas };
  const head: HeadResult = { loss: new Float64Array(1), correct: new Int32Array(1) };
  const learningRates = new Float64Array(1);
  const active = new Uint8Array([1]);
  return {
    step(images, labels, rows, learningRate, rng, measure = false) {
      if (measure) {
        learningRates[0] = learningRate;
        const rngs = dropout > 0 ? [rng] : null;
        const [norms] = measuredWideStep(
          kernels,
          net,
          images,
          labels,
          rows,
          rngs,
          head,
          learningRates,
          active,
        );
        return { loss: head.loss[0], correct: head.correct[0], norms: norms! };
      }
      forward(kernels, net, images, rows, dropout > 0 ? [rng] : null);
      lossHead(net, labels, rows, head);
      backward(kernels, net, images, rows);
      learningRates[0] = learningRate;
      updateModels(blas, net, learningRates, active);
      return { loss: head.loss[0], correct: head.correct[0] };
    },
    sync() {
      writeWeights(model, getModelWeights(net, 0));
    },
  };
}
