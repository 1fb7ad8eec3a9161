import assert from "node:assert/strict";
import { jsBlas } from "../../lib/backend/js_blas.ts";
import { createWideNet } from "../../lib/train/wide_net.ts";
import {
  backward,
  forward,
  inkColumns,
  lossHead,
  relu,
  reluBackward,
} from "../../lib/train/grid_step.ts";
import { createRng } from "../../lib/util/random.ts";

// Signed zeros, the smallest subnormals, infinities and ordinary values of both signs.
const EDGES = [-0, 0, 1e-45, -1e-45, 1.5, -1.5, Infinity, -Infinity, 3e38, -3e38];

Deno.test("relu() gives max(x, 0) with +0 for every non-positive float, and stops at size", () => {
  const rng = createRng(1);
  const values = [...EDGES, ...Array.from({ length: 200 }, () => 4 * rng() - 2)];
  const x = Float32Array.from([...values, -7]);
  relu(x, values.length);
  values.forEach((v, i) => {
    const expected = v > 0 ? Math.fround(v) : 0;
    assert.ok(Object.is(x[i], expected), `relu(${v}) gave ${x[i]}, expected ${expected}`);
  });
  assert.equal(x[values.length], -7, "the float past size is left alone");
});

Deno.test("reluBackward() keeps δ where the activation is positive and writes +0 elsewhere", () => {
  const rng = createRng(2);
  const acts = [...EDGES, ...Array.from({ length: 200 }, () => (rng() < 0.5 ? 0 : 2 * rng() - 1))];
  const act = Float32Array.from(acts);
  const original = Float32Array.from(acts, () => 2 * rng() - 1);
  const delta = original.slice();
  reluBackward(delta, act, acts.length - 1);
  for (let i = 0; i < acts.length - 1; i++) {
    const expected = act[i] > 0 ? original[i] : 0;
    assert.ok(Object.is(delta[i], expected), `δ ${original[i]} at a = ${act[i]} gave ${delta[i]}`);
  }
  assert.equal(delta.at(-1), original.at(-1), "the float past size is left alone");
});

Deno.test("inkColumns() bounds the columns where some row is non-zero", () => {
  const rng = createRng(3);
  const [rows, inputs] = [9, 40];
  for (let trial = 0; trial < 200; trial++) {
    const x = new Float32Array(rows * inputs);
    // Each row inked in a random span (or blank), sparsely inside it.
    for (let r = 0; r < rows; r++) {
      if (rng() < 0.3) continue;
      const a = Math.floor(rng() * inputs), b = a + Math.floor(rng() * (inputs - a));
      for (let c = a; c <= b; c++) if (c === a || c === b || rng() < 0.3) x[r * inputs + c] = rng();
    }
    let lo = inputs, hi = 0;
    x.forEach((v, i) => {
      if (v === 0) return;
      lo = Math.min(lo, i % inputs);
      hi = Math.max(hi, (i % inputs) + 1);
    });
    assert.deepEqual(inkColumns(x, rows, inputs), [lo, hi], `trial ${trial}`);
  }
  assert.deepEqual(inkColumns(new Float32Array(rows * inputs), rows, inputs), [inputs, 0]);
  // Only the first `rows` rows count.
  const tail = new Float32Array(3 * inputs);
  tail[2 * inputs + 5] = 1;
  assert.deepEqual(inkColumns(tail, 2, inputs), [inputs, 0]);
  assert.deepEqual(inkColumns(tail, 3, inputs), [5, 6]);
});

Deno.test("backward() outside the inked columns decays each model's velocity by its momentum, or clears the gradient", () => {
  const sizes = [784, 8, 10];
  const rows = 5;
  const rng = createRng(5);
  const sgd = (momentum: number) => ({
    optimizer: { kind: "sgd", learningRate: 0.1, momentum } as const,
    dropout: 0,
  });
  const x = new Float32Array(rows * 784);
  // Ink only in columns 100–599: the first 100 and last 184 are blank in every row.
  for (let r = 0; r < rows; r++) for (let c = 100; c < 600; c++) x[r * 784 + c] = rng();
  const labels = Int32Array.from({ length: rows }, (_, r) => r % 10);
  const head = { loss: new Float64Array(3), correct: new Int32Array(3) };
  const kernels = { blas: jsBlas(), wide: jsBlas() };
  for (const fused of [true, false]) {
    const net = createWideNet(sizes, [sgd(0.5), sgd(0.9), sgd(0)], rows);
    net.params.forEach((_, i) => (net.params[i] = 0.1 * (rng() - 0.5)));
    if (!fused) net.fusedMomenta = null;
    const buffer = fused ? net.state1 : net.grads;
    buffer.forEach((_, i) => (buffer[i] = rng() - 0.5));
    const before = buffer.slice();
    forward(kernels, net, x, rows, null);
    lossHead(net, labels, rows, head);
    backward(kernels, net, x, rows);
    [0.5, 0.9, 0].forEach((momentum, k) => {
      for (let u = 0; u < 8; u++) {
        for (const c of [0, 50, 99, 600, 700, 783]) {
          const i = (k * 8 + u) * 784 + c;
          const expected = fused ? Math.fround(momentum * before[i]) : 0;
          // === : a velocity times momentum 0 may be −0 where BLAS writes +0.
          assert.ok(buffer[i] === expected, `fused ${fused}, model ${k}, unit ${u}, column ${c}`);
        }
      }
      // Inside the window the gradient is there, not just the decayed velocity.
      const moved = Array.from({ length: 8 * 500 }, (_, j) => {
        const i = (k * 8 + Math.floor(j / 500)) * 784 + 100 + (j % 500);
        return buffer[i] !== (fused ? Math.fround(momentum * before[i]) : 0);
      });
      assert.ok(moved.filter(Boolean).length > 1000, `fused ${fused}, model ${k}: gradients`);
    });
  }
});
