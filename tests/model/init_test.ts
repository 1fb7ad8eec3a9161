import assert from "node:assert/strict";
import { createModel } from "../../lib/model/network.ts";
import { pytorchInitialWeights } from "../../lib/model/init.ts";
import { readWeights } from "../../lib/train/host_step.ts";
import { createRng } from "../../lib/util/random.ts";

Deno.test("pytorchInitialWeights() is createModel({ seed })'s network, drawn layer by layer", () => {
  const model = createModel({ seed: 7 });
  const expected = readWeights(model);
  model.dispose();
  const weights = pytorchInitialWeights([784, 128, 64, 10], 7);
  assert.deepEqual(weights, expected);

  // The first value is the generator's first draw scaled to ±1/√784; the first layer comes
  // first, so a shorter stack starts with the same layer.
  const bound = 1 / Math.sqrt(784);
  assert.equal(weights[0].kernel[0], Math.fround(-bound + 2 * bound * createRng(7)()));
  assert.deepEqual(pytorchInitialWeights([784, 128], 7), weights.slice(0, 1));
  assert.notDeepEqual(pytorchInitialWeights([784, 128], 8), weights.slice(0, 1));
});
