/**
 * A separate process for the sweep concurrency tests:
 *
 *     deno run -A _sweep_worker.ts DIR NAME LR,LR,… DELAY_MS
 *
 * runs sweep NAME in DIR over the learning rates, each "run" sleeping DELAY_MS (so processes
 * overlap) and returning rows derived from its config. Prints one JSON line.
 */
import { runSweep } from "../../lib/train/sweep.ts";

const [dir, name, lrs, delay] = Deno.args;
const configs = lrs.split(",").map((lr) => ({ lr: Number(lr) }));
const result = await runSweep(name, configs, async ({ lr }) => {
  await new Promise((resolve) => setTimeout(resolve, Number(delay)));
  return { rows: [{ epoch: 1, loss: 1 / lr }], summary: { final_loss: 1 / lr, pid: Deno.pid } };
}, { dir });
console.log(
  JSON.stringify({ ran: result.ran, skipped: result.skipped, runs: result.summary.height }),
);
