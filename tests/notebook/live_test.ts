import assert from "node:assert/strict";
import type { DisplayOptions } from "../../lib/notebook/jupyter.ts";
import { liveTraining } from "../../lib/notebook/live.ts";
import { setupBackend } from "../../lib/backend/backend.ts";
import { createModel } from "../../lib/model/network.ts";
import { loadSplits } from "../../lib/data/mnist.ts";
import { train } from "../../lib/train/train.ts";

await setupBackend({ log: false });

Deno.test("liveTraining() keeps one progress display and one chart, each updated in place", async () => {
  const { train: data, validation } = await loadSplits({ limit: 640 });
  const sent: { id?: string; update?: boolean; text: string }[] = [];
  const live = liveTraining({
    epochs: 3,
    batchesPerEpoch: 10,
    log: false,
    display: (obj: unknown, options?: DisplayOptions) => {
      const bundle = obj as Record<string, string>;
      sent.push({
        id: options?.display_id,
        update: options?.update,
        text: bundle["text/plain"] ?? "",
      });
      return Promise.resolve();
    },
  });
  const model = createModel();
  await train(model, data, { epochs: 3, validation, callbacks: live });
  await live.done();
  model.dispose();
  const ids = [...new Set(sent.map((s) => s.id))];
  assert.equal(ids.length, 2, `display ids: ${ids}`);
  for (const id of ids) {
    const messages = sent.filter((s) => s.id === id);
    assert.equal(messages[0].update, undefined, "the first message creates the display");
    assert.ok(messages.slice(1).every((m) => m.update === true), "later messages update it");
  }
  const charts = sent.filter((s) => s.text.startsWith("[Chart"));
  assert.equal(charts.length, 3, "the chart is redrawn once per epoch");
  assert.match(charts.at(-1)!.text, /Loss after epoch 3/);
  assert.match(sent.filter((s) => !s.text.startsWith("[Chart")).at(-1)!.text, /finished/);
});

Deno.test("liveTraining() drives the same displays from a loop written out by hand", async () => {
  const texts: string[] = [];
  const lines: string[] = [];
  const log = console.log;
  console.log = (line: unknown) => void lines.push(String(line));
  try {
    const live = liveTraining({
      epochs: 2,
      batchesPerEpoch: 2,
      display: (obj: unknown) => {
        texts.push((obj as Record<string, string>)["text/plain"] ?? "");
        return Promise.resolve();
      },
    });
    const history = [];
    for (let epoch = 1; epoch <= 2; epoch++) {
      for (let batch = 1; batch <= 2; batch++) {
        await live.afterBatch({ epoch, batch, batches: 2 }, 1);
      }
      history.push({ epoch, split: "train" as const, loss: 1 / epoch, accuracy: 0.5 });
      await live.afterEpoch({ epoch, history, seconds: 0.5 });
    }
    await live.done();
  } finally {
    console.log = log;
  }
  // The epoch's line holds only that epoch's rows; the chart is redrawn after each epoch.
  assert.deepEqual(lines, [
    "epoch 1/2: train loss 1.0000 (acc 50.00 %), 0.5 s",
    "epoch 2/2: train loss 0.5000 (acc 50.00 %), 0.5 s",
  ]);
  assert.equal(texts.filter((t) => t.startsWith("[Chart")).length, 2);
  assert.match(texts.at(-1)!, /finished/);
});
