/**
 * Metrics on plain typed arrays (accuracy, confusion, per-class report, ROC/AUC, calibration) and PCA.
 *
 * @module
 */
export * from "./calibration.ts";
export * from "./classification.ts";
export * from "./pca.ts";
export * from "./roc.ts";
export * from "./seeds.ts";
