/**
 * Picks the fastest tfjs backend that works on this machine and says why:
 *
 * - `"wasm-blas"`: the wasm backend with its matrix products done by a native CBLAS (OpenBLAS or
 *   Accelerate) through Deno FFI, zero-copy on the wasm heap (see `lib/blas_kernels.ts`);
 * - `"wasm"`: the stock wasm backend (XNNPACK), when no CBLAS can be opened or FFI is not allowed;
 * - `"cpu"`: tfjs's plain JavaScript backend, when wasm cannot start.
 *
 * `ANN_BACKEND=wasm-blas|wasm|cpu` forces a choice (an error if it cannot be had), `ANN_BLAS_LIB`
 * names the library, `ANN_BLAS_THREADS` its thread count and `ANN_BLAS_CORETYPE` its OpenBLAS
 * kernels. Without that, OpenBLAS's own pick is checked against the CPU's instruction sets and
 * replaced when it is a generic fallback (see `lib/backend/fit_core.ts`); the summary line says
 * which core runs and why.
 *
 * Why serial OpenBLAS with one thread is the default: measured on the project's shared 2-core
 * machine (OpenBLAS 0.3.21, SkylakeX kernels), µs per `tf.matMul` call including tfjs's own
 * overhead, median of 200, for this network's products at batch 64
 * (`deno run -A bench/blas_matmul.ts --lib PATH --threads N`):
 *
 * | product (batch 64)               | stock wasm | serial | pthread ×1 | pthread ×2 |
 * | -------------------------------- | ---------: | -----: | ---------: | ---------: |
 * | forward 64×784 · 784×128         |        414 |    135 |        125 |        771 |
 * | weight grad 784×64 · 64×128 (xᵀ) |      5,560 |    113 |        108 |        422 |
 * | input grad 64×128 · 128×784 (Wᵀ) |      5,177 |    117 |        117 |        158 |
 * | forward 64×128 · 128×64          |         33 |     11 |         12 |         14 |
 * | weight grad 128×64 · 64×64       |        844 |     13 |         11 |         15 |
 * | forward 64×64 · 64×10            |          9 |      8 |          5 |          8 |
 * | weight grad 64×64 · 64×10        |         40 |      5 |          7 |          6 |
 *
 * One training step of the 784-128-64-10 dense model (relu, relu, linear + logSoftmax, NLL,
 * `tf.train.momentum(0.01, 0.5)`, batch 64): stock wasm 9–12 ms, wasm-blas 1.7–2.8 ms with the
 * serial build (1.6–5.4 ms threaded ×1, 3.9 ms ×2); PyTorch 1.13 on the same machine, 1 thread:
 * 1.0 ms. (Since then `train()` runs dense models on the host with this library directly,
 * `lib/train/host_step.ts`: about 0.42 ms of CPU a step with the Cooperlake kernels.) Serial and threaded ×1 are within the noise of a shared machine; two threads lose, as
 * the matrices are too small to split and the other core is busy. The serial build also starts no
 * thread pool, so it is first in the search order.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { type Blas, BLAS_LIB_ENV, type BlasInfo, formatBlasInfo } from "./blas.ts";
import { BLAS_CORETYPE_ENV } from "./cpu.ts";
import { loadFittingBlas } from "./fit_core.ts";
import { installBlasKernels, uninstallBlasKernels } from "./kernels.ts";

/** The backends {@linkcode setupBackend} can choose, fastest first. */
export const BACKEND_NAMES = ["wasm-blas", "wasm", "cpu"] as const;

/** One of {@linkcode BACKEND_NAMES}. */
export type BackendName = typeof BACKEND_NAMES[number];

/** Environment variable that forces a backend. */
export const BACKEND_ENV = "ANN_BACKEND";

/** Environment variable giving the BLAS thread count. */
export const BLAS_THREADS_ENV = "ANN_BLAS_THREADS";

/** BLAS threads used when neither the option nor `ANN_BLAS_THREADS` says otherwise. */
export const DEFAULT_BLAS_THREADS = 1;

/** What {@linkcode setupBackend} chose and why. */
export interface BackendInfo {
  /** The choice, e.g. `"wasm-blas"`. */
  name: BackendName;
  /** The tfjs backend underneath (`tf.getBackend()`): `"wasm"` or `"cpu"`. */
  tfBackend: "wasm" | "cpu";
  /** Whether the choice was forced by the `backend` option or `ANN_BACKEND`. */
  forced: boolean;
  /** Why this backend, e.g. `"fastest available"` or why a faster one was not used. */
  reason: string;
  /** The BLAS library behind `"wasm-blas"`, else `null`. */
  blas: BlasInfo | null;
  /** One line for logs, e.g. `wasm-blas: OpenBLAS 0.3.21 (serial) at /usr/…; 1 thread`. */
  summary: string;
}

