import assert from "node:assert/strict";
import {
  compareGroups,
  describeValues,
  formatMeanSd,
  meanSdTable,
  seedDifferences,
  seedMeans,
  seedSentence,
  seedStats,
} from "../../lib/eval/seeds.ts";

// Three seeds of three rates, values chosen so the statistics are easy by hand.
const ROWS = [
  { lr: 0.01, seed: 0, epoch: 1, acc: 0.90 },
  { lr: 0.01, seed: 1, epoch: 1, acc: 0.92 },
  { lr: 0.01, seed: 2, epoch: 1, acc: 0.94 }, // mean 0.92, sd 0.02
  { lr: 0.1, seed: 0, epoch: 1, acc: 0.96 },
  { lr: 0.1, seed: 1, epoch: 1, acc: 0.97 },
  { lr: 0.1, seed: 2, epoch: 1, acc: 0.98 }, // mean 0.97, sd 0.01
  { lr: 0.3, seed: 0, epoch: 1, acc: 0.95 },
  { lr: 0.3, seed: 1, epoch: 1, acc: 0.99 },
  { lr: 0.3, seed: 2, epoch: 1, acc: NaN }, // diverged: mean 0.97, sd √0.0008
];

const close = (a: number, b: number) => Math.abs(a - b) < 1e-12;

Deno.test("seedStats groups by the keys and gives mean, sample sd, min, max, n and missing", () => {
  const groups = seedStats(ROWS, ["lr", "epoch"], "acc");
  assert.deepEqual(groups.map((g) => [g.lr, g.epoch, g.n, g.missing]), [
    [0.01, 1, 3, 0],
    [0.1, 1, 3, 0],
    [0.3, 1, 2, 1],
  ]);
  assert.ok(close(groups[0].mean, 0.92) && close(groups[0].std, 0.02));
  assert.ok(close(groups[1].mean, 0.97) && close(groups[1].std, 0.01));
  assert.ok(close(groups[2].std, Math.sqrt(0.0008)), `${groups[2].std}`);
  assert.deepEqual([groups[2].min, groups[2].max], [0.95, 0.99]);
  assert.equal("seed" in groups[0], false, "the seed is what the group averages over");
});

Deno.test("describeValues: one value has no sd, none has no mean", () => {
  assert.deepEqual(describeValues([5]), { n: 1, mean: 5, std: NaN, min: 5, max: 5, missing: 0 });
  assert.deepEqual(describeValues([null, Infinity]), {
    n: 0,
    mean: NaN,
    std: NaN,
    min: NaN,
    max: NaN,
    missing: 2,
  });
});

Deno.test("differences exceed the spread when |Δ| > 2·√(s1²/n1 + s2²/n2)", () => {
  const [slow, good, fast] = seedStats(ROWS, ["lr"], "acc");
  const adjacent = seedDifferences([slow, good, fast]);
  // 0.1 vs 0.01: Δ = 0.05, threshold 2·√(0.0001/3 + 0.0004/3) = 2·√(0.0005/3) ≈ 0.0258.
  assert.ok(close(adjacent[0].difference, 0.05));
  assert.ok(close(adjacent[0].threshold, 2 * Math.sqrt(0.0005 / 3)));
  assert.equal(adjacent[0].exceeds, true);
  // 0.3 vs 0.1: Δ = 0, threshold 2·√(0.0008/2 + 0.0001/3).
  assert.ok(close(adjacent[1].difference, 0));
  assert.ok(close(adjacent[1].threshold, 2 * Math.sqrt(0.0004 + 0.0001 / 3)));
  assert.equal(adjacent[1].exceeds, false);
  const vsBest = seedDifferences([slow, good, fast], (g) => g.lr === 0.1);
  assert.deepEqual(vsBest.map((d) => [d.a.lr, d.b.lr]), [[0.01, 0.1], [0.3, 0.1]]);
  assert.deepEqual(seedDifferences([slow], (g) => g.lr === 5), []);
  const single = compareGroups({ ...slow, n: 1, std: NaN }, good);
  assert.deepEqual([Number.isNaN(single.threshold), single.exceeds], [true, false]);
});

Deno.test("the sentence names the differences beyond the spread and those within it", () => {
  const groups = seedStats(ROWS, ["lr"], "acc");
  const text = seedSentence(seedDifferences(groups), {
    metric: "validation accuracy",
    label: (g) => `lr ${g.lr}`,
    format: (x) => `${(100 * x).toFixed(1)} points`,
  });
  assert.equal(
    text,
    "Over 3 seeds, the validation accuracy of lr 0.1 differs from lr 0.01 by +5.0 points " +
      "(beyond twice the combined standard error, 2.6 points); lr 0.3 vs lr 0.1 (0.0 points, " +
      "within 4.2 points) cannot be told apart from seed-to-seed noise.",
  );
  assert.equal(
    seedSentence([], { metric: "accuracy", label: String }),
    "No two groups to compare the accuracy of.",
  );
});

Deno.test("formatMeanSd writes mean ± sd and counts the missing", () => {
  const [slow, , fast] = seedStats(ROWS, ["lr"], "acc");
  const pct = (x: number) => (100 * x).toFixed(1);
  assert.equal(formatMeanSd(slow, pct), "92.0 ± 2.0");
  assert.equal(formatMeanSd(fast, pct), "97.0 ± 2.8 (1 missing)");
});

Deno.test("seedStats rejects no keys and a value among the keys", () => {
  assert.throws(() => seedStats(ROWS, [], "acc"), {
    name: "RangeError",
    message: 'Cannot group seeds "acc": the keys is [], expected at least one key',
  });
  assert.throws(() => seedStats(ROWS, ["acc"], "acc"), {
    name: "RangeError",
    message: /^Cannot group seeds "acc": the keys is .*, expected keys other than "acc"$/,
  });
});

Deno.test("seedMeans averages numbers over seeds and keeps a boolean only when every seed has it", () => {
  const rows = ROWS.map((r) => ({ ...r, diverged: Number.isNaN(r.acc) }));
  const means = seedMeans(rows, ["lr"], ["acc", "diverged"]);
  assert.deepEqual(means.map((m) => [m.lr, m.seeds, m.diverged]), [
    [0.01, 3, false],
    [0.1, 3, false],
    [0.3, 3, false],
  ]);
  assert.ok(close(means[0].acc as number, 0.92) && close(means[2].acc as number, 0.97));
  const allDiverged = seedMeans([{ lr: 3, acc: NaN, diverged: true }], ["lr"], ["acc", "diverged"]);
  assert.deepEqual(allDiverged, [{ lr: 3, seeds: 1, acc: null, diverged: true }]);
});

Deno.test("meanSdTable writes one mean ± sd cell per value and group", () => {
  const pct = (x: number) => (100 * x).toFixed(1);
  assert.deepEqual(meanSdTable(ROWS, ["lr"], { acc: "accuracy (%)" }, pct), [
    { lr: 0.01, seeds: 3, "accuracy (%)": "92.0 ± 2.0" },
    { lr: 0.1, seeds: 3, "accuracy (%)": "97.0 ± 1.0" },
    { lr: 0.3, seeds: 3, "accuracy (%)": "97.0 ± 2.8 (1 missing)" },
  ]);
});
