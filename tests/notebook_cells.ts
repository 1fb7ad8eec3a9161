/**
 * Runs code cells of a committed notebook outside Jupyter, so tests can compare what a notebook
 * teaches with the library: the notebook's import cell and the chosen cells become the body of a
 * module's function that receives the variables earlier cells would have defined.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const NOTEBOOKS_DIR = fileURLToPath(new URL("../notebooks/", import.meta.url));
const LIB_URL = new URL("../lib/", import.meta.url).href;

/** The sources of a notebook's code cells, in order. */
export async function codeCells(notebook: string): Promise<string[]> {
  const json = JSON.parse(await Deno.readTextFile(join(NOTEBOOKS_DIR, notebook)));
  return json.cells
    .filter((cell: { cell_type: string }) => cell.cell_type === "code")
    .map((cell: { source: string[] | string }) =>
      Array.isArray(cell.source) ? cell.source.join("") : cell.source
    );
}

/** The one code cell containing `needle`; throws naming the notebook if none or several do. */
export function cellWith(cells: string[], needle: string, notebook = "the notebook"): string {
  const found = cells.filter((cell) => cell.includes(needle));
  if (found.length !== 1) {
    throw new Error(
      `${notebook} has ${found.length} code cells containing ${JSON.stringify(needle)}, expected 1`,
    );
  }
  return found[0];
}

/**
 * Runs cells of a notebook as one async function and returns the named variables they define.
 *
 * @param notebook File name in `notebooks/`, e.g. `"03_training.ipynb"`.
 * @param needles One string per cell to run, in order, each found in exactly one code cell.
 * @param context Variables the cells use from earlier cells, e.g. `{ config, trainSplit }`.
 * @param results Names of the variables to return.
 */
export async function runCells(
  notebook: string,
  needles: string[],
  context: Record<string, unknown>,
  results: string[],
): Promise<Record<string, unknown>> {
  const cells = await codeCells(notebook);
  // Every cell that only imports (after its comment lines), e.g. 03's two import cells.
  const imports = cells.filter((cell) =>
    cell.split("\n").find((line) => !line.startsWith("//"))?.startsWith("import")
  );
  if (imports.length === 0) throw new Error(`${notebook} has no import cell`);
  const body = needles.map((needle) => cellWith(cells, needle, notebook)).join("\n");
  const module = [
    ...imports.map((cell) => cell.replaceAll('"../lib/', `"${LIB_URL}`)),
    `export default async function (context: Record<string, any>) {`,
    `  const { ${Object.keys(context).join(", ")} } = context;`,
    body,
    `  return { ${results.join(", ")} };`,
    `}`,
  ].join("\n");
  const dir = await Deno.makeTempDir({ prefix: "notebook_cells_" });
  const path = join(dir, "cells.ts");
  await Deno.writeTextFile(path, module);
  try {
    const { default: run } = await import(new URL(`file://${path}`).href);
    return await run(context);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
