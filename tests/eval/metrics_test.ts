import assert from "node:assert/strict";
import {
  accuracy,
  argmaxRows,
  classificationReport,
  confusionMatrix,
  expectedCalibrationError,
  macroAverageRoc,
  microAverageRoc,
  mostConfidentMistakes,
  mostConfusedPairs,
  oneVsRestRoc,
  reliabilityBins,
  rocAuc,
  rocCurve,
  topKAccuracy,
} from "../../lib/eval/mod.ts";
import { createRng, type Rng } from "../../lib/util/random.ts";

// ---------------------------------------------------------------------------------------------
// Random inputs (seeded) and independent references: brute force over pairs, thresholds, cells.

const TOLERANCE = 1e-9;

function randomInts(n: number, k: number, rng: Rng): Int32Array {
  return Int32Array.from({ length: n }, () => Math.floor(rng() * k));
}

/** Scores rounded to `decimals` places, so that many are tied. */
function randomScores(n: number, decimals: number, rng: Rng): number[] {
  const scale = 10 ** decimals;
  return Array.from({ length: n }, () => Math.round(rng() * scale) / scale);
}

/** Rows of `k` probabilities summing to 1, optionally rounded (to make ties), as a Float32Array. */
function randomProbabilities(n: number, k: number, rng: Rng, decimals?: number): Float32Array {
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const raw = Array.from({ length: k }, () => rng() ** 3);
    const sum = raw.reduce((a, b) => a + b, 0);
    raw.forEach((v, c) => {
      const p = v / sum;
      out[i * k + c] = decimals === undefined ? p : Math.round(p * 10 ** decimals) / 10 ** decimals;
    });
  }
  return out;
}

/** Labels that agree with the most probable class most of the time, like a trained model's. */
function plausibleLabels(probabilities: Float32Array, k: number, rng: Rng): Int32Array {
  const n = probabilities.length / k;
  return Int32Array.from({ length: n }, (_, i) => {
    if (rng() < 0.3) return Math.floor(rng() * k);
    const row = Array.from(probabilities.subarray(i * k, (i + 1) * k));
    return row.indexOf(Math.max(...row));
  });
}

function bruteAuc(scores: ArrayLike<number>, positives: ArrayLike<boolean>): number {
  let wins = 0, pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!positives[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (positives[j]) continue;
      pairs++;
      if (scores[i] > scores[j]) wins += 1;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  return wins / pairs;
}

/** Flags everything scoring at or above each distinct score, from the highest down. */
function bruteRoc(scores: ArrayLike<number>, positives: ArrayLike<boolean>) {
  const all = Array.from(scores);
  const distinct = [...new Set(all)].sort((a, b) => b - a);
  const p = Array.from(positives).filter(Boolean).length, q = all.length - p;
  const fpr = [0], tpr = [0], thresholds = [Infinity];
  for (const t of distinct) {
    fpr.push(all.filter((s, i) => s >= t && !positives[i]).length / q);
    tpr.push(all.filter((s, i) => s >= t && positives[i]).length / p);
    thresholds.push(t);
  }
  return { fpr, tpr, thresholds };
}

function trapezoid(fpr: number[], tpr: number[]): number {
  let area = 0;
  for (let i = 1; i < fpr.length; i++) area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2;
  return area;
}

/** Linear interpolation at an `x` strictly between two of the curve's false positive rates. */
function interpolate(fpr: number[], tpr: number[], x: number): number {
  const i = fpr.findIndex((f) => f > x);
  return tpr[i - 1] + (x - fpr[i - 1]) / (fpr[i] - fpr[i - 1]) * (tpr[i] - tpr[i - 1]);
}

function column(probabilities: ArrayLike<number>, k: number, c: number): number[] {
  return Array.from({ length: probabilities.length / k }, (_, i) => probabilities[i * k + c]);
}

function assertClose(actual: number, expected: number, message?: string): void {
  assert.ok(
    Math.abs(actual - expected) <= TOLERANCE,
    `${message ?? "value"}: expected ${expected}, found ${actual}`,
  );
}

function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  assert.equal(actual.length, expected.length, "lengths differ");
  for (let i = 0; i < actual.length; i++) assertClose(actual[i], expected[i], `index ${i}`);
}

// ---------------------------------------------------------------------------------------------
// accuracy, confusionMatrix, argmaxRows, classificationReport

