/**
 * Charts as standalone SVG with Observable Plot, rendered headless, plus digit images as PNG.
 *
 * @module
 */
export type { ChartOptions } from "./_common.ts";
export { BASE_PLOT_OPTIONS } from "./_common.ts";
export * from "./colours.ts";
export * from "./compare.ts";
export * from "./data.ts";
export * from "./digits.ts";
export * from "./evaluation.ts";
export * from "./frame.ts";
export * from "./learning_rate.ts";
export * from "./model.ts";
export * from "./plots.ts";
export * from "./png.ts";
export * from "./training.ts";
export * from "./seeds.ts";
export * from "./dynamics.ts";
export * from "./loss_line.ts";
