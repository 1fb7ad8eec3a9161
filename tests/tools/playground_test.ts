import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  boundingBox,
  centreOfMass,
  inkFromRgba,
  prepareDigit,
  resampleArea,
} from "../../lib/tools/playground/prepare.js";
import { writePlayground, writeReportPlayground } from "../../lib/tools/playground.ts";
import { buildReports, renderIndex } from "../../lib/tools/report.ts";
import { createModel } from "../../lib/model/network.ts";
import { saveModel } from "../../lib/model/checkpoint.ts";
import { setupBackend } from "../../lib/backend/backend.ts";

await setupBackend({ log: false });

/** A `width × height` image with ink 1 on the rectangles given as `[left, top, width, height]`. */
function drawing(width: number, height: number, rects: number[][]): Float32Array {
  const ink = new Float32Array(width * height);
  for (const [left, top, w, h] of rects) {
    for (let y = top; y < top + h; y++) ink.fill(1, y * width + left, y * width + left + w);
  }
  return ink;
}

function sum(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}

/** Exact area averaging by another route: repeat each pixel m×m times, then average n×n blocks. */
function resampleByBlocks(image: Float32Array, n: number, m: number): Float32Array {
  const big = n * m;
  const fine = new Float64Array(big * big);
  for (let y = 0; y < big; y++) {
    for (let x = 0; x < big; x++) {
      fine[y * big + x] = image[Math.floor(y / m) * n + Math.floor(x / m)];
    }
  }
  const out = new Float32Array(m * m);
  for (let y = 0; y < big; y++) {
    for (let x = 0; x < big; x++) {
      out[Math.floor(y / n) * m + Math.floor(x / n)] += fine[y * big + x] / (n * n);
    }
  }
  return out;
}

Deno.test("prepareDigit() scales a square anywhere on the canvas to the same centred 20×20 block", () => {
  const expected = drawing(28, 28, [[4, 4, 20, 20]]);
  for (const [left, top] of [[0, 0], [60, 5], [37, 81]]) {
    const prepared = prepareDigit(drawing(100, 100, [[left, top, 10, 10]]), 100, 100);
    assert.deepEqual(prepared, expected, `square at (${left}, ${top})`);
  }
});

Deno.test("prepareDigit() keeps the aspect ratio: a 30×15 bar becomes a centred 20×10 bar", () => {
  const prepared = prepareDigit(drawing(50, 40, [[10, 20, 30, 15]]), 50, 40)!;
  assert.deepEqual(prepared, drawing(28, 28, [[4, 9, 20, 10]]));
  assert.equal(sum(prepared), 200);
});

Deno.test("prepareDigit() puts the centre of mass, not the box, at the centre", () => {
  // An L: a 4×40 stem and a 40×4 foot, so the mass sits low and left of the box's middle.
  const ink = drawing(60, 60, [[5, 5, 4, 40], [5, 41, 40, 4]]);
  const prepared = prepareDigit(ink, 60, 60)!;
  const box = boundingBox(prepared, 28, 28)!;
  assert.deepEqual([box.width, box.height], [20, 20]);
  const centre = centreOfMass(prepared, 28, 28);
  assert.ok(
    Math.abs(centre.x - 14) <= 0.5 && Math.abs(centre.y - 14) <= 0.5,
    JSON.stringify(centre),
  );
  // The box is not centred: it moved right and up to bring the mass to the middle.
  assert.ok(box.left > 4 && box.top < 4, JSON.stringify(box));
  // Shrinking 40 px to 20 px quarters the area, and with it the ink.
  assert.ok(Math.abs(sum(prepared) - sum(ink) / 4) < 1e-3, `${sum(prepared)} vs ${sum(ink) / 4}`);
});

Deno.test("prepareDigit() returns null for an empty drawing and ignores ink at the threshold", () => {
  assert.equal(prepareDigit(new Float32Array(50 * 50), 50, 50), null);
  const faint = new Float32Array(50 * 50).fill(0.5);
  assert.equal(prepareDigit(faint, 50, 50, { threshold: 0.5 }), null);
});

Deno.test("resampleArea() equals averaging blocks of a finer grid, shrinking and enlarging", () => {
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (const [n, m] of [[7, 3], [3, 7], [10, 4], [5, 5]]) {
    const image = Float32Array.from({ length: n * n }, random);
    const got = resampleArea(image, n, n, m, m);
    const want = resampleByBlocks(image, n, m);
    for (let i = 0; i < m * m; i++) {
      assert.ok(Math.abs(got[i] - want[i]) < 1e-5, `${n}→${m} [${i}]`);
    }
    // Total ink scales with the area.
    assert.ok(Math.abs(sum(got) - sum(image) * (m * m) / (n * n)) < 1e-4);
  }
});

Deno.test("resampleArea() gives MNIST-like grey edges when a stroke does not fill whole pixels", () => {
  // A 3-px-wide line at x = 1–3, halved: output pixel 0 covers x = 0–1, half of it inked.
  const image = drawing(8, 8, [[1, 0, 3, 8]]);
  const out = resampleArea(image, 8, 8, 4, 4);
  assert.deepEqual([...out.subarray(0, 4)], [0.5, 1, 0, 0]);
});

