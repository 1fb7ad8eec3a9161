import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  executeNotebook,
  NotebookExecutionError,
  PYTHON_PROGRAM_PATH,
} from "../../lib/tools/notebook_runner.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));
const PASSING = join(FIXTURES, "passing.ipynb");
const FAILING = join(FIXTURES, "failing.ipynb");
const JUPYTER_TS = fileURLToPath(new URL("../../lib/notebook/jupyter.ts", import.meta.url));
const FAILURE_MESSAGE = "Fixture failure: the third cell throws on purpose";

interface RawCell {
  cell_type: string;
  source: string[];
  outputs?: { output_type: string; text?: string[]; ename?: string }[];
}

async function readCells(path: string): Promise<RawCell[]> {
  return JSON.parse(await Deno.readTextFile(path)).cells;
}

/** Positions (from 1) of the code cells, read straight from the file. */
async function codeCellPositions(path: string): Promise<number[]> {
  return (await readCells(path)).flatMap((cell, i) => cell.cell_type === "code" ? [i + 1] : []);
}

function streamText(cell: RawCell): string {
  return (cell.outputs ?? []).flatMap((output) => output.text ?? []).join("");
}

/** Writes a one-off notebook of code cells into a temporary folder. */
async function tempNotebook(folder: string, ...sources: string[]): Promise<string> {
  const path = join(folder, "temp.ipynb");
  const cells = sources.map((source) => ({
    cell_type: "code",
    execution_count: null,
    metadata: {},
    outputs: [],
    source,
  }));
  const metadata = { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } };
  await Deno.writeTextFile(
    path,
    JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata, cells }),
  );
  return path;
}

// Each run starts a kernel (about 2 s), so one run answers several questions where it can.

