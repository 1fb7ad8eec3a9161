/**
 * ReLU and its backward pass as WebAssembly SIMD loops, four floats at a time, on arrays that live
 * in a wasm memory ({@linkcode simdArrays}). JavaScript has no vector instructions, and these two
 * passes over a step's activations took a tenth of a training step as scalar loops.
 *
 * The module is about 200 bytes, written out below with each instruction's text form beside it, so
 * there is nothing to build or download. Both loops work on the floats' bits, like their scalar
 * fallbacks in `lib/train/grid_step.ts`: a float is negative exactly when its int32 is.
 *
 * @module
 */

/** A wasm section: its id, then its byte length (LEB128) and contents. */
function section(id: number, contents: number[]): number[] {
  return [id, ...leb128(contents.length), ...contents];
}

/** A function body: its byte length, one local of type i32, the code, `end`. */
function body(code: number[]): number[] {
  const contents = [0x01, 0x01, 0x7f, ...code, 0x0b];
  return [...leb128(contents.length), ...contents];
}

function leb128(value: number): number[] {
  const bytes = [];
  do {
    const low = value & 0x7f;
    value >>>= 7;
    bytes.push(value === 0 ? low : low | 0x80);
  } while (value !== 0);
  return bytes;
}

const name = (text: string) => [text.length, ...new TextEncoder().encode(text)];

// deno-fmt-ignore
const RELU = [ // relu(p, n): each 16 bytes v at p ← v andnot (v >>s 31)
  0x20, 0x00, 0x20, 0x01, 0x41, 0x02, 0x74, 0x6a, 0x21, 0x02, // end = p + (n << 2)
  0x02, 0x40, 0x03, 0x40, // block, loop
  0x20, 0x00, 0x20, 0x02, 0x4f, 0x0d, 0x01, // br_if (p >=u end) out
  0x20, 0x00, // the store's address, p
  0x20, 0x00, 0xfd, 0x00, 0x02, 0x00, // v128.load p
  0x20, 0x00, 0xfd, 0x00, 0x02, 0x00, 0x41, 0x1f, 0xfd, 0xac, 0x01, // (v128.load p) i32x4.shr_s 31
  0xfd, 0x4f, // v128.andnot
  0xfd, 0x0b, 0x02, 0x00, // v128.store
  0x20, 0x00, 0x41, 0x10, 0x6a, 0x21, 0x00, // p += 16
  0x0c, 0x00, 0x0b, 0x0b, // br loop; end loop, end block
];

// deno-fmt-ignore
const MASK = [ // mask(d, a, n): each 16 bytes at d ← d and (a >s 0)
  0x20, 0x00, 0x20, 0x02, 0x41, 0x02, 0x74, 0x6a, 0x21, 0x03, // end = d + (n << 2)
  0x02, 0x40, 0x03, 0x40, // block, loop
  0x20, 0x00, 0x20, 0x03, 0x4f, 0x0d, 0x01, // br_if (d >=u end) out
  0x20, 0x00, // the store's address, d
  0x20, 0x00, 0xfd, 0x00, 0x02, 0x00, // v128.load d
  0x20, 0x01, 0xfd, 0x00, 0x02, 0x00, // v128.load a
  0x41, 0x00, 0xfd, 0x11, 0xfd, 0x3b, // i32x4.gt_s (a, i32x4.splat 0)
  0xfd, 0x4e, // v128.and
  0xfd, 0x0b, 0x02, 0x00, // v128.store
  0x20, 0x00, 0x41, 0x10, 0x6a, 0x21, 0x00, // d += 16
  0x20, 0x01, 0x41, 0x10, 0x6a, 0x21, 0x01, // a += 16
  0x0c, 0x00, 0x0b, 0x0b, // br loop; end loop, end block
];

