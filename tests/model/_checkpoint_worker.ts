/**
 * A separate process for the checkpoint concurrency tests:
 *
 *     save DIR COUNT TAG   saves COUNT distinct models into DIR, then creates DIR/../TAG.done
 *     load DIR DONE        loads DIR in a loop until the file DONE exists
 *     hold DIR             takes DIR's save lock and never lets go (to be killed: a crashed saver)
 *
 * Each saved model has bias `linear3/bias[0]` equal to its metadata's `stamp`, so a reader can
 * check that the `model.json` and the weights it loaded belong together. Prints one JSON line.
 */
import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { setupBackend } from "../../lib/backend/backend.ts";
import { loadModel, saveModel } from "../../lib/model/checkpoint.ts";
import { withFileLock } from "../../lib/util/file_lock.ts";
import { createModel } from "../../lib/model/network.ts";

await setupBackend({ backend: "cpu", log: false });
const [mode, dir, arg, tag] = Deno.args;

if (mode === "hold") {
  await withFileLock(join(dir, ".model.lock"), async () => {
    console.log("holding");
    await new Promise(() => {});
  }, { where: { action: "save checkpoint", subject: dir } });
} else if (mode === "save") {
  const model = createModel({ seed: 1 });
  const bias = model.getLayer("linear3").getWeights()[1];
  const kernel = model.getLayer("linear3").getWeights()[0];
  let errors = 0;
  for (let i = 0; i < Number(arg); i++) {
    const stamp = Number(`${tag.length}${i}`) + Math.random();
    const values = bias.arraySync() as number[];
    values[0] = stamp;
    const next = tf.tensor1d(values);
    model.getLayer("linear3").setWeights([kernel, next]);
    next.dispose();
    try {
      await saveModel(model, dir, { metadata: { stamp, tag } });
    } catch (error) {
      errors++;
      console.error(`save ${i}: ${(error as Error).message}`);
    }
  }
  await Deno.writeTextFile(join(dir, "..", `${tag}.done`), "");
  console.log(JSON.stringify({ saves: Number(arg), errors }));
} else {
  let loads = 0, failures = 0, mismatches = 0;
  const messages = new Set<string>();
  while (true) {
    const done = await Deno.stat(arg).then(() => true, () => false);
    try {
      const model = await loadModel(dir);
      const stamp = (model.getUserDefinedMetadata() as { stamp: number }).stamp;
      const bias = model.getLayer("linear3").getWeights()[1].dataSync()[0];
      if (Math.fround(stamp) !== bias) mismatches++;
      model.dispose();
      loads++;
    } catch (error) {
      failures++;
      messages.add((error as Error).message);
    }
    if (done) break;
  }
  console.log(JSON.stringify({ loads, failures, mismatches, messages: [...messages] }));
}
