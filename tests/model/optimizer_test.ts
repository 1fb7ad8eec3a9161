import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { createOptimizer, type OptimizerConfig } from "../../lib/model/optimizer.ts";
import { createRng, uniform } from "../../lib/util/random.ts";
import { setupBackend } from "../../lib/backend/backend.ts";

await setupBackend();

/** torch.optim.SGD's documented update, on plain numbers. */
function referenceSgd(
  w: number[],
  grads: number[][],
  { learningRate: lr, momentum = 0, weightDecay = 0, nesterov = false }: OptimizerConfig & {
    kind: "sgd";
  },
): number[] {
  const buf = w.map(() => 0);
  w = [...w];
  for (const g of grads) {
    for (let i = 0; i < w.length; i++) {
      let d = g[i] + weightDecay * w[i];
      if (momentum > 0) {
        buf[i] = momentum * buf[i] + d;
        d = nesterov ? d + momentum * buf[i] : buf[i];
      }
      w[i] -= lr * d;
    }
  }
  return w;
}

/** torch.optim.Adam's documented update, on plain numbers. */
function referenceAdam(
  w: number[],
  grads: number[][],
  { learningRate: lr, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0 }:
    & OptimizerConfig
    & { kind: "adam" },
): number[] {
  const m = w.map(() => 0), v = w.map(() => 0);
  w = [...w];
  grads.forEach((g, step) => {
    const t = step + 1;
    for (let i = 0; i < w.length; i++) {
      const d = g[i] + weightDecay * w[i];
      m[i] = beta1 * m[i] + (1 - beta1) * d;
      v[i] = beta2 * v[i] + (1 - beta2) * d * d;
      const mHat = m[i] / (1 - beta1 ** t), vHat = v[i] / (1 - beta2 ** t);
      w[i] -= lr * mHat / (Math.sqrt(vHat) + epsilon);
    }
  });
  return w;
}

Deno.test("createOptimizer() follows PyTorch's update rules", async (t) => {
  const rng = createRng(5);
  const start = Array.from(uniform(7, -1, 1, rng));
  const grads = Array.from({ length: 6 }, () => Array.from(uniform(7, -1, 1, rng)));
  const cases: [string, OptimizerConfig][] = [
    ["plain SGD", { kind: "sgd", learningRate: 0.1 }],
    ["SGD with momentum (the original)", { kind: "sgd", learningRate: 0.01, momentum: 0.5 }],
    [
      "SGD with weight decay",
      { kind: "sgd", learningRate: 0.1, momentum: 0.9, weightDecay: 0.01 },
    ],
    ["Nesterov", { kind: "sgd", learningRate: 0.1, momentum: 0.9, nesterov: true }],
    ["Adam", { kind: "adam", learningRate: 0.01 }],
    [
      "Adam with weight decay",
      { kind: "adam", learningRate: 0.01, weightDecay: 0.1, beta1: 0.8 },
    ],
  ];
  for (const [name, config] of cases) {
    await t.step(name, () => {
      const expected = config.kind === "sgd"
        ? referenceSgd(start, grads, config)
        : referenceAdam(start, grads, config);
      const w = tf.variable(tf.tensor1d(start));
      const optimizer = createOptimizer(config);
      const before = tf.memory().numTensors;
      for (const g of grads) {
        const gradient = tf.tensor1d(g);
        optimizer.step([w], [gradient], config.learningRate);
        gradient.dispose();
      }
      const found = Array.from(w.dataSync());
      found.forEach((value, i) => {
        assert.ok(
          Math.abs(value - expected[i]) < 1e-5,
          `w[${i}] is ${value}, expected ${expected[i]}`,
        );
      });
      // State tensors are made on the first step only.
      assert.ok(tf.memory().numTensors - before <= 2);
      optimizer.dispose();
      w.dispose();
    });
  }
});

Deno.test("createOptimizer() rejects bad hyperparameters, naming them", async (t) => {
  const cases: [OptimizerConfig, RegExp][] = [
    [
      { kind: "sgd", learningRate: 0 },
      /^RangeError: Cannot create the sgd optimizer: option learningRate is 0, expected a positive number$/,
    ],
    [
      { kind: "sgd", learningRate: 0.1, momentum: 1 },
      /^RangeError: Cannot create the sgd optimizer: option momentum is 1, expected a number in \[0, 1\)$/,
    ],
    [
      { kind: "adam", learningRate: 0.1, epsilon: 0 },
      /^RangeError: Cannot create the adam optimizer: option epsilon is 0, expected a positive number$/,
    ],
    [{ kind: "sgd", learningRate: NaN }, /option learningRate is NaN, expected a positive number$/],
    [
      { kind: "rmsprop", learningRate: 0.1 } as unknown as OptimizerConfig,
      /^TypeError: Cannot create the optimizer: option kind is "rmsprop", expected "sgd" or "adam"$/,
    ],
  ];
  for (const [config, message] of cases) {
    await t.step(message.source, () => assert.throws(() => createOptimizer(config), message));
  }
});
