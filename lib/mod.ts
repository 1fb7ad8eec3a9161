/**
 * Everything the notebooks use, re-exported from one place:
 * `import { loadSplits, createModel, train } from "../lib/mod.ts";`
 *
 * @module
 */
export * from "./paths.ts";
export * from "./random.ts";
export * from "./profile.ts";
export * from "./mnist.ts";
export * from "./backend.ts";
export * from "./model.ts";
export * from "./optimizer.ts";
export * from "./gradients.ts";
export * from "./train.ts";
export * from "./predict.ts";
export * from "./checkpoint.ts";
export * from "./metrics.ts";
export * from "./pca.ts";
export * from "./display.ts";
export * from "./live.ts";
export * from "./charts.ts";
export * from "./charts_eval.ts";
export * from "./images.ts";
export * from "./data_stats.ts";
export * from "./charts_model.ts";
export * from "./tables.ts";
export * from "./trained_model.ts";
export * from "./sweep.ts";
export * from "./charts_lr.ts";
export * from "./augment.ts";
export * from "./schedules.ts";
export * from "./charts_compare.ts";
export * from "./atomic.ts";
