/**
 * Replaces the wasm backend's `BatchMatMul` and `_FusedMatMul` kernels with ones that call a native
 * CBLAS `sgemm` directly on the wasm heap (no copies): the tensors' bytes already live in one
 * `ArrayBuffer`, so a `Float32Array` view of each operand is handed to the library as a pointer.
 *
 * tfjs computes the gradient of `matMul` and of fused `matMul` with these same kernels (with
 * transposed operands), so autograd training speeds up too: the weight gradient `xᵀ·dy` is the
 * shape the stock wasm kernel handles worst.
 *
 * What is not handled natively falls back to the stock kernel, unchanged: non-float32 operands,
 * empty outputs, unknown activations, and bias or PReLU-weight shapes that the fused kernel cannot
 * broadcast cheaply. {@linkcode blasKernelStats} counts both paths.
 *
 * Where the stock kernels are wrong these are not: tfjs-backend-wasm 4.22's `_FusedMatMul` adds
 * the last bias entry to every row after the first on its transposed path, and its `BatchMatMul`
 * mixes up batches broadcast from both sides (`[2,1,m,k]·[3,k,n]`). The tests compare against the
 * unfused definition there.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { Blas } from "./blas.ts";

/** The kernels replaced on the `"wasm"` backend. */
export const BLAS_KERNEL_NAMES: readonly string[] = [tf.BatchMatMul, tf._FusedMatMul];

/** How many matrix-product kernel calls ran natively and how many fell back to the stock kernel. */
export interface BlasKernelStats {
  /** Calls computed with BLAS. */
  blasCalls: number;
  /** Calls handed to the stock wasm kernel. */
  fallbackCalls: number;
  /** Why the last fallback happened, e.g. `"_FusedMatMul: dtype int32"`. */
  lastFallback: string | null;
}

const WASM = "wasm";
const MARK = Symbol.for("ann.blasKernel");
const STATE_KEY = Symbol.for("ann.blasKernels.state");

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Info = tf.TensorInfo;

interface MatMulInputs {
  a: Info;
  b: Info;
  bias?: Info | null;
  preluActivationWeights?: Info | null;
}

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation?: string;
  leakyreluAlpha?: number;
}
type Activation = "linear" | "relu" | "relu6" | "elu" | "prelu" | "leakyrelu" | "sigmoid";

interface State {
  blas: Blas | null;
  stock: Map<string, tf.KernelConfig>;
  stats: BlasKernelStats;
}

/**
 * Installs the BLAS kernels on the `"wasm"` backend. Calling it again swaps in another library (or
 * does nothing for the same one). The stock kernels are kept for fallback and for
 * {@linkcode uninstallBlasKernels}. Works whether or not the wasm backend is active yet.
 *
 * @param blas An opened CBLAS library (see `loadBlas` in `lib/blas.ts`); it must stay open while the
 * kernels are installed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs";
 * import { loadBlas } from "./blas.ts";
 * const blas = (() => {
 *   try {
 *     return loadBlas();
 *   } catch {
 *     return null; // no CBLAS on this machine
 *   }
 * })();
 * if (blas !== null) {
 *   await tf.setBackend("wasm");
 *   installBlasKernels(blas);
 *   const product = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
 *   assert.deepEqual(await product.data(), new Float32Array([11]));
 *   assert.ok(blasKernelStats().blasCalls > 0);
 *   uninstallBlasKernels();
 *   product.dispose();
 * }
 * ```
 */
export function installBlasKernels(blas: Blas): void {
  const state = kernelState();
  state.blas = blas;
  if (blasKernelsInstalled()) return;
  for (const name of BLAS_KERNEL_NAMES) {
    const stock = stockKernel(state, name);
    const kernelFunc: tf.KernelFunc = name === tf.BatchMatMul ? batchMatMul : fusedMatMul;
    tf.unregisterKernel(name, WASM);
    // The stock setupFunc still runs when the backend initialises after this call, so the
    // fallback path is ready whichever order things happen in.
    const config = { kernelName: name, backendName: WASM, setupFunc: stock.setupFunc, kernelFunc };
    tf.registerKernel(Object.assign(config, { [MARK]: true }));
  }
}

