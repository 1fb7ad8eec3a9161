/**
 * Chart builders for evaluating a classifier: ROC curves, confusion matrix, per-class precision,
 * recall and F1, and a reliability (calibration) diagram. They take the plain numbers that
 * `metrics.ts` computes and return a {@linkcode Chart}.
 *
 * @module
 */
import { rangeError } from "../util/validate.ts";
import * as Plot from "@observablehq/plot";
import { calibrationErrorFromBins, type ReliabilityBin } from "../eval/mod.ts";
import type { Chart } from "../notebook/display.ts";
import { renderPlot } from "./frame.ts";
import { BASE_PLOT_OPTIONS, type ChartOptions } from "./_common.ts";
import { categoryDomain, colorRange, contrastText } from "./colours.ts";

/** One class's ROC curve, from (0, 0) to (1, 1). */
export interface RocCurveData {
  /** Class name, e.g. `"7"`. */
  label: string;
  /** False positive rates, ascending. */
  fpr: ArrayLike<number>;
  /** True positive rates, one per false positive rate. */
  tpr: ArrayLike<number>;
  /** Area under the curve. */
  auc: number;
}

/** Options of {@linkcode rocCurves}. */
export interface RocCurvesOptions extends ChartOptions {
  /** Show only the top-left corner (false positive rate ≤ 0.1), where MNIST curves differ. */
  zoom?: boolean;
  /** Largest false positive rate shown. Default 1, or 0.1 when zoomed. */
  fprMax?: number;
  /** Smallest true positive rate shown. Default 0, or fitted to the curves when zoomed. */
  tprMin?: number;
  /** Decimals of the AUC in the legend. Default 4. */
  aucDigits?: number;
  /** Legend label. Default `"Class"`. */
  colorLabel?: string;
}

/** Options of {@linkcode confusionHeatmap}. */
export interface ConfusionHeatmapOptions extends ChartOptions {
  /** Class names, in matrix order. Default `"0"`, `"1"`, …. */
  labels?: readonly string[];
  /** `"row"`: each cell as a share of its true class (recall on the diagonal). Default `false`. */
  normalize?: false | "row";
  /** Text of the x axis. Default `"Predicted class"`. */
  xLabel?: string;
  /** Text of the y axis. Default `"True class"`. */
  yLabel?: string;
  /** Colour scheme. Default `"blues"`. */
  scheme?: Plot.ColorScheme;
  /** How values map to colour; `"sqrt"` (default) makes rare mistakes visible next to the diagonal. */
  colorType?: "linear" | "sqrt";
}

/** One class's precision, recall and F1. */
export interface ClassMetricsRow {
  /** Class name. */
  class: string | number;
  /** Share of predictions of this class that are right. */
  precision: number;
  /** Share of this class's images found. */
  recall: number;
  /** Harmonic mean of precision and recall. */
  f1: number;
}

/** Options of {@linkcode metricBars}. */
export interface MetricBarsOptions extends ChartOptions {
  /** Bottom of the value axis: a number, or `"auto"` (default) to start just below the smallest value. */
  yMin?: number | "auto";
  /** Axis text for the classes. Default `"Class"`. */
  classLabel?: string;
}

const ROC_DEFAULTS = {
  zoom: false,
  aucDigits: 4,
  colorLabel: "Class",
  width: 640,
  height: 480,
} as const;

const CONFUSION_DEFAULTS: {
  normalize: false | "row";
  xLabel: string;
  yLabel: string;
  scheme: Plot.ColorScheme;
  colorType: "linear" | "sqrt";
  width: number;
} = {
  normalize: false,
  xLabel: "Predicted class",
  yLabel: "True class",
  scheme: "blues",
  colorType: "sqrt",
  width: 560,
};

const METRIC_BARS_DEFAULTS = {
  yMin: "auto",
  classLabel: "Class",
  width: 760,
  height: 340,
  title: "Precision, recall and F1 per class",
} as const;

const RELIABILITY_DEFAULTS = {
  width: 560,
  height: 460,
  title: "Reliability diagram",
} as const;

const METRICS = [
  { key: "precision", name: "Precision" },
  { key: "recall", name: "Recall" },
  { key: "f1", name: "F1 score" },
] as const;

