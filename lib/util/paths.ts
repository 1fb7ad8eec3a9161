/**
 * Where the project's folders are, found from this file rather than the working directory, so a
 * notebook, a test and the CLI all agree wherever they are started from.
 *
 * Paths use Deno's built-in `node:path` and `node:url`: `jsr:@std/path` would be the idiomatic choice,
 * but JSR is not reachable from every machine we support, and every other dependency comes from npm.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Absolute path of the project's top folder (the one holding `deno.json`). */
export const PROJECT_ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Absolute path of `data/`, where setup puts the datasets. */
export const DATA_DIR: string = join(PROJECT_ROOT, "data");

/** Absolute path of `reports/`, where generated HTML, CSV and models go. */
export const REPORTS_DIR: string = join(PROJECT_ROOT, "reports");

/**
 * Joins path segments onto the project's top folder.
 *
 * @param segments Path segments relative to the project root.
 * @returns An absolute path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(projectPath("lib", "paths.ts").endsWith("lib/paths.ts"));
 * ```
 */
export function projectPath(...segments: string[]): string {
  return join(PROJECT_ROOT, ...segments);
}
