/**
 * Seeded randomness, project paths, run profiles (QUICK), atomic file writes, lock files.
 *
 * @module
 */
export * from "./atomic.ts";
export * from "./file_lock.ts";
export * from "./paths.ts";
export * from "./profile.ts";
export * from "./random.ts";
export * from "./validate.ts";
