/**
 * `deno task bench`: how fast one epoch of the original recipe (51,000 images, batch 64, SGD 0.01
 * with momentum 0.5) trains on each backend, side by side with PyTorch when Debian's
 * python3-torch is installed. Each configuration runs in its own process, one after another.
 *
 * ```sh
 * deno task bench            # table
 * deno task bench --json     # the last line is one JSON object
 * ```
 *
 * Flags: `--epochs N` timed epochs per backend, the fastest is reported (default 2);
 * `--cpu-steps N` steps timed on the slow cpu backend, extrapolated to an epoch (default 150);
 * `--only NAME` run one configuration; `--json`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { setupBackend } from "../lib/backend/backend.ts";
import { datasetDir, IMAGE_PIXELS, loadMnist, loadSplits } from "../lib/data/mnist.ts";
import { createModel } from "../lib/model/network.ts";
import { projectPath } from "../lib/util/paths.ts";
import { predictProbabilities } from "../lib/model/predict.ts";
import { train } from "../lib/train/train.ts";

/** One configuration's measurements. */
export interface BenchResult {
  name: string;
  /** What the backend setup reported (library, path, threads). */
  detail?: string;
  epoch_s: number;
  samples_per_s: number;
  ms_per_step: number;
  /** tfjs kernels launched by one training step. */
  kernels_per_step?: number;
  eval_samples_per_s: number;
  rss_mb: number;
  /** Steps timed; an epoch time is extrapolated when this is below a full epoch. */
  steps: number;
  extrapolated?: boolean;
  tensors_before?: number;
  tensors_after?: number;
  train_loss?: number;
}

interface Config {
  name: string;
  backend: "wasm-blas" | "wasm" | "cpu";
  blasPath?: string;
  threads?: number;
}

/** Debian's multi-threaded OpenBLAS (package libopenblas0-pthread, which `make bench` installs). */
const OPENBLAS_PTHREAD = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0";
const CONFIGS: Config[] = [
  { name: "wasm-blas (default)", backend: "wasm-blas" },
  {
    name: "wasm-blas (OpenBLAS pthread, 2 threads)",
    backend: "wasm-blas",
    blasPath: OPENBLAS_PTHREAD,
    threads: 2,
  },
  { name: "wasm", backend: "wasm" },
  { name: "cpu", backend: "cpu" },
];

const WARMUP_STEPS = 20;

/** Measures one configuration in this process. */
async function measure(
  config: Config,
  epochs: number,
  maxSteps: number | null,
): Promise<BenchResult> {
  const info = await setupBackend({
    backend: config.backend,
    blasPath: config.blasPath,
    threads: config.threads,
    log: false,
  });
  const { train: data, test } = await loadSplits();
  const model = createModel();
  const stopAfter = (steps: number) => ({
    onBatchEnd: ({ batch }: { batch: number }) => (batch >= steps ? "stop" as const : undefined),
  });
  await train(model, data, { epochs: 1, callbacks: stopAfter(WARMUP_STEPS) });
  // Kernels one training step launches (the first batch of an epoch, no validation pass).
  const profile = await tf.profile(async () => {
    await train(model, data, { epochs: 1, callbacks: stopAfter(1) });
    return [];
  });
  const tensorsBefore = tf.memory().numTensors;
  const batches = Math.ceil(data.count / 64);
  const steps = Math.min(maxSteps ?? batches, batches);
  const times: number[] = [];
  let trainLoss = NaN;
  for (let e = 0; e < epochs; e++) {
    const result = await train(model, data, {
      epochs: 1,
      seed: e + 1,
      callbacks: steps < batches ? stopAfter(steps) : {},
    });
    times.push(result.seconds);
    trainLoss = result.history[0]?.loss ?? NaN;
  }
  const stepSeconds = Math.min(...times) / steps;
  const evalStart = performance.now();
  predictProbabilities(model, test.images);
  const evalSeconds = (performance.now() - evalStart) / 1000;
  const result: BenchResult = {
    // The default's label says which library and threads it found rather than assuming them.
    name: config.name === "wasm-blas (default)" && info.blas
      ? `wasm-blas (${info.blas.vendor} ${info.blas.threading}, ${
        info.blas.threads ?? "?"
      } thread(s))`
      : config.name,
    detail: info.summary,
    epoch_s: stepSeconds * batches,
    samples_per_s: data.count / (stepSeconds * batches),
    ms_per_step: 1000 * stepSeconds,
    kernels_per_step: profile.kernels.length,
    eval_samples_per_s: test.count / evalSeconds,
    rss_mb: Deno.memoryUsage().rss / 2 ** 20,
    steps,
    ...(steps < batches ? { extrapolated: true } : { train_loss: trainLoss }),
    tensors_before: tensorsBefore,
    tensors_after: tf.memory().numTensors,
  };
  model.dispose();
  return result;
}

