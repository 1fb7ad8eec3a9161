import assert from "node:assert/strict";
import { comparisonBars } from "../../lib/charts/compare.ts";
import { rangeTestChart, resultByRate } from "../../lib/charts/learning_rate.ts";
import { layerActivations, weightDistributions } from "../../lib/charts/model.ts";
import { all, parseMarkup, texts } from "../svg_query.ts";

Deno.test("resultByRate() draws valued runs as dots and marks diverged and missing ones", () => {
  const chart = resultByRate([
    { learningRate: 1e-3, value: null, diverged: false },
    { learningRate: 1e-2, value: 0.95, diverged: false },
    { learningRate: 1e-1, value: 0.98, diverged: false },
    { learningRate: 1, value: NaN, diverged: true },
    { learningRate: 3, value: null, diverged: true },
  ], { missingLabel: "never" });
  const svg = parseMarkup(chart.svg);
  const dots = all(svg, 'g[aria-label="dot"]');
  // Three dot marks: valued runs (circles), diverged (× symbols), missing (○).
  assert.equal(dots.length, 3);
  assert.equal(all(dots[0], "circle").length, 2);
  assert.equal(all(dots[1], "path").length, 2);
  assert.equal(all(dots[2], "circle").length, 1);
  const legend = texts(svg, 'g[aria-label="legend"]');
  assert.ok(legend.includes("× diverged") && legend.includes("○ never"), `legend: ${legend}`);
  assert.match(chart.svg, /xmlns="http:\/\/www.w3.org\/2000\/svg"/);
});

Deno.test("resultByRate() gives one legend entry and one line per series", () => {
  const rows = [0, 0.5, 0.9].flatMap((m) =>
    [0.01, 0.1].map((lr) => ({
      learningRate: lr / (1 - m),
      value: 0.9,
      diverged: false,
      series: String(m),
    }))
  );
  const svg = parseMarkup(resultByRate(rows, { seriesLabel: "Momentum" }).svg);
  assert.equal(all(svg, 'g[aria-label="line"] path').length, 3);
  assert.deepEqual(texts(svg, 'g[aria-label="legend"]'), ["Momentum", "0", "0.5", "0.9"]);
});

Deno.test("rangeTestChart() clips exploding losses and marks both rates", () => {
  const points = [1e-4, 1e-3, 1e-2, 1e-1, 1, 10].map((learningRate, i) => ({
    learningRate,
    loss: [2.3, 2.3, 1.5, 0.6, 40, Infinity][i],
  }));
  const chart = rangeTestChart(points, points.slice(0, 4), { suggested: 0.01, minimum: 0.1 });
  const svg = parseMarkup(chart.svg);
  const labels = texts(svg);
  assert.ok(labels.includes("suggested 0.01") && labels.includes("minimum 0.1"), `${labels}`);
  // The raw line keeps the finite points (5 of 6); the smoothed line has 4.
  const [raw, smoothed] = all(svg, 'g[aria-label="line"] path').map((p) =>
    p.getAttribute("d") ?? ""
  );
  assert.equal(raw.split("L").length, 5);
  assert.equal(smoothed.split("L").length, 4);
});

Deno.test("comparisonBars() draws one bar per variant and measure, labelled with its value", () => {
  const rows = ["baseline", "augmentation", "dropout"].flatMap((variant, i) => [
    { variant, measure: "test", value: 0.97 + i / 1000 },
    { variant, measure: "rotated", value: 0.89 + i / 100 },
  ]);
  const svg = parseMarkup(comparisonBars(rows, { percent: true }).svg);
  assert.equal(all(svg, 'g[aria-label="bar"] rect').length, 6);
  const labels = texts(svg, 'g[aria-label="text"]');
  assert.deepEqual(labels.slice().sort(), ["89.0%", "90.0%", "91.0%", "97.0%", "97.1%", "97.2%"]);
});

Deno.test("layerActivations() and weightDistributions() draw one row per layer", () => {
  const activations = parseMarkup(
    layerActivations([
      { layer: "linear1", values: [0, 1, 2, 0.5] },
      { layer: "linear2", values: [-1, 1] },
    ]).svg,
  );
  assert.equal(all(activations, 'g[aria-label="rect"] rect').length, 6);
  const weights = parseMarkup(
    weightDistributions([
      {
        layer: "a",
        values: Float32Array.from({ length: 100 }, (_, i) => i / 100 - 0.5),
        bound: 0.5,
      },
    ], { bins: 10 }).svg,
  );
  // Ten bins, and the two bound rules at ±0.5.
  assert.equal(all(weights, 'g[aria-label="rect"] rect').length, 10);
  assert.equal(all(weights, 'g[aria-label="rule"] g[stroke="#d62728"] line').length, 2);
});
