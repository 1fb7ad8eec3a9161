/**
 * Charts of runs repeated over seeds: the mean of each configuration as a line with a band for
 * the seed-to-seed spread, and final results against the learning rate with error bars. Both take
 * the groups of `seedStats` (lib/eval/seeds.ts).
 *
 * The band and the bars show the min–max over the seeds by default (with 3 seeds: every run),
 * or ±1 sample standard deviation with `band: "sd"`. On a log axis a band is cut at a hundredth
 * of the mean (a seed whose units all died has no gradient at all).
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import type { Chart } from "../notebook/display.ts";
import { type SeedGroup, seedStats } from "../eval/seeds.ts";
import { formatValue, type Legend, renderPlot } from "./frame.ts";
import { categoryDomain, colorRange } from "./colours.ts";
import {
  BASE_PLOT_OPTIONS,
  capitalize,
  type ChartOptions,
  isFiniteNumber,
  legendText,
  LOG_TICK_FORMAT,
  rateAxis,
} from "./_common.ts";

/** What the band or the error bars span. */
export type SpreadKind = "range" | "sd";

/** Options of {@linkcode seedBands}. */
export interface SeedBandsOptions extends ChartOptions {
  /** Key on the x axis. Default `"epoch"`. */
  x?: string;
  /** Key whose values get one colour each, e.g. `"lr"`. */
  color: string;
  /** Legend label of the colour key. Default: the key. */
  colorLabel?: string;
  /** Word before each numeric legend entry, e.g. `"lr"` gives `lr 0.01`. Default: the key. */
  legendPrefix?: string;
  /** Key with one panel per value, side by side (e.g. `"layer"`). */
  facet?: string;
  /** Min–max (default) or ±1 sd. */
  band?: SpreadKind;
  /** Text of the y axis. */
  yLabel?: string;
  /** Logarithmic y axis (non-positive values dropped). Default false. */
  logY?: boolean;
  /** Y values are shares shown as percent. Default false. */
  percent?: boolean;
  /** Tick format of the y axis (a d3 format, e.g. `".0e"`). */
  yTickFormat?: string;
  /** A dashed horizontal reference line, e.g. `{ y: 1e-3, label: "rule of thumb" }`. */
  reference?: { y: number; label: string };
}

/** A group with its band's ends. */
type Spread = SeedGroup & { low: number; high: number };

/** The band's low and high ends of a group. */
export function spreadOf(group: SeedGroup, band: SpreadKind): [number, number] {
  if (band === "sd") {
    const sd = Number.isFinite(group.std) ? group.std : 0;
    return [group.mean - sd, group.mean + sd];
  }
  return [group.min, group.max];
}

/**
 * One line per configuration (its mean over seeds) with a translucent band for the spread, over
 * epochs (or another x), optionally one panel per layer.
 *
 * @param groups From `seedStats(rows, [color, "epoch", …], value)`; groups without a value are
 *   left out.
 * @param options Keys, band, axes, title.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seedStats } from "../eval/seeds.ts";
 * const rows = [0, 1, 2].flatMap((seed) =>
 *   [1, 2].map((epoch) => ({ lr: 0.1, seed, epoch, loss: 1 / epoch + seed / 100 }))
 * );
 * const chart = seedBands(seedStats(rows, ["lr", "epoch"], "loss"), { color: "lr" });
 * assert.ok(chart.svg.includes("lr 0.1"));
 * ```
 */
