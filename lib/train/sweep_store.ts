/**
 * A sweep's files on disk: the resume state, written so that concurrent processes lose nothing,
 * and the saved frames.
 *
 * The state file `<name>_runs.jsonl` is append-only, one finished run per line, merged on read:
 *
 * - A run's record is appended by one `write` to the file opened with `O_APPEND`. The kernel
 *   places each such write at the end of the file at the time of the write and (on a local file
 *   system) does not interleave it with another, so processes sharing a sweep never overwrite or
 *   split each other's records. There is no rewrite of the whole file, hence nothing to lock.
 * - Reading keeps, for each run id, the last complete record: a forced re-run, or a config two
 *   processes both trained, replaces the earlier one. A sweep looks at the file again before each
 *   run and skips a config another process has finished; two that start one config at the same
 *   time both train it, and neither record is lost.
 * - A line that is not JSON (a writer killed mid-line) is dropped with a warning naming the file
 *   and line, and its run trains again; every complete record is kept. A writer that finds the
 *   file not ending in a newline starts its record with one, so a torn line never swallows the
 *   next record.
 * - A line that is JSON but not a run record is a corrupt file, refused with its file and line.
 *
 * Before a sweep trains anything, {@linkcode checkWritable} makes sure the folder takes the state
 * file and the frames, so a read-only folder is found before, not after, the first run.
 *
 * @module
 */
import { join } from "node:path";
import { Buffer } from "node:buffer";
import pl from "nodejs-polars";
import { temporaryPathFor, writeAll, writeAtomically } from "../util/atomic.ts";
import { REPORTS_DIR } from "../util/paths.ts";
import {
  cannotMessage,
  phrase,
  rangeError,
  sameClass,
  typeError,
  type Where,
} from "../util/validate.ts";

/** Environment variable that moves every sweep's files (the notebook tests use a fresh folder). */
export const SWEEP_DIR_ENV = "ANN_SWEEP_DIR";

/**
 * Where sweeps keep their files unless told otherwise.
 *
 * @returns `$ANN_SWEEP_DIR` if set, else `reports/sweeps/`.
 */
export function defaultSweepDir(): string {
  return Deno.env.get(SWEEP_DIR_ENV) || join(REPORTS_DIR, "sweeps");
}

/** Paths of a sweep's files. */
export interface SweepFiles {
  /** The resume state, one finished run per line. */
  state: string;
  historyCsv: string;
  historyParquet: string;
  summaryCsv: string;
  summaryParquet: string;
}

/** One line of the state file. */
export interface RunRecord {
  run: string;
  config: Record<string, unknown>;
  rows: Record<string, unknown>[];
  summary: Record<string, unknown>;
  seconds: number;
}

/** What {@linkcode loadSweep} returns. */
export interface LoadedSweep {
  history: pl.DataFrame;
  summary: pl.DataFrame;
  files: SweepFiles;
}

const SWEEP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const FLOAT_TAG = "$float";
const NEWLINE = 0x0a;

/**
 * The paths of a sweep's files.
 *
 * @param name The sweep's name: letters, digits, `_`, `-`, `.`, not starting with a symbol.
 * @param dir Its folder.
 * @returns The five paths.
 * @throws {RangeError} On a name that cannot be a file name prefix.
 */
export function sweepFiles(name: string, dir: string): SweepFiles {
  if (typeof name !== "string" || !SWEEP_NAME.test(name)) {
    rangeError(
      { action: "name sweep" },
      "the name",
      name,
      'letters, digits, "_", "-" or "." (it names files), starting with a letter or digit',
    );
  }
  const path = (suffix: string) => join(dir, `${name}_${suffix}`);
  return {
    state: path("runs.jsonl"),
    historyCsv: path("history.csv"),
    historyParquet: path("history.parquet"),
    summaryCsv: path("summary.csv"),
    summaryParquet: path("summary.parquet"),
  };
}

/**
 * Creates the folder if needed and checks that the state file can be appended to and new files
 * created beside it, so an unwritable folder fails before anything trains.
 *
 * @param name The sweep's name, for the message.
 * @param dir The folder.
 * @param files The sweep's files.
 * @throws {Deno.errors.PermissionDenied | Deno.errors.NotFound | Error} The file system's error
 *   class, with a message naming the sweep and the folder.
 */
export async function checkWritable(name: string, dir: string, files: SweepFiles): Promise<void> {
  const fail = (error: unknown): never => {
    const message = cannotMessage(
      { action: "run sweep", subject: name },
      `folder "${dir}"`,
      phrase(`not writable (${(error as Error).message})`),
      "a folder this process can create files in",
      `Pass another dir, or set ${SWEEP_DIR_ENV}`,
    );
    throw sameClass(error, message);
  };
  try {
    await Deno.mkdir(dir, { recursive: true });
    (await Deno.open(files.state, { append: true, create: true })).close();
    const probe = temporaryPathFor(join(dir, `${name}_probe`));
    await Deno.writeFile(probe, new Uint8Array(0), { createNew: true });
    await Deno.remove(probe);
  } catch (error) {
    fail(error);
  }
}

