/**
 * Learning-rate grids (and other hyperparameter grids) trained side by side: K models that share
 * the batch order take every step together, as one wide network (see `grid_step.ts`), so one pass
 * over the data trains them all. Each model's history equals what `train()` gives it alone, within
 * float32 rounding: same batches, same dropout masks, same update rules.
 *
 * Runs that cannot share a pass (a different augmentation function or layer sizes, a model the
 * hand-written backward pass does not cover, no BLAS library behind the backend) are trained in
 * groups or one by one with `train()`; the results come back in the order of the runs either way.
 * Runs share an augmentation only when they hold the same function object, so make one
 * `augmenter(...)` and hand it to every run that augments.
 *
 * A sweep trains the configurations its state file does not have yet as one grid:
 *
 * ```ts ignore
 * const models = pending.map(() => createModel({ seed }));
 * const results = await trainGrid(
 *   pending.map((c, i) => ({ model: models[i], optimizer: { kind: "sgd", learningRate: c.lr, momentum: 0.5 } })),
 *   splits.train,
 *   { epochs, seed, validation: splits.validation, onRunEnd: (i, result) => record(pending[i], result, models[i]) },
 * );
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type Blas } from "../backend/blas.ts";
import { currentBlas, threadedBlas } from "../backend/backend.ts";
import { IMAGE_PIXELS, type Split } from "../data/mnist.ts";
import { createOptimizer, type OptimizerConfig } from "../model/optimizer.ts";
import { createRng, deriveSeed, permutation, type Rng } from "../util/random.ts";
import { positiveInteger } from "../util/validate.ts";
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
  type WideNet,
} from "./grid_step.ts";
import {
  type CallbackResult,
  type EpochInfo,
  type EpochRow,
  ORIGINAL_OPTIMIZER,
  train,
  type TrainResult,
} from "./train.ts";
import { dropoutRate, hostTrainable, layerSizes, readWeights, writeWeights } from "./host_step.ts";

/** One configuration of a grid: a model (its initial weights, e.g. by seed) and how to train it. */
export interface GridRun {
  /** The model, trained in place: its final weights are written back when its run ends. */
  model: tf.LayersModel;
  /** Optimizer and hyperparameters. Default SGD 0.01 with momentum 0.5, the original's. */
  optimizer?: OptimizerConfig;
  /** Learning rate of each step (a schedule); default the optimizer's constant rate. */
  learningRateAt?: (step: number, stepsPerEpoch: number) => number;
  /** Epochs of this run; default the grid's `epochs`. */
  epochs?: number;
  /** Training images per epoch (augmentation); runs with the same function share a pass. */
  augment?: (images: Float32Array, epoch: number) => Float32Array;
}

/** Options shared by every run of a grid (those of `train()` that fix the data order). */
export interface TrainGridOptions {
  /** Epochs of every run that does not say. Default 30. */
  epochs?: number;
  /** Examples per step. Default 64. */
  batchSize?: number;
  /** Seed of the batch order and dropout masks, shared by all runs. Default 0. */
  seed?: number;
  /** Data evaluated after every epoch, for every run. */
  validation?: Split;
  /** A batch loss above this stops a run as diverged (see `train()`). Default 100. */
  divergenceLoss?: number;
  /** Called after each run's epoch; `"stop"` ends that run. */
  onEpochEnd?: (run: number, info: EpochInfo) => CallbackResult;
  /** Called when a run ends (all its epochs, diverged or stopped), with its result. */
  onRunEnd?: (run: number, result: TrainResult) => void | Promise<void>;
  /**
   * BLAS library for the side-by-side pass; default the one behind the `"wasm-blas"` backend.
   * `null` trains the runs one by one with `train()`.
   */
  blas?: Blas | null;
  /**
   * Threads for the two wide first-layer products (a threaded OpenBLAS, see `threadedBlas`).
   * `"auto"` (the default) times them with one thread and with every core at the start and keeps
   * two or more only when that is clearly faster, as it is not on a machine whose other cores
   * are busy. `1` never starts threads.
   *
   * @example 2
   */
  threads?: number | "auto";
}

/** What a run trained by {@linkcode trainGrid} gives back: `train()`'s result, and how it ran. */
export interface GridResult extends TrainResult {
  /** Runs that shared its pass over the batches (1 when it trained alone with `train()`). */
  sharedWith: number;
  /** Threads of the wide products in its pass (1 when alone or serial). */
  threads: number;
}

const GRID_DEFAULTS = { epochs: 30, batchSize: 64, seed: 0, divergenceLoss: 100 } as const;
const EVAL_ROWS = 500;

