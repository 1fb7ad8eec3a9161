import assert from "node:assert/strict";
import { covarianceMatrix, pca, symmetricEigen } from "../../lib/eval/pca.ts";
import { createRng, type Rng } from "../../lib/util/random.ts";

// ---------------------------------------------------------------------------------------------
// Data with a known answer, and independent references.

/** Columns of the Sylvester–Hadamard matrix of size `n` (a power of 2): ±1, mutually orthogonal. */
function hadamard(n: number): number[][] {
  let h = [[1]];
  while (h.length < n) {
    h = [
      ...h.map((r) => [...r, ...r]),
      ...h.map((r) => [...r, ...r.map((v) => -v)]),
    ];
  }
  return h;
}

/** An orthonormal basis of R^dims from Gram–Schmidt on random vectors. */
function randomOrthonormal(dims: number, count: number, rng: Rng): number[][] {
  const basis: number[][] = [];
  while (basis.length < count) {
    let v = Array.from({ length: dims }, () => rng() - 0.5);
    for (const u of basis) {
      const d = dot(u, v);
      v = v.map((x, i) => x - d * u[i]);
    }
    const norm = Math.hypot(...v);
    if (norm > 1e-6) basis.push(v.map((x) => x / norm));
  }
  return basis;
}

/**
 * `n` rows `mean + Σ_j scale_j h_ij u_j`, where `h_ij` are ±1 Hadamard columns (zero mean,
 * mutually orthogonal). The sample covariance is then exactly `Σ_j scale_j² n/(n−1) u_j u_jᵀ`: the
 * components are the `u_j` and the variances `scale_j² n/(n−1)`.
 */
function knownData(n: number, mean: number[], directions: number[][], scales: number[]) {
  const h = hadamard(n);
  const dims = mean.length;
  const data = new Float64Array(n * dims);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dims; d++) {
      data[i * dims + d] = mean[d] +
        directions.reduce((sum, u, j) => sum + scales[j] * h[i][j + 1] * u[d], 0);
    }
  }
  const latent = (i: number, j: number) => scales[j] * h[i][j + 1];
  return { data, latent, variances: scales.map((s) => s * s * n / (n - 1)) };
}

/** Covariance by the textbook formula, one entry at a time. */
function naiveCovariance(data: ArrayLike<number>, dims: number): number[][] {
  const n = data.length / dims;
  const mean = Array.from({ length: dims }, (_, d) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += data[i * dims + d];
    return s / n;
  });
  return Array.from({ length: dims }, (_, a) =>
    Array.from({ length: dims }, (_, b) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        s += (data[i * dims + a] - mean[a]) * (data[i * dims + b] - mean[b]);
      }
      return s / (n - 1);
    }));
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Flips `u` so that its largest-magnitude entry is positive (the documented convention). */
function conventionalSign(u: number[]): number[] {
  const largest = u.reduce((best, x, i) => Math.abs(x) > Math.abs(u[best]) ? i : best, 0);
  return u[largest] < 0 ? u.map((x) => -x) : u;
}

