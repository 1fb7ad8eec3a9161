import assert from "node:assert/strict";
import { createRng, deriveSeed, permutation, uniform } from "../../lib/util/random.ts";

Deno.test("createRng() is uniform on [0, 1): mean, variance and deciles match the uniform law", () => {
  const rng = createRng(123);
  const n = 100_000;
  const deciles = new Array(10).fill(0);
  let sum = 0, sumSq = 0;
  for (let i = 0; i < n; i++) {
    const x = rng();
    assert.ok(x >= 0 && x < 1);
    sum += x;
    sumSq += x * x;
    deciles[Math.floor(x * 10)]++;
  }
  const mean = sum / n, variance = sumSq / n - mean * mean;
  assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1 / 12) < 0.002, `variance ${variance}`);
  // Each decile expects 10,000 ± 95 (binomial standard deviation); allow five of them.
  deciles.forEach((count, d) => assert.ok(Math.abs(count - 10_000) < 500, `decile ${d}: ${count}`));
});

Deno.test("permutation() puts every index in every position equally often", () => {
  const n = 5, trials = 20_000;
  const counts = Array.from({ length: n }, () => new Array(n).fill(0));
  const rng = createRng(7);
  for (let t = 0; t < trials; t++) {
    permutation(n, rng).forEach((value, position) => counts[value][position]++);
  }
  // Expected trials / n = 4,000 per cell, standard deviation about 57.
  for (const row of counts) {
    for (const count of row) assert.ok(Math.abs(count - trials / n) < 300, `${count}`);
  }
});

Deno.test("deriveSeed() gives distinct, reproducible streams per part", () => {
  const seeds = new Set<number>();
  for (let epoch = 0; epoch < 1000; epoch++) seeds.add(deriveSeed(0, epoch));
  assert.equal(seeds.size, 1000);
  assert.equal(deriveSeed(5, 1, 2), deriveSeed(5, 1, 2));
  assert.notEqual(deriveSeed(5, 1, 2), deriveSeed(5, 2, 1));
  assert.notEqual(deriveSeed(0, 1), deriveSeed(1, 1));
});

Deno.test("uniform() scales to its bounds", () => {
  const xs = uniform(10_000, -0.25, 0.75, createRng(9));
  assert.ok(xs.every((x) => x >= -0.25 && x < 0.75));
  assert.ok(Math.min(...xs) < -0.24 && Math.max(...xs) > 0.74);
});
