/**
 * The loss along a line through weight space (lib/train/loss_line.ts): one curve per line, the
 * loss where it started as a dashed rule, chosen points (learning rates) marked and labelled.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import type { Chart } from "../notebook/display.ts";
import type { LinePoint } from "../train/loss_line.ts";
import { formatValue, type Legend, renderPlot } from "./frame.ts";
import { colorRange } from "./colours.ts";
import { BASE_PLOT_OPTIONS, type ChartOptions, LOG_TICK_FORMAT } from "./_common.ts";

/** One line's points, and its name in the legend. */
export interface LossLine {
  label: string;
  points: readonly LinePoint[];
}

/** Options of {@linkcode lossLineChart}. */
export interface LossLineChartOptions extends ChartOptions {
  /** α values to mark on every curve (e.g. the learning rates compared). */
  marks?: readonly number[];
  /** Log x axis (α ≤ 0 dropped). Default true: α is a learning rate. */
  logX?: boolean;
  /** Log y axis. Default true: past the valley the loss grows by orders of magnitude. */
  logY?: boolean;
  xLabel?: string;
}

/**
 * The loss against α, one curve per line. On a log x axis the loss at α = 0 (where the line
 * starts) shows as a dashed rule of the curve's colour.
 *
 * @param lines The lines.
 * @param options Marked α, axes, title.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const points = [0, 0.1, 1, 3].map((alpha) => ({ alpha, loss: 0.5 + (alpha - 0.1) ** 2, accuracy: 0.9 }));
 * const chart = lossLineChart([{ label: "after one epoch", points }], { marks: [0.1, 1, 3] });
 * assert.ok(chart.svg.includes("lr 3"));
 * ```
 */
export function lossLineChart(
  lines: readonly LossLine[],
  options: LossLineChartOptions = {},
): Chart {
  const {
    marks = [],
    logX = true,
    logY = true,
    xLabel = "Step size α = learning rate (log scale)",
    width = 720,
    height = 360,
    title = "",
    subtitle,
    caption,
  } = options;
  const colors = colorRange(lines.length);
  const rows = lines.flatMap((line, i) =>
    line.points
      .filter((p) => Number.isFinite(p.loss) && (!logX || p.alpha > 0))
      .map((p) => ({ ...p, line: line.label, color: colors[i] }))
  );
  const starts = lines.flatMap((line, i) => {
    const start = line.points.find((p) => p.alpha === 0);
    return start && logX ? [{ loss: start.loss, color: colors[i] }] : [];
  });
  const marked = rows.filter((r) => marks.includes(r.alpha));
  const legends: Legend[] = [{
    type: "swatches",
    items: lines.map((line, i) => ({
      label: line.label,
      color: colors[i],
      shape: "line" as const,
    })),
  }];
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height,
    marginRight: 30,
    grid: true,
    x: { type: logX ? "log" : "linear", label: xLabel, tickFormat: "~g" },
    y: {
      type: logY ? "log" : "linear",
      label: "Loss (cross-entropy)",
      tickFormat: logY ? LOG_TICK_FORMAT : undefined,
    },
    marks: [
      Plot.ruleY(starts, { y: "loss", stroke: "color", strokeDasharray: "5,3" }),
      Plot.line(rows, { x: "alpha", y: "loss", z: "line", stroke: "color", strokeWidth: 2 }),
      Plot.dot(marked, { x: "alpha", y: "loss", fill: "color", r: 4 }),
      Plot.text(marked, {
        x: "alpha",
        y: "loss",
        text: (r: LinePoint) => `lr ${formatValue(r.alpha)}`,
        dy: -10,
        fill: "color",
      }),
    ],
  }, { title, subtitle, caption, legends });
}
