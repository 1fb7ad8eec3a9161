import assert from "node:assert/strict";
import { assertNear } from "../near.ts";
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../../lib/backend/backend.ts";
import { loadSplits } from "../../lib/data/mnist.ts";
import { createModel } from "../../lib/model/network.ts";
import { type LrLossPoint, rangeTest, suggestLearningRate } from "../../lib/train/lr_finder.ts";

await setupBackend({ log: false });

/**
 * A synthetic range test on a grid of ln-spaced rates, lr = 10^x for x = −5, −4.95, …, 1: the loss
 * falls along a logistic curve centred on x = −2.025 (the middle of the segment from −2.05 to −2,
 * so that segment is the steepest, with no tie), bottoms out at x = −0.5 where a steep linear
 * blow-up starts, and keeps growing.
 */
function syntheticCurve(): LrLossPoint[] {
  return Array.from({ length: 121 }, (_, i) => {
    const x = -5 + 0.05 * i;
    const fall = 2 / (1 + Math.exp(-(x + 2.025) / 0.25));
    const blowUp = x > -0.5 ? 20 * (x + 0.5) : 0;
    return { learningRate: 10 ** x, loss: 2.3 - fall + blowUp };
  });
}

Deno.test("suggestLearningRate() finds the steepest fall, the minimum and the blow-up", () => {
  const points = syntheticCurve();
  const result = suggestLearningRate(points, { smoothing: 1 });
  // Steepest segment: x from −2.05 (i = 59) to −2; the left end is suggested, as fastai does.
  assert.equal(result.suggested, points[59].learningRate);
  // Minimum at x = −0.5 (i = 90): loss 2.3 − 2σ(6.1) = 0.30448. Four times that is 1.2179; the
  // next point, x = −0.45, has 2.3 − 2σ(6.3) + 1 = 1.30367 and is the first one cut.
  assert.equal(result.minLossRate, points[90].learningRate);
  assert.equal(result.minLossRateOver10, points[90].learningRate / 10);
  assert.equal(result.stoppedAt, 91);
  assert.equal(result.smoothed.length, 91);
  assert.deepEqual(result.smoothed, points.slice(0, 91)); // smoothing 1 keeps the raw losses
});

Deno.test("suggestLearningRate() smooths with a bias-corrected moving average", async (t) => {
  const at = (losses: number[]) => losses.map((loss, i) => ({ learningRate: 10 ** (i - 5), loss }));
  await t.step("by hand, weight 0.5", () => {
    // avg: 0.5, 1.25, 2.125; corrections 1 − 0.5, 1 − 0.25, 1 − 0.125.
    const { smoothed } = suggestLearningRate(at([1, 2, 3]), { smoothing: 0.5 });
    const expected = [1, 1.25 / 0.75, 2.125 / 0.875];
    smoothed.forEach((p, i) => assertNear(p.loss, expected[i], 1e-12));
  });
  await t.step("a constant loss stays constant from the first point", () => {
    const { smoothed } = suggestLearningRate(at([2.3, 2.3, 2.3, 2.3]));
    for (const p of smoothed) assertNear(p.loss, 2.3, 1e-12);
  });
  await t.step("the default lags behind the raw curve, moving the suggestion right", () => {
    const points = syntheticCurve();
    const { suggested, minLossRate } = suggestLearningRate(points);
    // A weight of 0.05 delays features by about 0.95 / 0.05 = 19 points, about one decade here.
    assert.ok(suggested! > points[59].learningRate && suggested! < points[59 + 25].learningRate);
    assert.ok(minLossRate >= points[90].learningRate);
    assert.ok(suggested! < minLossRate);
  });
});

