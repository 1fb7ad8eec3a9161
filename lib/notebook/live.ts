/**
 * Live training progress in a notebook: one progress display updated in place (epoch, batch,
 * loss, time left), a loss chart redrawn after every epoch, and one log line per epoch.
 *
 * @module
 */
import { lossCurves } from "../charts/training.ts";
import type { Chart } from "./display.ts";
import { type DisplayFunction, print } from "./jupyter.ts";
import { createLiveChart } from "./live_chart.ts";
import { createProgress } from "./progress.ts";
import { type EpochInfo, formatEpoch, type TrainCallbacks } from "../train/train.ts";
import type { HistoryRow } from "../train/history.ts";

/** Options of {@linkcode liveTraining}. */
export interface LiveTrainingOptions {
  /** Epochs the run will do. */
  epochs: number;
  /** Batches per epoch (`Math.ceil(examples / batchSize)`). */
  batchesPerEpoch: number;
  /** Shown first in the progress display. Default `"Training"`. */
  label?: string;
  /** Draws the chart redrawn after each epoch; `null` for none. Default: loss curves. */
  chart?: ((history: HistoryRow[]) => Chart) | null;
  /** Print one line per epoch. Default `true`. */
  log?: boolean;
  /** Where to show the displays (tests). Default: the Jupyter kernel's, nowhere outside one. */
  display?: DisplayFunction;
}

/** Training callbacks that drive live displays, plus `done()` to mark the run finished. */
export interface LiveTraining extends TrainCallbacks {
  /** For a loop written out by hand: shows progress after a batch (`epoch`, `batch`, `batches`). */
  afterBatch(batch: { epoch: number; batch: number; batches: number }, loss: number): Promise<void>;
  /** For a loop written out by hand: redraws the chart and logs the epoch's line. */
  afterEpoch(info: { epoch: number; history: HistoryRow[]; seconds: number }): Promise<void>;
  /** Marks the progress display finished. */
  done(): Promise<void>;
}

/**
 * Creates callbacks for `train()` that show progress live.
 *
 * @param options The run's size and what to show.
 * @returns Callbacks to pass as `train(model, data, { callbacks })`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const shown: unknown[] = [];
 * const live = liveTraining({
 *   epochs: 1, batchesPerEpoch: 2, log: false, display: async (obj) => void shown.push(obj),
 * });
 * await live.onBatchEnd!({ epoch: 1, epochs: 1, batch: 1, batches: 2, loss: 2, runningLoss: 2, learningRate: 0.01, elapsed: 0 });
 * const rows = [{ epoch: 1, split: "train" as const, loss: 1.5, accuracy: 0.5 }];
 * await live.onEpochEnd!({ epoch: 1, epochs: 1, rows, history: rows, seconds: 1, elapsed: 1 });
 * await live.done();
 * assert.ok(shown.length >= 2); // the progress display and the chart
 * ```
 */
export function liveTraining(options: LiveTrainingOptions): LiveTraining {
  const {
    epochs,
    batchesPerEpoch,
    label = "Training",
    chart = defaultChart,
    log = true,
    display,
  } = options;
  const progress = createProgress({
    total: epochs * batchesPerEpoch,
    label,
    epochs,
    batchesPerEpoch,
    ...(display ? { display } : {}),
  });
  const slot = chart ? createLiveChart(display ? { display } : {}) : null;
  const started = performance.now();
  const afterBatch: LiveTraining["afterBatch"] = async ({ epoch, batch, batches }, loss) => {
    await progress.update({ epoch, batch, step: (epoch - 1) * batches + batch, loss });
  };
  const onEpochEnd = async (info: EpochInfo) => {
    // The chart first, so that on the first epoch its slot appears above the log lines.
    if (slot && chart) await slot.update(chart(info.history));
    if (log) await print(formatEpoch(info));
  };
  return {
    onBatchEnd: (info) => afterBatch(info, info.loss),
    onEpochEnd,
    afterBatch,
    afterEpoch: ({ epoch, history, seconds }) =>
      onEpochEnd({
        epoch,
        epochs,
        rows: history.filter((row) => row.epoch === epoch),
        history,
        seconds,
        elapsed: (performance.now() - started) / 1000,
      }),
    async done() {
      await progress.done();
    },
  };
}

function defaultChart(history: HistoryRow[]): Chart {
  const last = history.at(-1)?.epoch ?? 0;
  return lossCurves(history, { title: `Loss after epoch ${last}` });
}
