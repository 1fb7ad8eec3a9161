/**
 * Seeded randomness, project paths, run profiles (QUICK), atomic file writes.
 *
 * @module
 */
export * from "./atomic.ts";
export * from "./paths.ts";
export * from "./profile.ts";
export * from "./random.ts";
export * from "./validate.ts";
