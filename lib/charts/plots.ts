/**
 * Chart builders for training and data exploration, in Observable Plot style: each takes plain
 * rows or typed arrays plus one options object (defaults in one object at the top) and returns a
 * {@linkcode Chart} that shows itself in Jupyter and writes itself to a standalone SVG.
 *
 * Rows with non-finite values (a run that diverged to NaN) are dropped before drawing, so a
 * diverged run draws up to its last finite epoch instead of throwing.
 *
 * Evaluation charts (ROC, confusion matrix, per-class metrics, calibration) are in
 * `charts_eval.ts`.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import type { Chart } from "../notebook/display.ts";
import { createRng, permutation } from "../util/random.ts";
import { CATEGORY_COLORS, formatValue, type Legend, renderPlot, type SwatchItem } from "./frame.ts";

export { formatValue };

/** Title, subtitle, caption and size, shared by every chart builder. */
export interface ChartOptions {
  /** Bold title above the chart; `""` for none. */
  title?: string;
  /** One or two lines under the title. */
  subtitle?: string;
  /** Small text under the chart. */
  caption?: string;
  /** Width of the plotting area with its axes, in pixels. */
  width?: number;
  /** Height of the plotting area with its axes, in pixels. */
  height?: number;
}

/** One row of a training history: one split of one epoch, maybe of one of several runs. */
export interface HistoryRow {
  /** Epoch number (usually from 1). */
  epoch: number;
  /** Which data the numbers were measured on. */
  split: "train" | "validation" | string;
  /** Mean cross-entropy loss. */
  loss: number;
  /** Share of correct predictions in [0, 1]. */
  accuracy: number;
  /** Extra keys, e.g. `run` or `lr`, to compare runs. */
  [key: string]: unknown;
}

/** Options of {@linkcode lossCurves}. */
export interface LossCurvesOptions extends ChartOptions {
  /** Which number to plot: `"loss"` (default) or `"accuracy"`, or another numeric key. */
  y?: string;
  /** Key whose values get one colour each. Default `"split"`. */
  color?: string;
  /** Legend label of the colour key. Default: the key itself, e.g. `"split"`. */
  colorLabel?: string;
  /** Logarithmic y axis (non-positive values are dropped). Default `false`. */
  logY?: boolean;
  /** Draw a dot at every epoch. Default `true`. */
  dots?: boolean;
  /** Text of the y axis. Default: "Loss (cross-entropy)" or "Accuracy (%)". */
  yLabel?: string;
}

/** Options of {@linkcode classDistribution}. */
export interface ClassDistributionOptions extends ChartOptions {
  /** Show each class's share of its split (default) rather than raw counts. */
  normalize?: boolean;
  /** Axis text for the classes. Default `"Class"`. */
  classLabel?: string;
}

/** Options of {@linkcode histogram} and {@linkcode binValues}. */
export interface HistogramOptions extends ChartOptions {
  /** Number of equal-width bins. Default 50. */
  bins?: number;
  /** Range covered by the bins; values outside are not counted. Default: [min, max]. */
  domain?: [number, number];
  /** Axis text for the values. Default `"Value"`. */
  label?: string;
  /** Logarithmic count axis, for skewed data such as MNIST pixels. Default `false`. */
  logY?: boolean;
  /** Bar colour. */
  fill?: string;
}

/** One histogram bin. */
export interface Bin {
  /** Lower edge (included). */
  x0: number;
  /** Upper edge (excluded, except for the last bin). */
  x1: number;
  /** Number of values in the bin. */
  count: number;
}

/** Points of a 2-D projection, as typed arrays. */
export interface PointArrays {
  /** First coordinate of every point. */
  x: ArrayLike<number>;
  /** Second coordinate of every point. */
  y: ArrayLike<number>;
  /** Class of every point. */
  labels: ArrayLike<number | string>;
}

/** One point of a 2-D projection. */
export interface Point2d {
  /** First coordinate. */
  x: number;
  /** Second coordinate. */
  y: number;
  /** Class. */
  label: number | string;
}