/**
 * ROC curves, one line per class, with the chance diagonal and each class's AUC in the legend
 * (e.g. "7 (AUC 0.9987)"). Points closer than a fraction of a pixel are merged, so curves with
 * thousands of thresholds stay small. `zoom: true` shows the top-left corner, where MNIST curves
 * actually differ.
 *
 * @param curves One curve per class.
 * @param options See {@linkcode RocCurvesOptions}.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const chart = rocCurves([{ label: "7", fpr: [0, 0, 1], tpr: [0, 0.9, 1], auc: 0.99871 }]);
 * assert.ok(chart.svg.includes("7 (AUC 0.9987)"));
 * ```
 */
export function rocCurves(curves: readonly RocCurveData[], options: RocCurvesOptions = {}): Chart {
  const {
    zoom,
    aucDigits,
    colorLabel,
    width,
    height,
    fprMax = zoom ? 0.1 : 1,
    tprMin = zoom ? fittedTprMin(curves, fprMax) : 0,
    title = zoom ? "ROC curves, top-left corner" : "ROC curves, one class against the rest",
    subtitle,
    caption,
  } = { ...ROC_DEFAULTS, ...options };
  const labels = curves.map((c) => c.label);
  const colors = colorRange(curves.length);
  const rows = curves.flatMap((c) =>
    thinCurve(c.fpr, c.tpr, fprMax / 500, (1 - tprMin) / 500, fprMax).map(([fpr, tpr]) => ({
      label: c.label,
      fpr,
      tpr,
    }))
  );
  const clipped = fprMax < 1 || tprMin > 0;
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height,
    grid: true,
    x: { label: "False positive rate", domain: [0, fprMax] },
    y: { label: "True positive rate", domain: [tprMin, 1] },
    color: { domain: labels, range: colors },
    marks: [
      Plot.line([[0, 0], [1, 1]], {
        stroke: "#999",
        strokeDasharray: "4,4",
        clip: clipped,
      }),
      Plot.line(rows, {
        x: "fpr",
        y: "tpr",
        z: "label",
        stroke: "label",
        strokeWidth: 1.75,
        clip: clipped,
      }),
    ],
  }, {
    title,
    subtitle: subtitle ?? (zoom ? undefined : "Dashed: a classifier that guesses"),
    caption,
    legends: [{
      type: "swatches",
      label: colorLabel,
      items: curves.map((c, i) => ({
        label: `${c.label} (AUC ${c.auc.toFixed(aucDigits)})`,
        color: colors[i],
        shape: "line" as const,
      })),
    }],
  });
}

/**
 * Drops points that are within a tolerance of the last kept one (keeping the first and last), and
 * everything after the first point beyond `xMax`. With tolerances below a pixel the drawn line
 * moves by less than a pixel.
 *
 * @param xs X values, ascending.
 * @param ys Y values.
 * @param tolX Smallest x change worth keeping.
 * @param tolY Smallest y change worth keeping.
 * @param xMax Points after the first one beyond this are dropped.
 * @returns The kept points as `[x, y]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(thinCurve([0, 0.0001, 0.5, 1], [0, 0, 0.5, 1], 0.01, 0.01, 1), [[0, 0], [0.5, 0.5], [1, 1]]);
 * ```
 */
export function thinCurve(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  tolX: number,
  tolY: number,
  xMax = Infinity,
): [number, number][] {
  const kept: [number, number][] = [];
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    const y = ys[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const last = kept[kept.length - 1];
    const isLast = i === n - 1;
    if (
      !last || isLast || x > xMax || Math.abs(x - last[0]) > tolX || Math.abs(y - last[1]) > tolY
    ) kept.push([x, y]);
    if (x > xMax) break;
  }
  return kept;
}

/** Lowest true positive rate worth showing in a zoomed ROC: just under the curves at fprMax/20. */
function fittedTprMin(curves: readonly RocCurveData[], fprMax: number): number {
  let lowest = 1;
  for (const c of curves) {
    let tpr = 0;
    for (let i = 0; i < c.fpr.length && c.fpr[i] <= fprMax / 20; i++) tpr = c.tpr[i];
    lowest = Math.min(lowest, tpr);
  }
  return Math.max(0, Math.floor((lowest - 0.02) * 20) / 20);
}

/**
 * A confusion matrix as a heatmap: true class on y, predicted class on x, the count (or the share
 * of the row, in percent) written in each cell in black or white to contrast with its fill.
 *
 * @param matrix `matrix[t][p]`: images of true class `t` predicted as `p`.
 * @param options See {@linkcode ConfusionHeatmapOptions}.
 * @returns The chart.
 * @throws {RangeError} If the matrix is not square or the labels do not match it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const chart = confusionHeatmap([[9, 1], [2, 8]], { labels: ["cat", "dog"] });
 * assert.ok(chart.svg.includes(">9</text>") && chart.svg.includes(">2</text>"));
 * ```
 */
