/**
 * Turns an Observable Plot SVG (or any SVG body) into one standalone SVG document with a title,
 * subtitle, legend and caption drawn in SVG.
 *
 * Plot itself wraps a titled or legended chart in an HTML `<figure>`, and draws colour ramps on a
 * canvas, which a headless document does not have. Drawing these parts in SVG instead gives one
 * self-contained picture that looks the same in Jupyter, in nbconvert's HTML, in a `.svg` file and
 * in a browser screenshot.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import * as d3 from "d3";
import { parseHTML } from "linkedom";
import { Chart, escapeHtml } from "../notebook/display.ts";

/** SVG namespace, required on a standalone SVG document. */
export const SVG_NS = "http://www.w3.org/2000/svg";
/** Font stack of every chart. */
export const FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
/** Font size of tick labels and other chart text, in pixels. */
export const FONT_SIZE = 12;
/** Categorical colours (Observable 10), one per class. */
export const CATEGORY_COLORS: readonly string[] = [
  "#4269d0",
  "#efb118",
  "#ff725c",
  "#6cc5b0",
  "#3ca951",
  "#ff8ab7",
  "#a463f2",
  "#97bbf5",
  "#9c6b4e",
  "#9498a0",
];

const PAD_X = 10;
const PAD_Y = 12;
const TITLE_SIZE = 17;
const SUBTITLE_SIZE = 13;
const LEGEND_SIZE = 12;
const LEGEND_ROW = 20;
const RAMP_WIDTH = 260;
const RAMP_HEIGHT = 10;
/** Average glyph width as a share of the font size, to lay out text without measuring it. */
const CHAR_WIDTH = 0.6;

/** One entry of a swatch legend. */
export interface SwatchItem {
  /** Text after the swatch. */
  label: string;
  /** Its colour. */
  color: string;
  /** Shape of the swatch. Default `"square"`. */
  shape?: "square" | "line" | "dot";
  /** SVG `stroke-dasharray` of a line swatch, e.g. `"5,3"`. */
  dash?: string;
}

/** A legend of coloured swatches, wrapped onto as many rows as needed. */
export interface SwatchLegend {
  /** The legend's kind. */
  type: "swatches";
  /** Text before the swatches, e.g. `"Digit"`. */
  label?: string;
  /** The entries. */
  items: SwatchItem[];
}

/** A continuous colour legend: a gradient bar with ticks. */
export interface RampLegend {
  /** The legend's kind. */
  type: "ramp";
  /** Text above the bar, e.g. `"Share of row (%)"`. */
  label?: string;
  /** Lowest and highest value. */
  domain: [number, number];
  /** Colour of a value. */
  color: (value: number) => string;
  /** Formats tick labels. Default {@linkcode formatValue}. */
  format?: (value: number) => string;
}

/** A legend drawn above the chart. */
export type Legend = SwatchLegend | RampLegend;

/** Text and legends around a chart. */
export interface FrameOptions {
  /** Bold title at the top. */
  title?: string;
  /** One or two lines under the title. */
  subtitle?: string;
  /** Small text under the chart, e.g. a note on the data. */
  caption?: string;
  /** Legends between the title and the chart. */
  legends?: Legend[];
}

/** An SVG body to frame: its size and its markup (children of an `<svg>`). */
export interface SvgContent {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Markup of the content, drawn with its top left corner at the origin. */
  markup: string;
  /** Attributes for the outer `<svg>` (class, font, fill…), as name → value. */
  attributes?: Record<string, string>;
}

/** The headless document Plot draws into (a linkedom `Document`). */
export type HeadlessDocument = NonNullable<Plot.PlotOptions["document"]>;

/** What {@linkcode plotContent} reads from an element (linkedom and browser elements both fit). */
export interface SvgElementLike {
  /** Element name, e.g. `"svg"`. */
  tagName: string;
  /** Names of its attributes. */
  getAttributeNames(): string[];
  /** Value of an attribute. */
  getAttribute(name: string): string | null;
  /** Markup of its children. */
  innerHTML: string;
}

/**
 * A fresh headless document for Observable Plot (`Plot.plot({ document, ... })`).
 *
 * @returns A linkedom document.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const document = createDocument() as unknown as { createElement(n: string): { tagName: string } };
 * assert.equal(document.createElement("p").tagName, "P");
 * ```
 */
export function createDocument(): HeadlessDocument {
  const { document } = parseHTML(
    "<!doctype html><html><head></head><body></body></html>",
  ) as unknown as {
    document: unknown;
  };
  return document as HeadlessDocument;
}

/**
 * Renders Plot options headlessly and frames the result as a {@linkcode Chart}.
 *
 * @param plotOptions Options for `Plot.plot` (without `document`, which is supplied).
 * @param frame Title, subtitle, caption and legends.
 * @returns The framed chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as Plot from "@observablehq/plot";
 * const chart = renderPlot({ marks: [Plot.dot([[1, 2]])] }, { title: "One dot" });
 * assert.ok(chart.svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
 * assert.ok(chart.svg.includes("One dot"));
 * ```
 */
