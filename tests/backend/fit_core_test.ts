import assert from "node:assert/strict";
import { loadBlas } from "../../lib/backend/blas.ts";
import { cpuFeatures, runnableCores } from "../../lib/backend/cpu.ts";
import { AGREEMENT_TOLERANCE } from "../../lib/backend/fit_core.ts";

const PROBE = new URL("./core_probe.ts", import.meta.url).pathname;

/** Whether this machine has OpenBLAS (the only library with selectable cores). */
const HAS_OPENBLAS = (() => {
  try {
    const blas = loadBlas();
    const vendor = blas.info.vendor;
    blas.close();
    return vendor === "OpenBLAS";
  } catch {
    return false;
  }
})();

/** Runs the probe in a fresh process (OpenBLAS picks its kernels once per load). */
async function probe(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", PROBE, ...args],
    env: { NO_COLOR: "1", OPENBLAS_CORETYPE: "", ANN_BLAS_CORETYPE: "", ...env },
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  assert.ok(
    output.success,
    `probe ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`,
  );
  return JSON.parse(text.split("\n").at(-1)!);
}

Deno.test({
  name:
    "every OpenBLAS core this CPU can run loads as asked and multiplies within float32 rounding",
  ignore: !HAS_OPENBLAS,
  fn: async (t) => {
    for (const core of runnableCores(cpuFeatures())) {
      await t.step(core, async () => {
        const result = await probe(["products", core]);
        assert.equal(result.core.toLowerCase(), core.toLowerCase());
        // Relative to Σ|a||b| of each output: rounding of k ≤ 784 float32 terms stays far below.
        assert.ok(result.worst <= AGREEMENT_TOLERANCE, `${core}: ${result.worst}`);
      });
    }
  },
});

Deno.test({
  name:
    "loadFittingBlas() reloads a generic Prescott with the CPU's core, or keeps it when products disagree",
  ignore: !HAS_OPENBLAS,
  fn: async () => {
    const cpu = cpuFeatures();
    const best = runnableCores(cpu).filter((c) => c !== "Zen" && c !== "Cooperlake").at(-1)!;
    const fitted = await probe(["fit", "Prescott", String(AGREEMENT_TOLERANCE)]);
    assert.equal(fitted.core, best);
    if (best !== "Prescott") {
      assert.match(
        fitted.reason,
        new RegExp(`chose Prescott \\(SSE3\\) on this .* CPU: loaded ${best}, its products agree`),
      );
      const refused = await probe(["fit", "Prescott", "-1"]);
      assert.equal(refused.core, "Prescott");
      assert.match(
        refused.reason,
        new RegExp(
          `${best}'s products differ from Prescott's by .* \\(expected at most -1\\), so Prescott stays`,
        ),
      );
    }
  },
});

Deno.test({
  name: "setupBackend() says which core runs and why, and ANN_BLAS_CORETYPE overrides it",
  ignore: !HAS_OPENBLAS,
  fn: async () => {
    const script = `import { setupBackend } from "${new URL(
      "../../lib/backend/backend.ts",
      import.meta.url,
    )}";
      const info = await setupBackend({ log: false });
      console.log(JSON.stringify({ core: info.blas?.core, summary: info.summary }));`;
    const run = async (env: Record<string, string>) => {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--ext=ts", script],
        env: { NO_COLOR: "1", OPENBLAS_CORETYPE: "", ANN_BLAS_CORETYPE: "", ...env },
        cwd: new URL("../..", import.meta.url).pathname,
      }).output();
      assert.ok(output.success, new TextDecoder().decode(output.stderr));
      return JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!);
    };
    const forced = await run({ ANN_BLAS_CORETYPE: "Prescott" });
    assert.equal(forced.core, "Prescott");
    assert.match(forced.summary, /core: ANN_BLAS_CORETYPE=Prescott/);
    const chosen = await run({});
    assert.match(chosen.summary, /core: OpenBLAS chose \w+/);
    // A preset core that fits the CPU stays; one below it is replaced, as OpenBLAS's own would be.
    const cores = runnableCores(cpuFeatures()).filter((c) => c !== "Zen" && c !== "Cooperlake");
    const best = cores.at(-1)!;
    const kept = await run({ OPENBLAS_CORETYPE: best });
    assert.equal(kept.core, best);
    assert.match(
      kept.summary,
      new RegExp(`core: OPENBLAS_CORETYPE=${best} set in the environment`),
    );
    if (cores.includes("Haswell") && best !== "Haswell") {
      const older = await run({ OPENBLAS_CORETYPE: "Haswell" });
      assert.equal(older.core, best);
      assert.match(
        older.summary,
        new RegExp(
          `core: OPENBLAS_CORETYPE=Haswell \\(AVX2\\) on this .* CPU \\(set ANN_BLAS_CORETYPE to keep it\\): loaded ${best}, its products agree with Haswell's`,
        ),
      );
      const forced = await run({ OPENBLAS_CORETYPE: "Haswell", ANN_BLAS_CORETYPE: "Haswell" });
      assert.equal(forced.core, "Haswell");
    }
  },
});
