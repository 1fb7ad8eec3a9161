/**
 * Data augmentation on plain typed arrays: small random rotations and shifts of 28×28 digits, the
 * `RandomRotation` / `RandomAffine` of torchvision, and fixed or random rotations of a test set to
 * see how a network copes with tilted digits.
 *
 * Conventions, those of torchvision's `rotate` on tensors (and of `affine` with the angle negated,
 * since `affine` turns clockwise):
 *
 * - An image is 784 floats, row-major (row 0 at the top), values in [0, 1], background 0.
 * - Rotation is about the image centre (13.5, 13.5) in pixel-index coordinates (the middle of the
 *   four central pixels). A positive angle turns the digit counter-clockwise as seen on screen.
 * - After the rotation the image is shifted by `dx` pixels to the right and `dy` pixels down.
 * - Each output pixel is read from the source by inverse mapping with bilinear interpolation;
 *   source pixels outside the image count as 0 (background).
 *
 * So a rotation by a multiple of 90° or a shift by whole pixels moves pixels exactly, with no blur.
 * Checked against torchvision's recipe (its inverse affine matrix and sampling grid, then PyTorch's
 * `grid_sample`), transcribed into PyTorch 1.13, on 200 MNIST digits with random angles (±60°) and shifts (±4 px): largest difference
 * 3e-8, float32 rounding. Nothing here touches tfjs.
 *
 * @module
 */
import {
  finiteNumber,
  nonNegativeInteger,
  nonNegativeNumber,
  phrase,
  rangeError,
  typeError,
  type Where,
} from "../util/validate.ts";
import { IMAGE_PIXELS, IMAGE_SIDE } from "./mnist.ts";
import { createRng, deriveSeed } from "../util/random.ts";

/** A rotation followed by a shift. */
export interface Transform {
  /** Degrees, counter-clockwise on screen, about the centre (13.5, 13.5). Default 0. */
  angle?: number;
  /** Shift to the right in pixels (negative: left), after the rotation. Default 0. */
  dx?: number;
  /** Shift down in pixels (negative: up), after the rotation. Default 0. */
  dy?: number;
}

/** Options of {@linkcode augmentImages} and {@linkcode augmenter}. */
export interface AugmentOptions {
  /** Each image turns by a uniform random angle in ±`maxRotation` degrees. Default 15. */
  maxRotation?: number;
  /** Each image shifts by a uniform random `dx` and `dy` in ±`maxShift` pixels. Default 2. */
  maxShift?: number;
  /**
   * Round each shift to whole pixels, as torchvision's `RandomAffine(translate=…)` does. Default
   * `false`: real-valued (sub-pixel) shifts, drawn uniformly, so every offset is equally likely.
   */
  integerShifts?: boolean;
  /** Base seed. Default 0. */
  seed?: number;
  /** Epoch (a non-negative integer); each epoch draws new transforms. Default 0. */
  epoch?: number;
}

/** Options of {@linkcode randomlyRotateImages}. */
export interface RandomRotationOptions {
  /** Each image turns by a uniform random angle in ±`maxRotation` degrees. Default 30. */
  maxRotation?: number;
  /** Seed of the angles. Default 0. */
  seed?: number;
}

/** The transforms drawn for a batch of images, one entry per image. */
export interface RandomTransforms {
  /** Degrees, counter-clockwise. */
  angle: Float64Array;
  /** Pixels to the right. */
  dx: Float64Array;
  /** Pixels down. */
  dy: Float64Array;
}

/** Side of an image in pixels. */
const SIDE = IMAGE_SIDE;
/** Centre of rotation in pixel-index coordinates: the middle of a 28-pixel side. */
const CENTRE = (SIDE - 1) / 2;

/**
 * Extra part of the seed of the augmentation streams, so that `augmentImages({ seed, epoch })` does
 * not draw from the stream `train()` uses for the batch order of the same seed and epoch.
 */
const AUGMENT_STREAM = 0x61756701;
const ROTATE_STREAM = 0x61756702;

const AUGMENT_DEFAULTS = {
  maxRotation: 15,
  maxShift: 2,
  integerShifts: false,
  seed: 0,
  epoch: 0,
} as const;

/**
 * Rotates one image about its centre, with bilinear interpolation and a black background.
 *
 * @param src One image, 784 pixels.
 * @param angleDegrees Degrees; positive turns counter-clockwise on screen (torchvision's sign).
 * @param out Where to write the result (784 pixels, not `src` itself). Default: a new array.
 * @returns The rotated image (`out` when given).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const image = new Float32Array(784);
 * image[0 * 28 + 27] = 1; // top-right corner
 * const turned = rotateImage(image, 90); // a quarter turn counter-clockwise
 * assert.equal(turned[0 * 28 + 0], 1); // now top-left
 * ```
 */