/**
 * Puts the stock wasm kernels back. Does nothing when the BLAS kernels are not installed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * uninstallBlasKernels();
 * assert.equal(blasKernelsInstalled(), false);
 * ```
 */
export function uninstallBlasKernels(): void {
  const state = kernelState();
  for (const name of BLAS_KERNEL_NAMES) {
    const current = tf.getKernel(name, WASM);
    if (current === undefined || !isOurs(current)) continue;
    tf.unregisterKernel(name, WASM);
    tf.registerKernel(stockKernel(state, name));
  }
  state.blas = null;
}

/**
 * Whether the BLAS kernels are the ones registered for `"wasm"` now.
 *
 * @returns `true` after {@linkcode installBlasKernels}, `false` after
 * {@linkcode uninstallBlasKernels}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(typeof blasKernelsInstalled(), "boolean");
 * ```
 */
export function blasKernelsInstalled(): boolean {
  return BLAS_KERNEL_NAMES.every((name) => {
    const kernel = tf.getKernel(name, WASM);
    return kernel !== undefined && isOurs(kernel);
  });
}

/**
 * Counts of native and fallback calls since the last {@linkcode resetBlasKernelStats}.
 *
 * @returns A copy of the counters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * resetBlasKernelStats();
 * assert.deepEqual(blasKernelStats(), { blasCalls: 0, fallbackCalls: 0, lastFallback: null });
 * ```
 */
export function blasKernelStats(): BlasKernelStats {
  return { ...kernelState().stats };
}

/**
 * Sets the counters of {@linkcode blasKernelStats} back to zero.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * resetBlasKernelStats();
 * assert.equal(blasKernelStats().blasCalls, 0);
 * ```
 */
export function resetBlasKernelStats(): void {
  kernelState().stats = { blasCalls: 0, fallbackCalls: 0, lastFallback: null };
}

// Kept on globalThis (like tfjs's own kernel registry) so that a second copy of this module, e.g.
// from a notebook re-importing it, still finds the stock kernels instead of saving ours as stock.
function kernelState(): State {
  const holder = globalThis as unknown as Record<symbol, State | undefined>;
  holder[STATE_KEY] ??= {
    blas: null,
    stock: new Map(),
    stats: { blasCalls: 0, fallbackCalls: 0, lastFallback: null },
  };
  return holder[STATE_KEY];
}

function isOurs(config: tf.KernelConfig): boolean {
  return (config as unknown as Record<symbol, unknown>)[MARK] === true;
}

function stockKernel(state: State, name: string): tf.KernelConfig {
  let stock = state.stock.get(name);
  if (stock === undefined) {
    const registered = tf.getKernel(name, WASM);
    if (registered === undefined || isOurs(registered)) {
      throw new Error(`Cannot find the stock wasm kernel ${name}: is the wasm backend imported?`);
    }
    stock = registered;
    state.stock.set(name, stock);
  }
  return stock;
}

function fallback(name: string, args: KernelArgs, reason: string) {
  const state = kernelState();
  state.stats.fallbackCalls++;
  state.stats.lastFallback = `${name}: ${reason}`;
  return stockKernel(state, name).kernelFunc(args);
}

/** Sizes of one product and which operand batch each output batch reads. */
interface Plan {
  m: number;
  n: number;
  k: number;
  batch: number;
  outShape: number[];
  aIndex: Int32Array;
  bIndex: Int32Array;
  /** `a` is not transposed, covers every output batch in order and `b` is shared: one call. */
  foldRows: boolean;
}

/** Where the bias value for output `(batch, row, column)` sits: `batch·sb + row·sm + column·sn`. */
interface BiasPlan {
  offset: number;
  sb: number;
  sm: number;
  sn: number;
}