function assertClose(actual: number, expected: number, tolerance: number, message = "value") {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${message}: expected ${expected}, found ${actual}`,
  );
}

function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number) {
  assert.equal(actual.length, expected.length, "lengths differ");
  for (let i = 0; i < actual.length; i++) {
    assertClose(actual[i], expected[i], tolerance, `index ${i}`);
  }
}

/** ‖Mv − λv‖ for a row-major square matrix given as rows. */
function residual(matrix: number[][], value: number, vector: ArrayLike<number>): number {
  return Math.hypot(...matrix.map((row, r) => dot(row, vector) - value * vector[r]));
}

// ---------------------------------------------------------------------------------------------

Deno.test("pca() recovers known directions, variances and coordinates", async (t) => {
  const rng = createRng(1);
  const dims = 8, n = 64;
  const directions = randomOrthonormal(dims, 4, rng);
  const scales = [3, 2, 1, 0.5];
  const mean = Array.from({ length: dims }, () => 10 * rng() - 5);
  const { data, latent, variances } = knownData(n, mean, directions, scales);
  const result = pca(data, dims, { components: 3 });
  const total = variances.reduce((a, b) => a + b, 0);
  await t.step("mean", () => assertAllClose(result.mean, mean, 1e-12));
  await t.step("components are the directions, signed by the convention", () => {
    assert.equal(result.components.length, 3);
    result.components.forEach((c, j) => assertAllClose(c, conventionalSign(directions[j]), 1e-9));
  });
  await t.step("variances and ratios", () => {
    assertAllClose(result.explainedVariance, variances.slice(0, 3), 1e-9);
    assertAllClose(
      result.explainedVarianceRatio,
      variances.slice(0, 3).map((v) => v / total),
      1e-12,
    );
  });
  await t.step("projections are the latent coordinates", () => {
    assert.equal(result.projections.length, n * 3);
    for (let j = 0; j < 3; j++) {
      const sign = conventionalSign(directions[j])[0] === directions[j][0] ? 1 : -1;
      for (let i = 0; i < n; i++) {
        assertClose(
          result.projections[i * 3 + j],
          sign * latent(i, j),
          1e-9,
          `row ${i}, component ${j}`,
        );
      }
    }
  });
});

Deno.test("pca() reconstructs the data from all its non-zero components", async (t) => {
  const rng = createRng(2);
  const dims = 16, n = 128;
  const directions = randomOrthonormal(dims, 5, rng);
  const { data, variances } = knownData(n, new Array(dims).fill(1), directions, [5, 4, 3, 2, 1]);
  for (const k of [5, 3]) {
    await t.step(`${k} components`, () => {
      const { projections, components, mean } = pca(data, dims, { components: k });
      let squaredError = 0;
      for (let i = 0; i < n; i++) {
        for (let d = 0; d < dims; d++) {
          let x = mean[d];
          for (let c = 0; c < k; c++) x += projections[i * k + c] * components[c][d];
          squaredError += (x - data[i * dims + d]) ** 2;
        }
      }
      // What is left is the variance of the dropped components, times n − 1.
      const dropped = variances.slice(k).reduce((a, b) => a + b, 0);
      assertClose(squaredError, (n - 1) * dropped, 1e-8);
    });
  }
});

Deno.test("pca() on a hidden-layer-like 500 × 64 array diagonalises the covariance", async (t) => {
  const rng = createRng(3);
  const dims = 64, n = 500;
  // ReLU of correlated features, in float32 like activations read back from tfjs.
  const data = new Float32Array(n * dims);
  for (let i = 0; i < n; i++) {
    const z = [rng() - 0.5, rng() - 0.5, rng() - 0.5];
    for (let d = 0; d < dims; d++) {
      data[i * dims + d] = Math.max(0, z[d % 3] * (1 + d / 8) + 0.3 * (rng() - 0.5));
    }
  }
  const covariance = naiveCovariance(data, dims);
  const result = pca(data, dims, { components: dims });
  const scale = Math.max(...result.explainedVariance);
  await t.step("‖Cv − λv‖ is tiny for every pair", () => {
    result.components.forEach((v, j) => {
      assert.ok(residual(covariance, result.explainedVariance[j], v) < 1e-10 * scale, `pair ${j}`);
    });
  });
  await t.step("components are orthonormal and signed by the convention", () => {
    for (let a = 0; a < dims; a++) {
      for (let b = 0; b < dims; b++) {
        assertClose(dot(result.components[a], result.components[b]), a === b ? 1 : 0, 1e-12);
      }
      assert.deepEqual([...result.components[a]], conventionalSign([...result.components[a]]));
    }
  });
  await t.step("variances decrease and add up to the trace", () => {
    const v = result.explainedVariance;
    for (let j = 1; j < dims; j++) assert.ok(v[j] <= v[j - 1]);
    const trace = covariance.reduce((s, row, d) => s + row[d], 0);
    assertClose(v.reduce((a, b) => a + b, 0), trace, 1e-10 * trace);
    assertClose(result.explainedVarianceRatio.reduce((a, b) => a + b, 0), 1, 1e-12);
  });
  await t.step("projections have the variances and are uncorrelated", () => {
    // The first 4 of the 64 projection columns.
    const firstColumns = Float64Array.from(
      { length: n * 4 },
      (_, i) => result.projections[Math.floor(i / 4) * dims + (i % 4)],
    );
    const projected = naiveCovariance(firstColumns, 4);
    for (let a = 0; a < 4; a++) {
      for (let b = 0; b < 4; b++) {
        assertClose(projected[a][b], a === b ? result.explainedVariance[a] : 0, 1e-9 * scale);
      }
    }
  });
});

Deno.test("pca() gives the same components for negated data and negated projections", () => {
  const rng = createRng(4);
  const data = Float64Array.from({ length: 40 * 5 }, () => rng() * rng());
  const negated = data.map((x) => -x);
  const a = pca(data, 5), b = pca(negated, 5);
  a.components.forEach((c, j) => assertAllClose(b.components[j], c, 1e-12));
  assertAllClose(b.projections, a.projections.map((x) => -x), 1e-12);
});

Deno.test("pca() of constant data has zero variance ratios", () => {
  const result = pca(new Float64Array([1, 2, 1, 2, 1, 2]), 2);
  assert.deepEqual(result.explainedVariance, [0, 0]);
  assert.deepEqual(result.explainedVarianceRatio, [0, 0]);
  assert.deepEqual([...result.projections], [0, 0, 0, 0, 0, 0]);
});

Deno.test("covarianceMatrix() agrees with the textbook formula", () => {
  const rng = createRng(5);
  const data = Float32Array.from({ length: 30 * 6 }, () => rng() * 4 - 1);
  const { covariance } = covarianceMatrix(data, 6);
  assertAllClose(covariance, naiveCovariance(data, 6).flat(), 1e-12);
});

Deno.test("symmetricEigen() decomposes symmetric matrices", async (t) => {
  const rng = createRng(6);
  const randomSymmetric = (size: number) => {
    const m = Array.from({ length: size }, () => new Array<number>(size).fill(0));
    for (let a = 0; a < size; a++) {
      for (let b = a; b < size; b++) m[a][b] = m[b][a] = rng() * 2 - 1;
    }
    return m;
  };
  /** Q diag(values) Qᵀ for a random orthonormal Q: known eigenvalues, some repeated. */
  const withValues = (values: number[]) => {
    const q = randomOrthonormal(values.length, values.length, rng);
    return values.map((_, a) =>
      values.map((_, b) => q.reduce((s, u, j) => s + values[j] * u[a] * u[b], 0))
    );
  };
  const cases = [
    { name: "1 × 1", matrix: [[-2]], values: [-2] },
    { name: "diagonal", matrix: [[1, 0, 0], [0, 3, 0], [0, 0, 2]], values: [3, 2, 1] },
    { name: "zero", matrix: [[0, 0], [0, 0]], values: [0, 0] },
    {
      name: "repeated eigenvalues",
      matrix: withValues([4, 4, 1, 1, 1, -2]),
      values: [4, 4, 1, 1, 1, -2],
    },
    { name: "random 10 × 10", matrix: randomSymmetric(10), values: undefined },
    { name: "random 64 × 64", matrix: randomSymmetric(64), values: undefined },
  ];
  for (const { name, matrix, values: expected } of cases) {
    await t.step(name, () => {
      const size = matrix.length;
      const { values, vectors } = symmetricEigen(Float64Array.from(matrix.flat()), size);
      if (expected) assertAllClose(values, expected, 1e-12);
      for (let j = 1; j < size; j++) assert.ok(values[j] <= values[j - 1], "values decrease");
      const trace = matrix.reduce((s, row, d) => s + row[d], 0);
      assertClose(values.reduce((a, b) => a + b, 0), trace, 1e-12 * size);
      vectors.forEach((v, j) => {
        assert.ok(residual(matrix, values[j], v) < 1e-12 * size, `residual of pair ${j}`);
        for (let k = 0; k < size; k++) assertClose(dot(v, vectors[k]), j === k ? 1 : 0, 1e-12);
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Bad input: one test each, asserting the message names the argument or option.

const BAD_INPUTS: { name: string; call: () => unknown; message: RegExp }[] = [
  {
    name: "pca() rejects a dims of 0",
    call: () => pca(new Float64Array(4), 0),
    message: /^Cannot compute PCA: dims is 0, expected a positive integer$/,
  },
  {
    name: "pca() rejects a fractional dims",
    call: () => pca(new Float64Array(4), 1.5),
    message: /^Cannot compute PCA: dims is 1\.5, expected a positive integer$/,
  },
  {
    name: "pca() rejects data whose length is not a multiple of dims",
    call: () => pca(new Float64Array(7), 2),
    message: /^Cannot compute PCA: the length of data is 7, expected a multiple of dims \(2\)$/,
  },
  {
    name: "pca() rejects a single row",
    call: () => pca(new Float64Array(3), 3),
    message: /^Cannot compute PCA: the number of rows is 1, expected at least 2 rows of 3 values$/,
  },
  {
    name: "pca() rejects NaN in the data",
    call: () => pca(new Float32Array([0, 1, NaN, 2]), 2),
    message: /^Cannot compute PCA: data\[2\] is NaN, expected a finite number$/,
  },
  {
    name: "pca() rejects infinite data",
    call: () => pca(new Float64Array([0, Infinity, 1, 2]), 2),
    message: /^Cannot compute PCA: data\[1\] is Infinity, expected a finite number$/,
  },
  {
    name: "pca() rejects 0 components",
    call: () => pca(new Float64Array(6), 3, { components: 0 }),
    message: /^Cannot compute PCA: option components is 0, expected an integer in \[1, 3\]$/,
  },
  {
    name: "pca() rejects more components than dims",
    call: () => pca(new Float64Array(6), 3, { components: 4 }),
    message: /^Cannot compute PCA: option components is 4, expected an integer in \[1, 3\]$/,
  },
  {
    name: "covarianceMatrix() rejects data whose length is not a multiple of dims",
    call: () => covarianceMatrix(new Float64Array(5), 2),
    message:
      /^Cannot compute the covariance matrix: the length of data is 5, expected a multiple of dims \(2\)$/,
  },
  {
    name: "symmetricEigen() rejects a matrix of the wrong size",
    call: () => symmetricEigen(new Float64Array(5), 2),
    message: /^Cannot find eigenvectors: the length of matrix is 5, expected 4 \(2 × 2\)$/,
  },
  {
    name: "symmetricEigen() rejects NaN in the matrix",
    call: () => symmetricEigen(new Float64Array([1, NaN, NaN, 1]), 2),
    message: /^Cannot find eigenvectors: matrix\[1\] is NaN, expected a finite number$/,
  },
];

for (const { name, call, message } of BAD_INPUTS) {
  Deno.test(name, () => {
    assert.throws(call, (e: unknown) => e instanceof RangeError && message.test(e.message));
  });
}
