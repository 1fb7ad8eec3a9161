/**
 * A short PNG writer: 8-bit grayscale or RGB pixels, compressed with `node:zlib` (deflate and
 * CRC-32), synchronously, so pictures can be built inside a chart function without `await`.
 *
 * MNIST digits compress well (a 28×28 digit scaled 3× is well under 1 KB), which keeps notebooks
 * and HTML reports that embed many digits as data URLs small.
 *
 * @module
 */
import { crc32, deflateSync } from "node:zlib";
import { positiveInteger, rangeError } from "../util/validate.ts";

/** Colour layout of the pixels given to {@linkcode encodePng}. */
export type PngColor = "gray" | "rgb";

/** Options of {@linkcode encodePng}. */
export interface EncodePngOptions {
  /** `"gray"`: one byte per pixel; `"rgb"`: three. Default `"gray"`. */
  color?: PngColor;
  /** `false` stores the data uncompressed (zlib level 0). Default `true`. */
  compress?: boolean;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const COLOR_TYPE: Record<PngColor, number> = { gray: 0, rgb: 2 };
const CHANNELS: Record<PngColor, number> = { gray: 1, rgb: 3 };

/** Builds a chunk: length, type, data, CRC over type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 12);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encodes 8-bit pixels as a PNG file.
 *
 * @param pixels Row-major bytes: `width × height` for gray, `width × height × 3` (r, g, b) for rgb.
 * @param width Image width in pixels.
 * @param options.color `"gray"` (default) or `"rgb"`.
 * @param options.compress `false` writes uncompressed data. Default `true`.
 * @returns The PNG file's bytes.
 * @throws {RangeError} If the width is not a positive integer or the pixel count does not fit it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const png = encodePng(new Uint8Array([0, 255, 255, 0]), 2);
 * assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
 * ```
 */
export function encodePng(
  pixels: Uint8Array,
  width: number,
  options: EncodePngOptions = {},
): Uint8Array<ArrayBuffer> {
  const { color = "gray", compress = true } = options;
  const where = { action: "encode PNG" };
  const channels = CHANNELS[color];
  if (channels === undefined) {
    throw new TypeError(
      `Cannot encode PNG: option color is ${JSON.stringify(color)}, expected "gray" or "rgb"`,
    );
  }
  positiveInteger(where, "width", width);
  const rowBytes = width * channels;
  const height = pixels.length / rowBytes;
  if (!Number.isInteger(height) || height === 0) {
    rangeError(
      where,
      "the number of bytes",
      pixels.length,
      `a positive multiple of ${rowBytes} (${color} rows of width ${width})`,
    );
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = COLOR_TYPE[color];
  // compression 0, filter method 0, no interlace: bytes 10–12 stay 0
  const raw = new Uint8Array(height * (rowBytes + 1));
  for (let y = 0; y < height; y++) {
    // filter type 0 (none): LZ77 already finds the repeated rows of upscaled images
    raw.set(pixels.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  }
  const parts = [
    new Uint8Array(PNG_SIGNATURE),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw, { level: compress ? 9 : 0 })),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Turns bytes into a `data:` URL, e.g. for an `<img>` or SVG `<image>` source.
 *
 * @param bytes The file content.
 * @param mime Its media type. Default `"image/png"`.
 * @returns `data:<mime>;base64,<…>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(dataUrl(new Uint8Array([1, 2, 3])), "data:image/png;base64,AQID");
 * ```
 */
export function dataUrl(bytes: Uint8Array, mime = "image/png"): string {
  let binary = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return `data:${mime};base64,${btoa(binary)}`;
}
