/**
 * Pictures of images: single digits as PNG data URLs, and grids of digits or of any 28×28 float
 * images (mean images, first-layer weights) as charts.
 *
 * Each image becomes a small PNG upscaled with whole pixels, so digits stay crisp in Jupyter, in
 * exported HTML and in `.svg` files, without JavaScript and without a canvas.
 *
 * @module
 */
import { integer, rangeError } from "../util/validate.ts";
import * as d3 from "d3";
import { Chart, escapeHtml } from "../notebook/display.ts";
import { frameSvg, type Legend } from "./frame.ts";
import { dataUrl, encodePng } from "./png.ts";

/** Side of an MNIST image in pixels. */
const SIDE = 28;

/**
 * How values become colours: `"gray"` (black 0 to white 1), `"diverging"` (blue below zero,
 * white at zero, red above; for weights), `"viridis"` (dark purple to yellow; for mean images).
 */
export type Colormap = "gray" | "diverging" | "viridis";

/** Anchor colours of the diverging map, evenly spaced from its low end to its high end. */
const DIVERGING_STOPS: readonly string[] = [
  // ColorBrewer RdBu reversed (blue = negative), with pure white in the middle: d3's
  // interpolateRdBu has #f7f7f7 there, and a zero weight should look like no ink at all.
  "#053061",
  "#2166ac",
  "#4393c3",
  "#92c5de",
  "#d1e5f0",
  "#ffffff",
  "#fddbc7",
  "#f4a582",
  "#d6604d",
  "#b2182b",
  "#67001f",
];

/**
 * Entries of a colormap's lookup table: 256 gray levels; an odd 255 for the colour maps, so that the
 * middle of the domain (zero weight) falls exactly on the middle colour (white).
 */
function levels(name: Colormap): number {
  return name === "gray" ? 256 : 255;
}

/** RGB lookup tables, built on first use. */
const LUTS = new Map<Colormap, Uint8Array>();

function lut(name: Colormap): Uint8Array {
  let table = LUTS.get(name);
  if (table) return table;
  const n = levels(name);
  table = new Uint8Array(n * 3);
  if (name === "gray") {
    for (let i = 0; i < n; i++) table.fill(i, i * 3, i * 3 + 3);
  } else if (name === "viridis") {
    for (let i = 0; i < n; i++) {
      const { r, g, b } = d3.rgb(d3.interpolateViridis(i / (n - 1)));
      table.set([r, g, b], i * 3);
    }
  } else {
    if (name !== "diverging") {
      throw new TypeError(
        `Cannot draw with colormap ${
          JSON.stringify(name)
        }: it is unknown, expected "gray", "diverging" or "viridis"`,
      );
    }
    const stops = DIVERGING_STOPS;
    const rgb = stops.map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
    for (let i = 0; i < n; i++) {
      const u = (i / (n - 1)) * (stops.length - 1);
      const k = Math.min(Math.floor(u), stops.length - 2);
      const f = u - k;
      for (let c = 0; c < 3; c++) {
        table[i * 3 + c] = Math.round(rgb[k][c] * (1 - f) + rgb[k + 1][c] * f);
      }
    }
  }
  LUTS.set(name, table);
  return table;
}

/**
 * The colour of a position on a colormap.
 *
 * @param name The colormap.
 * @param t Position in [0, 1] (clamped).
 * @returns A `#rrggbb` colour.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(colormapColor("diverging", 0.5), "#ffffff");
 * assert.equal(colormapColor("gray", 1), "#ffffff");
 * ```
 */
export function colormapColor(name: Colormap, t: number): string {
  const table = lut(name);
  const i = Math.round(Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (levels(name) - 1)) *
    3;
  return "#" + [table[i], table[i + 1], table[i + 2]].map((v) => v.toString(16).padStart(2, "0"))
    .join("");
}

/** Options of {@linkcode digitImage} and {@linkcode imagePng}. */
export interface DigitImageOptions {
  /** Output pixels per image pixel (whole-pixel upscaling keeps edges crisp). Default 2. */
  scale?: number;
  /** Dark digit on a light background (gray colormap only). Default `false`. */
  invert?: boolean;
  /** How values become colours. Default `"gray"`. */
  colormap?: Colormap;
  /** Values mapped to the two ends of the colormap. Default [0, 1]; for "diverging" ±max|v|. */
  domain?: [number, number];
  /** Image width in pixels. Default 28 (height follows from the length). */
  width?: number;
}

