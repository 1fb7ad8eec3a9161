/**
 * Run by `fit_core_test.ts` in a fresh process per core (OpenBLAS picks its kernels once, as it
 * loads): `deno run -A tests/backend/core_probe.ts products CORE` prints the core loaded and how far
 * its products on this network's shapes are from a float64 reference; `fit START TOLERANCE` prints
 * what `loadFittingBlas` chose starting from core START.
 */
import { loadBlas } from "../../lib/backend/blas.ts";
import { loadFittingBlas, NETWORK_PRODUCTS } from "../../lib/backend/fit_core.ts";
import { createRng } from "../../lib/util/random.ts";

const [mode, core, tolerance] = Deno.args;

/** Worst |c − exact| / (|a|·|b|) over every output of every product, the exact one in float64. */
function worstAgainstFloat64(blas: ReturnType<typeof loadBlas>): number {
  const rng = createRng(7);
  let worst = 0;
  for (const { m, n, k, transposeA, transposeB } of NETWORK_PRODUCTS) {
    const a = Float32Array.from({ length: m * k }, () => (rng() < 0.25 ? 0 : 2 * rng() - 1));
    const b = Float32Array.from({ length: k * n }, () => (rng() < 0.25 ? 0 : 2 * rng() - 1));
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
    const at = (i: number, p: number) => (transposeA ? a[p * m + i] : a[i * k + p]);
    const bt = (p: number, j: number) => (transposeB ? b[j * k + p] : b[p * n + j]);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let exact = 0, scale = 0;
        for (let p = 0; p < k; p++) {
          const product = at(i, p) * bt(p, j);
          exact += product;
          scale += Math.abs(product);
        }
        const difference = Math.abs(c[i * n + j] - exact) / Math.max(scale, 1e-30);
        if (!(difference <= worst)) worst = Number.isNaN(difference) ? Infinity : difference;
      }
    }
  }
  return worst;
}

if (mode === "products") {
  const blas = loadBlas({ coreType: core });
  console.log(JSON.stringify({ core: blas.info.core, worst: worstAgainstFloat64(blas) }));
} else if (mode === "fit") {
  const blas = loadFittingBlas({ startCore: core, tolerance: Number(tolerance) });
  console.log(JSON.stringify({ core: blas.info.core, reason: blas.info.coreReason }));
}