/** Options of {@linkcode scatter2d}. */
export interface Scatter2dOptions extends ChartOptions {
  /** Legend label of the classes. Default `"Class"`. */
  colorLabel?: string;
  /** Names for numeric classes, e.g. Fashion-MNIST garments. */
  classNames?: readonly string[];
  /** Draw at most this many points (a random subset, same for the same seed). Default 5000. */
  sample?: number;
  /** Seed of the random subset. Default 0. */
  seed?: number;
  /** Dot radius in pixels. Default 1.6. */
  r?: number;
  /** Write each class's name at the mean of its points. Default `true`. */
  centroidLabels?: boolean;
  /** Axis texts. Default `"Component 1"`, `"Component 2"`. */
  xLabel?: string;
  /** Axis texts. Default `"Component 1"`, `"Component 2"`. */
  yLabel?: string;
}

/** One cell of a generic heatmap. */
export interface HeatmapCell {
  /** Column, e.g. a learning rate. */
  x: number | string;
  /** Row, e.g. a momentum. */
  y: number | string;
  /** The value, e.g. validation accuracy; NaN marks a failed (diverged) run. */
  value: number;
}

/** Options of {@linkcode heatmap}. */
export interface HeatmapOptions extends ChartOptions {
  /** Text of the x axis. Default `"x"`. */
  xLabel?: string;
  /** Text of the y axis. Default `"y"`. */
  yLabel?: string;
  /** Legend text of the values. Default `"Value"`. */
  valueLabel?: string;
  /** Formats the value written in each cell. Default: 3 significant digits. */
  format?: (value: number) => string;
  /** Colour scheme of Observable Plot, e.g. `"viridis"` (default), `"blues"`, `"ylgnbu"`. */
  scheme?: Plot.ColorScheme;
  /** Text written in cells whose value is not finite. Default `"NaN"`. */
  missingLabel?: string;
}

/** Options of {@linkcode lineChart}. */
export interface LineChartOptions extends ChartOptions {
  /** Key of the x values. Default `"x"`. */
  x?: string;
  /** Key of the y values. Default `"y"`. */
  y?: string;
  /** Key whose values get one line and colour each. */
  color?: string;
  /** Legend label of the colour key. Default: the key. */
  colorLabel?: string;
  /** Logarithmic x axis (e.g. learning rate); non-positive values are dropped. */
  logX?: boolean;
  /** Logarithmic y axis; non-positive values are dropped. */
  logY?: boolean;
  /** Text of the x axis. Default: the key. */
  xLabel?: string;
  /** Text of the y axis. Default: the key. */
  yLabel?: string;
  /** Draw a dot at every point. Default `true`. */
  dots?: boolean;
  /** A vertical reference line, e.g. the suggested learning rate of a range test. */
  ruleX?: { value: number; label?: string };
  /** Extra Observable Plot marks drawn on top. */
  marks?: Plot.Markish[];
}

const LOSS_CURVES_DEFAULTS = {
  y: "loss",
  color: "split",
  logY: false,
  dots: true,
  width: 720,
  height: 360,
} as const;

const CLASS_DISTRIBUTION_DEFAULTS = {
  normalize: true,
  classLabel: "Class",
  width: 760,
  height: 340,
  title: "Images per class and split",
} as const;

const HISTOGRAM_DEFAULTS = {
  bins: 50,
  label: "Value",
  logY: false,
  fill: "#4269d0",
  width: 720,
  height: 320,
} as const;

const SCATTER_DEFAULTS = {
  colorLabel: "Class",
  sample: 5000,
  seed: 0,
  r: 1.6,
  centroidLabels: true,
  xLabel: "Component 1",
  yLabel: "Component 2",
  width: 640,
  height: 520,
} as const;

const HEATMAP_DEFAULTS: {
  xLabel: string;
  yLabel: string;
  valueLabel: string;
  scheme: Plot.ColorScheme;
  missingLabel: string;
  width: number;
} = {
  xLabel: "x",
  yLabel: "y",
  valueLabel: "Value",
  scheme: "viridis",
  missingLabel: "NaN",
  width: 640,
};

