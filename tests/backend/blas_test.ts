import assert from "node:assert/strict";
import {
  type Blas,
  BlasLoadError,
  blasSearchPaths,
  formatBlasInfo,
  loadBlas,
} from "../../lib/backend/blas.ts";

/** The machine's CBLAS, or null (tests that need it are then skipped, saying so). */
const blas: Blas | null = (() => {
  try {
    return loadBlas();
  } catch (error) {
    console.warn(`No CBLAS on this machine; BLAS tests are skipped: ${(error as Error).message}`);
    return null;
  }
})();

const NO_BLAS = blas === null;

/** Runs `fn` with the given environment variables set (undefined = unset), then restores them. */
function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, Deno.env.get(name)]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  };
  apply(vars);
  try {
    return fn();
  } finally {
    apply(saved);
  }
}

/** Reference product in float64, written from the definition: c = alpha·op(a)·op(b) + beta·c. */
function naiveSgemm(
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
): Float32Array {
  const result = c.slice();
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) {
        const av = transposeA ? a[p * lda + i] : a[i * lda + p];
        const bv = transposeB ? b[j * ldb + p] : b[p * ldb + j];
        sum += av * bv;
      }
      result[i * ldc + j] = alpha * sum + beta * c[i * ldc + j];
    }
  }
  return result;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail("expected an error");
}

function randomArray(length: number, seed: number): Float32Array {
  const values = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = state / 2 ** 31 - 1;
  }
  return values;
}

function maxRelativeError(actual: Float32Array, expected: Float32Array): number {
  let scale = 0, error = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    error = Math.max(error, Math.abs(actual[i] - expected[i]));
  }
  return error / Math.max(scale, 1e-30);
}

Deno.test("blasSearchPaths() lists Debian's serial OpenBLAS first on Linux", async (t) => {
  const cases: [typeof Deno.build.os, string, string][] = [
    [
      "linux",
      "/usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas.so.0",
      "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
    ],
    [
      "darwin",
      "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
      "/System/Library/Frameworks/Accelerate.framework/Accelerate",
    ],
  ];
  for (const [os, first, alsoListed] of cases) {
    await t.step(os, () => {
      const paths = blasSearchPaths({ os });
      assert.equal(paths[0], first);
      assert.ok(paths.includes(alsoListed), `${alsoListed} is tried`);
      assert.equal(new Set(paths).size, paths.length, "no path is tried twice");
    });
  }
  await t.step("linux covers aarch64 and the generic names", () => {
    const paths = blasSearchPaths({ os: "linux" });
    for (
      const expected of [
        "/usr/lib/aarch64-linux-gnu/openblas-serial/libopenblas.so.0",
        "/usr/lib/x86_64-linux-gnu/libcblas.so.3",
        "/usr/local/lib/libopenblas.so.0",
        "/usr/lib/libcblas.so.3",
      ]
    ) {
      assert.ok(paths.includes(expected), `${expected} is tried`);
    }
    assert.ok(
      paths.indexOf("/usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas.so.0") <
        paths.indexOf("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"),
    );
  });
});

Deno.test("loadBlas() names every path it tried and why each failed", async (t) => {
  await t.step("missing file from the path option", () => {
    const error = catchError(() => loadBlas({ path: "/nowhere/libopenblas.so.0" }));
    assert.ok(error instanceof BlasLoadError);
    assert.deepEqual(error.tried, [{ path: "/nowhere/libopenblas.so.0", reason: "not found" }]);
    assert.match(error.message, /the path given.*\/nowhere\/libopenblas\.so\.0 \(not found\)/);
  });
  await t.step("ANN_BLAS_LIB wins over the search list and is named", () => {
    withEnv({ ANN_BLAS_LIB: "/missing/libcblas.so.3" }, () => {
      assert.throws(
        () => loadBlas({ searchPaths: blasSearchPaths() }),
        /from ANN_BLAS_LIB: tried \/missing\/libcblas\.so\.3 \(not found\)/,
      );
    });
  });
  await t.step("every search path is listed", () => {
    withEnv({ ANN_BLAS_LIB: undefined }, () => {
      const searchPaths = ["/a/libopenblas.so.0", "/b/libcblas.so.3"];
      assert.throws(
        () => loadBlas({ searchPaths }),
        /usual places: tried \/a\/libopenblas\.so\.0 \(not found\); \/b\/libcblas\.so\.3 \(not found\)/,
      );
    });
  });
  const libm = ["/lib/x86_64-linux-gnu/libm.so.6", "/lib/aarch64-linux-gnu/libm.so.6"]
    .find((path) => {
      try {
        return Deno.statSync(path).isFile;
      } catch {
        return false;
      }
    });
  await t.step({
    name: "a library without cblas_sgemm is skipped",
    ignore: libm === undefined,
    fn: () => {
      assert.throws(() => loadBlas({ path: libm }), /libm\.so\.6 \(no cblas_sgemm symbol\)/);
    },
  });
});