export function renderPlot(plotOptions: Plot.PlotOptions, frame: FrameOptions = {}): Chart {
  const document = createDocument();
  const plot = Plot.plot(
    { ...plotOptions, document } as Plot.PlotOptions,
  ) as unknown as SvgElementLike;
  return new Chart(frameSvg(plotContent(plot), frame), { title: frame.title });
}

/**
 * The size, attributes and children of a Plot `<svg>`, ready for {@linkcode frameSvg}.
 *
 * @param svg An `<svg>` element made by `Plot.plot` (without title or legend options).
 * @returns Its content.
 * @throws {TypeError} If the element is not an `<svg>` (e.g. a `<figure>`).
 */
export function plotContent(svg: SvgElementLike): SvgContent {
  if (svg.tagName.toLowerCase() !== "svg") {
    throw new TypeError(
      `Cannot frame a Plot result: its root is <${svg.tagName.toLowerCase()}>, expected an <svg> ` +
        "element. Pass title and legends to the frame, not to Plot",
    );
  }
  const attributes: Record<string, string> = {};
  for (const name of svg.getAttributeNames()) {
    if (!["width", "height", "viewBox", "style"].includes(name)) {
      attributes[name] = svg.getAttribute(name) ?? "";
    }
  }
  return {
    width: Number(svg.getAttribute("width")),
    height: Number(svg.getAttribute("height")),
    markup: svg.innerHTML,
    attributes,
  };
}

/**
 * Lays out title, subtitle, legends, the content and a caption into one standalone SVG document.
 *
 * @param content The chart body.
 * @param options Title, subtitle, caption and legends.
 * @returns The SVG document's markup, with `xmlns` and a white background.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const svg = frameSvg({ width: 100, height: 50, markup: "<rect width='100' height='50'/>" }, {
 *   title: "Box",
 *   legends: [{ type: "swatches", items: [{ label: "a", color: "red" }] }],
 * });
 * assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
 * assert.ok(svg.includes(">Box</text>") && svg.includes(">a</text>"));
 * ```
 */
export function frameSvg(content: SvgContent, options: FrameOptions = {}): string {
  const { title, subtitle, caption, legends = [] } = options;
  const width = Math.max(content.width, 200) + 2 * PAD_X;
  const inner = width - 2 * PAD_X;
  const parts: string[] = [];
  let y = PAD_Y;
  if (title) {
    for (const line of wrapText(title, inner, TITLE_SIZE)) {
      y += TITLE_SIZE + 3;
      parts.push(
        `<text x="${PAD_X}" y="${y - 4}" font-size="${TITLE_SIZE}" font-weight="600" fill="#111">${
          escapeHtml(line)
        }</text>`,
      );
    }
  }
  if (subtitle) {
    for (const line of wrapText(subtitle, inner, SUBTITLE_SIZE)) {
      y += SUBTITLE_SIZE + 5;
      parts.push(
        `<text x="${PAD_X}" y="${y - 4}" font-size="${SUBTITLE_SIZE}" fill="#555">${
          escapeHtml(line)
        }</text>`,
      );
    }
  }
  for (const legend of legends) {
    y += 6;
    const drawn = legend.type === "ramp"
      ? rampLegend(legend, PAD_X, y)
      : swatchLegend(legend, PAD_X, y, inner);
    parts.push(drawn.markup);
    y += drawn.height;
  }
  y += title || subtitle || legends.length ? 10 : 0;
  // Plot's own attributes (class, text-anchor, font…) go on the content group, not the document.
  const contentAttributes = Object.entries({
    ...content.attributes,
    "font-size": String(FONT_SIZE),
  })
    .filter(([name]) => !["xmlns", "font-family", "fill"].includes(name))
    .map(([name, value]) => ` ${name}="${escapeHtml(value)}"`).join("");
  parts.push(
    `<g transform="translate(${PAD_X},${y})"${contentAttributes}>${
      roundCoordinates(content.markup)
    }</g>`,
  );
  y += content.height;
  if (caption) {
    y += 4;
    for (const line of wrapText(caption, inner, LEGEND_SIZE)) {
      y += LEGEND_SIZE + 5;
      parts.push(
        `<text x="${PAD_X}" y="${y - 4}" font-size="${LEGEND_SIZE}" fill="#555">${
          escapeHtml(line)
        }</text>`,
      );
    }
  }
  const height = Math.ceil(y + PAD_Y);
  return `<svg xmlns="${SVG_NS}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"` +
    ` font-family="${FONT_FAMILY}" font-size="${FONT_SIZE}" fill="currentColor"` +
    ` style="max-width:100%;height:auto;background:white;color:#222">` +
    `<rect width="100%" height="100%" fill="white"/>${parts.join("")}</svg>`;
}

/** Splits text into lines that fit `width` at `fontSize`, by estimated glyph width. */
function wrapText(text: string, width: number, fontSize: number): string[] {
  const maxChars = Math.max(10, Math.floor(width / (fontSize * CHAR_WIDTH)));
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && (line + " " + word).length > maxChars) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** Estimated width of text in pixels. */
function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * CHAR_WIDTH;
}

