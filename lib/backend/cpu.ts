/**
 * Which OpenBLAS kernel set ("core") fits this CPU. OpenBLAS picks its kernels at load time from
 * the CPU's model number; on CPUs it does not know (virtual Xeons, new EPYCs) it can fall back to
 * its Prescott (SSE3) kernels, three to four times slower than the AVX2 or AVX-512 ones the CPU
 * runs. `OPENBLAS_CORETYPE`, read when the library loads, overrides the choice; this module says
 * which value to give it, from the instruction sets the CPU reports (`/proc/cpuinfo` flags).
 *
 * @module
 */

/** Environment variable forcing an OpenBLAS core, e.g. `ANN_BLAS_CORETYPE=Haswell`. */
export const BLAS_CORETYPE_ENV = "ANN_BLAS_CORETYPE";

/** The variable OpenBLAS itself reads when it loads. */
export const OPENBLAS_CORETYPE_ENV = "OPENBLAS_CORETYPE";

/** Vector instruction levels, from slowest to fastest kernels. */
export const INSTRUCTION_LEVELS = ["sse3", "avx", "avx2", "avx512"] as const;

/** One of {@linkcode INSTRUCTION_LEVELS}. */
export type InstructionLevel = typeof INSTRUCTION_LEVELS[number];

/** What the CPU says about itself. */
export interface CpuFeatures {
  /** `model name`, e.g. `"Intel(R) Xeon(R) Processor"`, or `null` when unknown. */
  model: string | null;
  /** Lower-case instruction-set flags, e.g. `avx2`, `avx512f`. */
  flags: ReadonlySet<string>;
}

/**
 * The x86-64 cores of OpenBLAS 0.3.x (`DYNAMIC_ARCH` builds), with the instruction level their
 * single-precision kernels need. A core missing here is treated as generic (SSE3).
 */
const CORE_LEVELS: Record<string, InstructionLevel> = {
  prescott: "sse3",
  katmai: "sse3",
  coppermine: "sse3",
  northwood: "sse3",
  banias: "sse3",
  atom: "sse3",
  core2: "sse3",
  penryn: "sse3",
  dunnington: "sse3",
  nehalem: "sse3",
  opteron: "sse3",
  barcelona: "sse3",
  nano: "sse3",
  bobcat: "sse3",
  bulldozer: "avx",
  piledriver: "avx",
  steamroller: "avx",
  excavator: "avx",
  sandybridge: "avx",
  haswell: "avx2",
  zen: "avx2",
  skylakex: "avx512",
  cooperlake: "avx512",
  sapphirerapids: "avx512",
};

/** The core to ask for at each level: the one whose kernels this level runs best. */
const CORE_FOR_LEVEL: Record<InstructionLevel, string> = {
  sse3: "Prescott",
  avx: "Sandybridge",
  avx2: "Haswell",
  avx512: "SkylakeX",
};

/**
 * Reads the CPU's model name and flags from `/proc/cpuinfo` text (the first processor's).
 *
 * @param text The file's contents; defaults to reading `/proc/cpuinfo`, which Deno only allows with
 * `--allow-all`; without it the flags come from glibc's CPUID table through FFI
 * ({@linkcode cpuidFeatures}), and are empty when neither works (macOS, no `--allow-ffi`).
 * @returns The model name and flags.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const cpu = cpuFeatures("model name\t: Virtual CPU\nflags\t\t: fpu sse3 avx2 fma\n");
 * assert.equal(cpu.model, "Virtual CPU");
 * assert.ok(cpu.flags.has("avx2"));
 * ```
 */
export function cpuFeatures(text?: string): CpuFeatures {
  const source = text ?? readCpuinfo();
  if (text === undefined && source === "") {
    return cpuidFeatures() ?? { model: null, flags: new Set() };
  }
  const field = (name: string) =>
    source.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, "m"))?.[1]?.trim() ?? null;
  const flags = new Set((field("flags") ?? "").toLowerCase().split(/\s+/).filter(Boolean));
  return { model: field("model name"), flags };
}

/**
 * The fastest vector level the CPU's flags allow: AVX-512 needs the F, DQ, BW and VL subsets (what
 * OpenBLAS's SkylakeX kernels use), AVX2 needs FMA too.
 *
 * @param features What {@linkcode cpuFeatures} read.
 * @returns E.g. `"avx2"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const flags = new Set(["sse3", "avx", "avx2", "fma"]);
 * assert.equal(instructionLevel({ model: null, flags }), "avx2");
 * ```
 */
export function instructionLevel(features: CpuFeatures): InstructionLevel {
  const has = (...names: string[]) => names.every((name) => features.flags.has(name));
  if (has("avx512f", "avx512dq", "avx512bw", "avx512vl", "avx2", "fma")) return "avx512";
  if (has("avx2", "fma")) return "avx2";
  if (has("avx")) return "avx";
  return "sse3";
}

/**
 * The instruction level an OpenBLAS core's kernels use.
 *
 * @param core A core name as `openblas_get_corename()` reports it, e.g. `"Haswell"`.
 * @returns Its level; unknown names count as `"sse3"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(coreLevel("SkylakeX"), "avx512");
 * assert.equal(coreLevel("Prescott"), "sse3");
 * ```
 */
export function coreLevel(core: string): InstructionLevel {
  return CORE_LEVELS[core.toLowerCase()] ?? "sse3";
}