/**
 * Trains every run, sharing one pass over the batches among all runs that can share it.
 *
 * @param runs The configurations; each `model` is trained in place.
 * @param data The training examples.
 * @param options Epochs, batch size, seed, validation data, hooks.
 * @returns One result per run, in order, as `train()` would give it. `seconds` is the wall-clock
 * time from the grid's start to the run's end (runs in one pass share that time).
 * @throws {RangeError} On no runs, bad epochs or batch size, or an empty split.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createModel } from "../model/network.ts";
 * import { setupBackend } from "../backend/backend.ts";
 * await setupBackend({ log: false });
 * const data = {
 *   images: Float32Array.from({ length: 8 * 784 }, (_, i) => (i % 7) / 7),
 *   labels: Uint8Array.from({ length: 8 }, (_, i) => i % 10),
 *   count: 8,
 * };
 * const runs = [0.01, 0.1].map((learningRate) => ({
 *   model: createModel(),
 *   optimizer: { kind: "sgd" as const, learningRate, momentum: 0.5 },
 * }));
 * const results = await trainGrid(runs, data, { epochs: 2, batchSize: 4 });
 * assert.deepEqual(results.map((r) => r.epochs), [2, 2]);
 * runs.forEach((run) => run.model.dispose());
 * ```
 */
export async function trainGrid(
  runs: readonly GridRun[],
  data: Split,
  options: TrainGridOptions = {},
): Promise<GridResult[]> {
  const settings: Settings = { ...GRID_DEFAULTS, ...options };
  const where = { action: "train grid", subject: `${runs.length} runs` };
  if (runs.length === 0) positiveInteger(where, "the number of runs", 0);
  positiveInteger(where, "option epochs", settings.epochs);
  positiveInteger(where, "option batchSize", settings.batchSize);
  if (settings.threads !== undefined && settings.threads !== "auto") {
    positiveInteger(where, "option threads", settings.threads);
  }
  runs.forEach((run, i) => {
    if (run.epochs !== undefined) positiveInteger(where, `run ${i + 1}'s epochs`, run.epochs);
  });
  if (data.count === 0) positiveInteger(where, "the number of training examples", 0);
  const blas = options.blas === undefined ? currentBlas() : options.blas;
  const start = performance.now();
  const results: GridResult[] = new Array(runs.length);
  for (const group of shareGroups(runs, blas)) {
    if (blas === null || group.length === 1 && !canShare(runs[group[0]])) {
      for (const i of group) {
        results[i] = await trainAlone(runs[i], i, data, settings, start);
        await options.onRunEnd?.(i, results[i]);
      }
      continue;
    }
    await trainSideBySide(blas, group, runs, data, settings, start, results);
  }
  return results;
}

/** Indices of runs that can share a pass (same augmentation, dense model of the same shape). */
function shareGroups(runs: readonly GridRun[], blas: Blas | null): number[][] {
  const groups = new Map<unknown, Map<string, number[]>>();
  const alone: number[][] = [];
  runs.forEach((run, i) => {
    if (blas === null || !canShare(run)) {
      alone.push([i]);
      return;
    }
    const byShape = groups.get(run.augment) ?? new Map<string, number[]>();
    groups.set(run.augment, byShape);
    const key = layerSizes(run.model).join("-");
    byShape.set(key, [...(byShape.get(key) ?? []), i]);
  });
  const shared = [...groups.values()].flatMap((byShape) => [...byShape.values()]);
  return [...shared, ...alone];
}

function canShare(run: GridRun): boolean {
  return hostTrainable(run.model);
}

type Settings = TrainGridOptions & {
  epochs: number;
  batchSize: number;
  seed: number;
  divergenceLoss: number;
};

async function trainAlone(
  run: GridRun,
  index: number,
  data: Split,
  settings: Settings,
  start: number,
): Promise<GridResult> {
  const result = await train(run.model, data, {
    epochs: run.epochs ?? settings.epochs,
    batchSize: settings.batchSize,
    seed: settings.seed,
    optimizer: run.optimizer ?? ORIGINAL_OPTIMIZER,
    learningRateAt: run.learningRateAt,
    validation: settings.validation,
    augment: run.augment,
    divergenceLoss: settings.divergenceLoss,
    callbacks: settings.onEpochEnd
      ? { onEpochEnd: (info) => settings.onEpochEnd!(index, info) }
      : undefined,
  });
  return { ...result, seconds: (performance.now() - start) / 1000, sharedWith: 1, threads: 1 };
}

/** Where one run of a shared pass stands. */
interface RunState {
  index: number;
  epochs: number;
  history: EpochRow[];
  diverged: TrainResult["diverged"];
  stopped: boolean;
  completed: number;
  lossSum: number;
  correctSum: number;
  done: boolean;
}