/**
 * Encodes one float image as PNG bytes: gray images as 8-bit grayscale, colormapped ones as RGB.
 *
 * @param pixels Row-major values, e.g. one MNIST image (784 values in [0, 1]).
 * @param options Scale, colormap, domain, width; see {@linkcode DigitImageOptions}.
 * @returns The PNG file's bytes.
 * @throws {RangeError} If the pixel count is not a whole number of rows or the scale is invalid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const png = imagePng(new Float32Array(784), { scale: 1 });
 * assert.equal(new DataView(png.buffer).getUint32(16), 28); // IHDR width
 * ```
 */
export function imagePng(
  pixels: ArrayLike<number>,
  options: DigitImageOptions = {},
): Uint8Array<ArrayBuffer> {
  const { scale = 2, invert = false, colormap = "gray", width = SIDE } = options;
  integer({ action: "draw image" }, "option scale", scale, { min: 1, max: 32 });
  const height = pixels.length / width;
  if (!Number.isInteger(height) || height === 0) {
    rangeError(
      { action: "draw image" },
      "the number of pixels",
      pixels.length,
      `a positive multiple of the width (${width})`,
    );
  }
  const [lo, hi] = options.domain ?? defaultDomain(pixels, colormap);
  const span = hi - lo || 1;
  const channels = colormap === "gray" ? 1 : 3;
  const table = lut(colormap);
  const top = levels(colormap) - 1;
  const outWidth = width * scale;
  const out = new Uint8Array(outWidth * height * scale * channels);
  for (let y = 0; y < height; y++) {
    const row = new Uint8Array(outWidth * channels);
    for (let x = 0; x < width; x++) {
      const v = pixels[y * width + x];
      const t = Number.isFinite(v) ? Math.min(1, Math.max(0, (v - lo) / span)) : 0;
      let level = Math.round(t * top);
      if (invert && colormap === "gray") level = top - level;
      for (let s = 0; s < scale; s++) {
        const o = (x * scale + s) * channels;
        if (channels === 1) row[o] = level;
        else row.set(table.subarray(level * 3, level * 3 + 3), o);
      }
    }
    for (let s = 0; s < scale; s++) out.set(row, (y * scale + s) * row.length);
  }
  return encodePng(out, outWidth, { color: channels === 1 ? "gray" : "rgb" });
}

/** [0, 1] for gray, ±max|v| for diverging, [min, max] for sequential colormaps. */
function defaultDomain(pixels: ArrayLike<number>, colormap: Colormap): [number, number] {
  if (colormap === "gray") return [0, 1];
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi >= lo)) return [0, 1];
  if (colormap === "diverging") {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    return [-m, m];
  }
  return [lo, hi];
}

/**
 * One digit (or any float image) as a PNG data URL, for `<img src>` or SVG `<image href>`.
 *
 * @param pixels Row-major values, e.g. 784 values in [0, 1].
 * @param options Scale, invert, colormap, domain; see {@linkcode DigitImageOptions}.
 * @returns `data:image/png;base64,…`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(digitImage(new Float32Array(784), { scale: 3 }).startsWith("data:image/png;base64,"));
 * ```
 */
export function digitImage(pixels: ArrayLike<number>, options: DigitImageOptions = {}): string {
  return dataUrl(imagePng(pixels, options));
}

/** Options of {@linkcode digitGrid}. */
export interface DigitGridOptions {
  /** Which images to show. Default: the first `columns × 2`. */
  indices?: ArrayLike<number>;
  /** Images per row. Default 10. */
  columns?: number;
  /** Predicted classes, one per image of the split; wrong ones are captioned and framed in red. */
  predictions?: ArrayLike<number>;
  /** Captions, one per shown image, instead of the labels. */
  captions?: readonly string[];
  /** Names of the classes, e.g. Fashion-MNIST garments. Default: the class numbers. */
  classNames?: readonly string[];
  /** Displayed side of each image in pixels. Default 56. */
  size?: number;
  /** PNG pixels per image pixel. Default: `size / 28` rounded (2 for 56). */
  scale?: number;
  /** Dark digits on white. Default `false` (white on black, as stored). */
  invert?: boolean;
  /** Bold title above the grid. */
  title?: string;
  /** Text under the title; by default says how many predictions shown are wrong. */
  subtitle?: string;
  /** Small text under the grid. */
  caption?: string;
}

/** Options of {@linkcode imageGrid}. */
export interface ImageGridOptions {
  /** Captions, one per image. */
  captions?: readonly string[];
  /** Images per row. Default 8. */
  columns?: number;
  /** How values become colours. Default `"gray"`. */
  colormap?: Colormap;
  /** One colour scale for all images (default), so they compare; `false` scales each image. */
  shared?: boolean;
  /** Values at the two ends of the colormap. Default: from the data (symmetric for diverging). */
  domain?: [number, number];
  /** Side of an image in pixels. Default 28. */
  side?: number;
  /** Displayed side of each image in pixels. Default 64. */
  size?: number;
  /** PNG pixels per image pixel. Default: `size / side` rounded. */
  scale?: number;
  /** Text above the colour legend. Default `"Value"`. */
  legendLabel?: string;
  /** Bold title above the grid. */
  title?: string;
  /** Text under the title. */
  subtitle?: string;
  /** Small text under the grid. */
  caption?: string;
}