const LINE_CHART_DEFAULTS = {
  x: "x",
  y: "y",
  logX: false,
  logY: false,
  dots: true,
  width: 720,
  height: 360,
} as const;

/** Plot options every chart shares: white background, readable text, no arrows in axis labels. */
export const BASE_PLOT_OPTIONS: Plot.PlotOptions = {
  style: { background: "white", color: "#222", overflow: "visible" },
  marginTop: 24,
  marginBottom: 40,
};

/** Tick format of log axes: plain decimals (`0.001`), not SI prefixes (`1m`). */
const LOG_TICK_FORMAT = "~g";

/**
 * Loss or accuracy per epoch from training history rows: one line with dots per series, a legend,
 * epochs on x. When colour is not the split (e.g. one colour per run), validation lines are dashed.
 *
 * @param rows History rows `{ epoch, split, loss, accuracy, ...extra }`.
 * @param options What to plot and how; see {@linkcode LossCurvesOptions}.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const chart = lossCurves([
 *   { epoch: 1, split: "train", loss: 0.5, accuracy: 0.85 },
 *   { epoch: 2, split: "train", loss: 0.3, accuracy: 0.91 },
 *   { epoch: 1, split: "validation", loss: 0.4, accuracy: 0.88 },
 *   { epoch: 2, split: "validation", loss: NaN, accuracy: NaN },
 * ]);
 * assert.ok(chart.svg.includes(">validation</text>"));
 * ```
 */
export function lossCurves(rows: readonly HistoryRow[], options: LossCurvesOptions = {}): Chart {
  const {
    y,
    color,
    colorLabel = color,
    logY,
    dots,
    width,
    height,
    yLabel = defaultYLabel(y),
    title = y === "loss" ? "Loss per epoch" : y === "accuracy" ? "Accuracy per epoch" : "",
    subtitle,
    caption,
  } = { ...LOSS_CURVES_DEFAULTS, ...options };
  const data = rows.filter((r) =>
    Number.isFinite(r.epoch) && isFiniteNumber(r[y]) && (!logY || (r[y] as number) > 0)
  );
  const keys = categoryDomain(rows.map((r) => r[color]));
  const colors = colorRange(keys.length);
  const dashBySplit = color !== "split" && new Set(rows.map((r) => r.split)).size > 1;
  const series = (r: HistoryRow) => `${String(r[color])}\u0000${r.split}`;
  const splits = dashBySplit ? categoryDomain(data.map((r) => r.split)) : [undefined];
  const marks: Plot.Markish[] = [];
  for (const split of splits) {
    const part = split === undefined ? data : data.filter((r) => r.split === split);
    const dashed = split !== undefined && split !== "train";
    marks.push(
      Plot.lineY(part, {
        x: "epoch",
        y,
        z: series,
        stroke: (r: HistoryRow) => r[color],
        strokeWidth: 2,
        strokeDasharray: dashed ? "6,4" : undefined,
      }),
    );
    if (dots) {
      marks.push(
        Plot.dot(part, {
          x: "epoch",
          y,
          fill: (r: HistoryRow) => r[color],
          r: 2.5,
          title: (r: HistoryRow) =>
            `${String(r[color])}, epoch ${r.epoch}: ${formatValue(r[y] as number)}`,
        }),
      );
    }
  }
  const epochs = categoryDomain(data.map((r) => r.epoch)) as number[];
  const legendItems: SwatchItem[] = keys.map((k, i) => ({
    label: legendText(k, color),
    color: colors[i],
    shape: "line",
  }));
  const legends: Legend[] = [{
    type: "swatches",
    label: capitalize(colorLabel),
    items: legendItems,
  }];
  if (dashBySplit) {
    legends.push({
      type: "swatches",
      label: "Split",
      items: splits.map((s) => ({
        label: String(s),
        color: "#555",
        shape: "line" as const,
        dash: s !== "train" ? "6,4" : undefined,
      })),
    });
  }
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height,
    grid: true,
    x: {
      label: "Epoch",
      ticks: epochs.length <= 20 ? epochs : undefined,
      tickFormat: "d",
      nice: false,
      inset: 10,
    },
    y: {
      label: yLabel,
      type: logY ? "log" : "linear",
      tickFormat: logY ? LOG_TICK_FORMAT : undefined,
      percent: y === "accuracy",
      nice: !logY,
      inset: 8,
    },
    color: { domain: keys, range: colors },
    marks,
  }, { title, subtitle, caption, legends });
}

