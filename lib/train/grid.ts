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
import type { Split } from "../data/mnist.ts";
import { createOptimizer, type OptimizerConfig } from "../model/optimizer.ts";
import { positiveInteger } from "../util/validate.ts";
import { type PassData, type PassHooks, type PassJob, runSharedPass } from "./grid_pass.ts";
import type { WorkerJob } from "./grid_worker.ts";
import {
  type CallbackResult,
  type EpochInfo,
  ORIGINAL_OPTIMIZER,
  train,
  type TrainResult,
} from "./train.ts";
import type { HistoryRow } from "./history.ts";
import { type DynamicsOptions, probeOf } from "./dynamics.ts";
import { dropoutRate, hostTrainable, layerSizes, readWeights, writeWeights } from "./host_step.ts";
import { inkOrder, inPixelOrder } from "./pixel_order.ts";

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
  /**
   * Seed of this run's batch order and dropout masks; default the grid's `seed`. Runs with
   * different seeds cannot share a pass: each seed's runs form a pass of their own, and the
   * passes are spread over the workers together, so no core waits for another seed's pass.
   */
  seed?: number;
}

/** Options shared by every run of a grid (those of `train()` that fix the data order). */
export interface TrainGridOptions {
  /** Epochs of every run that does not say. Default 30. */
  epochs?: number;
  /** Examples per step. Default 64. */
  batchSize?: number;
  /** Seed of the batch order and dropout masks of every run that does not say. Default 0. */
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
  /**
   * Workers to split a pass over, each training its share of the runs on its own core (with a
   * threaded OpenBLAS at one thread each, the data shared rather than copied). Pays when the
   * other cores are free: everything runs in parallel, not just the wide products. Runs that
   * augment stay in the main thread. `"auto"` (the default) uses one worker per core for a pass
   * long enough to repay starting them (about 5 s or more on one core) when the quick timing of
   * `threads` finds the other cores free; else 1 (no worker).
   *
   * @example 2
   */
  workers?: number | "auto";
  /**
   * Record per-layer gradient norms, update ratios, weight norms and dead ReLU units in each
   * run's `train` rows, as `train()` does (see `dynamics.ts`).
   */
  dynamics?: DynamicsOptions;
}

/** What a run trained by {@linkcode trainGrid} gives back: `train()`'s result, and how it ran. */
export interface GridResult extends TrainResult {
  /** Runs that shared its pass over the batches (1 when it trained alone with `train()`). */
  sharedWith: number;
  /** Threads of the wide products in its pass (1 when alone or serial). */
  threads: number;
  /** Workers its pass was split over (1: the main thread). */
  workers: number;
}

const GRID_DEFAULTS = { epochs: 30, batchSize: 64, seed: 0, divergenceLoss: 100 } as const;

/**
 * Trains every run, sharing one pass over the batches among all runs that can share it.
 *
 * @param runs The configurations; each `model` is trained in place.
 * @param data The training examples.
 * @param options Epochs, batch size, seed, validation data, hooks.
 * @returns One result per run, in order, as `train()` would give it. `seconds` is the wall-clock
 * time from the start of the run's pass to its end (the runs of one pass share that clock).
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
  if (settings.workers !== undefined && settings.workers !== "auto") {
    positiveInteger(where, "option workers", settings.workers);
  }
  runs.forEach((run, i) => {
    if (run.epochs !== undefined) positiveInteger(where, `run ${i + 1}'s epochs`, run.epochs);
  });
  if (data.count === 0) positiveInteger(where, "the number of training examples", 0);
  if (settings.dynamics) probeOf(settings.dynamics, "train grid");
  const blas = options.blas === undefined ? currentBlas() : options.blas;
  const results: GridResult[] = new Array(runs.length);
  const groups = shareGroups(runs, blas, settings.seed);
  const passes = blas === null ? [] : groups.filter((g) => g.length > 1 || canShare(runs[g[0]]));
  if (blas !== null && passes.length > 0) {
    await trainSideBySide(blas, passes, runs, data, settings, results);
  }
  for (const group of groups.filter((g) => !passes.includes(g))) {
    for (const i of group) {
      results[i] = await trainAlone(runs[i], i, data, settings);
      await options.onRunEnd?.(i, results[i]);
    }
  }
  return results;
}

/**
 * Indices of runs that can share a pass (same seed and augmentation, dense model of the same
 * shape), in order of first appearance; runs that cannot share alone.
 */
