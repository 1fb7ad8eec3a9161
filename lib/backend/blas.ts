/**
 * Finds a CBLAS library (OpenBLAS, Apple Accelerate or any other `libcblas`) and opens it through
 * Deno's FFI, so matrix products can run natively on memory that JavaScript already holds (typed
 * arrays, including views on the wasm backend's heap) without copying.
 *
 * Search order: the `ANN_BLAS_LIB` environment variable (a path), then the usual install places
 * listed by {@linkcode blasSearchPaths}. Opening needs `--allow-ffi`; checking whether a file exists
 * uses `--allow-read` and the variable `--allow-env` (each is skipped quietly when not granted).
 *
 * @module
 */

/** `CblasRowMajor` from `cblas.h`. */
export const CBLAS_ROW_MAJOR = 101;
/** `CblasNoTrans` from `cblas.h`. */
export const CBLAS_NO_TRANS = 111;
/** `CblasTrans` from `cblas.h`. */
export const CBLAS_TRANS = 112;

/** Environment variable naming the CBLAS library to use, as a path. */
export const BLAS_LIB_ENV = "ANN_BLAS_LIB";

/** Which family of library was opened. */
export type BlasVendor = "OpenBLAS" | "Accelerate" | "CBLAS" | "TypeScript";

/** How the library runs in parallel: OpenBLAS reports this; others are `"unknown"`. */
export type BlasThreading = "serial" | "pthread" | "openmp" | "unknown";

/** What was opened, for logs and reports. */
export interface BlasInfo {
  /** Library family, e.g. `"OpenBLAS"`. */
  vendor: BlasVendor;
  /** Version, e.g. `"0.3.21"`, when the library says. */
  version: string | null;
  /** Serial or threaded build. */
  threading: BlasThreading;
  /** CPU kernel set chosen by OpenBLAS at load time, e.g. `"Haswell"`. */
  core: string | null;
  /** Path the library was opened from. */
  path: string;
  /** Threads a call may use, when the library says (`null` when it does not). */
  threads: number | null;
  /** Why this core: what OpenBLAS picked and whether it was reloaded with another (see `lib/backend/cpu.ts`). */
  coreReason?: string;
  /** The core OpenBLAS picked on its own, before any reload (what other programs get). */
  stockCore?: string;
}

