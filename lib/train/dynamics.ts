/**
 * Training dynamics per layer, recorded once per epoch: why a learning rate crawls, learns, kills
 * units or diverges. Each epoch's `train` history row gains, for the dense layers `linear1`…:
 *
 * - `grad_norm_<layer>`: ‖∂L/∂W‖ of the layer's kernel (the NLL loss only, no weight decay),
 * - `update_ratio_<layer>`: ‖Δw‖ / ‖w‖ of the kernel over one optimizer step (w before the step;
 *   the rule of thumb for a healthy rate is about 1e-3),
 * - `weight_norm_<layer>`: ‖w‖ of the kernel at the epoch's end,
 * - `dead_fraction_<layer>` (hidden layers only): the share of ReLU units that output zero for
 *   every image of a fixed probe batch, at the epoch's end.
 *
 * The gradient and the update are those of ONE step per epoch: the epoch's last full-size batch
 * (a smaller trailing batch would give a noisier gradient). Measuring every step would add a pass
 * over the parameters to each of them; one step per epoch costs nothing measurable.
 *
 * This file holds the host side (the wide net of `grid_step.ts`, used by `trainGrid` and by
 * `train()` on wasm-blas) and the plain-number helpers; `dynamics_tf.ts` the tfjs side.
 *
 * @module
 */
import { simdArrays } from "../backend/simd.ts";
import type { Split } from "../data/mnist.ts";
import { IMAGE_PIXELS } from "../data/shape.ts";
import { positiveInteger, typeError } from "../util/validate.ts";
import { layerSlot, type WideNet } from "./wide_net.ts";
import {
  backward,
  forward,
  type HeadResult,
  lossHead,
  type StepBlas,
  updateModels,
} from "./grid_step.ts";

/** What to record: the fixed probe batch whose images count dead units, and how often. */
export interface DynamicsOptions {
  /** The probe: a split or its pixels (`rows × 784`); a few hundred images are plenty. */
  probe: Split | Float32Array;
  /**
   * Also measure every `every`-th step (steps `every`, `2·every`, …, 1-based over the run) and
   * keep each as a {@linkcode DynamicsStep} in the result's `stepDynamics`: what happens within
   * the first epoch, where a rate of 3 diverges before any epoch ends. Default: epochs only.
   */
  every?: number;
  /** With `every`: the last step that may be measured. Default: the whole run. */
  until?: number;
}

/**
 * One measured step: where it was, its batch loss (before the update), and the columns of
 * {@linkcode dynamicsColumns} (weight norms and dead fractions after the step).
 */
export type DynamicsStep =
  & { step: number; epoch: number; batch: number; loss: number }
  & Record<
    string,
    number
  >;

/**
 * Which steps to measure as {@linkcode DynamicsStep}s.
 *
 * @param options The `dynamics` option (checked by {@linkcode probeOf}).
 * @returns Whether the 0-based global step is one of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const measured = stepsToMeasure({ probe: new Float32Array(784), every: 10, until: 30 });
 * assert.deepEqual([8, 9, 19, 29, 39].map(measured), [false, true, true, true, false]);
 * assert.equal(stepsToMeasure({ probe: new Float32Array(784) })(9), false);
 * ```
 */
export function stepsToMeasure(options: DynamicsOptions): (step: number) => boolean {
  const { every, until = Infinity } = options;
  if (every === undefined) return () => false;
  return (step) => (step + 1) % every === 0 && step + 1 <= until;
}

/** The norms of one measured step, one entry per dense layer (kernels only). */
export interface StepNorms {
  /** ‖∂L/∂W‖. */
  grad: number[];
  /** ‖Δw‖ over the step. */
  update: number[];
  /** ‖w‖ before the step. */
  weight: number[];
}

/** The probe's pixels and row count, checked. */
export interface Probe {
  images: Float32Array;
  rows: number;
}

/**
 * A fixed probe batch: the first `rows` examples of a split (the validation set, say), the same
 * for every run and epoch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const split = { images: new Float32Array(3 * 784), labels: new Uint8Array(3), count: 3 };
 * assert.equal(probeBatch(split, 2).count, 2);
 * assert.equal(probeBatch(split).count, 3);
 * ```
 */
