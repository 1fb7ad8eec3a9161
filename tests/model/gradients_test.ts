import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  denseGradients,
  denseGradientsUnsupported,
  type GradientFunction,
  tapeGradients,
} from "../../lib/model/gradients.ts";
import { createModel } from "../../lib/model/network.ts";
import { createRng, uniform } from "../../lib/util/random.ts";
import { setupBackend } from "../../lib/backend/backend.ts";

await setupBackend();

function maxRelativeDifference(a: Float32Array, b: Float32Array): number {
  let scale = 0, diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

function batch(rows: number, inputs: number, classes: number, seed: number) {
  const rng = createRng(seed);
  const x = tf.tensor2d(uniform(rows * inputs, 0, 1, rng), [rows, inputs]);
  const labels = Int32Array.from({ length: rows }, () => Math.floor(rng() * classes));
  return { x, labels };
}

/** Runs a gradient function in a tidy, keeping the gradients. */
function evaluate(fn: GradientFunction, x: tf.Tensor2D, labels: Int32Array, seed = 0) {
  let loss = 0, correct = 0;
  const gradients = tf.tidy(() => {
    const result = fn(x, labels, createRng(seed));
    ({ loss, correct } = result);
    return result.gradients;
  });
  return { loss, correct, gradients };
}

Deno.test("denseGradients() equals tfjs autograd on the original network", () => {
  const model = createModel({ seed: 3 });
  const { x, labels } = batch(64, 784, 10, 4);
  const { loss: denseLoss, correct: denseCorrect, gradients: dense } = evaluate(
    denseGradients(model),
    x,
    labels,
  );
  const { loss: tapeLoss, correct: tapeCorrect, gradients: tape } = evaluate(
    tapeGradients(model),
    x,
    labels,
  );
  assert.ok(Math.abs(denseLoss - tapeLoss) < 1e-5);
  assert.equal(denseCorrect, tapeCorrect);
  assert.equal(dense.length, 6);
  dense.forEach((g, i) => {
    assert.deepEqual(g.shape, tape[i].shape);
    const difference = maxRelativeDifference(
      g.dataSync() as Float32Array,
      tape[i].dataSync() as Float32Array,
    );
    assert.ok(difference < 1e-5, `gradient ${i} differs by ${difference}`);
  });
  tf.dispose([x, ...dense, ...tape]);
  model.dispose();
});

Deno.test("denseGradients() with dropout matches central finite differences", () => {
  // A small network in float32: the loss is smooth in the weights except at ReLU kinks, which
  // random inputs almost never hit; the same seed gives the same dropout masks in every call.
  const model = createModel({
    hiddenUnits: [6, 5],
    dropout: 0.3,
    inputSize: 4,
    numClasses: 3,
    seed: 1,
  });
  const { x, labels } = batch(8, 4, 3, 2);
  const gradientFn = denseGradients(model);
  const lossAt = () => {
    const { loss, gradients } = evaluate(gradientFn, x, labels, 9);
    tf.dispose(gradients);
    return loss;
  };
  const { gradients } = evaluate(gradientFn, x, labels, 9);
  const analytic = gradients.map((g) => g.dataSync());
  tf.dispose(gradients);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const epsilon = 1e-2;
  variables.forEach((variable, v) => {
    const original = variable.dataSync().slice() as Float32Array;
    for (let i = 0; i < original.length; i += 3) {
      const probe = (delta: number) => {
        const values = original.slice();
        values[i] += delta;
        variable.assign(tf.tensor(values, variable.shape));
        return lossAt();
      };
      const numeric = (probe(epsilon) - probe(-epsilon)) / (2 * epsilon);
      assert.ok(
        Math.abs(numeric - analytic[v][i]) < 2e-3 + 2e-2 * Math.abs(numeric),
        `parameter ${v}[${i}]: analytic ${analytic[v][i]}, numeric ${numeric}`,
      );
    }
    variable.assign(tf.tensor(original, variable.shape));
  });
  x.dispose();
  model.dispose();
});

Deno.test("denseGradientsUnsupported() explains which models need autograd", () => {
  const plain = createModel({ hiddenUnits: [8] });
  assert.equal(denseGradientsUnsupported(plain), null);
  const tanh = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 3, activation: "tanh", name: "hidden" }),
      tf.layers.dense({ units: 2 }),
      tf.layers.activation({ activation: "softmax" }),
    ],
  });
  assert.match(denseGradientsUnsupported(tanh)!, /last layer is not a log-softmax/);
  assert.throws(() => denseGradients(tanh), /Cannot use the dense backward pass on model/);
  plain.dispose();
  tanh.dispose();
});
