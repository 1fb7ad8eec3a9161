import assert from "node:assert/strict";
import {
  colormapColor,
  digitGrid,
  digitImage,
  imageGrid,
  imagePng,
} from "../../lib/charts/digits.ts";
import { all, parseMarkup, texts } from "../svg_query.ts";

/** Reads back a PNG written without row filters: size, channels and the raw pixel bytes. */
async function decodePng(png: Uint8Array<ArrayBuffer>) {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let pos = 8;
  let width = 0;
  let height = 0;
  let colorType = -1;
  const idat: Uint8Array[] = [];
  while (pos < png.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...png.subarray(pos + 4, pos + 8));
    const body = png.subarray(pos + 8, pos + 8 + length);
    if (type === "IHDR") {
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      colorType = png[pos + 17];
    }
    if (type === "IDAT") idat.push(body);
    pos += 12 + length;
  }
  const stream = new Blob(idat as BlobPart[]).stream().pipeThrough(
    new DecompressionStream("deflate"),
  );
  const raw = new Uint8Array(await new Response(stream).arrayBuffer());
  const channels = colorType === 2 ? 3 : 1;
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (stride + 1)], 0, "rows are written without a filter");
    pixels.set(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride);
  }
  return { width, height, channels, pixels };
}

function fromDataUrl(url: string): Uint8Array<ArrayBuffer> {
  const [head, data] = url.split(",");
  assert.equal(head, "data:image/png;base64");
  return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
}

/** An MNIST-like image: bytes k/255, so 8-bit pixels round-trip exactly. */
function byteImage(seed: number): { floats: Float32Array; bytes: Uint8Array } {
  const bytes = new Uint8Array(784);
  let s = seed;
  for (let i = 0; i < 784; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    bytes[i] = (s >>> 16) % 3 === 0 ? (s >>> 8) & 255 : 0;
  }
  return { floats: Float32Array.from(bytes, (b) => b / 255), bytes };
}

Deno.test("digitImage() round-trips MNIST bytes exactly, upscaled by whole pixels", async (t) => {
  const { floats, bytes } = byteImage(7);
  for (const scale of [1, 2, 3]) {
    await t.step(`scale ${scale}`, async () => {
      const png = await decodePng(fromDataUrl(digitImage(floats, { scale })));
      assert.deepEqual([png.width, png.height, png.channels], [28 * scale, 28 * scale, 1]);
      for (let y = 0; y < 28 * scale; y++) {
        for (let x = 0; x < 28 * scale; x++) {
          const expected = bytes[Math.floor(y / scale) * 28 + Math.floor(x / scale)];
          if (png.pixels[y * 28 * scale + x] !== expected) {
            assert.fail(
              `pixel (${x}, ${y}) is ${png.pixels[y * 28 * scale + x]}, expected ${expected}`,
            );
          }
        }
      }
    });
  }
  await t.step("invert", async () => {
    const png = await decodePng(fromDataUrl(digitImage(floats, { scale: 1, invert: true })));
    assert.deepEqual([...png.pixels], Array.from(bytes, (b) => 255 - b));
  });
});

Deno.test("imagePng() clamps values outside the domain and draws NaN as the low end", async () => {
  const png = await decodePng(imagePng([-1, 0.5, 2, NaN], { width: 2, scale: 1 }));
  assert.deepEqual([...png.pixels], [0, 128, 255, 0]);
});

Deno.test("the diverging colormap is blue below zero, white at zero, red above", async () => {
  const png = await decodePng(
    imagePng([-2, -1, 0, 1, 2, 0], { width: 3, scale: 1, colormap: "diverging" }),
  );
  assert.equal(png.channels, 3);
  const rgb = (i: number) => [...png.pixels.subarray(i * 3, i * 3 + 3)];
  assert.deepEqual(rgb(2), [255, 255, 255], "zero is white");
  assert.deepEqual(rgb(5), [255, 255, 255]);
  for (const i of [0, 1]) assert.ok(rgb(i)[2] > rgb(i)[0], `value ${i - 2} is blue`);
  for (const i of [3, 4]) assert.ok(rgb(i)[0] > rgb(i)[2], `value ${i - 2} is red`);
  assert.ok(rgb(0)[0] + rgb(0)[1] < rgb(1)[0] + rgb(1)[1], "-2 is darker than -1");
  assert.equal(colormapColor("diverging", 0), "#053061");
  assert.equal(colormapColor("viridis", 1), "#fde725");
});