Deno.test("accuracy() is the fraction of equal entries", async (t) => {
  const cases = [
    { labels: [1], predictions: [1], expected: 1 },
    { labels: [1], predictions: [0], expected: 0 },
    { labels: [0, 1, 2, 3], predictions: [0, 1, 3, 2], expected: 0.5 },
    { labels: new Uint8Array([9, 9, 9]), predictions: new Uint8Array([9, 0, 9]), expected: 2 / 3 },
  ];
  for (const { labels, predictions, expected } of cases) {
    await t.step(`${Array.from(labels)} vs ${Array.from(predictions)}`, () => {
      assert.equal(accuracy(labels, predictions), expected);
    });
  }
  await t.step("random labels against counting", () => {
    const rng = createRng(1);
    const labels = randomInts(1000, 10, rng), predictions = randomInts(1000, 10, rng);
    const correct = Array.from(labels).filter((label, i) => label === predictions[i]).length;
    assert.equal(accuracy(labels, predictions), correct / 1000);
  });
});

Deno.test("confusionMatrix() puts true classes in rows and predictions in columns", () => {
  assert.deepEqual(confusionMatrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3), [
    [1, 1, 0],
    [0, 1, 0],
    [1, 0, 2],
  ]);
});

Deno.test("confusionMatrix() agrees with counting each cell", () => {
  const rng = createRng(2);
  const labels = randomInts(500, 10, rng), predictions = randomInts(500, 10, rng);
  const matrix = confusionMatrix(labels, predictions);
  for (let t = 0; t < 10; t++) {
    for (let p = 0; p < 10; p++) {
      const count = Array.from(labels).filter((l, i) => l === t && predictions[i] === p).length;
      assert.equal(matrix[t][p], count, `cell [${t}][${p}]`);
    }
  }
});

Deno.test("argmaxRows() picks the largest entry of a row, the lowest class on ties", async (t) => {
  await t.step("ties", () => {
    assert.deepEqual([...argmaxRows([0.5, 0.5, 0, 0, 0.3, 0.3, 0.4, 0.4], 4)], [0, 2]);
  });
  await t.step("random rows against Math.max and indexOf", () => {
    const probabilities = randomProbabilities(300, 10, createRng(3), 1);
    const expected = Array.from({ length: 300 }, (_, i) => {
      const row = Array.from(probabilities.subarray(i * 10, (i + 1) * 10));
      return row.indexOf(Math.max(...row));
    });
    assert.deepEqual([...argmaxRows(probabilities)], expected);
  });
  await t.step("returns an Int32Array beyond 256 classes", () => {
    const probabilities = new Float32Array(300);
    probabilities[299] = 1;
    const predictions = argmaxRows(probabilities, 300);
    assert.ok(predictions instanceof Int32Array);
    assert.deepEqual([...predictions], [299]);
  });
});

Deno.test("classificationReport() defines 0/0 precision, recall and F1 as 0", () => {
  // Class 0: 2 examples, both predicted 1. Class 1: 2 examples, both right. Class 2: none at all.
  const report = classificationReport([0, 0, 1, 1], [1, 1, 1, 1], 3);
  assert.deepEqual(report.rows, [
    { class: 0, precision: 0, recall: 0, f1: 0, support: 2 },
    { class: 1, precision: 0.5, recall: 1, f1: 2 / 3, support: 2 },
    { class: 2, precision: 0, recall: 0, f1: 0, support: 0 },
  ]);
  assertClose(report.macro.precision, 0.5 / 3);
  assertClose(report.macro.recall, 1 / 3);
  assertClose(report.macro.f1, 2 / 9);
  assertClose(report.weighted.precision, 0.25);
  assertClose(report.weighted.recall, 0.5);
  assertClose(report.weighted.f1, 1 / 3);
  assert.equal(report.macro.support, 4);
  assert.equal(report.accuracy, 0.5);
});

Deno.test("classificationReport() agrees with counting true and false positives", () => {
  const rng = createRng(4);
  const labels = randomInts(400, 10, rng);
  const predictions = labels.map((l) => rng() < 0.6 ? l : Math.floor(rng() * 10));
  const report = classificationReport(labels, predictions);
  const l = Array.from(labels), p = Array.from(predictions);
  const expectedRows = Array.from({ length: 10 }, (_, c) => {
    const tp = l.filter((x, i) => x === c && p[i] === c).length;
    const fp = l.filter((x, i) => x !== c && p[i] === c).length;
    const fn = l.filter((x, i) => x === c && p[i] !== c).length;
    return {
      precision: tp / (tp + fp),
      recall: tp / (tp + fn),
      f1: (2 * tp) / (2 * tp + fp + fn),
      support: tp + fn,
    };
  });
  expectedRows.forEach((row, c) => {
    assertClose(report.rows[c].precision, row.precision, `precision of ${c}`);
    assertClose(report.rows[c].recall, row.recall, `recall of ${c}`);
    assertClose(report.rows[c].f1, row.f1, `f1 of ${c}`);
    assert.equal(report.rows[c].support, row.support);
  });
  for (const key of ["precision", "recall", "f1"] as const) {
    const values = expectedRows.map((row) => row[key]);
    assertClose(report.macro[key], values.reduce((a, b) => a + b) / 10, `macro ${key}`);
    const weighted = expectedRows.reduce((sum, row) => sum + row[key] * row.support, 0) / 400;
    assertClose(report.weighted[key], weighted, `weighted ${key}`);
  }
  // Weighted recall is the accuracy.
  assertClose(report.weighted.recall, accuracy(labels, predictions));
});