/** Seconds to read and scale all 70,000 images, best of three. */
async function dataLoadSeconds(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    const { train, test } = await loadMnist();
    if (train.images.length + test.images.length !== 70_000 * IMAGE_PIXELS) throw new Error("size");
    times.push((performance.now() - start) / 1000);
  }
  return Math.min(...times);
}

async function runWorker(config: Config, args: string[]): Promise<BenchResult | null> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      projectPath("bench", "bench.ts"),
      "--worker",
      JSON.stringify(config),
      ...args,
    ],
    env: { NO_COLOR: "1" },
    stderr: "inherit",
  }).output();
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  if (output.code !== 0) {
    console.error(`bench: ${config.name} failed (exit ${output.code})`);
    return null;
  }
  return JSON.parse(lines.at(-1)!);
}

async function runTorch(epochs: number): Promise<BenchResult | null> {
  const python = "/usr/bin/python3";
  const probe = await new Deno.Command(python, { args: ["-c", "import torch"], stderr: "null" })
    .output().catch(() => null);
  if (!probe?.success) {
    console.error("bench: PyTorch not found (apt-get install python3-torch); skipping it");
    return null;
  }
  const output = await new Deno.Command(python, {
    args: [
      projectPath("bench", "torch_epoch.py"),
      datasetDir("mnist"),
      "--epochs",
      String(epochs),
    ],
    stderr: "inherit",
  }).output();
  if (!output.success) return null;
  return JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!);
}

function table(rows: BenchResult[], reference: BenchResult | null): string {
  const header =
    "| backend | epoch (s) | ms / step | kernels / step | samples / s | eval samples / s | × PyTorch |";
  const lines = rows.map((r) =>
    `| ${r.name}${r.extrapolated ? ` (from ${r.steps} steps)` : ""} | ${r.epoch_s.toFixed(2)} | ${
      r.ms_per_step.toFixed(3)
    } | ${r.kernels_per_step ?? "–"} | ${Math.round(r.samples_per_s).toLocaleString("en")} | ${
      Math.round(r.eval_samples_per_s).toLocaleString("en")
    } | ${reference ? (r.epoch_s / reference.epoch_s).toFixed(2) : "–"} |`
  );
  return [header, "|---|--:|--:|--:|--:|--:|--:|", ...lines].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      worker: { type: "string" },
      epochs: { type: "string", default: "2" },
      "cpu-steps": { type: "string", default: "150" },
      only: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const epochs = Number(values.epochs);
  if (values.worker) {
    const config = JSON.parse(values.worker) as Config;
    const maxSteps = config.backend === "cpu" ? Number(values["cpu-steps"]) : null;
    console.log(
      JSON.stringify(await measure(config, config.backend === "cpu" ? 1 : epochs, maxSteps)),
    );
    return;
  }
  const load_s = await dataLoadSeconds();
  console.log(`data: all 70,000 images read and scaled in ${load_s.toFixed(3)} s`);
  const backends: BenchResult[] = [];
  const forward = ["--epochs", String(epochs), "--cpu-steps", values["cpu-steps"]];
  for (const config of CONFIGS.filter((c) => !values.only || c.name === values.only)) {
    if (config.blasPath && !(await Deno.stat(config.blasPath).catch(() => null))) {
      console.error(`bench: skipping ${config.name}: ${config.blasPath} is not installed`);
      continue;
    }
    console.log(`running ${config.name} …`);
    const result = await runWorker(config, forward);
    if (result) backends.push(result);
  }
  const torch = values.only ? null : await runTorch(epochs);
  if (torch) backends.push(torch);
  console.log(
    `\nOne epoch: 51,000 images, batch 64, SGD(0.01, momentum 0.5); fastest of ${epochs}.\n`,
  );
  console.log(table(backends, torch));
  const fastest = backends.find((b) => b.name.startsWith("wasm-blas"));
  const ratio = torch && fastest ? fastest.epoch_s / torch.epoch_s : null;
  if (ratio !== null) console.log(`\nwasm-blas epoch / PyTorch epoch: ${ratio.toFixed(2)}`);
  if (values.json) console.log(JSON.stringify({ load_s, backends, wasm_blas_over_pytorch: ratio }));
}

if (import.meta.main) await main();
