import assert from "node:assert/strict";
import { Chart } from "../../lib/notebook/display.ts";
import {
  inJupyter,
  isDisplayable,
  JUPYTER_DISPLAY,
  print,
  show,
} from "../../lib/notebook/jupyter.ts";

/** Runs `fn` with console.log recording its arguments. */
async function capture(fn: () => Promise<void>): Promise<unknown[][]> {
  const printed: unknown[][] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void printed.push(args);
  try {
    await fn();
  } finally {
    console.log = log;
  }
  return printed;
}

Deno.test("inJupyter() is false outside a kernel, and show() prints the text form", async () => {
  assert.equal(inJupyter(), false);
  const printed = await capture(() => show(new Chart("<svg/>", { title: "A" }), "plain", 3));
  assert.deepEqual(printed, [["[Chart: A]"], ["plain"], [3]]);
});

Deno.test("print() outside a kernel is console.log with the same arguments", async () => {
  assert.deepEqual(await capture(() => print("epoch", 2, { loss: 1 })), [["epoch", 2, {
    loss: 1,
  }]]);
});

Deno.test("isDisplayable() looks for the kernel's display method", () => {
  assert.equal(Symbol.for("Jupyter.display"), JUPYTER_DISPLAY, "the symbol Deno's kernel looks up");
  assert.equal(isDisplayable(new Chart("<svg/>")), true);
  assert.equal(isDisplayable({ [JUPYTER_DISPLAY]: "not a function" }), false);
  assert.equal(isDisplayable(null), false);
});