export function seedBands(groups: readonly SeedGroup[], options: SeedBandsOptions): Chart {
  const {
    x = "epoch",
    color,
    colorLabel = color,
    legendPrefix = color,
    facet,
    band = "range",
    yLabel = "Mean over seeds",
    logY = false,
    percent = false,
    reference,
    yTickFormat,
    width = 720,
    height = 340,
    title = "",
    subtitle,
    caption,
  } = options;
  const data = groups
    .filter((g) => isFiniteNumber(g[x]) && isFiniteNumber(g.mean) && (!logY || g.mean > 0))
    .map((g): Spread => {
      const [low, high] = spreadOf(g, band);
      // A log axis cannot take a band down to 0 (a run whose units all died has no gradient):
      // the band stops at a hundredth of the mean, so one dead seed does not squash the chart.
      const floor = logY ? g.mean / 100 : -Infinity;
      return { ...g, low: Math.max(low, floor), high };
    });
  const keys = categoryDomain(groups.map((g) => g[color]));
  const colors = colorRange(keys.length);
  const series = (g: Record<string, unknown>) =>
    `${String(g[color])}\u0000${facet ? String(g[facet]) : ""}`;
  const marks: Plot.Markish[] = [
    Plot.areaY(data, {
      x,
      y1: "low",
      y2: "high",
      z: series,
      fill: (g) => g[color],
      fillOpacity: 0.18,
      ...(facet ? { fx: facet } : {}),
    }),
    Plot.lineY(data, {
      x,
      y: "mean",
      z: series,
      stroke: (g) => g[color],
      strokeWidth: 2,
      ...(facet ? { fx: facet } : {}),
    }),
    Plot.dot(data, {
      x,
      y: "mean",
      fill: (g) => g[color],
      r: 2,
      ...(facet ? { fx: facet } : {}),
      title: (g: SeedGroup) =>
        `${legendText(g[color], legendPrefix)}, ${x} ${g[x]}: ${formatValue(g.mean)} (n ${g.n})`,
    }),
  ];
  if (reference) {
    marks.push(
      Plot.ruleY([reference.y], { stroke: "#555", strokeDasharray: "5,3" }),
      Plot.text([reference], {
        y: "y",
        text: "label",
        frameAnchor: "right",
        textAnchor: "end",
        dy: -7,
        fill: "#555",
      }),
    );
  }
  const legends: Legend[] = [{
    type: "swatches",
    label: capitalize(colorLabel),
    items: keys.map((k, i) => ({
      label: legendText(k, legendPrefix),
      color: colors[i],
      shape: "line",
    })),
  }];
  const xs = categoryDomain(data.map((g) => g[x])) as number[];
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height,
    grid: true,
    marginRight: facet ? 20 : 30,
    x: {
      label: capitalize(x),
      ticks: xs.length <= 12 ? xs : undefined,
      tickFormat: "d",
      nice: false,
      inset: 6,
    },
    ...(facet ? { fx: { label: null, padding: 0.12 } } : {}),
    y: {
      label: yLabel,
      type: logY ? "log" : "linear",
      tickFormat: yTickFormat ?? (logY ? LOG_TICK_FORMAT : undefined),
      percent,
      nice: !logY,
      inset: 6,
    },
    color: { domain: keys, range: colors },
    marks,
  }, { title, subtitle, caption, legends });
}

/**
 * {@linkcode seedBands} straight from one row per run and x: groups by `color` (and `facet`) and
 * `x`, describes `value` over the seeds.
 *
 * @param rows E.g. history rows of every seed.
 * @param value The key to draw.
 * @param options As {@linkcode seedBands}.
 * @returns The chart.
 */
export function seedBandsOf(
  rows: readonly Record<string, unknown>[],
  value: string,
  options: SeedBandsOptions,
): Chart {
  const by = [options.color, ...(options.facet ? [options.facet] : []), options.x ?? "epoch"];
  return seedBands(seedStats(rows, by, value), options);
}

/** Options of {@linkcode seedResultsByRate}. */
export interface SeedResultsByRateOptions extends ChartOptions {
  /** Key of the learning rate. Default `"lr"`. */
  rate?: string;
  /** Key of a series (e.g. `"momentum"`), one colour each. */
  series?: string;
  /** Min–max (default) or ±1 sd. */
  band?: SpreadKind;
  yLabel?: string;
  percent?: boolean;
  logY?: boolean;
  /** What a seed without a value did. Default `"diverged"` (e.g. `"never reached"`). */
  missingLabel?: string;
}