export function rotateImage(
  src: Float32Array,
  angleDegrees: number,
  out?: Float32Array,
): Float32Array {
  const where = { action: "rotate the image" };
  finiteNumber(where, "angleDegrees", angleDegrees);
  return transformImage(src, { angle: angleDegrees }, out);
}

/**
 * Rotates one image about its centre, then shifts it, with bilinear interpolation and a black
 * background: torchvision's `affine(img, angle=-angle, translate=[dx, dy], scale=1, shear=0)`.
 *
 * @param src One image, 784 pixels.
 * @param transform Angle in degrees (counter-clockwise) and shifts in pixels (right, down).
 * @param out Where to write the result (784 pixels, not `src` itself). Default: a new array.
 * @returns The transformed image (`out` when given).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const image = new Float32Array(784);
 * image[10 * 28 + 10] = 1;
 * const moved = transformImage(image, { dx: 2, dy: -1 });
 * assert.equal(moved[9 * 28 + 12], 1); // one row up, two columns right
 * ```
 */
export function transformImage(
  src: Float32Array,
  transform: Transform,
  out?: Float32Array,
): Float32Array {
  const where = { action: "transform the image" };
  checkSingleImage(where, "src", src);
  const { angle = 0, dx = 0, dy = 0 } = transform;
  finiteNumber(where, "transform.angle", angle);
  finiteNumber(where, "transform.dx", dx);
  finiteNumber(where, "transform.dy", dy);
  if (out === undefined) out = new Float32Array(IMAGE_PIXELS);
  else {
    checkSingleImage(where, "out", out);
    checkNoOverlap(where, src, out);
  }
  const [cos, sin] = cosSinDegrees(angle);
  warpImage(src, 0, out, 0, cos, sin, dx, dy);
  return out;
}

/**
 * Draws one random rotation and shift per image, reproducibly from `(seed, epoch)`: angle, then
 * `dx`, then `dy` for image 0, then for image 1, and so on, from one generator seeded with
 * `deriveSeed(seed, epoch, …)`.
 *
 * @param count How many images.
 * @param options Ranges, seed and epoch (see {@linkcode AugmentOptions}).
 * @returns The angles and shifts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const { angle, dx } = randomTransforms(100, { maxRotation: 10, maxShift: 1, seed: 3, epoch: 1 });
 * assert.ok(angle.every((a) => Math.abs(a) <= 10));
 * assert.ok(dx.every((d) => Math.abs(d) <= 1));
 * ```
 */
export function randomTransforms(count: number, options: AugmentOptions = {}): RandomTransforms {
  const where = { action: "draw random transforms" };
  nonNegativeInteger(where, "count", count);
  const { maxRotation, maxShift, integerShifts, seed, epoch } = {
    ...AUGMENT_DEFAULTS,
    ...options,
  };
  nonNegativeNumber(where, "option maxRotation", maxRotation);
  nonNegativeNumber(where, "option maxShift", maxShift);
  finiteNumber(where, "option seed", seed);
  nonNegativeInteger(where, "option epoch", epoch);
  const rng = createRng(deriveSeed(seed, epoch, AUGMENT_STREAM));
  const angle = new Float64Array(count), dx = new Float64Array(count), dy = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    angle[i] = (2 * rng() - 1) * maxRotation;
    const x = (2 * rng() - 1) * maxShift, y = (2 * rng() - 1) * maxShift;
    // Math.round(-0.4) is -0; adding 0 turns it into +0 so shifts print and compare cleanly.
    dx[i] = integerShifts ? Math.round(x) + 0 : x;
    dy[i] = integerShifts ? Math.round(y) + 0 : y;
  }
  return { angle, dx, dy };
}

/**
 * Gives every image its own random rotation and shift (see {@linkcode randomTransforms}): the
 * augmentation of a training epoch. The same seed and epoch give the same images; another epoch
 * gives other ones.
 *
 * Speed: 0.33 s for the 51,000 training images on the project's shared 2-core machine, one thread
 * (median of 5 epochs at the defaults; PyTorch's `affine_grid` + `grid_sample`, which torchvision
 * uses, takes 1.0 s for the same work there with one thread).
 *
 * @param images `n × 784` pixels.
 * @param options Ranges, seed and epoch.
 * @returns A new array of the same length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const images = new Float32Array(3 * 784).fill(0.5);
 * const a = augmentImages(images, { seed: 1, epoch: 1 });
 * const b = augmentImages(images, { seed: 1, epoch: 1 });
 * const c = augmentImages(images, { seed: 1, epoch: 2 });
 * assert.deepEqual(a, b);
 * assert.notDeepEqual(a, c);
 * ```
 */