/** An opened CBLAS library. */
export interface Blas {
  /** A snapshot of what was opened and how many threads it uses now. */
  readonly info: BlasInfo;
  /**
   * Row-major single-precision matrix product `c = alpha·op(a)·op(b) + beta·c` (`cblas_sgemm`),
   * computed in place on the given views without copying. `op(x)` is `x` or its transpose; `op(a)`
   * is `m×k`, `op(b)` is `k×n`, `c` is `m×n`. The views' lengths are checked against the sizes, so
   * a wrong leading dimension throws a `RangeError` instead of writing past the view.
   */
  sgemm(
    transposeA: boolean,
    transposeB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /**
   * `y = alpha·x + y` over `n` floats (`cblas_saxpy`, unit strides), in place on the views.
   */
  saxpy(n: number, alpha: number, x: Float32Array, y: Float32Array): void;
  /**
   * `y = alpha·x + beta·y` over `n` floats in one pass (OpenBLAS's `cblas_saxpby`; two passes
   * elsewhere).
   */
  saxpby(n: number, alpha: number, x: Float32Array, beta: number, y: Float32Array): void;
  /**
   * Row-major `y = alpha·op(a)·x + beta·y` (`cblas_sgemv`, unit strides), `a` being `m×n` with
   * leading dimension `lda`; with `transposeA`, `y` has `n` entries (the column sums of `a` for
   * `x` all ones), else `m`.
   */
  sgemv(
    transposeA: boolean,
    m: number,
    n: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    x: Float32Array,
    beta: number,
    y: Float32Array,
  ): void;
  /** `x = alpha·x` over `n` floats (`cblas_sscal`, unit stride), in place. */
  sscal(n: number, alpha: number, x: Float32Array): void;
  /**
   * Sets how many threads later calls may use (OpenBLAS only; a no-op elsewhere and for serial
   * builds).
   *
   * @returns The thread count now in force, or `null` when the library does not say.
   */
  setThreads(threads: number): number | null;
  /** Closes the library. Nothing may call {@linkcode Blas.sgemm} afterwards. */
  close(): void;
}

/** Options of {@linkcode loadBlas}. */
export interface LoadBlasOptions {
  /**
   * Library to open; when given, nothing else is tried. Defaults to `ANN_BLAS_LIB`, then the
   * {@linkcode blasSearchPaths}.
   *
   * @example "/usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas.so.0"
   */
  path?: string;
  /**
   * Places to try, in order, when neither `path` nor `ANN_BLAS_LIB` is set.
   *
   * @example ["/opt/lib/libopenblas.so.0"]
   */
  searchPaths?: string[];
  /**
   * Threads per call for OpenBLAS (`openblas_set_num_threads`); unset keeps the library's own
   * default (which honours `OPENBLAS_NUM_THREADS`).
   *
   * @example 1
   */
  threads?: number;
  /**
   * OpenBLAS kernel set to load (`OPENBLAS_CORETYPE`, read by the library as it loads), e.g.
   * `"Haswell"`; unset keeps OpenBLAS's own choice. Only takes effect when this process has not
   * opened the library already.
   *
   * @example "SkylakeX"
   */
  coreType?: string;
}

/** Thrown by {@linkcode loadBlas} when no candidate could be opened; lists what was tried. */
export class BlasLoadError extends Error {
  /** Each path tried and why it was not used. */
  readonly tried: { path: string; reason: string }[];

  /**
   * Creates the error.
   *
   * @param message Summary of the failure.
   * @param tried Each path tried and why it was not used.
   */
  constructor(message: string, tried: { path: string; reason: string }[]) {
    super(message);
    this.name = "BlasLoadError";
    this.tried = tried;
  }
}

const SGEMM_PARAMETERS = [
  "i32", // layout
  "i32", // transA
  "i32", // transB
  "i32", // m
  "i32", // n
  "i32", // k
  "f32", // alpha
  "buffer", // a
  "i32", // lda
  "buffer", // b
  "i32", // ldb
  "f32", // beta
  "buffer", // c
  "i32", // ldc
] as const;

const SYMBOLS = {
  cblas_sgemm: { parameters: SGEMM_PARAMETERS, result: "void" },
  cblas_saxpy: {
    parameters: ["i32", "f32", "buffer", "i32", "buffer", "i32"],
    result: "void",
    optional: true,
  },
  cblas_sgemv: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
    optional: true,
  },
  cblas_saxpby: {
    parameters: ["i32", "f32", "buffer", "i32", "f32", "buffer", "i32"],
    result: "void",
    optional: true,
  },
  cblas_sscal: { parameters: ["i32", "f32", "buffer", "i32"], result: "void", optional: true },
  openblas_get_config: { parameters: [], result: "pointer", optional: true },
  openblas_get_corename: { parameters: [], result: "pointer", optional: true },
  openblas_get_parallel: { parameters: [], result: "i32", optional: true },
  openblas_get_num_threads: { parameters: [], result: "i32", optional: true },
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
} as const;

const LINUX_LIB_DIRS = [
  "/usr/lib/x86_64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/usr/lib64",
  "/usr/lib",
  "/usr/local/lib",
];

