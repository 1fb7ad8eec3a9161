import assert from "node:assert/strict";
import { HtmlView } from "../../lib/notebook/display.ts";
import type { DisplayOptions } from "../../lib/notebook/jupyter.ts";
import { createLiveChart } from "../../lib/notebook/live_chart.ts";

/** Records what would be sent to Jupyter. */
function recorder() {
  const sent: { obj: unknown; options: DisplayOptions }[] = [];
  const display = (obj: unknown, options: DisplayOptions = {}) => {
    sent.push({ obj, options });
    return Promise.resolve();
  };
  return { sent, display };
}

Deno.test("createLiveChart() creates one output, then updates it in place", async () => {
  const { sent, display } = recorder();
  const slot = createLiveChart({ display });
  await slot.update(new HtmlView("<p>epoch 1</p>", { text: "1" }));
  await slot.update(new HtmlView("<p>epoch 2</p>", { text: "2" }));
  await slot.update("plain text");
  assert.deepEqual(sent.map((s) => s.options), [
    { raw: true, display_id: slot.id },
    { raw: true, display_id: slot.id, update: true },
    { raw: false, display_id: slot.id, update: true },
  ]);
  assert.deepEqual(sent[1].obj, { "text/html": "<p>epoch 2</p>", "text/plain": "2" });
  assert.equal(sent[2].obj, "plain text", "anything else is left to the kernel to format");
  const quiet = createLiveChart();
  await quiet.update(new HtmlView("<p/>")); // not in a kernel: nothing happens, nothing throws
});
