import assert from "node:assert/strict";
import { setupBackend } from "../../lib/backend/backend.ts";
import { firstExamples, loadSplits } from "../../lib/data/mnist.ts";
import { createModel } from "../../lib/model/network.ts";
import { predictProbabilities } from "../../lib/model/predict.ts";
import { train } from "../../lib/train/train.ts";

const splits = await loadSplits({ limit: 640 }); // 10 steps an epoch: the cpu backend is slow
const probe = firstExamples(splits.test, 100);

async function runOn(backend: "wasm-blas" | "wasm" | "cpu") {
  await setupBackend({ backend, log: false });
  const model = createModel({ seed: 3 });
  const result = await train(model, splits.train, { epochs: 2, validation: splits.validation });
  const probabilities = predictProbabilities(model, probe.images);
  model.dispose();
  return { history: result.history, probabilities };
}

Deno.test("training gives the same results on cpu, wasm and wasm-blas, within float32 tolerance", async () => {
  const reference = await runOn("cpu");
  for (const backend of ["wasm", "wasm-blas"] as const) {
    const other = await runOn(backend);
    assert.equal(reference.history.length, 4, "2 epochs of train and validation rows");
    assert.equal(other.history.length, reference.history.length, `${backend} history length`);
    other.history.forEach((row, i) => {
      const expected = reference.history[i];
      assert.equal(row.split, expected.split);
      assert.ok(
        Math.abs(row.loss - expected.loss) < 1e-4,
        `${backend} epoch ${row.epoch} ${row.split} loss ${row.loss} vs cpu ${expected.loss}`,
      );
      // At most one example may flip class from rounding differences.
      const count = row.split === "train" ? splits.train.count : splits.validation.count;
      assert.ok(Math.abs(row.accuracy - expected.accuracy) <= 1.5 / count, `${backend} accuracy`);
    });
    let worst = 0;
    other.probabilities.forEach((
      p,
      i,
    ) => (worst = Math.max(worst, Math.abs(p - reference.probabilities[i]))));
    assert.ok(worst < 1e-4, `${backend} probabilities differ from cpu by up to ${worst}`);
  }
  await setupBackend({ log: false });
});
