/**
 * Notebook 03's training loop, as its cells are written, against `train()`: 2 epochs on the 51,000
 * training images with validation, alternating which runs first, 4 rounds. Prints the times and the
 * median ratio (notebook / train). Run pinned for a one-core figure:
 * `taskset -c 0 deno task bench:loop`.
 *
 * @module
 */
import { setupBackend } from "../lib/backend/backend.ts";
import { loadSplits } from "../lib/data/mnist.ts";
import { createModel } from "../lib/model/network.ts";
import { train } from "../lib/train/train.ts";
import { runCells } from "../tests/notebook_cells.ts";
await setupBackend({ log: false });
const { train: trainSplit, validation } = await loadSplits({ seed: 0 });
const config = { epochs: 2, batchSize: 64, learningRate: 0.01, momentum: 0.5, seed: 0 };
const nb: number[] = [], tr: number[] = [];
for (let r = 0; r < 4; r++) {
  for (const which of r % 2 ? ["train", "nb"] : ["nb", "train"]) {
    const t0 = performance.now();
    if (which === "nb") {
      await runCells("03_training.ipynb", ["hostNetwork(model", "for (let epoch = 1"], {
        config,
        trainSplit,
        validation,
      }, ["history"]);
      nb.push((performance.now() - t0) / 1000);
    } else {
      const m = createModel({ seed: 0 });
      await train(m, trainSplit, {
        epochs: 2,
        validation,
        optimizer: { kind: "sgd", learningRate: 0.01, momentum: 0.5 },
      });
      m.dispose();
      tr.push((performance.now() - t0) / 1000);
    }
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(
  JSON.stringify({
    notebook: nb,
    train: tr,
    ratio: med(nb) / med(tr),
    ratios: nb.map((x, i) => x / tr[i]),
  }),
);