Deno.test("suggestLearningRate() handles curves that never fall or hit NaN", async (t) => {
  const at = (losses: number[]) => losses.map((loss, i) => ({ learningRate: 10 ** (i - 5), loss }));
  await t.step("rising loss: no suggestion, minimum at the first rate", () => {
    const result = suggestLearningRate(at([1, 1.5, 2, 2.5]), { smoothing: 1 });
    assert.equal(result.suggested, null);
    assert.equal(result.minLossRate, 1e-5);
  });
  await t.step("a steeper fall after the minimum does not count", () => {
    // Falls 0.1, 0.7, 0.5 to the minimum 1.0 at 1e-2, then a bump whose fall of 1.8 is later.
    const result = suggestLearningRate(at([2.3, 2.2, 1.5, 1.0, 3.0, 1.2]), { smoothing: 1 });
    assert.equal(result.minLossRate, 1e-2);
    assert.equal(result.suggested, 1e-4);
  });
  await t.step("a NaN loss cuts the curve", () => {
    const result = suggestLearningRate(at([2.3, 2.0, 1.0, NaN, 0.5]), { smoothing: 1 });
    assert.equal(result.stoppedAt, 3);
    assert.equal(result.smoothed.length, 3);
    assert.equal(result.suggested, 1e-4); // 2.0 → 1.0 is the steeper fall
  });
  await t.step("bad input", () => {
    const good = at([2, 1]);
    const cases: [() => unknown, RegExp][] = [
      [() => suggestLearningRate([]), /points is empty/],
      [() => suggestLearningRate(good, { smoothing: 0 }), /option smoothing is 0/],
      [() => suggestLearningRate(good, { smoothing: 1.5 }), /option smoothing is 1\.5/],
      [() => suggestLearningRate(good, { divergenceFactor: 1 }), /option divergenceFactor is 1/],
      [
        () => suggestLearningRate([{ learningRate: 1, loss: 2 }, { learningRate: 1, loss: 1 }]),
        /points\[1\]\.learningRate is 1, .*increasing/,
      ],
      [
        () => suggestLearningRate(at([NaN, 1])),
        /the first point's loss is NaN, expected a finite number/,
      ],
    ];
    for (const [call, message] of cases) {
      assert.throws(call, (e: Error) => e instanceof RangeError && message.test(e.message));
    }
  });
});

Deno.test("rangeTest() sweeps rising rates on MNIST, stops on divergence, suggests a rate", async () => {
  const { train } = await loadSplits({ limit: 2000 });
  const before = tf.memory().numTensors;
  const model = createModel({ seed: 0 });
  const steps = 100; // about three epochs of 32 batches
  const result = await rangeTest(model, train, { steps, seed: 0 });
  model.dispose();
  assert.equal(tf.memory().numTensors, before);

  const { points, suggestion } = result;
  // Rates: 1e-5 · (10 / 1e-5)^(i / 99), i.e. six decades over 99 steps.
  points.forEach((p, i) => {
    assertNear(p.learningRate, 1e-5 * 1e6 ** (i / (steps - 1)), 1e-9, `rate ${i}: `);
  });
  // It ended early, at the first batch whose loss exceeded 4 × the best before it.
  assert.equal(result.stopReason, "divergence");
  assert.ok(points.length < steps);
  const firstBlowUp = points.findIndex((p, i) =>
    i > 0 && p.loss > 4 * Math.min(...points.slice(0, i).map((q) => q.loss))
  );
  assert.equal(firstBlowUp, points.length - 1);
  // Measured (same on cpu, wasm and wasm-blas): the loss stays at ln 10 ≈ 2.30 up to about 0.05,
  // falls until about 0.7 and blows up near 2.5; suggested 0.53, minimum 0.71. Below 1e-3 the
  // sweep cannot have learnt anything measurable, and 1 is past the minimum in every seed we
  // tried (10 seeds: suggested 0.40–0.93); training 5 epochs on these 2,000 examples at 0.1–0.5
  // reaches 84–92 % validation accuracy, at 1 only 44–64 %, at 0.01 about 47 %.
  const { suggested, minLossRate } = suggestion;
  assert.ok(suggested !== null && suggested >= 1e-3 && suggested <= 1, `suggested ${suggested}`);
  assert.ok(suggested < minLossRate, `${suggested} vs ${minLossRate}`);
  assert.ok(minLossRate < points.at(-1)!.learningRate);
});

Deno.test("rangeTest() checks its options before training", async () => {
  const split = { images: new Float32Array(4 * 784), labels: new Uint8Array(4), count: 4 };
  const model = createModel({ seed: 0 });
  const weights = model.getWeights()[0].dataSync().slice();
  const cases: [Parameters<typeof rangeTest>[2], RegExp][] = [
    [{ steps: 1 }, /option steps is 1/],
    [{ minLr: -1 }, /option minLr is -1/],
    [{ maxLr: 1e-6 }, /option maxLr is 0\.000001/],
    [{ batchSize: 0 }, /option batchSize is 0/],
    [{ smoothing: 2 }, /option smoothing is 2/],
    [{ steps: 10, divergenceFactor: 0.5 }, /option divergenceFactor is 0\.5/],
  ];
  for (const [options, message] of cases) {
    await assert.rejects(
      rangeTest(model, split, options),
      (e: Error) => e instanceof RangeError && message.test(e.message),
    );
  }
  assert.deepEqual(model.getWeights()[0].dataSync(), weights);
  model.dispose();
});
