/**
 * The order in which the host step keeps a network's inputs: pixels sorted by how many training
 * images ink them, most first. MNIST digits leave a fifth of their box blank and the rest unevenly
 * inked, so in this order the pixels a batch of 64 inks all come first (about 610 of 784, against
 * about 700 from the first to the last inked pixel in reading order), and the first layer's
 * products can stop there (`inkColumns` in `grid_step.ts`): a tenth less work per step.
 *
 * The order is a relabelling of the inputs, so it changes nothing but float rounding: the first
 * layer's weights are stored in the same order (`setModelWeights` and `getModelWeights` translate),
 * and the images the host step sees are copies in that order, made once per split.
 *
 * Both are kept per images array (and let go with it), so a split's images must not be changed in
 * place between trainings: make a new array instead, as `augment` and `takeExamples` do.
 *
 * @module
 */
import { IMAGE_PIXELS } from "../data/mnist.ts";

const orders = new WeakMap<Float32Array, Int32Array>();
const copies = new WeakMap<Float32Array, WeakMap<Int32Array, Float32Array>>();

/**
 * The pixels by how many of these images ink them (are non-zero), most first; ties in reading
 * order. Computed once per array.
 *
 * @param images `n × 784` pixels.
 * @returns `order[q]` is the pixel that comes q-th.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const images = new Float32Array(2 * 784);
 * images[5] = images[784 + 5] = images[784 + 3] = 1;
 * assert.deepEqual(Array.from(inkOrder(images).subarray(0, 4)), [5, 3, 0, 1]);
 * ```
 */
export function inkOrder(images: Float32Array): Int32Array {
  const cached = orders.get(images);
  if (cached) return cached;
  const inked = new Int32Array(IMAGE_PIXELS);
  for (let i = 0; i < images.length; i += IMAGE_PIXELS) {
    for (let p = 0; p < IMAGE_PIXELS; p++) if (images[i + p] !== 0) inked[p]++;
  }
  const order = Int32Array.from({ length: IMAGE_PIXELS }, (_, p) => p)
    .sort((a, b) => inked[b] - inked[a] || a - b);
  orders.set(images, order);
  return order;
}

/**
 * The images with their pixels in `order` (`out[q] = image[order[q]]`), in shared memory so
 * workers can read them without a copy. Made once per array and order.
 *
 * @param images `n × 784` pixels.
 * @param order From {@linkcode inkOrder}.
 * @returns The reordered copy.
 */
export function inPixelOrder(images: Float32Array, order: Int32Array): Float32Array {
  const byOrder = copies.get(images) ?? new WeakMap<Int32Array, Float32Array>();
  copies.set(images, byOrder);
  const cached = byOrder.get(order);
  if (cached) return cached;
  const out = new Float32Array(new SharedArrayBuffer(images.byteLength));
  for (let i = 0; i < images.length; i += IMAGE_PIXELS) {
    for (let q = 0; q < IMAGE_PIXELS; q++) out[i + q] = images[i + order[q]];
  }
  byOrder.set(order, out);
  return out;
}
