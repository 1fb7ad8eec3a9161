import assert from "node:assert/strict";
import { loadBlas } from "../../lib/backend/blas.ts";
import { jsBlas } from "../../lib/backend/js_blas.ts";
import { createRng } from "../../lib/util/random.ts";

const openblas = loadBlas();
const rng = createRng(11);
const random = (n: number) => Float32Array.from({ length: n }, () => rng() * 2 - 1);

Deno.test("jsBlas() sgemm agrees with OpenBLAS for every transpose, leading dimension and beta", () => {
  const [m, n, k] = [7, 5, 9];
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) {
      for (const beta of [0, 0.5]) {
        // Leading dimensions one wider than needed, so a wrong stride shows.
        const lda = (transposeA ? m : k) + 1, ldb = (transposeB ? k : n) + 1, ldc = n + 2;
        const a = random((transposeA ? k : m) * lda), b = random((transposeB ? n : k) * ldb);
        const c = random(m * ldc);
        const [mine, theirs] = [c.slice(), c.slice()];
        jsBlas().sgemm(transposeA, transposeB, m, n, k, 0.7, a, lda, b, ldb, beta, mine, ldc);
        openblas.sgemm(transposeA, transposeB, m, n, k, 0.7, a, lda, b, ldb, beta, theirs, ldc);
        mine.forEach((v, i) =>
          assert.ok(Math.abs(v - theirs[i]) < 1e-5, `${i}: ${v} vs ${theirs[i]}`)
        );
      }
    }
  }
});

Deno.test("jsBlas() level-1 and sgemv agree with OpenBLAS", () => {
  const x = random(13), y = random(13);
  for (
    const [name, call] of [
      ["saxpy", (blas: typeof openblas, out: Float32Array) => blas.saxpy(13, -0.3, x, out)],
      ["saxpby", (blas: typeof openblas, out: Float32Array) => blas.saxpby(13, 0.2, x, 0.9, out)],
      ["sscal", (blas: typeof openblas, out: Float32Array) => blas.sscal(13, 1.7, out)],
    ] as const
  ) {
    const [mine, theirs] = [y.slice(), y.slice()];
    call(jsBlas(), mine);
    call(openblas, theirs);
    mine.forEach((v, i) => assert.ok(Math.abs(v - theirs[i]) < 1e-6, `${name} ${i}`));
  }
  const a = random(4 * 6);
  for (const transposeA of [false, true]) {
    const input = random(transposeA ? 4 : 6), start = random(transposeA ? 6 : 4);
    const [mine, theirs] = [start.slice(), start.slice()];
    jsBlas().sgemv(transposeA, 4, 6, 1.5, a, 6, input, 0.25, mine);
    openblas.sgemv(transposeA, 4, 6, 1.5, a, 6, input, 0.25, theirs);
    mine.forEach((v, i) => assert.ok(Math.abs(v - theirs[i]) < 1e-5, `sgemv ${transposeA} ${i}`));
  }
});
