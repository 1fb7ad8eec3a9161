/**
 * Seed-to-seed statistics over plain rows: every comparison of the learning-rate study runs each
 * configuration with several seeds (initialisation and data order), so a difference can be told
 * from noise. Group rows by configuration keys, take each group's mean and sample standard
 * deviation, and say which differences exceed the spread.
 *
 * The rule: two groups differ beyond the seed-to-seed spread when
 * `|mean₁ − mean₂| > 2·√(s₁²/n₁ + s₂²/n₂)`, twice the standard error of the difference of the
 * means (about a 95 % two-sided test for many seeds; with 3 seeds a t-test would ask for more, so
 * read a pass as "clearly apart", a fail as "not told apart by these seeds").
 *
 * @module
 */
import { cannotMessage } from "../util/validate.ts";

/** Mean and spread of one group's values. Non-finite values (a diverged run) are left out. */
export interface SeedStat {
  /** Finite values. */
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); NaN below 2 values. */
  std: number;
  min: number;
  max: number;
  /** Values left out because they were missing or not finite. */
  missing: number;
}

/** A group: its key values (e.g. `lr`, `epoch`) and the statistics of its values. */
export type SeedGroup = Record<string, unknown> & SeedStat;

/**
 * Statistics of a list of values.
 *
 * @param values The values; `null`, NaN and ±∞ count as missing.
 * @returns Count, mean, sample standard deviation, min, max (NaN when there is no value).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(describeValues([1, 2, 3, NaN]), { n: 3, mean: 2, std: 1, min: 1, max: 3, missing: 1 });
 * ```
 */
export function describeValues(values: readonly unknown[]): SeedStat {
  const finite = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  const n = finite.length;
  const mean = n ? finite.reduce((s, v) => s + v, 0) / n : NaN;
  const squares = finite.reduce((s, v) => s + (v - mean) ** 2, 0);
  return {
    n,
    mean,
    std: n > 1 ? Math.sqrt(squares / (n - 1)) : NaN,
    min: n ? Math.min(...finite) : NaN,
    max: n ? Math.max(...finite) : NaN,
    missing: values.length - n,
  };
}

/**
 * Groups rows by the values of `by` and describes `value` in each group: typically one row per
 * seed, so each group is one configuration over its seeds. Per epoch: put `epoch` (and `split`)
 * in `by`.
 *
 * @param rows Plain rows, e.g. a sweep's summary or history records.
 * @param by The keys that make a group (everything but the seed).
 * @param value The key to describe.
 * @returns One group per distinct key combination, in order of first appearance.
 * @throws {RangeError} If `by` names no key, or `value` is among them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rows = [
 *   { lr: 0.1, seed: 0, acc: 0.9 }, { lr: 0.1, seed: 1, acc: 0.8 }, { lr: 1, seed: 0, acc: 0.1 },
 * ];
 * const [a, b] = seedStats(rows, ["lr"], "acc");
 * assert.deepEqual([a.lr, a.n, Number(a.mean.toFixed(2))], [0.1, 2, 0.85]);
 * assert.deepEqual([b.lr, b.n, b.std], [1, 1, NaN]);
 * ```
 */
export function seedStats(
  rows: readonly Record<string, unknown>[],
  by: readonly string[],
  value: string,
): SeedGroup[] {
  const where = { action: "group seeds", subject: value };
  if (by.length === 0) {
    throw new RangeError(cannotMessage(where, "the keys", [], "at least one key"));
  }
  if (by.includes(value)) {
    throw new RangeError(cannotMessage(where, "the keys", by, `keys other than "${value}"`));
  }
  const groups = new Map<string, { keys: Record<string, unknown>; values: unknown[] }>();
  for (const row of rows) {
    const keys = Object.fromEntries(by.map((k) => [k, row[k] ?? null]));
    const id = JSON.stringify(by.map((k) => keys[k]));
    const group = groups.get(id) ?? { keys, values: [] };
    group.values.push(row[value]);
    groups.set(id, group);
  }
  return [...groups.values()].map(({ keys, values }) => ({ ...keys, ...describeValues(values) }));
}

/** A difference between two groups' means and whether it exceeds the seed-to-seed spread. */
export interface SeedDifference {
  a: SeedGroup;
  b: SeedGroup;
  /** `a.mean − b.mean`. */
  difference: number;
  /** `2·√(s_a²/n_a + s_b²/n_b)`; NaN when either group has fewer than 2 values. */
  threshold: number;
  /** `|difference| > threshold` (false when the threshold is NaN). */
  exceeds: boolean;
}

