import assert from "node:assert/strict";
import { simdArrays, simdAvailable, simdRelu, simdReluBackward } from "../../lib/backend/simd.ts";
import { createRng } from "../../lib/util/random.ts";

// Signed zeros, subnormals, infinities, NaN with either sign bit, ordinary values.
const NEGATIVE_NAN = new Float32Array(new Int32Array([0xffc00000 | 0]).buffer)[0];
const EDGES = [-0, 0, 1e-45, -1e-45, 1.5, -1.5, Infinity, -Infinity, NaN, NEGATIVE_NAN, 3e38];

/** The float's bits, so +0 and −0 (and NaNs) compare as what they are. */
const bits = (x: Float32Array) => Array.from(new Int32Array(x.buffer, x.byteOffset, x.length));

Deno.test("simdArrays() gives zeroed arrays of the asked lengths, 16-byte aligned, apart", () => {
  const arrays = simdArrays([5, 0, 8, 3]);
  assert.deepEqual(arrays.map((a) => a.length), [5, 0, 8, 3]);
  for (const a of arrays) {
    assert.ok(a.every((v) => v === 0));
    if (simdAvailable()) assert.equal(a.byteOffset % 16, 0);
  }
  arrays[0].fill(7);
  assert.ok(arrays[2].every((v) => v === 0), "writing one array leaves the next alone");
});

Deno.test({
  name: "simdRelu() and simdReluBackward() give the scalar results bit for bit, tails included",
  ignore: !simdAvailable(),
  fn: () => {
    const rng = createRng(4);
    for (const size of [0, 1, 3, 4, 5, 11, 64, 301]) {
      const values = Array.from(
        { length: size },
        (_, i) => i < EDGES.length ? EDGES[i] : (rng() < 0.3 ? 0 : 4 * rng() - 2),
      );
      // One float past the end in each array, which must stay as it was.
      const [x, delta, act] = simdArrays([size + 1, size + 1, size + 1]);
      x.set([...values, -7]);
      // On the bits: the sign bit set (negatives, −0, the negative NaN) gives +0.
      const signed = (v: number) => new Int32Array(Float32Array.of(v).buffer)[0] < 0;
      const expected = Float32Array.from([...values.map((v) => (signed(v) ? 0 : v)), -7]);
      assert.ok(simdRelu(x, size));
      assert.deepEqual(bits(x), bits(expected), `relu, size ${size}`);

      act.set([...values, -7]);
      const original = Float32Array.from({ length: size + 1 }, () => 2 * rng() - 1);
      delta.set(original);
      const positive = (i: number) => new Int32Array(act.buffer, act.byteOffset)[i] > 0;
      const masked = original.map((d, i) => (i < size ? (positive(i) ? d : 0) : d));
      assert.ok(simdReluBackward(delta, act, size));
      assert.deepEqual(bits(delta), bits(masked), `backward, size ${size}`);
    }
  },
});

Deno.test("simdRelu() and simdReluBackward() leave arrays outside a wasm memory alone", () => {
  const x = Float32Array.from([-1, 2]);
  assert.equal(simdRelu(x, 2), false);
  assert.deepEqual(Array.from(x), [-1, 2]);
  const [inside] = simdArrays([2]);
  assert.equal(simdReluBackward(inside, x, 2), false, "act from elsewhere");
  assert.equal(simdReluBackward(x, inside, 2), false, "delta from elsewhere");
  if (simdAvailable()) {
    const [wide] = simdArrays([8]);
    assert.equal(simdRelu(wide.subarray(1), 4), false, "a view off the 16-byte grid");
  }
});