/**
 * The places {@linkcode loadBlas} tries when no path is given, best first for the platform.
 *
 * On Linux the Debian/Ubuntu serial OpenBLAS comes first: for this project's small matrices
 * (at most 64×784 by 784×128) it beat the threaded build on the shared two-core machine we
 * measured (numbers in `lib/backend.ts`), then the threaded build, then the
 * generic `libopenblas.so.0` / `libcblas.so.3` names in the usual library folders. On macOS
 * Homebrew's OpenBLAS comes before Apple's Accelerate.
 *
 * @param options `os` defaults to the running system (`Deno.build.os`).
 * @returns Absolute paths, without checking that they exist.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const linux = blasSearchPaths({ os: "linux" });
 * assert.equal(linux[0], "/usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas.so.0");
 * assert.ok(blasSearchPaths({ os: "darwin" }).at(-1)!.endsWith("Accelerate"));
 * ```
 */
export function blasSearchPaths(options: { os?: typeof Deno.build.os } = {}): string[] {
  const { os = Deno.build.os } = options;
  if (os === "darwin") {
    return [
      "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
      "/usr/local/opt/openblas/lib/libopenblas.dylib",
      "/usr/local/lib/libopenblas.dylib",
      "/System/Library/Frameworks/Accelerate.framework/Accelerate",
    ];
  }
  if (os === "windows") return ["libopenblas.dll", "openblas.dll"];
  const paths: string[] = [];
  for (const variant of ["openblas-serial", "openblas-pthread", "openblas-openmp"]) {
    for (const dir of LINUX_LIB_DIRS.slice(0, 2)) paths.push(`${dir}/${variant}/libopenblas.so.0`);
  }
  for (const name of ["libopenblas.so.0", "libcblas.so.3"]) {
    for (const dir of LINUX_LIB_DIRS) paths.push(`${dir}/${name}`);
  }
  paths.push("/opt/homebrew/opt/openblas/lib/libopenblas.so.0");
  return paths;
}

/**
 * Opens a CBLAS library: `options.path`, else `ANN_BLAS_LIB`, else the first of
 * {@linkcode blasSearchPaths} that opens and exports `cblas_sgemm`.
 *
 * @param options Where to look and how many threads to use.
 * @returns The opened library.
 * @throws {BlasLoadError} When nothing could be opened; the message names every path tried and why
 * it failed (missing file, no `cblas_sgemm`, FFI not permitted).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => loadBlas({ path: "/nowhere/libopenblas.so.0" }), /nowhere.*not found/);
 * ```
 */
export function loadBlas(options: LoadBlasOptions = {}): Blas {
  const fromEnv = readEnv(BLAS_LIB_ENV);
  const explicit = options.path ?? fromEnv;
  const candidates = explicit !== undefined && explicit !== ""
    ? [explicit]
    : options.searchPaths ?? blasSearchPaths();
  const tried: { path: string; reason: string }[] = [];
  for (const path of candidates) {
    const missing = isMissing(path);
    if (missing) {
      tried.push({ path, reason: "not found" });
      continue;
    }
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = withCoreType(options.coreType, () => Deno.dlopen(path, SYMBOLS));
    } catch (error) {
      tried.push({ path, reason: describeOpenError(error) });
      if (
        error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ) {
        break;
      }
      continue;
    }
    const blas = wrapLibrary(lib, path);
    if (options.threads !== undefined) blas.setThreads(options.threads);
    return blas;
  }
  const source = options.path !== undefined
    ? "the path given"
    : fromEnv
    ? `${BLAS_LIB_ENV}`
    : "the usual places";
  const list = tried.map(({ path, reason }) => `${path} (${reason})`).join("; ");
  throw new BlasLoadError(`Cannot open a CBLAS library from ${source}: tried ${list}`, tried);
}

/**
 * One line saying which library is in use, e.g.
 * `OpenBLAS 0.3.21 (serial, Haswell) at /usr/lib/…/libopenblas.so.0; 1 thread`.
 *
 * @param info What {@linkcode Blas.info} returned.
 * @returns A human-readable summary.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const line = formatBlasInfo({
 *   vendor: "OpenBLAS", version: "0.3.21", threading: "pthread", core: "Haswell",
 *   path: "/x/libopenblas.so.0", threads: 2,
 * });
 * assert.equal(line, "OpenBLAS 0.3.21 (pthread, Haswell) at /x/libopenblas.so.0; 2 threads");
 * ```
 */
