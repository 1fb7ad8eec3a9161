/**
 * The shape of an MNIST example, apart from the loaders (which need files and zlib), so code that
 * runs in a browser page can import it.
 *
 * @module
 */

/** Side of an image in pixels. */
export const IMAGE_SIDE = 28;
/** Pixels per image. */
export const IMAGE_PIXELS: number = IMAGE_SIDE * IMAGE_SIDE;
/** Number of classes (digits 0–9, or the ten Fashion-MNIST garments). */
export const NUM_CLASSES = 10;
