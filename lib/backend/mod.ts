/**
 * Choosing the tfjs backend: wasm with OpenBLAS matrix products through FFI, else wasm, else cpu.
 *
 * @module
 */
export * from "./backend.ts";
export * from "./blas.ts";
export * from "./kernels.ts";
