/**
 * The single runs the sweeps of notebooks 05 and 06 are made of: a fresh network trained with one
 * learning rate, momentum and schedule (`trainRun`), or with one change to the recipe
 * (`trainVariant`), each returning its history and a summary row for `runSweep`.
 *
 * Configurations and summaries are table rows, so their keys are snake_case like every column.
 *
 * @module
 */
import type { Split, Splits } from "../data/mnist.ts";
import { augmenter } from "../data/augment.ts";
import { createModel } from "../model/network.ts";
import type { OptimizerConfig } from "../model/optimizer.ts";
import { evaluateModel } from "../model/predict.ts";
import { rangeError } from "../util/validate.ts";
import type { LearningRateSchedule } from "./schedules.ts";
import type { SweepRunResult } from "./sweep.ts";
import { summarizeTraining, type TrainingSummary } from "./sweep_rows.ts";
import { ORIGINAL_OPTIMIZER, train, type TrainResult } from "./train.ts";
import type * as tf from "@tensorflow/tfjs";
import type { HistoryRow } from "./history.ts";

/** One run of the learning-rate sweeps (notebook 05). */
export type LearningRateRun = {
  /** SGD's learning rate, or a schedule's start or peak. */
  learning_rate: number;
  /** SGD's momentum. */
  momentum: number;
  /** Epochs to train (fewer if the run diverges). */
  epoch_budget: number;
  /** A key of `options.schedules`; absent: the constant `learning_rate`. */
  schedule?: string;
};

/** Options of {@linkcode trainRun}. */
export interface TrainRunOptions {
  /** Seed of the initial weights and the batch order. Default 0. */
  seed?: number;
  /** The schedules a run's `schedule` may name. */
  schedules?: Readonly<Record<string, LearningRateSchedule>>;
  /** Validation accuracy whose first epoch the summary reports. Default 0.97. */
  target?: number;
}

/** A learning-rate run's summary: {@linkcode TrainingSummary} plus these. */
export type LearningRateSummary = TrainingSummary & {
  /** Test accuracy after the last epoch, `null` for a diverged run. */
  test_accuracy: number | null;
  /** The first epoch whose validation accuracy reached the target, `null` if none did. */
  epochs_to_target: number | null;
};

/**
 * Trains a fresh network (always the same initial weights) with SGD for one configuration.
 *
 * @param run Learning rate, momentum, epochs and schedule.
 * @param splits Train, validation and test data.
 * @param options Seed, the named schedules, the target accuracy.
 * @returns The history, and the summary with test accuracy and epochs to the target.
 * @throws {RangeError} If `run.schedule` names no schedule in `options.schedules`.
 */
export async function trainRun(
  run: LearningRateRun,
  splits: Splits,
  options: TrainRunOptions = {},
): Promise<SweepRunResult<HistoryRow, LearningRateSummary>> {
  const { seed = 0, schedules = {}, target = 0.97 } = options;
  const learningRateAt = run.schedule === undefined ? undefined : schedules[run.schedule];
  if (run.schedule !== undefined && learningRateAt === undefined) {
    rangeError(
      { action: "train run", subject: run.schedule },
      "the schedule",
      run.schedule,
      `one of ${Object.keys(schedules).map((k) => `"${k}"`).join(", ") || "no schedules given"}`,
    );
  }
  const model = createModel({ seed });
  try {
    const result = await train(model, splits.train, {
      epochs: run.epoch_budget,
      seed,
      optimizer: { kind: "sgd", learningRate: run.learning_rate, momentum: run.momentum },
      learningRateAt,
      validation: splits.validation,
    });
    const reached = result.history.find((r) => r.split === "validation" && r.accuracy >= target);
    return {
      rows: result.history,
      summary: {
        ...summarizeTraining(result),
        test_accuracy: result.diverged ? null : evaluateModel(model, splits.test).accuracy,
        epochs_to_target: reached?.epoch ?? null,
      },
    };
  } finally {
    model.dispose();
  }
}

