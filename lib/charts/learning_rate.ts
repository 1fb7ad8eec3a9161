/**
 * Charts of the learning-rate study: a result against the learning rate on a log axis, with
 * diverged runs marked as such instead of dropped or drawn as garbage values.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import { CATEGORY_COLORS, renderPlot } from "./frame.ts";
import { BASE_PLOT_OPTIONS, type ChartOptions, rateAxis } from "./_common.ts";
import type { Chart } from "../notebook/display.ts";

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
const MISSING_COLOR = "#888";

/**
 * A result (final accuracy, epochs to a target, …) against the learning rate, log x axis. Runs that
 * diverged get a red × on the x axis; runs without a value for another reason (never reached the
 * target) get a grey ○; the legend names both.
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
    x: rateAxis(rows.map((r) => r.learningRate)),
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
        title: (r: RateResult) => `lr ${r.learningRate}: diverged`,
      }),
      Plot.dot(missing, {
        x: "learningRate",
        y: markerY,
        stroke: MISSING_COLOR,
        strokeWidth: 2,
        r: 5,
        title: (r: RateResult) => `lr ${r.learningRate}: ${missingLabel}`,
      }),
    ],
  }, {
    title,
    subtitle,
    caption,
    legends: [
      ...(hasSeries
        ? [{
          type: "swatches" as const,
          label: seriesLabel,
          items: seriesNames.map((label, i) => ({
            label,
            color: colors[i],
            shape: "line" as const,
          })),
        }]
        : []),
      // Runs without a value sit on the x axis; the legend says what their markers mean.
      ...(diverged.length + missing.length > 0
        ? [{
          type: "swatches" as const,
          items: [
            ...(diverged.length
              ? [{ label: "× diverged", color: DIVERGED_COLOR, shape: "dot" as const }]
              : []),
            ...(missing.length
              ? [{ label: `○ ${missingLabel}`, color: MISSING_COLOR, shape: "dot" as const }]
              : []),
          ],
        }]
        : []),
    ],
  });
}

/** One batch of a learning-rate range test. */
export interface RangePoint {
  learningRate: number;
  loss: number;
}

/**
 * The learning-rate range test: raw batch losses (grey, clipped to the chart) and their smoothed
 * curve (blue) against the growing rate, with the suggested rate and the loss minimum marked.
 *
 * @param points Every batch's rate and loss.
 * @param smoothed The smoothed curve, cut where it diverged.
 * @param marks The suggested rate and the rate at the smoothed minimum.
 * @param options Title, subtitle and size.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const points = [1e-3, 1e-2, 1e-1, 1].map((learningRate, i) => ({ learningRate, loss: [2.3, 2, 0.5, 9][i] }));
 * const chart = rangeTestChart(points, points.slice(0, 3), { suggested: 0.01, minimum: 0.1 });
 * assert.ok(chart.svg.includes("suggested 0.01"));
 * ```
 */
export function rangeTestChart(
  points: readonly RangePoint[],
  smoothed: readonly RangePoint[],
  marks: { suggested: number; minimum: number },
  options: ChartOptions = {},
): Chart {
  const { width = 720, height = 380, title = "Learning-rate range test", subtitle, caption } =
    options;
  const finite = smoothed.map((p) => p.loss).filter(Number.isFinite);
  // Raw losses explode at the end; clip the axis a little above the smoothed curve's start.
  const top = Math.max(...finite) * 1.5;
  const raw = points.filter((p) => Number.isFinite(p.loss)).map((p) => ({
    learningRate: p.learningRate,
    loss: Math.min(p.loss, top),
  }));
  const rules = [
    {
      x: marks.suggested,
      label: `suggested ${formatRate(marks.suggested)}`,
      color: DIVERGED_COLOR,
    },
    { x: marks.minimum, label: `minimum ${formatRate(marks.minimum)}`, color: "#555" },
  ];
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height,
    marginRight: 30,
    x: rateAxis(points.map((p) => p.learningRate)),
    y: { label: "Training loss", grid: true, domain: [0, top] },
    marks: [
      Plot.line(raw, { x: "learningRate", y: "loss", stroke: "#bbb", strokeWidth: 1 }),
      Plot.line(smoothed, {
        x: "learningRate",
        y: "loss",
        stroke: CATEGORY_COLORS[0],
        strokeWidth: 2.5,
      }),
      Plot.ruleX(rules, { x: "x", stroke: "color", strokeDasharray: "5,3" }),
      ...rules.map((rule, i) =>
        Plot.text([rule], {
          x: "x",
          text: "label",
          fill: "color",
          frameAnchor: "top",
          textAnchor: "end",
          dx: -4,
          dy: 4 + 16 * i,
        })
      ),
    ],
  }, {
    title,
    subtitle,
    caption,
    legends: [{
      type: "swatches",
      items: [
        { label: "batch loss", color: "#bbb", shape: "line" },
        { label: "smoothed", color: CATEGORY_COLORS[0], shape: "line" },
      ],
    }],
  });
}

function formatRate(rate: number): string {
  return Number(rate.toPrecision(2)).toString();
}
