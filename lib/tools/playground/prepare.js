/**
 * Turns a drawing into an MNIST-like input, the way LeCun, Cortes and Burges describe the
 * dataset: the digit's bounding box is scaled (keeping its aspect ratio, with anti-aliasing) so
 * its longer side is 20 px, and pasted into a 28×28 field so that its centre of mass sits at the
 * field's centre.
 *
 * Plain JavaScript with JSDoc types and no imports: the playground page inlines this file as it
 * is, and the Deno tests import the same file.
 *
 * @module
 */

/** Side of an MNIST image in pixels. */
export const FIELD_SIDE = 28;
/** Side of the box the digit is scaled into. */
export const BOX_SIDE = 20;

/**
 * Ink of each pixel of a canvas drawn with an opaque colour on a transparent background: its
 * alpha in [0, 1], so anti-aliased stroke edges count in proportion.
 *
 * @param {ArrayLike<number>} rgba `width × height × 4` bytes, as in `ImageData.data`.
 * @returns {Float32Array} `width × height` values in [0, 1].
 */
export function inkFromRgba(rgba) {
  if (rgba.length % 4 !== 0) {
    throw new RangeError(
      `Cannot read ink "rgba": length is ${rgba.length}, expected a multiple of 4`,
    );
  }
  const ink = new Float32Array(rgba.length / 4);
  for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i + 3] / 255;
  return ink;
}

/**
 * The smallest rectangle holding every pixel with ink above `threshold`.
 *
 * @param {ArrayLike<number>} ink `width × height` values, row-major.
 * @param {number} width Columns.
 * @param {number} height Rows.
 * @param {number} [threshold] Ink at or below this counts as paper. Default 0.
 * @returns {{ left: number, top: number, width: number, height: number } | null} The box, or
 *   `null` when there is no ink.
 */
export function boundingBox(ink, width, height, threshold = 0) {
  checkSize("find the ink", ink, width, height);
  let left = width, right = -1, top = height, bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > threshold) {
        if (x < left) left = x;
        if (x > right) right = x;
        if (y < top) top = y;
        if (y > bottom) bottom = y;
      }
    }
  }
  if (right < 0) return null;
  return { left, top, width: right - left + 1, height: bottom - top + 1 };
}

/**
 * Resizes an image by area averaging: each output pixel is the mean of the input over the area
 * it covers, fractional pixels counting in proportion. Shrinking a sharp drawing this way gives
 * the soft grey edges MNIST digits have, and the total ink scales exactly with the area.
 *
 * @param {ArrayLike<number>} image `width × height` values, row-major.
 * @param {number} width Input columns.
 * @param {number} height Input rows.
 * @param {number} outWidth Output columns.
 * @param {number} outHeight Output rows.
 * @returns {Float32Array} `outWidth × outHeight` values.
 */
export function resampleArea(image, width, height, outWidth, outHeight) {
  checkSize("resample the image", image, width, height);
  checkSide("resample the image", "output width", outWidth);
  checkSide("resample the image", "output height", outHeight);
  const columns = areaWeights(width, outWidth);
  const rows = areaWeights(height, outHeight);
  // Separable: average along each row first, then down each column.
  const across = new Float64Array(height * outWidth);
  for (let y = 0; y < height; y++) {
    for (let j = 0; j < outWidth; j++) {
      let sum = 0;
      for (const [x, w] of columns[j]) sum += w * image[y * width + x];
      across[y * outWidth + j] = sum;
    }
  }
  const out = new Float32Array(outWidth * outHeight);
  for (let i = 0; i < outHeight; i++) {
    for (let j = 0; j < outWidth; j++) {
      let sum = 0;
      for (const [y, w] of rows[i]) sum += w * across[y * outWidth + j];
      out[i * outWidth + j] = sum;
    }
  }
  return out;
}

/**
 * The centre of mass of an image, in continuous coordinates where pixel `(x, y)` covers
 * `[x, x + 1) × [y, y + 1)`, so a single pixel at (0, 0) has its centre at (0.5, 0.5).
 *
 * @param {ArrayLike<number>} image `width × height` values, row-major.
 * @param {number} width Columns.
 * @param {number} height Rows.
 * @returns {{ x: number, y: number, mass: number }} The centre and the total mass; the centre
 *   is the image's middle when the mass is 0.
 */