// ---------------------------------------------------------------------------------------------
// Binary ROC and AUC

Deno.test("rocAuc() counts ties as one half", async (t) => {
  const cases = [
    { name: "all tied", scores: [0.5, 0.5, 0.5], positives: [true, false, false], expected: 0.5 },
    { name: "separated", scores: [0.9, 0.8, 0.1], positives: [true, true, false], expected: 1 },
    { name: "reversed", scores: [0.1, 0.9], positives: [true, false], expected: 0 },
    // Pairs: (0.7, 0.7) ties, (0.7, 0.2) wins, (0.2, 0.7) loses, (0.2, 0.2) ties.
    {
      name: "mixed",
      scores: [0.7, 0.2, 0.7, 0.2],
      positives: [true, true, false, false],
      expected: 0.5,
    },
    {
      name: "infinities",
      scores: [-Infinity, 1, -Infinity],
      positives: [true, true, false],
      expected: 0.75,
    },
  ];
  for (const { name, scores, positives, expected } of cases) {
    await t.step(name, () => assert.equal(rocAuc(scores, positives), expected));
  }
});

Deno.test("rocAuc() agrees with counting every positive–negative pair", async (t) => {
  for (const [seed, n, decimals] of [[5, 200, 1], [6, 500, 2], [7, 300, 3], [8, 40, 0]]) {
    await t.step(`seed ${seed}, ${n} scores with ${decimals} decimals`, () => {
      const rng = createRng(seed);
      const scores = randomScores(n, decimals, rng);
      // Positives score a little higher on average, so the AUC is not just 0.5.
      const positives = scores.map((s) => rng() < 0.3 + 0.4 * s);
      assertClose(rocAuc(scores, positives), bruteAuc(scores, positives));
      assertClose(
        rocAuc(new Float32Array(scores), positives),
        bruteAuc(new Float32Array(scores), positives),
      );
    });
  }
});

Deno.test("rocAuc() returns NaN without positives or without negatives", async (t) => {
  await t.step("no positives", () => assert.ok(Number.isNaN(rocAuc([0.1, 0.2], [false, false]))));
  await t.step("no negatives", () => assert.ok(Number.isNaN(rocAuc([0.1, 0.2], [true, true]))));
  await t.step("empty", () => assert.ok(Number.isNaN(rocAuc([], []))));
});

Deno.test("rocCurve() matches thresholding at every distinct score", async (t) => {
  for (const [seed, n, decimals] of [[9, 100, 1], [10, 300, 2], [11, 50, 4]]) {
    await t.step(`seed ${seed}, ${n} scores with ${decimals} decimals`, () => {
      const rng = createRng(seed);
      const scores = randomScores(n, decimals, rng);
      const positives = scores.map((s) => rng() < s);
      const curve = rocCurve(scores, positives);
      const expected = bruteRoc(scores, positives);
      assert.deepEqual(curve.thresholds, expected.thresholds);
      assertAllClose(curve.fpr, expected.fpr);
      assertAllClose(curve.tpr, expected.tpr);
    });
  }
});

Deno.test("rocCurve() runs from (0, 0) to (1, 1) and its area is rocAuc()", () => {
  const rng = createRng(12);
  const scores = randomScores(1000, 2, rng);
  const positives = scores.map((s) => rng() < s);
  const { fpr, tpr } = rocCurve(scores, positives);
  assert.deepEqual([fpr[0], tpr[0], fpr.at(-1), tpr.at(-1)], [0, 0, 1, 1]);
  for (let i = 1; i < fpr.length; i++) assert.ok(fpr[i] >= fpr[i - 1] && tpr[i] >= tpr[i - 1]);
  assertClose(trapezoid(fpr, tpr), rocAuc(scores, positives));
});

// ---------------------------------------------------------------------------------------------
// Multi-class ROC

