import assert from "node:assert/strict";
import {
  chooseCore,
  coreLevel,
  cpuFeatures,
  cpuidFeatures,
  instructionLevel,
  runnableCores,
} from "../../lib/backend/cpu.ts";

const AVX512 =
  "fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl";
const cpuinfo = (flags: string) =>
  `processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: ${flags}\n\nprocessor\t: 1\nflags\t\t: sse3\n`;

Deno.test("cpuFeatures() reads the first processor's model and flags from /proc/cpuinfo text", () => {
  const cpu = cpuFeatures(cpuinfo(AVX512));
  assert.equal(cpu.model, "Intel(R) Xeon(R) Processor");
  assert.ok(cpu.flags.has("avx512vl"));
  assert.equal(cpuFeatures("").model, null);
  assert.equal(cpuFeatures("").flags.size, 0);
});

Deno.test("instructionLevel() needs every subset the kernels use", async (t) => {
  const cases: [string, string][] = [
    [AVX512, "avx512"],
    [AVX512.replace(" avx512bw", ""), "avx2"], // AVX-512F alone (Knights Landing) is not enough
    ["sse3 avx avx2 fma", "avx2"],
    ["sse3 avx avx2", "avx"], // AVX2 without FMA
    ["sse3 avx", "avx"],
    ["sse2 sse3", "sse3"],
  ];
  for (const [flags, level] of cases) {
    await t.step(`${flags} → ${level}`, () => {
      assert.equal(instructionLevel(cpuFeatures(cpuinfo(flags))), level);
    });
  }
});

Deno.test("chooseCore() replaces a generic core with the CPU's, keeps a fitting one, obeys overrides", async (t) => {
  const cases: [string, string, string | undefined, string | null, RegExp][] = [
    // reported core, flags, override, expected core (null: keep), reason
    ["Prescott", AVX512, undefined, "SkylakeX", /chose Prescott \(SSE3\) on this AVX-512 CPU/],
    ["Prescott", "sse3 avx avx2 fma", undefined, "Haswell", /on this AVX2 CPU/],
    ["Nehalem", "sse3 avx", undefined, "Sandybridge", /Nehalem \(SSE3\)/],
    ["SkylakeX", AVX512, undefined, null, /fits this AVX-512 CPU/],
    ["Cooperlake", AVX512, undefined, null, /fits/],
    ["Zen", "sse3 avx avx2 fma", undefined, null, /fits this AVX2 CPU/],
    ["Prescott", "sse3", undefined, null, /fits this SSE3 CPU/],
    ["Prescott", AVX512, "Haswell", "Haswell", /ANN_BLAS_CORETYPE=Haswell/],
    ["SkylakeX", AVX512, "Prescott", "Prescott", /ANN_BLAS_CORETYPE=Prescott/],
  ];
  for (const [reported, flags, override, core, reason] of cases) {
    await t.step(
      `${reported} on ${flags.split(" ").at(-1)}${override ? ` (${override})` : ""}`,
      () => {
        const choice = chooseCore(reported, cpuFeatures(cpuinfo(flags)), override);
        assert.equal(choice.core, core);
        assert.match(choice.reason, reason);
      },
    );
  }
});

Deno.test("coreLevel() and runnableCores() agree: every runnable core fits the CPU", () => {
  const cpu = cpuFeatures(cpuinfo(`${AVX512} avx512_bf16`));
  const cores = runnableCores(cpu);
  assert.deepEqual(cores, ["Prescott", "Sandybridge", "Haswell", "SkylakeX", "Zen", "Cooperlake"]);
  for (const core of cores) assert.notEqual(coreLevel(core), undefined);
  assert.equal(coreLevel("NoSuchCore"), "sse3");
});

Deno.test({
  name: "cpuidFeatures() reads the same instruction sets as /proc/cpuinfo",
  ignore: Deno.build.os !== "linux" || Deno.build.arch !== "x86_64",
  fn: async () => {
    // Deno lets only --allow-all read /proc, so the file comes through cat.
    const output = await new Deno.Command("cat", { args: ["/proc/cpuinfo"] }).output();
    const fromFile = cpuFeatures(new TextDecoder().decode(output.stdout));
    const fromCpuid = cpuidFeatures();
    assert.ok(fromCpuid !== null);
    for (
      const flag of [
        "fma",
        "avx",
        "avx2",
        "avx512f",
        "avx512dq",
        "avx512bw",
        "avx512vl",
        "avx512_bf16",
      ]
    ) {
      assert.equal(fromCpuid.flags.has(flag), fromFile.flags.has(flag), flag);
    }
    assert.equal(instructionLevel(fromCpuid), instructionLevel(fromFile));
  },
});
