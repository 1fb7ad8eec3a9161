import assert from "node:assert/strict";
import {
  cellSource,
  type Notebook,
  notebookSummary,
  notebookTitle,
  parseNotebook,
} from "../../lib/tools/notebook_file.ts";

function markdownNotebook(...sources: string[]): Notebook {
  return {
    nbformat: 4,
    metadata: {},
    cells: sources.map((source) => ({ cell_type: "markdown", source })),
  };
}

Deno.test("parseNotebook() accepts nbformat 4 and names the file when it rejects", async (t) => {
  const cases: [string, string, RegExp | null][] = [
    ["nbformat 4", '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}', null],
    ["not JSON", "{cells:", /Cannot parse notebook "x\.ipynb"/],
    ["nbformat 3", '{"nbformat": 3, "metadata": {}, "worksheets": []}', /nbformat 3/],
    ["no cells", '{"nbformat": 4, "metadata": {}}', /expected nbformat 4 JSON/],
    ["an array", "[]", /expected nbformat 4 JSON/],
  ];
  for (const [name, text, error] of cases) {
    await t.step(name, () => {
      if (error === null) assert.equal(parseNotebook(text, { name: "x.ipynb" }).nbformat, 4);
      else assert.throws(() => parseNotebook(text, { name: "x.ipynb" }), TypeError);
      if (error) assert.throws(() => parseNotebook(text, { name: "x.ipynb" }), error);
    });
  }
});

Deno.test("cellSource() joins a source stored as lines", () => {
  assert.equal(cellSource({ cell_type: "code", source: ["a = 1\n", "b = 2"] }), "a = 1\nb = 2");
  assert.equal(cellSource({ cell_type: "code", source: "a = 1" }), "a = 1");
});

Deno.test("notebookTitle() takes the first H1 of any markdown cell", async (t) => {
  const cases: [string, string[], string][] = [
    ["first cell", ["# Loading MNIST\n\nText"], "Loading MNIST"],
    ["later cell, H2 before", ["## Setup", "Intro\n# Training the MLP"], "Training the MLP"],
    ["closing hashes", ["# Metrics ##"], "Metrics"],
    [
      "inline markdown",
      ["# The `tf.tidy` *habit* and __snake_case__"],
      "The tf.tidy habit and snake_case",
    ],
    ["inside a code fence", ["```sh\n# not a title\n```\n# Real title"], "Real title"],
    ["no H1", ["## Only H2", "#hashtag is not a heading"], "fallback"],
  ];
  for (const [name, sources, expected] of cases) {
    await t.step(name, () => {
      assert.equal(notebookTitle(markdownNotebook(...sources), { fallback: "fallback" }), expected);
    });
  }
  await t.step("code cells are not markdown", () => {
    const notebook: Notebook = {
      nbformat: 4,
      metadata: {},
      cells: [{ cell_type: "code", source: "# comment" }, { cell_type: "markdown", source: "# T" }],
    };
    assert.equal(notebookTitle(notebook), "T");
  });
});

Deno.test("notebookSummary() joins the first blockquote into one paragraph", async (t) => {
  const cases: [string, string[], string][] = [
    [
      "two lines",
      ["# T\n\n> You will learn\n> how to *split*.\n\nBody"],
      "You will learn how to *split*.",
    ],
    ["no space after >", [">One\n>two"], "One two"],
    ["blank quoted line", ["> One\n>\n> two"], "One two"],
    ["first quote only", ["> First\n\n> Second"], "First"],
    ["in a later cell", ["# T", "> Summary"], "Summary"],
    ["stops at cell end", ["> End of cell", "> Next cell"], "End of cell"],
    ["none", ["# T\n\nNo quote"], ""],
  ];
  for (const [name, sources, expected] of cases) {
    await t.step(name, () => assert.equal(notebookSummary(markdownNotebook(...sources)), expected));
  }
});
