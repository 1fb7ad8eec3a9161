/**
 * Reading Jupyter notebook files (nbformat 4): the cells, and what a notebook says about itself, its
 * title (the first H1) and its summary (the first blockquote).
 *
 * @module
 */

/** One cell of an nbformat 4 notebook; only the fields this project reads. */
export interface NotebookCell {
  /** `"code"`, `"markdown"` or `"raw"`. */
  cell_type: string;
  /** The text, as one string or as lines that each keep their `"\n"`. */
  source: string | string[];
  /** Code cells only: what running the cell displayed. */
  outputs?: unknown[];
  /** Code cells only: `null` until the cell has run. */
  execution_count?: number | null;
  /** Free-form metadata (tags, collapsed, …). */
  metadata?: Record<string, unknown>;
}

/** An nbformat 4 notebook; only the fields this project reads. */
export interface Notebook {
  /** The cells, top to bottom. */
  cells: NotebookCell[];
  /** Notebook metadata, such as `kernelspec`. */
  metadata: {
    kernelspec?: { name?: string; display_name?: string; language?: string };
    [key: string]: unknown;
  };
  /** Major format version; 4 for every notebook this project reads. */
  nbformat: number;
}

/**
 * Parses the JSON text of a notebook and checks that it is nbformat 4.
 *
 * @param text The content of an `.ipynb` file.
 * @param options.name File name used in error messages.
 * @returns The notebook.
 * @throws {TypeError} If the text is not JSON of an nbformat 4 notebook.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const notebook = parseNotebook('{"nbformat": 4, "metadata": {}, "cells": []}');
 * assert.deepEqual(notebook.cells, []);
 * assert.throws(() => parseNotebook("{}", { name: "x.ipynb" }), /"x.ipynb"/);
 * ```
 */
export function parseNotebook(text: string, options: { name?: string } = {}): Notebook {
  const { name = "notebook" } = options;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TypeError(`Cannot parse notebook "${name}": ${(error as Error).message}`);
  }
  const notebook = value as Partial<Notebook> | null;
  if (
    notebook === null || typeof notebook !== "object" || notebook.nbformat !== 4 ||
    !Array.isArray(notebook.cells) || typeof notebook.metadata !== "object"
  ) {
    const found = notebook && typeof notebook === "object"
      ? `nbformat ${notebook.nbformat} with keys ${Object.keys(notebook).join(", ")}`
      : JSON.stringify(value);
    throw new TypeError(
      `Cannot parse notebook "${name}": expected nbformat 4 JSON with "cells" and "metadata", found ${found}`,
    );
  }
  return notebook as Notebook;
}

/**
 * Reads and parses a notebook file.
 *
 * @param path Path of the `.ipynb` file.
 * @returns The notebook.
 * @throws {TypeError} If the file is not an nbformat 4 notebook.
 */
export async function readNotebook(path: string): Promise<Notebook> {
  return parseNotebook(await Deno.readTextFile(path), { name: path });
}

/**
 * The text of a cell, whichever way the file stores it.
 *
 * @param cell A notebook cell.
 * @returns The source as one string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(cellSource({ cell_type: "code", source: ["a\n", "b"] }), "a\nb");
 * ```
 */
export function cellSource(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/**
 * The notebook's title: the text of its first level-1 heading (`# Title`), without inline
 * markdown markers.
 *
 * @param notebook A notebook.
 * @param options.fallback What to return when no markdown cell has an H1.
 * @returns The title.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const notebook = { nbformat: 4, metadata: {}, cells: [{ cell_type: "markdown", source: "# The `MNIST` data\n" }] };
 * assert.equal(notebookTitle(notebook), "The MNIST data");
 * assert.equal(notebookTitle({ ...notebook, cells: [] }, { fallback: "01_data" }), "01_data");
 * ```
 */
export function notebookTitle(notebook: Notebook, options: { fallback?: string } = {}): string {
  for (const line of markdownLines(notebook)) {
    const match = /^#[ \t]+(.*?)[ \t#]*$/.exec(line);
    if (match) return match[1].replace(/[`*]|(?<!\w)_+|_+(?!\w)/g, "").trim();
  }
  return options.fallback ?? "";
}

/**
 * The notebook's summary: its first blockquote (`> …` lines), joined into one paragraph, markdown
 * kept as written.
 *
 * @param notebook A notebook.
 * @returns The summary, or `""` when there is no blockquote.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const source = "# Title\n\n> You will learn\n> *two* things.\n\nText.";
 * const notebook = { nbformat: 4, metadata: {}, cells: [{ cell_type: "markdown", source }] };
 * assert.equal(notebookSummary(notebook), "You will learn *two* things.");
 * ```
 */
export function notebookSummary(notebook: Notebook): string {
  const quoted: string[] = [];
  for (const line of markdownLines(notebook)) {
    const match = /^ {0,3}>[ \t]?(.*)$/.exec(line);
    if (match) quoted.push(match[1].trim());
    else if (quoted.length > 0) break;
  }
  return quoted.filter((line) => line !== "").join(" ");
}

/** Lines of all markdown cells in order, skipping fenced code blocks; a blank line separates cells. */
function* markdownLines(notebook: Notebook): Generator<string> {
  for (const cell of notebook.cells) {
    if (cell.cell_type !== "markdown") continue;
    let fenced = false;
    for (const line of cellSource(cell).split(/\r?\n/)) {
      if (/^ {0,3}(```|~~~)/.test(line)) fenced = !fenced;
      else if (!fenced) yield line;
    }
    yield "";
  }
}
