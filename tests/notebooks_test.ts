/**
 * Every notebook in `notebooks/` is committed clean and runs top to bottom in the quick profile, so
 * the examples in them cannot silently break.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { executeNotebook } from "../lib/tools/notebook_runner.ts";

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

Deno.test("notebooks run top to bottom in the quick profile", async (t) => {
  assert.ok(NOTEBOOKS.length > 0, `${NOTEBOOKS_DIR} holds no .ipynb files`);
  for (const name of NOTEBOOKS) {
    await t.step(name, async () => {
      const path = join(NOTEBOOKS_DIR, name);
      const before = await Deno.readFile(path);
      // A fresh sweep folder, so cached sweep results from earlier runs cannot hide a failure.
      const sweeps = await Deno.makeTempDir();
      try {
        // Rejects with the notebook, the cell and the kernel's error in the message.
        await executeNotebook(path, { quick: true, env: { ANN_SWEEP_DIR: sweeps } });
      } finally {
        await Deno.remove(sweeps, { recursive: true });
      }
      assert.deepEqual(await Deno.readFile(path), before, `running ${name} changed the file`);
    });
  }
});
