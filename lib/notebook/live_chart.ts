/**
 * A chart slot: one Jupyter output that is redrawn in place, e.g. the loss chart after each epoch.
 *
 * @module
 */
import {
  type DisplayFunction,
  flush,
  isDisplayable,
  JUPYTER_DISPLAY,
  jupyterDisplay,
} from "./jupyter.ts";

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
 * import { HtmlView } from "./display.ts";
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
      const raw = isDisplayable(item);
      const obj = raw ? await item[JUPYTER_DISPLAY]() : item;
      await display(obj, shown ? { raw, display_id: id, update: true } : { raw, display_id: id });
      shown = true;
      await flush();
    },
  };
}
