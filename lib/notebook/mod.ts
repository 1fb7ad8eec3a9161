/**
 * Showing things in Jupyter: the display helpers, live progress and tables.
 *
 * @module
 */
export * from "./display.ts";
export * from "./live.ts";
export * from "./tables.ts";