Deno.test("imagePng() rejects images that are not whole rows and bad scales", () => {
  assert.throws(
    () => imagePng(new Float32Array(783)),
    /^RangeError: Cannot draw image: the number of pixels is 783, expected a positive multiple of the width \(28\)$/,
  );
  assert.throws(
    () => imagePng(new Float32Array(784), { scale: 0 }),
    /^RangeError: Cannot draw image: option scale is 0, expected an integer in \[1, 32\]$/,
  );
  assert.throws(() => imagePng(new Float32Array(784), { scale: 1.5 }), RangeError);
});

Deno.test("digitGrid() frames and captions exactly the wrong predictions", () => {
  const n = 12;
  const images = new Float32Array(n * 784);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const predictions = Uint8Array.from(labels, (l, i) => i % 4 === 1 ? (l + 3) % 10 : l);
  const indices = [0, 1, 2, 3, 4, 5, 9, 11];
  const svg = digitGrid(images, labels, { indices, predictions, columns: 4 }).svg;
  const doc = parseMarkup(svg);
  assert.equal(all(doc, "image").length, indices.length);
  const wrong = indices.filter((i) => predictions[i] !== labels[i]);
  assert.ok(wrong.length > 0 && wrong.length < indices.length);
  assert.equal(all(doc, 'rect[stroke="#d62728"]').length, wrong.length);
  const words = texts(doc);
  for (const i of wrong) {
    assert.ok(words.includes(`pred ${predictions[i]}`) && words.includes(`true ${labels[i]}`));
  }
  for (const i of indices.filter((i) => !wrong.includes(i))) {
    assert.ok(words.includes(`${labels[i]}`));
  }
  assert.ok(
    words.some((s) => s.startsWith(`${wrong.length} of ${indices.length} shown are wrong`)),
  );
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
});

Deno.test("digitGrid() uses class names and rejects indices outside the split", () => {
  const images = new Float32Array(2 * 784);
  const svg = digitGrid(images, [0, 9], {
    classNames: ["T-shirt", "a", "b", "c", "d", "e", "f", "g", "h", "Boot"],
  }).svg;
  assert.ok(svg.includes(">T-shirt</text>") && svg.includes(">Boot</text>"));
  assert.throws(
    () => digitGrid(images, [0, 9], { indices: [2] }),
    /^RangeError: Cannot draw digit grid: indices\[0\] is 2, expected an integer from 0 to 1, one of the images$/,
  );
});

Deno.test("imageGrid() shares one symmetric scale for diverging weights", () => {
  const a = new Float32Array(784).fill(0.05);
  const b = new Float32Array(784).fill(-0.3);
  const grid = imageGrid([a, b], { colormap: "diverging", legendLabel: "Weight" });
  const doc = parseMarkup(grid.svg);
  assert.equal(all(doc, "image").length, 2);
  const ticks = texts(doc, 'g[aria-label="color legend"]').slice(1).map(Number); // after the label
  assert.ok(ticks.length >= 3);
  assert.ok(Math.min(...ticks) >= -0.3 && Math.max(...ticks) <= 0.3);
  assert.ok(ticks.includes(-0.2) && ticks.includes(0) && ticks.includes(0.2), `ticks ${ticks}`);
});

Deno.test("imageGrid() accepts one flat array of images and checks its length", () => {
  assert.equal(imageGrid(new Float32Array(3 * 784)).svg.match(/<image /g)?.length, 3);
  assert.equal(imageGrid(new Float32Array(2 * 16), { side: 4 }).svg.match(/<image /g)?.length, 2);
  assert.throws(() => imageGrid(new Float32Array(785)), RangeError);
});