function batchMatMul(args: KernelArgs) {
  const { a, b } = args.inputs as unknown as MatMulInputs;
  const { transposeA, transposeB } = args.attrs as unknown as MatMulAttrs;
  if (a.dtype !== "float32" || b.dtype !== "float32") {
    return fallback(tf.BatchMatMul, args, `dtype ${a.dtype}×${b.dtype}`);
  }
  const plan = planProduct(a.shape, b.shape, transposeA, transposeB);
  if (typeof plan === "string") return fallback(tf.BatchMatMul, args, plan);
  return runProduct(args.backend as BackendWasm, a, b, transposeA, transposeB, plan, {
    bias: null,
    activation: "linear",
  });
}

function fusedMatMul(args: KernelArgs) {
  const { a, b, bias, preluActivationWeights } = args.inputs as unknown as MatMulInputs;
  const attrs = args.attrs as unknown as MatMulAttrs;
  const { transposeA, transposeB } = attrs;
  const activation = attrs.activation as Activation;
  const name = tf._FusedMatMul;
  if (a.dtype !== "float32" || b.dtype !== "float32") {
    return fallback(name, args, `dtype ${a.dtype}×${b.dtype}`);
  }
  if (!ACTIVATIONS.has(activation)) return fallback(name, args, `activation ${activation}`);
  const plan = planProduct(a.shape, b.shape, transposeA, transposeB);
  if (typeof plan === "string") return fallback(name, args, plan);
  const backend = args.backend as BackendWasm;
  let biasPlan: BiasPlan | null = null;
  if (bias != null) {
    if (bias.dtype !== "float32") return fallback(name, args, `bias dtype ${bias.dtype}`);
    const strides = biasStrides(bias.shape, plan);
    if (strides === null) return fallback(name, args, `bias shape [${bias.shape}]`);
    biasPlan = { offset: floatOffset(backend, bias), ...strides };
  }
  let prelu: Float32Array | null = null;
  if (activation === "prelu") {
    const weights = preluActivationWeights;
    if (weights == null || weights.dtype !== "float32") {
      return fallback(name, args, "prelu without float32 weights");
    }
    if (!isTrailingShape(weights.shape, plan.outShape)) {
      return fallback(name, args, `prelu weights shape [${weights.shape}]`);
    }
    // Copied (it is small) because the output allocation below may grow and move the heap.
    prelu = backend.typedArrayFromHeap(weights).slice() as Float32Array;
  }
  return runProduct(backend, a, b, transposeA, transposeB, plan, {
    bias: biasPlan,
    activation,
    prelu,
    alpha: attrs.leakyreluAlpha || 0, // what the stock kernel passes
  });
}

const ACTIVATIONS = new Set<string>([
  "linear",
  "relu",
  "relu6",
  "elu",
  "prelu",
  "leakyrelu",
  "sigmoid",
]);

/** Works out the product's sizes and batch broadcasting, or says why it cannot. */
function planProduct(
  aShape: number[],
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
): Plan | string {
  const aRank = aShape.length, bRank = bShape.length;
  if (aRank < 2 || bRank < 2) return `rank ${aRank}×${bRank}`;
  const m = transposeA ? aShape[aRank - 1] : aShape[aRank - 2];
  const k = transposeA ? aShape[aRank - 2] : aShape[aRank - 1];
  const kB = transposeB ? bShape[bRank - 1] : bShape[bRank - 2];
  const n = transposeB ? bShape[bRank - 2] : bShape[bRank - 1];
  if (k !== kB) return `inner sizes ${k} and ${kB} differ`;
  const aBatch = aShape.slice(0, -2), bBatch = bShape.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const outBatch: number[] = [];
  for (let axis = 0; axis < rank; axis++) {
    const da = aBatch[axis - rank + aBatch.length] ?? 1;
    const db = bBatch[axis - rank + bBatch.length] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return `batch shapes [${aBatch}] and [${bBatch}]`;
    outBatch.push(da === 1 ? db : da);
  }
  const batch = outBatch.reduce((p, d) => p * d, 1);
  if (batch * m * n === 0 || k === 0) return "empty operand";
  const aIndex = broadcastIndex(aBatch, outBatch);
  const bIndex = broadcastIndex(bBatch, outBatch);
  const aCoversAll = aIndex.every((value, index) => value === index);
  const bShared = bIndex.every((value) => value === 0);
  return {
    m,
    n,
    k,
    batch,
    outShape: [...outBatch, m, n],
    aIndex,
    bIndex,
    foldRows: !transposeA && aCoversAll && bShared && batch > 1,
  };
}