export function augmentImages(images: Float32Array, options: AugmentOptions = {}): Float32Array {
  const where = { action: "augment images" };
  const count = checkImages(where, "images", images);
  const { angle, dx, dy } = randomTransforms(count, options);
  const out = new Float32Array(images.length);
  for (let i = 0; i < count; i++) {
    const [cos, sin] = cosSinDegrees(angle[i]);
    warpImage(images, i * IMAGE_PIXELS, out, i * IMAGE_PIXELS, cos, sin, dx[i], dy[i]);
  }
  return out;
}

/**
 * Rotates every image by the same angle, e.g. a test set turned by 30° to probe robustness.
 *
 * @param images `n × 784` pixels.
 * @param angleDegrees Degrees, counter-clockwise on screen.
 * @returns A new array of the same length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const images = new Float32Array(2 * 784).map((_, i) => (i % 784) / 784);
 * const back = rotateImages(rotateImages(images, 180), 180);
 * assert.deepEqual(back, images);
 * ```
 */
export function rotateImages(images: Float32Array, angleDegrees: number): Float32Array {
  const where = { action: "rotate images" };
  const count = checkImages(where, "images", images);
  finiteNumber(where, "angleDegrees", angleDegrees);
  const [cos, sin] = cosSinDegrees(angleDegrees);
  const out = new Float32Array(images.length);
  for (let i = 0; i < count; i++) {
    warpImage(images, i * IMAGE_PIXELS, out, i * IMAGE_PIXELS, cos, sin, 0, 0);
  }
  return out;
}

/**
 * Rotates each image by its own uniform random angle in ±`maxRotation` degrees (no shift): a
 * randomly tilted copy of a test set. Reproducible from the seed.
 *
 * @param images `n × 784` pixels.
 * @param options Angle range (default ±30°) and seed.
 * @returns A new array of the same length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const images = new Float32Array(4 * 784).fill(1);
 * const tilted = randomlyRotateImages(images, { seed: 7 });
 * assert.deepEqual(tilted, randomlyRotateImages(images, { seed: 7 }));
 * assert.ok(tilted.every((v) => v >= 0 && v <= 1));
 * ```
 */
export function randomlyRotateImages(
  images: Float32Array,
  options: RandomRotationOptions = {},
): Float32Array {
  const where = { action: "rotate images at random" };
  const count = checkImages(where, "images", images);
  const { maxRotation = 30, seed = 0 } = options;
  nonNegativeNumber(where, "option maxRotation", maxRotation);
  finiteNumber(where, "option seed", seed);
  const rng = createRng(deriveSeed(seed, ROTATE_STREAM));
  const out = new Float32Array(images.length);
  for (let i = 0; i < count; i++) {
    const [cos, sin] = cosSinDegrees((2 * rng() - 1) * maxRotation);
    warpImage(images, i * IMAGE_PIXELS, out, i * IMAGE_PIXELS, cos, sin, 0, 0);
  }
  return out;
}

/**
 * Makes the `augment` hook of `train()`: each epoch gets freshly drawn rotations and shifts,
 * reproducible from the seed and the epoch.
 *
 * @param options Ranges and seed (the epoch comes from `train()`).
 * @returns `(images, epoch) => augmented images`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const augment = augmenter({ maxRotation: 10, maxShift: 1, seed: 0 });
 * const images = new Float32Array(784).fill(1);
 * assert.deepEqual(augment(images, 3), augmentImages(images, { maxRotation: 10, maxShift: 1, seed: 0, epoch: 3 }));
 * ```
 */
export function augmenter(
  options: Omit<AugmentOptions, "epoch"> = {},
): (images: Float32Array, epoch: number) => Float32Array {
  // Check the options now rather than at the first epoch.
  randomTransforms(0, options);
  return (images, epoch) => augmentImages(images, { ...options, epoch });
}

