/**
 * K dense networks of the same shape trained side by side on the same batches, on the host with
 * BLAS: the first layers of all K models form one wide matrix (`K·units × inputs`), so the batch is
 * multiplied once by all of them, forward (`x·W₁ᵀ`) and backward (`δ₁ᵀ·x`); deeper layers are K
 * small products on column blocks of the wide activations (sgemm's leading dimensions select a
 * block without copying). Hyperparameters are per-model vectors, and the update is one pass per
 * model over its parameters with BLAS level-1 calls.
 *
 * The arithmetic is that of `denseGradients` and `createOptimizer` (PyTorch's rules), so each
 * model ends where its own `train()` run would, within float32 rounding.
 *
 * Layout of `params` (and of the gradients and optimizer state, which mirror it): first the K
 * first-layer weight blocks, transposed (`units × inputs`, model k's at `k·units·inputs`), then
 * per model a contiguous "rest": its first-layer bias, then each deeper layer's kernel
 * (`inputs × units`, as tfjs stores it) and bias.
 *
 * @module
 */
import type { Blas } from "../backend/blas.ts";
import { simdArrays, simdRelu, simdReluBackward } from "../backend/simd.ts";
import type { OptimizerConfig } from "../model/optimizer.ts";

/** The libraries a step calls: `wide` for the two all-model products, `blas` for the rest. */
export interface StepBlas {
  blas: Blas;
  /** May be a threaded library (the wide products are large enough to split). */
  wide: Blas;
}

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
function segments(net: WideNet, k: number): [start: number, length: number][] {
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

/**
 * Forward pass of all K models on `rows` inputs into `net.acts` (the last layer holds logits).
 * With `dropout`, hidden activations of model k are multiplied by fresh masks from `rngs[k]`,
 * drawn in the order `denseGradients` draws them.
 */
export function forward(
  { blas, wide: wideBlas }: StepBlas,
  net: WideNet,
  x: Float32Array,
  rows: number,
  rngs: readonly ((() => number) | null)[] | null,
  acts: Float32Array[] = net.acts,
): void {
  const { sizes, models, params } = net;
  const layers = sizes.length - 1;
  for (let l = 1; l <= layers; l++) {
    const [inputs, units] = [sizes[l - 1], sizes[l]];
    const wide = models * units;
    const out = acts[l];
    fillBiases(net, out, l, rows);
    if (l === 1) {
      // All K first layers at once: [rows × inputs] · [K·units × inputs]ᵀ, over the columns where
      // some image of the batch has ink (the rest would only add zeros).
      const [lo, hi] = inkColumns(x, rows, inputs);
      if (acts === net.acts) net.inked = { x, rows, columns: [lo, hi] };
      if (hi > lo) {
        wideBlas.sgemm(
          false,
          true,
          rows,
          wide,
          hi - lo,
          1,
          x.subarray(lo),
          inputs,
          params.subarray(lo),
          inputs,
          1,
          out,
          wide,
        );
      }
    } else {
      const below = acts[l - 1];
      const ldIn = models * inputs;
      for (let k = 0; k < models; k++) {
        const slot = layerSlot(net, k, l);
        blas.sgemm(
          false,
          false,
          rows,
          units,
          inputs,
          1,
          below.subarray(k * inputs),
          ldIn,
          params.subarray(slot.kernel),
          units,
          1,
          out.subarray(k * units),
          wide,
        );
      }
    }
    if (l < layers) {
      relu(out, rows * wide);
      if (rngs !== null) applyDropout(net, out, units, rows, rngs);
    }
  }
}

/**
 * `x ← max(x, 0)` on the first `size` floats: four at a time with wasm SIMD when `x` lives in a
 * wasm memory (`simdArrays`, as a wide net's activations do), else on their bits: a float is
 * negative exactly when its int32 is, so `b & ~(b >> 31)` zeroes negatives (and −0) and keeps the
 * rest. Branch-free, since signs are random and a branch mispredicts half the time, and in int32
 * arithmetic, which V8 runs without converting each float to a double and back (1.5–2× faster
 * than `v * +(v > 0)`; the SIMD loop is about 5× faster again).
 */
export function relu(x: Float32Array, size: number): void {
  if (simdRelu(x, size)) return;
  const bits = new Int32Array(x.buffer, x.byteOffset, size);
  for (let i = 0; i < size; i++) {
    const b = bits[i];
    bits[i] = b & ~(b >> 31);
  }
}

/**
 * `δ ← δ · [a > 0]` on the first `size` floats, with SIMD or on their bits (see
 * {@linkcode relu}): `a > 0` exactly when its int32 `b` is positive, i.e. when both `−b` and `~b`
 * have the sign bit set.
 */
export function reluBackward(delta: Float32Array, act: Float32Array, size: number): void {
  if (simdReluBackward(delta, act, size)) return;
  const d = new Int32Array(delta.buffer, delta.byteOffset, size);
  const a = new Int32Array(act.buffer, act.byteOffset, size);
  for (let i = 0; i < size; i++) {
    const b = a[i];
    d[i] &= (-b & ~b) >> 31;
  }
}

/** Writes each model's bias of layer l into every row of `out`, so sgemm can add onto it. */
function fillBiases(net: WideNet, out: Float32Array, l: number, rows: number): void {
  const { sizes, models, params } = net;
  const units = sizes[l];
  const wide = models * units;
  for (let k = 0; k < models; k++) {
    const bias = layerSlot(net, k, l).bias;
    out.set(params.subarray(bias, bias + units), k * units);
  }
  for (let filled = 1; filled < rows;) {
    const copy = Math.min(filled, rows - filled);
    out.copyWithin(filled * wide, 0, copy * wide);
    filled += copy;
  }
}

function applyDropout(
  net: WideNet,
  out: Float32Array,
  units: number,
  rows: number,
  rngs: readonly ((() => number) | null)[],
): void {
  const wide = net.models * units;
  for (let k = 0; k < net.models; k++) {
    const rate = net.specs[k].dropout;
    const rng = rngs[k];
    if (!(rate > 0) || rng === null) continue;
    const keep = 1 / (1 - rate);
    for (let r = 0; r < rows; r++) {
      const start = r * wide + k * units;
      for (let u = 0; u < units; u++) out[start + u] *= rng() < rate ? 0 : keep;
    }
  }
}

/** Per model: mean loss and number right of one batch. */
export interface HeadResult {
  loss: Float64Array;
  correct: Int32Array;
}

/**
 * The NLL head of every model on the logits in `acts[last]`: mean loss, count right (first index
 * on ties) and the logits' gradient `(softmax − one-hot) / rows` into `deltas[last]`, in float64
 * as `nllHead` computes it.
 */
export function lossHead(
  net: WideNet,
  labels: ArrayLike<number>,
  rows: number,
  result: HeadResult,
  withDelta = true,
  acts: Float32Array[] = net.acts,
): void {
  const last = net.sizes.length - 1;
  const classes = net.sizes[last];
  const wide = net.models * classes;
  const logits = acts[last];
  const delta = net.deltas[last];
  result.loss.fill(0);
  result.correct.fill(0);
  for (let r = 0; r < rows; r++) {
    const label = labels[r];
    for (let k = 0; k < net.models; k++) {
      const offset = r * wide + k * classes;
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits[offset + c] > logits[offset + best]) best = c;
      const max = logits[offset + best];
      let sum = 0;
      for (let c = 0; c < classes; c++) {
        const e = Math.exp(logits[offset + c] - max);
        sum += e;
        if (withDelta) delta[offset + c] = e; // softmax numerators, normalised below
      }
      result.loss[k] -= logits[offset + label] - (max + Math.log(sum));
      if (best === label) result.correct[k]++;
      if (!withDelta) continue;
      const scale = 1 / (sum * rows);
      for (let c = 0; c < classes; c++) {
        delta[offset + c] = delta[offset + c] * scale - (c === label ? 1 / rows : 0);
      }
    }
  }
  for (let k = 0; k < net.models; k++) result.loss[k] /= rows;
}