export function formatBlasInfo(info: BlasInfo): string {
  const name = info.version === null ? info.vendor : `${info.vendor} ${info.version}`;
  const details = [info.threading === "unknown" ? null : info.threading, info.core]
    .filter((part) => part !== null);
  const detail = details.length > 0 ? ` (${details.join(", ")})` : "";
  const threads = info.threads === null
    ? "threads set by the library"
    : `${info.threads} thread${info.threads === 1 ? "" : "s"}`;
  return `${name}${detail} at ${info.path}; ${threads}`;
}

/** Runs `open` with `OPENBLAS_CORETYPE` set to `core` (when given), then restores the variable. */
function withCoreType<T>(core: string | undefined, open: () => T): T {
  if (core === undefined) return open();
  const saved = readEnv(OPENBLAS_CORETYPE);
  Deno.env.set(OPENBLAS_CORETYPE, core);
  try {
    return open();
  } finally {
    if (saved === undefined) Deno.env.delete(OPENBLAS_CORETYPE);
    else Deno.env.set(OPENBLAS_CORETYPE, saved);
  }
}

const OPENBLAS_CORETYPE = "OPENBLAS_CORETYPE";

function wrapLibrary(lib: Deno.DynamicLibrary<typeof SYMBOLS>, path: string): Blas {
  const symbols = lib.symbols;
  const sgemmSymbol = symbols.cblas_sgemm;
  const config = cString(symbols.openblas_get_config?.() ?? null);
  const core = cString(symbols.openblas_get_corename?.() ?? null);
  const vendor: BlasVendor = config?.startsWith("OpenBLAS")
    ? "OpenBLAS"
    : path.includes("Accelerate")
    ? "Accelerate"
    : "CBLAS";
  const version = config?.match(/OpenBLAS\s+(\d+(?:\.\d+)*)/)?.[1] ?? null;
  const parallel = symbols.openblas_get_parallel?.();
  const threading: BlasThreading = parallel === 0
    ? "serial"
    : parallel === 1
    ? "pthread"
    : parallel === 2
    ? "openmp"
    : "unknown";
  let closed = false;
  const threadCount = () => symbols.openblas_get_num_threads?.() ?? null;
  return {
    get info(): BlasInfo {
      return { vendor, version, threading, core, path, threads: closed ? null : threadCount() };
    },
    sgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
      if (closed) throw new TypeError(`Cannot call sgemm: the library at ${path} is closed`);
      checkOperand("a", a, transposeA ? k : m, transposeA ? m : k, lda);
      checkOperand("b", b, transposeB ? n : k, transposeB ? k : n, ldb);
      checkOperand("c", c, m, n, ldc);
      sgemmSymbol(
        CBLAS_ROW_MAJOR,
        transposeA ? CBLAS_TRANS : CBLAS_NO_TRANS,
        transposeB ? CBLAS_TRANS : CBLAS_NO_TRANS,
        m,
        n,
        k,
        alpha,
        a,
        lda,
        b,
        ldb,
        beta,
        c,
        ldc,
      );
    },
    saxpy(n, alpha, x, y) {
      if (x.length < n || y.length < n) {
        throw new RangeError(
          `Cannot run saxpy "${path}": the shorter view is ${
            Math.min(x.length, y.length)
          } floats, expected at least ${n}`,
        );
      }
      if (symbols.cblas_saxpy) symbols.cblas_saxpy(n, alpha, x, 1, y, 1);
      else for (let i = 0; i < n; i++) y[i] += alpha * x[i];
    },
    saxpby(n, alpha, x, beta, y) {
      if (x.length < n || y.length < n) {
        throw new RangeError(
          `Cannot run saxpby "${path}": the shorter view is ${
            Math.min(x.length, y.length)
          } floats, expected at least ${n}`,
        );
      }
      if (symbols.cblas_saxpby) symbols.cblas_saxpby(n, alpha, x, 1, beta, y, 1);
      else for (let i = 0; i < n; i++) y[i] = alpha * x[i] + beta * y[i];
    },
    sgemv(transposeA, m, n, alpha, a, lda, x, beta, y) {
      checkOperand("a", a, m, n, lda);
      const [inner, outer] = transposeA ? [m, n] : [n, m];
      if (x.length < inner || y.length < outer) {
        throw new RangeError(
          `Cannot run sgemv "${path}": views x and y are ${x.length} and ${y.length} floats, expected at least ${inner} and ${outer}`,
        );
      }
      if (symbols.cblas_sgemv) {
        const op = transposeA ? CBLAS_TRANS : CBLAS_NO_TRANS;
        symbols.cblas_sgemv(CBLAS_ROW_MAJOR, op, m, n, alpha, a, lda, x, 1, beta, y, 1);
        return;
      }
      for (let o = 0; o < outer; o++) {
        let sum = 0;
        for (let i = 0; i < inner; i++) {
          sum += (transposeA ? a[i * lda + o] : a[o * lda + i]) * x[i];
        }
        y[o] = alpha * sum + beta * y[o];
      }
    },
    sscal(n, alpha, x) {
      if (x.length < n) {
        throw new RangeError(
          `Cannot run sscal "${path}": the view is ${x.length} floats, expected at least ${n}`,
        );
      }
      if (symbols.cblas_sscal) symbols.cblas_sscal(n, alpha, x, 1);
      else for (let i = 0; i < n; i++) x[i] *= alpha;
    },
    setThreads(threads) {
      if (!Number.isInteger(threads) || threads < 1) {
        throw new RangeError(
          `Cannot set BLAS threads "${path}": threads is ${threads}, expected a positive integer`,
        );
      }
      symbols.openblas_set_num_threads?.(threads);
      return threadCount();
    },
    close() {
      if (closed) return;
      closed = true;
      lib.close();
    },
  };
}

