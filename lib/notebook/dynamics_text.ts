/**
 * Sentences that read the recorded training dynamics back (lib/train/dynamics.ts) for the
 * notebooks' explanations, so the numbers quoted are this run's, in either profile.
 *
 * @module
 */
import { seedStats } from "../eval/seeds.ts";
import { formatValue } from "../charts/frame.ts";
import { type DynamicsMetric, dynamicsRows } from "../charts/dynamics.ts";
import { markdown, type MarkdownView } from "./display.ts";

const NAMES: Record<DynamicsMetric, string> = {
  grad_norm: "the gradient norm ‖∂L/∂W‖",
  update_ratio: "the update ratio ‖Δw‖ / ‖w‖",
  weight_norm: "the weight norm ‖w‖",
  dead_fraction: "the share of dead units",
};

/** Options of {@linkcode dynamicsSentence}. */
export interface DynamicsSentenceOptions {
  metric: DynamicsMetric;
  /** Which layer, e.g. `"linear1"`. */
  layer: string;
  /** Key of the learning rate. Default `"learning_rate"`. */
  color?: string;
  /** Key of the position. Default `"epoch"` (`"step"` for first-steps rows). */
  x?: string;
  /** Position to report; default the last one each rate reached. */
  at?: number;
}

/**
 * One sentence: a metric of one layer at each learning rate, the mean over the seeds at the last
 * epoch (or `at`), e.g. "In linear1 at epoch 3 (mean of the seeds), the update ratio ‖Δw‖ / ‖w‖
 * is 5e-5 at lr 0.001, 0.00093 at lr 0.01 …".
 *
 * @param rows History rows of every run, with the dynamics columns.
 * @param options Metric, layer, keys.
 * @returns The sentence as markdown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rows = [0, 1].flatMap((seed) => [0.1, 1].map((learning_rate) => ({
 *   learning_rate, seed, epoch: 2, dead_fraction_linear1: learning_rate === 1 ? 0.8 + seed / 10 : 0,
 * })));
 * const text = dynamicsSentence(rows, { metric: "dead_fraction", layer: "linear1" }).markdown;
 * assert.equal(text, "In linear1 at epoch 2 (mean of the seeds), the share of dead units is 0 % at lr 0.1 and 85 % at lr 1.");
 * ```
 */
export function dynamicsSentence(
  rows: readonly Record<string, unknown>[],
  options: DynamicsSentenceOptions,
): MarkdownView {
  const { metric, layer, color = "learning_rate", x = "epoch", at } = options;
  const long = dynamicsRows(rows, metric).filter((r) => r.layer === layer);
  const groups = seedStats(long, [color, x], "value").filter((g) => g.n > 0);
  const rates = [...new Set(groups.map((g) => g[color] as number))].sort((a, b) => a - b);
  const last = at ?? Math.max(...groups.map((g) => g[x] as number));
  const format = (v: number) =>
    metric === "dead_fraction" ? `${Math.round(100 * v)} %` : formatValue(Number(v.toPrecision(2)));
  const parts = rates.flatMap((rate) => {
    const group = groups.find((g) => g[color] === rate && g[x] === last);
    return group ? [`${format(group.mean)} at lr ${formatValue(rate)}`] : [];
  });
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}` : parts[0];
  return markdown(
    `In ${layer} at ${x} ${last} (mean of the seeds), ${NAMES[metric]} is ${
      list ?? "not recorded"
    }.`,
  );
}
