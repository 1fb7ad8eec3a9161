/**
 * Generic plots: points in two dimensions, heatmaps and line charts over any numeric keys.
 *
 * @module
 */
import { phrase, rangeError } from "../util/validate.ts";
import * as Plot from "@observablehq/plot";
import type { Chart } from "../notebook/display.ts";
import { createRng, permutation } from "../util/random.ts";
import { CATEGORY_COLORS, formatValue, renderPlot } from "./frame.ts";
import { categoryDomain, colorRange, contrastText } from "./colours.ts";
import {
  BASE_PLOT_OPTIONS,
  capitalize,
  type ChartOptions,
  formatTick,
  isFiniteNumber,
  legendText,
  LOG_TICK_FORMAT,
} from "./_common.ts";

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

function toPoints(points: readonly Point2d[] | PointArrays): Point2d[] {
  if (Array.isArray(points)) return points as Point2d[];
  const { x, y, labels } = points as PointArrays;
  if (x.length !== y.length || x.length !== labels.length) {
    rangeError(
      { action: "plot points" },
      "the lengths of x, y and labels",
      phrase(`${x.length}, ${y.length} and ${labels.length}`),
      "equal lengths",
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
