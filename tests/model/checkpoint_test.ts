import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { loadModel, saveModel } from "../../lib/model/checkpoint.ts";
import { createModel } from "../../lib/model/network.ts";
import { createRng, uniform } from "../../lib/util/random.ts";
import { setupBackend } from "../../lib/backend/backend.ts";

await setupBackend();

const inputs = uniform(20 * 784, 0, 1, createRng(1));

function predictions(model: tf.LayersModel): Float32Array {
  return tf.tidy(() => model.predict(tf.tensor2d(inputs, [20, 784])) as tf.Tensor)
    .dataSync() as Float32Array;
}

Deno.test("saveModel() and loadModel() round-trip to identical predictions and metadata", async () => {
  const dir = await Deno.makeTempDir();
  const model = createModel({ seed: 4 });
  const saved = await saveModel(model, dir, { metadata: { testAccuracy: 0.9736 } });
  const loaded = await loadModel(dir);
  assert.deepEqual(predictions(loaded), predictions(model));
  assert.deepEqual(loaded.getUserDefinedMetadata(), { testAccuracy: 0.9736 });
  assert.deepEqual(loaded.layers.map((l) => l.name), model.layers.map((l) => l.name));
  assert.equal(saved.weightBytes, 109_386 * 4);
  const json = JSON.parse(await Deno.readTextFile(join(dir, "model.json")));
  assert.equal(json.format, "layers-model");
  assert.deepEqual(json.weightsManifest[0].paths, [saved.weightsPath.split("/").at(-1)]);
  model.dispose();
  loaded.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("saveModel() stores metadata as JSON, dropping undefined values", async () => {
  const dir = await Deno.makeTempDir();
  const model = createModel();
  await saveModel(model, dir, { metadata: { limit: undefined, loss: NaN, epochs: 30 } });
  const loaded = await loadModel(dir);
  assert.deepEqual(loaded.getUserDefinedMetadata(), { loss: null, epochs: 30 });
  [model, loaded].forEach((m) => m.dispose());
  await Deno.remove(dir, { recursive: true });
});

Deno.test("saveModel() replaces a checkpoint without leaving stale or temporary files", async () => {
  const dir = await Deno.makeTempDir();
  const a = createModel({ seed: 1 }), b = createModel({ seed: 2 });
  await saveModel(a, dir);
  await saveModel(b, dir);
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.equal(names.length, 2, `files: ${names}`);
  assert.ok(names.includes("model.json"));
  const loaded = await loadModel(join(dir, "model.json"));
  assert.deepEqual(predictions(loaded), predictions(b));
  [a, b, loaded].forEach((m) => m.dispose());
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a saved checkpoint loads with tf.loadLayersModel over HTTP, as in a browser", async () => {
  const dir = await Deno.makeTempDir();
  const model = createModel({ seed: 5 });
  await saveModel(model, dir);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const name = new URL(request.url).pathname.slice(1);
    try {
      return new Response(await Deno.readFile(join(dir, name)));
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const loaded = await tf.loadLayersModel(`http://127.0.0.1:${server.addr.port}/model.json`);
  assert.deepEqual(predictions(loaded), predictions(model));
  await server.shutdown();
  model.dispose();
  loaded.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadModel() explains a missing or corrupt checkpoint", async (t) => {
  const dir = await Deno.makeTempDir();
  const model = createModel();
  const { weightsPath } = await saveModel(model, dir);
  const modelPath = join(dir, "model.json");
  const good = await Deno.readTextFile(modelPath);

  await t.step("missing folder", async () => {
    await assert.rejects(loadModel(join(dir, "nowhere")), /nowhere\/model.json" does not exist/);
  });
  await t.step("truncated weights", async () => {
    const bytes = await Deno.readFile(weightsPath);
    await Deno.writeFile(weightsPath, bytes.subarray(0, 1000));
    await assert.rejects(loadModel(dir), /needs 437544 bytes of weights, found 1000/);
    await Deno.writeFile(weightsPath, bytes);
  });
  await t.step("missing weights file", async () => {
    await Deno.rename(weightsPath, `${weightsPath}.away`);
    await assert.rejects(loadModel(dir), /weights file ".*weights-[0-9a-f]+\.bin" does not exist/);
    await Deno.rename(`${weightsPath}.away`, weightsPath);
  });
  await t.step("invalid JSON", async () => {
    await Deno.writeTextFile(modelPath, good.slice(0, 50));
    await assert.rejects(loadModel(dir), /model.json": it is not valid JSON/);
  });
  await t.step("JSON that is not a model", async () => {
    await Deno.writeTextFile(modelPath, JSON.stringify({ hello: 1 }));
    await assert.rejects(loadModel(dir), /expected a tfjs layers model .* found keys hello/);
  });
  model.dispose();
  await Deno.remove(dir, { recursive: true });
});
