/**
 * K dense networks of the same shape, side by side in flat typed arrays on the host: the buffers
 * the step of `grid_step.ts` works on (one model for a single run, K for a grid).
 *
 * Layout of `params` (and of the gradients and optimizer state, which mirror it): first the K
 * first-layer weight blocks, transposed (`units × inputs`, model k's at `k·units·inputs`), so that
 * all K first layers form one wide matrix the batch is multiplied by once; then per model a
 * contiguous "rest": its first-layer bias, then each deeper layer's kernel (`inputs × units`, as
 * tfjs stores it) and bias.
 *
 * @module
 */
import { simdArrays } from "../backend/simd.ts";
import type { OptimizerConfig } from "../model/optimizer.ts";

/** One model's hyperparameters as the wide step sees them. */
export interface WideModelSpec {
  /** Optimizer and its hyperparameters (the learning rate is given per step). */
  optimizer: OptimizerConfig;
  /** Dropout rate after each hidden layer (0 for none); masks come from the step's `rngs`. */
  dropout: number;
}

/** Sizes and buffers of K models side by side. */
export interface WideNet {
  /** Layer widths, inputs first: `[784, 128, 64, 10]`. */
  sizes: readonly number[];
  /** Number of models. */
  models: number;
  /** All parameters (layout in the module doc). */
  params: Float32Array;
  /** Gradients, same layout. */
  grads: Float32Array;
  /** Optimizer state (momentum buffer, or Adam's first moment), same layout. */
  state1: Float32Array;
  /** Adam's second moment, same layout (empty unless some model uses Adam). */
  state2: Float32Array;
  /** Adam steps taken per model. */
  adamSteps: Int32Array;
  specs: readonly WideModelSpec[];
  /** Largest batch the activation buffers hold. */
  maxRows: number;
  /** Activations per layer (post-ReLU, post-dropout), `[rows × K·units]`; index 0 unused. */
  acts: Float32Array[];
  /** Backward deltas per layer, same shapes as `acts`. */
  deltas: Float32Array[];
  /**
   * When every model is SGD without Nesterov: each model's momentum (0 for none). The backward
   * pass then writes `momentum·buf + gradient` straight into the momentum buffers (sgemm's
   * `beta`), which saves a pass over the parameters and the gradient buffer. `null` otherwise
   * (Adam, Nesterov), and the gradients go to `grads`.
   */
  fusedMomenta: Float64Array | null;
  /**
   * The order of the first layer's inputs, `null` for their own: with an order (`inkOrder`),
   * column q of every first-layer block is input `pixelOrder[q]`, and every `x` given to
   * {@linkcode forward} must hold its pixels in that order (`inPixelOrder`).
   */
  pixelOrder: Int32Array | null;
  /** The inked columns of the last batch {@linkcode forward} saw, for its backward pass. */
  inked: { x: Float32Array | null; rows: number; columns: [number, number] };
  /** `maxRows` ones, and room for one layer's bias sums (sgemv's operands). */
  ones: Float32Array;
  biasSums: Float32Array;
}

/** Where one layer's kernel and bias of model k sit in `params`. */
export interface LayerSlot {
  kernel: number;
  bias: number;
}

/** Floats of one model's first-layer block. */
function firstBlock(sizes: readonly number[]): number {
  return sizes[0] * sizes[1];
}

/** Floats of one model's rest (first bias, deeper kernels and biases). */
function restSize(sizes: readonly number[]): number {
  let total = sizes[1];
  for (let l = 2; l < sizes.length; l++) total += sizes[l - 1] * sizes[l] + sizes[l];
  return total;
}

/** Floats of one model's parameters. */
export function parameterCount(sizes: readonly number[]): number {
  return firstBlock(sizes) + restSize(sizes);
}

/**
 * Offsets of model k's layer l (1-based) kernel and bias. Layer 1's kernel offset points at its
 * transposed block (`units × inputs`).
 */
export function layerSlot(net: Pick<WideNet, "sizes" | "models">, k: number, l: number): LayerSlot {
  const { sizes, models } = net;
  const rest = models * firstBlock(sizes) + k * restSize(sizes);
  if (l === 1) return { kernel: k * firstBlock(sizes), bias: rest };
  let offset = rest + sizes[1];
  for (let j = 2; j < l; j++) offset += sizes[j - 1] * sizes[j] + sizes[j];
  return { kernel: offset, bias: offset + sizes[l - 1] * sizes[l] };
}

/** The two contiguous segments of model k's parameters: its first-layer block and its rest. */
export function segments(net: WideNet, k: number): [start: number, length: number][] {
  const { sizes, models } = net;
  const first = firstBlock(sizes), rest = restSize(sizes);
  return [[k * first, first], [models * first + k * rest, rest]];
}