/**
 * How many images of each class each split holds, as grouped bars (one group per class, one bar
 * per split), by default as the class's share of its split so splits of different sizes compare.
 *
 * @param rows One row per split and class: `{ split, class, count }`.
 * @param options See {@linkcode ClassDistributionOptions}.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const chart = classDistribution([
 *   { split: "train", class: "0", count: 30 },
 *   { split: "train", class: "1", count: 70 },
 *   { split: "test", class: "0", count: 5 },
 *   { split: "test", class: "1", count: 5 },
 * ]);
 * assert.ok(chart.svg.includes("70.0% of train"));
 * ```
 */
export function classDistribution(
  rows: readonly { split: string; class: string | number; count: number }[],
  options: ClassDistributionOptions = {},
): Chart {
  const { normalize, classLabel, width, height, title, subtitle, caption } = {
    ...CLASS_DISTRIBUTION_DEFAULTS,
    ...options,
  };
  const splits = categoryDomain(rows.map((r) => r.split)) as string[];
  const classes = categoryDomain(rows.map((r) => r.class));
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.split, (totals.get(r.split) ?? 0) + r.count);
  const data = rows.map((r) => ({
    ...r,
    share: r.count / (totals.get(r.split) || 1),
  }));
  const colors = colorRange(splits.length);
  const marks: Plot.Markish[] = [
    Plot.barY(data, {
      fx: "class",
      x: "split",
      y: normalize ? "share" : "count",
      fill: "split",
      title: (d: typeof data[number]) =>
        `${classLabel} ${d.class}: ${d.count.toLocaleString("en-US")} images, ${
          (d.share * 100).toFixed(1)
        }% of ${d.split}`,
    }),
    Plot.ruleY([0]),
  ];
  if (normalize && classes.length > 0) {
    marks.push(Plot.ruleY([1 / classes.length], { stroke: "#888", strokeDasharray: "4,3" }));
  }
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height,
    fx: { domain: classes, label: classLabel, padding: 0.15, labelAnchor: "center" },
    x: { domain: splits, axis: null, padding: 0.05 },
    y: {
      label: normalize ? "Share of the split (%)" : "Images",
      percent: normalize,
      grid: true,
    },
    color: { domain: splits, range: colors },
    marks,
  }, {
    title,
    subtitle: subtitle ??
      (normalize && classes.length > 0
        ? `Dashed line: a perfectly balanced split (${
          (100 / classes.length).toFixed(0)
        }% per class)`
        : undefined),
    caption,
    legends: [{
      type: "swatches",
      label: "Split",
      items: splits.map((s, i) => ({
        label: `${s} (${(totals.get(s) ?? 0).toLocaleString("en-US")})`,
        color: colors[i],
      })),
    }],
  });
}

/**
 * Counts values into equal-width bins, without making one object per value (MNIST has 55 million
 * pixels). NaN and values outside the domain are not counted; the last bin includes its upper edge.
 *
 * @param values The values.
 * @param options.bins Number of bins. Default 50.
 * @param options.domain Range of the bins. Default: [min, max] of the finite values.
 * @returns One entry per bin.
 * @throws {RangeError} If `bins` is not a positive integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bins = binValues([0, 0.1, 0.5, 0.9, 1], { bins: 2, domain: [0, 1] });
 * assert.deepEqual(bins.map((b) => b.count), [2, 3]);
 * ```
 */