Deno.test("formatBlasInfo() gives vendor, version, build, path and threads", async (t) => {
  const base = {
    vendor: "OpenBLAS" as const,
    version: "0.3.21",
    threading: "serial" as const,
    core: "Haswell",
    path: "/lib/libopenblas.so.0",
    threads: 1,
  };
  const cases: [string, Parameters<typeof formatBlasInfo>[0], string][] = [
    ["serial", base, "OpenBLAS 0.3.21 (serial, Haswell) at /lib/libopenblas.so.0; 1 thread"],
    [
      "threaded",
      { ...base, threading: "pthread", threads: 4 },
      "OpenBLAS 0.3.21 (pthread, Haswell) at /lib/libopenblas.so.0; 4 threads",
    ],
    [
      "Accelerate",
      {
        vendor: "Accelerate",
        version: null,
        threading: "unknown",
        core: null,
        path: "/System/Library/Frameworks/Accelerate.framework/Accelerate",
        threads: null,
      },
      "Accelerate at /System/Library/Frameworks/Accelerate.framework/Accelerate; " +
      "threads set by the library",
    ],
  ];
  for (const [name, info, expected] of cases) {
    await t.step(name, () => assert.equal(formatBlasInfo(info), expected));
  }
});

Deno.test({
  name: "loadBlas() reports the library it opened",
  ignore: NO_BLAS,
  fn: () => {
    const info = blas!.info;
    assert.ok(Deno.statSync(info.path).isFile, `${info.path} exists`);
    if (info.vendor === "OpenBLAS") {
      assert.match(info.version ?? "", /^\d+\.\d+\.\d+$/);
      assert.ok(["serial", "pthread", "openmp"].includes(info.threading));
      assert.ok((info.threads ?? 0) >= 1);
    }
  },
});

Deno.test({
  name: "sgemm() matches the definition for every transpose, odd sizes, strides, alpha and beta",
  ignore: NO_BLAS,
  fn: async (t) => {
    const sizes: [number, number, number][] = [[1, 1, 1], [3, 17, 5], [17, 3, 129], [
      129,
      1,
      3,
    ], [64, 10, 64]];
    let seed = 1;
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        for (const [m, n, k] of sizes) {
          for (const [alpha, beta, pad] of [[1, 0, 0], [0.5, 2, 3]]) {
            await t.step(
              `tA=${transposeA} tB=${transposeB} ${m}×${k}·${k}×${n} α=${alpha} β=${beta} pad=${pad}`,
              () => {
                // Leading dimensions larger than the matrix exercise strided sub-matrices.
                const lda = (transposeA ? m : k) + pad, ldb = (transposeB ? k : n) + pad;
                const ldc = n + pad;
                const a = randomArray(
                  ((transposeA ? k : m) - 1) * lda + (transposeA ? m : k),
                  seed++,
                );
                const b = randomArray(
                  ((transposeB ? n : k) - 1) * ldb + (transposeB ? k : n),
                  seed++,
                );
                const c = randomArray((m - 1) * ldc + n, seed++);
                const expected = naiveSgemm(
                  transposeA,
                  transposeB,
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
                const actual = c.slice();
                blas!.sgemm(
                  transposeA,
                  transposeB,
                  m,
                  n,
                  k,
                  alpha,
                  a,
                  lda,
                  b,
                  ldb,
                  beta,
                  actual,
                  ldc,
                );
                assert.ok(maxRelativeError(actual, expected) < 1e-5);
              },
            );
          }
        }
      }
    }
  },
});

Deno.test({
  name: "sgemm() writes through a view into a larger buffer, leaving the rest alone",
  ignore: NO_BLAS,
  fn: () => {
    const heap = new Float32Array(64).fill(-7);
    const a = heap.subarray(4, 8), b = heap.subarray(12, 16), c = heap.subarray(20, 24);
    a.set([1, 2, 3, 4]);
    b.set([5, 6, 7, 8]);
    blas!.sgemm(false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2);
    assert.deepEqual([...c], [19, 22, 43, 50]);
    assert.ok(heap.subarray(24).every((v) => v === -7));
    assert.ok(heap.subarray(16, 20).every((v) => v === -7));
  },
});

Deno.test({
  name: "sgemm() refuses views too short for the sizes instead of writing past them",
  ignore: NO_BLAS,
  fn: async (t) => {
    const ok = new Float32Array(6);
    const short = new Float32Array(5);
    const cases: [string, () => void, RegExp][] = [
      [
        "short a",
        () => blas!.sgemm(false, false, 2, 3, 3, 1, short, 3, ok.subarray(0, 9), 3, 0, ok, 3),
        /^Cannot run sgemm: the view of matrix a is 5 floats, expected at least 6 \(2×3, leading dimension 3\)$/,
      ],
      [
        "short c",
        () => blas!.sgemm(false, false, 2, 3, 3, 1, ok, 3, new Float32Array(9), 3, 0, short, 3),
        /^Cannot run sgemm: the view of matrix c is 5 floats, expected at least 6 \(2×3, leading dimension 3\)$/,
      ],
      [
        "ld too small",
        () => blas!.sgemm(false, false, 2, 3, 3, 1, ok, 2, new Float32Array(9), 3, 0, ok, 3),
        /^Cannot run sgemm: matrix a is 2×3 with leading dimension 2, expected non-negative sizes and a leading dimension of at least 3$/,
      ],
    ];
    for (const [name, call, message] of cases) {
      await t.step(
        name,
        () =>
          assert.throws(call, (e: unknown) => e instanceof RangeError && message.test(e.message)),
      );
    }
  },
});

