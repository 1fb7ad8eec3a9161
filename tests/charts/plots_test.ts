import assert from "node:assert/strict";
import * as Plot from "@observablehq/plot";
import { heatmap, lineChart, scatter2d } from "../../lib/charts/plots.ts";
import { binValues, classDistribution, histogram } from "../../lib/charts/data.ts";
import { categoryDomain, contrastText } from "../../lib/charts/colours.ts";
import { lossCurves } from "../../lib/charts/training.ts";
import type { Row } from "../../lib/charts/training.ts";
import { frameSvg, renderPlot } from "../../lib/charts/frame.ts";
import {
  confusionHeatmap,
  metricBars,
  reliabilityDiagram,
  rocCurves,
} from "../../lib/charts/evaluation.ts";
import { digitGrid, imageGrid } from "../../lib/charts/digits.ts";
import { all, parseMarkup, texts } from "../svg_query.ts";
import { python } from "../python.ts";

/** History of three runs (lr 0.001, 0.01, 1), the last diverging to NaN after epoch 2. */
function threeRuns(): Row[] {
  const rows: Row[] = [];
  for (const lr of [0.001, 0.01, 1]) {
    for (let epoch = 1; epoch <= 5; epoch++) {
      for (const split of ["train", "validation"] as const) {
        const loss = lr === 1 && epoch > 2 ? NaN : 1 / (epoch * (1 + lr * 10));
        rows.push({ epoch, split, loss, accuracy: 1 - loss / 2, lr, run: `lr=${lr}` });
      }
    }
  }
  return rows;
}

/** Parses every SVG with Python's XML parser: a standalone .svg must be well-formed XML. */
async function xmlRootTags(svgs: string[]): Promise<string[]> {
  const script = "import json, sys, xml.etree.ElementTree as ET\n" +
    "print(json.dumps([ET.fromstring(s).tag for s in json.load(sys.stdin)]))";
  return JSON.parse(await python(script, new TextEncoder().encode(JSON.stringify(svgs))));
}

Deno.test("every chart builder returns well-formed standalone SVG with xmlns", async () => {
  const charts = {
    lossCurves: lossCurves(threeRuns(), { color: "run" }),
    classDistribution: classDistribution([{ split: "train", class: "0", count: 3 }]),
    histogram: histogram(new Float32Array([0, 0.5, 1])),
    scatter2d: scatter2d([{ x: 1, y: 2, label: 3 }]),
    heatmap: heatmap([{ x: "a", y: "b", value: 1 }]),
    lineChart: lineChart([{ x: 1, y: 2 }]),
    rocCurves: rocCurves([{ label: "0", fpr: [0, 1], tpr: [0, 1], auc: 0.5 }]),
    confusionHeatmap: confusionHeatmap([[1, 0], [0, 1]]),
    metricBars: metricBars([{ class: 0, precision: 1, recall: 1, f1: 1 }]),
    reliabilityDiagram: reliabilityDiagram([
      { lower: 0.9, upper: 1, confidence: 0.95, accuracy: 0.9, count: 1 },
    ]),
    digitGrid: digitGrid(new Float32Array(784), [5]),
    imageGrid: imageGrid([new Float32Array(784)], { colormap: "viridis" }),
  };
  const svgs = Object.values(charts).map((c) => c.svg);
  for (const [name, chart] of Object.entries(charts)) {
    assert.match(
      chart.svg,
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+"/,
      name,
    );
    assert.equal(chart.html, chart.svg, name);
    const width = Number(chart.svg.match(/width="(\d+)"/)?.[1]);
    assert.ok(width >= 200 && width <= 820, `${name} is ${width} px wide`);
  }
  const tags = await xmlRootTags(svgs);
  assert.deepEqual(tags, svgs.map(() => "{http://www.w3.org/2000/svg}svg"));
});

