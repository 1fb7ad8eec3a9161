import assert from "node:assert/strict";
import { setupBackend } from "../../lib/backend/backend.ts";
import { saveModel } from "../../lib/model/checkpoint.ts";
import { createModel } from "../../lib/model/network.ts";
import { FALLBACK_RECIPE, loadTrainedModel } from "../../lib/train/trained_model.ts";

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

Deno.test("loadTrainedModel() trains a stand-in, says so, and does not save it", async () => {
  const parent = await Deno.makeTempDir();
  const dir = `${parent}/missing`;
  const { model, source, metadata } = await loadTrainedModel({ dir });
  assert.match(source, /^trained here: no model was saved at .*missing/);
  assert.equal((metadata.history as unknown[]).length, 2 * FALLBACK_RECIPE.epochs);
  // Nothing was written, so the stand-in can never be mistaken for notebook 03's model.
  assert.deepEqual([...Deno.readDirSync(parent)], []);
  model.dispose();
  await Deno.remove(parent, { recursive: true });
});