export function binValues(
  values: ArrayLike<number>,
  options: { bins?: number; domain?: [number, number] } = {},
): Bin[] {
  const { bins = HISTOGRAM_DEFAULTS.bins } = options;
  if (!Number.isInteger(bins) || bins <= 0) {
    throw new RangeError(`Cannot bin values: bins must be a positive integer, found ${bins}`);
  }
  let [lo, hi] = options.domain ?? [Infinity, -Infinity];
  if (!options.domain) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo > hi) [lo, hi] = [0, 1]; // no finite values
  }
  if (hi === lo) hi = lo + 1;
  const counts = new Float64Array(bins);
  const scale = bins / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= lo && v <= hi)) continue; // also skips NaN
    counts[Math.min(bins - 1, Math.floor((v - lo) * scale))]++; // v = hi goes in the last bin
  }
  const step = (hi - lo) / bins;
  return Array.from(counts, (count, i) => ({
    x0: lo + i * step,
    x1: i === bins - 1 ? hi : lo + (i + 1) * step,
    count,
  }));
}

/**
 * A histogram of many numbers (e.g. all pixel intensities), binned in plain JavaScript first.
 *
 * @param values The values, e.g. a split's `images` Float32Array.
 * @param options Bins, domain, axis label, log counts; see {@linkcode HistogramOptions}.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const chart = histogram(new Float32Array([0, 0, 0.5, 1]), { bins: 4, label: "Pixel intensity" });
 * assert.ok(chart.svg.includes("Pixel intensity"));
 * ```
 */
export function histogram(values: ArrayLike<number>, options: HistogramOptions = {}): Chart {
  const {
    bins,
    domain,
    label,
    logY,
    fill,
    width,
    height,
    title = `Distribution of ${label.toLowerCase()}`,
    subtitle,
    caption,
  } = { ...HISTOGRAM_DEFAULTS, ...options };
  const data = binValues(values, { bins, domain });
  const total = data.reduce((sum, b) => sum + b.count, 0);
  const shown = logY ? data.filter((b) => b.count > 0) : data;
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height,
    x: { label, nice: false },
    y: {
      label: logY ? "Count (log scale)" : "Count",
      type: logY ? "log" : "linear",
      grid: true,
      nice: true,
      tickFormat: "~s",
    },
    marks: [
      Plot.rectY(shown, {
        x1: "x0",
        x2: "x1",
        y1: logY ? 0.5 : 0,
        y2: "count",
        fill,
        insetLeft: 0.5,
        insetRight: 0.5,
        title: (b: Bin) =>
          `${formatValue(b.x0)} to ${formatValue(b.x1)}: ${b.count.toLocaleString("en-US")} (${
            (100 * b.count / (total || 1)).toFixed(2)
          }%)`,
      }),
      logY ? null : Plot.ruleY([0]),
    ],
  }, { title, subtitle, caption });
}

/**
 * A 2-D projection (e.g. PCA) as small dots coloured by class, on a seeded random subset of at
 * most `sample` points, with each class's name at the mean of its points.
 *
 * @param points `{ x, y, label }` rows, or typed arrays `{ x, y, labels }`.
 * @param options See {@linkcode Scatter2dOptions}.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const chart = scatter2d({ x: [0, 1, 2], y: [1, 0, 2], labels: [0, 1, 1] }, { centroidLabels: false });
 * assert.equal(chart.svg.match(/<circle/g)?.length, 3 + 2); // 3 dots + 2 legend swatches
 * ```
 */
