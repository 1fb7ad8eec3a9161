/**
 * The sweeps of notebooks 05 and 06 trained side by side: `runSweep(name, configs, { batch })`
 * hands these batches only the configurations its state file lacks; they train them as one grid
 * whose runs carry their seeds (the runs of a seed share a pass over the batches, and the passes
 * of all seeds share the workers), and record each run as it ends, with the dynamics columns of
 * `dynamics.ts` in its history when a probe is given.
 *
 * Each run gives what `trainRun` or `trainVariant` gives it alone, within float32 rounding.
 *
 * @module
 */
import type { Split, Splits } from "../data/mnist.ts";
import { augmenter } from "../data/augment.ts";
import { createModel } from "../model/network.ts";
import type { LayersModel } from "@tensorflow/tfjs";
import { evaluateModel } from "../model/predict.ts";
import { rangeError } from "../util/validate.ts";
import { type GridRun, trainGrid } from "./grid.ts";
import type { LearningRateSchedule } from "./schedules.ts";
import type { SweepBatch, SweepRunInfo } from "./sweep.ts";
import { summarizeTraining } from "./sweep_rows.ts";
import {
  type LearningRateRun,
  type LearningRateSummary,
  type Variant,
  variantOptimizer,
  type VariantSummary,
  variantSummary,
} from "./runs.ts";
import { train, type TrainResult } from "./train.ts";
import type { HistoryRow } from "./history.ts";

/** A configuration trained with its own seed (initial weights and batch order). */
export type Seeded = { seed: number };

/** Options shared by the batches. */
export interface SeedBatchOptions {
  /** Record the dynamics columns in every run's history on this fixed probe batch. */
  probe?: Split;
}

/**
 * Trains the pending runs as one grid, each with its own seed (initial weights and batch order):
 * the runs of a seed share a pass, and the passes of all seeds share the workers. Each model is
 * disposed after its run is recorded.
 */
async function trainSeeded<C extends Seeded>(
  pending: readonly SweepRunInfo<C>[],
  splits: Splits,
  options: SeedBatchOptions,
  toRun: (info: SweepRunInfo<C>, model: LayersModel) => GridRun,
  onEnd: (i: number, result: TrainResult, model: LayersModel) => Promise<void>,
): Promise<void> {
  const runs: GridRun[] = [];
  try {
    for (const info of pending) {
      const { seed } = info.config;
      runs.push({ ...toRun(info, createModelFor(info.config, seed)), seed });
    }
    await trainGrid(runs, splits.train, {
      validation: splits.validation,
      dynamics: options.probe ? { probe: options.probe } : undefined,
      onRunEnd: (i, result) => onEnd(i, result, runs[i].model),
    });
  } finally {
    runs.forEach((run) => run.model.dispose());
  }
}

function createModelFor(config: Seeded, seed: number): LayersModel {
  const dropout = (config as Partial<Variant>).dropout ?? 0;
  return createModel({ seed, dropout });
}

/** Options of {@linkcode learningRateBatch}. */
export interface LearningRateBatchOptions extends SeedBatchOptions {
  /** The schedules a run's `schedule` may name. */
  schedules?: Readonly<Record<string, LearningRateSchedule>>;
  /** Validation accuracy whose first epoch the summary reports. Default 0.97. */
  target?: number;
}

/**
 * The batch of notebook 05's sweeps: learning-rate runs (`trainRun`'s configurations with a
 * seed) trained side by side per seed.
 *
 * @param splits Train, validation and test data.
 * @param options Probe, schedules, target.
 * @returns The batch for `runSweep(name, configs, { batch })`.
 * @throws {RangeError} (when run) If a run's `schedule` names no schedule in `options.schedules`.
 */