Deno.test("lossCurves() draws one line per series and drops NaN epochs", async (t) => {
  const rows = threeRuns();
  await t.step("coloured by split: two lines, a legend entry each", () => {
    const doc = parseMarkup(lossCurves(rows.filter((r) => r.lr === 0.01)).svg);
    assert.equal(all(doc, 'g[aria-label="line"] path').length, 2);
    assert.deepEqual(texts(doc, 'g[aria-label="legend"]'), ["Split", "train", "validation"]);
  });
  await t.step("coloured by run: runs × splits lines, validation dashed", () => {
    const doc = parseMarkup(lossCurves(rows, { color: "run" }).svg);
    assert.equal(all(doc, 'g[aria-label="line"] path').length, 3 * 2);
    assert.equal(all(doc, 'g[aria-label="line"][stroke-dasharray] path').length, 3);
    const legend = texts(doc, 'g[aria-label="legend"]');
    for (const run of ["lr=0.001", "lr=0.01", "lr=1"]) assert.ok(legend.includes(run), run);
  });
  await t.step("numeric colour keys are labelled with the key", () => {
    const legend = texts(
      parseMarkup(lossCurves(rows, { color: "lr" }).svg),
      'g[aria-label="legend"]',
    );
    assert.ok(legend.includes("lr 0.001") && legend.includes("lr 1"), legend.join());
  });
  await t.step("one dot per finite row", () => {
    const finite = rows.filter((r) => Number.isFinite(r.loss)).length;
    assert.equal(finite, rows.length - 2 * 3);
    const doc = parseMarkup(lossCurves(rows, { color: "run" }).svg);
    assert.equal(all(doc, 'g[aria-label="dot"] circle').length, finite);
  });
  await t.step("a run that is NaN from the start draws nothing and does not throw", () => {
    const broken = [
      { epoch: 1, split: "train" as const, loss: NaN, accuracy: NaN },
      { epoch: 2, split: "train" as const, loss: NaN, accuracy: NaN },
    ];
    const doc = parseMarkup(lossCurves(broken).svg);
    assert.equal(all(doc, 'g[aria-label="dot"] circle').length, 0);
  });
  await t.step("log scale drops non-positive losses", () => {
    const withZero = [...rows.filter((r) => r.lr === 0.01), {
      epoch: 6,
      split: "train" as const,
      loss: 0,
      accuracy: 1,
    }];
    const doc = parseMarkup(lossCurves(withZero, { logY: true }).svg);
    assert.equal(all(doc, 'g[aria-label="dot"] circle').length, withZero.length - 1);
  });
  await t.step("accuracy in percent", () => {
    const svg = lossCurves(rows, { y: "accuracy" }).svg;
    assert.ok(svg.includes("Accuracy (%)") && svg.includes("Accuracy per epoch"));
  });
});

Deno.test("classDistribution() draws one bar per split and class with its share", () => {
  const counts = { train: [30, 50, 20], test: [4, 4, 2] };
  const rows = Object.entries(counts).flatMap(([split, cs]) =>
    cs.map((count, c) => ({ split, class: String(c), count }))
  );
  const doc = parseMarkup(classDistribution(rows, { classLabel: "Digit" }).svg);
  const bars = all(doc, 'g[aria-label="bar"] rect');
  assert.equal(bars.length, 6);
  const titles = bars.map((b) => b.querySelector("title")?.textContent ?? "");
  assert.ok(titles.includes("Digit 1: 50 images, 50.0% of train"), titles.join("\n"));
  assert.ok(titles.includes("Digit 2: 2 images, 20.0% of test"));
  assert.deepEqual(texts(doc, 'g[aria-label="legend"]'), ["Split", "train (100)", "test (10)"]);
});

Deno.test("binValues() counts match an independent count", async (t) => {
  const bins = 7;
  const expected = [3, 0, 5, 1, 2, 0, 4];
  // Values placed well inside their bin of [−1, 6): −1 + (i + fraction) × 1.
  const values: number[] = [];
  expected.forEach((n, i) => {
    for (let k = 0; k < n; k++) values.push(-1 + i + 0.1 + 0.8 * k / Math.max(n, 1));
  });
  await t.step("explicit domain, outside values and NaN ignored", () => {
    const got = binValues([...values, -5, 99, NaN], { bins, domain: [-1, 6] });
    assert.deepEqual(got.map((b) => b.count), expected);
    assert.deepEqual(got.map((b) => b.x0), [-1, 0, 1, 2, 3, 4, 5]);
    assert.equal(got[bins - 1].x1, 6);
  });
  await t.step("the upper edge falls in the last bin", () => {
    assert.deepEqual(binValues([0, 1, 1], { bins: 2, domain: [0, 1] }).map((b) => b.count), [1, 2]);
  });
  await t.step("default domain counts every finite value", () => {
    const data = Float32Array.from({ length: 10_000 }, (_, i) => Math.sin(i) * 3);
    const got = binValues(data, { bins: 13 });
    assert.equal(got.reduce((s, b) => s + b.count, 0), data.length);
    assert.equal(got[0].x0, Math.min(...data));
    assert.equal(got[12].x1, Math.max(...data));
  });
  await t.step("bins must be a positive integer, said in lib's grammar", () => {
    assert.throws(() => binValues([1], { bins: 0 }), RangeError);
    assert.throws(
      () => binValues([1], { bins: 2.5 }),
      /^RangeError: Cannot bin values: option bins is 2\.5, expected a positive integer$/,
    );
  });
});

