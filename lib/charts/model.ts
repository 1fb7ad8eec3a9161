/**
 * Charts of the network itself: one example's activations layer by layer, and the distribution of
 * each layer's weights.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import { renderPlot } from "./frame.ts";
import { BASE_PLOT_OPTIONS, type ChartOptions } from "./_common.ts";
import { binValues } from "./data.ts";
import type { Chart } from "../notebook/display.ts";

/** One layer's values, as a chart takes them. */
export interface LayerValues {
  /** Layer name, shown as the facet label. */
  layer: string;
  /** The values (activations of one example, or all weights). */
  values: ArrayLike<number>;
}

const ACTIVATION_DEFAULTS = { width: 760, facetHeight: 90 } as const;

/**
 * One bar per unit and one row per layer: how an example's signal spreads and sparsens through the
 * network (ReLU layers show many exact zeros).
 *
 * @param layers Each layer's outputs for one example, input side first.
 * @param options Title, width, and the height of each row.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const chart = layerActivations([
 *   { layer: "linear1", values: [0, 1.5, 0.2] },
 *   { layer: "log_softmax", values: [-0.1, -2.4] },
 * ]);
 * assert.ok(chart.svg.includes("linear1") && chart.svg.includes("log_softmax"));
 * ```
 */
export function layerActivations(
  layers: readonly LayerValues[],
  options: ChartOptions & { facetHeight?: number } = {},
): Chart {
  const { width, facetHeight, title = "Activations layer by layer", subtitle, caption } = {
    ...ACTIVATION_DEFAULTS,
    ...options,
  };
  const rows = layers.flatMap(({ layer, values }) =>
    Array.from(values, (value, unit) => ({ layer, unit, value }))
  );
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height: facetHeight * layers.length + 60,
    marginLeft: 50,
    marginRight: 90,
    x: { label: "Unit", nice: false },
    y: { label: "Output", grid: true, nice: true },
    fy: { label: null, domain: layers.map((l) => l.layer) },
    facet: { data: rows, y: "layer" },
    marks: [
      Plot.rectY(rows, {
        x1: "unit",
        x2: (d: { unit: number }) => d.unit + 1,
        y: "value",
        fy: "layer",
        fill: (d: { value: number }) => (d.value >= 0 ? "#4269d0" : "#ff725c"),
        insetLeft: 0.5,
        title: (d: { layer: string; unit: number; value: number }) =>
          `${d.layer} unit ${d.unit}: ${d.value.toFixed(4)}`,
      }),
      Plot.ruleY([0], { stroke: "#888" }),
    ],
  }, { title, subtitle, caption });
}

const WEIGHTS_DEFAULTS = { width: 760, facetHeight: 120, bins: 40 } as const;

/**
 * Histograms of each layer's weights on a shared row layout, with optional dashed rules at ±bound
 * (e.g. PyTorch's initialisation range ±1/√fan_in).
 *
 * @param layers Each layer's weights, and an optional bound to mark.
 * @param options Bins, title, width and row height.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const chart = weightDistributions([{ layer: "linear3", values: [-0.1, 0, 0.1], bound: 0.125 }]);
 * assert.ok(chart.svg.includes("linear3"));
 * ```
 */
export function weightDistributions(
  layers: readonly (LayerValues & { bound?: number })[],
  options: ChartOptions & { facetHeight?: number; bins?: number } = {},
): Chart {
  const { width, facetHeight, bins, title = "Weight distributions", subtitle, caption } = {
    ...WEIGHTS_DEFAULTS,
    ...options,
  };
  const rows = layers.flatMap(({ layer, values }) =>
    binValues(values, { bins }).map((bin) => ({ layer, ...bin, share: bin.count / values.length }))
  );
  const bounds = layers.flatMap(({ layer, bound }) =>
    bound === undefined ? [] : [{ layer, x: -bound }, { layer, x: bound }]
  );
  return renderPlot({
    ...BASE_PLOT_OPTIONS,
    width,
    height: facetHeight * layers.length + 60,
    marginLeft: 50,
    marginRight: 80,
    x: { label: "Weight value", nice: true },
    y: { label: "Share", grid: true, tickFormat: "~%" },
    fy: { label: null, domain: layers.map((l) => l.layer) },
    facet: { data: rows, y: "layer" },
    marks: [
      Plot.rectY(rows, {
        x1: "x0",
        x2: "x1",
        y: "share",
        fy: "layer",
        fill: "#4269d0",
        insetLeft: 0.5,
        insetRight: 0.5,
      }),
      Plot.ruleX(bounds, { x: "x", fy: "layer", stroke: "#d62728", strokeDasharray: "5,3" }),
      Plot.ruleY([0]),
    ],
  }, { title, subtitle, caption });
}
