import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { type Blas, loadBlas } from "../../lib/backend/blas.ts";
import {
  BLAS_KERNEL_NAMES,
  blasKernelsInstalled,
  blasKernelStats,
  installBlasKernels,
  resetBlasKernelStats,
  uninstallBlasKernels,
} from "../../lib/backend/kernels.ts";

await tf.setBackend("wasm");

/** The machine's CBLAS, or null (the tests that need it are then skipped, saying so). */
const blas: Blas | null = (() => {
  try {
    return loadBlas();
  } catch (error) {
    console.warn(`No CBLAS on this machine; BLAS kernel tests are skipped: ${error}`);
    return null;
  }
})();
const NO_BLAS = blas === null;

/** Runs `fn` with the BLAS kernels installed and always puts the stock kernels back. */
function withBlas<T>(fn: () => T): T {
  installBlasKernels(blas!);
  try {
    return fn();
  } finally {
    uninstallBlasKernels();
  }
}

let seed = 1;
function random(shape: number[]): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, "float32", seed++);
}

/** Max |actual − expected| must be within 1e-5 of max |expected|. */
function assertClose(actual: tf.Tensor, expected: tf.Tensor, label = "") {
  assert.deepEqual(actual.shape, expected.shape, `${label}: shape`);
  const a = actual.dataSync(), e = expected.dataSync();
  let scale = 0, error = 0;
  for (let i = 0; i < e.length; i++) {
    scale = Math.max(scale, Math.abs(e[i]));
    error = Math.max(error, Math.abs(a[i] - e[i]));
  }
  assert.ok(
    error <= 1e-5 * Math.max(scale, 1e-3),
    `${label}: max error ${error} against max |value| ${scale}`,
  );
}

/** The output batch shape numpy-style broadcasting gives, computed independently of the kernels. */
function broadcastBatch(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[i - rank + a.length] ?? 1, db = b[i - rank + b.length] ?? 1;
    out.push(Math.max(da, db));
  }
  return out;
}

/** [aBatch, bBatch] pairs: equal, 1 against N, rank-3 against rank-2, and two-sided broadcasting. */
const BATCHES: [number[], number[]][] = [
  [[], []],
  [[3], [3]],
  [[1], [4]],
  [[4], [1]],
  [[4], []],
  [[], [4]],
  [[2, 1], [3]],
  [[2, 3], [2, 3]],
];

/** [m, k, n]: ones, odd sizes and this network's layer shapes. */
const SIZES: [number, number, number][] = [
  [1, 1, 1],
  [3, 17, 5],
  [17, 129, 3],
  [129, 3, 1],
  [64, 784, 128],
  [64, 64, 10],
];

const TRANSPOSES: [boolean, boolean][] = [[false, false], [true, false], [false, true], [
  true,
  true,
]];

function operandShapes(
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean,
): [number[], number[]] {
  return [transposeA ? [k, m] : [m, k], transposeB ? [n, k] : [k, n]];
}

Deno.test({
  name: "BatchMatMul on BLAS equals the stock kernel across transposes, sizes and batch shapes",
  ignore: NO_BLAS,
  fn: async (t) => {
    const cases: [number[], number[], [number, number, number]][] = [
      ...SIZES.map((size): [number[], number[], [number, number, number]] => [[], [], size]),
      ...BATCHES.slice(1).map(([a, b]): [number[], number[], [number, number, number]] => [
        a,
        b,
        [3, 17, 5],
      ]),
    ];
    for (const [transposeA, transposeB] of TRANSPOSES) {
      for (const [aBatch, bBatch, [m, k, n]] of cases) {
        const label =
          `[${aBatch}]×[${bBatch}] ${m}×${k}·${k}×${n} tA=${transposeA} tB=${transposeB}`;
        await t.step(label, () => {
          tf.tidy(() => {
            const [a2, b2] = operandShapes(m, k, n, transposeA, transposeB);
            const a = random([...aBatch, ...a2]), b = random([...bBatch, ...b2]);
            // Reference: the stock kernel on operands broadcast to the full batch beforehand (the
            // stock kernel itself mishandles [2,1] against [3]).
            const batch = broadcastBatch(aBatch, bBatch);
            const expected = tf.matMul(
              tf.broadcastTo(a, [...batch, ...a2]),
              tf.broadcastTo(b, [...batch, ...b2]),
              transposeA,
              transposeB,
            );
            resetBlasKernelStats();
            const actual = withBlas(() => tf.matMul(a, b, transposeA, transposeB));
            assert.deepEqual(blasKernelStats(), {
              blasCalls: 1,
              fallbackCalls: 0,
              lastFallback: null,
            });
            assertClose(actual, expected, label);
          });
        });
      }
    }
  },
});

