/**
 * One pass of a grid: K models that share the batch order trained epoch by epoch on plain typed
 * arrays (no tfjs), so it runs the same in the main thread and in a worker. The caller supplies the
 * initial weights and hears about every epoch and every finished run through hooks.
 *
 * @module
 */
import { IMAGE_PIXELS } from "../data/shape.ts";
import { simdArrays } from "../backend/simd.ts";
import { createRng, deriveSeed, permutation, type Rng } from "../util/random.ts";
import {
  createWideNet,
  getModelWeights,
  keepModels,
  setModelWeights,
  type WideModelSpec,
  type WideNet,
} from "./wide_net.ts";
import {
  backward,
  forward,
  type HeadResult,
  lossHead,
  type StepBlas,
  updateModels,
} from "./grid_step.ts";
import type { DenseWeights } from "./host_step.ts";
import {
  dynamicsRow,
  type DynamicsStep,
  measuredBatch,
  measuredWideStep,
  type StepNorms,
  stepsToMeasure,
  wideDeadCounter,
  wideWeightNorms,
} from "./dynamics.ts";
import type { TrainResult } from "./train.ts";
import type { HistoryRow } from "./history.ts";

/** Examples as typed arrays (a `Split`). */
export interface PassData {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

/** What a pass trains. */
export interface PassJob {
  /** Layer widths, inputs first. */
  sizes: number[];
  /** Each model's optimizer and dropout. */
  specs: WideModelSpec[];
  /** Each model's initial weights, per dense layer. */
  weights: DenseWeights[][];
  data: PassData;
  validation: PassData | null;
  batchSize: number;
  seed: number;
  /** Epochs of each model. */
  epochs: number[];
  divergenceLoss: number;
  /** Learning rate of model k at a step. */
  learningRate: (k: number, step: number, stepsPerEpoch: number) => number;
  /** Training images of an epoch (augmentation), shared by all models. */
  augment?: (images: Float32Array, epoch: number) => Float32Array;
  /**
   * The order the pixels of `data`, `validation` and `probe` are in (`inkOrder`), which the first
   * layer's weights then follow; absent for the images' own order.
   */
  pixelOrder?: Int32Array | null;
  /** Pixels of the dynamics probe (`rows × 784`), or `null` to record no dynamics. */
  probe?: Float32Array | null;
  /** With a probe: also measure every `probeEvery`-th step up to step `probeUntil` (1-based). */
  probeEvery?: number;
  probeUntil?: number;
}

/** How a model's run ended. */
export interface PassOutcome {
  history: HistoryRow[];
  diverged: TrainResult["diverged"];
  stopped: boolean;
  /** Epochs completed. */
  epochs: number;
  /** The steps measured with `probeEvery` (empty without). */
  stepDynamics: DynamicsStep[];
}

/** Hooks of a pass; each may be async. */
export interface PassHooks {
  /** After model k's epoch: its rows and the epoch's seconds. Return `true` to stop model k. */
  onEpoch(
    k: number,
    epoch: number,
    rows: HistoryRow[],
    seconds: number,
  ): boolean | Promise<boolean>;
  /** When model k's run ends: its final weights and outcome. */
  onFinish(k: number, weights: DenseWeights[], outcome: PassOutcome): void | Promise<void>;
  /** After every step, for live views; awaiting it pauses the pass (the learning-rate lab's). */
  onStep?(step: PassStep): void | Promise<void>;
}

/** What {@linkcode PassHooks.onStep} hears after a step. */
export interface PassStep {
  /** Steps done (1-based), over all epochs. */
  step: number;
  epoch: number;
  /** Batch of the epoch (1-based) and batches per epoch. */
  batch: number;
  batches: number;
  /** Images in the step's batch. */
  rows: number;
  /** The batch's mean loss per model; NaN for a model that is no longer running. */
  losses: Float64Array;
  /** A running model's current weights (a copy); `null` once it has finished. */
  weightsOf(k: number): DenseWeights[] | null;
}

const EVAL_ROWS = 500;

/**
 * Trains every model of the job to its end, calling the hooks.
 *
 * @param kernels The BLAS libraries (`wide` for the all-model products).
 * @param job What to train.
 * @param hooks Epoch and finish hooks.
 */
export async function runSharedPass(
  kernels: StepBlas,
  job: PassJob,
  hooks: PassHooks,
): Promise<void> {
  const { sizes, specs, data, validation, batchSize, seed, divergenceLoss } = job;
  const K = specs.length;
  // The wide net holds the running models only: `slots[i]` is the run in its place i. Runs with
  // the same momentum sit side by side, so the backward pass fuses them in one product.
  let slots = specs.map((_, k) => k).sort((a, b) => momentumOf(specs[a]) - momentumOf(specs[b]));
  let net = createWideNet(sizes, slots.map((k) => specs[k]), batchSize, job.pixelOrder ?? null);
  slots.forEach((k, i) => setModelWeights(net, i, job.weights[k]));
  const states = specs.map((_, k) => ({
    epochs: job.epochs[k],
    history: [] as HistoryRow[],
    diverged: null as TrainResult["diverged"],
    stopped: false,
    completed: 0,
    lossSum: 0,
    correctSum: 0,
    done: false,
    stepDynamics: [] as DynamicsStep[],
  }));
  const batches = Math.ceil(data.count / batchSize);
  const maxEpochs = Math.max(...job.epochs);
  const anyDropout = specs.some((s) => s.dropout > 0);
  const batchImages = new Float32Array(batchSize * IMAGE_PIXELS);
  const batchLabels = new Int32Array(batchSize);
  const head: HeadResult = { loss: new Float64Array(K), correct: new Int32Array(K) };
  const learningRates = new Float64Array(K);
  const active = new Uint8Array(K).fill(1);
  const stepLosses = new Float64Array(K);
  const probe = job.probe ?? null;
  const helpers = () => ({
    evaluate: validation ? createEvaluator(kernels, net) : null,
    countDead: probe
      ? wideDeadCounter(kernels, net, { images: probe, rows: probe.length / IMAGE_PIXELS })
      : null,
  });
  let { evaluate, countDead } = helpers();
  const measured = measuredBatch(data.count, batchSize);
  /** The measured batch's norms of this epoch, per run. */
  let norms: (StepNorms | null)[] = [];
  const stepMeasured = stepsToMeasure({
    probe: probe!,
    every: job.probeEvery,
    until: job.probeUntil,
  });
  const finish = async (k: number) => {
    const state = states[k];
    state.done = true;
    const weights = getModelWeights(net, slots.indexOf(k));
    const { history, diverged, stopped, completed, stepDynamics } = state;
    await hooks.onFinish(k, weights, {
      history,
      diverged,
      stopped,
      epochs: completed,
      stepDynamics,
    });
  };
  /** Drops finished runs from the wide net. */
  const compact = () => {
    const keep = slots.flatMap((k, i) => (states[k].done ? [] : [i]));
    if (keep.length === slots.length) return;
    slots = keep.map((i) => slots[i]);
    if (keep.length === 0) return;
    net = keepModels(net, keep);
    ({ evaluate, countDead } = helpers());
  };

  for (let epoch = 1; epoch <= maxEpochs && slots.length > 0; epoch++) {
    const epochStart = performance.now();
    const pixels = job.augment ? job.augment(data.images, epoch) : data.images;
    const order = permutation(data.count, createRng(deriveSeed(seed, epoch)));
    // Every run draws its own masks from the same stream, as it would alone.
    const runRngs: (Rng | null)[] = specs.map((s) =>
      anyDropout && s.dropout > 0 ? createRng(deriveSeed(seed, epoch, 1)) : null
    );
    for (const state of states) state.lossSum = state.correctSum = 0;
    norms = [];
    for (let b = 0; b < batches && slots.length > 0; b++) {
      const indices = order.subarray(b * batchSize, Math.min((b + 1) * batchSize, data.count));
      const rows = indices.length;
      for (let i = 0; i < rows; i++) {
        const j = indices[i];
        batchImages.set(
          pixels.subarray(j * IMAGE_PIXELS, (j + 1) * IMAGE_PIXELS),
          i * IMAGE_PIXELS,
        );
        batchLabels[i] = data.labels[j];
      }
      const step = (epoch - 1) * batches + b;
      slots.forEach((k, i) => (learningRates[i] = job.learningRate(k, step, batches)));
      const rngs = anyDropout ? slots.map((k) => runRngs[k]) : null;
      const recordStep = countDead !== null && stepMeasured(step);
      if (countDead && (b === measured || recordStep)) {
        const stepNorms = measuredWideStep(
          kernels,
          net,
          batchImages,
          batchLabels,
          rows,
          rngs,
          head,
          learningRates,
          active,
        );
        if (b === measured) slots.forEach((k, i) => (norms[k] = stepNorms[i]));
        if (recordStep) {
          const dead = countDead();
          slots.forEach((k, i) => {
            const columns = dynamicsRow(stepNorms[i], wideWeightNorms(net, i), dead[i]);
            const where = { step: step + 1, epoch, batch: b + 1, loss: head.loss[i] };
            states[k].stepDynamics.push({ ...where, ...columns });
          });
        }
      } else {
        forward(kernels, net, batchImages, rows, rngs);
        lossHead(net, batchLabels, rows, head);
        backward(kernels, net, batchImages, rows);
        updateModels(kernels.blas, net, learningRates, active);
      }
      let finished = false;
      for (const [i, k] of slots.entries()) {
        const state = states[k];
        const loss = head.loss[i];
        if (!(loss <= divergenceLoss)) { // NaN fails every comparison
          state.diverged = { epoch, batch: b + 1, loss };
          await finish(k);
          finished = true;
          continue;
        }
        state.lossSum += loss * rows;
        state.correctSum += head.correct[i];
      }
      if (finished) compact();
      if (hooks.onStep) {
        stepLosses.fill(NaN);
        slots.forEach((k, i) => (stepLosses[k] = head.loss[i]));
        const weightsOf = (k: number) =>
          slots.includes(k) ? getModelWeights(net, slots.indexOf(k)) : null;
        await hooks.onStep({
          step: step + 1,
          epoch,
          batch: b + 1,
          batches,
          rows,
          losses: stepLosses,
          weightsOf,
        });
      }
    }
    const evaluation = slots.length > 0 && evaluate && validation ? evaluate(validation) : null;
    const dead = slots.length > 0 && countDead ? countDead() : null;
    for (const [i, k] of [...slots.entries()]) {
      const state = states[k];
      const rows: HistoryRow[] = [{
        epoch,
        split: "train",
        loss: state.lossSum / data.count,
        accuracy: state.correctSum / data.count,
      }];
      if (dead) {
        Object.assign(rows[0], dynamicsRow(norms[k] ?? null, wideWeightNorms(net, i), dead[i]));
      }
      if (evaluation) rows.push({ epoch, split: "validation", ...evaluation[i] });
      state.history.push(...rows);
      state.completed = epoch;
      if (await hooks.onEpoch(k, epoch, rows, (performance.now() - epochStart) / 1000)) {
        state.stopped = true;
      }
      if (state.stopped || epoch >= state.epochs) await finish(k);
    }
    compact();
  }
}

/** The momentum a model's backward pass folds in (SGD's; 0 for others, which fold none). */
function momentumOf(spec: WideModelSpec): number {
  return spec.optimizer.kind === "sgd" ? spec.optimizer.momentum ?? 0 : 0;
}

/** Validation loss and accuracy of all K models, in chunks of {@linkcode EVAL_ROWS}. */
function createEvaluator(kernels: StepBlas, net: WideNet) {
  const acts = [
    net.acts[0],
    ...simdArrays(net.sizes.slice(1).map((units) => EVAL_ROWS * net.models * units)),
  ];
  const head: HeadResult = {
    loss: new Float64Array(net.models),
    correct: new Int32Array(net.models),
  };
  return (split: PassData) => {
    const loss = new Float64Array(net.models), correct = new Float64Array(net.models);
    for (let startRow = 0; startRow < split.count; startRow += EVAL_ROWS) {
      const rows = Math.min(EVAL_ROWS, split.count - startRow);
      const x = split.images.subarray(startRow * IMAGE_PIXELS, (startRow + rows) * IMAGE_PIXELS);
      forward(kernels, net, x, rows, null, acts);
      lossHead(net, split.labels.subarray(startRow, startRow + rows), rows, head, false, acts);
      for (let k = 0; k < net.models; k++) {
        loss[k] += head.loss[k] * rows;
        correct[k] += head.correct[k];
      }
    }
    return Array.from({ length: net.models }, (_, k) => ({
      loss: loss[k] / split.count,
      accuracy: correct[k] / split.count,
    }));
  };
}
