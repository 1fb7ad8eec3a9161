/**
 * What a reader of the notebooks can rely on: short code cells (the mechanism fits a screen, helpers
 * live in lib/), printing through the awaited display helpers, exercises at the end.
 */
import assert from "node:assert/strict";
import { codeCells } from "./notebook_cells.ts";

const NOTEBOOKS = [...Deno.readDirSync(new URL("../notebooks/", import.meta.url))]
  .map((entry) => entry.name)
  .filter((name) => name.endsWith(".ipynb"))
  .sort();

Deno.test("every notebook's code cells are at most 30 lines", async () => {
  assert.ok(NOTEBOOKS.length >= 6, `found ${NOTEBOOKS}`);
  for (const notebook of NOTEBOOKS) {
    (await codeCells(notebook)).forEach((cell, i) => {
      const lines = cell.trimEnd().split("\n").length;
      assert.ok(lines <= 30, `${notebook}, code cell ${i + 1}: ${lines} lines`);
    });
  }
});

Deno.test("no code cell prints with console.log: await print() sends while the cell runs", async () => {
  for (const notebook of NOTEBOOKS) {
    (await codeCells(notebook)).forEach((cell, i) => {
      assert.doesNotMatch(cell, /console\.log\(/, `${notebook}, code cell ${i + 1}`);
    });
  }
});

Deno.test("every notebook ends with an Exercises section", async () => {
  for (const notebook of NOTEBOOKS) {
    const json = JSON.parse(
      await Deno.readTextFile(new URL(`../notebooks/${notebook}`, import.meta.url)),
    );
    const markdown = json.cells.filter((c: { cell_type: string }) => c.cell_type === "markdown");
    const last = [markdown.at(-1)?.source].flat().join("");
    assert.match(last, /^## Exercises\n/, notebook);
    assert.ok((last.match(/^\d+\. /gm) ?? []).length >= 3, `${notebook}: at least 3 exercises`);
  }
});
