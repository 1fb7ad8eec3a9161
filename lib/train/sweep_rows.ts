/**
 * Sweep results as typed rows for charts and tables, and the summary and log line of a training run.
 * Row keys are snake_case, as table columns are everywhere in this project.
 *
 * @module
 */
import type { SweepConfig, SweepRun, SweepRunEnd } from "./sweep.ts";
import type { TrainResult } from "./train.ts";

/**
 * Every run's rows with its run id and config columns, as typed plain objects: the data of loss
 * curves per run.
 *
 * @param result What {@linkcode runSweep} returned.
 * @returns One object per row, `{ run, ...config, ...row }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const runs = [{ run: "lr=1", config: { lr: 1 }, rows: [{ epoch: 1 }], summary: { diverged: false }, seconds: 1 }];
 * assert.deepEqual(historyRows({ runs }), [{ run: "lr=1", lr: 1, epoch: 1 }]);
 * ```
 */
export function historyRows<C extends SweepConfig, R extends object, S extends object>(
  result: { runs: readonly SweepRun<C, R, S>[] },
): ({ run: string } & C & R)[] {
  return result.runs.flatMap(({ run, config, rows }) =>
    rows.map((row) => ({ run, ...config, ...row }))
  );
}

/**
 * One object per run with its run id, config and summary: the data of result tables and charts.
 *
 * @param result What {@linkcode runSweep} returned.
 * @returns `{ run, ...config, ...summary }` per run, in `configs` order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const runs = [{ run: "lr=1", config: { lr: 1 }, rows: [], summary: { diverged: true }, seconds: 1 }];
 * assert.deepEqual(summaryRows({ runs }), [{ run: "lr=1", lr: 1, diverged: true }]);
 * ```
 */
export function summaryRows<C extends SweepConfig, R extends object, S extends object>(
  result: { runs: readonly SweepRun<C, R, S>[] },
): ({ run: string } & C & S & { diverged: boolean })[] {
  return result.runs.map(({ run, config, summary }) => ({ run, ...config, ...summary }));
}

/** What {@linkcode summaryAtEpoch} gives per run: its config and how it stood after that epoch. */
export type EpochSummary<C> = { run: string } & C & {
  /** Epochs completed by then (fewer when the run ended earlier). */
  epochs: number;
  diverged: boolean;
  train_loss: number | null;
  train_accuracy: number | null;
  val_loss: number | null;
  val_accuracy: number | null;
  best_val_accuracy: number | null;
};

/**
 * Every run's summary as if it had been trained for `epoch` epochs only: the first epochs of a
 * longer run at a constant learning rate are a shorter run with the same seed, so a sweep can read
 * its short runs from a long one instead of training them again. A run counts as diverged when it
 * diverged in one of those epochs.
 *
 * @param result What {@linkcode runSweep} returned: history rows with `epoch`, `split`, `loss`,
 *   `accuracy`, and summaries with `diverged` and `diverged_epoch`.
 * @param epoch The epoch to stop at.
 * @returns `{ run, ...config, epochs, diverged, train_loss, train_accuracy, val_loss,
 *   val_accuracy, best_val_accuracy }` per run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const row = (epoch: number, split: string, accuracy: number) => ({ epoch, split, loss: 1 - accuracy, accuracy });
 * const runs = [{
 *   run: "lr=1", config: { lr: 1 }, seconds: 1,
 *   rows: [row(1, "train", 0.5), row(1, "validation", 0.6), row(2, "train", 0.7), row(2, "validation", 0.65)],
 *   summary: { diverged: true, diverged_epoch: 3 },
 * }];
 * const [first] = summaryAtEpoch({ runs }, 1);
 * assert.deepEqual([first.epochs, first.diverged, first.val_accuracy], [1, false, 0.6]);
 * assert.equal(summaryAtEpoch({ runs }, 3)[0].diverged, true);
 * ```
 */
export function summaryAtEpoch<
  C extends SweepConfig,
  R extends { epoch: number; split: string; loss: number; accuracy: number },
  S extends { diverged_epoch?: number | null },
