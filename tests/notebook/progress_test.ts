import assert from "node:assert/strict";
import { createProgress, formatDuration } from "../../lib/notebook/progress.ts";
import type { DisplayOptions } from "../../lib/notebook/jupyter.ts";
import { parseMarkup } from "../svg_query.ts";

/** Records what would be sent to Jupyter. */
function recorder() {
  const sent: { obj: unknown; options: DisplayOptions }[] = [];
  const display = (obj: unknown, options: DisplayOptions = {}) => {
    sent.push({ obj, options });
    return Promise.resolve();
  };
  return { sent, display };
}

/** A clock the test moves by hand, in milliseconds. */
function manualClock(start = 0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

Deno.test("formatDuration() writes minutes and hours", () => {
  const cases: [number, string][] = [[0, "0:00"], [59.6, "1:00"], [61, "1:01"], [3600, "1:00:00"], [
    NaN,
    "?",
  ]];
  for (const [seconds, text] of cases) assert.equal(formatDuration(seconds), text);
});

Deno.test("createProgress() updates one display in place, at most every interval", async (t) => {
  const { sent, display } = recorder();
  const clock = manualClock();
  const progress = createProgress({
    total: 20,
    epochs: 2,
    batchesPerEpoch: 10,
    display,
    now: clock.now,
    minIntervalMs: 250,
  });
  for (let epoch = 1; epoch <= 2; epoch++) {
    for (let batch = 1; batch <= 10; batch++) {
      clock.advance(100); // 10 batches per second
      await progress.update({ epoch, batch, loss: epoch * 10 + batch, accuracy: 0.5 });
    }
  }
  await t.step("first display creates the output, later ones update it", () => {
    const id = sent[0].options.display_id;
    assert.ok(id);
    assert.deepEqual(sent[0].options, { raw: true, display_id: id });
    for (const s of sent.slice(1)) {
      assert.deepEqual(s.options, { raw: true, display_id: id, update: true });
    }
  });
  await t.step(
    "throttled: the first batch, then every third (300 ms ≥ 250 ms), and the last",
    () => {
      // Redraws at steps 1, 4, 7, …, 19 (every 300 ms after the first) and at 20 (the last batch).
      const expected = [1, 4, 7, 10, 13, 16, 19, 20].length;
      assert.equal(sent.length, expected);
      assert.equal(progress.redraws, expected);
    },
  );
  await t.step("the text shows position, epoch mean loss, elapsed and time left", () => {
    const last = (sent[sent.length - 1].obj as Record<string, string>)["text/plain"];
    // Epoch 2 losses 21…30 → mean 25.5; 20 of 20 batches in 2 s → nothing left.
    assert.equal(
      last,
      "Training: epoch 2/2, batch 10/10, loss 25.5, accuracy 0.5, 100%, 0:02 elapsed, about 0:00 left",
    );
    // After batch 10 of 20: epoch 1 losses 11…20 → mean 15.5; 1 s for half the run → 1 s left.
    const middle = (sent[3].obj as Record<string, string>)["text/plain"];
    assert.match(
      middle,
      /epoch 1\/2, batch 10\/10, loss 15\.5, .*50%, 0:01 elapsed, about 0:01 left/,
    );
  });
  await t.step("done() redraws once more, marked finished", async () => {
    clock.advance(500);
    await progress.done();
    const bundle = sent[sent.length - 1].obj as Record<string, string>;
    assert.match(bundle["text/plain"], /100%, finished in 0:03$/);
    assert.ok(bundle["text/html"].includes("width:100.0%"));
    assert.equal(sent[sent.length - 1].options.update, true);
  });
});

Deno.test("createProgress() shows nothing outside Jupyter and rejects a bad total", async () => {
  const progress = createProgress({ total: 3 });
  for (let batch = 1; batch <= 3; batch++) await progress.update({ epoch: 1, batch, loss: 1 });
  await progress.done();
  assert.equal(progress.redraws, 0);
  assert.equal(progress.step, 3);
  assert.throws(
    () => createProgress({ total: 0 }),
    /^RangeError: Cannot create progress: option total is 0, expected a positive number$/,
  );
});

Deno.test("createProgress() keeps going when a redraw fails", async () => {
  const progress = createProgress({
    total: 2,
    display: () => Promise.reject(new Error("kernel busy")),
  });
  await progress.update({ loss: 1 });
  await progress.update({ loss: 2 });
  assert.equal(progress.step, 2);
});

Deno.test("a progress view renders as HTML with the label escaped", () => {
  const progress = createProgress({ total: 4, label: "Fit <MLP>" });
  const doc = parseMarkup(progress.view().html);
  assert.equal(doc.querySelector("b")?.textContent, "Fit <MLP>");
});