async function trainSideBySide(
  blas: Blas,
  group: number[],
  runs: readonly GridRun[],
  data: Split,
  settings: Settings,
  start: number,
  results: GridResult[],
): Promise<void> {
  const { batchSize, seed, divergenceLoss, validation } = settings;
  const members = group.map((i) => runs[i]);
  const sizes = layerSizes(members[0].model);
  for (const run of members) createOptimizer(run.optimizer ?? ORIGINAL_OPTIMIZER).dispose(); // validates
  const specs = members.map((run) => ({
    optimizer: run.optimizer ?? ORIGINAL_OPTIMIZER,
    dropout: dropoutRate(run.model),
  }));
  const net = createWideNet(sizes, specs, batchSize);
  members.forEach((run, k) => setModelWeights(net, k, readWeights(run.model)));
  const states: RunState[] = members.map((run, k) => ({
    index: group[k],
    epochs: run.epochs ?? settings.epochs,
    history: [],
    diverged: null,
    stopped: false,
    completed: 0,
    lossSum: 0,
    correctSum: 0,
    done: false,
  }));
  const K = members.length;
  const batches = Math.ceil(data.count / batchSize);
  const maxEpochs = Math.max(...states.map((s) => s.epochs));
  const anyDropout = specs.some((s) => s.dropout > 0);
  const batchImages = new Float32Array(batchSize * IMAGE_PIXELS);
  const batchLabels = new Int32Array(batchSize);
  const head: HeadResult = { loss: new Float64Array(K), correct: new Int32Array(K) };
  const learningRates = new Float64Array(K);
  const active = new Uint8Array(K);
  const threadsBefore = threadedBlas()?.info.threads ?? 1;
  const kernels = { blas, wide: chooseWideBlas(blas, net, settings.threads ?? "auto") };
  const threads = kernels.wide === blas ? 1 : kernels.wide.info.threads ?? 1;
  const evaluator = validation ? createEvaluator(kernels, net) : null;
  const finish = async (k: number) => {
    const state = states[k];
    state.done = true;
    writeWeights(members[k].model, getModelWeights(net, k));
    clearModel(net, k);
    const result: GridResult = {
      history: state.history,
      diverged: state.diverged,
      stopped: state.stopped,
      epochs: state.completed,
      seconds: (performance.now() - start) / 1000,
      gradients: "dense",
      sharedWith: K,
      threads,
    };
    results[state.index] = result;
    await settings.onRunEnd?.(state.index, result);
  };

  try {
    for (let epoch = 1; epoch <= maxEpochs && states.some((s) => !s.done); epoch++) {
      const epochStart = performance.now();
      const augment = members[0].augment;
      const pixels = augment ? augment(data.images, epoch) : data.images;
      const order = permutation(data.count, createRng(deriveSeed(seed, epoch)));
      const rngs: (Rng | null)[] | null = anyDropout
        ? specs.map((s) => (s.dropout > 0 ? createRng(deriveSeed(seed, epoch, 1)) : null))
        : null;
      for (const state of states) state.lossSum = state.correctSum = 0;
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
        states.forEach((state, k) => {
          active[k] = state.done ? 0 : 1;
          const run = members[k];
          learningRates[k] = run.learningRateAt?.(step, batches) ?? specs[k].optimizer.learningRate;
        });
        forward(kernels, net, batchImages, rows, rngs);
        lossHead(net, batchLabels, rows, head);
        backward(kernels, net, batchImages, rows);
        updateModels(blas, net, learningRates, active);
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
      const evaluation = running && evaluator && validation ? evaluator(validation) : null;
      for (let k = 0; k < K; k++) {
        const state = states[k];
        if (state.done) continue;
        const rows: EpochRow[] = [{
          epoch,
          split: "train",
          loss: state.lossSum / data.count,
          accuracy: state.correctSum / data.count,
        }];
        if (evaluation) rows.push({ epoch, split: "validation", ...evaluation[k] });
        state.history.push(...rows);
        state.completed = epoch;
        const verdict = await settings.onEpochEnd?.(state.index, {
          epoch,
          epochs: state.epochs,
          rows,
          history: state.history,
          seconds: (performance.now() - epochStart) / 1000,
          elapsed: (performance.now() - start) / 1000,
        });
        if (verdict === "stop") state.stopped = true;
        if (state.stopped || epoch >= state.epochs) await finish(k);
      }
    }
  } finally {
    if (kernels.wide !== blas) kernels.wide.setThreads(threadsBefore);
  }
}

/**
 * The library for the wide products: the threaded one with every core when the caller asks for
 * threads, or when `"auto"` measures it at least a quarter faster than one thread on this
 * grid's forward product (best of five each, alternated); else the serial `blas`.
 */
function chooseWideBlas(blas: Blas, net: WideNet, threads: number | "auto"): Blas {
  const cores = navigator.hardwareConcurrency ?? 1;
  if (threads === 1 || cores < 2) return blas;
  const threaded = threadedBlas();
  if (threaded === null) return blas;
  const wanted = threads === "auto" ? cores : threads;
  if (threads !== "auto") {
    threaded.setThreads(wanted);
    return threaded;
  }
  const [inputs, units] = net.sizes;
  const rows = net.maxRows, wide = net.models * units;
  const x = new Float32Array(rows * inputs).fill(0.5);
  const out = new Float32Array(rows * wide);
  const time = (lib: Blas) => {
    const begin = performance.now();
    for (let i = 0; i < 3; i++) {
      lib.sgemm(false, true, rows, wide, inputs, 1, x, inputs, net.params, inputs, 0, out, wide);
    }
    return performance.now() - begin;
  };
  let one = Infinity, many = Infinity;
  for (let round = 0; round < 5; round++) {
    threaded.setThreads(1);
    one = Math.min(one, time(threaded));
    threaded.setThreads(wanted);
    many = Math.min(many, time(threaded));
  }
  if (many < 0.75 * one) return threaded;
  threaded.setThreads(1);
  return blas;
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
  return (split: Split) => {
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
