/**
 * Choosing the tfjs backend: wasm with OpenBLAS matrix products through FFI, else wasm, else cpu;
 * OpenBLAS kernels that fit the CPU.
 *
 * @module
 */
export * from "./backend.ts";
export * from "./blas.ts";
export * from "./kernels.ts";
export * from "./cpu.ts";
export * from "./fit_core.ts";
export * from "./js_blas.ts";