export function confusionHeatmap(
  matrix: readonly (readonly number[])[],
  options: ConfusionHeatmapOptions = {},
): Chart {
  const k = matrix.length;
  const {
    labels = Array.from({ length: k }, (_, i) => String(i)),
    normalize,
    xLabel,
    yLabel,
    scheme,
    colorType,
    width,
    title = normalize === "row"
      ? "Confusion matrix (share of each true class)"
      : "Confusion matrix",
    subtitle,
    caption,
  } = { ...CONFUSION_DEFAULTS, ...options };
  const where = { action: "draw confusion matrix" };
  for (const [i, row] of matrix.entries()) {
    if (row.length !== k) {
      rangeError(where, `the length of row ${i}`, row.length, `${k}, a square matrix`);
    }
  }
  if (labels.length !== k) {
    rangeError(where, "the number of labels", labels.length, `${k}, one per row`);
  }
  const cells = matrix.flatMap((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count, p) => ({
      true: labels[t],
      predicted: labels[p],
      count,
      share: total > 0 ? count / total : 0,
    }));
  });
  type Cell = typeof cells[number];
  const value = (c: Cell) => normalize === "row" ? c.share : c.count;
  const max = Math.max(...cells.map(value), 1e-12);
  const scale = Plot.scale({ color: { type: colorType, scheme, domain: [0, max] } });
  const fill = (c: Cell) => String(scale.apply(value(c)));
  const text = (c: Cell) =>
    normalize === "row" ? formatPercent(c.share) : c.count.toLocaleString("en-US");
  const marginLeft = 56 + 7 * Math.max(...labels.map((l) => l.length));
  const marginBottom = 44 + 7 * Math.max(...labels.map((l) => l.length));
  const frame = width - marginLeft - 12;
  const cellSize = frame / Math.max(k, 1);
  const longest = Math.max(...cells.map((c) => text(c).length), 1);
  const fontSize = Math.max(8, Math.min(13, cellSize / 3, (cellSize - 4) / (0.62 * longest)));
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height: options.height ?? frame + 8 + marginBottom,
    marginLeft,
    marginRight: 12,
    marginTop: 8,
    marginBottom,
    x: {
      domain: labels,
      label: xLabel,
      labelAnchor: "center",
      tickSize: 0,
      tickRotate: labels.some((l) => l.length > 3) ? -40 : 0,
    },
    y: { domain: labels, label: yLabel, labelAnchor: "center", tickSize: 0 },
    marks: [
      Plot.cell(cells, {
        x: "predicted",
        y: "true",
        fill,
        inset: 0.5,
        title: (c: Cell) =>
          `True ${c.true}, predicted ${c.predicted}: ${c.count.toLocaleString("en-US")} (${
            formatPercent(c.share)
          }% of true ${c.true})`,
      }),
      Plot.text(cells, {
        x: "predicted",
        y: "true",
        text,
        fill: (c: Cell) => contrastText(fill(c)),
        fontSize,
      }),
    ],
  }, {
    title,
    subtitle: subtitle ??
      (normalize === "row"
        ? "Percent of each true class; the diagonal is each class's recall"
        : "Number of images; the diagonal holds the correct predictions"),
    caption,
  });
}

/** Percent with one decimal, without trailing `.0` noise for 0 and 100. */
function formatPercent(share: number): string {
  const p = share * 100;
  if (p === 0) return "0";
  if (p === 100) return "100";
  return p < 0.05 ? "<0.1" : p.toFixed(1);
}

/**
 * Precision, recall and F1 of every class as grouped bars. By default the value axis starts just
 * below the smallest value (said in the subtitle), because on MNIST all values are close to 1.
 *
 * @param rows One row per class.
 * @param options See {@linkcode MetricBarsOptions}.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const chart = metricBars([{ class: "0", precision: 0.99, recall: 0.98, f1: 0.985 }]);
 * assert.equal(chart.svg.match(/<rect[^>]*><title>/g)?.length, 3);
 * ```
 */