Deno.test("histogram() draws one bar per bin, titled with its count", async (t) => {
  const values = new Float32Array(1000).map((_, i) => (i % 10) / 10 + 0.05); // 100 per tenth
  await t.step("linear counts", () => {
    const doc = parseMarkup(histogram(values, { bins: 10, domain: [0, 1], label: "Pixel" }).svg);
    const rects = all(doc, 'g[aria-label="rect"] rect');
    assert.equal(rects.length, 10);
    for (const r of rects) {
      assert.match(r.querySelector("title")?.textContent ?? "", /: 100 \(10\.00%\)$/);
    }
  });
  await t.step("log counts skip empty bins", () => {
    const doc = parseMarkup(histogram(values, { bins: 20, domain: [0, 1], logY: true }).svg);
    assert.equal(all(doc, 'g[aria-label="rect"] rect').length, 10);
  });
});

Deno.test("scatter2d() subsamples, drops NaN points and names every class", async (t) => {
  const n = 10_000;
  const x = Float32Array.from({ length: n }, (_, i) => i % 97);
  const y = Float32Array.from({ length: n }, (_, i) => i % 89);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  await t.step("sample", () => {
    const doc = parseMarkup(scatter2d({ x, y, labels }, { sample: 1000, colorLabel: "Digit" }).svg);
    assert.equal(all(doc, 'g[aria-label="dot"] circle').length, 1000);
    assert.ok(texts(doc).includes("1,000 of 10,000 points shown"));
    const legend = texts(doc, 'g[aria-label="legend"]');
    assert.deepEqual(legend, ["Digit", ..."0123456789"]);
    assert.equal(all(doc, 'g[aria-label="text"] text').length, 10, "one centroid label per class");
  });
  await t.step("NaN points", () => {
    const points = [{ x: 1, y: 1, label: 0 }, { x: NaN, y: 1, label: 0 }, { x: 2, y: 3, label: 1 }];
    const doc = parseMarkup(scatter2d(points, { classNames: ["zero", "one"] }).svg);
    assert.equal(all(doc, 'g[aria-label="dot"] circle').length, 2);
    assert.deepEqual(texts(doc, 'g[aria-label="legend"]'), ["Class", "zero", "one"]);
  });
  await t.step("arrays of different lengths", () => {
    assert.throws(() => scatter2d({ x: [1, 2], y: [1], labels: [0, 0] }), RangeError);
  });
});

Deno.test("heatmap() writes every value in a contrasting colour and marks NaN", () => {
  const lrs = [0.001, 0.01, 0.1];
  const momenta = [0, 0.9];
  const value = (lr: number, m: number) => lr === 0.1 && m === 0.9 ? NaN : lr * 10 + m;
  const rows = momenta.flatMap((m) => lrs.map((lr) => ({ x: lr, y: m, value: value(lr, m) })));
  const doc = parseMarkup(heatmap(rows, { format: (v) => v.toFixed(2) }).svg);
  const cells = all(doc, 'g[aria-label="cell"] rect');
  const labels = all(doc, 'g[aria-label="text"] text');
  assert.equal(cells.length, lrs.length * momenta.length);
  assert.deepEqual(
    labels.map((e) => e.textContent),
    rows.map((r) => Number.isFinite(r.value) ? r.value.toFixed(2) : "NaN"),
  );
  const nanIndex = rows.findIndex((r) => Number.isNaN(r.value));
  assert.equal(cells[nanIndex].getAttribute("fill"), "#d9d9d9");
  const finite = rows.map((r) => r.value).filter(Number.isFinite);
  const domain = [Math.min(...finite), Math.max(...finite)];
  const viridis = Plot.scale({ color: { type: "linear", scheme: "viridis", domain } });
  rows.forEach((r, i) => {
    if (!Number.isFinite(r.value)) return;
    assert.equal(cells[i].getAttribute("fill"), String(viridis.apply(r.value)));
    assert.equal(labels[i].getAttribute("fill"), contrastText(String(viridis.apply(r.value))));
  });
  assert.equal(labels[0].getAttribute("fill"), "white", "lowest viridis value is dark purple");
  const highest = rows.findIndex((r) => r.value === domain[1]);
  assert.equal(labels[highest].getAttribute("fill"), "black", "highest is yellow");
});

