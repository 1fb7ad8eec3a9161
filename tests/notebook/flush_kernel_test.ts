/**
 * `show`, `print` and `flush` in real Deno kernels, driven by the stock `jupyter nbconvert
 * --execute` and by a Run All client: each cell's last output must reach its cell before the
 * cell's `idle`, also when it is large enough that the kernel takes a while to publish it (a
 * fixed pause after each output lost 3 or 4 of 10 such cells).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runAll, stockNbconvert } from "./frontends.ts";
import { type CellOutputs, describeOutputs } from "./outputs.ts";

const JUPYTER_TS = fileURLToPath(new URL("../../lib/notebook/jupyter.ts", import.meta.url));

/** Characters of each large output: the kernel needs tens of milliseconds to publish one. */
const LARGE = 2_000_000;

const SETUP = `import { flush, print, show } from ${JSON.stringify(JUPYTER_TS)};
const large = (i: number) => ({
  [Symbol.for("Jupyter.display")]: () => ({
    "text/html": "<p>" + "x".repeat(${LARGE}) + "</p>",
    "text/plain": "large output of cell " + i,
  }),
});`;

/** Code cells after the setup, and what each must show: the last output is always the large one. */
const CELLS: [string, string[]][] = [
  ["await show(large(1));", ["display_data text/html text/plain"]],
  ['await print("one line");\nawait show(large(2));', [
    "stream stdout: 1 line",
    "display_data text/html text/plain",
  ]],
  ["await show(large(3), large(3));", [
    "display_data text/html text/plain",
    "display_data text/html text/plain",
  ]],
  ["await Deno.jupyter.display(large(4));\nawait flush();", ["display_data text/html text/plain"]],
  ...[5, 6, 7, 8].map((i): [string, string[]] => [
    `await show(large(${i}));`,
    ["display_data text/html text/plain"],
  ]),
];

async function writeNotebook(folder: string): Promise<string> {
  const path = join(folder, "large_outputs.ipynb");
  const cells = [SETUP, ...CELLS.map(([source]) => source)].map((source) => ({
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

function check(cells: CellOutputs[], tool: string): void {
  assert.equal(cells.length, CELLS.length + 1, `${tool}: code cells`);
  assert.deepEqual(cells[0].outputs, [], `${tool}: the setup cell shows nothing`);
  CELLS.forEach(([source, expected], i) => {
    const { outputs } = cells[i + 1];
    assert.deepEqual(describeOutputs(outputs), expected, `${tool}, cell ${i + 2}: ${source}`);
    for (const output of outputs.filter((o) => o.data)) {
      assert.equal(
        [output.data!["text/plain"]].flat().join(""),
        `large output of cell ${i + 1}`,
        `${tool}, cell ${i + 2}`,
      );
    }
  });
}

Deno.test("large outputs stay in their own cells under nbconvert and Run All", async () => {
  const folder = await Deno.makeTempDir({ prefix: "flush-" });
  try {
    const path = await writeNotebook(folder);
    const [nbconvert, all] = await Promise.all([stockNbconvert(path, {}), runAll(path, {})]);
    check(nbconvert, "jupyter nbconvert --execute");
    check(all.cells, "Run All");
    assert.equal(all.late, 0, "Run All: outputs published after their cell's idle");
    assert.equal(all.unknown, 0, "Run All: outputs whose parent is no cell's request");
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
