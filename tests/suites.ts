/**
 * `deno task test`: every test file in a `deno test` process of its own, as many at a time as the
 * machine has cores, the longest first, each file's report printed whole when it ends.
 *
 * Why not one `deno test`: it runs its files one after another on one core (a notebook run keeps
 * one core busy, and the other would idle), and `deno test --parallel` runs them as threads of
 * one process, which share environment variables that several tests set (`DATASET`, `QUICK`,
 * `OPENBLAS_CORETYPE`) with the kernels other threads start. A process per file costs what a
 * module costs in `deno test` anyway (about 0.3 s for its isolate); types are checked once, up
 * front, for all of them.
 *
 * ```sh
 * deno task test               # every file: the unit tests and the integration tests
 * deno task test unit          # the unit tests only (`make test-fast`): one process each, no other programs
 * deno task test integration   # the tests that start other programs: kernels, Jupyter, Chromium, CLIs
 * deno task test:times         # every file alone, one after another: where the time goes
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { PROJECT_ROOT, REPORTS_DIR } from "../lib/util/paths.ts";

/** The permissions the tests need (one list, for every way of running them). */
export const TEST_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--allow-ffi",
  "--allow-run",
  "--allow-net=127.0.0.1",
];

/**
 * The files of the `integration` suite: tests that start other programs and wait for them (Deno
 * kernels, Jupyter, Chromium, the CLI, processes that race on one folder, OpenBLAS loaded once per
 * core in fresh processes). Every other test file is in `unit`.
 */
export const INTEGRATION_FILES = [
  "tests/backend/fit_core_test.ts",
  "tests/model/checkpoint_test.ts",
  "tests/train/sweep_test.ts",
  "tests/tools/train_cli_test.ts",
  "tests/notebooks_test.ts",
  "tests/notebook/flush_kernel_test.ts",
  "tests/tools/notebook_runner_test.ts",
  "tests/tools/report_test.ts",
  "tests/tools/report_browser_test.ts",
  "tests/tools/playground_browser_test.ts",
  "tests/tools/lab_browser_test.ts",
];

/** Where each file's seconds of the last run are kept, to start the longest first next time. */
const TIMES_PATH = join(REPORTS_DIR, "test-times.json");

/** A suite: a name and its test files, relative to the project. */
export interface Suite {
  name: string;
  files: string[];
}

/**
 * Every test file under `tests/`, split into the suites.
 *
 * @returns `unit` and `integration`, files sorted.
 */
export async function suites(): Promise<Suite[]> {
  const all: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(join(PROJECT_ROOT, dir))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (/_test\.ts$/.test(entry.name)) all.push(path);
    }
  };
  await walk("tests");
  all.sort();
  const missing = INTEGRATION_FILES.filter((file) => !all.includes(file));
  if (missing.length > 0) {
    throw new Deno.errors.NotFound(
      `Cannot find test files ${missing.map((f) => `"${f}"`).join(", ")}: INTEGRATION_FILES in ` +
        "tests/suites.ts names them, expected them under tests/",
    );
  }
  return [
    { name: "unit", files: all.filter((file) => !INTEGRATION_FILES.includes(file)) },
    { name: "integration", files: [...INTEGRATION_FILES].sort() },
  ];
}

/**
 * The order to start files in: longest first by the last run's seconds; files never timed go
 * first (the notebook suite's before the others, being the longest), largest file first.
 *
 * @param files The files.
 * @param seconds Seconds of each file in the last run.
 * @param sizes Bytes of each file.
 * @returns The files, reordered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const seconds = new Map([["a", 1], ["b", 9]]);
 * const sizes = new Map([["a", 10], ["b", 10], ["c", 5], ["tests/notebooks_test.ts", 1]]);
 * assert.deepEqual(
 *   startOrder(["a", "b", "c", "tests/notebooks_test.ts"], seconds, sizes),
 *   ["tests/notebooks_test.ts", "c", "b", "a"],
 * );
 * ```
 */
export function startOrder(
  files: readonly string[],
  seconds: ReadonlyMap<string, number>,
  sizes: ReadonlyMap<string, number>,
): string[] {
  const rank = (file: string): [number, number, number] => {
    const known = seconds.get(file);
    if (known !== undefined) return [2, -known, 0];
    return [INTEGRATION_FILES.includes(file) ? 0 : 1, -(sizes.get(file) ?? 0), 0];
  };
  return [...files].sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0] - y[0] || x[1] - y[1] || a.localeCompare(b);
  });
}

/** How one file's process went. */
interface FileRun {
  file: string;
  ok: boolean;
  seconds: number;
  /** Its report: standard output and error, as they came. */
  output: string;
  /** `deno test`'s own count line, e.g. `ok | 12 passed | 0 failed (3s)`. */
  summary: string;
}

async function runFile(file: string, check: boolean): Promise<FileRun> {
  const started = performance.now();
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["test", ...(check ? [] : ["--no-check"]), ...TEST_PERMISSIONS, file],
    cwd: PROJECT_ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  const output = decoder.decode(stdout) + decoder.decode(stderr);
  const summary = output.match(/^(ok|FAILED) \| .*$/m)?.[0] ?? "no summary (did it crash?)";
  return { file, ok: success, seconds: (performance.now() - started) / 1000, output, summary };
}

