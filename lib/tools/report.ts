/**
 * `deno task report`: runs every notebook in `notebooks/` top to bottom on a fresh kernel and writes
 * `reports/<name>.html` for each and `reports/index.html` linking them. Executed outputs live only in
 * `reports/`; the notebooks themselves are never written.
 *
 * ```sh
 * deno task report                      # every notebook, full profile
 * QUICK=1 deno task report 01_data      # one notebook, quick profile
 * deno task report --timeout 7200       # allow two hours per cell
 * ```
 *
 * @module
 */
import { basename, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { notebookSummary, notebookTitle, readNotebook } from "./notebook_file.ts";
import { executeNotebook, NotebookExecutionError } from "./notebook_runner.ts";
import { projectPath, REPORTS_DIR } from "../util/paths.ts";
import { isQuick } from "../util/profile.ts";
import { datasetTitle } from "../data/dataset.ts";
import { writeAtomically } from "../util/atomic.ts";
import { escapeHtml } from "../notebook/display.ts";
import { trainedModelDir } from "../model/checkpoint.ts";
import { LAB_FILE, writeReportLab } from "./lab.ts";
import { PLAYGROUND_FILE, writeReportPlayground } from "./playground.ts";

/** Folder of the notebooks `deno task report` runs. */
export const NOTEBOOKS_DIR: string = projectPath("notebooks");

/** What the index says about one notebook; `reports/index.json` keeps these between runs. */
export interface ReportEntry {
  /** File name, such as `01_data.ipynb`. */
  notebook: string;
  /** Its first H1. */
  title: string;
  /** Its first blockquote, as markdown. */
  summary: string;
  /** File name of its HTML report, beside the index. */
  html: string;
  /** `"not run"` for a notebook no run has reached yet. */
  status: "ok" | "failed" | "not run";
  /** ISO time the run started. */
  ranAt?: string;
  /** Seconds the run took. */
  seconds?: number;
  /** `QUICK=1` or not. */
  profile?: "quick" | "full";
  /** The data it ran on, from `DATASET` (e.g. `"Fashion-MNIST"`); absent means MNIST. */
  dataset?: string;
  /** For a failed run: the cell and the error, on one line. */
  failure?: string;
}

/** Options of {@linkcode buildReports}. */
export interface BuildReportsOptions {
  /** Where the notebooks are; defaults to `notebooks/`. */
  notebooksDir?: string;
  /** Where to write HTML; defaults to `reports/`. */
  reportsDir?: string;
  /** Notebooks to run (`01_data` or `01_data.ipynb`); defaults to all of them. */
  names?: string[];
  /** Quick profile; defaults to `QUICK=1` in the environment. */
  quick?: boolean;
  /** Per-cell timeout in seconds; defaults to the runner's (30 min full, 5 min quick). */
  timeoutSeconds?: number;
  /** Receives progress text, one line per notebook; defaults to standard output. */
  write?: (text: string) => void;
  /** Model folder for `playground.html` (see lib/tools/playground.ts); without it none is written. */
  playgroundModelDir?: string;
  /** Also write the learning-rate lab, `lab.html` (see lib/tools/lab.ts); default `false`. */
  lab?: boolean;
}

/** The outcome of {@linkcode buildReports}. */
export interface ReportResult {
  /** One entry per notebook in the folder, in name order. */
  entries: ReportEntry[];
  /** The errors of the notebooks that failed in this run. */
  failures: NotebookExecutionError[];
}

/**
 * Runs notebooks in name order, each on a fresh kernel, writing `<name>.html` for each (also for a
 * failed one, showing the error) and then `index.html` and `index.json`. A failure does not stop
 * the next notebook.
 *
 * @param options Which notebooks, where, and the profile; see {@linkcode BuildReportsOptions}.
 * @returns The index entries and this run's failures.
 * @throws {RangeError} If a name matches no notebook.
 * @throws {Error} If a notebook cannot be run at all (Jupyter missing, say).
 *
 * @example
 * ```ts ignore
 * const { failures } = await buildReports({ names: ["01_data"], quick: true });
 * ```
 */
export async function buildReports(options: BuildReportsOptions = {}): Promise<ReportResult> {
  const {
    notebooksDir = NOTEBOOKS_DIR,
    reportsDir = REPORTS_DIR,
    quick = isQuick(),
    timeoutSeconds,
    write = (text: string) => Deno.stdout.writeSync(new TextEncoder().encode(text)),
  } = options;
  const available = await listNotebooks(notebooksDir);
  const selected = selectNotebooks(available, options.names, notebooksDir);
  const previous = await readPreviousEntries(join(reportsDir, "index.json"));
  await Deno.mkdir(reportsDir, { recursive: true });

  const entries = new Map<string, ReportEntry>();
  for (const notebook of available) {
    const source = await readNotebook(join(notebooksDir, notebook));
    const stem = basename(notebook, ".ipynb");
    entries.set(notebook, {
      notebook,
      title: notebookTitle(source, { fallback: stem }),
      summary: notebookSummary(source),
      html: `${stem}.html`,
      status: "not run",
    });
  }
  // Notebooks not picked this time keep their last result, if their report is still there.
  for (const old of previous) {
    const entry = entries.get(old.notebook);
    if (entry && old.status !== "not run" && await exists(join(reportsDir, entry.html))) {
      entries.set(old.notebook, { ...old, title: entry.title, summary: entry.summary });
    }
  }

  const failures: NotebookExecutionError[] = [];
  const profile = quick ? "quick" : "full";
  const dataset = datasetTitle();
  const width = Math.max(...selected.map((name) => name.length));
  for (const notebook of selected) {
    const entry = entries.get(notebook)!;
    const htmlPath = join(reportsDir, entry.html);
    write(`${notebook.padEnd(width)}  ${profile}  ${dataset === "MNIST" ? "" : `${dataset}  `}`);
    const ranAt = new Date().toISOString();
    try {
      const run = await executeNotebook(displayPath(join(notebooksDir, notebook)), {
        quick,
        timeoutSeconds,
        htmlPath,
      });
      Object.assign(entry, { status: "ok", ranAt, seconds: run.seconds, profile, dataset });
      delete entry.failure;
      write(`ok      ${formatSeconds(run.seconds).padStart(8)}  ${displayPath(htmlPath)}\n`);
    } catch (error) {
      if (!(error instanceof NotebookExecutionError)) throw error;
      failures.push(error);
      const where = error.cell === 0
        ? "before any cell"
        : `cell ${error.cell} (code cell ${error.codeCell})`;
      const failure = `${where}: ${error.ename}: ${error.evalue.split("\n")[0]}`;
      Object.assign(entry, {
        status: "failed",
        ranAt,
        seconds: error.run.seconds,
        profile,
        dataset,
        failure,
      });
      write(`FAILED  ${formatSeconds(error.run.seconds).padStart(8)}  ${failure}\n`);
    }
    await writeIndex(reportsDir, [...entries.values()]);
  }
  if (options.playgroundModelDir) {
    write(await writeReportPlayground(options.playgroundModelDir, reportsDir));
  }
  if (options.lab) write(await writeReportLab(reportsDir));
  await writeIndex(reportsDir, [...entries.values()]);
  return { entries: [...entries.values()], failures };
}

/**
 * The index page: one row per notebook with its title (linking its report), summary, when it ran,
 * how long it took, the profile, and whether it failed.
 *
 * @param entries One per notebook, in the order to show them.
 * @param options.generatedAt When the page is made.
 * @param options.playground Href of the playground page to link, if there is one.
 * @param options.lab Href of the learning-rate lab to link, if there is one.
 * @returns A standalone HTML page.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const html = renderIndex([{ notebook: "01_a.ipynb", title: "A <b>", summary: "Learn `x`.",
 *   html: "01_a.html", status: "ok", ranAt: "2025-01-02T03:04:05Z", seconds: 61, profile: "quick" }]);
 * assert.match(html, /<a href="01_a.html">A &lt;b&gt;<\/a>/);
 * assert.match(html, /Learn <code>x<\/code>\./);
 * ```
 */
export function renderIndex(
  entries: ReportEntry[],
  options: { generatedAt?: Date; playground?: string; lab?: string } = {},
): string {
  const { generatedAt = new Date() } = options;
  const lab = options.lab === undefined
    ? ""
    : `\n  <p><a href="${
      escapeHtml(options.lab)
    }">Learning-rate lab</a>: train the network at several rates side by side, live, in your browser.</p>`;
  const playground = options.playground === undefined
    ? ""
    : `\n  <p><a href="${
      escapeHtml(options.playground)
    }">Playground</a>: draw a digit and watch the trained model's ten probabilities.</p>`;
  const failed = entries.filter((entry) => entry.status === "failed").length;
  const rows = entries.map((entry) => {
    const kind = entry.status.replace(" ", "-");
    const meta = [`<span class="badge badge-${kind}">${entry.status}</span>`];
    if (entry.failure) meta.push(`<span class="failure">${escapeHtml(entry.failure)}</span>`);
    if (entry.ranAt) meta.push(`ran ${formatTime(entry.ranAt)}`);
    if (entry.seconds !== undefined) {
      const data = entry.dataset && entry.dataset !== "MNIST" ? `, ${entry.dataset}` : "";
      meta.push(`took ${formatSeconds(entry.seconds)}, ${entry.profile} profile${data}`);
    }
    const title = entry.status === "not run"
      ? escapeHtml(entry.title)
      : `<a href="${escapeHtml(entry.html)}">${escapeHtml(entry.title)}</a>`;
    return `    <tr class="row-${kind}">
      <td><h2>${title}</h2><p class="file">${escapeHtml(entry.notebook)}</p>
        <p>${inlineMarkdown(entry.summary)}</p></td>
      <td class="meta">${meta.map((line) => `<div>${line}</div>`).join("")}</td>
    </tr>`;
  });
  const summary = `${entries.length} notebook${entries.length === 1 ? "" : "s"}` +
    (failed ? `, <strong>${failed} failed</strong>` : "");
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Notebook reports</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; color: #222; max-width: 60rem; margin: 2rem auto;
      padding: 0 1rem; }
    table { border-collapse: collapse; width: 100%; }
    td { border-top: 1px solid #ddd; padding: 0.9rem 0.5rem; vertical-align: top; }
    h2 { font-size: 1.15rem; margin: 0; }
    a { color: #0b5cad; text-decoration: none; }
    a:hover { text-decoration: underline; }
    p { margin: 0.2rem 0; }
    .file, .meta, footer { color: #666; font-size: 0.875rem; }
    .meta { white-space: nowrap; width: 14rem; }
    .badge { border-radius: 0.25rem; padding: 0 0.4rem; font-weight: 600; color: white; }
    .badge-ok { background: #2e7d32; }
    .badge-failed { background: #c62828; }
    .badge-not-run { background: #888; }
    .row-failed { background: #fff4f4; }
    .failure { white-space: normal; color: #c62828; }
    code { background: #f3f3f3; padding: 0 0.2rem; border-radius: 0.2rem; }
  </style>
</head>
<body>
  <h1>Notebook reports</h1>
  <p>${summary}; each report is a notebook executed top to bottom on a fresh kernel.</p>${playground}${lab}
  <table>
${rows.join("\n")}
  </table>
  <footer><p>Generated ${formatTime(generatedAt.toISOString())}.</p></footer>
</body>
</html>
`;
}

/** The `.ipynb` files of a folder, in name order. */
async function listNotebooks(folder: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    if (entry.isFile && entry.name.endsWith(".ipynb")) names.push(entry.name);
  }
  return names.sort();
}

/** Resolves `01_data`, `01_data.ipynb` or `notebooks/01_data.ipynb` to file names. */
function selectNotebooks(
  available: string[],
  names: string[] | undefined,
  folder: string,
): string[] {
  if (names === undefined || names.length === 0) return available;
  return names.map((name) => {
    const file = basename(name).endsWith(".ipynb") ? basename(name) : `${basename(name)}.ipynb`;
    if (!available.includes(file)) {
      throw new RangeError(
        `Cannot run notebook "${name}": it is missing from ${
          displayPath(folder)
        }, expected one of ${available.join(", ") || "(none)"}`,
      );
    }
    return file;
  });
}

async function readPreviousEntries(path: string): Promise<ReportEntry[]> {
  try {
    return JSON.parse(await Deno.readTextFile(path)).entries ?? [];
  } catch {
    return []; // no index yet, or an unreadable one: start afresh
  }
}

async function writeIndex(folder: string, entries: ReportEntry[]): Promise<void> {
  const playground = await exists(join(folder, PLAYGROUND_FILE)) ? PLAYGROUND_FILE : undefined;
  const lab = await exists(join(folder, LAB_FILE)) ? LAB_FILE : undefined;
  await writeAtomically(join(folder, "index.html"), renderIndex(entries, { playground, lab }));
  await writeAtomically(
    join(folder, "index.json"),
    JSON.stringify({ entries }, null, 2) + "\n",
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Enough markdown for a summary: `code`, **strong**, *emphasis* and [links](url). */
function inlineMarkdown(text: string): string {
  return text.split(/(`[^`]+`)/).map((part, i) =>
    i % 2 === 1 ? `<code>${escapeHtml(part.slice(1, -1))}</code>` : escapeHtml(part)
      .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
      .replace(/\*([^*]+)\*/g, "<em>$1</em>")
      .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '<a href="$2">$1</a>')
  ).join("");
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

function formatTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

function displayPath(path: string): string {
  const relativePath = relative(Deno.cwd(), path);
  return relativePath.startsWith("..") ? path : relativePath;
}

/** `deno task report [--timeout SECONDS] [NOTEBOOK …]`; returns the exit code. */
async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { timeout: { type: "string" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(
      "Usage: [QUICK=1] deno task report [--timeout SECONDS_PER_CELL] [NOTEBOOK …]\n" +
        "Runs notebooks/*.ipynb (or the ones named) and writes reports/<name>.html and reports/index.html.",
    );
    return 0;
  }
  const timeoutSeconds = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutSeconds !== undefined && !(timeoutSeconds > 0)) {
    throw new RangeError(
      `Cannot run the reports: --timeout is ${
        JSON.stringify(values.timeout)
      }, expected a positive number of seconds`,
    );
  }
  const { entries, failures } = await buildReports({
    names: positionals,
    timeoutSeconds,
    playgroundModelDir: trainedModelDir(),
    lab: true,
  });
  const index = displayPath(join(REPORTS_DIR, "index.html"));
  if (entries.length === 0) {
    console.error(`No notebooks in ${displayPath(NOTEBOOKS_DIR)}; wrote an empty ${index}.`);
    return 1;
  }
  if (failures.length === 0) {
    console.log(`Wrote ${index} (${entries.length} notebooks).`);
    return 0;
  }
  for (const failure of failures) console.error(`\n${failure.message}`);
  const names = failures.map((f) => `${basename(f.notebook)} (cell ${f.cell})`).join(", ");
  console.error(`\n${failures.length} notebook(s) failed: ${names}. Wrote ${index}.`);
  return 1;
}

if (import.meta.main) {
  try {
    Deno.exitCode = await main(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    Deno.exitCode = 1;
  }
}
