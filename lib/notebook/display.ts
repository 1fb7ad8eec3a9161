/**
 * Displayable views: HTML and charts that show themselves in Jupyter through the kernel's
 * `Symbol.for("Jupyter.display")` protocol, inline and without JavaScript, in the notebook and in
 * `jupyter nbconvert`'s HTML. Send them with `await show(view)` (see `jupyter.ts` for why).
 *
 * @module
 */
import { type Displayable, JUPYTER_DISPLAY, type MediaBundle } from "./jupyter.ts";

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes text for use in HTML or SVG content and attribute values.
 *
 * @param text Any text.
 * @returns The text with `& < > " '` replaced by entities.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(escapeHtml(`a < b & "c"`), "a &lt; b &amp; &quot;c&quot;");
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * HTML that shows itself in Jupyter, e.g. a small table or a progress box.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JUPYTER_DISPLAY } from "./jupyter.ts";
 * const view = new HtmlView("<b>hi</b>", { text: "hi" });
 * assert.deepEqual(view[JUPYTER_DISPLAY](), { "text/html": "<b>hi</b>", "text/plain": "hi" });
 * ```
 */
export class HtmlView implements Displayable {
  /** The HTML markup. */
  readonly html: string;
  /** A plain-text stand-in, shown where HTML is not (terminals, `console.log`). */
  readonly text: string;

  /**
   * @param html The HTML markup.
   * @param options.text Plain-text stand-in. Default `"[HTML]"`.
   */
  constructor(html: string, options: { text?: string } = {}) {
    this.html = html;
    this.text = options.text ?? "[HTML]";
  }

  /** The media bundle Jupyter shows: HTML plus a plain-text fallback. */
  [JUPYTER_DISPLAY](): MediaBundle {
    return { "text/html": this.html, "text/plain": this.text };
  }

  /** The plain-text stand-in. */
  toString(): string {
    return this.text;
  }

  /**
   * Writes the HTML as a complete page (`.html`) so it can be opened in a browser.
   *
   * @param path Where to write.
   * @returns Resolves once written.
   */
  async save(path: string): Promise<void> {
    await Deno.writeTextFile(path, htmlPage(this.html, this.text));
  }
}

/**
 * A chart or picture as a standalone SVG document; shows itself inline in Jupyter and in
 * nbconvert's HTML (as inline SVG, no JavaScript needed).
 *
 * Its bundle holds the SVG once, as `text/html`: the type classic Notebook, JupyterLab (rank 50,
 * before SVG's 80), VS Code and nbconvert (`display_data_priority`) all render first, and the one
 * nbconvert's lab template inserts verbatim (it strips paths from `image/svg+xml`). An SVG copy
 * would double every saved chart for no reader.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JUPYTER_DISPLAY } from "./jupyter.ts";
 * const chart = new Chart('<svg xmlns="http://www.w3.org/2000/svg"></svg>', { title: "Empty" });
 * assert.equal(chart.html, chart.svg);
 * assert.deepEqual(Object.keys(chart[JUPYTER_DISPLAY]()), ["text/html", "text/plain"]);
 * assert.equal(String(chart), "[Chart: Empty]");
 * ```
 */
export class Chart extends HtmlView {
  /** The SVG document, with its `xmlns`, ready to be written to a `.svg` file. */
  readonly svg: string;
  /** The chart's title, or `""`. */
  readonly title: string;

  /**
   * @param svg A standalone SVG document (with `xmlns`).
   * @param options.title The chart's title, used in the plain-text stand-in.
   */
  constructor(svg: string, options: { title?: string } = {}) {
    const title = options.title ?? "";
    super(svg, { text: title ? `[Chart: ${title}]` : "[Chart]" });
    this.svg = svg;
    this.title = title;
  }

  /**
   * Writes the chart to a file: the SVG document for `.svg`, a small HTML page otherwise.
   *
   * @param path Where to write; the extension chooses the format.
   * @returns Resolves once written.
   */
  override async save(path: string): Promise<void> {
    if (path.toLowerCase().endsWith(".svg")) await Deno.writeTextFile(path, this.svg);
    else await super.save(path);
  }
}

/** A minimal HTML page around some markup. */
function htmlPage(body: string, title: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${
    escapeHtml(title)
  }</title></head><body style="margin:16px;background:white">${body}</body></html>\n`;
}

/**
 * Markdown that shows itself in Jupyter, rendered as formatted text in the notebook and in
 * nbconvert's HTML: for findings a notebook states from the numbers it just computed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JUPYTER_DISPLAY } from "./jupyter.ts";
 * const view = new MarkdownView("**97.4 %** test accuracy");
 * assert.equal(view[JUPYTER_DISPLAY]()["text/markdown"], "**97.4 %** test accuracy");
 * assert.equal(String(view), "**97.4 %** test accuracy");
 * ```
 */
export class MarkdownView implements Displayable {
  /** The markdown source. */
  readonly markdown: string;

  /** @param markdown The markdown source. */
  constructor(markdown: string) {
    this.markdown = markdown;
  }

  /** The media bundle Jupyter shows: markdown, and the same text as plain text. */
  [JUPYTER_DISPLAY](): MediaBundle {
    return { "text/markdown": this.markdown, "text/plain": this.markdown };
  }

  /** The markdown source. */
  toString(): string {
    return this.markdown;
  }
}

/**
 * Markdown to show with `await show(markdown(...))`.
 *
 * @param text The markdown source; lines of a list each start with `- `.
 * @returns A displayable markdown view.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(String(markdown("- a\n- b")), "- a\n- b");
 * ```
 */
export function markdown(text: string): MarkdownView {
  return new MarkdownView(text);
}
