import assert from "node:assert/strict";
import { dynamicsChart, dynamicsRows } from "../../lib/charts/dynamics.ts";
import { lossLineChart } from "../../lib/charts/loss_line.ts";
import { seedBands, seedResultsByRate, spreadOf } from "../../lib/charts/seeds.ts";
import { seedStats } from "../../lib/eval/seeds.ts";
import { all, parseMarkup, texts } from "../svg_query.ts";

// Two rates × three seeds × three epochs; rate 3 diverges in seed 2 after epoch 1.
const ROWS = [0.1, 3].flatMap((lr) =>
  [0, 1, 2].flatMap((seed) =>
    [1, 2, 3].map((epoch) => ({
      lr,
      seed,
      epoch,
      split: "train",
      loss: lr === 3 && seed === 2 && epoch > 1 ? NaN : 1 / epoch + seed / 10,
      update_ratio_linear1: lr * 1e-2 * (1 + seed / 10),
      update_ratio_linear2: lr * 2e-2,
      dead_fraction_linear1: lr === 3 ? 0.5 + seed / 10 : 0,
    }))
  )
);

Deno.test("spreadOf gives min–max by default and mean ± sd on request", () => {
  const [g] = seedStats(ROWS, ["lr", "epoch"], "loss"); // lr 0.1, epoch 1: 1, 1.1, 1.2
  assert.deepEqual(spreadOf(g, "range"), [1, 1.2]);
  const [low, high] = spreadOf(g, "sd");
  assert.ok(Math.abs(low - 1) < 1e-12 && Math.abs(high - 1.2) < 1e-12, `${low} ${high}`);
});

Deno.test("seedBands draws one band and one mean line per rate, with a legend entry each", () => {
  const chart = seedBands(seedStats(ROWS, ["lr", "epoch"], "loss"), { color: "lr" });
  const svg = parseMarkup(chart.svg);
  assert.equal(all(svg, 'g[aria-label="area"] path').length, 2);
  assert.equal(all(svg, 'g[aria-label="line"] path').length, 2);
  const legend = texts(svg, 'g[aria-label="legend"]');
  assert.ok(legend.includes("lr 0.1") && legend.includes("lr 3"), `legend: ${legend}`);
});

Deno.test("seedResultsByRate writes how many seeds diverged and marks a rate with none left", () => {
  const final = ROWS.filter((r) => r.epoch === 3);
  const all3 = final.map((r) => (r.lr === 3 ? { ...r, loss: NaN } : r));
  const some = parseMarkup(seedResultsByRate(seedStats(final, ["lr"], "loss")).svg);
  assert.ok(texts(some, 'g[aria-label="text"]').includes("1/3 diverged"));
  const none = parseMarkup(seedResultsByRate(seedStats(all3, ["lr"], "loss")).svg);
  assert.ok(texts(none, 'g[aria-label="text"]').includes("3/3 diverged"));
  // One error bar (rule) per rate with a value.
  assert.equal(all(none, 'g[aria-label="rule"] line').length, 1);
});

Deno.test("dynamicsRows melts the layer columns; dynamicsChart draws a panel per layer", () => {
  const long = dynamicsRows(ROWS, "update_ratio");
  assert.equal(long.length, 2 * ROWS.length);
  assert.deepEqual(Object.keys(long[0]).sort(), [
    "epoch",
    "layer",
    "loss",
    "lr",
    "seed",
    "split",
    "value",
  ]);
  const chart = dynamicsChart(ROWS, { metric: "update_ratio" });
  const svg = parseMarkup(chart.svg);
  const panels = texts(svg, 'g[aria-label="fx-axis tick label"]');
  assert.deepEqual(panels, ["linear1", "linear2"]);
  assert.ok(chart.svg.includes("rule of thumb 1e-3"));
  const dead = dynamicsChart(ROWS, { metric: "dead_fraction" });
  assert.deepEqual(texts(parseMarkup(dead.svg), 'g[aria-label="fx-axis tick label"]'), ["linear1"]);
});

Deno.test("lossLineChart labels the marked rates and rules the starting loss", () => {
  const points = [0, 0.01, 0.1, 1].map((alpha) => ({ alpha, loss: 1 + alpha, accuracy: 0.5 }));
  const svg = parseMarkup(lossLineChart([{ label: "a", points }], { marks: [0.1, 1] }).svg);
  assert.deepEqual(texts(svg, 'g[aria-label="text"]'), ["lr 0.1", "lr 1"]);
  assert.equal(all(svg, 'g[aria-label="rule"] line').length, 1);
});

Deno.test("seedResultsByRate ticks the learning rate at powers of ten only, so labels never collide", () => {
  const rows = [1e-4, 2e-4, 1e-3, 0.01, 0.03, 0.1].flatMap((lr) =>
    [0, 1, 2].map((seed) => ({ lr, seed, accuracy: 0.5 + seed / 100 }))
  );
  const doc = parseMarkup(seedResultsByRate(seedStats(rows, ["lr"], "accuracy")).svg);
  assert.deepEqual(texts(doc, 'g[aria-label="x-axis tick label"]'), [
    "0.0001",
    "0.001",
    "0.01",
    "0.1",
  ]);
});