Deno.test("inkFromRgba() reads the alpha channel", () => {
  assert.deepEqual([...inkFromRgba([0, 0, 0, 255, 9, 9, 9, 0, 0, 0, 0, 51])], [
    1,
    0,
    Math.fround(0.2),
  ]);
  assert.throws(() => inkFromRgba([1, 2, 3]), {
    name: "RangeError",
    message: 'Cannot read ink "rgba": length is 3, expected a multiple of 4',
  });
});

Deno.test("prepare functions reject an image whose length does not match its size", () => {
  assert.throws(() => prepareDigit(new Float32Array(10), 4, 3), {
    name: "RangeError",
    message: "Cannot find the ink: length is 10, expected 4 × 3 = 12",
  });
  assert.throws(() => resampleArea(new Float32Array(4), 2, 2, 0, 1), {
    name: "RangeError",
    message: "Cannot resample the image: output width is 0, expected a positive integer",
  });
});

Deno.test("writePlayground() writes the page, tfjs and the model beside it", async () => {
  const dir = await Deno.makeTempDir();
  const model = createModel();
  const saved = await saveModel(model, join(dir, "model"), { metadata: { test_accuracy: 0.9736 } });
  model.dispose();
  const out = join(dir, "out");
  const written = await writePlayground(join(dir, "model"), out);
  assert.equal(written.htmlPath, join(out, "playground.html"));
  const assets = [...Deno.readDirSync(join(out, "playground"))].map((e) => e.name).sort();
  const weightsName = saved.weightsPath.split("/").at(-1)!;
  assert.deepEqual(assets, ["model.json", "tf.min.js", weightsName].sort());
  assert.deepEqual(
    await Deno.readFile(join(out, "playground", weightsName)),
    await Deno.readFile(saved.weightsPath),
  );
  const html = await Deno.readTextFile(written.htmlPath);
  assert.match(html, /<script src="playground\/tf\.min\.js"><\/script>/);
  assert.match(html, /test accuracy 97\.4 %/);
  // The embedded copy (for file://) carries the same weights, base64-encoded.
  const embedded = html.match(/<script type="application\/json" id="model-data">(.*?)<\/script>/s);
  assert.ok(embedded);
  const data = JSON.parse(embedded[1]);
  const bytes = Uint8Array.from(atob(data.weightsBase64), (c) => c.charCodeAt(0));
  assert.deepEqual(bytes, await Deno.readFile(saved.weightsPath));
  assert.equal(data.weightSpecs.length, 6);
  // No script is fetched from anywhere but the folder beside the page.
  for (const [, src] of html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)) {
    assert.match(src, /^playground\//);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writePlayground() says where the model should come from when there is none", async () => {
  const dir = await Deno.makeTempDir();
  await assert.rejects(writePlayground(join(dir, "none"), join(dir, "out")), (error: Error) => {
    assert.ok(error instanceof Deno.errors.NotFound);
    assert.equal(
      error.message,
      `Cannot write the playground "${join(dir, "none", "model.json")}": model is missing, ` +
        "expected a tfjs layers model saved by notebook 03. Run notebook 03 (make report) first",
    );
    return true;
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writeReportPlayground() skips, saying why, when notebook 03 has saved no model", async () => {
  const dir = await Deno.makeTempDir();
  const line = await writeReportPlayground(join(dir, "ann_mnist_quick"), dir);
  assert.match(
    line,
    /^playground {2}skipped: Cannot write the playground ".*model\.json": model is missing/,
  );
  assert.deepEqual([...Deno.readDirSync(dir)], []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("renderIndex() links the playground only when there is one", () => {
  assert.match(
    renderIndex([], { playground: "playground.html" }),
    /<a href="playground\.html">Playground<\/a>/,
  );
  assert.doesNotMatch(renderIndex([]), /Playground/);
});

Deno.test("buildReports() writes the playground beside the reports and links it from the index", async () => {
  const dir = await Deno.makeTempDir();
  const model = createModel();
  await saveModel(model, join(dir, "ann_mnist_quick"));
  model.dispose();
  const reportsDir = join(dir, "reports");
  let progress = "";
  await buildReports({
    notebooksDir: fileURLToPath(new URL("../fixtures/", import.meta.url)),
    reportsDir,
    names: ["passing"],
    quick: true,
    playgroundModelDir: join(dir, "ann_mnist_quick"),
    write: (text) => progress += text,
  });
  assert.match(progress, new RegExp(`\nplayground {2}${join(reportsDir, "playground.html")}\n$`));
  const files = [...Deno.readDirSync(reportsDir)].map((e) => e.name).sort();
  assert.deepEqual(files, [
    "index.html",
    "index.json",
    "passing.html",
    "playground",
    "playground.html",
  ]);
  assert.match(
    await Deno.readTextFile(join(reportsDir, "index.html")),
    /<a href="playground\.html">/,
  );
  await Deno.remove(dir, { recursive: true });
});
