/**
 * Principal component analysis of row-major data, for drawing a hidden layer's 64-dimensional
 * activations in 2-D: the covariance matrix (`dims × dims`) is diagonalised exactly with Jacobi
 * rotations, so no iterative guesswork or random start is involved and results are reproducible.
 *
 * @module
 */
import { integer, positiveInteger, rangeError, type Where } from "../util/validate.ts";

/** Options of {@linkcode pca}. */
export interface PcaOptions {
  /** How many principal components to keep, from 1 to `dims`. Default 2. */
  components?: number;
}

/** The result of {@linkcode pca}. */
export interface PcaResult {
  /** `n × components` coordinates of the centred rows on the components, row-major. */
  projections: Float64Array;
  /** The principal directions: unit vectors of length `dims`, by decreasing variance. */
  components: Float64Array[];
  /** The variance along each component (covariance eigenvalues, `n - 1` denominator). */
  explainedVariance: number[];
  /** Each component's share of the total variance (0 for all if the data are constant). */
  explainedVarianceRatio: number[];
  /** The mean row, subtracted before projecting. */
  mean: Float64Array;
}

/** The eigen-decomposition of a symmetric matrix. */
export interface SymmetricEigen {
  /** Eigenvalues, decreasing. */
  values: number[];
  /** Unit eigenvectors, `vectors[i]` for `values[i]`, largest-magnitude entry positive. */
  vectors: Float64Array[];
}

const MAX_SWEEPS = 100;

/**
 * Projects `n × dims` data onto its first principal components.
 *
 * Components come sorted by decreasing variance. Each is signed so that its largest-magnitude
 * loading is positive (the first such if several tie), so the same data always give the same
 * picture.
 *
 * @param data Row-major values, `n × dims`, at least two rows, no `NaN`.
 * @param dims Number of columns.
 * @param options How many components (default 2).
 * @returns Projections, components, explained variance (and its ratio) and the mean.
 * @throws {RangeError} If `dims` or `components` is out of range, the length is not a multiple of
 *   `dims`, there are fewer than two rows or a value is not finite.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Points on the line y = x: one component along (1, 1) / √2 carries all the variance.
 * const result = pca(new Float64Array([0, 0, 1, 1, 2, 2, 3, 3]), 2, { components: 1 });
 * assert.ok(Math.abs(result.components[0][0] - Math.SQRT1_2) < 1e-12);
 * assert.ok(Math.abs(result.explainedVarianceRatio[0] - 1) < 1e-12);
 * assert.ok(Math.abs(result.projections[3] - 1.5 * Math.SQRT2) < 1e-12);
 * ```
 */
export function pca(
  data: Float32Array | Float64Array,
  dims: number,
  options: PcaOptions = {},
): PcaResult {
  const { components: count = 2 } = options;
  const { mean, covariance } = covarianceMatrix(data, dims, "compute PCA");
  integer({ action: "compute PCA" }, "option components", count, { min: 1, max: dims });
  const { values, vectors } = symmetricEigen(covariance, dims);
  let totalVariance = 0;
  for (let d = 0; d < dims; d++) totalVariance += covariance[d * dims + d];
  const components = vectors.slice(0, count);
  const explainedVariance = values.slice(0, count);
  return {
    projections: project(data, dims, mean, components),
    components,
    explainedVariance,
    explainedVarianceRatio: explainedVariance.map((v) => totalVariance > 0 ? v / totalVariance : 0),
    mean,
  };
}

/**
 * The mean and the sample covariance matrix (`n - 1` denominator) of `n × dims` row-major data.
 *
 * @param data Row-major values, `n × dims`, at least two rows, no `NaN`.
 * @param dims Number of columns.
 * @returns The mean row and the `dims × dims` covariance matrix, row-major.
 * @throws {RangeError} If `dims` is not a positive integer, the length is not a multiple of it,
 *   there are fewer than two rows or a value is not finite.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const { mean, covariance } = covarianceMatrix(new Float64Array([1, 2, 3, 6]), 2);
 * assert.deepEqual([...mean], [2, 4]);
 * assert.deepEqual([...covariance], [2, 4, 4, 8]);
 * ```
 */
export function covarianceMatrix(
  data: Float32Array | Float64Array,
  dims: number,
  action = "compute the covariance matrix",
): { mean: Float64Array; covariance: Float64Array } {
  const n = checkData({ action }, data, dims);
  const mean = new Float64Array(dims);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dims; d++) mean[d] += data[i * dims + d];
  }
  for (let d = 0; d < dims; d++) mean[d] /= n;
  // Two passes (mean first, then centred products) keep the rounding error small.
  const covariance = new Float64Array(dims * dims);
  const centred = new Float64Array(dims);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dims; d++) centred[d] = data[i * dims + d] - mean[d];
    for (let a = 0; a < dims; a++) {
      const x = centred[a];
      if (x === 0) continue;
      const row = a * dims;
      for (let b = a; b < dims; b++) covariance[row + b] += x * centred[b];
    }
  }
  for (let a = 0; a < dims; a++) {
    for (let b = a; b < dims; b++) {
      const value = covariance[a * dims + b] / (n - 1);
      covariance[a * dims + b] = value;
      covariance[b * dims + a] = value;
    }
  }
  return { mean, covariance };
}