/**
 * The OpenBLAS cores this CPU can run, slowest first: one per level up to the CPU's, plus the other
 * cores of those levels that OpenBLAS knows (Zen, Cooperlake).
 *
 * @param features What {@linkcode cpuFeatures} read.
 * @returns Core names as `OPENBLAS_CORETYPE` accepts them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const flags = new Set(["avx", "avx2", "fma"]);
 * assert.deepEqual(runnableCores({ model: null, flags }), ["Prescott", "Sandybridge", "Haswell", "Zen"]);
 * ```
 */
export function runnableCores(features: CpuFeatures): string[] {
  const top = INSTRUCTION_LEVELS.indexOf(instructionLevel(features));
  const cores = INSTRUCTION_LEVELS.slice(0, top + 1).map((level) => CORE_FOR_LEVEL[level]);
  if (top >= 2) cores.push("Zen");
  if (top >= 3 && features.flags.has("avx512_bf16")) cores.push("Cooperlake");
  return cores;
}

/** What {@linkcode chooseCore} decided. */
export interface CoreChoice {
  /** The core to load with (`OPENBLAS_CORETYPE`), or `null` to keep what OpenBLAS picked. */
  core: string | null;
  /** Why, for the backend's summary line, e.g. `"OpenBLAS chose Prescott (SSE3) on an AVX-512 CPU"`. */
  reason: string;
}

/**
 * Decides whether to reload OpenBLAS with another core: when it picked kernels for a lower
 * instruction level than the CPU has (its generic fallback on CPUs it does not recognise), ask for
 * the level's best core. An explicit core (from `ANN_BLAS_CORETYPE`) always wins.
 *
 * @param reported The core OpenBLAS picked on its own, e.g. `"Prescott"`.
 * @param features The CPU's flags.
 * @param override A core to use whatever the CPU, or `undefined`.
 * @returns The core to load with (or `null`) and why.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const avx512 = new Set(["avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl"]);
 * const cpu = { model: null, flags: avx512 };
 * assert.equal(chooseCore("Prescott", cpu).core, "SkylakeX");
 * assert.equal(chooseCore("SkylakeX", cpu).core, null);
 * assert.equal(chooseCore("Prescott", cpu, "Haswell").core, "Haswell");
 * ```
 */
export function chooseCore(
  reported: string,
  features: CpuFeatures,
  override?: string,
): CoreChoice {
  const level = instructionLevel(features);
  if (override !== undefined && override !== "") {
    return { core: override, reason: `${BLAS_CORETYPE_ENV}=${override}` };
  }
  const own = coreLevel(reported);
  if (INSTRUCTION_LEVELS.indexOf(own) >= INSTRUCTION_LEVELS.indexOf(level)) {
    return {
      core: null,
      reason: `OpenBLAS chose ${reported}, which fits this ${levelName(level)} CPU`,
    };
  }
  const core = CORE_FOR_LEVEL[level];
  return {
    core,
    reason: `OpenBLAS chose ${reported} (${levelName(own)}) on this ${levelName(level)} CPU`,
  };
}

/**
 * A level's usual name: `"AVX-512"`, `"AVX2"`, `"AVX"`, `"SSE3"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(levelName("avx512"), "AVX-512");
 * ```
 */
export function levelName(level: InstructionLevel): string {
  return level === "avx512" ? "AVX-512" : level.toUpperCase();
}

/** CPUID bits behind each flag: [glibc leaf index, register (0 eax … 3 edx), bit]. */
const CPUID_FLAGS: Record<string, [number, number, number]> = {
  sse3: [0, 2, 0],
  fma: [0, 2, 12],
  avx: [0, 2, 28],
  avx2: [1, 1, 5],
  avx512f: [1, 1, 16],
  avx512dq: [1, 1, 17],
  avx512cd: [1, 1, 28],
  avx512bw: [1, 1, 30],
  avx512vl: [1, 1, 31],
  avx512_bf16: [6, 0, 5], // CPUID_INDEX_7_ECX_1
};

/**
 * The CPU's usable instruction sets from glibc's CPUID table (`__x86_get_cpuid_feature_leaf`,
 * glibc 2.33+), read through FFI: for processes that may not read `/proc/cpuinfo`. The flags are
 * the ones the OS has enabled too ("active" bits), named as in `/proc/cpuinfo`.
 *
 * @returns The flags (model unknown), or `null` off x86-64 Linux or without `--allow-ffi`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const cpu = cpuidFeatures();
 * assert.ok(cpu === null || !cpu.flags.has("avx2") || cpu.flags.has("avx"));
 * ```
 */
export function cpuidFeatures(): CpuFeatures | null {
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") return null;
  let libc: Deno.DynamicLibrary<{
    __x86_get_cpuid_feature_leaf: { parameters: ["u32"]; result: "pointer" };
  }>;
  try {
    libc = Deno.dlopen("libc.so.6", {
      __x86_get_cpuid_feature_leaf: { parameters: ["u32"], result: "pointer" },
    });
  } catch {
    return null;
  }
  try {
    const flags = new Set<string>();
    for (const [name, [leaf, register, bit]] of Object.entries(CPUID_FLAGS)) {
      const pointer = libc.symbols.__x86_get_cpuid_feature_leaf(leaf);
      if (pointer === null) continue;
      // struct cpuid_feature { cpuid_array cpuid; cpuid_array active; }: 4 u32 each.
      const active = new Deno.UnsafePointerView(pointer).getUint32(16 + 4 * register);
      if ((active >>> bit) & 1) flags.add(name);
    }
    return { model: null, flags };
  } finally {
    libc.close();
  }
}

function readCpuinfo(): string {
  try {
    return Deno.readTextFileSync("/proc/cpuinfo");
  } catch {
    return "";
  }
}
