import assert from "node:assert/strict";
import { IMAGE_PIXELS } from "../../lib/data/mnist.ts";
import { inkOrder, inPixelOrder } from "../../lib/train/pixel_order.ts";
import { createWideNet, getModelWeights, setModelWeights } from "../../lib/train/wide_net.ts";
import { createRng } from "../../lib/util/random.ts";

/** Images whose pixel p is inked with probability `chance(p)`. */
function images(count: number, chance: (p: number) => number, seed = 1): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(count * IMAGE_PIXELS);
  for (let i = 0; i < out.length; i++) if (rng() < chance(i % IMAGE_PIXELS)) out[i] = rng();
  return out;
}

Deno.test("inkOrder() puts the most inked pixels first, ties in reading order, a permutation", () => {
  const x = images(300, (p) => (p % 28 > 5 && p % 28 < 22 ? 0.2 + (p % 7) / 10 : 0));
  const order = inkOrder(x);
  assert.deepEqual([...order].sort((a, b) => a - b), [...Array(IMAGE_PIXELS).keys()]);
  const inked = (p: number) => {
    let n = 0;
    for (let i = p; i < x.length; i += IMAGE_PIXELS) if (x[i] !== 0) n++;
    return n;
  };
  for (let q = 1; q < IMAGE_PIXELS; q++) {
    const [a, b] = [inked(order[q - 1]), inked(order[q])];
    assert.ok(a > b || (a === b && order[q - 1] < order[q]), `position ${q}`);
  }
  assert.equal(inkOrder(x), order, "computed once per array");
});

Deno.test("inPixelOrder() copies each image with its pixels in the order, into shared memory", () => {
  const x = images(5, () => 0.5);
  const order = inkOrder(x);
  const y = inPixelOrder(x, order);
  assert.ok(y.buffer instanceof SharedArrayBuffer);
  for (let i = 0; i < 5; i++) {
    for (let q = 0; q < IMAGE_PIXELS; q++) {
      assert.equal(y[i * IMAGE_PIXELS + q], x[i * IMAGE_PIXELS + order[q]]);
    }
  }
  assert.equal(inPixelOrder(x, order), y, "made once per array and order");
});

Deno.test("a wide net in pixel order reads and gives back each model's weights in tfjs's layout", () => {
  const sizes = [IMAGE_PIXELS, 6, 3];
  const order = inkOrder(images(50, (p) => (p * 7919) % 13 / 13));
  const spec = { optimizer: { kind: "sgd", learningRate: 0.1 } as const, dropout: 0 };
  const net = createWideNet(sizes, [spec, spec], 4, order);
  const rng = createRng(2);
  const layers = (n: number) =>
    sizes.slice(1).map((units, l) => ({
      kernel: Float32Array.from({ length: sizes[l] * units }, () => rng() + n),
      bias: Float32Array.from({ length: units }, () => rng() - n),
    }));
  const [first, second] = [layers(0), layers(1)];
  setModelWeights(net, 0, first);
  setModelWeights(net, 1, second);
  assert.deepEqual(getModelWeights(net, 0), first);
  assert.deepEqual(getModelWeights(net, 1), second);
  // Column q of unit u's row holds input order[q]'s weight.
  const units = sizes[1];
  assert.equal(net.params[2 * IMAGE_PIXELS + 5], first[0].kernel[order[5] * units + 2]);
});
