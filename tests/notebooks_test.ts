/**
 * Every notebook in `notebooks/` is committed clean and runs top to bottom in the quick profile, so
 * the examples in them cannot silently break; and it shows the same outputs, each in its own cell,
 * in the tools our users run it with: Run All in a Jupyter frontend, the stock
 * `jupyter nbconvert --execute`, and classic Jupyter Notebook in Chromium. The project's runner (one
 * cell at a time, failing on late output) gives the reference; the other three reuse its sweep
 * results, so each notebook trains once.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { executeNotebook } from "../lib/tools/notebook_runner.ts";
import { PROJECT_ROOT, REPORTS_DIR } from "../lib/util/paths.ts";
import {
  ClassicNotebook,
  type PageResult,
  runAll,
  type RunAllResult,
  stockNbconvert,
} from "./notebook/frontends.ts";
import {
  type CellOutputs,
  differences,
  notebookOutputs,
  outputCounts,
} from "./notebook/outputs.ts";

const NOTEBOOKS_DIR = fileURLToPath(new URL("../notebooks/", import.meta.url));
const NOTEBOOKS = [...Deno.readDirSync(NOTEBOOKS_DIR)]
  .filter((entry) => entry.isFile && entry.name.endsWith(".ipynb"))
  .map((entry) => entry.name)
  .sort();

Deno.test("notebooks are committed without outputs and with the Deno kernelspec", async (t) => {
  assert.ok(NOTEBOOKS.length > 0, `${NOTEBOOKS_DIR} holds no .ipynb files`);
  for (const name of NOTEBOOKS) {
    await t.step(name, async () => {
      const notebook = JSON.parse(await Deno.readTextFile(join(NOTEBOOKS_DIR, name)));
      assert.equal(notebook.nbformat, 4, "nbformat");
      assert.equal(notebook.metadata?.kernelspec?.name, "deno", "metadata.kernelspec.name");
      assert.equal(notebook.metadata?.kernelspec?.language, "typescript", "kernelspec.language");
      notebook.cells.forEach((cell: Record<string, unknown>, i: number) => {
        if (cell.cell_type !== "code") return;
        assert.deepEqual(
          cell.outputs,
          [],
          `cell ${i + 1} has outputs; clear them before committing`,
        );
        assert.equal(cell.execution_count, null, `cell ${i + 1} has an execution count`);
      });
    });
  }
});

Deno.test("notebooks are formatted as deno fmt formats them", async (t) => {
  // deno.json excludes notebooks/ from `deno fmt --check`, which in Deno 2.9.6 flags every .ipynb as
  // unformatted even when formatting changes nothing. Formatting a copy and comparing bytes is exact.
  for (const name of NOTEBOOKS) {
    await t.step(name, async () => {
      const folder = await Deno.makeTempDir();
      const copy = join(folder, name);
      await Deno.copyFile(join(NOTEBOOKS_DIR, name), copy);
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["fmt", "--config", join(NOTEBOOKS_DIR, "..", "deno.json"), copy],
        env: { NO_COLOR: "1" },
      }).output();
      assert.ok(output.success, new TextDecoder().decode(output.stderr));
      const formatted = await Deno.readTextFile(copy);
      await Deno.remove(folder, { recursive: true });
      assert.ok(
        formatted === await Deno.readTextFile(join(NOTEBOOKS_DIR, name)),
        `${name} is not formatted: run \`deno task fmt:notebooks\``,
      );
    });
  }
});

/** The notebooks' bytes before anything ran them: no way of running one may change it. */
const ORIGINALS = new Map(
  NOTEBOOKS.map((name) => [name, Deno.readFileSync(join(NOTEBOOKS_DIR, name))]),
);

/** Sweep results the runner computes and the other tools reload, removed when the tests end. */
const SWEEPS = await Deno.makeTempDir({ prefix: "notebook-sweeps-" });
globalThis.addEventListener("unload", () => Deno.removeSync(SWEEPS, { recursive: true }));
const ENV = { QUICK: "1", ANN_SWEEP_DIR: SWEEPS };
/** Screenshots and the table of output counts, for a person to look at. */
const FRONTENDS_DIR = join(REPORTS_DIR, "frontends");

/**
 * At most this many notebook runs at a time. Each run is mostly one kernel on one core, and the
 * unit suite runs beside this one (`tests/suites.ts`): two keep both cores busy without starving
 * the kernels, whose outputs must still arrive in time (the display rule).
 */
const CONCURRENT_RUNS = 2;
const queue = runQueue(CONCURRENT_RUNS);