const DIGIT_GRID_DEFAULTS = { columns: 10, size: 56, invert: false } as const;
const IMAGE_GRID_DEFAULTS = {
  columns: 8,
  colormap: "gray",
  shared: true,
  side: SIDE,
  size: 64,
  legendLabel: "Value",
} as const;

const MISTAKE_COLOR = "#d62728";
const CAPTION_SIZE = 11;
const LINE_HEIGHT = 14;
const GAP = 8;

/** One cell of a grid: an image and up to two caption lines. */
interface GridCell {
  href: string;
  lines: { text: string; color: string }[];
  mistake: boolean;
  /** Thin outline, so images with a white background keep their edges. */
  outline?: string;
}

/** Lays out cells in rows; the cell width grows to fit the longest caption line. */
function gridSvg(
  cells: GridCell[],
  columns: number,
  size: number,
  frame: { title?: string; subtitle?: string; caption?: string; legends?: Legend[] },
): string {
  const longest = Math.max(0, ...cells.flatMap((c) => c.lines.map((l) => l.text.length)));
  const cellWidth = Math.max(size, Math.ceil(longest * CAPTION_SIZE * 0.6) + 4);
  const lines = Math.max(0, ...cells.map((c) => c.lines.length));
  const cellHeight = size + lines * LINE_HEIGHT + (lines ? 4 : 0);
  const cols = Math.max(1, Math.min(columns, cells.length));
  const rows = Math.ceil(cells.length / cols);
  const parts = cells.map((cell, i) => {
    const x = (i % cols) * (cellWidth + GAP);
    const y = Math.floor(i / cols) * (cellHeight + GAP);
    const ix = x + (cellWidth - size) / 2;
    const border = cell.mistake
      ? `<rect x="${ix - 1.5}" y="${y - 1.5}" width="${size + 3}" height="${
        size + 3
      }" fill="none" ` +
        `stroke="${MISTAKE_COLOR}" stroke-width="3"/>`
      : cell.outline
      ? `<rect x="${ix - 0.5}" y="${y - 0.5}" width="${size + 1}" height="${
        size + 1
      }" fill="none" ` +
        `stroke="${cell.outline}"/>`
      : "";
    const text = cell.lines.map((line, k) =>
      `<text x="${x + cellWidth / 2}" y="${
        y + size + 14 + k * LINE_HEIGHT
      }" text-anchor="middle" ` +
      `font-size="${CAPTION_SIZE}" fill="${line.color}">${escapeHtml(line.text)}</text>`
    ).join("");
    return `<g>${border}<image href="${cell.href}" x="${ix}" y="${y}" width="${size}" height="${size}" ` +
      `preserveAspectRatio="none" style="image-rendering:pixelated"/>${text}</g>`;
  });
  return frameSvg({
    width: cols * (cellWidth + GAP) - GAP,
    height: rows * (cellHeight + GAP) - GAP,
    markup: parts.join(""),
  }, frame);
}

/**
 * A grid of MNIST digits with their labels; with `predictions`, wrong ones are framed in red and
 * captioned with the prediction and the true class.
 *
 * @param images All images of a split, `count × 784` values in [0, 1].
 * @param labels All labels of the split.
 * @param options Which images and how; see {@linkcode DigitGridOptions}.
 * @returns The grid as a chart.
 * @throws {RangeError} If an index is outside the split.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const images = new Float32Array(3 * 784);
 * const grid = digitGrid(images, [1, 2, 3], { predictions: [1, 7, 3], indices: [0, 1, 2] });
 * assert.equal(grid.svg.match(/<image /g)?.length, 3);
 * assert.ok(grid.svg.includes(">pred 7</text>") && grid.svg.includes(">true 2</text>"));
 * ```
 */
