/**
 * A live progress box for training loops: one Jupyter output redrawn in place.
 *
 * @module
 */
import { escapeHtml, HtmlView } from "./display.ts";
import { type DisplayFunction, flush, JUPYTER_DISPLAY, jupyterDisplay } from "./jupyter.ts";

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
    throw new RangeError(
      `Cannot create progress: option total is ${total}, expected a positive number`,
    );
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
    async done(stats?: ProgressStats): Promise<void> {
      if (stats) record(stats);
      finished = true;
      await draw();
      await flush(); // the last redraw is often the cell's last output
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