/**
 * The difference of two groups under the module's rule.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const g = (mean: number, std: number) => ({ n: 4, mean, std, min: 0, max: 0, missing: 0 });
 * const d = compareGroups(g(0.97, 0.002), g(0.96, 0.004));
 * assert.ok(Math.abs(d.threshold - 2 * Math.sqrt((0.002 ** 2 + 0.004 ** 2) / 4)) < 1e-12);
 * assert.equal(d.exceeds, true);
 * ```
 */
export function compareGroups(a: SeedGroup, b: SeedGroup): SeedDifference {
  const difference = a.mean - b.mean;
  const threshold = a.n > 1 && b.n > 1 ? 2 * Math.sqrt(a.std ** 2 / a.n + b.std ** 2 / b.n) : NaN;
  return { a, b, difference, threshold, exceeds: Math.abs(difference) > threshold };
}

/**
 * Differences between groups: each group against `baseline` when given, else each group against
 * the next (adjacent pairs, e.g. neighbouring learning rates). Groups without values are skipped.
 *
 * @param groups From {@linkcode seedStats}.
 * @param baseline Picks the baseline group (e.g. the best, or the original's rate).
 * @returns The differences, `a` the compared group, `b` the baseline or the earlier neighbour.
 */
export function seedDifferences(
  groups: readonly SeedGroup[],
  baseline?: (group: SeedGroup) => boolean,
): SeedDifference[] {
  const valued = groups.filter((g) => g.n > 0);
  if (baseline === undefined) {
    return valued.slice(1).map((g, i) => compareGroups(g, valued[i]));
  }
  const base = valued.find(baseline);
  if (base === undefined) return [];
  return valued.filter((g) => g !== base).map((g) => compareGroups(g, base));
}

/** Options of {@linkcode seedSentence}. */
export interface SeedSentenceOptions {
  /** What the values are, e.g. `"final validation accuracy"`. */
  metric: string;
  /** Name of a group, e.g. `(g) => \`lr ${g.lr}\``. */
  label: (group: SeedGroup) => string;
  /** Formats a difference or threshold, e.g. `(x) => \`${(100 * x).toFixed(2)} points\``. */
  format?: (value: number) => string;
}

/**
 * One sentence saying which differences exceed the seed-to-seed spread and which do not.
 *
 * @param differences From {@linkcode seedDifferences}.
 * @param options Metric, group labels, number format.
 * @returns The sentence.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const g = (lr: number, mean: number) => ({ lr, n: 3, mean, std: 0.01, min: 0, max: 1, missing: 0 });
 * const text = seedSentence(
 *   [compareGroups(g(0.1, 0.97), g(0.01, 0.9)), compareGroups(g(0.3, 0.965), g(0.1, 0.97))],
 *   { metric: "accuracy", label: (x) => `lr ${x.lr}`, format: (x) => x.toFixed(3) },
 * );
 * assert.equal(text,
 *   "Over 3 seeds, the accuracy of lr 0.1 differs from lr 0.01 by +0.070 (beyond twice the " +
 *   "combined standard error, 0.016); lr 0.3 vs lr 0.1 (-0.005, within 0.016) cannot be told " +
 *   "apart from seed-to-seed noise.");
 * ```
 */
export function seedSentence(
  differences: readonly SeedDifference[],
  options: SeedSentenceOptions,
): string {
  const { metric, label, format = (x: number) => x.toPrecision(3) } = options;
  if (differences.length === 0) return `No two groups to compare the ${metric} of.`;
  const signed = (x: number) => {
    const text = format(Math.abs(x));
    return `${text === format(0) ? "" : x < 0 ? "-" : "+"}${text}`;
  };
  const seeds = [
    ...new Set(differences.flatMap((d) => [d.a.n + d.a.missing, d.b.n + d.b.missing])),
  ];
  const over = `Over ${
    seeds.length === 1 ? seeds[0] : `${Math.min(...seeds)}–${Math.max(...seeds)}`
  } seeds`;
  const apart = differences.filter((d) => d.exceeds);
  const close = differences.filter((d) => !d.exceeds);
  const parts: string[] = [];
  if (apart.length) {
    parts.push(
      `the ${metric} of ` +
        apart.map((d) =>
          `${label(d.a)} differs from ${label(d.b)} by ${
            signed(d.difference)
          } (beyond twice the combined standard error, ${format(d.threshold)})`
        ).join("; "),
    );
  }
  if (close.length) {
    const pairs = close.map((d) =>
      `${label(d.a)} vs ${label(d.b)} (${signed(d.difference)}, ${
        Number.isNaN(d.threshold) ? "too few values" : `within ${format(d.threshold)}`
      })`
    ).join("; ");
    parts.push(
      `${
        apart.length ? "" : `the ${metric} of `
      }${pairs} cannot be told apart from seed-to-seed noise`,
    );
  }
  return `${over}, ${parts.join("; ")}.`;
}

