import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { nllHead, nllHeads } from "../../lib/model/nll.ts";
import { createRng } from "../../lib/util/random.ts";

/** Each network's block of a wide `rows × models·classes` matrix, as its own `rows × classes`. */
function block(wide: Float32Array, rows: number, models: number, classes: number, k: number) {
  const out = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    out.set(wide.subarray((r * models + k) * classes, (r * models + k + 1) * classes), r * classes);
  }
  return out;
}

Deno.test("nllHeads() gives each network side by side what tfjs's log-softmax and softmax give it", () => {
  const rows = 7, models = 3, classes = 10;
  const rng = createRng(4);
  // Logits of very different scales per network: near chance, confident, and huge (overflow-prone).
  const scales = [0.1, 5, 300];
  const logits = new Float32Array(rows * models * classes).map((_, i) =>
    (rng() * 2 - 1) * scales[Math.floor(i / classes) % models]
  );
  const labels = Int32Array.from({ length: rows }, (_, r) => (r * 3) % classes);
  const result = { loss: new Float64Array(models), correct: new Int32Array(models) };
  const delta = new Float32Array(logits.length);
  nllHeads(logits, labels, rows, models, classes, result, delta);
  for (let k = 0; k < models; k++) {
    const own = block(logits, rows, models, classes, k);
    const [loss, correct, gradient] = tf.tidy(() => {
      const z = tf.tensor2d(own, [rows, classes]);
      const oneHot = tf.oneHot(tf.tensor1d(labels, "int32"), classes);
      const nll = tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(z), oneHot), 1)));
      const right = tf.sum(tf.equal(tf.argMax(z, 1), tf.tensor1d(labels, "int32")));
      const grad = tf.div(tf.sub(tf.softmax(z), oneHot), rows);
      return [nll.dataSync()[0], right.dataSync()[0], grad.dataSync() as Float32Array];
    });
    assert.ok(Math.abs(result.loss[k] - loss) <= 1e-5 * Math.max(1, loss), `loss of network ${k}`);
    assert.equal(result.correct[k], correct, `count right of network ${k}`);
    const ours = block(delta, rows, models, classes, k);
    ours.forEach((v, i) => assert.ok(Math.abs(v - gradient[i]) < 1e-6, `network ${k}, δ[${i}]`));
    // One network alone gives the same numbers as its block among three.
    const alone = nllHead(own, labels, classes);
    assert.equal(alone.loss, result.loss[k]);
    assert.deepEqual(alone.delta, ours);
  }
});

Deno.test("nllHeads() without a delta gives the loss and count of the first `models` networks, zero past them", () => {
  const result = { loss: new Float64Array([9, 9]), correct: new Int32Array([9, 9]) };
  nllHeads(new Float32Array([2, 0]), [0], 1, 1, 2, result, null);
  assert.ok(Math.abs(result.loss[0] - Math.log1p(Math.exp(-2))) < 1e-7);
  assert.deepEqual([...result.correct], [1, 0]);
  assert.equal(result.loss[1], 0); // a compacted grid's unused slots read zero
});
