/**
 * What a code cell showed, in a form that two runs of the same notebook share: one entry per output,
 * its type and media types (a stream: its name and how many lines), not the numbers inside, which
 * differ between runs (timings). Consecutive streams of the same name count as one output, as
 * Jupyter frontends show them.
 */

/** One nbformat output, as stored in a notebook or kept by a frontend. */
export interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}

/** One cell's outputs, by its position among all cells (from 0). */
export interface CellOutputs {
  index: number;
  outputs: Output[];
}

function text(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join("") : value ?? "";
}

/**
 * The outputs with consecutive same-name streams merged.
 *
 * @param outputs A cell's outputs.
 * @returns The outputs a frontend shows.
 */
export function mergeStreams(outputs: readonly Output[]): Output[] {
  const merged: Output[] = [];
  for (const output of outputs) {
    const last = merged.at(-1);
    if (
      output.output_type === "stream" && last?.output_type === "stream" &&
      last.name === output.name
    ) {
      last.text = text(last.text) + text(output.text);
    } else {
      merged.push({ ...output, text: output.text === undefined ? undefined : text(output.text) });
    }
  }
  return merged;
}

/**
 * Describes each output of a cell: `stream stdout: 3 lines`, `display_data text/html text/plain`,
 * `error RangeError`.
 *
 * @param outputs A cell's outputs.
 * @returns One description per output shown.
 */
export function describeOutputs(outputs: readonly Output[]): string[] {
  return mergeStreams(outputs).map((output) => {
    if (output.output_type === "stream") {
      const lines = text(output.text).split("\n").filter((line) => line !== "").length;
      return `stream ${output.name}: ${lines} line${lines === 1 ? "" : "s"}`;
    }
    if (output.output_type === "error") return `error ${output.ename}`;
    return [output.output_type, ...Object.keys(output.data ?? {}).sort()].join(" ");
  });
}

/** The code cells of an nbformat notebook with their outputs. */
export function notebookOutputs(notebook: {
  cells: { cell_type: string; source: string | string[]; outputs?: Output[] }[];
}): CellOutputs[] {
  return notebook.cells.flatMap((cell, index) =>
    cell.cell_type === "code" && text(cell.source).trim()
      ? [{ index, outputs: cell.outputs ?? [] }]
      : []
  );
}

/**
 * Where two runs differ, cell by cell, or `[]` when every cell showed the same outputs.
 *
 * @param expected The reference run's cells.
 * @param actual The other run's cells.
 * @param label Names the other run in the messages.
 * @returns One line per differing cell.
 */
export function differences(
  expected: readonly CellOutputs[],
  actual: readonly CellOutputs[],
  label: string,
): string[] {
  const found = new Map(actual.map((cell) => [cell.index, describeOutputs(cell.outputs)]));
  const problems: string[] = [];
  for (const cell of expected) {
    const want = describeOutputs(cell.outputs);
    const got = found.get(cell.index);
    if (got === undefined) problems.push(`cell ${cell.index + 1}: missing from ${label}`);
    else if (JSON.stringify(got) !== JSON.stringify(want)) {
      problems.push(
        `cell ${cell.index + 1}: ${label} shows [${got.join("; ")}], run alone [${
          want.join("; ")
        }]`,
      );
    }
  }
  return problems;
}

/** How many outputs each cell shows, in cell order. */
export function outputCounts(cells: readonly CellOutputs[]): number[] {
  return cells.map((cell) => mergeStreams(cell.outputs).length);
}