/** Throws unless `view` holds a `rows×cols` row-major matrix with leading dimension `ld`. */
function checkOperand(name: string, view: Float32Array, rows: number, cols: number, ld: number) {
  if (rows < 0 || cols < 0 || ld < Math.max(1, cols)) {
    throw new RangeError(
      `Cannot run sgemm: matrix ${name} is ${rows}×${cols} with leading dimension ${ld}, ` +
        `expected non-negative sizes and a leading dimension of at least ${Math.max(1, cols)}`,
    );
  }
  const needed = rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
  if (view.length < needed) {
    throw new RangeError(
      `Cannot run sgemm: the view of matrix ${name} is ${view.length} floats, expected at least ` +
        `${needed} (${rows}×${cols}, leading dimension ${ld})`,
    );
  }
}

function cString(pointer: Deno.PointerValue): string | null {
  return pointer === null ? null : Deno.UnsafePointerView.getCString(pointer);
}

/** True only when the file is known not to exist (no read permission counts as unknown). */
function isMissing(path: string): boolean {
  if (!path.includes("/")) return false; // a bare name is resolved by the dynamic loader
  try {
    Deno.statSync(path);
    return false;
  } catch (error) {
    return error instanceof Deno.errors.NotFound;
  }
}

function describeOpenError(error: unknown): string {
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    return "FFI not permitted: run with --allow-ffi";
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/cblas_sgemm/.test(message)) return "no cblas_sgemm symbol";
  // dlopen repeats "Could not open library:"; keep the loader's own reason.
  return message.replace(/^(Could not open library: )+/, "").trim();
}

/** Reads an environment variable, or `undefined` when it is unset or not permitted. */
function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
