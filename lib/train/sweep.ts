/**
 * Hyperparameter sweeps that survive interruption: run a grid of configurations, keep every run's
 * tidy per-epoch rows and one summary row, and save them as polars DataFrames (CSV and Parquet)
 * under `reports/sweeps/`.
 *
 * Files of a sweep called `name`, in `dir` (default `reports/sweeps/`):
 *
 * - `<name>_runs.jsonl`: the resume state, one finished run per line (`run`, `config`, `rows`,
 *   `summary`, `seconds`), appended as each run finishes, so killing the process loses at most the
 *   run in progress, and a restarted sweep skips every run it finds here. Append-only and merged
 *   on read, so processes sharing a sweep never lose each other's runs; a line torn by a killed
 *   writer is dropped with a warning (see `sweep_store.ts` for the design).
 * - `<name>_history.csv` / `.parquet`: every requested run's rows with the run id and the config
 *   columns added; `<name>_summary.csv` / `.parquet`: one row per run. Written atomically when the
 *   sweep completes; {@linkcode loadSweep} reads the Parquet pair back without training.
 *
 * Values in the frames: numbers are Float64 (an epoch shows as `1.0`), booleans Bool, strings
 * String; a column with no value at all is Float64. `NaN` and `±Infinity` (a diverged loss) are
 * kept as they are, in the state file as well as in CSV (`NaN`, `inf`) and Parquet; `null` means
 * missing: a key absent from some rows, or `null`/`undefined`. Arrays and objects (say
 * `hiddenUnits: [128, 64]`) are stored as their JSON text. CSV cannot tell `""` from a missing
 * string; Parquet is exact, which is why {@linkcode loadSweep} reads it.
 *
 * @module
 */
import pl from "nodejs-polars";
import { cannotMessage, phrase, sameClass } from "../util/validate.ts";
import {
  appendRecord,
  checkWritable,
  decodeJson,
  defaultSweepDir,
  encodeJson,
  isPlainObject,
  mergeState,
  readState,
  type RunRecord,
  type SweepFiles,
  sweepFiles,
  writeFrame,
} from "./sweep_store.ts";

// The row and summary helpers live beside this file; re-exported for callers of this module.
export { formatRun, summarizeTraining, type TrainingSummary } from "./sweep_rows.ts";

export {
  defaultSweepDir,
  type LoadedSweep,
  loadSweep,
  SWEEP_DIR_ENV,
  type SweepFiles,
} from "./sweep_store.ts";

/**
 * A sweep name that changes whenever a setting shared by all its runs changes (data size, epochs,
 * augmentation ranges…), so editing such a setting starts a new sweep instead of silently reusing
 * runs made under the old one.
 *
 * @param base Readable part, e.g. `"learning_rates_full"`.
 * @param settings Everything the runs depend on that is not in their configs, as flat values.
 * @returns `base` followed by a short hash of the settings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(sweepName("lr", { epochs: 30 }), sweepName("lr", { epochs: 30 }));
 * assert.notEqual(sweepName("lr", { epochs: 30 }), sweepName("lr", { epochs: 3 }));
 * assert.match(sweepName("lr", { epochs: 30 }), /^lr_[0-9a-f]{8}$/);
 * ```
 */
export function sweepName(base: string, settings: Record<string, unknown>): string {
  const text = JSON.stringify(settings, Object.keys(settings).sort());
  let hash = 0x811c9dc5; // FNV-1a, 32 bits
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return `${base}_${hash.toString(16).padStart(8, "0")}`;
}

/** One configuration of a sweep: plain JSON values (numbers, strings, booleans, arrays…). */
export type SweepConfig = Record<string, unknown>;

/** A table row of a sweep: keys are snake_case column names, values plain JSON. */
export type SweepRow = Record<string, unknown>;

/** What `runOne` hands back for one configuration; `R` and `S` type its rows and its summary. */
export interface SweepRunResult<R extends object = SweepRow, S extends object = SweepRow> {
  /** Tidy rows, e.g. `train()`'s history (`{ epoch, split, loss, accuracy }`); may be empty. */
  rows: readonly R[];
  /**
   * One row of facts about the run, e.g. from {@linkcode summarizeTraining}. If it has no
   * `diverged` key the sweep adds one: `true` when `rows` is empty or holds a non-finite number.
   */
  summary: S;
}

/** One run of a finished sweep as plain typed data (trained now or read back from the state file). */
export interface SweepRun<C extends SweepConfig, R extends object, S extends object> {
  /** The run id. */
  run: string;
  config: C;
  rows: R[];
  /** The summary as stored, with `diverged`. */
  summary: S & { diverged: boolean };
  /** Wall-clock seconds of `runOne` when it ran. */
  seconds: number;
}