type Activation = "linear" | "relu" | "relu6" | "elu" | "prelu" | "leakyrelu" | "sigmoid";
const ACTIVATIONS: Activation[] = [
  "linear",
  "relu",
  "relu6",
  "elu",
  "prelu",
  "leakyrelu",
  "sigmoid",
];
const LEAKY_ALPHA = 0.3;

/** The unfused definition, run on stock kernels: matMul, then add bias, then the activation. */
function unfusedReference(
  a: tf.Tensor,
  b: tf.Tensor,
  transposeA: boolean,
  transposeB: boolean,
  bias: tf.Tensor | undefined,
  activation: Activation,
  preluWeights: tf.Tensor | undefined,
): tf.Tensor {
  let y = tf.matMul(a, b, transposeA, transposeB);
  if (bias !== undefined) y = tf.add(y, bias);
  switch (activation) {
    case "linear":
      return y;
    case "relu":
      return tf.relu(y);
    case "relu6":
      return tf.relu6(y);
    case "elu":
      return tf.elu(y);
    case "prelu":
      return tf.prelu(y, preluWeights!);
    case "leakyrelu":
      return tf.leakyRelu(y, LEAKY_ALPHA);
    case "sigmoid":
      return tf.sigmoid(y);
  }
}

Deno.test({
  name:
    "_FusedMatMul on BLAS equals matMul + bias + activation for every bias shape and activation",
  ignore: NO_BLAS,
  fn: async (t) => {
    const [m, k, n] = [17, 129, 5];
    // [aBatch, bBatch, bias shape or null]
    const biasCases: [number[], number[], number[] | null][] = [
      [[], [], null],
      [[], [], [n]],
      [[], [], [1, n]],
      [[], [], [m, n]],
      [[], [], [1]],
      [[], [], [m, 1]],
      [[2], [], [n]],
      [[2], [], [2, m, n]],
      [[2], [], [2, 1, n]],
      [[1], [3], [m, n]],
    ];
    for (const [transposeA, transposeB] of TRANSPOSES) {
      for (const [aBatch, bBatch, biasShape] of biasCases) {
        for (const activation of ACTIVATIONS) {
          const label = `[${aBatch}]×[${bBatch}] bias ${biasShape ? `[${biasShape}]` : "none"} ` +
            `${activation} tA=${transposeA} tB=${transposeB}`;
          await t.step(label, () => {
            tf.tidy(() => {
              const [a2, b2] = operandShapes(m, k, n, transposeA, transposeB);
              const a = random([...aBatch, ...a2]), b = random([...bBatch, ...b2]);
              const bias = biasShape === null ? undefined : random(biasShape);
              const preluActivationWeights = activation === "prelu" ? random([n]) : undefined;
              const batch = broadcastBatch(aBatch, bBatch);
              const expected = unfusedReference(
                tf.broadcastTo(a, [...batch, ...a2]),
                tf.broadcastTo(b, [...batch, ...b2]),
                transposeA,
                transposeB,
                bias,
                activation,
                preluActivationWeights,
              );
              resetBlasKernelStats();
              const actual = withBlas(() =>
                tf.fused.matMul({
                  a,
                  b,
                  transposeA,
                  transposeB,
                  bias,
                  activation,
                  preluActivationWeights,
                  leakyreluAlpha: LEAKY_ALPHA,
                })
              );
              assert.deepEqual(blasKernelStats(), {
                blasCalls: 1,
                fallbackCalls: 0,
                lastFallback: null,
              });
              assertClose(actual, expected, label);
            });
          });
        }
      }
    }
  },
});

