/**
 * `deno task test`: the test files in two suites that run at the same time, each in a `deno test`
 * process of its own, so the notebooks' kernels and browsers keep one core busy while the unit
 * tests use the other. Separate processes, not `deno test --parallel`'s threads: several tests set
 * environment variables (`DATASET`, `QUICK`, `OPENBLAS_CORETYPE`), which threads would share with
 * the kernels another thread starts.
 *
 * ```sh
 * deno task test              # both suites; every line prefixed with its suite
 * deno task test unit         # one suite (`make test-fast` runs `unit`)
 * deno task test:times        # every test file alone, one after another, slowest first
 * ```
 *
 * At the end it prints each suite's seconds and its slowest files (from `--junit-path`), and
 * exits non-zero if a suite failed.
 *
 * @module
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

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
 * The files of the `notebooks` suite: real kernels, Jupyter and Chromium. Every other test file is
 * in `unit`.
 */
export const NOTEBOOK_FILES = [
  "tests/notebooks_test.ts",
  "tests/tools/notebook_runner_test.ts",
  "tests/tools/report_test.ts",
  "tests/tools/report_browser_test.ts",
  "tests/tools/playground_browser_test.ts",
];

/** A suite: a name and its test files, relative to the project. */
export interface Suite {
  name: string;
  files: string[];
}

/**
 * Every test file under `tests/`, split into the suites.
 *
 * @returns `unit` and `notebooks`, files sorted.
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
  const missing = NOTEBOOK_FILES.filter((file) => !all.includes(file));
  if (missing.length > 0) throw new Deno.errors.NotFound(`Cannot find test files ${missing}`);
  return [
    { name: "unit", files: all.filter((file) => !NOTEBOOK_FILES.includes(file)) },
    { name: "notebooks", files: [...NOTEBOOK_FILES].sort() },
  ];
}

/** How one `deno test` process went. */
interface SuiteRun {
  name: string;
  ok: boolean;
  seconds: number;
  /** Seconds of each file's tests (not its loading), from the JUnit report. */
  files: Map<string, number>;
}

async function runSuite(suite: Suite, width: number, junitDir: string): Promise<SuiteRun> {
  const junit = join(junitDir, `${suite.name}.xml`);
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", ...TEST_PERMISSIONS, `--junit-path=${junit}`, ...suite.files],
    cwd: PROJECT_ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const prefix = `${suite.name.padEnd(width)} | `;
  await Promise.all([prefixLines(child.stdout, prefix), prefixLines(child.stderr, prefix)]);
  const { success } = await child.status;
  const seconds = (performance.now() - started) / 1000;
  const files = await Deno.readTextFile(junit).then(fileSeconds, () => new Map());
  return { name: suite.name, ok: success, seconds, files };
}

/** Copies a stream to standard output line by line, each line prefixed. */
async function prefixLines(stream: ReadableStream<Uint8Array>, prefix: string): Promise<void> {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let pending = "";
  for await (const bytes of stream) {
    const lines = (pending + decoder.decode(bytes, { stream: true })).split("\n");
    pending = lines.pop()!;
    if (lines.length > 0) {
      await Deno.stdout.write(encoder.encode(lines.map((l) => prefix + l + "\n").join("")));
    }
  }
  if (pending) await Deno.stdout.write(encoder.encode(prefix + pending + "\n"));
}

/** Sums the top-level test cases' seconds per file of a JUnit report (steps are inside them). */
export function fileSeconds(xml: string): Map<string, number> {
  const seconds = new Map<string, number>();
  for (const suite of xml.matchAll(/<testsuite name="([^"]+)"[^>]*>([\s\S]*?)<\/testsuite>/g)) {
    const file = suite[1].replace(/^\.\//, "");
    // Steps are reported as cases named "test > step"; count only the tests themselves.
    let total = 0;
    for (const test of suite[2].matchAll(/<testcase name="([^"]*)"[^>]*time="([\d.]+)"/g)) {
      if (!test[1].includes(" &gt; ")) total += Number(test[2]);
    }
    seconds.set(file, total);
  }
  return seconds;
}

function slowest(files: Map<string, number>, count: number): string[] {
  return [...files].sort((a, b) => b[1] - a[1]).slice(0, count)
    .map(([file, seconds]) => `  ${seconds.toFixed(1).padStart(6)} s  ${file}`);
}

/** Runs the chosen suites at once and reports; the exit code says whether all passed. */
async function runSuites(names: string[]): Promise<number> {
  const all = await suites();
  const unknown = names.filter((name) => !all.some((suite) => suite.name === name));
  if (unknown.length > 0) {
    console.error(
      `Cannot run test suite "${unknown[0]}": it is not a suite, expected one of ${
        all.map((suite) => `"${suite.name}"`).join(", ")
      }`,
    );
    return 2;
  }
  const chosen = names.length === 0 ? all : all.filter((suite) => names.includes(suite.name));
  const width = Math.max(...chosen.map((suite) => suite.name.length));
  const junitDir = await Deno.makeTempDir({ prefix: "test-suites-" });
  const started = performance.now();
  try {
    const runs = await Promise.all(chosen.map((suite) => runSuite(suite, width, junitDir)));
    const total = (performance.now() - started) / 1000;
    console.log(`\ntest suites, ${total.toFixed(0)} s in all (they run at the same time):`);
    for (const run of runs) {
      console.log(
        `${run.name}: ${run.ok ? "ok" : "FAILED"} in ${run.seconds.toFixed(0)} s; slowest:`,
      );
      console.log(slowest(run.files, 5).join("\n"));
    }
    return runs.every((run) => run.ok) ? 0 : 1;
  } finally {
    await Deno.remove(junitDir, { recursive: true });
  }
}

/**
 * Runs every test file alone, one after another, and prints each file's wall seconds (its
 * process and module loading included, type checking not), slowest first: where the suites'
 * time goes.
 */
async function timeFiles(): Promise<number> {
  const rows: { file: string; suite: string; seconds: number; ok: boolean }[] = [];
  for (const suite of await suites()) {
    for (const file of suite.files) {
      const started = performance.now();
      const { success } = await new Deno.Command(Deno.execPath(), {
        // Type checking is left out: the suites check all their files once, not file by file.
        args: ["test", "--no-check", ...TEST_PERMISSIONS, file],
        cwd: PROJECT_ROOT,
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).output();
      const seconds = (performance.now() - started) / 1000;
      rows.push({ file, suite: suite.name, seconds, ok: success });
      console.error(`${seconds.toFixed(1).padStart(6)} s  ${file}${success ? "" : "  FAILED"}`);
    }
  }
  rows.sort((a, b) => b.seconds - a.seconds);
  console.log("\n| seconds | suite | file |\n| ---: | --- | --- |");
  for (const row of rows) {
    console.log(
      `| ${row.seconds.toFixed(1)} | ${row.suite} | ${row.file}${row.ok ? "" : " (FAILED)"} |`,
    );
  }
  for (const suite of new Set(rows.map((row) => row.suite))) {
    const sum = rows.filter((row) => row.suite === suite).reduce((a, row) => a + row.seconds, 0);
    console.log(`| ${sum.toFixed(1)} | ${suite} | all its files, one after another |`);
  }
  return rows.every((row) => row.ok) ? 0 : 1;
}

if (import.meta.main) {
  const args = Deno.args;
  Deno.exit(args.includes("--times") ? await timeFiles() : await runSuites(args));
}
