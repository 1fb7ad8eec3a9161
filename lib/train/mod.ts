/**
 * The training loop and what it is built from, learning-rate schedules and the range test, resumable
 * sweeps, and grids of runs trained side by side.
 *
 * @module
 */
export * from "./history.ts";
export * from "./host_network.ts";
export * from "./lr_finder.ts";
export * from "./runs.ts";
export * from "./schedules.ts";
export * from "./steps.ts";
export * from "./sweep.ts";
export * from "./sweep_rows.ts";
export * from "./train.ts";
export * from "./grid.ts";
export * from "./trained_model.ts";
export * from "./dynamics.ts";
export * from "./loss_line.ts";
export * from "./run_batches.ts";