export function scatter2d(
  points: readonly Point2d[] | PointArrays,
  options: Scatter2dOptions = {},
): Chart {
  const {
    colorLabel,
    classNames,
    sample,
    seed,
    r,
    centroidLabels,
    xLabel,
    yLabel,
    width,
    height,
    title = "Two-dimensional projection",
    subtitle,
    caption,
  } = { ...SCATTER_DEFAULTS, ...options };
  const all = toPoints(points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const data = randomSample(all, sample, seed);
  const keys = categoryDomain(all.map((p) => p.label));
  const name = (label: number | string) =>
    typeof label === "number" && classNames?.[label] !== undefined
      ? classNames[label]
      : String(label);
  const colors = colorRange(keys.length);
  const centroids = keys.map((k) => {
    const members = data.filter((p) => p.label === k);
    const mean = (f: (p: Point2d) => number) =>
      members.reduce((s, p) => s + f(p), 0) / (members.length || 1);
    return { label: k, x: mean((p) => p.x), y: mean((p) => p.y), n: members.length };
  }).filter((c) => c.n > 0);
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height,
    grid: true,
    x: { label: xLabel },
    y: { label: yLabel },
    color: { domain: keys, range: colors },
    marks: [
      Plot.dot(data, { x: "x", y: "y", fill: "label", r, fillOpacity: 0.7 }),
      centroidLabels
        ? Plot.text(centroids, {
          x: "x",
          y: "y",
          text: (c: { label: number | string }) => name(c.label),
          fontSize: 15,
          fontWeight: 700,
          fill: "#111",
          stroke: "white",
          strokeWidth: 4,
        })
        : null,
    ],
  }, {
    title,
    subtitle: subtitle ??
      (data.length < all.length
        ? `${data.length.toLocaleString("en-US")} of ${
          all.length.toLocaleString("en-US")
        } points shown`
        : undefined),
    caption,
    legends: [{
      type: "swatches",
      label: colorLabel,
      items: keys.map((k, i) => ({ label: name(k), color: colors[i], shape: "dot" })),
    }],
  });
}

/**
 * A generic heatmap of `{ x, y, value }` cells (e.g. validation accuracy for each learning rate and
 * momentum), the value written in each cell in a colour that contrasts with its fill. Numeric x
 * and y values are sorted and spaced evenly, so log-spaced grids look regular. Non-finite values
 * (diverged runs) are drawn grey and labelled.
 *
 * @param rows The cells.
 * @param options See {@linkcode HeatmapOptions}.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const chart = heatmap([
 *   { x: 0.01, y: 0.9, value: 0.97 },
 *   { x: 0.1, y: 0.9, value: NaN },
 * ], { xLabel: "Learning rate", yLabel: "Momentum" });
 * assert.ok(chart.svg.includes(">0.97</text>") && chart.svg.includes(">NaN</text>"));
 * ```
 */
export function heatmap(rows: readonly HeatmapCell[], options: HeatmapOptions = {}): Chart {
  const {
    xLabel,
    yLabel,
    valueLabel,
    scheme,
    missingLabel,
    format = formatValue,
    width,
    title = "",
    subtitle,
    caption,
  } = { ...HEATMAP_DEFAULTS, ...options };
  const xs = categoryDomain(rows.map((r) => r.x));
  const ys = categoryDomain(rows.map((r) => r.y));
  const finite = rows.map((r) => r.value).filter(Number.isFinite);
  const domain: [number, number] = finite.length
    ? [Math.min(...finite), Math.max(...finite)]
    : [0, 1];
  const colorOptions = { type: "linear", scheme, domain } as const;
  const scale = Plot.scale({ color: colorOptions });
  const fillOf = (v: number) => Number.isFinite(v) ? String(scale.apply(v)) : "#d9d9d9";
  const marginLeft = 34 + 7 * Math.max(...ys.map((y) => formatTick(y).length), 2);
  const cellWidth = (width - marginLeft - 20) / Math.max(xs.length, 1);
  const height = options.height ??
    40 + 48 + Math.min(60, Math.max(28, cellWidth * 0.6)) * ys.length;
  const fontSize = Math.max(9, Math.min(13, cellWidth / 5));
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height,
    marginLeft,
    marginTop: 8,
    marginBottom: 48,
    x: { domain: xs, label: xLabel, tickFormat: formatTick, labelAnchor: "center" },
    y: { domain: ys, label: yLabel, tickFormat: formatTick, labelAnchor: "center" },
    marks: [
      Plot.cell(rows, {
        x: "x",
        y: "y",
        fill: (r: HeatmapCell) => fillOf(r.value),
        inset: 0.5,
        title: (r: HeatmapCell) =>
          `${xLabel} ${formatTick(r.x)}, ${yLabel} ${formatTick(r.y)}: ${
            Number.isFinite(r.value) ? format(r.value) : missingLabel
          }`,
      }),
      Plot.text(rows, {
        x: "x",
        y: "y",
        text: (r: HeatmapCell) => Number.isFinite(r.value) ? format(r.value) : missingLabel,
        fill: (r: HeatmapCell) => Number.isFinite(r.value) ? contrastText(fillOf(r.value)) : "#555",
        fontSize,
      }),
    ],
  }, {
    title,
    subtitle,
    caption,
    legends: finite.length
      ? [{
        type: "ramp",
        label: valueLabel,
        domain,
        color: (v) => String(scale.apply(v)),
      }]
      : [],
  });
}