function shareGroups(runs: readonly GridRun[], blas: Blas | null, seed: number): number[][] {
  const groups = new Map<unknown, Map<string, number[]>>();
  const alone: number[][] = [];
  runs.forEach((run, i) => {
    if (blas === null || !canShare(run)) {
      alone.push([i]);
      return;
    }
    const byKey = groups.get(run.augment) ?? new Map<string, number[]>();
    groups.set(run.augment, byKey);
    const key = `${run.seed ?? seed}/${layerSizes(run.model).join("-")}`;
    byKey.set(key, [...(byKey.get(key) ?? []), i]);
  });
  const shared = [...groups.values()].flatMap((byKey) => [...byKey.values()]);
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
): Promise<GridResult> {
  const result = await train(run.model, data, {
    epochs: run.epochs ?? settings.epochs,
    batchSize: settings.batchSize,
    seed: run.seed ?? settings.seed,
    optimizer: run.optimizer ?? ORIGINAL_OPTIMIZER,
    learningRateAt: run.learningRateAt,
    validation: settings.validation,
    augment: run.augment,
    divergenceLoss: settings.divergenceLoss,
    dynamics: settings.dynamics,
    callbacks: settings.onEpochEnd
      ? { onEpochEnd: (info) => settings.onEpochEnd!(index, info) }
      : undefined,
  });
  return { ...result, sharedWith: 1, threads: 1, workers: 1 };
}

/** Builds a pass job for the runs of one group (their initial weights read from the models). */
function passJob(group: number[], runs: readonly GridRun[], data: Split, settings: Settings) {
  const members = group.map((i) => runs[i]);
  for (const run of members) createOptimizer(run.optimizer ?? ORIGINAL_OPTIMIZER).dispose(); // validates
  const specs = members.map((run) => ({
    optimizer: run.optimizer ?? ORIGINAL_OPTIMIZER,
    dropout: dropoutRate(run.model),
  }));
  // Unless the images change every epoch (augmentation), the pass sees them in ink order.
  const augment = members[0].augment;
  const order = augment === undefined ? inkOrder(data.images) : null;
  const ordered = <S extends PassData>(split: S): S =>
    order === null ? split : { ...split, images: inPixelOrder(split.images, order) };
  const probe = settings.dynamics ? probeOf(settings.dynamics, "train grid").images : null;
  const job: PassJob = {
    sizes: layerSizes(members[0].model),
    specs,
    weights: members.map((run) => readWeights(run.model)),
    data: ordered(data),
    validation: settings.validation ? ordered(settings.validation) : null,
    pixelOrder: order,
    batchSize: settings.batchSize,
    seed: members[0].seed ?? settings.seed,
    epochs: members.map((run) => run.epochs ?? settings.epochs),
    divergenceLoss: settings.divergenceLoss,
    learningRate: (k, step, batches) =>
      members[k].learningRateAt?.(step, batches) ?? specs[k].optimizer.learningRate,
    augment,
    probe: probe && order ? inPixelOrder(probe, order) : probe,
    probeEvery: settings.dynamics?.every,
    probeUntil: settings.dynamics?.until,
  };
  return job;
}

/** What the hooks of a pass do in the main thread: callbacks, weights back into the models. */
function mainHooks(
  group: number[],
  runs: readonly GridRun[],
  job: PassJob,
  settings: Settings,
  start: number,
  results: GridResult[],
  how: { sharedWith: number; threads: number; workers: number },
): PassHooks {
  const histories = group.map(() => [] as HistoryRow[]);
  return {
    async onEpoch(k, epoch, rows, seconds) {
      histories[k].push(...rows);
      const verdict = await settings.onEpochEnd?.(group[k], {
        epoch,
        epochs: job.epochs[k],
        rows,
        history: histories[k],
        seconds,
        elapsed: (performance.now() - start) / 1000,
      });
      return verdict === "stop";
    },
    async onFinish(k, weights, outcome) {
      writeWeights(runs[group[k]].model, weights);
      const result: GridResult = {
        ...outcome,
        seconds: (performance.now() - start) / 1000,
        gradients: "dense",
        ...how,
      };
      results[group[k]] = result;
      await settings.onRunEnd?.(group[k], result);
    },
  };
}

/**
 * Trains each group's runs as one pass: split over workers when they pay (every pass that does not
 * augment goes into one queue the workers share), else one pass after another in this thread.
 */
