/**
 * Metrics on plain typed arrays (accuracy, confusion, per-class report, ROC/AUC, calibration) and PCA.
 *
 * @module
 */
export * from "./metrics.ts";
export * from "./pca.ts";
