import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { formatBlasInfo, loadBlas } from "../../lib/backend/blas.ts";
import {
  BLAS_KERNEL_NAMES,
  blasKernelsInstalled,
  blasKernelStats,
  resetBlasKernelStats,
  uninstallBlasKernels,
} from "../../lib/backend/kernels.ts";
import { BACKEND_NAMES, currentBackendInfo, setupBackend } from "../../lib/backend/backend.ts";

const ENV_NAMES = ["ANN_BACKEND", "ANN_BLAS_LIB", "ANN_BLAS_THREADS", "ANN_BLAS_CORETYPE"];

/** Whether this machine has a CBLAS (found with the environment as the test run was given it). */
const HAS_BLAS = (() => {
  try {
    loadBlas().close();
    return true;
  } catch {
    return false;
  }
})();

const STOCK_KERNELS = BLAS_KERNEL_NAMES.map((name) => tf.getKernel(name, "wasm"));

/**
 * Runs `fn` with the project's variables cleared and then set to `vars`; afterwards restores the
 * variables, the stock kernels and the wasm backend, so tests do not leak state into each other.
 */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = ENV_NAMES.map((name) => [name, Deno.env.get(name)] as const);
  for (const name of ENV_NAMES) Deno.env.delete(name);
  for (const [name, value] of Object.entries(vars)) Deno.env.set(name, value);
  try {
    return await fn();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
    uninstallBlasKernels();
    await tf.setBackend("wasm");
  }
}

function assertStockKernels() {
  assert.equal(blasKernelsInstalled(), false);
  BLAS_KERNEL_NAMES.forEach((name, i) =>
    assert.equal(tf.getKernel(name, "wasm"), STOCK_KERNELS[i])
  );
}

Deno.test({
  name: "setupBackend() picks wasm-blas when a CBLAS opens, and matMul then runs natively",
  ignore: !HAS_BLAS,
  fn: () =>
    withEnv({}, async () => {
      const info = await setupBackend({ log: false });
      assert.equal(info.name, "wasm-blas");
      assert.equal(info.tfBackend, "wasm");
      assert.equal(tf.getBackend(), "wasm");
      assert.equal(info.forced, false);
      assert.equal(info.reason, "fastest available");
      assert.ok(info.blas !== null);
      assert.equal(info.blas.threads === null || info.blas.threads === 1, true, "one thread");
      const core = info.blas.coreReason ? `; core: ${info.blas.coreReason}` : "";
      assert.equal(
        info.summary,
        `wasm-blas: ${formatBlasInfo(info.blas)}${core} (fastest available)`,
      );
      assert.equal(blasKernelsInstalled(), true);
      resetBlasKernelStats();
      tf.tidy(() => tf.matMul(tf.ones([3, 4]), tf.ones([4, 2])).dataSync());
      assert.equal(blasKernelStats().blasCalls, 1);
    }),
});

Deno.test({
  name: "setupBackend() can be called again and again (notebook cells are re-run)",
  ignore: !HAS_BLAS,
  fn: () =>
    withEnv({}, async () => {
      const warnings: unknown[] = [];
      const warn = console.warn;
      console.warn = (...args: unknown[]) => void warnings.push(args);
      try {
        const first = await setupBackend({ log: false });
        const tensors = tf.memory().numTensors;
        for (let i = 0; i < 3; i++) {
          const again = await setupBackend({ log: false });
          assert.deepEqual(again, first);
          assert.equal(currentBackendInfo(), again);
        }
        assert.equal(tf.memory().numTensors, tensors);
        assert.equal(blasKernelsInstalled(), true);
      } finally {
        console.warn = warn;
      }
      assert.deepEqual(warnings, []);
    }),
});

Deno.test("setupBackend() falls back to plain wasm and says why when ANN_BLAS_LIB is missing", () =>
  withEnv({ ANN_BLAS_LIB: "/missing/libopenblas.so.0" }, async () => {
    const info = await setupBackend({ log: false });
    assert.equal(info.name, "wasm");
    assert.equal(tf.getBackend(), "wasm");
    assert.equal(info.blas, null);
    assert.equal(info.forced, false);
    assert.match(
      info.reason,
      /^no BLAS: .*ANN_BLAS_LIB.*\/missing\/libopenblas\.so\.0 \(not found\)/,
    );
    assert.equal(info.summary, `wasm: ${info.reason}`);
    assertStockKernels();
  }));