export function probeBatch(split: Split, rows = 500): Split {
  const count = Math.min(rows, split.count);
  return {
    images: split.images.slice(0, count * IMAGE_PIXELS),
    labels: split.labels.slice(0, count),
    count,
  };
}

/** Name of dense layer `l` (1-based), as `createModel` names it. */
export function layerName(l: number): string {
  return `linear${l}`;
}

/**
 * The dynamics column names of a stack of `layers` dense layers, in the order rows carry them.
 *
 * @param layers Dense layers (3 for the original network).
 * @returns E.g. `grad_norm_linear1`, …, `dead_fraction_linear2`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(dynamicsColumns(2), [
 *   "grad_norm_linear1", "grad_norm_linear2", "update_ratio_linear1", "update_ratio_linear2",
 *   "weight_norm_linear1", "weight_norm_linear2", "dead_fraction_linear1",
 * ]);
 * ```
 */
export function dynamicsColumns(layers: number): string[] {
  const names = Array.from({ length: layers }, (_, i) => layerName(i + 1));
  return [
    ...["grad_norm", "update_ratio", "weight_norm"].flatMap((m) => names.map((n) => `${m}_${n}`)),
    ...names.slice(0, -1).map((n) => `dead_fraction_${n}`),
  ];
}

/**
 * Checks the probe option and returns its pixels.
 *
 * @param options The `dynamics` option.
 * @param where What is being set up, for the error message.
 * @returns The pixels and row count.
 * @throws {TypeError} If the probe is neither a split nor a Float32Array of whole images.
 * @throws {RangeError} If it holds no image.
 */
export function probeOf(options: DynamicsOptions, where: string): Probe {
  const at = { action: where, subject: "option dynamics.probe" };
  const probe = options?.probe;
  const images = probe instanceof Float32Array ? probe : probe?.images;
  if (!(images instanceof Float32Array) || images.length % IMAGE_PIXELS !== 0) {
    typeError(at, "the probe", probe, `a Split or a Float32Array of ${IMAGE_PIXELS}-pixel rows`);
  }
  const rows = images.length / IMAGE_PIXELS;
  positiveInteger(at, "the number of probe images", rows);
  if (options.every !== undefined) {
    positiveInteger(
      { action: where, subject: "option dynamics.every" },
      "the step interval",
      options.every,
    );
  }
  if (options.until !== undefined && options.until !== Infinity) {
    positiveInteger(
      { action: where, subject: "option dynamics.until" },
      "the last step",
      options.until,
    );
  }
  return { images, rows };
}

/**
 * The 0-based batch of an epoch whose step is measured: the last full-size one, or the only one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(measuredBatch(51_000, 64), 795); // 796 full batches, then 56 examples
 * assert.equal(measuredBatch(128, 64), 1);
 * assert.equal(measuredBatch(10, 64), 0);
 * ```
 */
export function measuredBatch(count: number, batchSize: number): number {
  return Math.max(0, Math.floor(count / batchSize) - 1);
}

/**
 * The history columns of one epoch: the measured step's norms, the weight norms and dead
 * fractions at the epoch's end.
 *
 * @param norms The measured step (`null` when no step was measured: every column is NaN).
 * @param weightNorms ‖w‖ per dense layer at the epoch's end.
 * @param dead Dead fraction per hidden layer.
 * @returns Columns named as {@linkcode dynamicsColumns} names them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const row = dynamicsRow({ grad: [1, 2], update: [0.01, 0.1], weight: [10, 5] }, [10, 4], [0.25]);
 * assert.equal(row.update_ratio_linear2, 0.02);
 * assert.equal(row.dead_fraction_linear1, 0.25);
 * ```
 */
export function dynamicsRow(
  norms: StepNorms | null,
  weightNorms: readonly number[],
  dead: readonly number[],
): Record<string, number> {
  const row: Record<string, number> = {};
  weightNorms.forEach((_, i) => {
    row[`grad_norm_${layerName(i + 1)}`] = norms?.grad[i] ?? NaN;
  });
  weightNorms.forEach((_, i) => {
    row[`update_ratio_${layerName(i + 1)}`] = norms ? norms.update[i] / norms.weight[i] : NaN;
  });
  weightNorms.forEach((w, i) => row[`weight_norm_${layerName(i + 1)}`] = w);
  dead.forEach((d, i) => row[`dead_fraction_${layerName(i + 1)}`] = d);
  return row;
}