export function learningRateBatch(
  splits: Splits,
  options: LearningRateBatchOptions = {},
): SweepBatch<LearningRateRun & Seeded, HistoryRow, LearningRateSummary> {
  const { schedules = {}, target = 0.97 } = options;
  const scheduleOf = (run: LearningRateRun) => {
    if (run.schedule === undefined) return undefined;
    const schedule = schedules[run.schedule];
    if (schedule === undefined) {
      rangeError(
        { action: "train run", subject: run.schedule },
        "the schedule",
        run.schedule,
        `one of ${Object.keys(schedules).map((k) => `"${k}"`).join(", ") || "no schedules given"}`,
      );
    }
    return schedule;
  };
  return async (pending, record) => {
    await trainSeeded(pending, splits, options, ({ config }, model) => ({
      model,
      epochs: config.epoch_budget,
      learningRateAt: scheduleOf(config),
      optimizer: { kind: "sgd", learningRate: config.learning_rate, momentum: config.momentum },
    }), async (i, result, model) => {
      const reached = result.history.find((r) => r.split === "validation" && r.accuracy >= target);
      await record(pending[i], {
        rows: result.history,
        summary: {
          ...summarizeTraining(result),
          test_accuracy: result.diverged ? null : evaluateModel(model, splits.test).accuracy,
          epochs_to_target: reached?.epoch ?? null,
        },
      });
    });
  };
}

/** Options of {@linkcode variantBatch}. */
export interface VariantBatchOptions extends SeedBatchOptions {
  /** Epochs of every variant. */
  epochs: number;
  /** Augmentation: degrees either way. Default 15. */
  maxRotation?: number;
  /** Augmentation: pixels either way. Default 2. */
  maxShift?: number;
  /** More test sets to score, by name. */
  extraTests?: Readonly<Record<string, Split>>;
}

/**
 * The batch of notebook 06's sweep: variants of the recipe (`trainVariant`'s, with a seed)
 * trained side by side per seed; the augmenting variants of a seed share one augmentation.
 *
 * @param splits Train, validation and test data.
 * @param options Epochs, augmentation ranges, extra test sets, probe.
 * @returns The batch for `runSweep(name, variants, { batch })`.
 */
export function variantBatch(
  splits: Splits,
  options: VariantBatchOptions,
): SweepBatch<Variant & Seeded, HistoryRow, VariantSummary> {
  const { epochs, maxRotation = 15, maxShift = 2, extraTests = {} } = options;
  return async (pending, record) => {
    // One augmentation per seed, shared by that seed's augmenting variants.
    const augments = new Map<number, ReturnType<typeof augmenter>>();
    const augmentFor = (seed: number) => {
      const made = augments.get(seed) ?? augmenter({ maxRotation, maxShift, seed });
      augments.set(seed, made);
      return made;
    };
    await trainSeeded(pending, splits, options, ({ config }, model) => ({
      model,
      epochs,
      optimizer: variantOptimizer(config),
      augment: config.augment ? augmentFor(config.seed) : undefined,
    }), async (i, result, model) => {
      await record(pending[i], {
        rows: result.history,
        summary: variantSummary(result, model, splits.test, extraTests),
      });
    });
  };
}

/** A run of the first steps: learning rate, momentum and seed. */
export type FirstStepsRun = { learning_rate: number; momentum: number } & Seeded;

/** Options of {@linkcode trainFirstSteps}. */
export interface FirstStepsOptions {
  /** The fixed probe batch of the dead fractions. */
  probe: Split;
  /** Steps to train. Default 200. */
  steps?: number;
  /** Measure every `every`-th step. Default 5. */
  every?: number;
}

/**
 * The first steps of a run, every few measured (`dynamics.every`): where a rate of 3 explodes
 * and a rate of 1 kills its units, long before the first epoch ends. For `runSweep`: the rows
 * are the measured steps (`step`, `epoch`, `batch`, the batch `loss`, the dynamics columns).
 *
 * @param run Learning rate, momentum, seed.
 * @param splits Train data (the others unused).
 * @param options Probe, steps, interval.
 * @returns The measured steps and the run's summary.
 */
export async function trainFirstSteps(
  run: FirstStepsRun,
  splits: Pick<Splits, "train">,
  options: FirstStepsOptions,
) {
  const { probe, steps = 200, every = 5 } = options;
  const model = createModel({ seed: run.seed });
  try {
    let taken = 0;
    const result = await train(model, splits.train, {
      epochs: Math.ceil(steps / Math.ceil(splits.train.count / 64)),
      seed: run.seed,
      optimizer: { kind: "sgd", learningRate: run.learning_rate, momentum: run.momentum },
      dynamics: { probe, every, until: steps },
      callbacks: { onBatchEnd: () => (++taken >= steps ? "stop" : undefined) },
    });
    return { rows: result.stepDynamics ?? [], summary: summarizeTraining(result) };
  } finally {
    model.dispose();
  }
}
