/**
 * Findings stated from the numbers a notebook has just computed, as Markdown to `show`: the prose
 * then holds in whichever profile ran (a quick run on a subset and the full recipe differ by many
 * points). Each function takes plain rows and returns a short list.
 *
 * @module
 */
import { markdown, type MarkdownView } from "./display.ts";
import type { HistoryRow } from "../train/history.ts";

/** `0.9123` → `"91.2 %"`. */
function percent(value: number): string {
  return `${(100 * value).toFixed(1)} %`;
}

/** The difference of two shares in points, from their rounded percentages so the text adds up. */
function points(high: number, low: number): string {
  return (Number((100 * high).toFixed(1)) - Number((100 * low).toFixed(1))).toFixed(1);
}

/** A learning rate as written in the notebooks: `0.0003`, `0.1`, `3`. */
function rate(value: number): string {
  return String(Number(value.toPrecision(3)));
}

/** `["a", "b", "c"]` → `"a, b and c"`. */
function list(items: readonly string[]): string {
  return items.length <= 1
    ? items.join("")
    : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function bullets(lines: readonly string[]): MarkdownView {
  return markdown(lines.map((line) => `- ${line}`).join("\n"));
}

/**
 * What a run's learning curves show: the final losses, where the validation loss was lowest, and
 * whether it is still falling.
 *
 * @param history Tidy rows of one run (`train` and `validation` per epoch).
 * @returns Two or three bullet points.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const history = [1, 2, 3].flatMap((epoch) => [
 *   { epoch, split: "train" as const, loss: 1 / epoch, accuracy: 0.9 },
 *   { epoch, split: "validation" as const, loss: [0.9, 0.5, 0.6][epoch - 1], accuracy: 0.8 },
 * ]);
 * const text = String(curveFindings(history));
 * assert.match(text, /lowest after epoch 2/);
 * assert.match(text, /rose again/);
 * ```
 */
export function curveFindings(history: readonly HistoryRow[]): MarkdownView {
  const train = history.filter((r) => r.split === "train");
  const validation = history.filter((r) => r.split === "validation");
  const last = validation.at(-1);
  const lastTrain = train.at(-1);
  if (!last || !lastTrain) return markdown("No epochs were recorded.");
  const best = validation.reduce((a, b) => (b.loss < a.loss ? b : a));
  const lines = [
    `After ${last.epoch} epochs the training loss is ${lastTrain.loss.toFixed(3)} and the ` +
    `validation loss ${last.loss.toFixed(3)} (validation accuracy ${percent(last.accuracy)}).`,
    best.epoch === last.epoch
      ? "The validation loss was still falling at the last epoch: more epochs would help."
      : `The validation loss was lowest after epoch ${best.epoch} (${best.loss.toFixed(3)}) and ` +
        "rose again while the training loss kept falling: overfitting has begun.",
  ];
  return bullets(lines);
}

/** One run of a learning-rate grid. */
export interface RateRun {
  learningRate: number;
  /** Test accuracy after the last epoch; `null` when the run diverged. */
  testAccuracy: number | null;
  diverged: boolean;
  /** The first epoch whose validation accuracy reached the target, or `null`. */
  epochsToTarget: number | null;
}

/**
 * What a learning-rate grid shows: the best rate, the range within two points of it, the
 * original's 0.01, the runs that diverged, and which rates reached the target accuracy how fast.
 *
 * @param runs One per learning rate.
 * @param options.target The validation accuracy counted in `epochsToTarget`.
 * @param options.epochs The epoch budget of each run.
 * @returns Bullet points.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const text = String(rateFindings([
 *   { learningRate: 0.01, testAccuracy: 0.8, diverged: false, epochsToTarget: null },
 *   { learningRate: 0.1, testAccuracy: 0.9, diverged: false, epochsToTarget: 2 },
 *   { learningRate: 3, testAccuracy: null, diverged: true, epochsToTarget: null },
 * ], { target: 0.85, epochs: 3 }));
 * assert.match(text, /best test accuracy, 90\.0 %, at 0\.1/);
 * assert.match(text, /The run at 3 diverged/);
 * assert.match(text, /0\.1 in 2/);
 * ```
 */
export function rateFindings(
  runs: readonly RateRun[],
  options: { target: number; epochs: number },
): MarkdownView {
  const valued = runs.filter((r) =>
    !r.diverged && r.testAccuracy !== null
  ) as (RateRun & { testAccuracy: number })[];
  if (valued.length === 0) return markdown("Every run diverged.");
  const best = valued.reduce((a, b) => (b.testAccuracy > a.testAccuracy ? b : a));
  const near = valued.filter((r) => r.testAccuracy >= best.testAccuracy - 0.02)
    .map((r) => r.learningRate).sort((a, b) => a - b);
  const smallest = valued.reduce((a, b) => (b.learningRate < a.learningRate ? b : a));
  const original = valued.find((r) => Math.abs(r.learningRate - 0.01) < 1e-12);
  const diverged = runs.filter((r) => r.diverged).map((r) => rate(r.learningRate));
  const reached = valued.filter((r) => r.epochsToTarget !== null)
    .sort((a, b) => a.learningRate - b.learningRate);
  const lines = [
    `The best test accuracy, ${percent(best.testAccuracy)}, at ${rate(best.learningRate)}; ` +
    (near.length > 1
      ? `within two points of it: ${rate(near[0])} to ${rate(near.at(-1)!)}.`
      : "no other rate comes within two points of it."),
    `The smallest rate, ${rate(smallest.learningRate)}, reaches ${percent(smallest.testAccuracy)}` +
    (original && original !== smallest
      ? `; the original's 0.01 reaches ${percent(original.testAccuracy)}.`
      : "."),
    diverged.length
      ? `${diverged.length === 1 ? "The run" : "The runs"} at ${list(diverged)} diverged.`
      : "No run diverged.",
    reached.length
      ? `Within ${options.epochs} epochs, ${percent(options.target)} validation accuracy is ` +
        `reached by ${
          list(reached.map((r) => `${rate(r.learningRate)} in ${r.epochsToTarget}`))
        } ` +
        "epochs; no other rate reaches it."
      : `No rate reaches ${percent(options.target)} validation accuracy within ${options.epochs} ` +
        "epochs.",
  ];
  return bullets(lines);
}

/** One run of the learning rate × momentum grid. */
export interface MomentumRun {
  learningRate: number;
  momentum: number;
  /** Final validation accuracy; `null` when the run diverged. */
  accuracy: number | null;
  diverged: boolean;
}

/**
 * What the learning rate × momentum grid shows: the best pair, and for the smallest and the
 * largest rate that trained at every momentum, what momentum did.
 *
 * @param runs One per pair.
 * @returns Bullet points.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const text = String(momentumFindings([
 *   { learningRate: 0.001, momentum: 0, accuracy: 0.2, diverged: false },
 *   { learningRate: 0.001, momentum: 0.9, accuracy: 0.6, diverged: false },
 *   { learningRate: 1, momentum: 0, accuracy: 0.7, diverged: false },
 *   { learningRate: 1, momentum: 0.9, accuracy: 0.1, diverged: false },
 * ]));
 * assert.match(text, /best validation accuracy, 70\.0 %, with learning rate 1 and momentum 0/);
 * assert.match(text, /At 0\.001, momentum 0\.9 gives 60\.0 % against 20\.0 % without/);
 * ```
 */
export function momentumFindings(runs: readonly MomentumRun[]): MarkdownView {
  const valued = runs.filter((r) =>
    !r.diverged && r.accuracy !== null
  ) as (MomentumRun & { accuracy: number })[];
  if (valued.length === 0) return markdown("Every run diverged.");
  const best = valued.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
  const momenta = [...new Set(runs.map((r) => r.momentum))].sort((a, b) => a - b);
  const low = momenta[0];
  const high = momenta.at(-1)!;
  const at = (lr: number, m: number) =>
    valued.find((r) => r.learningRate === lr && r.momentum === m);
  const complete = [...new Set(valued.map((r) => r.learningRate))].sort((a, b) => a - b)
    .filter((lr) => at(lr, low) && at(lr, high));
  const lines = [
    `The best validation accuracy, ${percent(best.accuracy)}, with learning rate ` +
    `${rate(best.learningRate)} and momentum ${best.momentum}.`,
  ];
  for (const lr of new Set([complete[0], complete.at(-1)])) {
    if (lr === undefined) continue;
    lines.push(
      `At ${rate(lr)}, momentum ${high} gives ${percent(at(lr, high)!.accuracy)} against ` +
        `${percent(at(lr, low)!.accuracy)} without.`,
    );
  }
  const diverged = runs.filter((r) => r.diverged);
  if (diverged.length) {
    lines.push(
      `Diverged: ${
        list(diverged.map((r) => `${rate(r.learningRate)} with momentum ${r.momentum}`))
      }.`,
    );
  }
  return bullets(lines);
}

/**
 * How a list of alternatives compares with a reference on one or two measures, e.g. schedules
 * against the constant rate, or regularisation variants against the baseline.
 *
 * @param rows One per alternative, the reference included.
 * @param options.name The key naming each row.
 * @param options.reference The name of the reference row.
 * @param options.measures The keys to compare and how to call them.
 * @returns One bullet per measure: the spread, the best, and the reference.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const text = String(comparisonFindings([
 *   { variant: "baseline", test: 0.9 },
 *   { variant: "dropout", test: 0.92 },
 * ], { name: "variant", reference: "baseline", measures: { test: "test accuracy" } }));
 * assert.match(text, /test accuracy: from 90\.0 % \(baseline\) to 92\.0 % \(dropout\), a spread of 2\.0 points/);
 * ```
 */
export function comparisonFindings(
  rows: readonly Record<string, unknown>[],
  options: { name: string; reference: string; measures: Record<string, string> },
): MarkdownView {
  const lines: string[] = [];
  for (const [key, label] of Object.entries(options.measures)) {
    const valued = rows.filter((r) => typeof r[key] === "number") as Record<string, number>[];
    if (valued.length === 0) continue;
    const sorted = [...valued].sort((a, b) => a[key] - b[key]);
    const low = sorted[0];
    const high = sorted.at(-1)!;
    const reference = valued.find((r) => String(r[options.name]) === options.reference);
    const better = reference
      ? valued.filter((r) => r[key] > reference[key]).map((r) => String(r[options.name]))
      : [];
    lines.push(
      `${label}: from ${percent(low[key])} (${low[options.name]}) to ${percent(high[key])} ` +
        `(${high[options.name]}), a spread of ${points(high[key], low[key])} points` +
        (reference
          ? `; ${better.length ? list(better) : "none"} above ${options.reference}.`
          : "."),
    );
  }
  return bullets(lines);
}
