/**
 * Opens OpenBLAS with kernels that fit the CPU: load it as it comes, and when it picked kernels
 * for a lower instruction level than the CPU has (see {@linkcode chooseCore}), close it and load it
 * again with `OPENBLAS_CORETYPE` set. Before the new kernels are used their products are compared
 * with the stock ones on this network's shapes; if they disagree the stock kernels are loaded back.
 *
 * Works with Deno's FFI because OpenBLAS reads `OPENBLAS_CORETYPE` in its load-time constructor,
 * i.e. inside `Deno.dlopen`, and `Deno.env.set` changes this process's environment; closing the
 * library unloads it, so the next `dlopen` runs the constructor again.
 *
 * @module
 */
import { type Blas, type BlasInfo, loadBlas, type LoadBlasOptions } from "./blas.ts";
import {
  BLAS_CORETYPE_ENV,
  chooseCore,
  type CpuFeatures,
  cpuFeatures,
  OPENBLAS_CORETYPE_ENV,
} from "./cpu.ts";
import { createRng } from "../util/random.ts";

/** One product `op(a)·op(b)`: sizes and transposes, as `Blas.sgemm` takes them. */
export interface ProductShape {
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
}

/**
 * The products training this network runs at batch 64: forward `x·W`, weight gradients `xᵀ·δ`,
 * input gradients `δ·Wᵀ` of the 784-128-64-10 layers, and the wide first layer of an 8-model grid
 * (`x·Wᵀ` and `δᵀ·x` with 8·128 units).
 */
export const NETWORK_PRODUCTS: readonly ProductShape[] = [
  { m: 64, n: 128, k: 784, transposeA: false, transposeB: false },
  { m: 784, n: 128, k: 64, transposeA: true, transposeB: false },
  { m: 64, n: 784, k: 128, transposeA: false, transposeB: true },
  { m: 64, n: 64, k: 128, transposeA: false, transposeB: false },
  { m: 128, n: 64, k: 64, transposeA: true, transposeB: false },
  { m: 64, n: 10, k: 64, transposeA: false, transposeB: false },
  { m: 64, n: 1024, k: 784, transposeA: false, transposeB: true },
  { m: 1024, n: 784, k: 64, transposeA: true, transposeB: false },
];

/** Largest `|fast − stock|` allowed, relative to `Σ|a||b|` of that output (float32 rounding). */
export const AGREEMENT_TOLERANCE = 1e-5;

/** Inputs and the stock kernels' outputs of one product, to compare other kernels with. */
export interface ProductCase {
  shape: ProductShape;
  a: Float32Array;
  b: Float32Array;
  /** The product. */
  c: Float32Array;
  /** `|a|·|b|`: the scale of each output's rounding error. */
  scale: Float32Array;
}

/**
 * Runs each shape on seeded inputs (values in ±1, a quarter of them zero like ReLU outputs).
 *
 * @param blas The library to compute with.
 * @param shapes Products to run. Default {@linkcode NETWORK_PRODUCTS}.
 * @returns Inputs and outputs, for {@linkcode productDisagreement}.
 */
export function productCases(
  blas: Blas,
  shapes: readonly ProductShape[] = NETWORK_PRODUCTS,
): ProductCase[] {
  const rng = createRng(2026);
  const random = (size: number) =>
    Float32Array.from({ length: size }, () => (rng() < 0.25 ? 0 : 2 * rng() - 1));
  return shapes.map((shape) => {
    const a = random(shape.m * shape.k);
    const b = random(shape.k * shape.n);
    return {
      shape,
      a,
      b,
      c: multiply(blas, shape, a, b),
      scale: multiply(blas, shape, a.map(Math.abs), b.map(Math.abs)),
    };
  });
}

/**
 * How far another library's products are from the reference cases, as the worst
 * `|c − reference| / (|a|·|b|)` over every output (`0` when equal, `Infinity` for NaN).
 *
 * @param blas The library to check.
 * @param cases From {@linkcode productCases} on the stock kernels.
 * @returns The worst relative difference.
 */
export function productDisagreement(blas: Blas, cases: readonly ProductCase[]): number {
  let worst = 0;
  for (const { shape, a, b, c, scale } of cases) {
    const out = multiply(blas, shape, a, b);
    for (let i = 0; i < out.length; i++) {
      const difference = Math.abs(out[i] - c[i]) / Math.max(scale[i], 1e-30);
      if (!(difference <= worst)) worst = Number.isNaN(difference) ? Infinity : difference;
    }
  }
  return worst;
}