/** For each flat index of `outBatch`, the flat index of the operand batch it reads. */
function broadcastIndex(shape: number[], outBatch: number[]): Int32Array {
  const total = outBatch.reduce((p, d) => p * d, 1);
  const index = new Int32Array(total);
  const pad = outBatch.length - shape.length;
  const strides: number[] = new Array(outBatch.length).fill(0);
  let stride = 1;
  for (let axis = outBatch.length - 1; axis >= pad; axis--) {
    const dim = shape[axis - pad];
    strides[axis] = dim === 1 ? 0 : stride;
    stride *= dim;
  }
  for (let flat = 0; flat < total; flat++) {
    let rest = flat, source = 0;
    for (let axis = outBatch.length - 1; axis >= 0; axis--) {
      const dim = outBatch[axis];
      source += (rest % dim) * strides[axis];
      rest = Math.floor(rest / dim);
    }
    index[flat] = source;
  }
  return index;
}

/**
 * Strides that broadcast a bias of `shape` over the `[batch, m, n]` output, or `null` for shapes
 * it cannot map exactly (batch dims that are neither all 1 nor the whole output batch).
 */
function biasStrides(shape: number[], plan: Plan): Omit<BiasPlan, "offset"> | null {
  const rank = shape.length;
  const bn = rank >= 1 ? shape[rank - 1] : 1;
  const bm = rank >= 2 ? shape[rank - 2] : 1;
  const bb = shape.slice(0, Math.max(0, rank - 2)).reduce((p, d) => p * d, 1);
  if ((bn !== 1 && bn !== plan.n) || (bm !== 1 && bm !== plan.m)) return null;
  if (bb !== 1 && bb !== plan.batch) return null;
  return { sb: bb === 1 ? 0 : bm * bn, sm: bm === 1 ? 0 : bn, sn: bn === 1 ? 0 : 1 };
}

/** Whether `weights`, without leading 1s, equals the trailing dims of `outShape` (or is a scalar). */
function isTrailingShape(weights: number[], outShape: number[]): boolean {
  const trimmed = weights.slice(weights.findIndex((d) => d !== 1));
  if (weights.every((d) => d === 1)) return true;
  if (trimmed.length > outShape.length) return false;
  const tail = outShape.slice(outShape.length - trimmed.length);
  return trimmed.every((d, i) => d === tail[i]);
}

function floatOffset(backend: BackendWasm, info: tf.TensorInfo): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset >>> 2;
}

interface Epilogue {
  bias: BiasPlan | null;
  activation: Activation;
  prelu?: Float32Array | null;
  alpha?: number;
}

