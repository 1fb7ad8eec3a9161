/**
 * Training curves: loss or accuracy per epoch from history rows, one line per split or run.
 *
 * Rows with non-finite values (a run that diverged to NaN) are dropped before drawing, so a
 * diverged run draws up to its last finite epoch instead of throwing.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import type { Chart } from "../notebook/display.ts";
import type { HistoryRow } from "../train/history.ts";
import { formatValue, type Legend, renderPlot, type SwatchItem } from "./frame.ts";
import { categoryDomain, colorRange } from "./colours.ts";
import {
  BASE_PLOT_OPTIONS,
  capitalize,
  type ChartOptions,
  defaultYLabel,
  isFiniteNumber,
  legendText,
  LOG_TICK_FORMAT,
} from "./_common.ts";

/** A history row, maybe with extra keys such as `run` or `lr` that tell runs apart. */
export type Row = HistoryRow & Record<string, unknown>;

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

const LOSS_CURVES_DEFAULTS = {
  y: "loss",
  color: "split",
  logY: false,
  dots: true,
  width: 720,
  height: 360,
} as const;

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
export function lossCurves(
  rows: readonly Row[],
  options: LossCurvesOptions = {},
): Chart {
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
  const series = (r: Row) => `${String(r[color])}\u0000${r.split}`;
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
        stroke: (r: Row) => r[color],
        strokeWidth: 2,
        strokeDasharray: dashed ? "6,4" : undefined,
      }),
    );
    if (dots) {
      marks.push(
        Plot.dot(part, {
          x: "epoch",
          y,
          fill: (r: Row) => r[color],
          r: 2.5,
          title: (r: Row) =>
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