/**
 * Allocates K models side by side; parameters start at zero (see {@linkcode setModelWeights}).
 *
 * @param sizes Layer widths, inputs first.
 * @param specs One entry per model.
 * @param maxRows Largest batch.
 * @param pixelOrder The order of the first layer's inputs (see {@linkcode WideNet.pixelOrder}).
 * @returns The buffers.
 */
export function createWideNet(
  sizes: readonly number[],
  specs: readonly WideModelSpec[],
  maxRows: number,
  pixelOrder: Int32Array | null = null,
): WideNet {
  const models = specs.length;
  const total = models * parameterCount(sizes);
  const adam = specs.some((s) => s.optimizer.kind === "adam");
  // Activations and deltas in one wasm memory, where ReLU and its backward run as SIMD loops.
  const layerFloats = sizes.slice(1).map((units) => maxRows * models * units);
  const buffers = simdArrays([...layerFloats, ...layerFloats]);
  const acts = [new Float32Array(0), ...buffers.slice(0, layerFloats.length)];
  const deltas = [new Float32Array(0), ...buffers.slice(layerFloats.length)];
  return {
    sizes,
    models,
    params: new Float32Array(total),
    grads: new Float32Array(total),
    state1: new Float32Array(total),
    state2: new Float32Array(adam ? total : 0),
    adamSteps: new Int32Array(models),
    specs,
    maxRows,
    acts,
    deltas,
    fusedMomenta: fusedMomenta(specs),
    pixelOrder,
    inked: { x: null, rows: 0, columns: [0, 0] },
    ones: new Float32Array(maxRows).fill(1),
    biasSums: new Float32Array(models * Math.max(...sizes.slice(1))),
  };
}

function fusedMomenta(specs: readonly WideModelSpec[]): Float64Array | null {
  const plainSgd = specs.every(({ optimizer }) => optimizer.kind === "sgd" && !optimizer.nesterov);
  return plainSgd
    ? Float64Array.from(
      specs,
      ({ optimizer }) => (optimizer as { momentum?: number }).momentum ?? 0,
    )
    : null;
}

/**
 * Copies one model's weights in: `layers[l-1]` is layer l's `{ kernel, bias }` as tfjs holds them
 * (kernel `inputs × units`, row-major).
 */
export function setModelWeights(
  net: WideNet,
  k: number,
  layers: readonly { kernel: Float32Array; bias: Float32Array }[],
): void {
  const { sizes, params } = net;
  for (let l = 1; l < sizes.length; l++) {
    const { kernel, bias } = layers[l - 1];
    const slot = layerSlot(net, k, l);
    if (l === 1) {
      // Column q of model k's block holds input pixelOrder[q] (or q), unit by unit.
      const [inputs, units] = [sizes[0], sizes[1]];
      const order = net.pixelOrder;
      for (let u = 0; u < units; u++) {
        const row = slot.kernel + u * inputs;
        for (let q = 0; q < inputs; q++) params[row + q] = kernel[(order?.[q] ?? q) * units + u];
      }
    } else params.set(kernel, slot.kernel);
    params.set(bias, slot.bias);
  }
}

/** Copies one model's weights out, in tfjs's layout (the inverse of {@linkcode setModelWeights}). */
export function getModelWeights(
  net: WideNet,
  k: number,
): { kernel: Float32Array; bias: Float32Array }[] {
  const { sizes, params } = net;
  const layers = [];
  for (let l = 1; l < sizes.length; l++) {
    const slot = layerSlot(net, k, l);
    const [inputs, units] = [sizes[l - 1], sizes[l]];
    const kernel = new Float32Array(inputs * units);
    if (l === 1) {
      const order = net.pixelOrder;
      for (let u = 0; u < units; u++) {
        const row = slot.kernel + u * inputs;
        for (let q = 0; q < inputs; q++) kernel[(order?.[q] ?? q) * units + u] = params[row + q];
      }
    } else kernel.set(params.subarray(slot.kernel, slot.kernel + inputs * units));
    layers.push({ kernel, bias: params.slice(slot.bias, slot.bias + units) });
  }
  return layers;
}

/**
 * A new wide net holding only some of the models of `net` (their parameters, optimizer state and
 * Adam steps), so that finished runs stop costing products: `keep[i]` is the model of `net` that
 * becomes model i.
 */
export function keepModels(net: WideNet, keep: readonly number[]): WideNet {
  const kept = createWideNet(net.sizes, keep.map((k) => net.specs[k]), net.maxRows, net.pixelOrder);
  keep.forEach((k, i) => {
    const to = segments(kept, i);
    segments(net, k).forEach(([start, length], s) => {
      kept.params.set(net.params.subarray(start, start + length), to[s][0]);
      kept.state1.set(net.state1.subarray(start, start + length), to[s][0]);
      if (kept.state2.length > 0) {
        kept.state2.set(net.state2.subarray(start, start + length), to[s][0]);
      }
    });
    kept.adamSteps[i] = net.adamSteps[k];
  });
  return kept;
}