Deno.test({
  name: "_FusedMatMul on BLAS equals the stock fused kernel where that kernel is exact",
  ignore: NO_BLAS,
  fn: async (t) => {
    // The stock kernel is exact without transposes and with a rank-1 bias of n values (its
    // XNNPACK path); its transposed path adds the wrong bias entries to rows after the first.
    for (const [m, k, n] of SIZES) {
      for (const activation of ACTIVATIONS) {
        await t.step(`${m}×${k}·${k}×${n} ${activation}`, () => {
          tf.tidy(() => {
            const a = random([m, k]), b = random([k, n]), bias = random([n]);
            const preluActivationWeights = activation === "prelu" ? random([n]) : undefined;
            const args = {
              a,
              b,
              bias,
              activation,
              preluActivationWeights,
              leakyreluAlpha: LEAKY_ALPHA,
            };
            const expected = tf.fused.matMul(args);
            const actual = withBlas(() => tf.fused.matMul(args));
            assertClose(actual, expected, activation);
          });
        });
      }
    }
  },
});

Deno.test({
  name: "gradients through matMul and fused matMul are the same on BLAS and stock kernels",
  ignore: NO_BLAS,
  fn: async (t) => {
    for (const [transposeA, transposeB] of TRANSPOSES) {
      for (
        const [aBatch, bBatch] of [[[], []], [[3], [3]], [[2, 2], [2, 2]]] as [number[], number[]][]
      ) {
        const label = `[${aBatch}]×[${bBatch}] tA=${transposeA} tB=${transposeB}`;
        await t.step(label, () => {
          tf.tidy(() => {
            const [m, k, n] = [17, 33, 5];
            const [a2, b2] = operandShapes(m, k, n, transposeA, transposeB);
            const a = random([...aBatch, ...a2]), b = random([...bBatch, ...b2]);
            const bias = random([n]);
            const weights = random([...broadcastBatch(aBatch, bBatch), m, n]);
            // Linear fused products stay fused under autograd, so their gradient runs the kernels
            // with transposes. (tfjs's matMul gradients cannot reduce a broadcast batch, so only
            // equal batches are differentiated.)
            const loss = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => {
              const plain = tf.sum(tf.mul(tf.matMul(x, y, transposeA, transposeB), weights));
              const product = tf.fused.matMul({ a: x, b: y, transposeA, transposeB, bias: z });
              return tf.add(plain, tf.sum(tf.mul(product, tf.relu(weights))));
            };
            const gradients = tf.grads(loss);
            const expected = gradients([a, b, bias]);
            resetBlasKernelStats();
            const actual = withBlas(() => gradients([a, b, bias]));
            const stats = blasKernelStats();
            assert.ok(stats.blasCalls >= 6, `${stats.blasCalls} native calls`);
            assert.equal(stats.fallbackCalls, 0);
            for (let i = 0; i < expected.length; i++) {
              assertClose(actual[i], expected[i], `${label} d/d${"ab"[i] ?? "bias"}`);
            }
          });
        });
      }
    }
  },
});

Deno.test({
  name: "one SGD step of a dense network gives the same weights on BLAS and stock kernels",
  ignore: NO_BLAS,
  fn: () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [20], units: 16, activation: "relu" }),
        tf.layers.dense({ units: 7, activation: "relu" }),
        tf.layers.dense({ units: 3 }),
      ],
    });
    const initial = model.getWeights().map((w) => w.clone());
    const x = random([9, 20]);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2], "int32"), 3);
    const step = () => {
      const optimizer = tf.train.momentum(0.1, 0.5);
      for (let i = 0; i < 3; i++) {
        optimizer.minimize(() =>
          tf.neg(
            tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(model.apply(x) as tf.Tensor)), 1)),
          ) as tf.Scalar
        );
      }
      optimizer.dispose();
      return model.getWeights().map((w) => w.clone());
    };
    const expected = step();
    model.setWeights(initial);
    resetBlasKernelStats();
    const actual = withBlas(step);
    assert.ok(blasKernelStats().blasCalls > 0);
    for (let i = 0; i < expected.length; i++) assertClose(actual[i], expected[i], `weight ${i}`);
    tf.dispose([...initial, ...expected, ...actual, x, labels]);
    model.dispose();
  },
});

Deno.test({
  name: "BLAS kernels leak no tensors and do not grow the wasm heap over many calls",
  ignore: NO_BLAS,
  fn: () => {
    const backend = tf.backend() as BackendWasm;
    const a = random([64, 784]), b = random([784, 128]), bias = random([128]);
    const dy = random([64, 128]);
    const work = () =>
      tf.tidy(() => {
        tf.fused.matMul({ a, b, bias, activation: "relu" });
        tf.matMul(a, dy, true, false);
        tf.matMul(dy, b, false, true);
        tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.matMul(x, w)))([a, b]);
      });
    withBlas(() => {
      for (let i = 0; i < 5; i++) work();
      const tensors = tf.memory().numTensors;
      const dataIds = backend.numDataIds();
      const heapBytes = (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.length;
      for (let i = 0; i < 300; i++) work();
      assert.equal(tf.memory().numTensors, tensors);
      assert.equal(backend.numDataIds(), dataIds);
      assert.equal((backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.length, heapBytes);
    });
    tf.dispose([a, b, bias, dy]);
  },
});