async function trainSideBySide(
  blas: Blas,
  groups: number[][],
  runs: readonly GridRun[],
  data: Split,
  settings: Settings,
  results: GridResult[],
): Promise<void> {
  const jobs = groups.map((group) => passJob(group, runs, data, settings));
  const pooled = jobs.flatMap((job, g) => (job.augment === undefined ? [g] : []));
  const workers = chooseWorkers(pooled.map((g) => jobs[g]), settings.workers ?? "auto");
  if (workers > 1) {
    await trainInWorkers(workers, pooled.map((g) => groups[g]), runs, pooled.map((g) => jobs[g]), {
      settings,
      results,
    });
  }
  for (const [g, job] of jobs.entries()) {
    if (workers > 1 && pooled.includes(g)) continue;
    const group = groups[g];
    const threadsBefore = threadedBlas()?.info.threads ?? 1;
    const wide = chooseWideBlas(blas, job, settings.threads ?? "auto");
    const threads = wide === blas ? 1 : wide.info.threads ?? 1;
    const how = { sharedWith: group.length, threads, workers: 1 };
    try {
      await runSharedPass(
        { blas, wide },
        job,
        mainHooks(group, runs, job, settings, performance.now(), results, how),
      );
    } finally {
      if (wide !== blas) wide.setThreads(threadsBefore);
    }
  }
}

/** Seconds of one model's step on one core, about (for deciding whether workers pay). */
const STEP_SECONDS = 0.0004;

/** How many workers to split a pass over (see {@linkcode TrainGridOptions.workers}). */
function chooseWorkers(jobs: readonly PassJob[], workers: number | "auto"): number {
  const cores = navigator.hardwareConcurrency ?? 1;
  const runs = jobs.reduce((sum, job) => sum + job.specs.length, 0);
  if (runs < 2 || threadedBlas() === null) return 1;
  if (workers !== "auto") return Math.min(workers, runs);
  const seconds = jobs.reduce(
    (sum, job) =>
      sum + job.epochs.reduce((a, e) => a + e, 0) * Math.ceil(job.data.count / job.batchSize),
    0,
  ) * STEP_SECONDS;
  if (cores < 2 || seconds < 5) return 1;
  return otherCoresFree(threadedBlas()!, jobs[0], cores) ? Math.min(cores, runs) : 1;
}

/**
 * Splits the runs of each pass over workers (each part a pass of its own on a threaded OpenBLAS
 * with one thread), the data shared, not copied per worker; learning rates cross as tables. The
 * parts of all passes form one queue, longest first, that `workers` workers take from in turn.
 */
async function trainInWorkers(
  workers: number,
  groups: number[][],
  runs: readonly GridRun[],
  jobs: PassJob[],
  { settings, results }: { settings: Settings; results: GridResult[] },
): Promise<void> {
  const library = threadedBlas()!;
  const sharedCopies = new Map<PassData, PassData>();
  const share = (split: PassData): PassData => {
    const known = sharedCopies.get(split);
    if (known) return known;
    const shared = (x: Float32Array) => x.buffer instanceof SharedArrayBuffer;
    const images = shared(split.images)
      ? split.images
      : new Float32Array(new SharedArrayBuffer(split.images.byteLength));
    if (images !== split.images) images.set(split.images);
    const labels = new Uint8Array(new SharedArrayBuffer(split.labels.byteLength));
    labels.set(split.labels);
    const copy = { images, labels, count: split.count };
    sharedCopies.set(split, copy);
    return copy;
  };
  const parts = jobs.flatMap((job, g) => {
    const group = groups[g];
    const data = share(job.data);
    const validation = job.validation ? share(job.validation) : null;
    const batches = Math.ceil(job.data.count / job.batchSize);
    const maxSteps = Math.max(...job.epochs) * batches;
    const split = Math.min(workers, group.length);
    return Array.from({ length: split }, (_, w) => {
      const members = group.map((_, k) => k).filter((k) => k % split === w);
      const part: PassJob = {
        ...job,
        specs: members.map((k) => job.specs[k]),
        weights: members.map((k) => job.weights[k]),
        epochs: members.map((k) => job.epochs[k]),
      };
      const hooks = (start: number) =>
        mainHooks(members.map((k) => group[k]), runs, part, settings, start, results, {
          sharedWith: group.length,
          threads: 1,
          workers: split,
        });
      const workerJob: WorkerJob = {
        sizes: part.sizes,
        specs: part.specs,
        weights: part.weights,
        data,
        validation,
        batchSize: part.batchSize,
        seed: part.seed,
        epochs: part.epochs,
        divergenceLoss: part.divergenceLoss,
        probe: part.probe,
        pixelOrder: part.pixelOrder,
        probeEvery: part.probeEvery,
        probeUntil: part.probeUntil,
        learningRates: members.map((k) =>
          Float64Array.from({ length: maxSteps }, (_, step) => job.learningRate(k, step, batches))
        ),
      };
      return { workerJob, hooks, cost: part.epochs.reduce((sum, e) => sum + e, 0) * batches };
    });
  }).sort((a, b) => b.cost - a.cost);
  // One failure ends the grid: the other workers are stopped too, and no hook runs after it
  // (messages a stopped worker had already sent are dropped).
  const started: Worker[] = [];
  let failed = false;
  const unlessFailed = (hooks: PassHooks): PassHooks => ({
    onEpoch: (...args) => (failed ? true : hooks.onEpoch(...args)),
    onFinish: (...args) => (failed ? undefined : hooks.onFinish(...args)),
  });
  const take = async () => {
    for (let part = parts.shift(); part !== undefined && !failed; part = parts.shift()) {
      const hooks = unlessFailed(part.hooks(performance.now()));
      await runWorker(part.workerJob, library, hooks, started);
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, parts.length) }, take)).catch(
    (error) => {
      failed = true;
      for (const worker of started) worker.terminate();
      throw error;
    },
  );
}

