/**
 * Runs a notebook top to bottom on a fresh Deno kernel, headless, the way `make report` and the
 * notebook tests do: Jupyter's own `nbclient` drives the kernel and `nbconvert` writes the HTML, both
 * from Debian's `/usr/bin/python3` running `notebook_runner.py` beside this file.
 *
 * The run fails, naming the cell, when a cell throws, when an error escapes it (a throw in a timer,
 * a promise rejection nothing awaited), and when output arrives after its cell finished: that output
 * would land in the wrong cell or nowhere under Run All and `jupyter nbconvert --execute`, so every
 * output must be sent while its cell runs (`await show(x)`, see lib/notebook/jupyter.ts).
 *
 * @module
 */
import { basename, dirname, extname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cellSource, type Notebook, notebookTitle, readNotebook } from "./notebook_file.ts";
import { isQuickValue } from "../util/profile.ts";

/** The interpreter that has Jupyter installed (Debian's packages), not whichever is first on PATH. */
export const DEFAULT_PYTHON = "/usr/bin/python3";
/** Name of the Deno kernelspec (`deno jupyter --install` creates it). */
export const DEFAULT_KERNEL = "deno";
/** Per-cell timeout of the full profile: a cell may train a model for many minutes. */
export const FULL_TIMEOUT_SECONDS = 30 * 60;
/** Per-cell timeout of the quick profile (`QUICK=1`), meant to run a notebook in about a minute. */
export const QUICK_TIMEOUT_SECONDS = 5 * 60;

const INSTALL_HINT = "Run `make test`, which installs what is missing, or install it yourself";
const JUPYTER_INSTALL = "apt-get install -y python3-nbclient python3-nbconvert";
const RESULT_MARKER = "NOTEBOOK_RUNNER_RESULT ";
const MAX_TRACEBACK_LINES = 30;
const SOURCE_LINES_SHOWN = 3;
const LATE_OUTPUT_HINT =
  "Send every output while its cell runs: `await show(value)` instead of a " +
  "bare last expression, `await print(line)` instead of console.log (lib/notebook/jupyter.ts)";
/**
 * After the last cell, how long the kernel must stay quiet for the run to count as finished; output
 * that still arrives is late and fails the run (cells before the last are checked as they go).
 */
const QUIET_SECONDS = 0.5;
/** The Python side (nbclient and nbconvert): a file beside this one, so it can be read as Python. */
export const PYTHON_PROGRAM_PATH: string = fileURLToPath(
  new URL("./notebook_runner.py", import.meta.url),
);

/** Options of {@linkcode executeNotebook}. */
export interface ExecuteNotebookOptions {
  /**
   * `true` sets `QUICK=1` for the kernel, `false` removes `QUICK`; by default the kernel sees `QUICK`
   * as this process (or `env`) has it.
   */
  quick?: boolean;
  /** Seconds one cell may run; defaults to 1800 in the full profile and 300 in the quick one. */
  timeoutSeconds?: number;
  /** Where to write the executed notebook (with outputs); nothing is written by default. */
  outputPath?: string;
  /** Where to write the executed notebook as a standalone HTML page; nothing is written by default. */
  htmlPath?: string;
  /** Extra environment variables for the kernel, on top of this process's environment. */
  env?: Record<string, string>;
  /** The Python interpreter that has `nbclient` and `nbconvert`; defaults to `/usr/bin/python3`. */
  python?: string;
  /** The Jupyter kernelspec to run the notebook with; defaults to `deno`. */
  kernelName?: string;
}

/** How long one code cell took. */
export interface CellTiming {
  /** Position among all cells, markdown included, counting from 1. */
  cell: number;
  /** Position among code cells only, counting from 1 (its `In [n]` on a fresh kernel). */
  codeCell: number;
  /** The first non-blank line of the cell's source. */
  firstLine: string;
  /** Seconds from sending the cell to the kernel to its reply. */
  seconds: number;
}

/** The outcome of running a notebook. */
export interface NotebookRun {
  /** The notebook's path as given. */
  notebook: string;
  /** Its first H1, or the file name without `.ipynb`. */
  title: string;
  /** Whether the kernel ran with `QUICK=1`. */
  quick: boolean;
  /** When the run started. */
  startedAt: Date;
  /** Seconds from starting the kernel to the last cell's reply. */
  seconds: number;
  /** One entry per code cell that ran, in order. */
  cells: CellTiming[];
}

