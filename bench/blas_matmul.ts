/**
 * Times this network's matrix products and one training step on the stock wasm kernels and on the
 * BLAS kernels, for one CBLAS library and thread count. Run one process per library (loading two
 * OpenBLAS builds into one process would mix their thread pools):
 *
 * ```sh
 * deno run -A bench/blas_matmul.ts --lib /usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas.so.0
 * deno run -A bench/blas_matmul.ts --lib /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0 --threads 2
 * ```
 *
 * Flags: `--lib PATH` (default: the usual search), `--threads N` (default 1), `--repeats N`
 * (default 200 per product), `--steps N` (default 40 training steps), `--json` (last line is one
 * JSON object).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { setupBackend } from "../lib/backend/backend.ts";

const BATCH = 64;
const LAYERS = [784, 128, 64, 10];

/** [label, a shape, b shape, transposeA, transposeB] for forward and backward products. */
function productShapes(): [string, number[], number[], boolean, boolean][] {
  const shapes: [string, number[], number[], boolean, boolean][] = [];
  for (let i = 0; i + 1 < LAYERS.length; i++) {
    const [inputs, outputs] = [LAYERS[i], LAYERS[i + 1]];
    shapes.push([
      `fwd  x·W   ${BATCH}×${inputs}·${inputs}×${outputs}`,
      [BATCH, inputs],
      [
        inputs,
        outputs,
      ],
      false,
      false,
    ]);
    shapes.push([
      `grad xᵀ·dy ${inputs}×${BATCH}·${BATCH}×${outputs}`,
      [BATCH, inputs],
      [
        BATCH,
        outputs,
      ],
      true,
      false,
    ]);
    shapes.push([
      `grad dy·Wᵀ ${BATCH}×${outputs}·${outputs}×${inputs}`,
      [BATCH, outputs],
      [
        inputs,
        outputs,
      ],
      false,
      true,
    ]);
  }
  return shapes;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median µs per product, timing batches of 10 calls so the clock's resolution does not matter. */
function timeProduct(
  aShape: number[],
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
  repeats: number,
): number {
  const a = tf.randomNormal(aShape), b = tf.randomNormal(bShape);
  const run = () => tf.tidy(() => void tf.matMul(a, b, transposeA, transposeB));
  for (let i = 0; i < 10; i++) run();
  const samples: number[] = [];
  for (let i = 0; i < repeats / 10; i++) {
    const start = performance.now();
    for (let j = 0; j < 10; j++) run();
    samples.push((performance.now() - start) * 100);
  }
  tf.dispose([a, b]);
  return median(samples);
}

/** Median ms per training step of the 784-128-64-10 MLP with momentum SGD at batch 64. */
function timeTrainingStep(steps: number): number {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [LAYERS[0]], units: LAYERS[1], activation: "relu" }),
      tf.layers.dense({ units: LAYERS[2], activation: "relu" }),
      tf.layers.dense({ units: LAYERS[3] }),
    ],
  });
  const optimizer = tf.train.momentum(0.01, 0.5);
  const x = tf.randomUniform([BATCH, LAYERS[0]]);
  const labels = tf.oneHot(tf.randomUniform([BATCH], 0, 10, "int32"), 10);
  const step = () => {
    const loss = optimizer.minimize(() => {
      const logProbabilities = tf.logSoftmax(model.apply(x) as tf.Tensor2D);
      return tf.neg(tf.mean(tf.sum(tf.mul(labels, logProbabilities), 1))) as tf.Scalar;
    }, true);
    loss!.dataSync();
    loss!.dispose();
  };
  for (let i = 0; i < 5; i++) step();
  const samples: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    step();
    samples.push(performance.now() - start);
  }
  tf.dispose([x, labels]);
  optimizer.dispose();
  model.dispose();
  return median(samples);
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      lib: { type: "string" },
      threads: { type: "string", default: "1" },
      repeats: { type: "string", default: "200" },
      steps: { type: "string", default: "40" },
      json: { type: "boolean", default: false },
    },
  });
  const threads = Number(values.threads), repeats = Number(values.repeats);
  const steps = Number(values.steps);
  const rows: { product: string; stock_us: number; blas_us: number }[] = [];
  const blasInfo = await setupBackend({ backend: "wasm-blas", blasPath: values.lib, threads });
  for (const [label, aShape, bShape, transposeA, transposeB] of productShapes()) {
    await setupBackend({ backend: "wasm", log: false });
    const stock = timeProduct(aShape, bShape, transposeA, transposeB, repeats);
    await setupBackend({ backend: "wasm-blas", blasPath: values.lib, threads, log: false });
    const blas = timeProduct(aShape, bShape, transposeA, transposeB, repeats);
    rows.push({ product: label, stock_us: stock, blas_us: blas });
    console.log(
      `${label.padEnd(34)} stock ${stock.toFixed(1).padStart(8)} µs   blas ${
        blas.toFixed(1).padStart(7)
      } µs`,
    );
  }
  await setupBackend({ backend: "wasm", log: false });
  const stockStep = timeTrainingStep(steps);
  await setupBackend({ backend: "wasm-blas", blasPath: values.lib, threads, log: false });
  const blasStep = timeTrainingStep(steps);
  console.log(
    `training step (batch ${BATCH}): stock wasm ${stockStep.toFixed(2)} ms, wasm-blas ${
      blasStep.toFixed(2)
    } ms`,
  );
  if (values.json) {
    console.log(JSON.stringify({
      blas: blasInfo.blas,
      products: rows,
      step_ms: { wasm: stockStep, "wasm-blas": blasStep },
    }));
  }
}

if (import.meta.main) await main();