/**
 * Writes one transformed image. Output pixel (x, y) reads the source at the inverse-mapped point
 *   sx = cos·(x − c − dx) − sin·(y − c − dy) + c,   sy = sin·(x − c − dx) + cos·(y − c − dy) + c,
 * with c = 13.5 (y down, so a positive angle turns counter-clockwise on screen), bilinearly, and
 * pixels outside the image count as 0.
 *
 * Why it is not one loop over all pixels with four bounds checks each (0.5 s for 51,000 images,
 * against 0.33 s for this): a digit covers less than half of the image, and the checks cost about
 * as much as the interpolation. So we find the box of
 * non-zero source pixels, [left, right] × [top, bottom]. A sample can be non-zero only strictly
 * inside the zone (left − 1, right + 1) × (top − 1, bottom + 1), whose edges run along all-zero
 * columns and rows. Clamping each sample point into the zone therefore changes no value (outside it
 * the value is 0, and so it is on its edge), and keeps every read inside [zone, zone + 1 pixel]:
 * no bounds checks. Each output row computes only the run of pixels whose samples can reach the
 * zone (solved from the row's line, plus a pixel of margin against rounding); the rest is 0.
 * The zone plus one pixel must lie inside the source, so a digit touching the border is first
 * copied into a zero-padded 32 × 32 scratch image.
 *
 * Never read outside the typed array, not even for a zero weight: a single out-of-bounds read
 * turns V8's typed-array loads in the function into generic ones for good (measured 3–4× slower).
 */
function warpImage(
  src: Float32Array,
  srcStart: number,
  dst: Float32Array,
  dstStart: number,
  cos: number,
  sin: number,
  dx: number,
  dy: number,
): void {
  const box = BOX;
  if (!findBox(src, srcStart, box)) {
    dst.fill(0, dstStart, dstStart + IMAGE_PIXELS);
  } else if (box[0] >= 1 && box[1] <= SIDE - 3 && box[2] >= 1 && box[3] <= SIDE - 3) {
    warpZone(src, srcStart, SIDE, 0, dst, dstStart, cos, sin, dx, dy, box);
  } else {
    const padded = PADDED;
    for (let r = 0; r < SIDE; r++) {
      const from = srcStart + r * SIDE, to = (r + PAD) * PADDED_SIDE + PAD;
      for (let c = 0; c < SIDE; c++) padded[to + c] = src[from + c];
    }
    warpZone(padded, 0, PADDED_SIDE, PAD, dst, dstStart, cos, sin, dx, dy, box);
  }
}

/** Scratch for {@linkcode findBox}: `[left, right, top, bottom]`, inclusive. */
const BOX = new Int32Array(4);

/** Zero border of {@linkcode PADDED}, enough for reads one pixel beyond the zone. */
const PAD = 2;
const PADDED_SIDE = SIDE + 2 * PAD;
/** Scratch for digits touching the border; only its inner 28 × 28 is ever written. */
const PADDED = new Float32Array(PADDED_SIDE * PADDED_SIDE);

/**
 * Finds the columns `[left, right]` and rows `[top, bottom]` holding the non-zero pixels, scanning
 * inwards from each side and stopping at the first non-zero line; false if the image is all 0.
 */
function findBox(src: Float32Array, start: number, box: Int32Array): boolean {
  let top = 0;
  while (top < SIDE && rowIsZero(src, start, top)) top++;
  if (top === SIDE) return false;
  let bottom = SIDE - 1;
  while (rowIsZero(src, start, bottom)) bottom--;
  let left = 0;
  while (columnIsZero(src, start, left, top, bottom)) left++;
  let right = SIDE - 1;
  while (columnIsZero(src, start, right, top, bottom)) right--;
  box[0] = left;
  box[1] = right;
  box[2] = top;
  box[3] = bottom;
  return true;
}

function rowIsZero(src: Float32Array, start: number, row: number): boolean {
  const from = start + row * SIDE;
  for (let i = from; i < from + SIDE; i++) if (src[i] !== 0) return false;
  return true;
}

function columnIsZero(
  src: Float32Array,
  start: number,
  col: number,
  top: number,
  bottom: number,
): boolean {
  for (let i = start + top * SIDE + col; i <= start + bottom * SIDE + col; i += SIDE) {
    if (src[i] !== 0) return false;
  }
  return true;
}

/**
 * The loop of {@linkcode warpImage} over a source whose pixel (row r, column c) sits at
 * `src[base + (r + shift) · stride + c + shift]`, with at least one free pixel above and left of
 * the box and two below and right of it.
 */