/**
 * A final result against the learning rate (log x): each group's mean as a dot on a line, an
 * error bar for the spread over seeds, and the number of seeds that diverged written under any
 * rate where some did (all diverged: a red × on the axis).
 *
 * @param groups From `seedStats(summaryRows, [rate, …], value)`.
 * @param options Keys, spread, axes, title.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seedStats } from "../eval/seeds.ts";
 * const rows = [0.01, 0.1, 3].flatMap((lr) =>
 *   [0, 1, 2].map((seed) => ({ lr, seed, acc: lr === 3 ? NaN : 0.9 + lr / 10 + seed / 1000 }))
 * );
 * const chart = seedResultsByRate(seedStats(rows, ["lr"], "acc"), { percent: true });
 * assert.ok(chart.svg.includes("3/3 diverged"));
 * ```
 */
export function seedResultsByRate(
  groups: readonly SeedGroup[],
  options: SeedResultsByRateOptions = {},
): Chart {
  const {
    rate = "lr",
    series,
    band = "range",
    yLabel = "Mean over seeds",
    percent = false,
    logY = false,
    missingLabel = "diverged",
    width = 720,
    height = 340,
    title = "",
    subtitle,
    caption,
  } = options;
  const valued = groups.filter((g) => g.n > 0 && isFiniteNumber(g[rate])).map((g): Spread => {
    const [low, high] = spreadOf(g, band);
    return { ...g, low, high };
  });
  const lost = groups.filter((g) => g.missing > 0 && isFiniteNumber(g[rate]));
  const floor = Math.min(...valued.map((g) => g.low), ...(logY ? [] : [0]));
  const keys = series ? categoryDomain(groups.map((g) => g[series])) : ["all"];
  const colors = colorRange(keys.length);
  const colorOf = (g: Record<string, unknown>) => series ? g[series] : "all";
  const marks: Plot.Markish[] = [
    Plot.line(valued, { x: rate, y: "mean", z: colorOf, stroke: colorOf, strokeWidth: 1.5 }),
    Plot.ruleX(valued, { x: rate, y1: "low", y2: "high", stroke: colorOf, strokeWidth: 2 }),
    Plot.dot(valued, {
      x: rate,
      y: "mean",
      fill: colorOf,
      r: 3.5,
      title: (g: SeedGroup) =>
        `lr ${g[rate]}: ${formatValue(g.mean)} (${g.n} seeds, ${formatValue(g.min)}–${
          formatValue(g.max)
        })`,
    }),
    Plot.dot(lost.filter((g) => g.n === 0), {
      x: rate,
      y: () => floor,
      symbol: "times",
      stroke: "#d62728",
      strokeWidth: 2.5,
      r: 6,
    }),
    // One row of labels per series, in its colour, so labels at nearby rates do not overprint.
    ...(series ? keys : [null]).map((key, i) =>
      Plot.text(series ? lost.filter((g) => g[series] === key) : lost, {
        x: rate,
        y: () => floor,
        text: (g: SeedGroup) => `${g.missing}/${g.n + g.missing} ${missingLabel}`,
        dy: -14 - 13 * i,
        fill: series ? colors[i] : "#d62728",
        fontSize: 11,
      })
    ),
  ];
  const legends: Legend[] = series
    ? [{
      type: "swatches",
      label: capitalize(series),
      items: keys.map((k, i) => ({
        label: legendText(k, series),
        color: colors[i],
        shape: "line",
      })),
    }]
    : [];
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height,
    marginRight: 30,
    x: rateAxis(groups.map((g) => g[rate]).filter(isFiniteNumber)),
    y: {
      label: yLabel,
      type: logY ? "log" : "linear",
      grid: true,
      nice: true,
      percent,
      ...(logY ? { tickFormat: LOG_TICK_FORMAT } : {}),
    },
    color: { domain: keys, range: colors },
    marks,
  }, { title, subtitle, caption, legends });
}