function runWorker(
  job: WorkerJob,
  library: Blas,
  hooks: PassHooks,
  started: Worker[],
): Promise<void> {
  const worker = new Worker(new URL("./grid_worker.ts", import.meta.url), { type: "module" });
  started.push(worker);
  return new Promise<void>((resolve, reject) => {
    // Messages are handled one at a time, in order, even though the hooks are async.
    let queue = Promise.resolve();
    worker.onmessage = (event: MessageEvent) => {
      const message = event.data;
      queue = queue.then(async () => {
        if (message.type === "epoch") {
          const stop = await hooks.onEpoch(message.k, message.epoch, message.rows, message.seconds);
          worker.postMessage({ type: "verdict", stop });
        } else if (message.type === "finish") {
          await hooks.onFinish(message.k, message.weights, message.outcome);
        } else if (message.type === "done") {
          worker.terminate();
          resolve();
        } else if (message.type === "error") {
          worker.terminate();
          reject(new Error(`Cannot train grid in a worker: ${message.message}`));
        }
      }).catch((error) => {
        worker.terminate();
        reject(error);
      });
    };
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      reject(new Error(`Cannot train grid in a worker: ${event.message}`));
    };
    const info = library.info;
    worker.postMessage({ type: "job", job, blasPath: info.path, coreType: info.core });
  });
}

/**
 * The library for the wide products: the threaded one with every core when the caller asks for
 * threads, or when `"auto"` finds the other cores free ({@linkcode otherCoresFree}); else the
 * serial `blas`.
 */
function chooseWideBlas(blas: Blas, job: PassJob, threads: number | "auto"): Blas {
  const cores = navigator.hardwareConcurrency ?? 1;
  if (threads === 1 || cores < 2) return blas;
  const threaded = threadedBlas();
  if (threaded === null) return blas;
  if (threads === "auto" && !otherCoresFree(threaded, job, cores)) return blas;
  threaded.setThreads(threads === "auto" ? cores : threads);
  return threaded;
}

/**
 * Whether this grid's wide forward product runs at least a third faster on every core than on
 * one (best of five each, alternated): the sign that the other cores are free, which on a shared
 * machine they often are not. Leaves the library at one thread.
 */
function otherCoresFree(threaded: Blas, job: PassJob, cores: number): boolean {
  const [inputs, units] = job.sizes;
  const rows = job.batchSize, wide = job.specs.length * units;
  const x = new Float32Array(rows * inputs).fill(0.5);
  const w = new Float32Array(wide * inputs).fill(0.01);
  const out = new Float32Array(rows * wide);
  const time = () => {
    const begin = performance.now();
    for (let i = 0; i < 3; i++) {
      threaded.sgemm(false, true, rows, wide, inputs, 1, x, inputs, w, inputs, 0, out, wide);
    }
    return performance.now() - begin;
  };
  let one = Infinity, many = Infinity;
  for (let round = 0; round < 5; round++) {
    threaded.setThreads(1);
    one = Math.min(one, time());
    threaded.setThreads(cores);
    many = Math.min(many, time());
  }
  threaded.setThreads(1);
  return many < 0.75 * one;
}