/**
 * A generic line chart (lines with dots, one per colour group): accuracy against learning rate,
 * the loss of a learning-rate range test with a rule at the suggested rate, and so on.
 *
 * @param rows Plain objects holding the x, y and colour keys.
 * @param options See {@linkcode LineChartOptions}.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const chart = lineChart([{ lr: 0.001, loss: 2.3 }, { lr: 0.01, loss: 1.2 }, { lr: 0.1, loss: NaN }], {
 *   x: "lr", y: "loss", logX: true, ruleX: { value: 0.01, label: "suggested" },
 * });
 * assert.ok(chart.svg.includes("suggested"));
 * ```
 */
export function lineChart(
  rows: readonly Record<string, unknown>[],
  options: LineChartOptions = {},
): Chart {
  const {
    x,
    y,
    color,
    colorLabel = color,
    logX,
    logY,
    dots,
    xLabel = x,
    yLabel = y,
    ruleX,
    marks = [],
    width,
    height,
    title = "",
    subtitle,
    caption,
  } = { ...LINE_CHART_DEFAULTS, ...options };
  const data = rows.filter((r) =>
    isFiniteNumber(r[x]) && isFiniteNumber(r[y]) &&
    (!logX || (r[x] as number) > 0) && (!logY || (r[y] as number) > 0)
  );
  const keys = color ? categoryDomain(rows.map((r) => r[color])) : [];
  const colors = color ? colorRange(keys.length) : [];
  const stroke = color ? (r: Record<string, unknown>) => r[color] : CATEGORY_COLORS[0];
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height,
    grid: true,
    x: {
      label: xLabel,
      type: logX ? "log" : "linear",
      tickFormat: logX ? LOG_TICK_FORMAT : undefined,
      inset: 6,
    },
    y: {
      label: yLabel,
      type: logY ? "log" : "linear",
      tickFormat: logY ? LOG_TICK_FORMAT : undefined,
      nice: !logY,
      inset: 6,
    },
    color: color ? { domain: keys, range: colors } : undefined,
    marks: [
      ruleX
        ? Plot.ruleX([ruleX.value], { stroke: "#d62728", strokeWidth: 1.5, strokeDasharray: "5,3" })
        : null,
      ruleX?.label
        ? Plot.text([ruleX.value], {
          x: (v: number) => v,
          frameAnchor: "top",
          text: () => ruleX.label,
          dx: 5,
          dy: 4,
          textAnchor: "start",
          fill: "#d62728",
          fontSize: 12,
        })
        : null,
      Plot.lineY(data, {
        x,
        y,
        z: color ? (r: Record<string, unknown>) => String(r[color]) : undefined,
        stroke,
        strokeWidth: 2,
      }),
      dots ? Plot.dot(data, { x, y, fill: stroke, r: 2.5 }) : null,
      ...marks,
    ],
  }, {
    title,
    subtitle,
    caption,
    legends: color
      ? [{
        type: "swatches",
        label: capitalize(colorLabel ?? color),
        items: keys.map((k, i) => ({
          label: legendText(k, color),
          color: colors[i],
          shape: "line" as const,
        })),
      }]
      : [],
  });
}