/**
 * Backward pass of all K models after {@linkcode forward} and {@linkcode lossHead}: fills
 * `net.grads`, or with {@linkcode WideNet.fusedMomenta} folds the gradients into the momentum
 * buffers. Hidden deltas are masked where the (post-dropout) activation is zero and scaled by
 * the dropout's keep factor where it is not, which is what multiplying by the mask and by ReLU's
 * derivative gives.
 */
export function backward(
  { blas, wide: wideBlas }: StepBlas,
  net: WideNet,
  x: Float32Array,
  rows: number,
): void {
  const { sizes, models, params, acts, deltas } = net;
  const layers = sizes.length - 1;
  const betas = net.fusedMomenta ?? new Float64Array(models);
  const grads = net.fusedMomenta === null ? net.grads : net.state1;
  for (let l = layers; l >= 1; l--) {
    const [inputs, units] = [sizes[l - 1], sizes[l]];
    const wide = models * units;
    const delta = deltas[l];
    biasGradients(blas, net, delta, l, rows, grads, betas);
    if (l === 1) {
      // The first-layer gradients of each run of models with the same momentum at once:
      // [rows × n·units]ᵀ · [rows × inputs], over the inked columns; elsewhere the gradient is
      // zero, so the buffer only decays (momentum) or clears.
      const { inked } = net;
      const [lo, hi] = inked.x === x && inked.rows === rows
        ? inked.columns
        : inkColumns(x, rows, inputs);
      for (let first = 0, end = 1; first < models; first = end, end = first + 1) {
        const beta = betas[first];
        while (end < models && betas[end] === beta) end++;
        const block = grads.subarray(first * units * inputs, end * units * inputs);
        if (hi > lo) {
          wideBlas.sgemm(
            true,
            false,
            (end - first) * units,
            hi - lo,
            rows,
            1,
            delta.subarray(first * units),
            wide,
            x.subarray(lo),
            inputs,
            beta,
            block.subarray(lo),
            inputs,
          );
        }
        scaleOutside(wideBlas, block, (end - first) * units, inputs, Math.min(lo, hi), hi, beta);
      }
      break;
    }
    const below = acts[l - 1];
    const belowDelta = deltas[l - 1];
    const ldIn = models * inputs;
    for (let k = 0; k < models; k++) {
      const slot = layerSlot(net, k, l);
      blas.sgemm(
        true,
        false,
        inputs,
        units,
        rows,
        1,
        below.subarray(k * inputs),
        ldIn,
        delta.subarray(k * units),
        wide,
        betas[k],
        grads.subarray(slot.kernel),
        units,
      );
      blas.sgemm(
        false,
        true,
        rows,
        inputs,
        units,
        1,
        delta.subarray(k * units),
        wide,
        params.subarray(slot.kernel),
        units,
        0,
        belowDelta.subarray(k * inputs),
        ldIn,
      );
    }
    maskDelta(net, belowDelta, below, inputs, rows);
  }
}

