/**
 * Showing things in Jupyter: `show` and `print` (every output goes through them), displayable
 * views and charts, live progress and tables.
 *
 * @module
 */
export * from "./jupyter.ts";
export * from "./display.ts";
export * from "./progress.ts";
export * from "./live_chart.ts";
export * from "./live.ts";
export * from "./findings.ts";
export * from "./tables.ts";
export * from "./dynamics_text.ts";
