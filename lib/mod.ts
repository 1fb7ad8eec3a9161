/**
 * Everything the notebooks use, from one place:
 * `import { loadSplits, createModel, train } from "../lib/mod.ts";`
 *
 * Each folder of lib/ has its own `mod.ts`; this barrel re-exports the notebook-facing ones. The
 * tools (CLIs, report runner) and plumbing such as atomic writes and the BLAS bindings are left out:
 * import those from their folders.
 *
 * @module
 */
export * from "./data/mod.ts";
export * from "./model/mod.ts";
export * from "./train/mod.ts";
export * from "./eval/mod.ts";
export * from "./charts/mod.ts";
export * from "./notebook/mod.ts";
export * from "./backend/backend.ts";
export * from "./util/random.ts";
export * from "./util/profile.ts";
export * from "./util/paths.ts";