Deno.test({
  name: "setThreads() takes positive integers and reports the count in force",
  ignore: NO_BLAS,
  fn: () => {
    assert.throws(() => blas!.setThreads(0), RangeError);
    assert.throws(() => blas!.setThreads(1.5), RangeError);
    const threads = blas!.setThreads(1);
    if (blas!.info.vendor === "OpenBLAS") assert.equal(threads, 1);
    if (blas!.info.threading === "pthread") {
      assert.equal(blas!.setThreads(2), 2);
      assert.equal(blas!.info.threads, 2);
      blas!.setThreads(1);
    }
  },
});

/** Debian's threaded OpenBLAS, when installed. */
const PTHREAD_PATH = blasSearchPaths().find((path) => {
  try {
    return path.includes("openblas-pthread") && Deno.statSync(path).isFile;
  } catch {
    return false;
  }
});

Deno.test({
  name: "a threaded OpenBLAS build accepts a thread count",
  ignore: PTHREAD_PATH === undefined,
  fn: () => {
    const path = PTHREAD_PATH!;
    const threaded = loadBlas({ path, threads: 2 });
    try {
      assert.equal(threaded.info.threading, "pthread");
      assert.equal(threaded.info.threads, 2);
      assert.equal(threaded.setThreads(1), 1);
    } finally {
      threaded.close();
    }
    assert.throws(
      () =>
        threaded.sgemm(
          false,
          false,
          1,
          1,
          1,
          1,
          new Float32Array(1),
          1,
          new Float32Array(1),
          1,
          0,
          new Float32Array(1),
          1,
        ),
      /closed/,
    );
  },
});

Deno.test({
  name: "saxpy(), saxpby(), sscal() and sgemv() match their definitions, and check view lengths",
  ignore: NO_BLAS,
  fn: async (t) => {
    let state = 5;
    const random = (n: number) =>
      Float32Array.from(
        { length: n },
        () => ((state = (state * 48271) % 2147483647) / 2147483647) * 2 - 1,
      );
    const close = (got: Float32Array, want: ArrayLike<number>, label: string) => {
      for (let i = 0; i < want.length; i++) {
        assert.ok(
          Math.abs(got[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])),
          `${label}[${i}]: ${got[i]} vs ${want[i]}`,
        );
      }
    };
    const n = 1001;
    await t.step("saxpy", () => {
      const x = random(n), y = random(n);
      const want = Array.from(y, (v, i) => v + 0.75 * x[i]);
      blas!.saxpy(n, 0.75, x, y);
      close(y, want, "y");
    });
    await t.step("saxpby", () => {
      const x = random(n), y = random(n);
      const want = Array.from(y, (v, i) => 2 * x[i] - 0.5 * v);
      blas!.saxpby(n, 2, x, -0.5, y);
      close(y, want, "y");
    });
    await t.step("sscal", () => {
      const x = random(n);
      const want = Array.from(x, (v) => 0.3 * v);
      blas!.sscal(n, 0.3, x);
      close(x, want, "x");
    });
    await t.step("sgemv both ways, with a leading dimension and beta", () => {
      const [m, cols, lda] = [7, 5, 9];
      const a = random(m * lda), x = random(m), y = random(cols);
      const want = Array.from(y, (v, j) => {
        let sum = 0;
        for (let i = 0; i < m; i++) sum += a[i * lda + j] * x[i];
        return 1.5 * sum + 0.5 * v;
      });
      blas!.sgemv(true, m, cols, 1.5, a, lda, x, 0.5, y);
      close(y, want, "aᵀx");
      const x2 = random(cols), y2 = random(m);
      const want2 = Array.from(y2, (_, i) => {
        let sum = 0;
        for (let j = 0; j < cols; j++) sum += a[i * lda + j] * x2[j];
        return sum;
      });
      blas!.sgemv(false, m, cols, 1, a, lda, x2, 0, y2);
      close(y2, want2, "ax");
    });
    await t.step("short views throw", () => {
      assert.throws(
        () => blas!.saxpy(10, 1, new Float32Array(9), new Float32Array(10)),
        /saxpy.*expected at least 10/,
      );
      assert.throws(
        () =>
          blas!.sgemv(
            true,
            4,
            3,
            1,
            new Float32Array(12),
            3,
            new Float32Array(3),
            0,
            new Float32Array(3),
          ),
        /sgemv.*expected at least 4 and 3/,
      );
    });
  },
});