/**
 * The columns `[lo, hi)` outside which every one of the `rows` rows of `x` is zero: MNIST digits
 * sit in the middle of their 28×28 box, so a batch of 64 leaves about the first and last 40
 * pixels blank, an eighth of the first layer's products. Reads only up to the bounds found so far,
 * about 85 pixels a row. `[inputs, 0]` when every row is zero.
 */
export function inkColumns(x: Float32Array, rows: number, inputs: number): [number, number] {
  let lo = inputs, hi = 0;
  for (let r = 0; r < rows; r++) {
    const row = r * inputs;
    for (let c = 0; c < lo; c++) {
      if (x[row + c] !== 0) {
        lo = c;
        break;
      }
    }
    for (let c = inputs - 1; c >= hi; c--) {
      if (x[row + c] !== 0) {
        hi = c + 1;
        break;
      }
    }
  }
  return [lo, hi];
}

/**
 * `m[u·cols + c] *= scale` for every row u and every column c outside `[lo, hi)`, as two sgemm
 * calls with `k = 0`: BLAS defines those as `C ← β·C`, which OpenBLAS runs as one vector pass over
 * the strided block (a JavaScript loop here cost a tenth of the time the window saves).
 */
function scaleOutside(
  blas: Blas,
  m: Float32Array,
  rowCount: number,
  cols: number,
  lo: number,
  hi: number,
  scale: number,
): void {
  for (const [start, width] of [[0, lo], [hi, cols - hi]]) {
    if (width === 0) continue;
    const block = m.subarray(start);
    blas.sgemm(
      true,
      false,
      rowCount,
      width,
      0,
      1,
      block,
      rowCount,
      block,
      width,
      scale,
      block,
      cols,
    );
  }
}

