/**
 * An exported report, opened in a real browser (headless Chromium), shows its charts: the SVG is
 * parsed as SVG, laid out at its size, and its line has a length. Grepping the HTML file cannot tell
 * that: nbconvert's stock template keeps `<svg>` but strips its `<path>`s and `viewBox`, and CSS could
 * hide what is there. Chromium is part of what `make test` installs; without it these tests fail.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseHTML } from "linkedom";
import { executeNotebook } from "../../lib/tools/notebook_runner.ts";
import { DEFAULT_CHROMIUM, dumpDom, screenshot } from "../../lib/tools/screenshot.ts";

const PASSING = fileURLToPath(new URL("../fixtures/passing.ipynb", import.meta.url));
const CHART_LABEL = "fixture chart of squares";
const HAS_CHROMIUM = await Deno.stat(DEFAULT_CHROMIUM).then(() => true, () => false);

function requireChromium(): void {
  if (!HAS_CHROMIUM) {
    throw new Error(
      `Chromium is missing at ${DEFAULT_CHROMIUM}: \`make test\` installs it (apt-get install chromium)`,
    );
  }
}

/** Runs in the page after layout and records, on each labelled SVG, what the browser made of it. */
const PROBE = `<script>
for (const svg of document.querySelectorAll("svg[aria-label]")) {
  const box = svg.getBoundingClientRect();
  const paths = [...svg.querySelectorAll("path")];
  svg.dataset.probe = JSON.stringify({
    namespace: svg.namespaceURI,
    width: box.width,
    height: box.height,
    paths: paths.length,
    pathLength: paths.reduce((sum, path) => sum + path.getTotalLength(), 0),
  });
}
</script>`;

/** The fixture exported once (a kernel run) for both tests, removed when they end. */
const EXPORTS = await Deno.makeTempDir();
globalThis.addEventListener("unload", () => Deno.removeSync(EXPORTS, { recursive: true }));
let exported: Promise<string> | undefined;

function exportFixture(): Promise<string> {
  const htmlPath = join(EXPORTS, "passing.html");
  exported ??= executeNotebook(PASSING, { quick: true, htmlPath }).then(() => htmlPath);
  return exported;
}

Deno.test({
  name: `exported HTML shows the notebook's SVG chart in Chromium`,
  fn: async () => {
    requireChromium();
    const folder = await Deno.makeTempDir();
    const htmlPath = await exportFixture();
    const probed = join(folder, "probed.html");
    const html = await Deno.readTextFile(htmlPath);
    await Deno.writeTextFile(probed, html.replace("</body>", `${PROBE}\n</body>`));

    const { document } = parseHTML(await dumpDom(probed)) as unknown as {
      document: { querySelector(selector: string): { getAttribute(name: string): string | null } };
    };
    const svg = document.querySelector(`svg[aria-label="${CHART_LABEL}"]`);
    assert.ok(svg, "the chart is missing from the rendered DOM");
    const probe = JSON.parse(svg.getAttribute("data-probe") ?? "null");
    assert.ok(probe, "the probe script did not run");
    assert.equal(probe.namespace, "http://www.w3.org/2000/svg");
    // The fixture asks Plot for a 480 × 240 chart.
    assert.deepEqual([probe.width, probe.height], [480, 240]);
    // Axes, ticks and the line: a line over 10 x-steps of a 480-px-wide chart is several hundred px.
    assert.ok(probe.paths >= 3, `only ${probe.paths} <path> elements were rendered`);
    assert.ok(probe.pathLength > 300, `the paths are ${probe.pathLength} px long in all`);
    await Deno.remove(folder, { recursive: true });
  },
});

Deno.test({
  name: `screenshot() writes a PNG of the requested size`,
  fn: async () => {
    requireChromium();
    const folder = await Deno.makeTempDir();
    const htmlPath = await exportFixture();
    const pngPath = join(folder, "passing.png");
    await screenshot(htmlPath, pngPath, { width: 800, height: 600 });

    const png = await Deno.readFile(pngPath);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const header = new DataView(png.buffer, png.byteOffset + 16, 8); // IHDR width, height
    assert.deepEqual([header.getUint32(0), header.getUint32(4)], [800, 600]);
    await Deno.remove(folder, { recursive: true });
  },
});

Deno.test("screenshot() says how to install Chromium when it is missing", async () => {
  await assert.rejects(
    screenshot("x.html", "x.png", { chromium: "/nonexistent/chromium" }),
    /Cannot find Chromium at \/nonexistent\/chromium: install it with `apt-get install -y chromium`/,
  );
});