export function centreOfMass(image, width, height) {
  checkSize("find the centre of mass", image, width, height);
  let mass = 0, sx = 0, sy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = image[y * width + x];
      mass += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
    }
  }
  if (mass === 0) return { x: width / 2, y: height / 2, mass };
  return { x: sx / mass, y: sy / mass, mass };
}

/**
 * Prepares a drawing like an MNIST digit: crop to the ink, scale the longer side to 20 px
 * keeping the aspect ratio, then place it in a 28×28 field with its centre of mass at the centre
 * (moved by whole pixels, as MNIST's were, and kept inside the field).
 *
 * @param {ArrayLike<number>} ink `width × height` values in [0, 1], row-major (see
 *   {@linkcode inkFromRgba}).
 * @param {number} width Columns of the drawing.
 * @param {number} height Rows of the drawing.
 * @param {{ threshold?: number }} [options] `threshold`: ink at or below it is paper (default 0).
 * @returns {Float32Array | null} 784 values in [0, 1], or `null` when nothing is drawn.
 */
export function prepareDigit(ink, width, height, options = {}) {
  const box = boundingBox(ink, width, height, options.threshold ?? 0);
  if (box === null) return null;
  const crop = new Float32Array(box.width * box.height);
  for (let y = 0; y < box.height; y++) {
    const start = (box.top + y) * width + box.left;
    for (let x = 0; x < box.width; x++) crop[y * box.width + x] = ink[start + x];
  }
  const scale = BOX_SIDE / Math.max(box.width, box.height);
  const outWidth = Math.max(1, Math.min(BOX_SIDE, Math.round(box.width * scale)));
  const outHeight = Math.max(1, Math.min(BOX_SIDE, Math.round(box.height * scale)));
  const digit = resampleArea(crop, box.width, box.height, outWidth, outHeight);
  const centre = centreOfMass(digit, outWidth, outHeight);
  const half = FIELD_SIDE / 2;
  const left = clamp(Math.round(half - centre.x), 0, FIELD_SIDE - outWidth);
  const top = clamp(Math.round(half - centre.y), 0, FIELD_SIDE - outHeight);
  const field = new Float32Array(FIELD_SIDE * FIELD_SIDE);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      field[(top + y) * FIELD_SIDE + left + x] = Math.min(1, digit[y * outWidth + x]);
    }
  }
  return field;
}

/**
 * For each of `m` output cells over `n` input cells, the input cells it overlaps and the share of
 * the output cell each covers (the shares of one output cell add up to 1).
 *
 * @param {number} n Input cells.
 * @param {number} m Output cells.
 * @returns {[number, number][][]} `m` lists of `[input index, weight]`.
 */
function areaWeights(n, m) {
  const step = n / m;
  const weights = [];
  for (let j = 0; j < m; j++) {
    const a = j * step, b = (j + 1) * step;
    const cell = [];
    for (let i = Math.floor(a); i < Math.min(n, Math.ceil(b)); i++) {
      const overlap = Math.min(b, i + 1) - Math.max(a, i);
      if (overlap > 0) cell.push([i, overlap / step]);
    }
    weights.push(cell);
  }
  return weights;
}

/** @param {number} v @param {number} lo @param {number} hi */
function clamp(v, lo, hi) {
  return Math.min(hi, Math.max(lo, v));
}

/** @param {string} action @param {string} what @param {number} value */
function checkSide(action, what, value) {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Cannot ${action}: ${what} is ${value}, expected a positive integer`);
  }
}

/**
 * @param {string} action
 * @param {ArrayLike<number>} image
 * @param {number} width
 * @param {number} height
 */
function checkSize(action, image, width, height) {
  checkSide(action, "width", width);
  checkSide(action, "height", height);
  if (image.length !== width * height) {
    throw new RangeError(
      `Cannot ${action}: length is ${image.length}, expected ${width} × ${height} = ${
        width * height
      }`,
    );
  }
}
