/**
 * The training loop and what it is built from, learning-rate schedules and the range test, resumable sweeps.
 *
 * @module
 */
export * from "./runs.ts";
export * from "./schedules.ts";
export * from "./steps.ts";
export * from "./sweep.ts";
export * from "./sweep_rows.ts";
export * from "./train.ts";
export * from "./trained_model.ts";
