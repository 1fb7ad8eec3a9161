/**
 * A dense model's parameters and gradients as two flat `Float32Array`s on the host, for a training
 * loop written out by hand (notebook 03): `backward(batch)` runs the forward pass, the NLL loss and
 * the hand-written backward pass with BLAS and fills `gradients`; the loop then updates
 * `parameters` itself, one number at a time, and `sync()` writes them back into the tfjs model for
 * a validation pass or a checkpoint.
 *
 * `train()` runs the same forward, loss head and backward pass (`grid_step.ts`) with the update
 * fused into the backward pass, so a loop built from these blocks gives `train()`'s history within
 * float32 rounding; no tfjs kernel runs during an epoch.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { currentBlas } from "../backend/backend.ts";
import type { Blas } from "../backend/blas.ts";
import { jsBlas } from "../backend/js_blas.ts";
import { typeError } from "../util/validate.ts";
import {
  createWideNet,
  getModelWeights,
  layerSlot,
  setModelWeights,
  type WideNet,
} from "./wide_net.ts";
import { backward, forward, type HeadResult, lossHead } from "./grid_step.ts";
import { dropoutRate, hostTrainable, layerSizes, readWeights, writeWeights } from "./host_step.ts";
import { type Batch, dropoutStream } from "./steps.ts";

/** A model on the host: what a hand-written training loop reads and changes. */
export interface HostNetwork {
  /** Every weight and bias of the model (109,386 for the original), in one flat array. */
  parameters: Float32Array;
  /** `∂loss/∂parameters` of the last `backward(batch)`, in the same order. */
  gradients: Float32Array;
  /**
   * Forward pass, mean NLL loss and backward pass on one batch; fills `gradients`.
   *
   * @returns The batch's mean loss and how many it classified right, before any update.
   */
  backward(batch: Batch): { loss: number; correct: number };
  /** The gradients one tfjs weight at a time, in `model.trainableWeights` order and layout. */
  weightGradients(): Float32Array[];
  /** Writes `parameters` into the tfjs model. */
  sync(): void;
}

/** Options of {@linkcode hostNetwork}. */
export interface HostNetworkOptions {
  /** Largest batch. Default 64. */
  batchSize?: number;
  /** Seed of the dropout masks (one stream per epoch, as `backpropagation()` draws them). */
  seed?: number;
  /**
   * BLAS library; default the one behind the `"wasm-blas"` backend, else the TypeScript one
   * (`jsBlas`, several times slower).
   */
  blas?: Blas;
}

/**
 * Copies a dense model's weights to the host.
 *
 * @param model A dense stack on 784 inputs ending in log-softmax, e.g. from `createModel`.
 * @param options Largest batch, dropout seed, BLAS library.
 * @returns The parameters, gradients and the backward pass over them.
 * @throws {TypeError} If the model is not a dense stack the hand-written backward pass covers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setupBackend } from "../backend/backend.ts";
 * import { createModel } from "../model/network.ts";
 * await setupBackend({ log: false });
 * const model = createModel({ seed: 0 });
 * const net = hostNetwork(model);
 * assert.equal(net.parameters.length, 109_386);
 * model.dispose();
 * ```
 */
export function hostNetwork(model: tf.LayersModel, options: HostNetworkOptions = {}): HostNetwork {
  const where = { action: "train on the host", subject: model.name };
  const { batchSize = 64, seed = 0 } = options;
  const blas = options.blas ?? currentBlas() ?? jsBlas();
  if (!hostTrainable(model)) {
    typeError(where, "the model", model.layers.map((l) => l.getClassName()), "a dense stack");
  }
  const dropout = dropoutRate(model);
  // The loop updates the parameters itself: the backward pass writes plain gradients into
  // `grads`, folding no momentum in.
  const optimizer = { kind: "sgd", learningRate: 0, momentum: 0 } as const;
  const net = createWideNet(layerSizes(model), [{ optimizer, dropout }], batchSize);
  net.fusedMomenta = null;
  setModelWeights(net, 0, readWeights(model));
  const kernels = { blas, wide: blas };
  const head: HeadResult = { loss: new Float64Array(1), correct: new Int32Array(1) };
  const dropoutFor = dropoutStream(seed);
  return {
    parameters: net.params,
    gradients: net.grads,
    backward(batch) {
      forward(kernels, net, batch.images, batch.size, dropout > 0 ? [dropoutFor(batch)] : null);
      lossHead(net, batch.labels, batch.size, head);
      backward(kernels, net, batch.images, batch.size);
      return { loss: head.loss[0], correct: head.correct[0] };
    },
    weightGradients: () => gradientsByWeight(net),
    sync: () => writeWeights(model, getModelWeights(net, 0)),
  };
}

/** The gradients in tfjs's layout: the first layer's block is stored transposed on the host. */
function gradientsByWeight(net: WideNet): Float32Array[] {
  const { sizes } = net;
  const out: Float32Array[] = [];
  for (let l = 1; l < sizes.length; l++) {
    const [inputs, units] = [sizes[l - 1], sizes[l]];
    const slot = layerSlot(net, 0, l);
    const kernel = new Float32Array(inputs * units);
    if (l === 1) {
      for (let u = 0; u < units; u++) {
        for (let i = 0; i < inputs; i++) {
          kernel[i * units + u] = net.grads[slot.kernel + u * inputs + i];
        }
      }
    } else kernel.set(net.grads.subarray(slot.kernel, slot.kernel + inputs * units));
    out.push(kernel, net.grads.slice(slot.bias, slot.bias + units));
  }
  return out;
}