/** Where a run stands, passed to `runOne` and the callbacks. */
export interface SweepRunInfo<C extends SweepConfig = SweepConfig> {
  /** The run id, e.g. `learningRate=0.01,momentum=0.5` (see {@linkcode runIdOf}). */
  run: string;
  /** The configuration. */
  config: C;
  /** 1-based position in `configs`. */
  index: number;
  /** Number of configurations in the sweep. */
  total: number;
}

/** A run's outcome, passed to `onRunEnd`. */
export interface SweepRunEnd<C extends SweepConfig = SweepConfig> extends SweepRunInfo<C> {
  /** `"ran"`: trained just now; `"cached"`: skipped, its results read from the state file. */
  status: "ran" | "cached";
  /** Wall-clock seconds of `runOne` (for a cached run: when it ran). */
  seconds: number;
  /** The summary row as stored (with `diverged`), without the run id and config columns. */
  summary: Record<string, unknown>;
}

/**
 * Trains several pending configurations at once (side by side, say with `trainGrid`) and calls
 * `record` for each as it ends, so a run finished before an interruption stays recorded.
 * Receives only the configurations the state file does not have.
 */
export type SweepBatch<C extends SweepConfig, R extends object, S extends object> = (
  pending: readonly SweepRunInfo<C>[],
  record: (run: SweepRunInfo<C>, result: SweepRunResult<R, S>) => Promise<void>,
) => Promise<void>;

/** Options of {@linkcode runSweep}. */
export interface RunSweepOptions<C extends SweepConfig = SweepConfig> {
  /** Folder of the sweep's files, created if missing. Default `$ANN_SWEEP_DIR`, else `reports/sweeps/`. */
  dir?: string;
  /** Re-run every configuration even if the state file has it (replacing the record). Default false. */
  force?: boolean;
  /** Called before a run trains (not for cached runs). */
  onRunStart?: (info: SweepRunInfo<C>) => void | Promise<void>;
  /**
   * Called after every run, trained or cached, in `configs` order (with a batch: the cached runs
   * first, then the others as they end).
   */
  onRunEnd?: (info: SweepRunEnd<C>) => void | Promise<void>;
}

/** What {@linkcode runSweep} returns. */
export interface SweepResult<
  C extends SweepConfig = SweepConfig,
  R extends object = SweepRow,
  S extends object = SweepRow,
> {
  /** Every requested run as typed data, in `configs` order: see {@linkcode historyRows}, {@linkcode summaryRows}. */
  runs: SweepRun<C, R, S>[];
  /** Every requested run's rows, columns `run`, the config keys, then the row keys. */
  history: pl.DataFrame;
  /** One row per requested run, in `configs` order: `run`, the config keys, the summary keys. */
  summary: pl.DataFrame;
  /** Runs trained in this call. */
  ran: number;
  /** Runs skipped because the state file had them. */
  skipped: number;
  /** Where everything was written. */
  files: SweepFiles;
}

const RUN_COLUMN = "run";
const DEFAULT_RUN_ID = "default";

/**
 * Every combination of the given values, the last key varying fastest (like nested loops in key
 * order).
 *
 * @param axes Each key's candidate values, e.g. `{ learningRate: [0.01, 0.1], momentum: [0, 0.9] }`.
 * @returns One config object per combination; `{}` gives `[{}]`.
 * @throws {TypeError} If a key's values are not an array.
 * @throws {RangeError} If a key has no values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(gridOf({ lr: [0.1, 1], momentum: [0, 0.5] }), [
 *   { lr: 0.1, momentum: 0 },
 *   { lr: 0.1, momentum: 0.5 },
 *   { lr: 1, momentum: 0 },
 *   { lr: 1, momentum: 0.5 },
 * ]);
 * ```
 */
export function gridOf<T extends Record<string, readonly unknown[]>>(
  axes: T,
): { [K in keyof T]: T[K][number] }[] {
  let configs: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(axes)) {
    if (!Array.isArray(values)) {
      throw new TypeError(`Cannot build the grid: values of "${key}" are not an array`);
    }
    if (values.length === 0) {
      throw new RangeError(
        `Cannot build the grid: "${key}" has no values, expected at least one`,
      );
    }
    configs = configs.flatMap((config) => values.map((value) => ({ ...config, [key]: value })));
  }
  return configs as { [K in keyof T]: T[K][number] }[];
}