/**
 * Reads the state file, merged: the last complete record of each run id, in the order runs were
 * first recorded. Torn lines are dropped with a warning.
 *
 * @param path The state file; a missing file is an empty state.
 * @param warn Where warnings go. Default `console.warn`.
 * @returns Records by run id.
 * @throws {TypeError} If a line is JSON but not a run record (naming the file and line).
 */
export async function readState(
  path: string,
  warn: (message: string) => void = console.warn,
): Promise<Map<string, RunRecord>> {
  const records = new Map<string, RunRecord>();
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return records;
    throw error;
  }
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    const where: Where = { action: "resume from state file", subject: path };
    let record: unknown;
    try {
      record = decodeJson(line);
    } catch (error) {
      warn(
        `Sweep state file "${path}": dropped line ${i + 1}, which is not JSON ` +
          `(${(error as Error).message}): a run cut off mid-write. That run will train again`,
      );
      continue;
    }
    if (!isRunRecord(record)) {
      typeError(
        where,
        `line ${i + 1}`,
        record,
        "a finished run (keys run, config, rows, summary, seconds)",
        "Move the file away to start the sweep over",
      );
    }
    records.delete(record.run); // the later record replaces it, in the later position
    records.set(record.run, record);
  }
  return records;
}

/**
 * Adds to `records` the runs the state file has gained since it was read (another process's),
 * silently: torn lines were reported when the file was first read.
 *
 * @param path The state file.
 * @param records What was read before; updated in place.
 */
export async function mergeState(path: string, records: Map<string, RunRecord>): Promise<void> {
  for (const [run, record] of await readState(path, () => {})) {
    if (!records.has(run)) records.set(run, record);
  }
}

/**
 * Appends one finished run to the state file in a single `O_APPEND` write.
 *
 * @param path The state file.
 * @param record The run.
 */
export async function appendRecord(path: string, record: RunRecord): Promise<void> {
  const line = new TextEncoder().encode(encodeJson(record) + "\n");
  const file = await Deno.open(path, { read: true, append: true, create: true });
  try {
    const torn = await endsWithoutNewline(file);
    const bytes = torn ? new Uint8Array([NEWLINE, ...line]) : line;
    await writeAll(file, bytes);
    await file.sync();
  } finally {
    file.close();
  }
}

async function endsWithoutNewline(file: Deno.FsFile): Promise<boolean> {
  const size = (await file.stat()).size;
  if (size === 0) return false;
  await file.seek(size - 1, Deno.SeekMode.Start);
  const last = new Uint8Array(1);
  return (await file.read(last)) === 1 && last[0] !== NEWLINE;
}

/** Writes a frame as CSV and Parquet, each atomically. */
export async function writeFrame(
  frame: pl.DataFrame,
  csvPath: string,
  parquetPath: string,
): Promise<void> {
  await writeAtomically(csvPath, new Uint8Array(frame.writeCSV()));
  await writeAtomically(parquetPath, new Uint8Array(frame.writeParquet()));
}

/**
 * Reads a finished sweep's saved frames (the Parquet files) without training.
 *
 * @param name The sweep's name.
 * @param options.dir Its folder. Default `$ANN_SWEEP_DIR`, else `reports/sweeps/`.
 * @returns The history and summary frames, equal to what `runSweep` returned, and paths.
 * @throws {Deno.errors.NotFound} If a file is missing; the message names it.
 */
export async function loadSweep(
  name: string,
  options: { dir?: string } = {},
): Promise<LoadedSweep> {
  const { dir = defaultSweepDir() } = options;
  const files = sweepFiles(name, dir);
  const read = async (path: string) => {
    const bytes = await Deno.readFile(path).catch((error) => {
      if (error instanceof Deno.errors.NotFound) {
        throw new Deno.errors.NotFound(
          cannotMessage(
            { action: "load sweep", subject: name },
            `file "${path}"`,
            phrase("missing"),
            "the frames of a completed sweep",
            `Run runSweep("${name}", …) first`,
          ),
        );
      }
      throw error;
    });
    return pl.readParquet(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  };
  return {
    history: await read(files.historyParquet),
    summary: await read(files.summaryParquet),
    files,
  };
}

function isRunRecord(value: unknown): value is RunRecord {
  return isPlainObject(value) && typeof value.run === "string" && isPlainObject(value.config) &&
    Array.isArray(value.rows) && value.rows.every(isPlainObject) && isPlainObject(value.summary) &&
    typeof value.seconds === "number";
}

/** An object that is not null nor an array. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** JSON that keeps NaN and ±Infinity (as `{"$float": "NaN"}`), which plain JSON turns into null. */
export function encodeJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) => typeof v === "number" && !Number.isFinite(v) ? { [FLOAT_TAG]: String(v) } : v,
  );
}

/** Reads what {@linkcode encodeJson} wrote. */
export function decodeJson(text: string): unknown {
  return JSON.parse(text, (_key, v) => {
    if (isPlainObject(v) && typeof v[FLOAT_TAG] === "string" && Object.keys(v).length === 1) {
      return Number(v[FLOAT_TAG]);
    }
    return v;
  });
}