/** A swatch row that wraps: square, line or dot, then the label. */
function swatchLegend(
  legend: SwatchLegend,
  x0: number,
  y0: number,
  width: number,
): { markup: string; height: number } {
  const parts: string[] = [];
  let x = x0;
  let y = y0;
  if (legend.label) {
    parts.push(
      `<text x="${x}" y="${y + 14}" font-size="${LEGEND_SIZE}" font-weight="600">${
        escapeHtml(legend.label)
      }</text>`,
    );
    // Bold text runs wider than the average glyph width assumes.
    x += textWidth(legend.label, LEGEND_SIZE) * 1.2 + 12;
  }
  for (const item of legend.items) {
    const itemWidth = 22 + textWidth(item.label, LEGEND_SIZE) + 16;
    if (x > x0 && x + itemWidth > x0 + width) {
      x = x0;
      y += LEGEND_ROW;
    }
    const color = escapeHtml(item.color);
    const mid = y + 10;
    const shape = item.shape ?? "square";
    if (shape === "line") {
      const dash = item.dash ? ` stroke-dasharray="${escapeHtml(item.dash)}"` : "";
      parts.push(
        `<line x1="${x}" x2="${
          x + 18
        }" y1="${mid}" y2="${mid}" stroke="${color}" stroke-width="2"${dash}/>`,
      );
    } else if (shape === "dot") {
      parts.push(`<circle cx="${x + 9}" cy="${mid}" r="4.5" fill="${color}"/>`);
    } else {
      parts.push(`<rect x="${x + 2}" y="${mid - 7}" width="14" height="14" fill="${color}"/>`);
    }
    parts.push(
      `<text x="${x + 22}" y="${y + 14}" font-size="${LEGEND_SIZE}">${
        escapeHtml(item.label)
      }</text>`,
    );
    x += itemWidth;
  }
  return { markup: `<g aria-label="legend">${parts.join("")}</g>`, height: y - y0 + LEGEND_ROW };
}

let gradientCounter = 0;

/** A horizontal gradient bar with a label above and ticks below. */
function rampLegend(
  legend: RampLegend,
  x0: number,
  y0: number,
): { markup: string; height: number } {
  const { label, domain: [lo, hi], color, format = formatValue } = legend;
  // Ids must be unique in a page that holds many charts (a notebook's HTML export).
  const id = `frame-ramp-${++gradientCounter}-${Math.random().toString(36).slice(2, 8)}`;
  const t = (v: number) => hi === lo ? 0 : (v - lo) / (hi - lo);
  const stops = Array.from({ length: 17 }, (_, i) => i / 16).map((u) =>
    `<stop offset="${(u * 100).toFixed(1)}%" stop-color="${
      escapeHtml(color(lo + (hi - lo) * u))
    }"/>`
  ).join("");
  const yBar = y0 + (label ? 18 : 0);
  const ticks = (d3.ticks(lo, hi, 5) as number[]).map((v) => {
    const x = x0 + t(v) * RAMP_WIDTH;
    return `<line x1="${x}" x2="${x}" y1="${yBar}" y2="${yBar + RAMP_HEIGHT + 4}" stroke="#222"/>` +
      `<text x="${x}" y="${yBar + RAMP_HEIGHT + 16}" text-anchor="middle" font-size="${
        LEGEND_SIZE - 1
      }">${escapeHtml(format(v))}</text>`;
  }).join("");
  const title = label
    ? `<text x="${x0}" y="${y0 + 13}" font-size="${LEGEND_SIZE}" font-weight="600">${
      escapeHtml(label)
    }</text>`
    : "";
  const markup = `<g aria-label="color legend"><defs><linearGradient id="${id}">${stops}` +
    `</linearGradient></defs>${title}<rect x="${x0}" y="${yBar}" width="${RAMP_WIDTH}" ` +
    `height="${RAMP_HEIGHT}" fill="url(#${id})"/>${ticks}</g>`;
  return { markup, height: yBar - y0 + RAMP_HEIGHT + 20 };
}

/**
 * A short readable number: 3 significant digits, exponent form for very small or large ones.
 *
 * @param v The number.
 * @returns Its text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatValue(0.98765), "0.988");
 * assert.equal(formatValue(0.00001), "1.0e-5");
 * assert.equal(formatValue(NaN), "NaN");
 * ```
 */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}

/**
 * Rounds long decimals in coordinate attributes (`d`, `transform`, `cx`…) to two places, which
 * keeps charts with many points small without visible change.
 */
function roundCoordinates(markup: string): string {
  return markup.replace(
    / (d|transform|cx|cy|x|y|x1|x2|y1|y2|width|height|points)="([^"]*)"/g,
    (_, name: string, value: string) =>
      ` ${name}="${value.replace(/(\d+\.\d\d)\d+/g, (m) => String(Number(Number(m).toFixed(2))))}"`,
  );
}