/**
 * The id of a configuration's run: `key=value` pairs in sorted key order, so it does not depend
 * on the order keys were written in. Also the `run` column of the frames, a readable chart label.
 *
 * @param config The configuration.
 * @returns E.g. `lr=0.01,momentum=0.5`; `default` for `{}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(runIdOf({ momentum: 0.5, lr: 0.01 }), "lr=0.01,momentum=0.5");
 * assert.equal(runIdOf({ hidden: [128, 64], optimizer: "adam" }), "hidden=[128,64],optimizer=adam");
 * ```
 */
export function runIdOf(config: SweepConfig): string {
  const keys = Object.keys(config).sort();
  if (keys.length === 0) return DEFAULT_RUN_ID;
  return keys.map((key) => `${key}=${formatIdValue(config[key])}`).join(",");
}

/**
 * Runs every configuration that the sweep's state file does not have yet, records each as it
 * finishes, and returns and saves the tidy history and the summary of all of them.
 *
 * Resuming: a run is skipped when the state file has its id with an equal config. Put everything
 * that changes the result (epochs, data size, profile) into the config or the sweep name, or pass
 * `force`. Runs in the state file but not in `configs` stay recorded but are left out of the
 * frames. Several processes may run one sweep at once: each records its runs without losing the
 * others' (a config that both train is recorded twice, the later record winning), and each
 * writes the frames of its own `configs`.
 *
 * @param name The sweep's name, used in file names: letters, digits, `_`, `-`, `.`.
 * @param configs The configurations, e.g. from {@linkcode gridOf}; ids must be distinct.
 * @param runOne Trains one configuration and returns its rows and summary; or `{ batch }`, a
 *   {@linkcode SweepBatch} that trains all pending configurations at once (then `onRunEnd` hears
 *   of the cached runs first and of the others as they end).
 * @param options Folder, `force`, progress callbacks.
 * @returns The frames, how many runs trained and how many came from the state file, the paths.
 * @throws {RangeError} On a bad name, no configs or two configs with the same id.
 * @throws {TypeError} If a state file line is JSON but not a run record (it names the file and
 *   line; a line torn mid-write is only dropped, with a warning), the file records a different
 *   config under a run's id, or a result cannot be stored.
 * @throws {Deno.errors.PermissionDenied} (or the file system's other classes) If the folder cannot
 *   take the sweep's files; checked before anything trains.
 * @throws {Error} If `runOne` throws: the message names the run, `cause` is the original error.
 *   Runs finished before it stay recorded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const runOne = (config: { lr: number }) =>
 *   Promise.resolve({ rows: [{ epoch: 1, loss: 1 / config.lr }], summary: { best: 1 / config.lr } });
 * const first = await runSweep("demo", gridOf({ lr: [1, 2] }), runOne, { dir });
 * assert.deepEqual([first.ran, first.skipped], [2, 0]);
 * assert.deepEqual(first.summary.getColumn("best").toArray(), [1, 0.5]);
 * const again = await runSweep("demo", gridOf({ lr: [1, 2, 4] }), runOne, { dir });
 * assert.deepEqual([again.ran, again.skipped], [1, 2]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runSweep<
  C extends SweepConfig,
  R extends object = SweepRow,
  S extends object = SweepRow,
>(
  name: string,
  configs: readonly C[],
  runOne:
    | ((config: C, info: SweepRunInfo<C>) => Promise<SweepRunResult<R, S>>)
    | { batch: SweepBatch<C, R, S> },
  options: RunSweepOptions<C> = {},
): Promise<SweepResult<C, R, S>> {
  const { dir = defaultSweepDir(), force = false, onRunStart, onRunEnd } = options;
  const files = sweepFiles(name, dir);
  const runs = checkConfigs(name, configs);
  await checkWritable(name, dir, files);
  const records = await readState(files.state);
  const total = runs.length;
  let ran = 0, skipped = 0;
  // Each column's kind of value (number, string, boolean), checked as runs arrive so that a run
  // whose result would not fit a column fails at once, naming both runs, not after the sweep.
  const summaryKinds: Kinds = new Map([[RUN_COLUMN, { kind: "string", where: "the run id" }]]);
  for (const { run, config } of runs) noteKinds(summaryKinds, config, `run "${run}"'s config`);
  const historyKinds: Kinds = new Map(summaryKinds);
  const configKeys = unionOfKeys(runs.map((r) => r.config));
  const noteRecord = (record: RunRecord) => {
    record.rows.forEach((row, j) => {
      const where = `run "${record.run}" row ${j + 1}`;
      checkColumns(name, where, row, configKeys);
      noteKinds(historyKinds, row, where);
    });
    const where = `run "${record.run}"'s summary`;
    checkColumns(name, where, record.summary, configKeys);
    noteKinds(summaryKinds, record.summary, where);
  };

  const byRun = new Map<string, RunRecord>();
  const failed = (info: SweepRunInfo<C>, error: unknown) =>
    sameClass(
      error,
      `Cannot run sweep "${name}": run ${info.index} of ${total} ("${info.run}") failed: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  const keep = async (info: SweepRunInfo<C>, result: SweepRunResult, seconds: number) => {
    const record = makeRecord(name, info.run, info.config, result, seconds);
    noteRecord(record);
    records.set(info.run, record);
    await appendRecord(files.state, record);
    byRun.set(info.run, record);
    ran++;
    await onRunEnd?.({ ...info, status: "ran", seconds: record.seconds, summary: record.summary });
  };
  const pending: SweepRunInfo<C>[] = [];
  for (const [i, { run, config }] of runs.entries()) {
    const info: SweepRunInfo<C> = { run, config, index: i + 1, total };
    // Another process sharing the sweep may have finished this run since we read the state.
    if (!force && !records.has(run)) await mergeState(files.state, records);
    const cached = records.get(run);
    if (cached && !force) {
      if (canonicalJson(cached.config) !== canonicalJson(config)) {
        throw new TypeError(
          cannotMessage(
            { action: "resume sweep", subject: name },
            `the config of run "${run}" in state file "${files.state}"`,
            phrase(canonicalJson(cached.config)),
            `${canonicalJson(config)}, the one this sweep asks for`,
            "Rename the sweep or pass force: true",
          ),
        );
      }
      noteRecord(cached);
      byRun.set(run, cached);
      skipped++;
      await onRunEnd?.({
        ...info,
        status: "cached",
        seconds: cached.seconds,
        summary: cached.summary,
      });
      continue;
    }
    if (typeof runOne !== "function") {
      pending.push(info);
      continue;
    }
    await onRunStart?.(info);
    const start = performance.now();
    let result: SweepRunResult;
    try {
      result = await runOne(config, info) as unknown as SweepRunResult;
    } catch (error) {
      throw failed(info, error);
    }
    await keep(info, result, (performance.now() - start) / 1000);
  }
  if (typeof runOne !== "function" && pending.length > 0) {
    for (const info of pending) await onRunStart?.(info);
    const start = performance.now();
    try {
      await runOne.batch(
        pending,
        (info, result) =>
          keep(info, result as unknown as SweepRunResult, (performance.now() - start) / 1000),
      );
    } catch (error) {
      const done = pending.filter((info) => byRun.has(info.run)).length;
      throw sameClass(
        error,
        `Cannot run sweep "${name}": a batch of ${pending.length} runs failed (${done} recorded): ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
    const missing = pending.find((info) => !byRun.has(info.run));
    if (missing) throw failed(missing, new Error("the batch ended without recording it"));
  }
  const chosen = runs.map(({ run }) => byRun.get(run)!);

  const history = frameOf(
    chosen.flatMap((record) => record.rows.map((row) => labelled(record, row, configKeys))),
    [RUN_COLUMN, ...configKeys],
    historyKinds,
  );
  const summary = frameOf(
    chosen.map((record) => labelled(record, record.summary, configKeys)),
    [RUN_COLUMN, ...configKeys],
    summaryKinds,
  );
  await writeFrame(history, files.historyCsv, files.historyParquet);
  await writeFrame(summary, files.summaryCsv, files.summaryParquet);
  const typed = chosen as unknown as SweepRun<C, R, S>[];
  return { runs: typed, history, summary, ran, skipped, files };
}

/**
}

/** Validates the configs and gives each its id; ids must be distinct so rows stay apart. */
function checkConfigs<C extends SweepConfig>(
  name: string,
  configs: readonly C[],
): { run: string; config: C }[] {
  if (!Array.isArray(configs) || configs.length === 0) {
    throw new RangeError(`Cannot run sweep "${name}": expected at least one config, found none`);
  }
  const seen = new Map<string, number>();
  return configs.map((config, i) => {
    if (typeof config !== "object" || config === null || Array.isArray(config)) {
      throw new TypeError(`Cannot run sweep "${name}": config ${i + 1} is not a plain object`);
    }
    for (const [key, value] of Object.entries(config)) {
      if (key === RUN_COLUMN) {
        throw new TypeError(
          `Cannot run sweep "${name}": config ${
            i + 1
          } has key "${RUN_COLUMN}", which is reserved for the run id`,
        );
      }
      if (value === undefined) {
        throw new TypeError(
          `Cannot run sweep "${name}": config ${i + 1} key "${key}" is undefined`,
        );
      }
    }
    const run = runIdOf(config);
    const earlier = seen.get(run);
    if (earlier !== undefined) {
      throw new RangeError(
        `Cannot run sweep "${name}": configs ${earlier} and ${i + 1} have the same id "${run}"`,
      );
    }
    seen.set(run, i + 1);
    return { run, config };
  });
}