export function metricBars(
  rows: readonly ClassMetricsRow[],
  options: MetricBarsOptions = {},
): Chart {
  const { yMin, classLabel, width, height, title, subtitle, caption } = {
    ...METRIC_BARS_DEFAULTS,
    ...options,
  };
  const long = rows.flatMap((r) =>
    METRICS.map((m) => ({ class: r.class, metric: m.name, value: r[m.key] }))
  ).filter((d) => Number.isFinite(d.value));
  const lowest = Math.min(...long.map((d) => d.value), 1);
  const bottom = yMin === "auto"
    ? Math.max(0, Math.floor((lowest - 0.01) * 50) / 50)
    : Math.min(yMin, lowest);
  const names = METRICS.map((m) => m.name);
  const colors = colorRange(names.length);
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height,
    fx: {
      domain: categoryDomain(rows.map((r) => r.class)),
      label: classLabel,
      padding: 0.15,
      labelAnchor: "center",
    },
    x: { domain: names, axis: null, padding: 0.05 },
    y: { domain: [bottom, 1], label: "Value", grid: true },
    color: { domain: names, range: colors },
    marks: [
      Plot.barY(long, {
        fx: "class",
        x: "metric",
        y1: bottom,
        y2: "value",
        fill: "metric",
        title: (d: { class: unknown; metric: string; value: number }) =>
          `${classLabel} ${d.class}, ${d.metric}: ${d.value.toFixed(4)}`,
      }),
    ],
  }, {
    title,
    subtitle: subtitle ??
      (bottom > 0 ? `The value axis starts at ${bottom} to show the differences` : undefined),
    caption,
    legends: [{
      type: "swatches",
      items: names.map((name, i) => ({ label: name, color: colors[i] })),
    }],
  });
}

/**
 * A reliability diagram: for each confidence bin, a bar up to the bin's accuracy, the gap to its
 * mean confidence shaded red, and the diagonal of perfect calibration. Empty bins are skipped.
 *
 * @param bins Confidence bins, e.g. ten of width 0.1.
 * @param options Title and size.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const chart = reliabilityDiagram([
 *   { lower: 0.8, upper: 0.9, confidence: 0.85, accuracy: 0.8, count: 20 },
 *   { lower: 0.9, upper: 1, confidence: 0.97, accuracy: 0.98, count: 980 },
 * ]);
 * assert.ok(chart.svg.includes("Perfect calibration"));
 * ```
 */
export function reliabilityDiagram(
  bins: readonly ReliabilityBin[],
  options: ChartOptions = {},
): Chart {
  const { width, height, title, subtitle, caption } = { ...RELIABILITY_DEFAULTS, ...options };
  const shown = bins.filter((b) =>
    b.count > 0 && Number.isFinite(b.accuracy) && Number.isFinite(b.confidence)
  );
  const total = shown.reduce((s, b) => s + b.count, 0);
  const ece = calibrationErrorFromBins(shown);
  const describe = (b: ReliabilityBin) =>
    `Confidence ${b.lower.toFixed(2)}–${b.upper.toFixed(2)}: ${
      b.count.toLocaleString("en-US")
    } predictions (${(100 * b.count / (total || 1)).toFixed(1)}%), mean confidence ${
      b.confidence.toFixed(3)
    }, accuracy ${b.accuracy.toFixed(3)}`;
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height,
    grid: true,
    x: { domain: [0, 1], label: "Confidence (highest predicted probability)" },
    y: { domain: [0, 1], label: "Accuracy" },
    marks: [
      Plot.rectY(shown, {
        x1: "lower",
        x2: "upper",
        y1: 0,
        y2: "accuracy",
        fill: "#4269d0",
        fillOpacity: 0.85,
        inset: 1,
        title: describe,
      }),
      Plot.rectY(shown, {
        x1: "lower",
        x2: "upper",
        y1: "accuracy",
        y2: "confidence",
        fill: "#ff725c",
        fillOpacity: 0.35,
        stroke: "#ff725c",
        inset: 1,
        title: describe,
      }),
      Plot.line([[0, 0], [1, 1]], { stroke: "#555", strokeDasharray: "5,4" }),
    ],
  }, {
    title,
    subtitle: subtitle ??
      (Number.isFinite(ece)
        ? `Expected calibration error ${(ece * 100).toFixed(2)}% over ${
          total.toLocaleString("en-US")
        } predictions`
        : undefined),
    caption,
    legends: [{
      type: "swatches",
      items: [
        { label: "Accuracy in the bin", color: "#4269d0" },
        { label: "Gap to the mean confidence", color: "#ff725c88" },
        { label: "Perfect calibration", color: "#555", shape: "line", dash: "5,4" },
      ],
    }],
  });
}
