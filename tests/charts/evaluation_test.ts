import assert from "node:assert/strict";
import { calibrationErrorFromBins } from "../../lib/eval/mod.ts";
import {
  confusionHeatmap,
  metricBars,
  reliabilityDiagram,
  rocCurves,
  thinCurve,
} from "../../lib/charts/evaluation.ts";
import { all, parseMarkup, texts } from "../svg_query.ts";

/** A staircase ROC curve from scores drawn with a fixed generator: one point per threshold. */
function syntheticRoc(label: string, seed: number, n = 5000) {
  let s = seed;
  const rand = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const items = Array.from({ length: n }, (_, i) => {
    const positive = i < n / 10;
    return { score: positive ? rand() ** 0.2 : rand() ** 5, positive };
  }).sort((a, b) => b.score - a.score);
  const fpr = [0];
  const tpr = [0];
  let tp = 0;
  let fp = 0;
  for (const item of items) {
    if (item.positive) tp++;
    else fp++;
    fpr.push(fp / (n - n / 10));
    tpr.push(tp / (n / 10));
  }
  let auc = 0;
  for (let i = 1; i < fpr.length; i++) auc += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2;
  return { label, fpr, tpr, auc };
}

Deno.test("rocCurves() draws one line per class and puts each AUC in the legend", async (t) => {
  const curves = Array.from({ length: 10 }, (_, c) => syntheticRoc(String(c), c + 1));
  await t.step("full view", () => {
    const chart = rocCurves(curves);
    const doc = parseMarkup(chart.svg);
    const lineGroups = all(doc, 'g[aria-label="line"]');
    assert.equal(lineGroups.length, 2, "diagonal, then the curves");
    assert.equal(all(lineGroups[1], "path").length, curves.length);
    const legend = texts(doc, 'g[aria-label="legend"]');
    for (const c of curves) {
      const expected = `${c.label} (AUC ${c.auc.toFixed(4)})`;
      assert.ok(legend.includes(expected), `legend has "${expected}": ${legend.join(" | ")}`);
    }
    assert.ok(chart.svg.length < 120_000, `thinned curves keep the SVG small: ${chart.svg.length}`);
  });
  await t.step("zoomed view clips to the corner", () => {
    const doc = parseMarkup(rocCurves(curves, { zoom: true, aucDigits: 3 }).svg);
    const xTicks = texts(doc, 'g[aria-label="x-axis tick label"]').map(Number);
    assert.equal(Math.max(...xTicks), 0.1);
    assert.ok(
      all(doc, 'g[aria-label="line"] [clip-path], g[aria-label="line"][clip-path]').length > 0,
    );
    assert.ok(texts(doc, 'g[aria-label="legend"]').includes(`0 (AUC ${curves[0].auc.toFixed(3)})`));
  });
});

Deno.test("thinCurve() keeps the ends and every dropped point near a kept one", () => {
  const { fpr, tpr } = syntheticRoc("x", 42);
  const tol = 0.002;
  const kept = thinCurve(fpr, tpr, tol, tol);
  assert.ok(kept.length < fpr.length / 4, `${kept.length} of ${fpr.length} points kept`);
  assert.deepEqual(kept[0], [fpr[0], tpr[0]]);
  assert.deepEqual(kept[kept.length - 1], [fpr[fpr.length - 1], tpr[tpr.length - 1]]);
  // Walk the original points: each lies within the tolerance of the last kept point before it.
  let k = 0;
  for (let i = 0; i < fpr.length; i++) {
    if (k + 1 < kept.length && kept[k + 1][0] === fpr[i] && kept[k + 1][1] === tpr[i]) k++;
    assert.ok(
      Math.abs(fpr[i] - kept[k][0]) <= tol + 1e-12 && Math.abs(tpr[i] - kept[k][1]) <= tol + 1e-12,
      `point ${i} is near a kept point`,
    );
  }
  const cut = thinCurve([0, 0.05, 0.1, 0.2, 0.5, 1], [0, 0.5, 0.8, 0.9, 1, 1], 0, 0, 0.15);
  assert.deepEqual(
    cut,
    [[0, 0], [0.05, 0.5], [0.1, 0.8], [0.2, 0.9]],
    "stops after the first point past xMax",
  );
});

