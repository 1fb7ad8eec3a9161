/**
 * PyTorch's `nn.Linear` initialisation as plain arrays: every weight and bias uniform in
 * ±1/√fan_in, drawn from the project's seeded generator layer by layer (kernel, then bias). The
 * tfjs model (`initializeLikePyTorch`) and the learning-rate lab's page both start from these
 * values, so a seed means the same network everywhere.
 *
 * @module
 */
import { createRng, uniform } from "../util/random.ts";

/** One dense layer's parameters as tfjs stores them. */
export interface DenseWeights {
  /** `inputs × units`, row-major. */
  kernel: Float32Array;
  bias: Float32Array;
}

/**
 * The initial weights of a dense stack, as PyTorch's `nn.Linear` draws them.
 *
 * @param sizes Layer widths, inputs first, e.g. `[784, 128, 64, 10]`.
 * @param seed Seed of the generator.
 * @returns One `{ kernel, bias }` per dense layer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const [layer] = pytorchInitialWeights([4, 2], 0);
 * assert.equal(layer.kernel.length, 8);
 * assert.ok([...layer.kernel, ...layer.bias].every((w) => Math.abs(w) <= 1 / Math.sqrt(4)));
 * ```
 */
export function pytorchInitialWeights(sizes: readonly number[], seed = 0): DenseWeights[] {
  const rng = createRng(seed);
  return sizes.slice(1).map((units, l) => {
    const bound = 1 / Math.sqrt(sizes[l]);
    const kernel = uniform(sizes[l] * units, -bound, bound, rng);
    const bias = uniform(units, -bound, bound, rng);
    return { kernel, bias };
  });
}