/** Runs jobs in the order they are queued, at most `limit` at a time. */
function runQueue(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(job: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await job();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** Starts a job now, marking its failure as handled: the test step that awaits it reports it. */
function started<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** Each notebook's outputs when the project's runner runs its cells one at a time. */
const reference = new Map<string, Promise<CellOutputs[]>>();

function runAlone(name: string): Promise<CellOutputs[]> {
  if (!reference.has(name)) {
    reference.set(
      name,
      started(queue(async () => {
        const folder = await Deno.makeTempDir();
        try {
          const outputPath = join(folder, name);
          // Rejects with the notebook, the cell and the kernel's error (or the late output).
          await executeNotebook(join(NOTEBOOKS_DIR, name), { quick: true, env: ENV, outputPath });
          return notebookOutputs(JSON.parse(await Deno.readTextFile(outputPath)));
        } finally {
          await Deno.remove(folder, { recursive: true });
        }
      })),
    );
  }
  return reference.get(name)!;
}

/** One server and browser for every notebook's Restart & Run All, started when first needed. */
let classic: Promise<ClassicNotebook> | undefined;
const classicNotebook = () => (classic ??= started(ClassicNotebook.start(PROJECT_ROOT, ENV)));

interface WayRuns {
  runAll: Promise<RunAllResult>;
  nbconvert: Promise<CellOutputs[]>;
  classic: Promise<PageResult>;
}
let runs: Map<string, WayRuns> | undefined;

/**
 * Every way's run of every notebook, queued at once by the first test that needs one: a way's run
 * of a notebook waits for the runner's, which trains the sweeps the others reload, so each
 * notebook trains once, and the later notebooks' reference runs overlap the earlier ones' ways.
 */
function wayRuns(): Map<string, WayRuns> {
  runs ??= new Map(NOTEBOOKS.map((name) => {
    const path = join(NOTEBOOKS_DIR, name);
    const after = <T>(job: () => Promise<T>) => started(runAlone(name).then(() => queue(job)));
    return [name, {
      runAll: after(() => runAll(path, ENV)),
      nbconvert: after(() => stockNbconvert(path, ENV)),
      classic: after(async () =>
        (await classicNotebook()).restartAndRunAll(path, screenshotPath(name))
      ),
    }];
  }));
  return runs;
}

function screenshotPath(name: string): string {
  return join(FRONTENDS_DIR, name.replace(/\.ipynb$/, ".png"));
}

/** The runs outlive single tests (they start before them), so the sanitizers stay off. */
const CONCURRENT = { sanitizeOps: false, sanitizeResources: false };

/** Records how many outputs each cell showed in each tool, in reports/frontends/outputs.md. */
async function recordCounts(name: string, tool: string, counts: number[]): Promise<void> {
  await Deno.mkdir(FRONTENDS_DIR, { recursive: true });
  const jsonPath = join(FRONTENDS_DIR, "outputs.json");
  const table: Record<string, Record<string, number[]>> = await Deno.readTextFile(jsonPath)
    .then(JSON.parse, () => ({}));
  (table[name] ??= {})[tool] = counts;
  await Deno.writeTextFile(jsonPath, JSON.stringify(table, null, 2) + "\n");
  const lines = ["# Outputs per code cell, counted in each tool (quick profile)", ""];
  for (const [notebook, tools] of Object.entries(table).sort()) {
    lines.push(`## ${notebook}`, "", "| tool | total | per code cell |", "| --- | ---: | --- |");
    for (const [which, perCell] of Object.entries(tools)) {
      lines.push(`| ${which} | ${perCell.reduce((a, b) => a + b, 0)} | ${perCell.join(" ")} |`);
    }
    lines.push("");
  }
  await Deno.writeTextFile(join(FRONTENDS_DIR, "outputs.md"), lines.join("\n"));
}

Deno.test({
  name: "notebooks run top to bottom in the quick profile, every output in its own cell",
  ...CONCURRENT,
}, async (t) => {
  assert.ok(NOTEBOOKS.length > 0, `${NOTEBOOKS_DIR} holds no .ipynb files`);
  wayRuns(); // queues the other ways' runs too, each behind its notebook's reference run
  for (const name of NOTEBOOKS) {
    await t.step(name, async () => {
      const path = join(NOTEBOOKS_DIR, name);
      const cells = await runAlone(name);
      await recordCounts(name, "runner, one cell at a time", outputCounts(cells));
      assert.ok(cells.some((cell) => cell.outputs.length > 0), `${name} showed nothing`);
      assert.deepEqual(
        await Deno.readFile(path),
        ORIGINALS.get(name),
        `running ${name} changed it`,
      );
    });
  }
});

Deno.test({
  name: "Run All (every execute request at once) gives each cell its own outputs",
  ...CONCURRENT,
}, async (t) => {
  for (const name of NOTEBOOKS) {
    await t.step(name, async () => {
      const expected = await runAlone(name);
      const result = await wayRuns().get(name)!.runAll;
      await recordCounts(name, "Run All client", outputCounts(result.cells));
      assert.equal(result.unknown, 0, "outputs whose parent is no cell's request");
      assert.deepEqual(differences(expected, result.cells, "Run All"), []);
    });
  }
});

Deno.test({
  name: "stock jupyter nbconvert --execute keeps every cell's outputs",
  ...CONCURRENT,
}, async (t) => {
  for (const name of NOTEBOOKS) {
    await t.step(name, async () => {
      const expected = await runAlone(name);
      const cells = await wayRuns().get(name)!.nbconvert;
      await recordCounts(name, "jupyter nbconvert --execute", outputCounts(cells));
      assert.deepEqual(differences(expected, cells, "nbconvert"), []);
    });
  }
});

Deno.test({
  name: "classic Jupyter Notebook in Chromium shows every cell's outputs after Restart & Run All",
  ...CONCURRENT,
  fn: async (t) => {
    try {
      for (const name of NOTEBOOKS) {
        await t.step(name, async () => {
          const expected = await runAlone(name);
          const screenshot = screenshotPath(name);
          const page = await wayRuns().get(name)!.classic;
          await recordCounts(name, "classic Notebook page (DOM)", page.domCounts);
          assert.ok(page.finished, `${name}: not every cell ran; see ${screenshot}`);
          assert.deepEqual(page.domCounts, outputCounts(expected), `output areas in the page`);
          assert.deepEqual(differences(expected, page.cells, "the Notebook page"), []);
        });
      }
    } finally {
      // Every page has closed (each step awaited its run); a run that failed early may not have.
      await Promise.allSettled([...wayRuns().values()].map((run) => run.classic));
      await classic?.then((notebook) => notebook.close(), () => {});
    }
  },
});
