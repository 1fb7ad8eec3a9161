/**
 * Charts for exploring data: images per class and split, and histograms of values.
 *
 * @module
 */
import { positiveInteger } from "../util/validate.ts";
import * as Plot from "@observablehq/plot";
import * as d3 from "d3";
import type { Chart } from "../notebook/display.ts";
import { formatValue, renderPlot } from "./frame.ts";
import { categoryDomain, colorRange } from "./colours.ts";
import { BASE_PLOT_OPTIONS, type ChartOptions } from "./_common.ts";

const COUNT_FORMAT: (v: number) => string = d3.format("~s");

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
    positiveInteger({ action: "bin values" }, "option bins", bins);
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
      // SI prefixes for counts (10k); a log axis can tick below one, where "100m" would confuse.
      tickFormat: (v: number) => v < 1 ? "" : COUNT_FORMAT(v),
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
