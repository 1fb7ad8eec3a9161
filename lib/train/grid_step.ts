/**
 * One training step of K dense networks side by side on the same batch, on the host with BLAS:
 * forward, the loss head, backward and the optimizer update, each a block a loop calls in turn.
 * A single run (`train()`, notebook 03's `hostNetwork`) is the case K = 1; a grid (`trainGrid`)
 * trains K learning rates, momenta or seeds' worth of models in one pass.
 *
 * The first layers of all K models form one wide matrix (`K·units × inputs`, see `wide_net.ts`),
 * so the batch is multiplied once by all of them, forward (`x·W₁ᵀ`) and backward (`δ₁ᵀ·x`);
 * deeper layers are K small products on column blocks of the wide activations (sgemm's leading
 * dimensions select a block without copying). Hyperparameters are per-model vectors, and the
 * update is one pass per model over its parameters with BLAS level-1 calls.
 *
 * The arithmetic is that of `denseGradients` and `createOptimizer` (PyTorch's rules), with the
 * same loss head (`nllHeads`), so each model ends where its own tfjs run would, within float32
 * rounding.
 *
 * @module
 */
import type { Blas } from "../backend/blas.ts";
import { simdRelu, simdReluBackward } from "../backend/simd.ts";
import { type HeadResult, nllHeads } from "../model/nll.ts";
import type { OptimizerConfig } from "../model/optimizer.ts";
import { layerSlot, segments, type WideNet } from "./wide_net.ts";

export type { HeadResult };

/** The libraries a step calls: `wide` for the two all-model products, `blas` for the rest. */
export interface StepBlas {
  blas: Blas;
  /** May be a threaded library (the wide products are large enough to split). */
  wide: Blas;
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

/**
 * The NLL head of every model on the logits in `acts[last]` (`nllHeads`): mean loss, count right
 * and, with `withDelta`, the logits' gradient into `deltas[last]`.
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
  const delta = withDelta ? net.deltas[last] : null;
  nllHeads(acts[last], labels, rows, net.models, net.sizes[last], result, delta);
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