/** Runs `jobs` files at a time from the list, calling `done` as each ends. */
async function pool(
  files: readonly string[],
  jobs: number,
  run: (file: string) => Promise<FileRun>,
  done: (result: FileRun) => void,
): Promise<FileRun[]> {
  const results: FileRun[] = [];
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const result = await run(files[next++]);
      results.push(result);
      done(result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));
  return results;
}

async function readTimes(): Promise<Map<string, number>> {
  const text = await Deno.readTextFile(TIMES_PATH).catch(() => "{}");
  try {
    return new Map(
      Object.entries(JSON.parse(text)).filter(([, v]) => typeof v === "number"),
    ) as Map<
      string,
      number
    >;
  } catch {
    return new Map(); // a torn file from an interrupted run: start from the sizes
  }
}

function table(results: FileRun[], count: number): string {
  return [...results].sort((a, b) => b.seconds - a.seconds).slice(0, count)
    .map((r) => `  ${r.seconds.toFixed(1).padStart(6)} s  ${r.file}${r.ok ? "" : "  FAILED"}`)
    .join("\n");
}

/** Runs the chosen suites' files and reports; the exit code says whether all passed. */
async function runSuites(names: string[]): Promise<number> {
  const all = await suites();
  const unknown = names.find((name) => !all.some((suite) => suite.name === name));
  if (unknown !== undefined) {
    console.error(
      `Cannot run test suite "${unknown}": it is not a suite, expected one of ${
        all.map((suite) => `"${suite.name}"`).join(", ")
      }`,
    );
    return 2;
  }
  const files = all.filter((suite) => names.length === 0 || names.includes(suite.name))
    .flatMap((suite) => suite.files);
  const started = performance.now();
  // Types once for every file (and lib/ through them), rather than once a process.
  const check = await new Deno.Command(Deno.execPath(), {
    args: ["check", ...files],
    cwd: PROJECT_ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  if (!check.success) {
    await Deno.stderr.write(check.stderr);
    return 1;
  }
  const times = await readTimes();
  const sizes = new Map(
    await Promise.all(
      files.map(async (f) => [f, (await Deno.stat(join(PROJECT_ROOT, f))).size] as const),
    ),
  );
  const jobs = Number(Deno.env.get("TEST_JOBS") ?? navigator.hardwareConcurrency);
  console.log(`${files.length} test files, ${jobs} at a time\n`);
  const encoder = new TextEncoder();
  const results = await pool(
    startOrder(files, times, sizes),
    jobs,
    (f) => runFile(f, false),
    (r) => {
      const text = r.ok
        ? `${r.summary.replace(/^ok/, "ok    ")}  ${r.file} (${r.seconds.toFixed(1)} s)\n`
        : `\n${"=".repeat(20)} ${r.file} FAILED ${"=".repeat(20)}\n${r.output}\n`;
      Deno.stdout.writeSync(encoder.encode(text));
    },
  );
  const total = (performance.now() - started) / 1000;
  await Deno.mkdir(REPORTS_DIR, { recursive: true });
  for (const r of results) times.set(r.file, r.seconds);
  await Deno.writeTextFile(TIMES_PATH, JSON.stringify(Object.fromEntries(times), null, 2) + "\n");

  const failed = results.filter((r) => !r.ok);
  const passed = (r: FileRun) => Number(r.summary.match(/(\d+) passed/)?.[1] ?? 0);
  console.log(
    `\n${failed.length === 0 ? "ok" : "FAILED"}: ${results.length} files, ` +
      `${
        results.reduce((n, r) => n + passed(r), 0)
      } tests passed, ${failed.length} files failed, ` +
      `${total.toFixed(0)} s. Slowest files:\n${table(results, 8)}`,
  );
  if (failed.length > 0) console.log(`\nFailed: ${failed.map((r) => r.file).join(", ")}`);
  return failed.length === 0 ? 0 : 1;
}

/**
 * Runs every test file alone, one after another, and prints each file's wall seconds (its
 * process and module loading included, type checking not), slowest first: where the time goes.
 */
async function timeFiles(): Promise<number> {
  const rows: { file: string; suite: string; run: FileRun }[] = [];
  for (const suite of await suites()) {
    for (const file of suite.files) {
      const run = await runFile(file, false);
      rows.push({ file, suite: suite.name, run });
      console.error(`${run.seconds.toFixed(1).padStart(6)} s  ${file}${run.ok ? "" : "  FAILED"}`);
    }
  }
  rows.sort((a, b) => b.run.seconds - a.run.seconds);
  console.log("\n| seconds | suite | file |\n| ---: | --- | --- |");
  for (const { file, suite, run } of rows) {
    console.log(`| ${run.seconds.toFixed(1)} | ${suite} | ${file}${run.ok ? "" : " (FAILED)"} |`);
  }
  for (const suite of new Set(rows.map((row) => row.suite))) {
    const sum = rows.filter((row) => row.suite === suite).reduce(
      (a, row) => a + row.run.seconds,
      0,
    );
    console.log(`| ${sum.toFixed(1)} | ${suite} | all its files, one after another |`);
  }
  return rows.every((row) => row.run.ok) ? 0 : 1;
}

if (import.meta.main) {
  const args = Deno.args;
  Deno.exit(args.includes("--times") ? await timeFiles() : await runSuites(args));
}