/** Bias gradients of layer l: each column sum of the delta (one sgemv with a ones vector). */
function biasGradients(
  blas: Blas,
  net: WideNet,
  delta: Float32Array,
  l: number,
  rows: number,
  out: Float32Array,
  betas: Float64Array,
): void {
  const units = net.sizes[l];
  const wide = net.models * units;
  const sums = net.biasSums.subarray(0, wide);
  blas.sgemv(true, rows, wide, 1, delta, wide, net.ones, 0, sums);
  for (let k = 0; k < net.models; k++) {
    const bias = layerSlot(net, k, l).bias;
    const beta = betas[k];
    for (let u = 0; u < units; u++) {
      out[bias + u] = beta * out[bias + u] + sums[k * units + u];
    }
  }
}

function maskDelta(
  net: WideNet,
  delta: Float32Array,
  act: Float32Array,
  units: number,
  rows: number,
): void {
  const wide = net.models * units;
  if (net.specs.every((spec) => !(spec.dropout > 0))) {
    // One flat pass (no keep factors): the common case, and twice as fast as the blocked loop.
    reluBackward(delta, act, rows * wide);
    return;
  }
  for (let k = 0; k < net.models; k++) {
    const rate = net.specs[k].dropout;
    const keep = rate > 0 ? 1 / (1 - rate) : 1;
    for (let r = 0; r < rows; r++) {
      const start = r * wide + k * units;
      for (let u = start; u < start + units; u++) delta[u] *= keep * +(act[u] > 0);
    }
  }
}

/**
 * One optimizer step for the models marked active, each with its own learning rate, following
 * `createOptimizer`'s (PyTorch's) rules: SGD with momentum, Nesterov and weight decay as BLAS
 * level-1 passes over the model's two segments; Adam as one loop.
 */
export function updateModels(
  blas: Blas,
  net: WideNet,
  learningRates: Float64Array,
  active: Uint8Array,
): void {
  for (let k = 0; k < net.models; k++) {
    if (!active[k]) continue;
    const config = net.specs[k].optimizer;
    const lr = learningRates[k];
    if (config.kind === "adam") net.adamSteps[k]++;
    for (const [start, length] of segments(net, k)) {
      const w = net.params.subarray(start, start + length);
      const g = net.grads.subarray(start, start + length);
      const m = net.state1.subarray(start, start + length);
      if (config.kind === "sgd" && net.fusedMomenta !== null) {
        // The backward pass left momentum·buf + gradient in m; the decay term joins it here.
        if ((config.weightDecay ?? 0) > 0) blas.saxpy(length, config.weightDecay!, w, m);
        blas.saxpy(length, -lr, m, w);
      } else if (config.kind === "sgd") {
        const { momentum = 0, weightDecay = 0, nesterov = false } = config;
        if (weightDecay > 0) blas.saxpy(length, weightDecay, w, g);
        if (momentum > 0) {
          blas.saxpby(length, 1, g, momentum, m); // PyTorch: buf = momentum·buf + g
          if (nesterov) {
            blas.saxpy(length, momentum, m, g);
            blas.saxpy(length, -lr, g, w);
          } else blas.saxpy(length, -lr, m, w);
        } else blas.saxpy(length, -lr, g, w);
      } else {
        adamUpdate(
          config,
          net.adamSteps[k],
          lr,
          w,
          g,
          m,
          net.state2.subarray(start, start + length),
        );
      }
    }
  }
}

function adamUpdate(
  config: Extract<OptimizerConfig, { kind: "adam" }>,
  t: number,
  lr: number,
  w: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
): void {
  const { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0 } = config;
  const stepSize = lr / (1 - beta1 ** t);
  const secondCorrection = Math.sqrt(1 - beta2 ** t);
  for (let i = 0; i < w.length; i++) {
    const gi = weightDecay > 0 ? g[i] + weightDecay * w[i] : g[i];
    m[i] = beta1 * m[i] + (1 - beta1) * gi;
    v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
    w[i] -= stepSize * (m[i] / (Math.sqrt(v[i]) / secondCorrection + epsilon));
  }
}