/**
 * Distinct values in a stable order: numbers ascending, anything else in order of first appearance.
 *
 * @param values The values (undefined and null are skipped).
 * @returns The distinct values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(categoryDomain([3, 1, 3, 2]), [1, 2, 3]);
 * assert.deepEqual(categoryDomain(["train", "validation", "train"]), ["train", "validation"]);
 * ```
 */
export function categoryDomain<T>(values: Iterable<T>): T[] {
  const distinct = [...new Set(values)].filter((v) => v !== undefined && v !== null);
  return distinct.every((v) => typeof v === "number")
    ? (distinct as number[]).sort((a, b) => a - b) as T[]
    : distinct;
}

/**
 * Black or white, whichever reads better on a given background colour.
 *
 * @param background A CSS colour as `#rrggbb`, `#rgb` or `rgb(r, g, b)`.
 * @returns `"black"` on light colours, `"white"` on dark ones.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(contrastText("#fde725"), "black"); // viridis yellow
 * assert.equal(contrastText("rgb(8, 48, 107)"), "white"); // dark blue
 * ```
 */
export function contrastText(background: string): "black" | "white" {
  const [r, g, b] = parseColor(background);
  const linear = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  // Contrast ratio with black equals that with white at luminance ≈ 0.179.
  return luminance > 0.179 ? "black" : "white";
}

/** Red, green and blue (0–255) of a `#rrggbb`, `#rgb` or `rgb()` colour; black if unknown. */
function parseColor(color: string): [number, number, number] {
  const hex = color.trim().match(/^#([0-9a-f]{3}|[0-9a-f]{6})$/i);
  if (hex) {
    const h = hex[1].length === 3 ? [...hex[1]].map((c) => c + c).join("") : hex[1];
    return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];
  }
  const rgb = color.match(/rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i);
  return rgb ? [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])] : [0, 0, 0];
}

/**
 * Categorical colours for `n` series (Observable 10), cycling if there are more than ten.
 *
 * @param n Number of series.
 * @returns One CSS colour per series.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const colors = colorRange(11);
 * assert.equal(colors.length, 11);
 * assert.equal(colors[10], colors[0]);
 * ```
 */
export function colorRange(n: number): string[] {
  return Array.from({ length: n }, (_, i) => CATEGORY_COLORS[i % CATEGORY_COLORS.length]);
}

/** Tick text of a category: numbers short (`0.001`, `1e-5`), anything else as is. */
function formatTick(v: unknown): string {
  return typeof v === "number" ? formatValue(v) : String(v);
}

function defaultYLabel(y: string): string {
  if (y === "loss") return "Loss (cross-entropy)";
  if (y === "accuracy") return "Accuracy (%)";
  return capitalize(y);
}

function capitalize(text: string): string {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

/** Legend text of a series: numbers get their key (`lr 0.01`), text stays as is. */
function legendText(value: unknown, key: string): string {
  return typeof value === "number" ? `${key} ${formatValue(value)}` : String(value);
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

function toPoints(points: readonly Point2d[] | PointArrays): Point2d[] {
  if (Array.isArray(points)) return points as Point2d[];
  const { x, y, labels } = points as PointArrays;
  if (x.length !== y.length || x.length !== labels.length) {
    throw new RangeError(
      `Cannot plot points: x, y and labels must have the same length, found ${x.length}, ${y.length} and ${labels.length}`,
    );
  }
  return Array.from({ length: x.length }, (_, i) => ({ x: x[i], y: y[i], label: labels[i] }));
}

/**
 * At most `n` items chosen at random, kept in their original order. (Evenly spaced picks would
 * alias with data stored in a repeating class order.)
 */
function randomSample<T>(items: T[], n: number, seed: number): T[] {
  if (items.length <= n) return items;
  const chosen = permutation(items.length, createRng(seed)).subarray(0, n).sort();
  return Array.from(chosen, (i) => items[i]);
}
