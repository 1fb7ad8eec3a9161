/**
 * One pass of a grid: K models that share the batch order trained epoch by epoch on plain typed
 * arrays (no tfjs), so it runs the same in the main thread and in a worker. The caller supplies the
 * initial weights and hears about every epoch and every finished run through hooks.
 *
 * @module
 */
import { IMAGE_PIXELS } from "../data/mnist.ts";
import { createRng, deriveSeed, permutation, type Rng } from "../util/random.ts";
import {
  backward,
  clearModel,
  createWideNet,
  forward,
  getModelWeights,
  type HeadResult,
  lossHead,
  setModelWeights,
  type StepBlas,
  updateModels,
  type WideModelSpec,
  type WideNet,
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
  const net = createWideNet(sizes, specs, batchSize);
  job.weights.forEach((weights, k) => setModelWeights(net, k, weights));
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
  const active = new Uint8Array(K);
  const evaluate = validation ? createEvaluator(kernels, net) : null;
  const probe = job.probe ?? null;
  const countDead = probe
    ? wideDeadCounter(kernels, net, { images: probe, rows: probe.length / IMAGE_PIXELS })
    : null;
  const measured = measuredBatch(data.count, batchSize);
  let norms: (StepNorms | null)[] = [];
  const stepMeasured = stepsToMeasure({
    probe: probe!,
    every: job.probeEvery,
    until: job.probeUntil,
  });
  const finish = async (k: number) => {
    const state = states[k];
    state.done = true;
    const weights = getModelWeights(net, k);
    clearModel(net, k);
    const { history, diverged, stopped, completed, stepDynamics } = state;
    await hooks.onFinish(k, weights, {
      history,
      diverged,
      stopped,
      epochs: completed,
      stepDynamics,
    });
  };

  for (let epoch = 1; epoch <= maxEpochs && states.some((s) => !s.done); epoch++) {
    const epochStart = performance.now();
    const pixels = job.augment ? job.augment(data.images, epoch) : data.images;
    const order = permutation(data.count, createRng(deriveSeed(seed, epoch)));
    const rngs: (Rng | null)[] | null = anyDropout
      ? specs.map((s) => (s.dropout > 0 ? createRng(deriveSeed(seed, epoch, 1)) : null))
      : null;
    for (const state of states) state.lossSum = state.correctSum = 0;
    norms = [];
    for (let b = 0; b < batches && states.some((s) => !s.done); b++) {
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
      for (let k = 0; k < K; k++) {
        active[k] = states[k].done ? 0 : 1;
        learningRates[k] = job.learningRate(k, step, batches);
      }
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
        if (b === measured) norms = stepNorms;
        if (recordStep) {
          const dead = countDead();
          for (let k = 0; k < K; k++) {
            if (!active[k]) continue;
            const columns = dynamicsRow(stepNorms[k], wideWeightNorms(net, k), dead[k]);
            const where = { step: step + 1, epoch, batch: b + 1, loss: head.loss[k] };
            states[k].stepDynamics.push({ ...where, ...columns });
          }
        }
      } else {
        forward(kernels, net, batchImages, rows, rngs);
        lossHead(net, batchLabels, rows, head);
        backward(kernels, net, batchImages, rows);
        updateModels(kernels.blas, net, learningRates, active);
      }
      for (let k = 0; k < K; k++) {
        const state = states[k];
        if (state.done) continue;
        const loss = head.loss[k];
        if (!(loss <= divergenceLoss)) { // NaN fails every comparison
          state.diverged = { epoch, batch: b + 1, loss };
          await finish(k);
          continue;
        }
        state.lossSum += loss * rows;
        state.correctSum += head.correct[k];
      }
    }
    const running = states.some((s) => !s.done);
    const evaluation = running && evaluate && validation ? evaluate(validation) : null;
    const dead = running && countDead ? countDead() : null;
    for (let k = 0; k < K; k++) {
      const state = states[k];
      if (state.done) continue;
      const rows: HistoryRow[] = [{
        epoch,
        split: "train",
        loss: state.lossSum / data.count,
        accuracy: state.correctSum / data.count,
      }];
      if (dead) {
        Object.assign(rows[0], dynamicsRow(norms[k] ?? null, wideWeightNorms(net, k), dead[k]));
      }
      if (evaluation) rows.push({ epoch, split: "validation", ...evaluation[k] });
      state.history.push(...rows);
      state.completed = epoch;
      if (await hooks.onEpoch(k, epoch, rows, (performance.now() - epochStart) / 1000)) {
        state.stopped = true;
      }
      if (state.stopped || epoch >= state.epochs) await finish(k);
    }
  }
}

/** Validation loss and accuracy of all K models, in chunks of {@linkcode EVAL_ROWS}. */
function createEvaluator(kernels: StepBlas, net: WideNet) {
  const acts = net.acts.map((
    a,
    l,
  ) => (l === 0 ? a : new Float32Array(EVAL_ROWS * net.models * net.sizes[l])));
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
