import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../../lib/backend/backend.ts";
import { createModel } from "../../lib/model/network.ts";
import {
  forwardTrace,
  layerOutputs,
  lossAndAccuracy,
  mapInChunks,
  predictLogProbabilities,
  predictProbabilities,
} from "../../lib/model/predict.ts";
import { createRng, uniform } from "../../lib/util/random.ts";

await setupBackend({ log: false });
const images = uniform(2_345 * 784, 0, 1, createRng(2));

Deno.test("predictions in chunks equal one pass over everything, and no tensor is left behind", () => {
  const model = createModel({ seed: 1 });
  const before = tf.memory().numTensors;
  const chunked = predictLogProbabilities(model, images, { batchSize: 500 });
  assert.equal(tf.memory().numTensors, before);
  const whole = tf.tidy(() =>
    (model.predict(tf.tensor2d(images, [2_345, 784]), { batchSize: 2_345 }) as tf.Tensor).dataSync()
  );
  assert.equal(chunked.length, 2_345 * 10);
  chunked.forEach((v, i) =>
    assert.ok(Math.abs(v - whole[i]) < 1e-5, `value ${i}: ${v} vs ${whole[i]}`)
  );
  model.dispose();
});

Deno.test("predictProbabilities() rows are probability distributions matching exp(log-probabilities)", () => {
  const model = createModel({ seed: 2 });
  const logp = predictLogProbabilities(model, images.subarray(0, 50 * 784));
  const p = predictProbabilities(model, images.subarray(0, 50 * 784));
  for (let row = 0; row < 50; row++) {
    let sum = 0;
    for (let c = 0; c < 10; c++) {
      sum += p[row * 10 + c];
      assert.ok(Math.abs(p[row * 10 + c] - Math.exp(logp[row * 10 + c])) < 1e-6);
    }
    assert.ok(Math.abs(sum - 1) < 1e-5, `row ${row} sums to ${sum}`);
  }
  model.dispose();
});

Deno.test("forwardTrace() follows one image through every layer, ending in the model's output", () => {
  const model = createModel({ seed: 3 });
  const image = images.subarray(0, 784);
  const trace = forwardTrace(model, image);
  assert.deepEqual(trace.map((t) => [t.layer, t.values.length]), [
    ["linear1", 128],
    ["linear2", 64],
    ["linear3", 10],
    ["log_softmax", 10],
  ]);
  assert.ok(trace[0].values.every((v) => v >= 0), "ReLU outputs are never negative");
  const output = predictLogProbabilities(model, image);
  trace[3].values.forEach((v, i) => assert.ok(Math.abs(v - output[i]) < 1e-5));
  // The hidden layer matches layerOutputs() for the same image.
  const hidden = layerOutputs(model, image, "linear2");
  trace[1].values.forEach((v, i) => assert.ok(Math.abs(v - hidden[i]) < 1e-5));
  model.dispose();
});

Deno.test("prediction helpers reject bad input, naming it", () => {
  const model = createModel();
  assert.throws(
    () => layerOutputs(model, images.subarray(0, 784), "linear9"),
    /^RangeError: Cannot read layer "linear9": it is missing, expected one of linear1, linear2, linear3, log_softmax$/,
  );
  assert.throws(
    () => forwardTrace(model, new Float32Array(10)),
    /^RangeError: Cannot trace: the length of the image is 10, expected 784$/,
  );
  assert.throws(
    () => mapInChunks(new Float32Array(10), 784, (x) => x),
    /^RangeError: Cannot predict: the number of input values is 10, expected a multiple of 784 per example$/,
  );
  // A batch size of 0 used to loop forever.
  assert.throws(
    () => mapInChunks(new Float32Array(784), 784, (x) => x, { batchSize: 0 }),
    /^RangeError: Cannot predict: option batchSize is 0, expected a positive integer$/,
  );
  model.dispose();
});

Deno.test("lossAndAccuracy() equals a direct count on random log-probabilities", () => {
  const rng = createRng(4);
  const n = 200, k = 10;
  const logp = new Float32Array(n * k).map(() => Math.log(rng()));
  const labels = Uint8Array.from({ length: n }, () => Math.floor(rng() * k));
  let loss = 0, correct = 0;
  for (let i = 0; i < n; i++) {
    const row = Array.from(logp.subarray(i * k, (i + 1) * k));
    if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
    loss -= row[labels[i]];
  }
  const result = lossAndAccuracy(logp, labels);
  assert.ok(Math.abs(result.loss - loss / n) < 1e-9);
  assert.equal(result.accuracy, correct / n);
});