/**
 * Eigenvalues and eigenvectors of a real symmetric matrix by cyclic Jacobi rotations: each
 * rotation zeroes one off-diagonal entry, and sweeps repeat until the off-diagonal part vanishes
 * to rounding.
 * O(size³) per sweep, a handful of sweeps; meant for small matrices (64 × 64 takes milliseconds).
 *
 * @param matrix Row-major `size × size` symmetric matrix (only symmetry up to rounding is assumed;
 *   the upper triangle wins). Not modified.
 * @param size Number of rows and columns.
 * @returns Eigenvalues in decreasing order and unit eigenvectors, each signed so that its
 *   largest-magnitude entry is positive.
 * @throws {RangeError} If the length is not `size × size` or a value is not finite.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const { values, vectors } = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
 * assert.ok(Math.abs(values[0] - 3) < 1e-12 && Math.abs(values[1] - 1) < 1e-12);
 * assert.ok(Math.abs(vectors[0][0] - Math.SQRT1_2) < 1e-12);
 * assert.ok(Math.abs(vectors[0][1] - Math.SQRT1_2) < 1e-12);
 * ```
 */
export function symmetricEigen(matrix: Float64Array, size: number): SymmetricEigen {
  const where = { action: "find eigenvectors" };
  positiveInteger(where, "size", size);
  if (matrix.length !== size * size) {
    rangeError(where, "the length of matrix", matrix.length, `${size * size} (${size} × ${size})`);
  }
  checkFinite(where, "matrix", matrix);
  const a = new Float64Array(size * size);
  for (let p = 0; p < size; p++) {
    for (let q = p; q < size; q++) a[p * size + q] = a[q * size + p] = matrix[p * size + q];
  }
  const v = new Float64Array(size * size);
  for (let p = 0; p < size; p++) v[p * size + p] = 1;
  for (let sweep = 0; sweep < MAX_SWEEPS && !isDiagonal(a, size); sweep++) {
    for (let p = 0; p < size - 1; p++) {
      for (let q = p + 1; q < size; q++) rotate(a, v, size, p, q);
    }
  }
  const order = Array.from({ length: size }, (_, i) => i)
    .sort((i, j) => a[j * size + j] - a[i * size + i]);
  return {
    values: order.map((i) => a[i * size + i]),
    vectors: order.map((i) => signed(column(v, size, i))),
  };
}

/**
 * Applies the rotation in the (p, q) plane that zeroes `a[p][q]`: `a ← Jᵀ a J`, `v ← v J`, with
 * `J` the identity except `J[p][p] = J[q][q] = c`, `J[p][q] = s`, `J[q][p] = -s`.
 */
function rotate(a: Float64Array, v: Float64Array, size: number, p: number, q: number): void {
  const apq = a[p * size + q];
  if (apq === 0) return;
  // θ = cot 2φ; t = tan φ is the smaller root of t² + 2θt − 1 = 0, for stability.
  const theta = (a[q * size + q] - a[p * size + p]) / (2 * apq);
  const t = Math.abs(theta) > 1e150
    ? 1 / (2 * theta)
    : Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1), s = t * c;
  for (let k = 0; k < size; k++) {
    // Columns p and q of a, then of v.
    const akp = a[k * size + p], akq = a[k * size + q];
    a[k * size + p] = c * akp - s * akq;
    a[k * size + q] = s * akp + c * akq;
    const vkp = v[k * size + p], vkq = v[k * size + q];
    v[k * size + p] = c * vkp - s * vkq;
    v[k * size + q] = s * vkp + c * vkq;
  }
  for (let k = 0; k < size; k++) {
    // Rows p and q of a.
    const apk = a[p * size + k], aqk = a[q * size + k];
    a[p * size + k] = c * apk - s * aqk;
    a[q * size + k] = s * apk + c * aqk;
  }
  a[p * size + q] = a[q * size + p] = 0;
}

/** True when the off-diagonal entries are negligible next to the diagonal (or all zero). */
function isDiagonal(a: Float64Array, size: number): boolean {
  let off = 0, diagonal = 0;
  for (let p = 0; p < size; p++) {
    diagonal += a[p * size + p] ** 2;
    for (let q = p + 1; q < size; q++) off += a[p * size + q] ** 2;
  }
  return off === 0 || off <= 1e-32 * diagonal;
}

function column(v: Float64Array, size: number, j: number): Float64Array {
  const out = new Float64Array(size);
  for (let k = 0; k < size; k++) out[k] = v[k * size + j];
  return out;
}

/** Flips a vector so that its largest-magnitude entry (the first, on ties) is positive. */
function signed(vector: Float64Array): Float64Array {
  let largest = 0;
  for (let k = 1; k < vector.length; k++) {
    if (Math.abs(vector[k]) > Math.abs(vector[largest])) largest = k;
  }
  if (vector[largest] < 0) { for (let k = 0; k < vector.length; k++) vector[k] = -vector[k]; }
  return vector;
}

function project(
  data: Float32Array | Float64Array,
  dims: number,
  mean: Float64Array,
  components: Float64Array[],
): Float64Array {
  const n = data.length / dims, count = components.length;
  const out = new Float64Array(n * count);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < count; c++) {
      const component = components[c];
      let sum = 0;
      for (let d = 0; d < dims; d++) sum += (data[i * dims + d] - mean[d]) * component[d];
      out[i * count + c] = sum;
    }
  }
  return out;
}

/** Checks `n × dims` data and returns `n`. */
function checkData(where: Where, data: Float32Array | Float64Array, dims: number): number {
  positiveInteger(where, "dims", dims);
  if (data.length % dims !== 0) {
    rangeError(where, "the length of data", data.length, `a multiple of dims (${dims})`);
  }
  const n = data.length / dims;
  if (n < 2) rangeError(where, "the number of rows", n, `at least 2 rows of ${dims} values`);
  checkFinite(where, "data", data);
  return n;
}

function checkFinite(where: Where, name: string, values: Float32Array | Float64Array): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      rangeError(where, `${name}[${i}]`, values[i], "a finite number");
    }
  }
}