export function digitGrid(
  images: Float32Array,
  labels: ArrayLike<number>,
  options: DigitGridOptions = {},
): Chart {
  const { columns, size, invert } = { ...DIGIT_GRID_DEFAULTS, ...options };
  const { predictions, captions, classNames, title, caption } = options;
  const count = Math.floor(images.length / (SIDE * SIDE));
  const indices = Array.from(
    options.indices ?? Array.from({ length: Math.min(count, columns * 2) }, (_, i) => i),
  );
  const scale = options.scale ?? Math.max(1, Math.round(size / SIDE));
  const name = (c: number) => classNames?.[c] ?? String(c);
  let mistakes = 0;
  const cells = indices.map((index, k): GridCell => {
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      rangeError(
        { action: "draw digit grid" },
        `indices[${k}]`,
        index,
        `an integer from 0 to ${count - 1}, one of the images`,
      );
    }
    const pixels = images.subarray(index * SIDE * SIDE, (index + 1) * SIDE * SIDE);
    const href = digitImage(pixels, { scale, invert });
    const label = labels[index];
    const predicted = predictions?.[index];
    const mistake = predicted !== undefined && predicted !== label;
    if (mistake) mistakes++;
    const lines = captions ? [{ text: captions[k] ?? "", color: "#222" }] : mistake
      ? [
        { text: `pred ${name(predicted)}`, color: MISTAKE_COLOR },
        { text: `true ${name(label)}`, color: "#555" },
      ]
      : [{ text: name(predicted ?? label), color: "#222" }];
    return { href, lines, mistake };
  });
  const subtitle = options.subtitle ??
    (predictions
      ? mistakes
        ? `${mistakes} of ${cells.length} shown are wrong (framed in red: predicted, then true class)`
        : `All ${cells.length} shown are predicted correctly`
      : undefined);
  return new Chart(gridSvg(cells, columns, size, { title, subtitle, caption }), { title });
}

/**
 * A grid of float images with a colormap, e.g. the mean image of each class (`"viridis"`) or the
 * first-layer weights of each hidden unit (`"diverging"`, blue negative, white zero, red positive),
 * with a colour legend when all images share one scale.
 *
 * @param images One Float32Array per image, or all images in one array (`count × side²`).
 * @param options Captions, colormap, scale; see {@linkcode ImageGridOptions}.
 * @returns The grid as a chart.
 * @throws {RangeError} If the values are not a whole number of images.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const weights = [new Float32Array(784).fill(-0.2), new Float32Array(784).fill(0.1)];
 * const grid = imageGrid(weights, { colormap: "diverging", captions: ["unit 0", "unit 1"] });
 * assert.equal(grid.svg.match(/<image /g)?.length, 2);
 * assert.ok(grid.svg.includes(">-0.2</text>") && grid.svg.includes(">0.2</text>")); // legend ±0.2
 * ```
 */
export function imageGrid(
  images: Float32Array | readonly ArrayLike<number>[],
  options: ImageGridOptions = {},
): Chart {
  const { columns, colormap, shared, side, size, legendLabel } = {
    ...IMAGE_GRID_DEFAULTS,
    ...options,
  };
  const { captions, title, subtitle, caption } = options;
  const list = splitImages(images, side);
  const scale = options.scale ?? Math.max(1, Math.round(size / side));
  const domain = options.domain ?? (shared ? sharedDomain(list, colormap) : undefined);
  const cells = list.map((pixels, i): GridCell => ({
    href: digitImage(pixels, { scale, colormap, domain, width: side }),
    lines: captions ? [{ text: captions[i] ?? "", color: "#222" }] : [],
    mistake: false,
    outline: colormap === "diverging" ? "#ccc" : undefined,
  }));
  const legends: Legend[] = domain && (colormap !== "gray" || options.domain)
    ? [{
      type: "ramp",
      label: legendLabel,
      domain,
      color: (v) => colormapColor(colormap, (v - domain[0]) / (domain[1] - domain[0] || 1)),
    }]
    : [];
  return new Chart(gridSvg(cells, columns, size, { title, subtitle, caption, legends }), { title });
}

function splitImages(
  images: Float32Array | readonly ArrayLike<number>[],
  side: number,
): ArrayLike<number>[] {
  const pixels = side * side;
  if (!(images instanceof Float32Array)) return [...images];
  if (images.length % pixels !== 0) {
    rangeError(
      { action: "draw image grid" },
      "the number of values",
      images.length,
      `a multiple of ${pixels} (${side} × ${side} images)`,
    );
  }
  return Array.from(
    { length: images.length / pixels },
    (_, i) => images.subarray(i * pixels, (i + 1) * pixels),
  );
}

/** One domain over all images: symmetric around 0 for diverging, [min, max] otherwise. */
function sharedDomain(list: ArrayLike<number>[], colormap: Colormap): [number, number] {
  if (colormap === "gray") return [0, 1];
  let lo = Infinity;
  let hi = -Infinity;
  for (const image of list) {
    const [a, b] = defaultDomain(image, colormap);
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  }
  return Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : [0, 1];
}
