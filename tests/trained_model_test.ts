import assert from "node:assert/strict";
import { setupBackend } from "../lib/backend.ts";
import { saveModel } from "../lib/checkpoint.ts";
import { createModel } from "../lib/model.ts";
import { FALLBACK_RECIPE, loadTrainedModel } from "../lib/trained_model.ts";

await setupBackend({ log: false });

Deno.test("loadTrainedModel() loads the saved checkpoint and says where it came from", async () => {
  const dir = await Deno.makeTempDir();
  const saved = createModel({ seed: 9 });
  await saveModel(saved, dir, { metadata: { config: { epochs: 30 } } });
  const { model, source, metadata } = await loadTrainedModel({ dir });
  assert.match(source, /^loaded from /);
  assert.deepEqual(metadata, { config: { epochs: 30 } });
  assert.deepEqual(model.getWeights()[0].dataSync(), saved.getWeights()[0].dataSync());
  [saved, model].forEach((m) => m.dispose());
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadTrainedModel() trains, saves and says so when no checkpoint exists", async () => {
  const dir = `${await Deno.makeTempDir()}/missing`;
  const first = await loadTrainedModel({ dir });
  assert.match(first.source, /^trained here: no model was saved at .*missing/);
  assert.equal((first.metadata.history as unknown[]).length, 2 * FALLBACK_RECIPE.epochs);
  // The model it trained is now saved: the next call loads it instead of training again.
  const second = await loadTrainedModel({ dir });
  assert.match(second.source, /^loaded from /);
  assert.deepEqual(second.model.getWeights()[0].dataSync(), first.model.getWeights()[0].dataSync());
  [first.model, second.model].forEach((m) => m.dispose());
});