function runProduct(
  backend: BackendWasm,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  plan: Plan,
  epilogue: Epilogue,
): tf.TensorInfo {
  const state = kernelState();
  const blas = state.blas!;
  const out = backend.makeOutput(plan.outShape, "float32");
  // Read the heap only now: makeOutput may have grown wasm memory and replaced the buffer.
  const heap = heapFloats(backend);
  const { m, n, k, batch } = plan;
  const aOffset = floatOffset(backend, a);
  const bOffset = floatOffset(backend, b);
  const outOffset = floatOffset(backend, out);
  const mk = m * k, kn = k * n, mn = m * n;
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  let beta = 0;
  if (epilogue.bias !== null) {
    fillBias(heap, outOffset, epilogue.bias, plan);
    beta = 1;
  }
  if (plan.foldRows) {
    blas.sgemm(
      false,
      transposeB,
      batch * m,
      n,
      k,
      1,
      heap.subarray(aOffset, aOffset + batch * mk),
      lda,
      heap.subarray(bOffset, bOffset + kn),
      ldb,
      beta,
      heap.subarray(outOffset, outOffset + batch * mn),
      n,
    );
  } else {
    for (let i = 0; i < batch; i++) {
      const aStart = aOffset + plan.aIndex[i] * mk;
      const bStart = bOffset + plan.bIndex[i] * kn;
      const outStart = outOffset + i * mn;
      blas.sgemm(
        transposeA,
        transposeB,
        m,
        n,
        k,
        1,
        heap.subarray(aStart, aStart + mk),
        lda,
        heap.subarray(bStart, bStart + kn),
        ldb,
        beta,
        heap.subarray(outStart, outStart + mn),
        n,
      );
    }
  }
  applyActivation(heap, outOffset, outOffset + batch * mn, epilogue);
  state.stats.blasCalls++;
  return out;
}

function heapFloats(backend: BackendWasm): Float32Array {
  const module = backend.wasm as unknown as { HEAPF32?: Float32Array; HEAPU8: Uint8Array };
  return module.HEAPF32 ?? new Float32Array(module.HEAPU8.buffer);
}

/** Writes the broadcast bias into the output, so sgemm can accumulate onto it (beta = 1). */
function fillBias(heap: Float32Array, outOffset: number, bias: BiasPlan, plan: Plan) {
  const { m, n, batch } = plan;
  const mn = m * n;
  const fillRow = (dst: number, src: number) => {
    if (bias.sn === 1) heap.copyWithin(dst, src, src + n);
    else heap.fill(heap[src], dst, dst + n);
  };
  // Rows that repeat are copied by doubling the filled prefix: log2(rows) copies, not rows.
  const repeat = (start: number, filled: number, total: number) => {
    while (filled < total) {
      const size = Math.min(filled, total - filled);
      heap.copyWithin(start + filled, start, start + size);
      filled += size;
    }
  };
  const batchesToFill = bias.sb === 0 ? 1 : batch;
  for (let i = 0; i < batchesToFill; i++) {
    const start = outOffset + i * mn;
    const source = bias.offset + i * bias.sb;
    if (bias.sm === 0) {
      fillRow(start, source);
      repeat(start, n, mn);
    } else {
      for (let row = 0; row < m; row++) fillRow(start + row * n, source + row * bias.sm);
    }
  }
  if (bias.sb === 0) repeat(outOffset, mn, batch * mn);
}

function applyActivation(heap: Float32Array, start: number, end: number, epilogue: Epilogue) {
  switch (epilogue.activation) {
    case "linear":
      return;
    case "relu":
      for (let i = start; i < end; i++) if (heap[i] < 0) heap[i] = 0;
      return;
    case "relu6":
      for (let i = start; i < end; i++) {
        const v = heap[i];
        heap[i] = v < 0 ? 0 : v > 6 ? 6 : v;
      }
      return;
    case "elu":
      for (let i = start; i < end; i++) {
        const v = heap[i];
        if (v < 0) heap[i] = Math.expm1(v);
      }
      return;
    case "leakyrelu": {
      const alpha = epilogue.alpha ?? 0;
      for (let i = start; i < end; i++) {
        const v = heap[i];
        if (v < 0) heap[i] = alpha * v;
      }
      return;
    }
    case "sigmoid":
      for (let i = start; i < end; i++) heap[i] = 1 / (1 + Math.exp(-heap[i]));
      return;
    case "prelu": {
      const weights = epilogue.prelu!;
      const size = weights.length;
      for (let i = start, w = 0; i < end; i++, w = w + 1 === size ? 0 : w + 1) {
        const v = heap[i];
        if (v < 0) heap[i] = weights[w] * v;
      }
      return;
    }
  }
}