/**
 * Validates `runOne`'s result and passes it through the state file's encoding, so a fresh run
 * and a cached one give identical frames.
 */
function makeRecord(
  name: string,
  run: string,
  config: SweepConfig,
  result: SweepRunResult,
  seconds: number,
): RunRecord {
  const where = `Sweep "${name}", run "${run}"`;
  if (!result || !Array.isArray(result.rows) || !isPlainObject(result.summary)) {
    throw new TypeError(
      `${where}: runOne must return { rows: object[], summary: object }, found ${
        result === null ? "null" : typeof result
      } with keys ${Object.keys(result ?? {}).join(", ") || "none"}`,
    );
  }
  result.rows.forEach((row, i) => {
    if (!isPlainObject(row)) throw new TypeError(`${where}: row ${i + 1} is not an object`);
  });
  const summary = "diverged" in result.summary
    ? result.summary
    : { ...result.summary, diverged: rowsLookDiverged(result.rows) };
  let text: string;
  try {
    text = encodeJson({ run, config, rows: result.rows, summary, seconds });
  } catch (error) {
    throw new TypeError(
      `${where}: its result cannot be stored as JSON (${(error as Error).message})`,
    );
  }
  return decodeJson(text) as RunRecord;
}

/** Row and summary keys must not shadow the `run` column or any config key of the sweep. */
function checkColumns(
  name: string,
  where: string,
  row: Record<string, unknown>,
  configKeys: readonly string[],
): void {
  for (const key of Object.keys(row)) {
    if (key === RUN_COLUMN || configKeys.includes(key)) {
      throw new TypeError(
        `Cannot build the frames of sweep "${name}": ${where} has column "${key}", which is also ${
          key === RUN_COLUMN ? "the run id column" : "a config key"
        }; rename one`,
      );
    }
  }
}

