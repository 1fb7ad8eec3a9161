/**
 * A worker that trains part of a grid (`trainGrid` with `workers`): it receives a pass job whose
 * arrays live in shared memory, opens the BLAS library itself, runs `runSharedPass`, and reports
 * every epoch (waiting for the main thread's stop verdict) and every finished run by message.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { loadFittingBlas } from "../backend/fit_core.ts";
import { type PassJob, runSharedPass } from "./grid_pass.ts";

/** The job as it crosses to the worker: learning rates as one table per model. */
export type WorkerJob = Omit<PassJob, "learningRate" | "augment"> & {
  /** Learning rate of model k at step s: `learningRates[k][s]`. */
  learningRates: Float64Array[];
};

/** Messages from the main thread. */
export type ToWorker =
  | { type: "job"; job: WorkerJob; blasPath: string; coreType: string | null }
  | { type: "verdict"; stop: boolean };

const verdicts: boolean[] = [];
const waiting: ((stop: boolean) => void)[] = [];

function nextVerdict(): Promise<boolean> {
  const ready = verdicts.shift();
  if (ready !== undefined) return Promise.resolve(ready);
  return new Promise((resolve) => waiting.push(resolve));
}

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === "verdict") {
    const resolve = waiting.shift();
    if (resolve) resolve(message.stop);
    else verdicts.push(message.stop);
    return;
  }
  try {
    const { job, blasPath, coreType } = message;
    const blas = loadFittingBlas({ path: blasPath, coreType: coreType ?? undefined, threads: 1 });
    const tables = job.learningRates;
    await runSharedPass({ blas, wide: blas }, {
      ...job,
      learningRate: (k, step) => tables[k][step],
    }, {
      onEpoch: (k, epoch, rows, seconds) => {
        self.postMessage({ type: "epoch", k, epoch, rows, seconds });
        return nextVerdict();
      },
      onFinish: (k, weights, outcome) => {
        self.postMessage({ type: "finish", k, weights, outcome });
      },
    });
    self.postMessage({ type: "done" });
  } catch (error) {
    self.postMessage({
      type: "error",
      message: error instanceof Error ? error.message : String(error),
    });
  }
};