function warpZone(
  src: Float32Array,
  base: number,
  stride: number,
  shift: number,
  dst: Float32Array,
  dstStart: number,
  cos: number,
  sin: number,
  dx: number,
  dy: number,
  box: Int32Array,
): void {
  // The zone in shifted coordinates, all ≥ 0, so truncation is floor.
  const xLo = box[0] - 1 + shift, xHi = box[1] + 1 + shift;
  const yLo = box[2] - 1 + shift, yHi = box[3] + 1 + shift;
  const x0 = -CENTRE - dx;
  for (let y = 0; y < SIDE; y++) {
    const yc = y - CENTRE - dy;
    const sxRow = cos * x0 - sin * yc + CENTRE + shift;
    const syRow = sin * x0 + cos * yc + CENTRE + shift;
    // Real x where the sample (sxRow + cos·x, syRow + sin·x) lies in the zone, widened by a pixel.
    const from = Math.max(lineEnters(sxRow, cos, xLo, xHi), lineEnters(syRow, sin, yLo, yHi));
    const to = Math.min(lineLeaves(sxRow, cos, xLo, xHi), lineLeaves(syRow, sin, yLo, yHi));
    const x1 = Math.min(SIDE, Math.max(0, Math.floor(from) - 1));
    const x2 = Math.max(x1, Math.min(SIDE, Math.ceil(to) + 2));
    const row = dstStart + y * SIDE;
    for (let x = 0; x < x1; x++) dst[row + x] = 0;
    for (let x = x1; x < x2; x++) {
      let sx = sxRow + cos * x, sy = syRow + sin * x;
      sx = sx < xLo ? xLo : sx > xHi ? xHi : sx;
      sy = sy < yLo ? yLo : sy > yHi ? yHi : sy;
      const c0 = sx | 0, r0 = sy | 0;
      const fx = sx - c0, fy = sy - r0;
      const i = base + r0 * stride + c0;
      const a = src[i], b = src[i + 1], c = src[i + stride], d = src[i + stride + 1];
      const upper = a + fx * (b - a), lower = c + fx * (d - c);
      dst[row + x] = upper + fy * (lower - upper);
    }
    for (let x = x2; x < SIDE; x++) dst[row + x] = 0;
  }
}

/** Smallest real x with lo ≤ p + q·x ≤ hi (−∞ if every x, +∞ if none). */
function lineEnters(p: number, q: number, lo: number, hi: number): number {
  if (q > 0) return (lo - p) / q;
  if (q < 0) return (hi - p) / q;
  return p >= lo && p <= hi ? -Infinity : Infinity;
}

/** Largest real x with lo ≤ p + q·x ≤ hi (+∞ if every x, −∞ if none). */
function lineLeaves(p: number, q: number, lo: number, hi: number): number {
  if (q > 0) return (hi - p) / q;
  if (q < 0) return (lo - p) / q;
  return p >= lo && p <= hi ? Infinity : -Infinity;
}

/**
 * Cosine and sine of an angle in degrees, exact at multiples of 90° (Math.cos(π/2) is 6e-17, which
 * would leave a faint trace of a neighbouring pixel in a quarter turn).
 */
function cosSinDegrees(degrees: number): [number, number] {
  const turned = ((degrees % 360) + 360) % 360;
  if (turned === 0) return [1, 0];
  if (turned === 90) return [0, 1];
  if (turned === 180) return [-1, 0];
  if (turned === 270) return [0, -1];
  const radians = (degrees * Math.PI) / 180;
  return [Math.cos(radians), Math.sin(radians)];
}

function checkImages(where: Where, name: string, images: Float32Array): number {
  if (!(images instanceof Float32Array)) {
    typeError(where, name, phrase(kindOf(images)), "a Float32Array of n × 784 pixels");
  }
  if (images.length % IMAGE_PIXELS !== 0) {
    rangeError(where, `the length of ${name}`, images.length, "a multiple of 784 (28 × 28 pixels)");
  }
  return images.length / IMAGE_PIXELS;
}

function checkSingleImage(where: Where, name: string, image: Float32Array): void {
  if (!(image instanceof Float32Array)) {
    typeError(where, name, phrase(kindOf(image)), "a Float32Array of 784 pixels");
  }
  if (image.length !== IMAGE_PIXELS) {
    rangeError(where, `the length of ${name}`, image.length, "784, one 28 × 28 image");
  }
}

function checkNoOverlap(where: Where, src: Float32Array, out: Float32Array): void {
  const overlaps = src.buffer === out.buffer &&
    src.byteOffset < out.byteOffset + out.byteLength &&
    out.byteOffset < src.byteOffset + src.byteLength;
  if (overlaps) rangeError(where, "out", phrase("a view of src's memory"), "a separate array");
}

/** What a value is, for messages: `Float64Array`, `null`, `string`. */
function kindOf(value: unknown): string {
  if (value === null) return "null";
  const name = typeof value === "object"
    ? (value as object).constructor?.name ?? "object"
    : typeof value;
  return `${/^[aeiouAEIOU]/.test(name) ? "an" : "a"} ${name}`;
}