>(result: { runs: readonly SweepRun<C, R, S>[] }, epoch: number): EpochSummary<C>[] {
  return result.runs.map(({ run, config, rows, summary }) => {
    const upTo = rows.filter((row) => row.epoch <= epoch);
    const last = (split: string) => upTo.findLast((row) => row.split === split) ?? null;
    const train = last("train"), validation = last("validation");
    const accuracies = upTo.filter((row) => row.split === "validation").map((r) => r.accuracy);
    const divergedEpoch = summary.diverged ? summary.diverged_epoch ?? null : null;
    return {
      run,
      ...config,
      epochs: train?.epoch ?? 0,
      diverged: divergedEpoch !== null && divergedEpoch <= epoch,
      train_loss: train?.loss ?? null,
      train_accuracy: train?.accuracy ?? null,
      val_loss: validation?.loss ?? null,
      val_accuracy: validation?.accuracy ?? null,
      best_val_accuracy: accuracies.length ? Math.max(...accuracies) : null,
    };
  });
}

/** The sweep summary row of a `train()` result; snake_case keys, as table columns. */
export type TrainingSummary = {
  /** Epochs completed. */
  epochs: number;
  seconds: number;
  stopped: boolean;
  diverged: boolean;
  diverged_epoch: number | null;
  diverged_batch: number | null;
  diverged_loss: number | null;
  /** The last epoch's values, `null` when there is none. */
  train_loss: number | null;
  train_accuracy: number | null;
  val_loss: number | null;
  val_accuracy: number | null;
  best_val_accuracy: number | null;
};

/**
 * The sweep summary row of a `train()` result, for `runOne` to return.
 *
 * @param result What `train()` returned.
 * @returns `epochs` (completed), `seconds`, `stopped`, `diverged` and where (`diverged_epoch`,
 *   `diverged_batch`, `diverged_loss`, `null` when it did not), the last epoch's `train_loss`,
 *   `train_accuracy`, `val_loss`, `val_accuracy`, and `best_val_accuracy` (`null` when missing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const summary = summarizeTraining({
 *   history: [], diverged: { epoch: 1, batch: 3, loss: NaN }, stopped: false, epochs: 0,
 *   seconds: 0.5, gradients: "dense",
 * });
 * assert.equal(summary.diverged, true);
 * assert.equal(summary.diverged_batch, 3);
 * assert.equal(summary.val_accuracy, null);
 * ```
 */
export function summarizeTraining(result: TrainResult): TrainingSummary {
  const last = (split: string) => result.history.findLast((row) => row.split === split) ?? null;
  const train = last("train"), validation = last("validation");
  const validationAccuracies = result.history
    .filter((row) => row.split === "validation")
    .map((row) => row.accuracy);
  return {
    epochs: result.epochs,
    seconds: result.seconds,
    stopped: result.stopped,
    diverged: result.diverged !== null,
    diverged_epoch: result.diverged?.epoch ?? null,
    diverged_batch: result.diverged?.batch ?? null,
    diverged_loss: result.diverged?.loss ?? null,
    train_loss: train?.loss ?? null,
    train_accuracy: train?.accuracy ?? null,
    val_loss: validation?.loss ?? null,
    val_accuracy: validation?.accuracy ?? null,
    best_val_accuracy: validationAccuracies.length ? Math.max(...validationAccuracies) : null,
  };
}

/**
 * One log line per run, for `onRunEnd`.
 *
 * @param info The run's outcome.
 * @returns E.g. `run 2/4 lr=0.1: 3.2 s, diverged` or `run 1/4 lr=0.01: skipped (cached)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = { run: "lr=1", config: { lr: 1 }, index: 2, total: 3, seconds: 1.25 };
 * assert.equal(
 *   formatRun({ ...info, status: "ran", summary: { diverged: false, val_accuracy: 0.9 } }),
 *   "run 2/3 lr=1: 1.3 s, val accuracy 90.00 %",
 * );
 * assert.equal(
 *   formatRun({ ...info, status: "cached", summary: { diverged: true } }),
 *   "run 2/3 lr=1: skipped (cached), diverged",
 * );
 * ```
 */
export function formatRun(info: SweepRunEnd): string {
  const parts = [info.status === "cached" ? "skipped (cached)" : `${info.seconds.toFixed(1)} s`];
  const { diverged, val_accuracy: accuracy } = info.summary;
  if (diverged === true) parts.push("diverged");
  else if (typeof accuracy === "number") {
    parts.push(`val accuracy ${(100 * accuracy).toFixed(2)} %`);
  }
  return `run ${info.index}/${info.total} ${info.run}: ${parts.join(", ")}`;
}
