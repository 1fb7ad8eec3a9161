/**
 * Command-line tools and the report runner. Not re-exported by lib/mod.ts.
 *
 * @module
 */
export * from "./notebook_file.ts";
export * from "./notebook_runner.ts";
export * from "./playground.ts";
export * from "./report.ts";
export * from "./screenshot.ts";
export * from "./setup_data.ts";
export * from "./train_cli.ts";