Deno.test("oneVsRestRoc() scores each class against all others", () => {
  const rng = createRng(13);
  const probabilities = randomProbabilities(300, 4, rng, 2);
  const labels = plausibleLabels(probabilities, 4, rng);
  const rocs = oneVsRestRoc(labels, probabilities, 4);
  assert.equal(rocs.length, 4);
  rocs.forEach((roc, c) => {
    const scores = column(probabilities, 4, c), positives = Array.from(labels, (l) => l === c);
    assert.equal(roc.class, c);
    assertClose(roc.auc, bruteAuc(scores, positives), `AUC of class ${c}`);
    const expected = bruteRoc(scores, positives);
    assertAllClose(roc.curve.fpr, expected.fpr);
    assertAllClose(roc.curve.tpr, expected.tpr);
  });
});

Deno.test("microAverageRoc() pools every (example, class) pair", async (t) => {
  for (const [seed, decimals] of [[14, 1], [15, 2], [16, undefined]] as const) {
    await t.step(`seed ${seed}, ${decimals ?? "all"} decimals`, () => {
      const rng = createRng(seed);
      const probabilities = randomProbabilities(120, 5, rng, decimals);
      const labels = plausibleLabels(probabilities, 5, rng);
      const pooledPositives = Array.from(
        probabilities,
        (_, j) => labels[Math.floor(j / 5)] === j % 5,
      );
      const micro = microAverageRoc(labels, probabilities, 5);
      assertClose(micro.auc, bruteAuc(probabilities, pooledPositives));
      const expected = bruteRoc(probabilities, pooledPositives);
      assertAllClose(micro.curve.fpr, expected.fpr);
      assertAllClose(micro.curve.tpr, expected.tpr);
    });
  }
});

Deno.test("macroAverageRoc() averages per-class AUCs and curves", async (t) => {
  const rng = createRng(17);
  const probabilities = randomProbabilities(200, 6, rng, 2);
  const labels = plausibleLabels(probabilities, 6, rng);
  const macro = macroAverageRoc(labels, probabilities, 6);
  const perClass = Array.from({ length: 6 }, (_, c) => {
    const scores = column(probabilities, 6, c), positives = Array.from(labels, (l) => l === c);
    return { auc: bruteAuc(scores, positives), curve: bruteRoc(scores, positives) };
  });
  await t.step("AUC is the mean of brute-force per-class AUCs", () => {
    assertClose(macro.auc, perClass.reduce((sum, c) => sum + c.auc, 0) / 6);
  });
  await t.step("the curve's area is the macro AUC", () => {
    assertClose(trapezoid(macro.curve.fpr, macro.curve.tpr), macro.auc);
  });
  await t.step("between grid points the curve is the mean of the class curves", () => {
    const grid = new Set(perClass.flatMap((c) => c.curve.fpr));
    for (let trial = 0; trial < 200; trial++) {
      const x = rng();
      if (grid.has(x)) continue;
      const expected = perClass.reduce((s, c) => s + interpolate(c.curve.fpr, c.curve.tpr, x), 0) /
        6;
      assertClose(interpolate(macro.curve.fpr, macro.curve.tpr, x), expected, `tpr at fpr ${x}`);
    }
  });
  await t.step("runs from (0, 0) to (1, 1), non-decreasing", () => {
    const { fpr, tpr } = macro.curve;
    assert.deepEqual([fpr[0], tpr[0], fpr.at(-1), tpr.at(-1)], [0, 0, 1, 1]);
    for (let i = 1; i < fpr.length; i++) assert.ok(fpr[i] >= fpr[i - 1] && tpr[i] >= tpr[i - 1]);
  });
});

// ---------------------------------------------------------------------------------------------
// Top-k accuracy, calibration, mistakes

Deno.test("topKAccuracy() ranks ties towards the lower class", async (t) => {
  // Row 0: classes 0 and 1 tie at 0.4. Row 1: all three tie.
  const probabilities = [0.4, 0.4, 0.2, 1 / 3, 1 / 3, 1 / 3];
  const cases = [
    { labels: [0, 0], k: 1, expected: 1 },
    { labels: [1, 1], k: 1, expected: 0 },
    { labels: [1, 1], k: 2, expected: 1 },
    { labels: [2, 2], k: 2, expected: 0 },
    { labels: [2, 2], k: 3, expected: 1 },
  ];
  for (const { labels, k, expected } of cases) {
    await t.step(`labels ${labels}, k = ${k}`, () => {
      assert.equal(topKAccuracy(labels, probabilities, k, 3), expected);
    });
  }
});

