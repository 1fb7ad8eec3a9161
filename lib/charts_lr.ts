/**
 * Charts of the learning-rate study: a result against the learning rate on a log axis, with
 * diverged runs marked as such instead of dropped or drawn as garbage values.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import { CATEGORY_COLORS, renderPlot } from "./chart_frame.ts";
import { BASE_PLOT_OPTIONS, type ChartOptions } from "./charts.ts";
import type { Chart } from "./display.ts";

/** One run's result at one learning rate. */
export interface RateResult {
  /** The learning rate. */
  learningRate: number;
  /** The result (accuracy, epochs, …); `null` or non-finite when there is none. */
  value: number | null;
  /** Whether the run diverged. */
  diverged: boolean;
  /** Series name, when several share the chart (e.g. a momentum). */
  series?: string;
}

/** Options of {@linkcode resultByRate}. */
export interface ResultByRateOptions extends ChartOptions {
  /** Text of the y axis. */
  yLabel?: string;
  /** Formats the y ticks, e.g. `"%"`. */
  yTickFormat?: string;
  /** Logarithmic y axis. Default false. */
  logY?: boolean;
  /** Text for runs without a value that did not diverge. Default `"no value"`. */
  missingLabel?: string;
  /** Legend label of the series. Default `"Series"`. */
  seriesLabel?: string;
}

const RESULT_DEFAULTS = {
  width: 720,
  height: 360,
  yLabel: "Value",
  logY: false,
  missingLabel: "no value",
  seriesLabel: "Series",
} as const;

const DIVERGED_COLOR = "#d62728";

/**
 * A result (final accuracy, epochs to a target, …) against the learning rate, log x axis. Runs that
 * diverged get a red × on the x axis labelled "diverged"; runs without a value for another reason
 * (never reached the target) get a grey ○ labelled with `missingLabel`.
 *
 * @param rows One per run.
 * @param options Axis texts, title, size.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const chart = resultByRate([
 *   { learningRate: 0.01, value: 0.97, diverged: false },
 *   { learningRate: 10, value: null, diverged: true },
 * ], { yLabel: "Test accuracy" });
 * assert.ok(chart.svg.includes("diverged"));
 * ```
 */
export function resultByRate(
  rows: readonly RateResult[],
  options: ResultByRateOptions = {},
): Chart {
  const {
    width,
    height,
    yLabel,
    yTickFormat,
    logY,
    missingLabel,
    seriesLabel,
    title,
    subtitle,
    caption,
  } = { ...RESULT_DEFAULTS, ...options };
  const valued = rows.filter((r) => !r.diverged && r.value !== null && Number.isFinite(r.value));
  const diverged = rows.filter((r) => r.diverged);
  const missing = rows.filter((r) =>
    !r.diverged && !(r.value !== null && Number.isFinite(r.value))
  );
  const seriesNames = [...new Set(rows.flatMap((r) => (r.series === undefined ? [] : [r.series])))];
  const hasSeries = seriesNames.length > 0;
  const colors = seriesNames.map((_, i) => CATEGORY_COLORS[i % CATEGORY_COLORS.length]);
  const stroke = hasSeries ? "series" : () => CATEGORY_COLORS[0];
  const values = valued.map((r) => r.value as number);
  const low = values.length ? Math.min(...values) : 0;
  // Where to draw the markers of runs without a value: at the bottom of the plotted range.
  const floor = logY ? low : Math.min(0, low);
  const markerY = () => floor;
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height,
    marginRight: 30,
    x: { type: "log", label: "Learning rate (log scale)", tickFormat: "~g" },
    y: {
      label: yLabel,
      type: logY ? "log" : "linear",
      grid: true,
      nice: true,
      ...(yTickFormat ? { tickFormat: yTickFormat } : {}),
    },
    ...(hasSeries ? { color: { domain: seriesNames, range: colors } } : {}),
    marks: [
      Plot.line(valued, {
        x: "learningRate",
        y: "value",
        stroke,
        z: hasSeries ? "series" : undefined,
      }),
      Plot.dot(valued, {
        x: "learningRate",
        y: "value",
        fill: stroke,
        r: 3.5,
        title: (r: RateResult) =>
          `${r.series ? `${r.series}, ` : ""}lr ${r.learningRate}: ${r.value}`,
      }),
      Plot.dot(diverged, {
        x: "learningRate",
        y: markerY,
        symbol: "times",
        stroke: DIVERGED_COLOR,
        strokeWidth: 2.5,
        r: 6,
      }),
      Plot.text(diverged, {
        x: "learningRate",
        y: markerY,
        text: () => "diverged",
        fill: DIVERGED_COLOR,
        dy: -12,
        fontSize: 11,
      }),
      Plot.dot(missing, { x: "learningRate", y: markerY, stroke: "#888", r: 5 }),
      Plot.text(missing, {
        x: "learningRate",
        y: markerY,
        text: () => missingLabel,
        fill: "#666",
        dy: -12,
        fontSize: 11,
      }),
    ],
  }, {
    title,
    subtitle,
    caption,
    legends: hasSeries
      ? [{
        type: "swatches",
        label: seriesLabel,
        items: seriesNames.map((label, i) => ({ label, color: colors[i], shape: "line" })),
      }]
      : [],
  });
}
