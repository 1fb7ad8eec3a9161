/**
 * Talking to the Deno Jupyter kernel: the display protocol, and `show` / `print`, through which
 * every notebook output goes.
 *
 * **The display rule: every output is sent while its own cell runs.** Write `await show(chart)`,
 * not a bare `chart` as the cell's last expression, and `await print(line)`, not `console.log`.
 *
 * Why: Deno's kernel (2.9.6) sends a cell's value, its `console.log` lines and its displays through
 * one queue, drained by a separate task that labels each message with the execute request current
 * *when it is published*, while the cell's reply and `idle` status are sent straight away. What is
 * still queued when the cell ends is published after `idle`: Jupyter's `nbclient` (behind
 * `jupyter nbconvert --execute`) has stopped listening by then and drops it, and under Run All
 * (Jupyter, VS Code), where the next cell's request is already waiting, it lands in the next cell.
 * Measured with a client that runs cells one after another, as nbclient does: 16 of 150 bare
 * last-expression values and 9 of 150 cells ending in an awaited display were published after
 * `idle`. `show` and `print` therefore send their output and then {@linkcode flush}: wait until
 * the kernel has published it (a marker sent after it comes back on the kernel's IOPub channel;
 * see `iopub_barrier.ts`). A fixed pause of 10 ms, used before, still lost one chart in a CI run
 * on a loaded machine.
 *
 * Outside a kernel (tests, the CLI) `show` and `print` fall back to `console.log` and do not wait.
 *
 * @module
 */
import { connectionFileFromCmdline, iopubAddress, IopubBarrier } from "./iopub_barrier.ts";

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

/** The shape of `Deno.jupyter.broadcast`: sends one message on the kernel's IOPub channel. */
export type BroadcastFunction = (
  messageType: string,
  content: Record<string, unknown>,
) => Promise<void>;

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

/**
 * `Deno.jupyter.display` when running in a kernel, otherwise `undefined`.
 *
 * @returns The kernel's display function, or `undefined` outside a kernel.
 */
export function jupyterDisplay(): DisplayFunction | undefined {
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
 * import { HtmlView } from "./display.ts";
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
    else console.log(isDisplayable(item) ? String(item) : item);
  }
  if (display) await flush();
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
  await flush();
}

/**
 * Milliseconds {@linkcode flush} pauses where it cannot confirm publication (a kernel whose IOPub
 * port it cannot find): 1 ms sufficed in each of 300 measured cells, and ten times that leaves a
 * margin, but no pause holds on a machine loaded enough.
 */
export const FLUSH_MS = 10;

/**
 * Waits until the kernel has published what this cell sent so far, so that it lands in this cell
 * before the cell goes on or ends (see the module documentation). `show` and `print` call it; call
 * it after `Deno.jupyter.display` or `broadcast` used directly. Outside a kernel it returns at once.
 *
 * In a Deno kernel on Linux it is a barrier ({@link IopubBarrier}): it sends a marker after the
 * cell's outputs and waits until the kernel publishes it. Elsewhere it pauses {@linkcode FLUSH_MS}
 * ms.
 *
 * @returns Resolves once everything sent before is published (or after the pause).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const started = performance.now();
 * await flush(); // not in a kernel: nothing to wait for
 * assert.ok(performance.now() - started < FLUSH_MS);
 * ```
 */
export async function flush(): Promise<void> {
  if (!inJupyter()) return;
  const broadcast = jupyterBroadcast();
  const barrier = broadcast && await kernelBarrier();
  if (barrier && broadcast) {
    try {
      return await barrier.wait(broadcast);
    } catch (error) {
      barrierConnection = undefined; // connect again next time
      console.warn(
        `flush(): could not confirm that the kernel published this cell's outputs ` +
          `(${(error as Error).message}); pausing ${FLUSH_MS} ms instead`,
      );
    }
  }
  await new Promise((resolve) => setTimeout(resolve, FLUSH_MS));
}

/** The kernel's IOPub subscription, made on first use; resolves to `undefined` where impossible. */
let barrierConnection: Promise<IopubBarrier | undefined> | undefined;

function kernelBarrier(): Promise<IopubBarrier | undefined> {
  barrierConnection ??= (async () => {
    let path: string | undefined;
    try {
      path = connectionFileFromCmdline(await Deno.readTextFile("/proc/self/cmdline"));
    } catch {
      return undefined; // no /proc (macOS, Windows): pause instead
    }
    if (path === undefined) return undefined; // not started with --conn: pause instead
    try {
      return await IopubBarrier.connect(iopubAddress(await Deno.readTextFile(path), path));
    } catch (error) {
      console.warn(
        `flush(): cannot subscribe to the kernel's IOPub channel (${(error as Error).message}); ` +
          `outputs are followed by a ${FLUSH_MS} ms pause instead`,
      );
      return undefined;
    }
  })();
  return barrierConnection;
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

/**
 * Tells whether a value carries its own media bundle (`[Symbol.for("Jupyter.display")]()`).
 *
 * @param item Any value.
 * @returns `true` for charts, HTML views and other displayables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isDisplayable({ [JUPYTER_DISPLAY]: () => ({ "text/plain": "x" }) }), true);
 * assert.equal(isDisplayable("x"), false);
 * ```
 */
export function isDisplayable(item: unknown): item is Displayable {
  return typeof item === "object" && item !== null &&
    typeof (item as Partial<Displayable>)[JUPYTER_DISPLAY] === "function";
}