/** Options of {@linkcode setupBackend}. */
export interface SetupBackendOptions {
  /**
   * Backend to use; `"auto"` (the default, unless `ANN_BACKEND` is set) picks the fastest that
   * works. This option wins over `ANN_BACKEND`.
   *
   * @example "wasm"
   */
  backend?: BackendName | "auto";
  /**
   * CBLAS library path; defaults to `ANN_BLAS_LIB`, then the usual places.
   *
   * @example "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"
   */
  blasPath?: string;
  /**
   * BLAS threads; defaults to `ANN_BLAS_THREADS`, else {@linkcode DEFAULT_BLAS_THREADS}.
   *
   * @example 2
   */
  threads?: number;
  /**
   * Print the summary line with `console.log` (default `true`).
   *
   * @example false
   */
  log?: boolean;
}

const STATE_KEY = Symbol.for("ann.backend.state");

interface BackendState {
  info: BackendInfo | null;
  /** The library of the last wasm-blas choice. */
  current: Blas | null;
  /** What {@linkcode threadedBlas} opened (`null`: none could be; unset: not tried yet). */
  threaded?: Blas | null;
  libraries: Map<string, Blas>;
}

/**
 * Chooses and activates a backend: `"wasm-blas"` if a CBLAS opens, else `"wasm"`, else `"cpu"`,
 * unless the `backend` option or `ANN_BACKEND` forces one. Safe to call again (notebook cells are
 * re-run): an already open library is reused, and choosing `"wasm"` or `"cpu"` after
 * `"wasm-blas"` puts the stock wasm kernels back, which is how benchmarks compare the two.
 *
 * @param options Which backend, library and thread count; whether to print.
 * @returns What was chosen and why.
 * @throws {RangeError} When the backend name (option or `ANN_BACKEND`) is unknown, or the thread
 * count is not a positive integer.
 * @throws {Error} When a forced backend cannot be set up; the message says why.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs";
 * const info = await setupBackend({ log: false });
 * assert.ok(BACKEND_NAMES.includes(info.name));
 * assert.equal(tf.getBackend(), info.tfBackend);
 * assert.equal(currentBackendInfo(), info);
 * const plain = await setupBackend({ backend: "wasm", log: false });
 * assert.equal(plain.name, "wasm");
 * assert.equal(plain.blas, null);
 * ```
 */
export async function setupBackend(options: SetupBackendOptions = {}): Promise<BackendInfo> {
  const { requested, forcedBy } = requestedBackend(options.backend);
  const threads = requestedThreads(options.threads);
  const state = backendState();
  let info: BackendInfo;
  if (requested === "cpu") {
    uninstallBlasKernels();
    await activate("cpu", forcedBy);
    info = makeInfo("cpu", forcedBy, `forced by ${forcedBy}`, null);
  } else {
    const wasmError = await tryActivateWasm();
    if (wasmError !== null) {
      if (forcedBy !== null) {
        throw new Error(`Cannot use backend "${requested}" (${forcedBy}): ${wasmError}`);
      }
      uninstallBlasKernels();
      await activate("cpu", null);
      info = makeInfo("cpu", null, `wasm backend unavailable: ${wasmError}`, null);
    } else if (requested === "wasm") {
      uninstallBlasKernels();
      info = makeInfo("wasm", forcedBy, `forced by ${forcedBy}`, null);
    } else {
      let blas: Blas | null = null;
      let blasError = "";
      try {
        blas = openLibrary(state, options.blasPath, threads);
      } catch (error) {
        blasError = error instanceof Error ? error.message : String(error);
      }
      if (blas === null) {
        if (forcedBy !== null) {
          throw new Error(`Cannot use backend "wasm-blas" (${forcedBy}): ${blasError}`);
        }
        uninstallBlasKernels();
        info = makeInfo("wasm", null, `no BLAS: ${blasError}`, null);
      } else {
        installBlasKernels(blas);
        state.current = blas;
        const reason = forcedBy === null ? "fastest available" : `forced by ${forcedBy}`;
        info = makeInfo("wasm-blas", forcedBy, reason, blas.info);
      }
    }
  }
  state.info = info;
  if (options.log ?? true) console.log(`backend ${info.summary}`);
  return info;
}

/**
 * The BLAS library behind the current `"wasm-blas"` backend, for code that calls it directly on
 * its own typed arrays (the grid trainer), or `null` on any other backend.
 *
 * @returns The open library, or `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * await setupBackend({ backend: "wasm", log: false });
 * assert.equal(currentBlas(), null);
 * ```
 */
export function currentBlas(): Blas | null {
  const state = backendState();
  return state.info?.name === "wasm-blas" ? state.current : null;
}

/** Threaded OpenBLAS builds tried by {@linkcode threadedBlas}, Debian's first. */
export const THREADED_BLAS_PATHS: readonly string[] = [
  "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0",
];