Deno.test("confusionHeatmap() has k×k cells with the counts, true class on y", async (t) => {
  const matrix = [
    [8, 2, 0],
    [1, 1, 2],
    [0, 0, 5],
  ];
  const labels = ["cat", "dog", "bird"];
  await t.step("counts", () => {
    const doc = parseMarkup(confusionHeatmap(matrix, { labels }).svg);
    const cells = all(doc, 'g[aria-label="cell"] rect');
    assert.equal(cells.length, 9);
    assert.deepEqual(texts(doc, 'g[aria-label="text"]'), matrix.flat().map(String));
    assert.equal(
      cells[1].querySelector("title")?.textContent,
      "True cat, predicted dog: 2 (20.0% of true cat)",
    );
    assert.deepEqual(texts(doc, 'g[aria-label="y-axis tick label"]'), labels);
    assert.deepEqual(texts(doc, 'g[aria-label="x-axis tick label"]'), labels);
    const y = (i: number) => Number(cells[i].getAttribute("y"));
    assert.ok(y(0) < y(3) && y(3) < y(6), "true classes go down the rows");
  });
  await t.step("row shares in percent", () => {
    const doc = parseMarkup(confusionHeatmap(matrix, { labels, normalize: "row" }).svg);
    assert.deepEqual(
      texts(doc, 'g[aria-label="text"]'),
      ["80.0", "20.0", "0", "25.0", "25.0", "50.0", "0", "0", "100"],
    );
  });
  await t.step("text contrasts with the fill", () => {
    const doc = parseMarkup(confusionHeatmap([[1000, 0], [3, 997]]).svg);
    const fills = all(doc, 'g[aria-label="text"] text').map((e) => e.getAttribute("fill"));
    assert.deepEqual(fills, ["white", "black", "black", "white"]);
  });
  await t.step("shape errors", () => {
    assert.throws(
      () => confusionHeatmap([[1, 2], [3]]),
      /^RangeError: Cannot draw confusion matrix: the length of row 1 is 1, expected 2, a square matrix$/,
    );
    assert.throws(
      () => confusionHeatmap([[1]], { labels: ["a", "b"] }),
      /^RangeError: Cannot draw confusion matrix: the number of labels is 2, expected 1, one per row$/,
    );
  });
});

Deno.test("metricBars() draws three bars per class and says where the axis starts", () => {
  const rows = [
    { class: "0", precision: 0.99, recall: 0.97, f1: 0.98 },
    { class: "1", precision: 0.95, recall: 0.985, f1: 0.967 },
  ];
  const zoomed = parseMarkup(metricBars(rows).svg);
  assert.equal(all(zoomed, 'g[aria-label="bar"] rect').length, 6);
  const yTicks = texts(zoomed, 'g[aria-label="y-axis tick label"]').map(Number);
  assert.ok(Math.min(...yTicks) < 0.95 && Math.min(...yTicks) >= 0.9, `ticks ${yTicks}`);
  assert.ok(texts(zoomed).some((s) => s.startsWith("The value axis starts at 0.94")));
  const full = parseMarkup(metricBars(rows, { yMin: 0 }).svg);
  assert.ok(!texts(full).some((s) => s.startsWith("The value axis starts")));
  assert.deepEqual(texts(full, 'g[aria-label="legend"]'), ["Precision", "Recall", "F1 score"]);
});

Deno.test("reliabilityDiagram() skips empty bins and reports the calibration error", () => {
  const bins = [
    { lower: 0, upper: 0.5, confidence: NaN, accuracy: NaN, count: 0 },
    { lower: 0.5, upper: 0.8, confidence: 0.7, accuracy: 0.6, count: 100 },
    { lower: 0.8, upper: 1, confidence: 0.95, accuracy: 0.97, count: 900 },
  ];
  // By hand: (100 × 0.1 + 900 × 0.02) / 1000 = 0.028.
  assert.ok(Math.abs(calibrationErrorFromBins(bins) - 0.028) < 1e-12);
  assert.ok(Number.isNaN(calibrationErrorFromBins([])));
  const doc = parseMarkup(reliabilityDiagram(bins).svg);
  assert.equal(all(doc, 'g[aria-label="rect"] rect').length, 2 * 2, "accuracy bar and gap per bin");
  assert.ok(texts(doc).includes("Expected calibration error 2.80% over 1,000 predictions"));
});
