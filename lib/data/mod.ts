/**
 * MNIST and Fashion-MNIST: IDX parsing and loading, the seeded train/validation split, augmentation and data summaries.
 *
 * @module
 */
export * from "./augment.ts";
export * from "./dataset.ts";
export * from "./mnist.ts";
export * from "./summary.ts";