Deno.test("executeNotebook() runs a notebook, times each code cell, writes HTML with the SVG intact and leaves the source alone", async () => {
  const folder = await Deno.makeTempDir();
  const outputPath = join(folder, "executed.ipynb");
  const htmlPath = join(folder, "sub", "passing.html");
  const before = await Deno.readFile(PASSING);
  const run = await executeNotebook(PASSING, { quick: true, outputPath, htmlPath });

  assert.equal(run.quick, true);
  assert.equal(run.title, "Fixture: a passing notebook");
  assert.deepEqual(run.cells.map((c) => c.cell), await codeCellPositions(PASSING));
  assert.deepEqual(run.cells.map((c) => c.codeCell), run.cells.map((_, i) => i + 1));
  assert.equal(run.cells[0].firstLine, 'import { PROJECT_ROOT } from "../../lib/util/paths.ts";');
  for (const cell of run.cells) assert.ok(cell.seconds >= 0 && cell.seconds < run.seconds);
  const sum = run.cells.reduce((total, cell) => total + cell.seconds, 0);
  assert.ok(run.seconds >= sum, `total ${run.seconds} s < sum of cells ${sum} s`);
  const printed = (await readCells(outputPath)).map(streamText).join("");
  assert.match(printed, /profile: quick/);
  assert.match(printed, /cwd is tests\/fixtures: true/);
  assert.deepEqual(await Deno.readFile(PASSING), before, "the notebook changed");

  const html = await Deno.readTextFile(htmlPath);
  assert.match(html, /<title>Fixture: a passing notebook<\/title>/);
  assert.match(html, /profile: quick/);
  const svg = /<svg aria-label="fixture chart of squares".*?<\/svg>/s.exec(html)?.[0];
  assert.ok(svg, "the chart's <svg> is missing from the HTML");
  // What nbconvert's own sanitizer strips from SVG outputs, leaving an empty chart:
  assert.match(svg, /viewBox="0 0 480 240"/);
  assert.match(svg, /<path [^>]*d="M/);
  assert.match(svg, /<g /);
  assert.doesNotMatch(html, /require(\.min)?\.js/);
  assert.deepEqual([...Deno.readDirSync(join(folder, "sub"))].map((e) => e.name), ["passing.html"]);
  await Deno.remove(folder, { recursive: true });
});

Deno.test("executeNotebook() rejects naming the notebook, cell 3 and the error", async () => {
  const folder = await Deno.makeTempDir();
  const outputPath = join(folder, "failing.ipynb");
  const htmlPath = join(folder, "failing.html");
  const error = await executeNotebook(FAILING, { quick: true, outputPath, htmlPath }).then(
    () => assert.fail("the failing fixture ran without an error"),
    (error) => error,
  );

  assert.ok(error instanceof NotebookExecutionError, String(error));
  assert.equal(error.cell, 3);
  assert.equal(error.codeCell, 2);
  assert.equal(error.ename, "RangeError");
  assert.equal(error.evalue, FAILURE_MESSAGE);
  assert.match(error.message, /failing\.ipynb/);
  assert.match(error.message, /cell 3 of 4 \(counting all cells from 1; code cell 2\)/);
  assert.ok(error.message.includes("function explode(): never {"), error.message);
  assert.ok(error.message.includes(`RangeError: ${FAILURE_MESSAGE}`), error.message);
  assert.match(error.message, /at explode/);
  assert.deepEqual(error.run.cells.map((c) => c.cell), [2, 3]);

  // The outputs up to the failure are still written, and the cell after it never ran.
  const cells = await readCells(outputPath);
  assert.equal(streamText(cells[1]), "answer: 42\n");
  assert.equal(cells[2].outputs?.[0].ename, "RangeError");
  assert.deepEqual(cells[3].outputs, []);
  assert.ok((await Deno.readTextFile(htmlPath)).includes(FAILURE_MESSAGE));
  await Deno.remove(folder, { recursive: true });
});

Deno.test("executeNotebook() never writes to the notebook it runs", async (t) => {
  for (const option of ["outputPath", "htmlPath"]) {
    await t.step(`${option} equal to the notebook is refused`, async () => {
      await assert.rejects(
        executeNotebook(PASSING, { [option]: PASSING }),
        (error: Error) => error instanceof RangeError && error.message.includes(option),
      );
    });
  }
});

Deno.test("executeNotebook() with quick: false removes QUICK from the kernel's environment", async () => {
  const folder = await Deno.makeTempDir();
  const outputPath = join(folder, "executed.ipynb");
  const run = await executeNotebook(PASSING, { quick: false, env: { QUICK: "1" }, outputPath });
  assert.equal(run.quick, false);
  assert.match((await readCells(outputPath)).map(streamText).join(""), /profile: full/);
  await Deno.remove(folder, { recursive: true });
});

Deno.test("executeNotebook() passes the environment on and keeps every awaited output in its own cell", async () => {
  // Printed lines, displays and a display updated in place, each flushed before its cell ends.
  const folder = await Deno.makeTempDir();
  const outputCells = Array.from(
    { length: 12 },
    (_, i) =>
      `import { flush, print, show } from "${JUPYTER_TS}";\n` +
      `await print("log ${i}");\nawait show("result ${i}");\n` +
      `await Deno.jupyter.display({ "text/plain": "slot ${i}" }, { raw: true, display_id: "s${i}" });\n` +
      `await Deno.jupyter.display({ "text/plain": "slot ${i} updated" }, ` +
      `{ raw: true, display_id: "s${i}", update: true });\nawait flush();`,
  );
  const path = await tempNotebook(
    folder,
    `import { print } from "${JUPYTER_TS}";\n` +
      'await print([Deno.env.get("RUNNER_TEST"), Deno.env.get("QUICK"), Deno.env.get("NO_COLOR")].join(","));',
    `import { print } from "${JUPYTER_TS}";\nawait print(Deno.cwd());`,
    ...outputCells,
  );
  const outputPath = join(folder, "out.ipynb");
  // No `quick` option: the kernel sees QUICK as given.
  await executeNotebook(path, { env: { RUNNER_TEST: "a b", QUICK: "yes" }, outputPath });
  const [environment, cwd, ...executed] = await readCells(outputPath);
  assert.equal(streamText(environment), "a b,yes,1\n");
  assert.equal(streamText(cwd), `${await Deno.realPath(folder)}\n`);
  executed.forEach((cell, i) => {
    const text = JSON.stringify(cell.outputs);
    assert.deepEqual(
      text.match(/(log|result|slot) \d+( updated)?/g),
      [`log ${i}`, `result ${i}`, `slot ${i} updated`],
      `cell ${i + 3}: ${text}`,
    );
  });
  await Deno.remove(folder, { recursive: true });
});

Deno.test("executeNotebook() fails a notebook whose output arrives after its cell finished", async () => {
  const folder = await Deno.makeTempDir();
  const path = await tempNotebook(
    folder,
    `import { print } from "${JUPYTER_TS}";\nawait print("on time");`,
    'setTimeout(() => console.log("late"), 200);\n"the cell ends first";',
  );
  const outputPath = join(folder, "out.ipynb");
  const error = await executeNotebook(path, { outputPath }).then(
    () => assert.fail("late output went unnoticed"),
    (error) => error,
  );
  assert.ok(error instanceof NotebookExecutionError, String(error));
  assert.equal(error.ename, "LateOutputError");
  assert.equal(error.cell, 2);
  assert.match(error.message, /cell 2 of 2/);
  assert.match(error.message, /arrived after the cell had finished/);
  assert.match(error.message, /await show\(value\)/);
  // The late line is still kept, in the cell that printed it.
  assert.match(streamText((await readCells(outputPath))[1]), /late/);
  await Deno.remove(folder, { recursive: true });
});

Deno.test("executeNotebook() fails on an error that escapes a cell", async (t) => {
  const folder = await Deno.makeTempDir();
  const cases: [string, string[], number, RegExp][] = [
    [
      "a throw in a timer",
      [
        "const started = Date.now();",
        // The timer fires while its own cell still waits, whatever the load on the machine.
        'setTimeout(() => { throw new RangeError("thrown in a timer"); }, 10);\n' +
        "await new Promise((resolve) => setTimeout(resolve, 500));",
        'console.log("never runs");',
      ],
      2,
      /RangeError: thrown in a timer \(thrown in a timer or callback/,
    ],
    [
      "a rejected promise nothing awaits",
      ['Promise.reject(new TypeError("never awaited"));\n"done";', 'console.log("never runs");'],
      1,
      /TypeError: never awaited \(a promise rejected and nothing awaited it\)/,
    ],
  ];
  for (const [name, sources, cell, message] of cases) {
    await t.step(name, async () => {
      const htmlPath = join(folder, "out.html");
      const error = await executeNotebook(await tempNotebook(folder, ...sources), { htmlPath })
        .then(() => assert.fail(`${name} went unnoticed`), (error) => error);
      assert.ok(error instanceof NotebookExecutionError, String(error));
      assert.equal(error.cell, cell);
      assert.match(error.message, message);
      assert.doesNotMatch(await Deno.readTextFile(htmlPath), /never runs<\/pre>/);
    });
  }
  await Deno.remove(folder, { recursive: true });
});

Deno.test("executeNotebook() shows a syntax error in the cell and in the HTML", async () => {
  // Deno's kernel replies only "Execution failed" to code it cannot parse.
  const folder = await Deno.makeTempDir();
  const path = await tempNotebook(folder, 'console.log("fine");', "const total = 1 +;\ntotal;");
  const htmlPath = join(folder, "out.html");
  const outputPath = join(folder, "out.ipynb");
  const error = await executeNotebook(path, { htmlPath, outputPath }).then(
    () => assert.fail("the syntax error went unnoticed"),
    (error) => error,
  );
  assert.ok(error instanceof NotebookExecutionError, String(error));
  assert.equal(error.cell, 2);
  assert.equal(error.ename, "SyntaxError");
  assert.equal(error.evalue, "Expression expected");
  assert.match(error.message, /1 \| const total = 1 \+;/);
  const output = (await readCells(outputPath))[1].outputs?.[0];
  assert.equal(output?.output_type, "error");
  const html = await Deno.readTextFile(htmlPath);
  assert.match(html, /SyntaxError/);
  assert.match(html, /Expression expected/);
  await Deno.remove(folder, { recursive: true });
});

Deno.test("the runner's Python program compiles", async () => {
  const output = await new Deno.Command("/usr/bin/python3", {
    args: ["-m", "py_compile", PYTHON_PROGRAM_PATH],
    env: { PYTHONPYCACHEPREFIX: await Deno.makeTempDir() },
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
});

Deno.test("executeNotebook() stops a cell that runs past the timeout", async () => {
  const folder = await Deno.makeTempDir();
  const path = await tempNotebook(
    folder,
    "const started = Date.now();",
    "await new Promise((resolve) => setTimeout(resolve, 60_000));",
  );
  await assert.rejects(executeNotebook(path, { timeoutSeconds: 2 }), (error) => {
    assert.ok(error instanceof NotebookExecutionError, String(error));
    assert.equal(error.cell, 2);
    assert.match(error.message, /cell 2 of 2/);
    assert.match(error.message, /timed out/i);
    return true;
  });
  await Deno.remove(folder, { recursive: true });
});

Deno.test("executeNotebook() says what to install when something is missing", async (t) => {
  const folder = await Deno.makeTempDir();
  await t.step("no Python", async () => {
    await assert.rejects(
      executeNotebook(PASSING, { python: join(folder, "no-python3") }),
      /no-python3 was not found\. Run `make test`.*apt-get install -y python3-nbclient/,
    );
  });
  await t.step("Python without Jupyter", async () => {
    // `-S` skips site-packages, where Debian's Jupyter lives.
    const python = join(folder, "python-without-site");
    await Deno.writeTextFile(python, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
    await Deno.chmod(python, 0o755);
    await assert.rejects(
      executeNotebook(PASSING, { python }),
      /cannot import \w+\. Run `make test`.*apt-get install -y python3-nbclient python3-nbconvert/,
    );
  });
  await t.step("no kernelspec", async () => {
    await assert.rejects(
      executeNotebook(PASSING, { kernelName: "no-such-kernel" }),
      /no kernelspec named "no-such-kernel"\. Run `make test`.*deno jupyter --install/,
    );
  });
  await Deno.remove(folder, { recursive: true });
});

Deno.test("executeNotebook() rejects a timeout that is not a positive number", async (t) => {
  for (const timeoutSeconds of [0, -1, Number.NaN, Infinity]) {
    await t.step(String(timeoutSeconds), async () => {
      await assert.rejects(executeNotebook(PASSING, { timeoutSeconds }), RangeError);
    });
  }
});
