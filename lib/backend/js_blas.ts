/**
 * The CBLAS subset the host training step calls, in plain TypeScript: the fallback when no BLAS
 * library loads (the `wasm` or `cpu` backend), so a loop written with `hostNetwork` runs on every
 * backend — several times slower than OpenBLAS, with the same results to float32 rounding.
 *
 * @module
 */
import type { Blas, BlasInfo } from "./blas.ts";

const INFO: BlasInfo = {
  vendor: "TypeScript",
  version: null,
  threading: "serial",
  core: "TypeScript",
  path: "(none: lib/backend/js_blas.ts)",
  threads: 1,
};

/**
 * A {@linkcode Blas} computed in TypeScript (row-major, unit strides, as the bindings are).
 *
 * @returns The library; `close` and `setThreads` do nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const blas = jsBlas();
 * const c = new Float32Array(1);
 * blas.sgemm(false, false, 1, 1, 2, 1, new Float32Array([1, 2]), 2, new Float32Array([3, 4]), 1, 0, c, 1);
 * assert.equal(c[0], 11);
 * ```
 */
export function jsBlas(): Blas {
  return {
    info: INFO,
    sgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
      const row = new Float64Array(n);
      for (let i = 0; i < m; i++) {
        row.fill(0);
        for (let p = 0; p < k; p++) {
          const aip = transposeA ? a[p * lda + i] : a[i * lda + p];
          if (aip === 0) continue;
          if (transposeB) { for (let j = 0; j < n; j++) row[j] += aip * b[j * ldb + p]; }
          else {
            const offset = p * ldb;
            for (let j = 0; j < n; j++) row[j] += aip * b[offset + j];
          }
        }
        const offset = i * ldc;
        for (let j = 0; j < n; j++) {
          c[offset + j] = alpha * row[j] + (beta === 0 ? 0 : beta * c[offset + j]);
        }
      }
    },
    saxpy(n, alpha, x, y) {
      for (let i = 0; i < n; i++) y[i] += alpha * x[i];
    },
    saxpby(n, alpha, x, beta, y) {
      for (let i = 0; i < n; i++) y[i] = alpha * x[i] + beta * y[i];
    },
    sgemv(transposeA, m, n, alpha, a, lda, x, beta, y) {
      const rows = transposeA ? n : m, inner = transposeA ? m : n;
      for (let r = 0; r < rows; r++) {
        let sum = 0;
        for (let i = 0; i < inner; i++) {
          sum += (transposeA ? a[i * lda + r] : a[r * lda + i]) * x[i];
        }
        y[r] = alpha * sum + (beta === 0 ? 0 : beta * y[r]);
      }
    },
    sscal(n, alpha, x) {
      for (let i = 0; i < n; i++) x[i] *= alpha;
    },
    setThreads: () => 1,
    close() {},
  };
}