Deno.test("topKAccuracy() agrees with sorting each row", async (t) => {
  const rng = createRng(18);
  const probabilities = randomProbabilities(400, 10, rng, 1);
  const labels = randomInts(400, 10, rng);
  for (const k of [1, 2, 3, 5, 10]) {
    await t.step(`k = ${k}`, () => {
      const hits = Array.from(labels).filter((label, i) => {
        const order = Array.from({ length: 10 }, (_, c) => c)
          .sort((a, b) => probabilities[i * 10 + b] - probabilities[i * 10 + a] || a - b);
        return order.slice(0, k).includes(label);
      }).length;
      assertClose(topKAccuracy(labels, probabilities, k), hits / 400);
    });
  }
  await t.step("k = 1 is the accuracy of argmaxRows()", () => {
    assert.equal(
      topKAccuracy(labels, probabilities, 1),
      accuracy(labels, argmaxRows(probabilities)),
    );
  });
});

Deno.test("reliabilityBins() puts a confidence on an edge in the upper bin, 1 in the last", () => {
  // Confidences 0.5, 1 and 0.5: with 2 bins all land in [0.5, 1].
  const probabilities = [0.5, 0.5, 0, 1, 0.5, 0.5];
  const bins = reliabilityBins([0, 0, 1], probabilities, { numClasses: 2, bins: 2 });
  assert.equal(bins.length, 2);
  assert.deepEqual(bins[0], { lower: 0, upper: 0.5, count: 0, confidence: NaN, accuracy: NaN });
  assert.deepEqual(bins[1], {
    lower: 0.5,
    upper: 1,
    count: 3,
    confidence: 2 / 3,
    accuracy: 1 / 3,
  });
});

Deno.test("reliabilityBins() and expectedCalibrationError() match a direct recount", async (t) => {
  const rng = createRng(19);
  const probabilities = randomProbabilities(2000, 10, rng);
  const labels = plausibleLabels(probabilities, 10, rng);
  const confidences = Array.from(
    { length: 2000 },
    (_, i) => Math.max(...probabilities.subarray(i * 10, (i + 1) * 10)),
  );
  const correct = Array.from(argmaxRows(probabilities), (p, i) => p === labels[i]);
  for (const binCount of [15, 10, 7, 1]) {
    await t.step(`${binCount} bins`, () => {
      const options = binCount === 15 ? {} : { bins: binCount };
      const bins = reliabilityBins(labels, probabilities, options);
      assert.equal(bins.length, binCount);
      let ece = 0;
      bins.forEach((bin, b) => {
        const lower = b / binCount, upper = (b + 1) / binCount;
        const members = confidences.map((_, i) => i).filter((i) =>
          confidences[i] >= lower && (confidences[i] < upper || b === binCount - 1)
        );
        assert.equal(bin.count, members.length, `count of bin ${b}`);
        if (members.length === 0) return;
        const meanConfidence = members.reduce((s, i) => s + confidences[i], 0) / members.length;
        const binAccuracy = members.filter((i) => correct[i]).length / members.length;
        assertClose(bin.confidence, meanConfidence, `mean confidence of bin ${b}`);
        assertClose(bin.accuracy, binAccuracy, `accuracy of bin ${b}`);
        ece += (members.length / 2000) * Math.abs(meanConfidence - binAccuracy);
      });
      assertClose(expectedCalibrationError(labels, probabilities, options), ece);
    });
  }
});

Deno.test("mostConfusedPairs() ranks off-diagonal cells by count", async (t) => {
  await t.step("by hand", () => {
    const matrix = [[9, 1, 4], [4, 9, 0], [2, 2, 9]];
    assert.deepEqual(mostConfusedPairs(matrix), [
      { label: 0, predicted: 2, count: 4 },
      { label: 1, predicted: 0, count: 4 },
      { label: 2, predicted: 0, count: 2 },
      { label: 2, predicted: 1, count: 2 },
      { label: 0, predicted: 1, count: 1 },
    ]);
    assert.deepEqual(mostConfusedPairs(matrix, { limit: 1 }), [{
      label: 0,
      predicted: 2,
      count: 4,
    }]);
    assert.deepEqual(mostConfusedPairs(matrix, { limit: 0 }), []);
  });
  await t.step("random matrix: the top counts are the largest off-diagonal cells", () => {
    const rng = createRng(20);
    const matrix = confusionMatrix(randomInts(300, 10, rng), randomInts(300, 10, rng));
    const offDiagonal = matrix.flatMap((row, t) => row.filter((_, p) => p !== t)).filter((c) =>
      c > 0
    );
    offDiagonal.sort((a, b) => b - a);
    const pairs = mostConfusedPairs(matrix, { limit: 15 });
    assert.deepEqual(pairs.map((pair) => pair.count), offDiagonal.slice(0, 15));
    for (const { label, predicted, count } of pairs) assert.equal(matrix[label][predicted], count);
  });
});