const I32 = 0x7f;
const MODULE = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
  // types: 0 = (i32 i32) → (), 1 = (i32 i32 i32) → ()
  ...section(1, [0x02, 0x60, 0x02, I32, I32, 0x00, 0x60, 0x03, I32, I32, I32, 0x00]),
  ...section(2, [0x01, ...name("env"), ...name("memory"), 0x02, 0x00, 0x01]), // (memory 1)
  ...section(3, [0x02, 0x00, 0x01]), // relu has type 0, mask type 1
  ...section(7, [0x02, ...name("relu"), 0x00, 0x00, ...name("mask"), 0x00, 0x01]),
  ...section(10, [0x02, ...body(RELU), ...body(MASK)]),
]);

/** The two loops of one wasm memory; offsets in bytes, counts in floats (a multiple of 4). */
interface SimdExports {
  relu(offset: number, count: number): void;
  mask(deltaOffset: number, actOffset: number, count: number): void;
}

let compiled: WebAssembly.Module | null | undefined;
const instances = new WeakMap<ArrayBufferLike, SimdExports>();

function simdModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(MODULE);
    } catch {
      compiled = null; // no wasm SIMD here: the scalar loops run instead
    }
  }
  return compiled;
}

/** Whether this runtime runs the SIMD loops (WebAssembly with 128-bit SIMD). */
export function simdAvailable(): boolean {
  return simdModule() !== null;
}

/**
 * Float32 arrays of the given lengths, zeroed, side by side in one wasm memory (each starting on
 * a 16-byte boundary), so {@linkcode simdRelu} and {@linkcode simdReluBackward} can run on them.
 * Without wasm SIMD, ordinary arrays.
 *
 * @param lengths Floats of each array.
 * @returns The arrays, in order.
 */
export function simdArrays(lengths: readonly number[]): Float32Array[] {
  const module = simdModule();
  if (module === null) return lengths.map((length) => new Float32Array(length));
  const offsets: number[] = [];
  let bytes = 0;
  for (const length of lengths) {
    offsets.push(bytes);
    bytes += Math.ceil(length / 4) * 16;
  }
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65_536)) });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  instances.set(memory.buffer, instance.exports as unknown as SimdExports);
  return lengths.map((length, i) => new Float32Array(memory.buffer, offsets[i], length));
}

/**
 * `x ← max(x, 0)` on the first `size` floats with SIMD, when `x` came from
 * {@linkcode simdArrays}; else returns `false` and does nothing. On the bits: every float with its
 * sign bit set (negatives, −0, a NaN with the sign bit) becomes +0, the others stay.
 */
export function simdRelu(x: Float32Array, size: number): boolean {
  const simd = instances.get(x.buffer);
  if (simd === undefined || x.byteOffset % 16 !== 0) return false;
  const vectors = size & ~3;
  simd.relu(x.byteOffset, vectors);
  const tail = new Int32Array(x.buffer, x.byteOffset, size);
  for (let i = vectors; i < size; i++) tail[i] &= ~(tail[i] >> 31);
  return true;
}

/**
 * `δ ← δ · [a > 0]` on the first `size` floats with SIMD, when both came from the same
 * {@linkcode simdArrays} call; else returns `false` and does nothing. On the bits: δ stays where
 * `a`'s int32 is positive (a positive float, or a NaN without the sign bit), else becomes +0.
 */
export function simdReluBackward(delta: Float32Array, act: Float32Array, size: number): boolean {
  const simd = instances.get(delta.buffer);
  if (
    simd === undefined || act.buffer !== delta.buffer || delta.byteOffset % 16 !== 0 ||
    act.byteOffset % 16 !== 0
  ) return false;
  const vectors = size & ~3;
  simd.mask(delta.byteOffset, act.byteOffset, vectors);
  const [d, a] = [delta, act].map((x) => new Int32Array(x.buffer, x.byteOffset, size));
  for (let i = vectors; i < size; i++) if (!(a[i] > 0)) d[i] = 0;
  return true;
}