/**
 * A multi-threaded BLAS for products large enough to split over cores (the grid's wide layers):
 * the current library if it is threaded, else the first of {@linkcode THREADED_BLAS_PATHS} that
 * opens (with kernels fitted to the CPU like the main one), else `null`. Opened once per process;
 * the caller sets its thread count.
 *
 * @returns A threaded library, or `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const blas = threadedBlas();
 * assert.ok(blas === null || blas.info.threading !== "serial");
 * ```
 */
export function threadedBlas(): Blas | null {
  const state = backendState();
  const current = state.current;
  if (current !== null && current.info.threading !== "serial") return current;
  if (state.threaded !== undefined) return state.threaded;
  state.threaded = null;
  for (const path of THREADED_BLAS_PATHS) {
    try {
      const blas = loadFittingBlas({ path });
      if (blas.info.threading !== "serial") {
        state.threaded = blas;
        break;
      }
      blas.close();
    } catch {
      // not installed here, or FFI not permitted: try the next
    }
  }
  return state.threaded;
}

/**
 * What the last {@linkcode setupBackend} chose, or `null` before the first call.
 *
 * @returns The current backend info.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = currentBackendInfo(); // null until setupBackend() has run
 * assert.ok(info === null || BACKEND_NAMES.includes(info.name));
 * ```
 */
export function currentBackendInfo(): BackendInfo | null {
  return backendState().info;
}

function backendState(): BackendState {
  const holder = globalThis as unknown as Record<symbol, BackendState | undefined>;
  holder[STATE_KEY] ??= { info: null, current: null, libraries: new Map() };
  return holder[STATE_KEY];
}

function requestedBackend(
  option: SetupBackendOptions["backend"],
): { requested: BackendName | "auto"; forcedBy: string | null } {
  const fromEnv = readEnv(BACKEND_ENV);
  const [value, source] = option !== undefined
    ? [option, "the backend option"]
    : fromEnv !== undefined && fromEnv !== ""
    ? [fromEnv.trim(), `${BACKEND_ENV}=${fromEnv.trim()}`]
    : ["auto", null];
  if (value === "auto") return { requested: "auto", forcedBy: null };
  if (!(BACKEND_NAMES as readonly string[]).includes(value)) {
    throw new RangeError(
      `Cannot set up the backend: ${source} is ${JSON.stringify(value)}, expected one of ` +
        `${BACKEND_NAMES.join(", ")}${source === "the backend option" ? " or auto" : ""}`,
    );
  }
  return { requested: value as BackendName, forcedBy: source };
}

function requestedThreads(option: number | undefined): number {
  if (option !== undefined) {
    if (!Number.isInteger(option) || option < 1) {
      throw new RangeError(
        `Cannot set up the backend: option threads is ${option}, expected a positive integer`,
      );
    }
    return option;
  }
  const fromEnv = readEnv(BLAS_THREADS_ENV);
  if (fromEnv === undefined || fromEnv === "") return DEFAULT_BLAS_THREADS;
  const parsed = Number(fromEnv);
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new RangeError(
      `Cannot set up the backend: ${BLAS_THREADS_ENV} is "${fromEnv}", expected a positive integer`,
    );
  }
  return parsed;
}

/** Opens (or reuses) the library; libraries stay open, as kernels may still point into them. */
function openLibrary(state: BackendState, path: string | undefined, threads: number): Blas {
  const key = `${path ?? readEnv(BLAS_LIB_ENV) ?? ""}\u0000${readEnv(BLAS_CORETYPE_ENV) ?? ""}`;
  let blas = state.libraries.get(key);
  if (blas === undefined) {
    blas = loadFittingBlas({ path });
    state.libraries.set(key, blas);
  }
  blas.setThreads(threads);
  return blas;
}

/** Switches tfjs to wasm, or returns why it could not. */
async function tryActivateWasm(): Promise<string | null> {
  try {
    if (tf.getBackend() === "wasm") return null;
  } catch {
    // no backend chosen yet
  }
  try {
    const ok = await tf.setBackend("wasm");
    await tf.ready();
    return ok ? null : 'tf.setBackend("wasm") returned false';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

async function activate(name: "cpu", forcedBy: string | null): Promise<void> {
  const ok = await tf.setBackend(name);
  await tf.ready();
  if (!ok) {
    throw new Error(`Cannot use backend "${name}"${forcedBy ? ` (${forcedBy})` : ""}`);
  }
  // The cpu backend greets its first tensor in Node-like runtimes with an advert for tfjs-node,
  // which cannot be installed here; setupBackend has already said which backend runs and why.
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
}

function makeInfo(
  name: BackendName,
  forcedBy: string | null,
  reason: string,
  blas: BlasInfo | null,
): BackendInfo {
  const core = blas?.coreReason ? `; core: ${blas.coreReason}` : "";
  const detail = blas === null ? reason : `${formatBlasInfo(blas)}${core} (${reason})`;
  return {
    name,
    tfBackend: name === "cpu" ? "cpu" : "wasm",
    forced: forcedBy !== null,
    reason,
    blas,
    summary: `${name}: ${detail}`,
  };
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