Deno.test("mostConfidentMistakes() lists wrong predictions by decreasing confidence", async (t) => {
  await t.step("by hand", () => {
    const probabilities = [0.1, 0.9, 0.6, 0.4, 0.3, 0.7, 0.2, 0.8];
    const mistakes = mostConfidentMistakes([0, 0, 0, 1], probabilities, { numClasses: 2 });
    assert.deepEqual(mistakes, [
      { index: 0, label: 0, predicted: 1, confidence: 0.9, labelProbability: 0.1 },
      { index: 2, label: 0, predicted: 1, confidence: 0.7, labelProbability: 0.3 },
    ]);
  });
  await t.step("random: every mistake, none missed, sorted", () => {
    const rng = createRng(21);
    const probabilities = randomProbabilities(500, 10, rng, 2);
    const labels = plausibleLabels(probabilities, 10, rng);
    const predictions = argmaxRows(probabilities);
    const wrong = Array.from(labels, (_, i) => i).filter((i) => predictions[i] !== labels[i]);
    const mistakes = mostConfidentMistakes(labels, probabilities, { limit: 1000 });
    assert.equal(mistakes.length, wrong.length);
    const byConfidence = wrong.map((i) => probabilities[i * 10 + predictions[i]])
      .sort((a, b) => b - a);
    assert.deepEqual(mistakes.map((m) => m.confidence), byConfidence);
    for (const m of mistakes) {
      assert.equal(m.predicted, predictions[m.index]);
      assert.equal(m.label, labels[m.index]);
      assert.equal(m.labelProbability, probabilities[m.index * 10 + m.label]);
    }
    assert.deepEqual(mostConfidentMistakes(labels, probabilities), mistakes.slice(0, 10));
  });
});

// ---------------------------------------------------------------------------------------------
// Bad input: one test each, asserting the error class and the whole message in lib's grammar.