/** A cell failed (threw, timed out, or the kernel died) while running a notebook. */
export class NotebookExecutionError extends Error {
  /** The notebook's path as given. */
  notebook: string;
  /** Position of the failing cell among all cells, from 1; 0 if no cell had started. */
  cell: number;
  /** Position of the failing cell among code cells, from 1; 0 if no cell had started. */
  codeCell: number;
  /** The kernel's error name, such as `RangeError`, or `CellTimeoutError`. */
  ename: string;
  /** The kernel's error message. */
  evalue: string;
  /** The kernel's stack trace, one line per entry. */
  traceback: string[];
  /** Timings of the cells that ran, the failing one included. */
  run: NotebookRun;

  /**
   * Creates the error; the message says all of the above.
   *
   * @param message The full message.
   * @param details The fields.
   */
  constructor(
    message: string,
    details: Omit<NotebookExecutionError, keyof Error>,
  ) {
    super(message);
    this.name = "NotebookExecutionError";
    this.notebook = details.notebook;
    this.cell = details.cell;
    this.codeCell = details.codeCell;
    this.ename = details.ename;
    this.evalue = details.evalue;
    this.traceback = details.traceback;
    this.run = details.run;
  }
}

/** What the Python program prints. */
interface PythonResult {
  missing?: "module" | "kernel";
  name?: string;
  timings?: { index: number; seconds: number }[];
  seconds?: number;
  error?: { index: number | null; ename: string; evalue: string; traceback: string[] } | null;
}

/**
 * Runs a notebook top to bottom on a fresh kernel, headless, in the notebook's folder (so relative
 * imports work and the project's `deno.json` applies), with `NO_COLOR=1`. The outputs and HTML are
 * written atomically, and written even when a cell fails, so they show the error.
 *
 * @param path Path of the `.ipynb` file; it is never modified.
 * @param options Profile, timeout, where to write the outputs; see {@linkcode ExecuteNotebookOptions}.
 * @returns Per-cell timings and the total time.
 * @throws {NotebookExecutionError} If a cell fails: the message names the notebook, the cell
 * (counting all cells from 1, and counting code cells), the start of its source and the kernel's error.
 * @throws {Error} If Python, Jupyter's packages or the kernelspec are missing, saying what to install.
 * @throws {RangeError} If an option is out of range.
 *
 * @example
 * ```ts ignore
 * const run = await executeNotebook("notebooks/01_data.ipynb", {
 *   quick: true,
 *   htmlPath: "reports/01_data.html",
 * });
 * console.log(`${run.title}: ${run.seconds.toFixed(1)} s`);
 * ```
 */
export async function executeNotebook(
  path: string,
  options: ExecuteNotebookOptions = {},
): Promise<NotebookRun> {
  const { python = DEFAULT_PYTHON, kernelName = DEFAULT_KERNEL } = options;
  const notebookPath = resolve(path);
  const env = kernelEnv(options);
  const quick = isQuickValue(env.QUICK);
  const timeoutSeconds = options.timeoutSeconds ??
    (quick ? QUICK_TIMEOUT_SECONDS : FULL_TIMEOUT_SECONDS);
  if (!(timeoutSeconds > 0) || !Number.isFinite(timeoutSeconds)) {
    throw new RangeError(
      `Cannot run notebook "${path}": timeoutSeconds must be a positive number, found ${timeoutSeconds}`,
    );
  }
  for (
    const [name, target] of [["outputPath", options.outputPath], ["htmlPath", options.htmlPath]]
  ) {
    if (target !== undefined && resolve(target) === notebookPath) {
      throw new RangeError(
        `Cannot run notebook "${path}": ${name} must differ from the notebook, found "${target}"`,
      );
    }
  }

  const notebook = await readNotebook(notebookPath);
  const title = notebookTitle(notebook, { fallback: basename(path, extname(path)) });
  const job = {
    notebook: notebookPath,
    kernel: kernelName,
    timeout: timeoutSeconds,
    title,
    outputPath: options.outputPath === undefined ? null : resolve(options.outputPath),
    htmlPath: options.htmlPath === undefined ? null : resolve(options.htmlPath),
    deno: Deno.execPath(),
    marker: RESULT_MARKER,
    quietSeconds: QUIET_SECONDS,
  };
  const startedAt = new Date();
  const result = await runPython(python, job, { cwd: dirname(notebookPath), env, path });

  if (result.missing === "module") {
    throw new Error(
      `Cannot run notebooks: ${python} cannot import ${result.name}. ${INSTALL_HINT}: ${JUPYTER_INSTALL}`,
    );
  }
  if (result.missing === "kernel") {
    throw new Error(
      `Cannot run notebooks: Jupyter has no kernelspec named "${result.name}". ${INSTALL_HINT}: ` +
        "deno jupyter --install",
    );
  }
  const run: NotebookRun = {
    notebook: path,
    title,
    quick,
    startedAt,
    seconds: result.seconds ?? 0,
    cells: (result.timings ?? []).map(({ index, seconds }) => ({
      ...cellPosition(notebook, index),
      seconds,
    })),
  };
  if (result.error) throw executionError(notebook, run, result.error);
  return run;
}