function multiply(blas: Blas, shape: ProductShape, a: Float32Array, b: Float32Array) {
  const { m, n, k, transposeA, transposeB } = shape;
  const c = new Float32Array(m * n);
  blas.sgemm(
    transposeA,
    transposeB,
    m,
    n,
    k,
    1,
    a,
    transposeA ? m : k,
    b,
    transposeB ? k : n,
    0,
    c,
    n,
  );
  return c;
}

/** Options of {@linkcode loadFittingBlas}: those of `loadBlas`, plus the CPU to fit. */
export interface LoadFittingBlasOptions extends Omit<LoadBlasOptions, "coreType"> {
  /** The CPU's flags; default read from `/proc/cpuinfo`. */
  cpu?: CpuFeatures;
  /** Core to use whatever the CPU; default `ANN_BLAS_CORETYPE`. */
  coreType?: string;
  /**
   * Load first with this core, as if OpenBLAS had picked it (tests use it to play a machine
   * where OpenBLAS falls back to `"Prescott"`). Default: OpenBLAS's own pick.
   *
   * @example "Prescott"
   */
  startCore?: string;
  /** Largest disagreement accepted. Default {@linkcode AGREEMENT_TOLERANCE}. */
  tolerance?: number;
}

/**
 * Opens a CBLAS library (like `loadBlas`) and, for OpenBLAS, makes sure its kernels fit the CPU:
 * `ANN_BLAS_CORETYPE` (or the `coreType` option) wins; else a core below the CPU's instruction
 * level, OpenBLAS's own generic pick or one set in `OPENBLAS_CORETYPE`, is replaced by the matching
 * one, provided its products agree with the first one's; a preset core that fits is left alone.
 *
 * @param options Library path, threads, CPU, forced core.
 * @returns The opened library; `info.coreReason` says which core and why.
 * @throws {BlasLoadError} When no library opens (see `loadBlas`).
 */
export function loadFittingBlas(options: LoadFittingBlasOptions = {}): Blas {
  const { cpu, coreType, startCore, tolerance = AGREEMENT_TOLERANCE, ...loadOptions } = options;
  const override = coreType ?? readEnv(BLAS_CORETYPE_ENV);
  const preset = startCore === undefined ? readEnv(OPENBLAS_CORETYPE_ENV) : undefined;
  const stock = loadBlas({ ...loadOptions, coreType: startCore });
  const reported = stock.info.core;
  if (stock.info.vendor !== "OpenBLAS" || reported === null) return stock;
  const presetOnly = (override === undefined || override === "") && preset !== undefined &&
    preset !== "";
  const choice = chooseCore(reported, cpu ?? cpuFeatures(), override);
  if (presetOnly) {
    // A preset core that fits the CPU stays; an older one (machines set Haswell everywhere to
    // avoid Prescott) is replaced like OpenBLAS's own generic pick. ANN_BLAS_CORETYPE keeps any.
    if (choice.core === null) {
      return withReason(
        stock,
        `${OPENBLAS_CORETYPE_ENV}=${preset} set in the environment`,
        reported,
      );
    }
    choice.reason = choice.reason.replace(/^OpenBLAS chose /, `${OPENBLAS_CORETYPE_ENV}=`) +
      ` (set ${BLAS_CORETYPE_ENV} to keep it)`;
  }
  if (choice.core === null || choice.core.toLowerCase() === reported.toLowerCase()) {
    return withReason(stock, choice.reason, reported);
  }
  const cases = productCases(stock);
  const path = stock.info.path;
  stock.close();
  const fitted = loadBlas({ ...loadOptions, path, coreType: choice.core });
  const got = fitted.info.core ?? "?";
  if (got.toLowerCase() !== choice.core.toLowerCase()) {
    return withReason(
      fitted,
      `${choice.reason}; asked for ${choice.core}, but OpenBLAS loaded ${got}`,
      reported,
    );
  }
  const disagreement = productDisagreement(fitted, cases);
  if (disagreement <= tolerance) {
    return withReason(
      fitted,
      `${choice.reason}: loaded ${got}, its products agree with ${reported}'s`,
      reported,
    );
  }
  fitted.close();
  const back = loadBlas({ ...loadOptions, path, coreType: reported });
  return withReason(
    back,
    `${choice.reason}; ${got}'s products differ from ${reported}'s by ${
      disagreement.toExponential(1)
    } (expected at most ${tolerance}), so ${reported} stays`,
    reported,
  );
}

/** The same library, its `info` carrying why this core. */
function withReason(blas: Blas, coreReason: string, stockCore: string): Blas {
  return {
    get info(): BlasInfo {
      return { ...blas.info, coreReason, stockCore };
    },
    sgemm: blas.sgemm,
    saxpy: blas.saxpy,
    saxpby: blas.saxpby,
    sgemv: blas.sgemv,
    sscal: blas.sscal,
    setThreads: blas.setThreads,
    close: blas.close,
  };
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