Deno.test({
  name: "BLAS kernels stay correct after the wasm memory grows and moves",
  ignore: NO_BLAS,
  fn: () => {
    const wasm = (tf.backend() as BackendWasm).wasm as unknown as { HEAPU8: Uint8Array };
    const a = random([33, 65]), b = random([65, 17]);
    const expected = tf.matMul(a, b, false, false);
    withBlas(() => {
      const before = tf.matMul(a, b);
      const buffer = wasm.HEAPU8.buffer;
      // Allocating more than the heap holds makes emscripten grow memory and swap its views.
      const big = tf.zeros([wasm.HEAPU8.length / 4 + 1_000_000]);
      assert.notEqual(wasm.HEAPU8.buffer, buffer, "the heap grew");
      const after = tf.matMul(a, b);
      assertClose(before, expected, "before growth");
      assertClose(after, expected, "after growth");
      tf.dispose([before, after, big]);
    });
    tf.dispose([a, b, expected]);
  },
});

Deno.test({
  name: "BLAS kernels fall back to the stock kernel for what they do not handle",
  ignore: NO_BLAS,
  fn: async (t) => {
    await t.step("prelu weights that are not a trailing shape of the output", () => {
      tf.tidy(() => {
        const a = random([6, 4]), b = random([4, 5]), weights = random([6, 1]);
        const args = { a, b, activation: "prelu" as const, preluActivationWeights: weights };
        const expected = tf.fused.matMul(args);
        resetBlasKernelStats();
        const actual = withBlas(() => tf.fused.matMul(args));
        const stats = blasKernelStats();
        assert.equal(stats.fallbackCalls, 1);
        assert.match(stats.lastFallback ?? "", /_FusedMatMul: prelu weights shape \[6,1\]/);
        assertClose(actual, expected, "prelu fallback");
      });
    });
    await t.step("int32 operands (the stock kernel's own error)", () => {
      const a = tf.ones([2, 2], "int32"), b = tf.ones([2, 2], "int32");
      const stockError = (() => {
        try {
          tf.matMul(a, b).dispose();
        } catch (error) {
          return (error as Error).message;
        }
        return "no error";
      })();
      resetBlasKernelStats();
      withBlas(() => assert.throws(() => tf.matMul(a, b), { message: stockError }));
      assert.equal(blasKernelStats().fallbackCalls, 1);
      assert.match(blasKernelStats().lastFallback ?? "", /dtype int32/);
      tf.dispose([a, b]);
    });
    await t.step("empty operands", () => {
      tf.tidy(() => {
        const a = random([0, 3]), b = random([3, 4]);
        resetBlasKernelStats();
        const actual = withBlas(() => tf.matMul(a, b));
        assert.deepEqual(actual.shape, [0, 4]);
        assert.equal(blasKernelStats().fallbackCalls, 1);
      });
    });
  },
});

Deno.test({
  name: "installBlasKernels() replaces both kernels once and uninstallBlasKernels() restores them",
  ignore: NO_BLAS,
  fn: () => {
    const stock = BLAS_KERNEL_NAMES.map((name) => tf.getKernel(name, "wasm"));
    assert.equal(blasKernelsInstalled(), false);
    const warnings: unknown[][] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => void warnings.push(args);
    try {
      installBlasKernels(blas!);
      installBlasKernels(blas!);
      assert.equal(blasKernelsInstalled(), true);
      BLAS_KERNEL_NAMES.forEach((name, i) => assert.notEqual(tf.getKernel(name, "wasm"), stock[i]));
      uninstallBlasKernels();
      uninstallBlasKernels();
    } finally {
      console.warn = warn;
      uninstallBlasKernels();
    }
    assert.deepEqual(warnings, [], "no 'already registered' warnings");
    assert.equal(blasKernelsInstalled(), false);
    BLAS_KERNEL_NAMES.forEach((name, i) => assert.equal(tf.getKernel(name, "wasm"), stock[i]));
  },
});