/** The kernel's environment: ours, then `options.env`, then the profile and `NO_COLOR`. */
function kernelEnv(options: ExecuteNotebookOptions): Record<string, string> {
  const env: Record<string, string> = { ...Deno.env.toObject(), ...options.env, NO_COLOR: "1" };
  if (options.quick === true) env.QUICK = "1";
  if (options.quick === false) delete env.QUICK;
  return env;
}

/** Runs the Python program and returns its result line, or says what is missing. */
async function runPython(
  python: string,
  job: Record<string, unknown>,
  options: { cwd: string; env: Record<string, string>; path: string },
): Promise<PythonResult> {
  const command = new Deno.Command(python, {
    args: [PYTHON_PROGRAM_PATH, JSON.stringify(job)],
    cwd: options.cwd,
    env: options.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  let output: Deno.CommandOutput;
  try {
    output = await command.output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `Cannot run notebooks: ${python} was not found. ${INSTALL_HINT}: ${JUPYTER_INSTALL}`,
      );
    }
    throw error;
  }
  const decoder = new TextDecoder();
  const line = decoder.decode(output.stdout).split("\n").findLast((text) =>
    text.startsWith(RESULT_MARKER)
  );
  if (line === undefined) {
    const stderr = decoder.decode(output.stderr).trimEnd().split("\n").slice(-20).join("\n");
    throw new Error(
      `Cannot run notebook "${options.path}": ${python}'s exit code is ${output.code}, expected 0 ` +
        `with a result. It said:\n${stderr}`,
    );
  }
  return JSON.parse(line.slice(RESULT_MARKER.length));
}

/** Where cell `index` (from 0) sits, as a reader counts: among all cells and among code cells. */
function cellPosition(notebook: Notebook, index: number): Omit<CellTiming, "seconds"> {
  const codeCell = notebook.cells.slice(0, index + 1).filter((c) => c.cell_type === "code").length;
  const firstLine = cellSource(notebook.cells[index]).split("\n").find((l) => l.trim()) ?? "";
  return { cell: index + 1, codeCell, firstLine: firstLine.trimEnd() };
}

/** Builds the error a reader can act on without opening the notebook first. */
function executionError(
  notebook: Notebook,
  run: NotebookRun,
  error: NonNullable<PythonResult["error"]>,
): NotebookExecutionError {
  // deno-lint-ignore no-control-regex
  const traceback = error.traceback.map((line) => line.replace(/\x1b\[[0-9;]*m/g, ""));
  let trace = traceback.slice(0, MAX_TRACEBACK_LINES);
  if (traceback.length > MAX_TRACEBACK_LINES) trace.push("    …");
  if (!trace.join("\n").includes(error.evalue)) {
    trace = [`${error.ename}: ${error.evalue}`, ...trace];
  }
  if (error.ename === "LateOutputError") trace.push(LATE_OUTPUT_HINT);
  const details = { ename: error.ename, evalue: error.evalue, traceback, run };
  if (error.index === null) {
    return new NotebookExecutionError(
      `Notebook "${run.notebook}" failed before any cell ran:\n${trace.join("\n")}`,
      { ...details, notebook: run.notebook, cell: 0, codeCell: 0 },
    );
  }
  const { cell, codeCell } = cellPosition(notebook, error.index);
  const lines = cellSource(notebook.cells[error.index]).trimEnd().split("\n");
  const shown = lines.slice(0, SOURCE_LINES_SHOWN).map((line) => `    ${line.trimEnd()}`);
  if (lines.length > SOURCE_LINES_SHOWN) shown.push("    …");
  return new NotebookExecutionError(
    `Notebook "${run.notebook}" failed in cell ${cell} of ${notebook.cells.length} ` +
      `(counting all cells from 1; code cell ${codeCell}):\n${shown.join("\n")}\n${
        trace.join("\n")
      }`,
    { ...details, notebook: run.notebook, cell, codeCell },
  );
}
