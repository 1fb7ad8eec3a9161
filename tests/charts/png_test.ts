import assert from "node:assert/strict";
import { dataUrl, encodePng } from "../../lib/charts/png.ts";
import { python } from "../python.ts";

/** An independent PNG reader in Python (see the file). */
const DECODE_PNG = new URL("./decode_png.py", import.meta.url);

interface DecodedPng {
  width: number;
  height: number;
  depth: number;
  color: number;
  chunks: string[];
  crc_ok: boolean;
  pixels: number[];
}

/** Deterministic test bytes of several kinds: noise, runs, repeats, mostly zeros (like MNIST). */
function sampleBytes(kind: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = 12345;
  const next = () => (s = (s * 1103515245 + 12345) >>> 0) >>> 16;
  for (let i = 0; i < n; i++) {
    if (kind === "noise") out[i] = next() & 255;
    else if (kind === "runs") out[i] = Math.floor(i / 37) % 3 * 100;
    else if (kind === "repeat") out[i] = "abcabcabd".charCodeAt(i % 9);
    else out[i] = next() % 9 === 0 ? next() & 255 : 0;
  }
  return out;
}

Deno.test("encodePng() compresses: a sparse digit-like image is far smaller than its pixels", () => {
  const pixels = sampleBytes("sparse", 84 * 84);
  const packed = encodePng(pixels, 84).length;
  const stored = encodePng(pixels, 84, { compress: false }).length;
  assert.ok(packed < pixels.length / 2, `${packed} bytes`);
  assert.ok(stored > pixels.length, `${stored} bytes`);
});

Deno.test("encodePng() writes PNGs that Python decodes to the same pixels", async (t) => {
  const cases = [
    { name: "gray 28×28", width: 28, height: 28, color: "gray" as const, compress: true },
    { name: "gray 1×1", width: 1, height: 1, color: "gray" as const, compress: true },
    { name: "rgb 13×7", width: 13, height: 7, color: "rgb" as const, compress: true },
    { name: "gray stored", width: 300, height: 250, color: "gray" as const, compress: false },
    { name: "rgb 200×120", width: 200, height: 120, color: "rgb" as const, compress: true },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const channels = c.color === "rgb" ? 3 : 1;
      const pixels = sampleBytes("sparse", c.width * c.height * channels);
      const png = encodePng(pixels, c.width, { color: c.color, compress: c.compress });
      const decoded: DecodedPng = JSON.parse(await python(DECODE_PNG, png));
      assert.equal(decoded.crc_ok, true);
      assert.deepEqual(decoded.chunks, ["IHDR", "IDAT", "IEND"]);
      assert.deepEqual(
        [decoded.width, decoded.height, decoded.depth, decoded.color],
        [c.width, c.height, 8, c.color === "rgb" ? 2 : 0],
      );
      assert.deepEqual(decoded.pixels, [...pixels]);
    });
  }
});

Deno.test("encodePng() rejects sizes that do not fit", async (t) => {
  await t.step("pixel count not a whole number of rows", () => {
    assert.throws(() => encodePng(new Uint8Array(10), 3), RangeError);
  });
  await t.step("rgb needs three bytes per pixel", () => {
    assert.throws(
      () => encodePng(new Uint8Array(4), 2, { color: "rgb" }),
      /the number of bytes is 4, expected a positive multiple of 6 \(rgb rows of width 2\)/,
    );
  });
  await t.step("width must be a positive integer", () => {
    assert.throws(
      () => encodePng(new Uint8Array(4), 0),
      /Cannot encode PNG: width is 0, expected a positive integer/,
    );
    assert.throws(() => encodePng(new Uint8Array(4), 1.5), RangeError);
  });
  await t.step("empty image", () => {
    assert.throws(() => encodePng(new Uint8Array(0), 1), RangeError);
  });
  await t.step("unknown colour type", () => {
    assert.throws(
      () => encodePng(new Uint8Array(4), 2, { color: "cmyk" as "rgb" }),
      TypeError,
    );
  });
});

Deno.test("dataUrl() base64-encodes large files like btoa", () => {
  const bytes = sampleBytes("noise", 100_000); // more than one 32 KiB chunk
  const expected = btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
  assert.equal(dataUrl(bytes, "image/png"), `data:image/png;base64,${expected}`);
});
