/**
 * Charts that compare variants of a training recipe side by side.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import { CATEGORY_COLORS, renderPlot } from "./frame.ts";
import { BASE_PLOT_OPTIONS, type ChartOptions } from "./_common.ts";
import type { Chart } from "../notebook/display.ts";

/** One bar: a variant's value on one measure. */
export interface ComparisonRow {
  /** The variant, e.g. `"dropout 0.2"`; bars are grouped by it. */
  variant: string;
  /** The measure, e.g. `"test"` or `"rotated test"`; one colour each. */
  measure: string;
  /** Its value. */
  value: number;
}

/** Options of {@linkcode comparisonBars}. */
export interface ComparisonBarsOptions extends ChartOptions {
  /** Text of the value axis. Default `"Value"`. */
  yLabel?: string;
  /** Format of the value axis and the labels on the bars, e.g. `"%"`. Default: plain numbers. */
  percent?: boolean;
  /** Bottom of the value axis. Default: a little below the smallest value. */
  yMin?: number;
}

/**
 * Grouped bars, one group per variant and one colour per measure, each bar labelled with its value,
 * so a table of results reads at a glance.
 *
 * @param rows One per variant and measure.
 * @param options Axis text, percent formatting, size.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const chart = comparisonBars([
 *   { variant: "baseline", measure: "test", value: 0.974 },
 *   { variant: "baseline", measure: "rotated test", value: 0.81 },
 * ], { percent: true });
 * assert.ok(chart.svg.includes("97.4%") && chart.svg.includes("rotated test"));
 * ```
 */
export function comparisonBars(
  rows: readonly ComparisonRow[],
  options: ComparisonBarsOptions = {},
): Chart {
  const {
    width = 760,
    height = 380,
    yLabel = "Value",
    percent = false,
    title,
    subtitle,
    caption,
  } = options;
  const variants = [...new Set(rows.map((r) => r.variant))];
  const measures = [...new Set(rows.map((r) => r.measure))];
  const colors = measures.map((_, i) => CATEGORY_COLORS[i % CATEGORY_COLORS.length]);
  const values = rows.map((r) => r.value).filter(Number.isFinite);
  const low = Math.min(...values), high = Math.max(...values);
  const yMin = options.yMin ?? Math.max(0, low - 0.15 * (high - low || 1));
  const format = percent
    ? (v: number) => `${(100 * v).toFixed(1)}%`
    : (v: number) => String(Number(v.toPrecision(3)));
  const shown = rows.filter((r) => Number.isFinite(r.value));
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height,
    marginBottom: 50,
    fx: { label: null, domain: variants, padding: 0.15 },
    x: { axis: null, domain: measures, padding: 0.05 },
    y: {
      label: yLabel,
      grid: true,
      domain: [yMin, Math.min(percent ? 1 : Infinity, high + 0.08 * (high - yMin))],
      ...(percent ? { tickFormat: "%" } : {}),
    },
    color: { domain: measures, range: colors },
    marks: [
      Plot.barY(shown, {
        fx: "variant",
        x: "measure",
        y1: yMin,
        y2: "value",
        fill: "measure",
        title: (r: ComparisonRow) => `${r.variant}, ${r.measure}: ${format(r.value)}`,
      }),
      Plot.text(shown, {
        fx: "variant",
        x: "measure",
        y: "value",
        text: (r: ComparisonRow) => format(r.value),
        dy: -6,
        fontSize: 10,
      }),
    ],
  }, {
    title,
    subtitle,
    caption,
    legends: [{
      type: "swatches",
      items: measures.map((label, i) => ({ label, color: colors[i] })),
    }],
  });
}