function rowsLookDiverged(rows: readonly Record<string, unknown>[]): boolean {
  return rows.length === 0 ||
    rows.some((row) =>
      Object.values(row).some((v) => typeof v === "number" && !Number.isFinite(v))
    );
}

/** JSON with keys sorted at every level, so equal configs compare equal whatever their key order. */
function canonicalJson(value: unknown): string {
  const sortKeys = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sortKeys)
      : isPlainObject(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]))
      : v;
  return encodeJson(sortKeys(value));
}

function formatIdValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  return encodeJson(value);
}

function unionOfKeys(objects: readonly Record<string, unknown>[]): string[] {
  const keys = new Set<string>();
  for (const object of objects) for (const key of Object.keys(object)) keys.add(key);
  return [...keys];
}

function labelled(
  record: RunRecord,
  row: Record<string, unknown>,
  configKeys: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = { [RUN_COLUMN]: record.run };
  for (const key of configKeys) out[key] = record.config[key] ?? null;
  return Object.assign(out, row);
}

type Kinds = Map<string, { kind: string; where: string }>;

/** Records the kind of each value of `row` per column; throws if a column would mix kinds. */
function noteKinds(kinds: Kinds, row: Record<string, unknown>, where: string): void {
  for (const [column, value] of Object.entries(row)) {
    const cell = cellOf(value);
    if (cell === null) continue;
    const kind = typeof cell;
    const known = kinds.get(column);
    if (known === undefined) kinds.set(column, { kind, where });
    else if (known.kind !== kind) {
      throw new TypeError(
        `Cannot build the sweep's frames: column "${column}" holds a ${kind} in ${where} but a ${known.kind} in ${known.where}`,
      );
    }
  }
}

/**
 * Builds a frame column by column with explicit types: `pl.DataFrame(records)` infers its schema
 * from the first rows only (later keys vanish) and silently turns mixed columns into strings.
 * Columns with no value at all are Float64.
 */
function frameOf(
  rows: readonly Record<string, unknown>[],
  leading: readonly string[],
  kinds: Kinds,
): pl.DataFrame {
  const columns = [...new Set([...leading, ...unionOfKeys(rows)])];
  return pl.DataFrame(columns.map((column) => {
    const kind = kinds.get(column)?.kind;
    const dtype = kind === "string" ? pl.Utf8 : kind === "boolean" ? pl.Bool : pl.Float64;
    return pl.Series(column, rows.map((row) => cellOf(row[column])), dtype);
  }));
}

function cellOf(value: unknown): number | string | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") {
    return value;
  }
  return encodeJson(value);
}