/** Euclidean norm in float64. */
export function vectorNorm(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  return Math.sqrt(sum);
}

/** ‖a − b‖ in float64. */
function distance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    sum += d * d;
  }
  return Math.sqrt(sum);
}

function kernelView(buffer: Float32Array, net: WideNet, k: number, l: number): Float32Array {
  const start = layerSlot(net, k, l).kernel;
  return buffer.subarray(start, start + net.sizes[l - 1] * net.sizes[l]);
}

/** ‖w‖ of each dense kernel of model k of a wide net. */
export function wideWeightNorms(net: WideNet, k: number): number[] {
  return net.sizes.slice(1).map((_, i) => vectorNorm(kernelView(net.params, net, k, i + 1)));
}

/**
 * One training step of every active model of a wide net, as `runSharedPass` takes it (forward,
 * loss head, backward, update), that also measures each model's kernel norms. The backward pass
 * writes plain gradients for this step (momentum not folded in), so they can be read before the
 * update; the update that follows is the same arithmetic (in another float32 rounding order, so a
 * measured run differs from an unmeasured one by rounding only).
 *
 * @returns Per model, its norms (`null` for inactive models).
 */
export function measuredWideStep(
  kernels: StepBlas,
  net: WideNet,
  images: Float32Array,
  labels: Int32Array,
  rows: number,
  rngs: Parameters<typeof forward>[4],
  head: HeadResult,
  learningRates: Float64Array,
  active: Uint8Array,
): (StepNorms | null)[] {
  forward(kernels, net, images, rows, rngs);
  lossHead(net, labels, rows, head);
  const fused = net.fusedMomenta;
  net.fusedMomenta = null;
  try {
    backward(kernels, net, images, rows);
    const layers = net.sizes.length - 1;
    const before: Float32Array[][] = [];
    const norms = Array.from({ length: net.models }, (_, k) => {
      if (!active[k]) return null;
      const grad: number[] = [], weight: number[] = [];
      before[k] = [];
      for (let l = 1; l <= layers; l++) {
        grad.push(vectorNorm(kernelView(net.grads, net, k, l)));
        before[k].push(kernelView(net.params, net, k, l).slice());
        weight.push(vectorNorm(before[k][l - 1]));
      }
      return { grad, weight, update: [] as number[] };
    });
    updateModels(kernels.blas, net, learningRates, active);
    norms.forEach((n, k) => {
      if (n === null) return;
      for (let l = 1; l <= layers; l++) {
        n.update.push(distance(kernelView(net.params, net, k, l), before[k][l - 1]));
      }
    });
    return norms;
  } finally {
    net.fusedMomenta = fused;
  }
}

const PROBE_CHUNK = 256;

/**
 * A counter of dead ReLU units for every model of a wide net on a fixed probe (dropout off).
 *
 * @returns A function giving, per model, the dead fraction of each hidden layer.
 */
export function wideDeadCounter(kernels: StepBlas, net: WideNet, probe: Probe): () => number[][] {
  const chunk = Math.min(PROBE_CHUNK, probe.rows);
  const acts = [
    net.acts[0],
    ...simdArrays(net.sizes.slice(1).map((units) => chunk * net.models * units)),
  ];
  const hidden = net.sizes.length - 2;
  return () => {
    const alive = Array.from(
      { length: hidden },
      (_, i) => new Uint8Array(net.models * net.sizes[i + 1]),
    );
    for (let start = 0; start < probe.rows; start += chunk) {
      const rows = Math.min(chunk, probe.rows - start);
      const x = probe.images.subarray(start * IMAGE_PIXELS, (start + rows) * IMAGE_PIXELS);
      forward(kernels, net, x, rows, null, acts);
      alive.forEach((flags, i) => {
        const act = acts[i + 1], wide = flags.length;
        for (let r = 0; r < rows; r++) {
          for (let u = 0; u < wide; u++) if (act[r * wide + u] > 0) flags[u] = 1;
        }
      });
    }
    return Array.from({ length: net.models }, (_, k) =>
      alive.map((flags, i) => {
        const units = net.sizes[i + 1];
        let dead = 0;
        for (let u = k * units; u < (k + 1) * units; u++) dead += 1 - flags[u];
        return dead / units;
      }));
  };
}