/** One variant of the recipe (notebook 06): what it changes in the original. */
export type Variant = {
  /** Its name, e.g. `"dropout 0.2"`. */
  variant: string;
  /** Randomly rotate and shift the training images every epoch. */
  augment: boolean;
  /** Dropout rate after each hidden layer. */
  dropout: number;
  /** L2 penalty added to every gradient. */
  weight_decay: number;
  /** `"sgd"`: the original's SGD; `"adam"`: Adam with learning rate 0.001. */
  optimizer: "sgd" | "adam";
};

/** Options of {@linkcode trainVariant}. */
export interface TrainVariantOptions {
  /** Epochs of every variant. */
  epochs: number;
  /** Seed of the initial weights, the batch order and the augmentation. Default 0. */
  seed?: number;
  /** Augmentation: degrees either way. Default 15. */
  maxRotation?: number;
  /** Augmentation: pixels either way. Default 2. */
  maxShift?: number;
  /** More test sets to score, by name, e.g. `{ "rotated ±30°": … }`. */
  extraTests?: Readonly<Record<string, Split>>;
}

/** A variant's summary: {@linkcode TrainingSummary}, the test accuracy, and one per extra test set. */
export type VariantSummary = TrainingSummary & {
  test_accuracy: number;
  /** Accuracy on each of `options.extraTests`, by the same names. */
  extra_test_accuracy: Record<string, number>;
};

/** Adam's learning rate for the variants: its usual default, as in PyTorch. */
const ADAM_LEARNING_RATE = 1e-3;

/**
 * The optimizer of a variant.
 *
 * @param variant The variant.
 * @returns The original SGD (or Adam at 0.001) with the variant's weight decay.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const v = { variant: "wd", augment: false, dropout: 0, weight_decay: 5e-4, optimizer: "sgd" as const };
 * assert.deepEqual(variantOptimizer(v), { kind: "sgd", learningRate: 0.01, momentum: 0.5, weightDecay: 5e-4 });
 * ```
 */
export function variantOptimizer(variant: Variant): OptimizerConfig {
  const weightDecay = variant.weight_decay;
  return variant.optimizer === "adam"
    ? { kind: "adam", learningRate: ADAM_LEARNING_RATE, weightDecay }
    : { ...ORIGINAL_OPTIMIZER, weightDecay };
}

/**
 * Trains a fresh network with one variant of the recipe and scores it on the test set and on
 * extra test sets (rotated copies, say).
 *
 * @param variant What changes.
 * @param splits Train, validation and test data.
 * @param options Epochs, seed, augmentation ranges, extra test sets.
 * @returns The history and the summary.
 */
export async function trainVariant(
  variant: Variant,
  splits: Splits,
  options: TrainVariantOptions,
): Promise<SweepRunResult<HistoryRow, VariantSummary>> {
  const { epochs, seed = 0, maxRotation = 15, maxShift = 2, extraTests = {} } = options;
  const model = createModel({ seed, dropout: variant.dropout });
  try {
    const result = await train(model, splits.train, {
      epochs,
      seed,
      optimizer: variantOptimizer(variant),
      augment: variant.augment ? augmenter({ maxRotation, maxShift, seed }) : undefined,
      validation: splits.validation,
    });
    return {
      rows: result.history,
      summary: variantSummary(result, model, splits.test, extraTests),
    };
  } finally {
    model.dispose();
  }
}

/**
 * A variant's summary row: `summarizeTraining`'s, its test accuracy, and its accuracy on each extra
 * test set (e.g. rotated copies), scored with the trained model.
 */
export function variantSummary(
  result: TrainResult,
  model: tf.LayersModel,
  test: Split,
  extraTests: Record<string, Split>,
): VariantSummary {
  return {
    ...summarizeTraining(result),
    test_accuracy: evaluateModel(model, test).accuracy,
    extra_test_accuracy: Object.fromEntries(
      Object.entries(extraTests).map((
        [name, split],
      ) => [name, evaluateModel(model, split).accuracy]),
    ),
  };
}
