/**
 * Showing results in Jupyter: a displayable wrapper for charts and HTML, a live progress line for
 * training, and a chart slot that redraws in place.
 *
 * A notebook cell shows a value with a `[Symbol.for("Jupyter.display")]()` method as the media
 * bundle that method returns; `jupyter nbconvert` keeps that bundle, so the same chart appears in
 * the notebook and, inline and without JavaScript, in the exported HTML. Outside a Jupyter kernel
 * (tests, the CLI) nothing here prints per batch.
 *
 * @module
 */

/** The symbol the Deno Jupyter kernel looks for on a cell's value (`Deno.jupyter.$display`). */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/** A Jupyter media bundle: media type → content. */
export type MediaBundle = Record<string, string>;

/** Anything the Deno Jupyter kernel can show as a media bundle. */
export interface Displayable {
  /** Returns the media bundle to show. */
  [JUPYTER_DISPLAY](): MediaBundle | Promise<MediaBundle>;
}

/** Options of `Deno.jupyter.display`, as of Deno 2.9. */
export interface DisplayOptions {
  /** The first argument is a media bundle to send as is. */
  raw?: boolean;
  /** Replace the output that carries `display_id` instead of adding one. */
  update?: boolean;
  /** Identifies an output so that it can be updated later. */
  display_id?: string;
}