/**
 * `mean ± sd` of a group, for tables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const g = { n: 3, mean: 0.97412, std: 0.00081, min: 0, max: 1, missing: 0 };
 * assert.equal(formatMeanSd(g, (x) => (100 * x).toFixed(2)), "97.41 ± 0.08");
 * assert.equal(formatMeanSd({ ...g, n: 0, missing: 3 }), "— (3 missing)");
 * ```
 */
export function formatMeanSd(group: SeedStat, format = (x: number) => x.toPrecision(3)): string {
  if (group.n === 0) return `— (${group.missing} missing)`;
  const text = Number.isNaN(group.std)
    ? format(group.mean)
    : `${format(group.mean)} ± ${format(group.std)}`;
  return group.missing ? `${text} (${group.missing} missing)` : text;
}

/**
 * One row per group with the mean over its seeds of each numeric key (`null` when no seed has a
 * finite value), `true` for a boolean key only when every seed has it (a rate "diverged" when
 * all its seeds did), and `seeds`, the group's row count: the shape the findings helpers take.
 *
 * @param rows One row per run.
 * @param by The keys that make a group.
 * @param values The keys to average.
 * @returns The groups, in order of first appearance.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rows = [
 *   { lr: 1, seed: 0, acc: 0.2, diverged: false }, { lr: 1, seed: 1, acc: null, diverged: true },
 * ];
 * assert.deepEqual(seedMeans(rows, ["lr"], ["acc", "diverged"]), [{ lr: 1, seeds: 2, acc: 0.2, diverged: false }]);
 * ```
 */
export function seedMeans(
  rows: readonly Record<string, unknown>[],
  by: readonly string[],
  values: readonly string[],
): Record<string, unknown>[] {
  const groups = seedStats(rows, by, values[0]);
  const of = (group: SeedGroup) => rows.filter((r) => by.every((k) => (r[k] ?? null) === group[k]));
  return groups.map((group) => {
    const members = of(group);
    const out: Record<string, unknown> = Object.fromEntries(by.map((k) => [k, group[k]]));
    out.seeds = members.length;
    for (const key of values) {
      const column = members.map((r) => r[key]);
      if (column.every((v) => typeof v === "boolean")) out[key] = column.every((v) => v);
      else {
        const { n, mean } = describeValues(column);
        out[key] = n ? mean : null;
      }
    }
    return out;
  });
}

/**
 * A table of `mean ± sd` cells: one row per group, one column per value key.
 *
 * @param rows One row per run.
 * @param by The keys that make a group (kept as columns).
 * @param values Column name of each value key, e.g. `{ test_accuracy: "test accuracy (%)" }`.
 * @param format Number format of the means and deviations.
 * @returns Plain rows for a table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rows = [{ lr: 1, acc: 0.9 }, { lr: 1, acc: 0.8 }];
 * assert.deepEqual(meanSdTable(rows, ["lr"], { acc: "acc" }, (x) => x.toFixed(2)), [
 *   { lr: 1, seeds: 2, acc: "0.85 ± 0.07" },
 * ]);
 * ```
 */
export function meanSdTable(
  rows: readonly Record<string, unknown>[],
  by: readonly string[],
  values: Readonly<Record<string, string>>,
  format?: (value: number) => string,
): Record<string, unknown>[] {
  const keys = Object.keys(values);
  const stats = keys.map((key) => seedStats(rows, by, key));
  return stats[0].map((group, i) => ({
    ...Object.fromEntries(by.map((k) => [k, group[k]])),
    seeds: group.n + group.missing,
    ...Object.fromEntries(keys.map((key, j) => [values[key], formatMeanSd(stats[j][i], format)])),
  }));
}

/** Options of {@linkcode compareSeeds}: the sentence's, and a baseline. */
export interface CompareSeedsOptions extends SeedSentenceOptions {
  /** Compare each group with the one this picks; default each with its neighbour. */
  baseline?: (group: SeedGroup) => boolean;
}

/**
 * {@linkcode seedStats}, {@linkcode seedDifferences} and {@linkcode seedSentence} in one call:
 * the sentence saying which groups' `value` differ beyond the seed-to-seed spread.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rows = [0, 1, 2].flatMap((seed) => [{ lr: 0.1, seed, acc: 0.9 + seed / 100 }, { lr: 1, seed, acc: 0.2 + seed / 100 }]);
 * assert.match(compareSeeds(rows, ["lr"], "acc", { metric: "accuracy", label: (g) => `lr ${g.lr}` }), /beyond twice/);
 * ```
 */
export function compareSeeds(
  rows: readonly Record<string, unknown>[],
  by: readonly string[],
  value: string,
  options: CompareSeedsOptions,
): string {
  return seedSentence(seedDifferences(seedStats(rows, by, value), options.baseline), options);
}
