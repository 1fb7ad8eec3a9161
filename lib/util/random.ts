/**
 * Seeded pseudo-random numbers that do not depend on the tfjs backend, so the same seed gives the
 * same initial weights, splits and batch order on cpu, wasm and wasm+BLAS.
 *
 * @module
 */

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/**
 * Creates a fast 32-bit generator (mulberry32) from a seed.
 *
 * @param seed Any number; only its low 32 bits matter.
 * @returns A function giving a new uniform number in [0, 1) on each call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const a = createRng(42), b = createRng(42);
 * assert.deepEqual([a(), a()], [b(), b()]);
 * ```
 */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Derives an independent seed from a base seed and a few integers (an epoch, a run index), so each
 * epoch's batch order depends only on the seed and the epoch, not on what ran before.
 *
 * @param seed The base seed.
 * @param parts Integers that name the stream.
 * @returns A 32-bit unsigned seed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.notDeepEqual(deriveSeed(0, 1), deriveSeed(0, 2));
 * ```
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/**
 * A random permutation of `0 … n-1` (Fisher–Yates).
 *
 * @param n How many indices.
 * @param rng The generator to draw from.
 * @returns The shuffled indices.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const p = permutation(5, createRng(1));
 * assert.deepEqual([...p].sort(), [0, 1, 2, 3, 4]);
 * ```
 */
export function permutation(n: number, rng: Rng): Int32Array {
  const indices = new Int32Array(n);
  for (let i = 0; i < n; i++) indices[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = indices[i];
    indices[i] = indices[j];
    indices[j] = t;
  }
  return indices;
}

/**
 * Fills an array with uniform numbers in [low, high).
 *
 * @param n How many numbers.
 * @param low Lower bound.
 * @param high Upper bound.
 * @param rng The generator to draw from.
 * @returns The numbers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const xs = uniform(100, -1, 1, createRng(3));
 * assert.ok(xs.every((x) => x >= -1 && x < 1));
 * ```
 */
export function uniform(n: number, low: number, high: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = low + (high - low) * rng();
  return out;
}