Deno.test("setupBackend() honours ANN_BACKEND and the backend option", async (t) => {
  await t.step({
    name: "ANN_BACKEND=wasm after wasm-blas puts the stock kernels back",
    ignore: !HAS_BLAS,
    fn: () =>
      withEnv({}, async () => {
        await setupBackend({ log: false });
        assert.equal(blasKernelsInstalled(), true);
        Deno.env.set("ANN_BACKEND", "wasm");
        const info = await setupBackend({ log: false });
        assert.equal(info.name, "wasm");
        assert.equal(info.forced, true);
        assert.equal(info.reason, "forced by ANN_BACKEND=wasm");
        assertStockKernels();
      }),
  });
  await t.step("ANN_BACKEND=cpu", () =>
    withEnv({ ANN_BACKEND: "cpu" }, async () => {
      const info = await setupBackend({ log: false });
      assert.equal(info.name, "cpu");
      assert.equal(info.tfBackend, "cpu");
      assert.equal(tf.getBackend(), "cpu");
      assert.equal(info.summary, "cpu: forced by ANN_BACKEND=cpu");
    }));
  await t.step(
    "the option wins over ANN_BACKEND",
    () =>
      withEnv({ ANN_BACKEND: "cpu" }, async () => {
        const info = await setupBackend({ backend: "wasm", log: false });
        assert.equal(info.name, "wasm");
        assert.equal(tf.getBackend(), "wasm");
        assert.equal(info.reason, "forced by the backend option");
      }),
  );
  await t.step({
    name: "ANN_BACKEND=wasm-blas",
    ignore: !HAS_BLAS,
    fn: () =>
      withEnv({ ANN_BACKEND: "wasm-blas" }, async () => {
        const info = await setupBackend({ log: false });
        assert.equal(info.name, "wasm-blas");
        assert.equal(info.forced, true);
      }),
  });
});

Deno.test("setupBackend() rejects what it cannot do with errors that say why", async (t) => {
  const cases: [string, Record<string, string>, Parameters<typeof setupBackend>[0], RegExp][] = [
    [
      "unknown ANN_BACKEND",
      { ANN_BACKEND: "gpu" },
      {},
      /Cannot set up the backend: ANN_BACKEND=gpu is "gpu", expected one of wasm-blas, wasm, cpu$/,
    ],
    [
      "unknown option",
      {},
      { backend: "webgl" as "wasm" },
      /Cannot set up the backend: the backend option is "webgl", expected one of wasm-blas, wasm, cpu or auto$/,
    ],
    [
      "zero threads",
      {},
      { threads: 0 },
      /Cannot set up the backend: option threads is 0, expected a positive integer$/,
    ],
    [
      "ANN_BLAS_THREADS not a number",
      { ANN_BLAS_THREADS: "many" },
      {},
      /Cannot set up the backend: ANN_BLAS_THREADS is "many", expected a positive integer$/,
    ],
  ];
  for (const [name, env, options, message] of cases) {
    await t.step(name, () =>
      withEnv(env, async () => {
        await assert.rejects(
          setupBackend({ log: false, ...options }),
          (e: unknown) => e instanceof RangeError && message.test(e.message),
        );
      }));
  }
  await t.step(
    "forced wasm-blas without a library",
    () =>
      withEnv({ ANN_BACKEND: "wasm-blas", ANN_BLAS_LIB: "/missing/libcblas.so.3" }, async () => {
        await assert.rejects(
          setupBackend({ log: false }),
          /Cannot use backend "wasm-blas" \(ANN_BACKEND=wasm-blas\): .*\/missing\/libcblas\.so\.3 \(not found\)/,
        );
        assertStockKernels();
      }),
  );
});

Deno.test("setupBackend() prints one summary line unless told not to", () =>
  withEnv({ ANN_BACKEND: "wasm" }, async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => void lines.push(args.join(" "));
    try {
      await setupBackend();
      await setupBackend({ log: false });
    } finally {
      console.log = log;
    }
    assert.deepEqual(lines, ["backend wasm: forced by ANN_BACKEND=wasm"]);
  }));

Deno.test("currentBackendInfo() returns what the last setupBackend() chose", () =>
  withEnv({}, async () => {
    const info = await setupBackend({ backend: "cpu", log: false });
    assert.equal(currentBackendInfo(), info);
    assert.ok(BACKEND_NAMES.includes(info.name));
  }));