/** The shape of `Deno.jupyter.display`; tests pass their own to record what would be shown. */
export type DisplayFunction = (obj: unknown, options?: DisplayOptions) => Promise<void>;

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
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const chart = new Chart('<svg xmlns="http://www.w3.org/2000/svg"></svg>', { title: "Empty" });
 * assert.equal(chart.html, chart.svg);
 * assert.equal(chart[JUPYTER_DISPLAY]()["image/svg+xml"], chart.svg);
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

  /** The media bundle Jupyter shows: inline SVG as HTML, the SVG itself, and a text fallback. */
  override [JUPYTER_DISPLAY](): MediaBundle {
    return { "text/html": this.html, "image/svg+xml": this.svg, "text/plain": this.text };
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
 * Tells whether code runs inside a Deno Jupyter kernel, where `Deno.jupyter` exists (reading it
 * anywhere else throws).
 *
 * @returns `true` in a kernel, `false` in `deno run`, `deno test` and the CLI.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(inJupyter(), false); // doc tests do not run in a kernel
 * ```
 */
export function inJupyter(): boolean {
  return jupyterDisplay() !== undefined;
}

/** `Deno.jupyter.display` when running in a kernel, otherwise `undefined`. */
function jupyterDisplay(): DisplayFunction | undefined {
  try {
    const jupyter = (Deno as unknown as { jupyter?: { display?: unknown } }).jupyter;
    const display = jupyter?.display;
    return typeof display === "function" ? (display as DisplayFunction) : undefined;
  } catch {
    return undefined; // the getter throws outside `deno jupyter`
  }
}

/**
 * Shows values one after another in Jupyter (like several cell results); outside a kernel prints
 * their plain-text form.
 *
 * @param items Charts, HTML views, polars DataFrames, strings, anything Jupyter can show.
 * @returns Resolves once everything is sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const shown: unknown[] = [];
 * const log = console.log;
 * console.log = (x: unknown) => shown.push(x);
 * try {
 *   await show(new HtmlView("<i>a</i>", { text: "a" }));
 * } finally {
 *   console.log = log;
 * }
 * assert.deepEqual(shown, ["a"]);
 * ```
 */
export async function show(...items: unknown[]): Promise<void> {
  const display = jupyterDisplay();
  for (const item of items) {
    if (display) await display(item);
    else console.log(item instanceof HtmlView ? item.text : item);
  }
}

/**
 * Prints a line to the cell's output, like `console.log`, but sent by the time the returned promise
 * resolves: in a kernel it is a `stream` message broadcast while the cell runs, so it lands in this
 * cell even under Run All (the kernel forwards `console.log` output asynchronously and labels it
 * with whichever cell is latest). Outside a kernel it is `console.log`.
 *
 * @param items Strings as they are, anything else as `Deno.inspect` shows it; joined by spaces.
 * @returns Resolves once the line is sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const printed: unknown[][] = [];
 * const log = console.log;
 * console.log = (...args: unknown[]) => printed.push(args);
 * try {
 *   await print("epoch", 1);
 * } finally {
 *   console.log = log;
 * }
 * assert.deepEqual(printed, [["epoch", 1]]);
 * ```
 */
export async function print(...items: unknown[]): Promise<void> {
  const broadcast = jupyterBroadcast();
  if (!broadcast) {
    console.log(...items);
    return;
  }
  const text = items.map((item) =>
    typeof item === "string" ? item : Deno.inspect(item, { colors: false })
  ).join(" ");
  await broadcast("stream", { name: "stdout", text: `${text}\n` });
}

/** `Deno.jupyter.broadcast` when running in a kernel, otherwise `undefined`. */
function jupyterBroadcast(): BroadcastFunction | undefined {
  try {
    const jupyter = (Deno as unknown as { jupyter?: { broadcast?: unknown } }).jupyter;
    const broadcast = jupyter?.broadcast;
    return typeof broadcast === "function" ? (broadcast as BroadcastFunction) : undefined;
  } catch {
    return undefined; // the getter throws outside `deno jupyter`
  }
}

/** The shape of `Deno.jupyter.broadcast`: sends one message on the kernel's IOPub channel. */
export type BroadcastFunction = (
  messageType: string,
  content: Record<string, unknown>,
) => Promise<void>;

/** Options of {@linkcode htmlTable}. */
export interface HtmlTableOptions {
  /** Columns to show, in order. Default: the keys of the first row. */
  columns?: string[];
  /** Formats a cell; numbers default to at most 4 decimals. */
  format?: (value: unknown, column: string) => string;
  /** A caption above the table. */
  caption?: string;
}

/**
 * A small HTML table of plain objects, for a handful of rows (use a polars DataFrame for more).
 *
 * @param rows The rows.
 * @param options.columns Columns to show, in order. Default: the keys of the first row.
 * @param options.format Formats a cell; numbers default to at most 4 decimals.
 * @param options.caption A caption above the table.
 * @returns A displayable HTML table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const table = htmlTable([{ name: "a<b", value: 1 / 3 }]);
 * assert.ok(table.html.includes(">a&lt;b</td>"));
 * assert.ok(table.html.includes("0.3333"));
 * ```
 */
export function htmlTable(
  rows: readonly Record<string, unknown>[],
  options: HtmlTableOptions = {},
): HtmlView {
  const { columns = Object.keys(rows[0] ?? {}), format = formatCell, caption } = options;
  const th = "padding:3px 10px;border-bottom:1px solid #999;text-align:right";
  const td = "padding:2px 10px;text-align:right;font-variant-numeric:tabular-nums";
  const head = columns.map((c) => `<th style="${th}">${escapeHtml(c)}</th>`).join("");
  const body = rows.map((row) =>
    `<tr>${
      columns.map((c) => `<td style="${td}">${escapeHtml(format(row[c], c))}</td>`).join("")
    }</tr>`
  ).join("");
  const cap = caption
    ? `<caption style="caption-side:top;text-align:left;font-weight:600;padding:4px 0">${
      escapeHtml(caption)
    }</caption>`
    : "";
  const html =
    `<table style="border-collapse:collapse;font:13px system-ui,sans-serif;color:#222;background:white">${cap}<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  const text = [
    columns.join("\t"),
    ...rows.map((r) => columns.map((c) => format(r[c], c)).join("\t")),
  ]
    .join("\n");
  return new HtmlView(html, { text });
}

/** Default cell formatting: numbers with at most 4 decimals, everything else as text. */
function formatCell(value: unknown): string {
  if (typeof value === "number") {
    return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(4)));
  }
  return value === undefined || value === null ? "" : String(value);
}

/** Options of {@linkcode createProgress}. */
export interface ProgressOptions {
  /** Batches in the whole run (all epochs), used for the bar and the time left. */
  total: number;
  /** What is running, shown first. Default `"Training"`. */
  label?: string;
  /** Number of epochs, to show "epoch 3/10". */
  epochs?: number;
  /** Batches per epoch, to show "batch 120/797". */
  batchesPerEpoch?: number;
  /** Least time between two redraws, in milliseconds. Default 250 (at most 4 per second). */
  minIntervalMs?: number;
  /** Where to show it. Default: `Deno.jupyter.display` in a kernel, nowhere elsewhere. */
  display?: DisplayFunction;
  /** Clock in milliseconds. Default `performance.now`. */
  now?: () => number;
}

/** What a training loop reports after a batch. */
export interface ProgressStats {
  /** Current epoch (as the caller counts, usually from 1). */
  epoch?: number;
  /** Batch within the epoch (as the caller counts, usually from 1). */
  batch?: number;
  /** Batches done in the whole run; default: one more than at the last update. */
  step?: number;
  /** This batch's loss; the display shows the mean over the epoch so far. */
  loss?: number;
  /** Any other number to show, e.g. `accuracy`. */
  [key: string]: number | undefined;
}

/** A live progress display created by {@linkcode createProgress}. */
export interface Progress {
  /**
   * Records a finished batch and redraws when the last redraw is old enough.
   *
   * @param stats Epoch, batch, loss and any other numbers.
   * @returns Resolves once a redraw (if any) was sent.
   */
  update(stats: ProgressStats): Promise<void>;
  /**
   * Redraws one last time, marked as finished.
   *
   * @param stats Final numbers to show, if any.
   * @returns Resolves once sent.
   */
  done(stats?: ProgressStats): Promise<void>;
  /** The current state as a displayable (for tests and custom use). */
  view(): HtmlView;
  /** Batches recorded so far. */
  readonly step: number;
  /** Number of redraws sent so far. */
  readonly redraws: number;
}

/**
 * Formats a duration as `m:ss` or `h:mm:ss`.
 *
 * @param seconds The duration.
 * @returns The formatted duration, or `"?"` if not finite.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatDuration(75.4), "1:15");
 * assert.equal(formatDuration(3725), "1:02:05");
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** Up to 4 significant digits, "NaN" for diverged values. */
function formatStat(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 1000 ? value.toFixed(0) : String(Number(value.toPrecision(4)));
}

/**
 * A live progress box for a training loop: one output in Jupyter, redrawn in place (at most every
 * `minIntervalMs`), showing epoch, batch, mean loss of the epoch so far, elapsed and estimated time
 * left. Outside a Jupyter kernel it shows nothing (the CLI prints one line per epoch itself).
 *
 * @param options Total batches, label, epochs and batches per epoch, redraw interval.
 * @returns The progress display; call `update` after each batch and `done` at the end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const progress = createProgress({ total: 4 }); // not in a kernel: shows nothing
 * for (let batch = 1; batch <= 4; batch++) await progress.update({ epoch: 1, batch, loss: 1 / batch });
 * await progress.done();
 * assert.equal(progress.step, 4);
 * assert.equal(progress.redraws, 0);
 * assert.match(progress.view().text, /loss 0\.5208/); // (1 + 1/2 + 1/3 + 1/4) / 4
 * ```
 */
export function createProgress(options: ProgressOptions): Progress {
  const {
    total,
    label = "Training",
    epochs,
    batchesPerEpoch,
    minIntervalMs = 250,
    display = jupyterDisplay(),
    now = () => performance.now(),
  } = options;
  if (!(total > 0)) {
    throw new RangeError(`Cannot create progress: total must be a positive number, found ${total}`);
  }
  const displayId = `progress-${crypto.randomUUID()}`;
  const start = now();
  let step = 0;
  let redraws = 0;
  let lastDraw = -Infinity;
  let finished = false;
  let last: ProgressStats = {};
  let lossEpoch: number | undefined;
  let lossSum = 0;
  let lossCount = 0;
  let chain: Promise<void> = Promise.resolve();

  function record(stats: ProgressStats): void {
    step = stats.step ?? step + 1;
    if (stats.epoch !== lossEpoch) {
      lossEpoch = stats.epoch;
      lossSum = 0;
      lossCount = 0;
    }
    if (stats.loss !== undefined) {
      lossSum += stats.loss;
      lossCount++;
    }
    last = stats;
  }

  function view(): HtmlView {
    const elapsed = (now() - start) / 1000;
    const fraction = Math.min(1, step / total);
    const left = step > 0 ? elapsed * (total - step) / step : NaN;
    const where: string[] = [];
    if (last.epoch !== undefined) where.push(`epoch ${last.epoch}${epochs ? `/${epochs}` : ""}`);
    if (last.batch !== undefined) {
      where.push(`batch ${last.batch}${batchesPerEpoch ? `/${batchesPerEpoch}` : ""}`);
    }
    const numbers: string[] = [];
    if (lossCount > 0) numbers.push(`loss ${formatStat(lossSum / lossCount)}`);
    for (const [key, value] of Object.entries(last)) {
      if (["epoch", "batch", "step", "loss"].includes(key) || typeof value !== "number") continue;
      numbers.push(`${key} ${formatStat(value)}`);
    }
    const timing = finished
      ? [`finished in ${formatDuration(elapsed)}`]
      : [`${formatDuration(elapsed)} elapsed`, `about ${formatDuration(left)} left`];
    const percent = `${(fraction * 100).toFixed(0)}%`;
    const text = `${label}: ${[...where, ...numbers, percent, ...timing].join(", ")}`;
    const bar = finished ? "#3ca951" : "#4269d0";
    const html = `<div style="font:13px system-ui,sans-serif;color:#222;background:white;` +
      `padding:6px 0;max-width:640px">` +
      `<div><b>${escapeHtml(label)}</b> ${escapeHtml(where.join(" · "))}</div>` +
      `<div style="background:#e6e6e6;height:8px;border-radius:4px;margin:4px 0;width:100%">` +
      `<div style="background:${bar};height:8px;border-radius:4px;width:${
        (fraction * 100).toFixed(1)
      }%"></div></div>` +
      `<div style="font-variant-numeric:tabular-nums">${
        escapeHtml([...numbers, percent, ...timing].join(" · "))
      }</div></div>`;
    return new HtmlView(html, { text });
  }

  function draw(): Promise<void> {
    if (!display) return Promise.resolve();
    const bundle = view()[JUPYTER_DISPLAY]();
    const first = redraws === 0;
    redraws++;
    lastDraw = now();
    chain = chain.then(() =>
      display(
        bundle,
        first ? { raw: true, display_id: displayId } : {
          raw: true,
          display_id: displayId,
          update: true,
        },
      )
    ).catch(() => {/* a failed redraw must not stop training */});
    return chain;
  }

  return {
    update(stats: ProgressStats): Promise<void> {
      record(stats);
      if (!display) return Promise.resolve();
      // The first update always draws: lastDraw starts at -Infinity.
      if (step >= total || now() - lastDraw >= minIntervalMs) return draw();
      return Promise.resolve();
    },
    done(stats?: ProgressStats): Promise<void> {
      if (stats) record(stats);
      finished = true;
      return draw();
    },
    view,
    get step() {
      return step;
    },
    get redraws() {
      return redraws;
    },
  };
}

/** A display slot created by {@linkcode createLiveChart}. */
export interface LiveChart {
  /**
   * Shows `item` in the slot, replacing what it showed before.
   *
   * @param item A chart or anything else Jupyter can show.
   * @returns Resolves once sent.
   */
  update(item: unknown): Promise<void>;
  /** The Jupyter display id of the slot. */
  readonly id: string;
}

/**
 * One output in a Jupyter cell that can be redrawn in place, e.g. the loss chart after each epoch.
 * Outside a kernel `update` does nothing.
 *
 * @param options.display Where to show it. Default: `Deno.jupyter.display` in a kernel, nowhere
 * elsewhere.
 * @returns The slot.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const sent: unknown[] = [];
 * const slot = createLiveChart({ display: async (obj, opts) => void sent.push([obj, opts]) });
 * await slot.update(new HtmlView("<p>1</p>"));
 * await slot.update(new HtmlView("<p>2</p>"));
 * assert.equal(sent.length, 2);
 * ```
 */
export function createLiveChart(options: { display?: DisplayFunction } = {}): LiveChart {
  const { display = jupyterDisplay() } = options;
  const id = `live-${crypto.randomUUID()}`;
  let shown = false;
  return {
    id,
    async update(item: unknown): Promise<void> {
      if (!display) return;
      // A displayable is sent as its bundle; anything else is left to the kernel to format.
      const raw = hasDisplay(item);
      const obj = raw ? await item[JUPYTER_DISPLAY]() : item;
      await display(obj, shown ? { raw, display_id: id, update: true } : { raw, display_id: id });
      shown = true;
    },
  };
}

function hasDisplay(item: unknown): item is Displayable {
  return typeof item === "object" && item !== null &&
    typeof (item as Partial<Displayable>)[JUPYTER_DISPLAY] === "function";
}