Deno.test("lineChart() groups by colour, honours log axes and draws the rule", () => {
  const rows = [0, 1e-4, 1e-3, 1e-2, 1e-1].flatMap((lr) =>
    ["a", "b"].map((run) => ({ lr, loss: run === "a" ? 1 - lr : 2 - lr, run }))
  );
  const doc = parseMarkup(
    lineChart(rows, {
      x: "lr",
      y: "loss",
      color: "run",
      logX: true,
      ruleX: { value: 1e-3, label: "suggested" },
      marks: [Plot.text([{ lr: 1e-2, loss: 1 }], { x: "lr", y: "loss", text: () => "extra mark" })],
    }).svg,
  );
  assert.equal(all(doc, 'g[aria-label="line"] path').length, 2);
  assert.equal(all(doc, 'g[aria-label="dot"] circle').length, 2 * 4, "lr = 0 dropped on log x");
  assert.equal(all(doc, 'g[aria-label="rule"] line').length, 1);
  assert.ok(texts(doc).includes("suggested"));
  assert.ok(texts(doc, 'g[aria-label="text"]').includes("extra mark"));
});

Deno.test("frameSvg() wraps long titles and legends inside the width", () => {
  const svg = frameSvg({ width: 300, height: 100, markup: "" }, {
    title: "A very long title that cannot possibly fit on one line of a three hundred pixel chart",
    legends: [{
      type: "swatches",
      items: Array.from({ length: 12 }, (_, i) => ({ label: `class ${i}`, color: "#000" })),
    }],
  });
  const doc = parseMarkup(svg);
  const titleLines = all(doc, 'text[font-size="17"]');
  assert.ok(titleLines.length >= 2);
  const xs = all(doc, 'g[aria-label="legend"] rect').map((r) => Number(r.getAttribute("x")));
  assert.ok(Math.max(...xs) < 300, `swatches stay within 300 px: ${Math.max(...xs)}`);
  assert.ok(
    new Set(all(doc, 'g[aria-label="legend"] rect').map((r) => r.getAttribute("y"))).size > 1,
  );
});

Deno.test("renderPlot() refuses Plot figures, which are HTML, not SVG", () => {
  assert.throws(
    () => renderPlot({ title: "x", marks: [Plot.dot([[1, 2]])] }),
    /^TypeError: Cannot frame a Plot result: its root is <figure>, expected an <svg> element\. Pass title/,
  );
});

Deno.test("categoryDomain() drops missing values and sorts numbers", () => {
  assert.deepEqual(categoryDomain([undefined, "b", null, "a", "b"]), ["b", "a"]);
  assert.deepEqual(categoryDomain([0.1, 0.01, 1]), [0.01, 0.1, 1]);
});

Deno.test("contrastText() picks the colour with the higher WCAG contrast ratio", () => {
  const luminance = (hex: string) => {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
      .map((c) => c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  for (const hex of ["#808080", "#767676", "#595959", "#0000ff", "#ffff00", "#2d7cba", "#ff725c"]) {
    const l = luminance(hex);
    const withWhite = 1.05 / (l + 0.05);
    const withBlack = (l + 0.05) / 0.05;
    assert.equal(contrastText(hex), withBlack > withWhite ? "black" : "white", hex);
  }
  assert.equal(contrastText("rgb(128, 128, 128)"), contrastText("#808080"));
  assert.equal(contrastText("#fff"), "black");
});

Deno.test("histogram() on a log axis labels only whole counts, not fractions like 100m", () => {
  // 995 zeros and 5 ones: the log axis reaches below one, where "~s" would print "100m".
  const values = Array.from({ length: 1000 }, (_, i) => (i < 995 ? 0 : 1));
  const doc = parseMarkup(histogram(values, { logY: true, bins: 2 }).svg);
  const ticks = all(doc, 'g[aria-label="y-axis tick label"] text').map((t) => t.textContent);
  assert.deepEqual(ticks.filter((t) => t !== ""), ["1", "10", "100", "1k"]);
});