const TWO_ROWS = [0.5, 0.5, 0.2, 0.8];
const BAD_INPUTS: {
  name: string;
  call: () => unknown;
  error: typeof RangeError | typeof TypeError;
  message: RegExp;
}[] = [
  {
    name: "accuracy() rejects labels and predictions of different lengths",
    call: () => accuracy([0, 1], [0]),
    error: RangeError,
    message:
      /^Cannot compute accuracy: the length of predictions is 1, expected 2, the length of labels$/,
  },
  {
    name: "accuracy() rejects empty labels",
    call: () => accuracy([], []),
    error: RangeError,
    message: /^Cannot compute accuracy: labels is empty, expected at least one element$/,
  },
  {
    name: "accuracy() rejects non-integer labels",
    call: () => accuracy([0, 1.5], [0, 1]),
    error: RangeError,
    message: /^Cannot compute accuracy: labels\[1\] is 1\.5, expected a non-negative integer$/,
  },
  {
    name: "accuracy() rejects negative predictions",
    call: () => accuracy([0, 1], [0, -1]),
    error: RangeError,
    message: /^Cannot compute accuracy: predictions\[1\] is -1, expected a non-negative integer$/,
  },
  {
    name: "confusionMatrix() rejects labels out of range",
    call: () => confusionMatrix([0, 10], [0, 1]),
    error: RangeError,
    message:
      /^Cannot compute the confusion matrix: labels\[1\] is 10, expected an integer from 0 to 9$/,
  },
  {
    name: "confusionMatrix() rejects NaN predictions",
    call: () => confusionMatrix([0, 1], [NaN, 1], 2),
    error: RangeError,
    message:
      /^Cannot compute the confusion matrix: predictions\[0\] is NaN, expected an integer from 0 to 1$/,
  },
  {
    name: "confusionMatrix() rejects lengths that differ",
    call: () => confusionMatrix([0], [0, 1]),
    error: RangeError,
    message:
      /^Cannot compute the confusion matrix: the length of predictions is 2, expected 1, the length of labels$/,
  },
  {
    name: "confusionMatrix() rejects a numClasses that is not a positive integer",
    call: () => confusionMatrix([0], [0], 0),
    error: RangeError,
    message: /^Cannot compute the confusion matrix: numClasses is 0, expected a positive integer$/,
  },
  {
    name: "argmaxRows() rejects a length that is not a multiple of numClasses",
    call: () => argmaxRows(new Float32Array(25)),
    error: RangeError,
    message:
      /^Cannot pick the most likely classes: the length of probabilities is 25, expected a multiple of numClasses \(10\)$/,
  },
  {
    name: "argmaxRows() rejects NaN probabilities",
    call: () => argmaxRows([0.5, NaN], 2),
    error: RangeError,
    message: /^Cannot pick the most likely classes: probabilities\[1\] is NaN, expected a number$/,
  },
  {
    name: "classificationReport() rejects empty labels",
    call: () => classificationReport([], []),
    error: RangeError,
    message:
      /^Cannot compute the classification report: labels is empty, expected at least one element$/,
  },
  {
    name: "classificationReport() rejects predictions out of range",
    call: () => classificationReport([0, 1], [0, 2], 2),
    error: RangeError,
    message:
      /^Cannot compute the confusion matrix: predictions\[1\] is 2, expected an integer from 0 to 1$/,
  },
  {
    name: "rocCurve() rejects scores and positives of different lengths",
    call: () => rocCurve([0.1, 0.2], [true]),
    error: RangeError,
    message:
      /^Cannot compute the ROC curve: the length of positives is 1, expected 2, the length of scores$/,
  },
  {
    name: "rocCurve() rejects NaN scores",
    call: () => rocCurve([0.1, NaN], [true, false]),
    error: RangeError,
    message: /^Cannot compute the ROC curve: scores\[1\] is NaN, expected a number$/,
  },
  {
    name: "rocCurve() rejects positives without a positive",
    call: () => rocCurve([0.1, 0.2], [false, false]),
    error: RangeError,
    message:
      /^Cannot compute the ROC curve: the count of positives and negatives is 0 and 2, expected at least one of each$/,
  },
  {
    name: "rocCurve() rejects positives without a negative",
    call: () => rocCurve([0.1, 0.2], [true, true]),
    error: RangeError,
    message:
      /^Cannot compute the ROC curve: the count of positives and negatives is 2 and 0, expected at least one of each$/,
  },
  {
    name: "rocCurve() rejects positives that are not booleans",
    call: () => rocCurve([0.1, 0.2], [1, 0] as unknown as boolean[]),
    error: TypeError,
    message: /^Cannot compute the ROC curve: positives\[0\] is 1, expected a boolean$/,
  },
  {
    name: "rocAuc() rejects NaN scores",
    call: () => rocAuc([NaN], [true]),
    error: RangeError,
    message: /^Cannot compute the ROC AUC: scores\[0\] is NaN, expected a number$/,
  },
  {
    name: "rocAuc() rejects scores and positives of different lengths",
    call: () => rocAuc([0.1], [true, false]),
    error: RangeError,
    message:
      /^Cannot compute the ROC AUC: the length of positives is 2, expected 1, the length of scores$/,
  },
  {
    name: "oneVsRestRoc() rejects labels without an example of a class",
    call: () => oneVsRestRoc([0, 1], [0.5, 0.3, 0.2, 0.1, 0.6, 0.3], 3),
    error: RangeError,
    message:
      /^Cannot compute one-vs-rest ROC curves: the count of class 2 and of other classes is 0 and 2, expected at least one of each$/,
  },
  {
    name: "oneVsRestRoc() rejects labels that are all of one class",
    call: () => oneVsRestRoc([0, 0], TWO_ROWS, 2),
    error: RangeError,
    message:
      /^Cannot compute one-vs-rest ROC curves: the count of class 0 and of other classes is 2 and 0, expected at least one of each$/,
  },
  {
    name: "macroAverageRoc() rejects labels without an example of a class",
    call: () => macroAverageRoc([1, 1], TWO_ROWS, 2),
    error: RangeError,
    message:
      /^Cannot compute one-vs-rest ROC curves: the count of class 0 and of other classes is 0 and 2, expected at least one of each$/,
  },
  {
    name: "oneVsRestRoc() rejects fewer than two classes",
    call: () => oneVsRestRoc([0, 0], [1, 1], 1),
    error: RangeError,
    message: /^Cannot compute one-vs-rest ROC curves: numClasses is 1, expected an integer ≥ 2$/,
  },
  {
    name: "oneVsRestRoc() rejects one label per probability instead of per row",
    call: () => oneVsRestRoc([0, 1, 0, 1], TWO_ROWS, 2),
    error: RangeError,
    message:
      /^Cannot compute one-vs-rest ROC curves: the number of labels is 4, expected 2, one per row of 2 probabilities$/,
  },
  {
    name: "oneVsRestRoc() rejects empty labels",
    call: () => oneVsRestRoc([], []),
    error: RangeError,
    message:
      /^Cannot compute one-vs-rest ROC curves: labels is empty, expected at least one element$/,
  },
  {
    name: "microAverageRoc() rejects empty labels",
    call: () => microAverageRoc([], []),
    error: RangeError,
    message:
      /^Cannot compute the micro-averaged ROC: labels is empty, expected at least one element$/,
  },
  {
    name: "microAverageRoc() rejects labels out of range",
    call: () => microAverageRoc([0, 2], TWO_ROWS, 2),
    error: RangeError,
    message:
      /^Cannot compute the micro-averaged ROC: labels\[1\] is 2, expected an integer from 0 to 1$/,
  },
  {
    name: "microAverageRoc() rejects NaN probabilities",
    call: () => microAverageRoc([0, 1], [0.5, 0.5, NaN, 0.8], 2),
    error: RangeError,
    message:
      /^Cannot compute the micro-averaged ROC: probabilities\[2\] is NaN, expected a number$/,
  },
  {
    name: "macroAverageRoc() rejects a length that is not a multiple of numClasses",
    call: () => macroAverageRoc([0, 1], [0.5, 0.5, 0.2], 2),
    error: RangeError,
    message:
      /^Cannot compute one-vs-rest ROC curves: the length of probabilities is 3, expected a multiple of numClasses \(2\)$/,
  },
  {
    name: "topKAccuracy() rejects a k of 0",
    call: () => topKAccuracy([0, 1], TWO_ROWS, 0, 2),
    error: RangeError,
    message: /^Cannot compute top-k accuracy: k is 0, expected an integer in \[1, 2\]$/,
  },
  {
    name: "topKAccuracy() rejects a k above numClasses",
    call: () => topKAccuracy([0, 1], TWO_ROWS, 3, 2),
    error: RangeError,
    message: /^Cannot compute top-k accuracy: k is 3, expected an integer in \[1, 2\]$/,
  },
  {
    name: "topKAccuracy() rejects non-integer labels",
    call: () => topKAccuracy([0, 0.5], TWO_ROWS, 1, 2),
    error: RangeError,
    message:
      /^Cannot compute top-k accuracy: labels\[1\] is 0\.5, expected an integer from 0 to 1$/,
  },
  {
    name: "reliabilityBins() rejects probabilities above 1",
    call: () => reliabilityBins([0, 1], [1.5, -0.5, 0.2, 0.8], { numClasses: 2 }),
    error: RangeError,
    message: /^Cannot bin confidences: probabilities\[0\] is 1\.5, expected a number from 0 to 1$/,
  },
  {
    name: "reliabilityBins() rejects a bins option of 0",
    call: () => reliabilityBins([0, 1], TWO_ROWS, { numClasses: 2, bins: 0 }),
    error: RangeError,
    message: /^Cannot bin confidences: option bins is 0, expected a positive integer$/,
  },
  {
    name: "expectedCalibrationError() rejects empty labels",
    call: () => expectedCalibrationError([], []),
    error: RangeError,
    message:
      /^Cannot compute the calibration error: labels is empty, expected at least one element$/,
  },
  {
    name: "mostConfusedPairs() rejects a matrix that is not square",
    call: () => mostConfusedPairs([[1, 2], [3]]),
    error: RangeError,
    message: /^Cannot rank confused pairs: the length of row 1 is 1, expected 2, a square matrix$/,
  },
  {
    name: "mostConfusedPairs() rejects a negative count",
    call: () => mostConfusedPairs([[1, -2], [3, 4]]),
    error: RangeError,
    message:
      /^Cannot rank confused pairs: matrix\[0\]\[1\] is -2, expected a non-negative finite count$/,
  },
  {
    name: "mostConfusedPairs() rejects a negative limit",
    call: () => mostConfusedPairs([[1]], { limit: -1 }),
    error: RangeError,
    message: /^Cannot rank confused pairs: option limit is -1, expected a non-negative integer$/,
  },
  {
    name: "mostConfidentMistakes() rejects labels and probabilities that do not match",
    call: () => mostConfidentMistakes([0], TWO_ROWS, { numClasses: 2 }),
    error: RangeError,
    message:
      /^Cannot rank confident mistakes: the number of labels is 1, expected 2, one per row of 2 probabilities$/,
  },
  {
    name: "mostConfidentMistakes() rejects a fractional limit",
    call: () => mostConfidentMistakes([0, 1], TWO_ROWS, { numClasses: 2, limit: 1.5 }),
    error: RangeError,
    message:
      /^Cannot rank confident mistakes: option limit is 1\.5, expected a non-negative integer$/,
  },
];

for (const { name, call, error, message } of BAD_INPUTS) {
  Deno.test(name, () => {
    assert.throws(call, (e: unknown) => {
      assert.ok(e instanceof error, `expected ${error.name}, found ${e}`);
      assert.match(e.message, message);
      return true;
    });
  });
}
