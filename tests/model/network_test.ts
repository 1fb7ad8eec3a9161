import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { createModel, parameterSummary } from "../../lib/model/network.ts";
import { setupBackend } from "../../lib/backend/backend.ts";

await setupBackend();

Deno.test("createModel() builds the original 784-128-64-10 network with 109,386 parameters", () => {
  const model = createModel();
  // 784·128 + 128 + 128·64 + 64 + 64·10 + 10, counted independently of tfjs.
  assert.equal(model.countParams(), 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10);
  assert.deepEqual(model.layers.map((l) => l.name), [
    "linear1",
    "linear2",
    "linear3",
    "log_softmax",
  ]);
  assert.deepEqual(
    parameterSummary(model).map((r) => [r.layer, r.weights, r.biases, r.outputShape]),
    [
      ["linear1", 100_352, 128, "[batch, 128]"],
      ["linear2", 8_192, 64, "[batch, 64]"],
      ["linear3", 640, 10, "[batch, 10]"],
      ["log_softmax", 0, 0, "[batch, 10]"],
    ],
  );
  model.dispose();
});

Deno.test("createModel() outputs log-probabilities", () => {
  const model = createModel();
  const logp = tf.tidy(() => model.predict(tf.randomUniform([5, 784])) as tf.Tensor);
  const rows = logp.arraySync() as number[][];
  for (const row of rows) {
    const total = row.reduce((sum, v) => sum + Math.exp(v), 0);
    assert.ok(Math.abs(total - 1) < 1e-5, `probabilities sum to ${total}`);
    assert.ok(row.every((v) => v <= 0));
  }
  tf.dispose([logp]);
  model.dispose();
});

Deno.test("createModel() initialises like PyTorch: uniform in ±1/√fan_in, reproducible by seed", () => {
  const a = createModel({ seed: 1 }), b = createModel({ seed: 1 }), c = createModel({ seed: 2 });
  const weights = (m: tf.LayersModel) => m.getWeights().map((w) => w.dataSync() as Float32Array);
  const [wa, wb, wc] = [weights(a), weights(b), weights(c)];
  assert.deepEqual(wa, wb);
  assert.notDeepEqual(wa[0], wc[0]);
  const fanIns = [784, 784, 128, 128, 64, 64];
  wa.forEach((values, i) => {
    const bound = 1 / Math.sqrt(fanIns[i]);
    let sum = 0, sumSq = 0, max = 0;
    for (const v of values) (sum += v), (sumSq += v * v), (max = Math.max(max, Math.abs(v)));
    assert.ok(max <= bound, `tensor ${i}: |w| reaches ${max} > ${bound}`);
    if (values.length > 1000) {
      // A uniform on ±bound has mean 0 and variance bound²/3.
      const mean = sum / values.length, variance = sumSq / values.length - mean * mean;
      assert.ok(Math.abs(mean) < 0.05 * bound, `tensor ${i}: mean ${mean}`);
      assert.ok(
        Math.abs(variance / (bound * bound / 3) - 1) < 0.05,
        `tensor ${i}: variance ${variance}`,
      );
      assert.ok(max > 0.99 * bound, `tensor ${i}: spread ${max} of ${bound}`);
    }
  });
  [a, b, c].forEach((m) => m.dispose());
});

Deno.test("createModel() adds dropout layers and rejects bad options", () => {
  const model = createModel({ dropout: 0.2, hiddenUnits: [32] });
  assert.deepEqual(model.layers.map((l) => l.getClassName()), [
    "Dense",
    "Dropout",
    "Dense",
    "Activation",
  ]);
  model.dispose();
  assert.throws(
    () => createModel({ dropout: 1 }),
    /^RangeError: Cannot create the model: option dropout is 1, expected a rate in \[0, 1\)$/,
  );
  assert.throws(
    () => createModel({ hiddenUnits: [0] }),
    /^RangeError: Cannot create the model: option hiddenUnits is \[0\], expected positive integers$/,
  );
});
