/**
 * Charts of the training dynamics that `train({ dynamics })` records (lib/train/dynamics.ts): one
 * panel per layer, epochs on x, one line per learning rate (its mean over seeds, with a band).
 *
 * @module
 */
import type { Chart } from "../notebook/display.ts";
import { seedStats } from "../eval/seeds.ts";
import { seedBands, type SeedBandsOptions } from "./seeds.ts";

/** A recorded quantity, without its layer suffix. */
export type DynamicsMetric = "grad_norm" | "update_ratio" | "weight_norm" | "dead_fraction";

const METRICS: Record<DynamicsMetric, { label: string; logY: boolean; title: string }> = {
  grad_norm: { label: "‖∂L/∂W‖ (log)", logY: true, title: "Gradient norm per layer" },
  update_ratio: {
    label: "‖Δw‖ / ‖w‖ (log)",
    logY: true,
    title: "Size of each update relative to the weights",
  },
  weight_norm: { label: "‖w‖ (log)", logY: true, title: "Weight norm per layer" },
  dead_fraction: { label: "Dead ReLU units", logY: false, title: "Dead ReLU units per layer" },
};

/**
 * History rows turned long for one metric: a row per run, epoch and layer with the metric's
 * value, the layer named in `layer`. Rows without the metric's columns (validation rows) drop out.
 *
 * @param rows History rows with `<metric>_<layer>` columns, e.g. a sweep's history records.
 * @param metric Which quantity.
 * @returns `{ ...row without the dynamics columns, layer, value }` rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const long = dynamicsRows([
 *   { epoch: 1, split: "train", lr: 0.1, update_ratio_linear1: 1e-3, update_ratio_linear2: 2e-3 },
 *   { epoch: 1, split: "validation", lr: 0.1 },
 * ], "update_ratio");
 * assert.deepEqual(long.map((r) => [r.layer, r.value]), [["linear1", 1e-3], ["linear2", 2e-3]]);
 * ```
 */
export function dynamicsRows(
  rows: readonly Record<string, unknown>[],
  metric: DynamicsMetric,
): Record<string, unknown>[] {
  const prefix = `${metric}_`;
  return rows.flatMap((row) => {
    const base = Object.fromEntries(
      Object.entries(row).filter(([key]) =>
        !/^(grad_norm|update_ratio|weight_norm|dead_fraction)_/.test(key)
      ),
    );
    return Object.keys(row).filter((key) => key.startsWith(prefix)).map((key) => ({
      ...base,
      layer: key.slice(prefix.length),
      value: row[key],
    }));
  });
}

/** Options of {@linkcode dynamicsChart}. */
export interface DynamicsChartOptions extends Partial<SeedBandsOptions> {
  /** Which quantity. */
  metric: DynamicsMetric;
  /** Key of the learning rate (one colour each). Default `"lr"`. */
  color?: string;
}

/**
 * One recorded quantity per layer (a panel each) over epochs, one line per learning rate: the
 * mean over the seeds in `rows` with a min–max band (see `seedBands` for log axes). With
 * `x: "step"` it draws a run's `stepDynamics` rows instead of its epochs. The update ratio gets the rule of thumb
 * (1e-3) as a dashed line; the dead fraction a percent axis.
 *
 * @param rows History rows of all runs (every seed), with the dynamics columns and `color`.
 * @param options Metric, colour key, title.
 * @returns The chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rows = [0.01, 1].flatMap((lr) => [0, 1, 2].flatMap((seed) => [1, 2].map((epoch) => ({
 *   lr, seed, epoch, split: "train",
 *   dead_fraction_linear1: lr === 1 ? 0.5 + seed / 10 : 0, dead_fraction_linear2: 0.1,
 * }))));
 * const chart = dynamicsChart(rows, { metric: "dead_fraction" });
 * assert.ok(chart.svg.includes("linear2"));
 * ```
 */
export function dynamicsChart(
  rows: readonly Record<string, unknown>[],
  options: DynamicsChartOptions,
): Chart {
  const { metric, color = "lr", x = "epoch", ...rest } = options;
  const legendPrefix = color === "learning_rate" ? "lr" : color;
  const spec = METRICS[metric];
  const groups = seedStats(dynamicsRows(rows, metric), [color, "layer", x], "value");
  return seedBands(groups, {
    color,
    x,
    legendPrefix,
    facet: "layer",
    yTickFormat: metric === "update_ratio" || metric === "grad_norm" ? ".0e" : undefined,
    yLabel: spec.label,
    logY: spec.logY,
    percent: metric === "dead_fraction",
    title: spec.title,
    reference: metric === "update_ratio" ? { y: 1e-3, label: "rule of thumb 1e-3" } : undefined,
    height: 300,
    ...rest,
  });
}
