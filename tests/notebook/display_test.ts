import assert from "node:assert/strict";
import { Chart, escapeHtml, markdown } from "../../lib/notebook/display.ts";
import { JUPYTER_DISPLAY } from "../../lib/notebook/jupyter.ts";

Deno.test("Chart holds its SVG once, as text/html", async () => {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>';
  const chart = new Chart(svg, { title: "Loss" });
  const bundle = chart[JUPYTER_DISPLAY]();
  assert.deepEqual(bundle, {
    "text/html": svg,
    "text/plain": "[Chart: Loss]",
  });
  assert.equal(Symbol.for("Jupyter.display"), JUPYTER_DISPLAY, "the symbol Deno's kernel looks up");
  const dir = await Deno.makeTempDir();
  try {
    await chart.save(`${dir}/a.svg`);
    assert.equal(await Deno.readTextFile(`${dir}/a.svg`), svg);
    await chart.save(`${dir}/a.html`);
    const page = await Deno.readTextFile(`${dir}/a.html`);
    assert.ok(
      page.startsWith("<!doctype html>") && page.includes(svg) &&
        page.includes("<title>[Chart: Loss]</title>"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("escapeHtml() replaces the five HTML specials", () => {
  assert.equal(
    escapeHtml(`<a href="x">'&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
  );
});

Deno.test("markdown() shows as text/markdown with the same plain text", () => {
  const view = markdown("- **a**: 1\n- b");
  assert.deepEqual(view[JUPYTER_DISPLAY](), {
    "text/markdown": "- **a**: 1\n- b",
    "text/plain": "- **a**: 1\n- b",
  });
});
