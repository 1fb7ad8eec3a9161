/**
 * `deno task bench`: how fast one epoch of the original recipe (51,000 images, batch 64, SGD 0.01
 * with momentum 0.5) trains on each backend, and how fast an 8-rate learning-rate grid trains
 * the way the notebooks train grids (`trainGrid`), side by side with PyTorch when Debian's
 * python3-torch is installed: its epoch and its loop over the same 8 rates, each with OpenBLAS's
 * default core and with the best core for this CPU. Each configuration runs in its own process,
 * one after another.
 *
 * ```sh
 * deno task bench            # table
 * deno task bench --json     # the last line is one JSON object
 * ```
 *
 * Flags: `--epochs N` timed epochs per backend, the fastest is reported (default 2);
 * `--grid-epochs E` epochs of the grid (default 3); `--no-grid` skips it; `--no-lab` skips the
 * learning-rate lab's speed in Chromium (bench/lab_browser.ts);
 * `--cpu-steps N` steps timed on the slow cpu backend, extrapolated to an epoch (default 150);
 * `--rounds N` rounds of ours-then-PyTorch for the epoch and grid ratios, whose medians are quoted
 * (default 3: the first measurements and two more pairs); `--only NAME` run one configuration;
 * `--json`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import process from "node:process";
import { setupBackend } from "../lib/backend/backend.ts";
import { datasetDir, IMAGE_PIXELS, loadMnist, loadSplits } from "../lib/data/mnist.ts";
import { createModel } from "../lib/model/network.ts";
import { projectPath } from "../lib/util/paths.ts";
import { predictProbabilities } from "../lib/model/predict.ts";
import { labTable, measureLab } from "./lab_browser.ts";
import { train } from "../lib/train/train.ts";
import { trainGrid } from "../lib/train/grid.ts";
import { cpuFeatures } from "../lib/backend/cpu.ts";

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

/** Runs of the grid: learning rates from 0.001 to 0.2, log-spaced. */
export const GRID_RUNS = 8;

/** The grid's learning rates. */
export function gridRates(runs = GRID_RUNS): number[] {
  return Array.from({ length: runs }, (_, i) => 0.001 * (0.2 / 0.001) ** (i / (runs - 1)));
}

/** The grid's measurement. */
export interface GridBench {
  runs: number;
  epochs: number;
  seconds: number;
  /** CPU seconds of the process while it trained (user + system): less noisy on a busy machine. */
  cpu_seconds: number;
  /** Peak resident memory of the process (VmHWM), data and all. */
  peak_rss_mb: number;
  /** Threads the wide products used, and workers the pass was split over. */
  threads: number;
  workers: number;
  /** OpenBLAS core, and the one it picks on its own. */
  core: string | null;
  stock_core: string | null;
  val_accuracy: number[];
}

/** Trains the 8-rate grid the way notebooks 05/06 do: same initial weights, validation per epoch. */
async function measureGrid(epochs: number): Promise<GridBench> {
  const info = await setupBackend({ log: false });
  const { train: data, validation } = await loadSplits();
  const runs = gridRates().map((learningRate) => ({
    model: createModel({ seed: 0 }),
    optimizer: { kind: "sgd" as const, learningRate, momentum: 0.5 },
  }));
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const results = await trainGrid(runs, data, { epochs, seed: 0, validation });
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  runs.forEach((run) => run.model.dispose());
  return {
    runs: runs.length,
    epochs,
    seconds,
    cpu_seconds: (cpu.user + cpu.system) / 1e6,
    peak_rss_mb: peakRssMb(),
    threads: results[0].threads,
    workers: results[0].workers,
    core: info.blas?.core ?? null,
    stock_core: info.blas?.stockCore ?? info.blas?.core ?? null,
    val_accuracy: results.map((r) => r.history.at(-1)?.accuracy ?? NaN),
  };
}

/** Peak resident set of this process in MiB, from /proc (current RSS where that is missing). */
function peakRssMb(): number {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const kb = Number(status.match(/^VmHWM:\s+(\d+) kB/m)?.[1]);
    if (Number.isFinite(kb)) return kb / 1024;
  } catch {
    // not Linux
  }
  return Deno.memoryUsage().rss / 2 ** 20;
}

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
  return await runBenchProcess(config.name, ["--worker", JSON.stringify(config), ...args]);
}

async function runBenchProcess<T>(name: string, args: string[]): Promise<T | null> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", projectPath("bench", "bench.ts"), ...args],
    env: { NO_COLOR: "1" },
    stderr: "inherit",
  }).output();
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  if (output.code !== 0) {
    console.error(`bench: ${name} failed (exit ${output.code})`);
    return null;
  }
  return JSON.parse(lines.at(-1)!);
}

/** The CPU's model name (Deno reads /proc only with --allow-all, so through grep). */
async function cpuModel(): Promise<string> {
  const fromDeno = cpuFeatures().model;
  if (fromDeno !== null) return fromDeno;
  const output = await new Deno.Command("grep", { args: ["-m1", "^model name", "/proc/cpuinfo"] })
    .output().catch(() => null);
  const line = output?.success ? new TextDecoder().decode(output.stdout) : "";
  return line.split(":")[1]?.trim() || "unknown CPU";
}

/** Whether Debian's python3-torch can be imported. */
async function hasTorch(): Promise<boolean> {
  const probe = await new Deno.Command(PYTHON, { args: ["-c", "import torch"], stderr: "null" })
    .output().catch(() => null);
  if (!probe?.success) {
    console.error("bench: PyTorch not found (apt-get install python3-torch); skipping it");
  }
  return probe?.success ?? false;
}

const PYTHON = "/usr/bin/python3";

/**
 * Runs a PyTorch script with one OpenBLAS thread and the given core (`null`: OpenBLAS's own
 * pick); returns its last line as JSON, labelled with the core.
 */
async function runPython<T extends { name: string }>(
  script: string,
  args: string[],
  core: string | null,
): Promise<(T & { core: string }) | null> {
  const env: Record<string, string> = { OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1" };
  if (core !== null) env.OPENBLAS_CORETYPE = core;
  const output = await new Deno.Command(PYTHON, {
    args: [projectPath("bench", script), datasetDir("mnist"), ...args],
    env,
    stderr: "inherit",
  }).output();
  if (!output.success) return null;
  const result = JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!);
  const label = core === null ? "default core" : `core ${core}`;
  return { ...result, name: `${result.name}, ${label}`, core: core === null ? "default" : "best" };
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

function gridTable(grid: GridBench, torch: (GridBench & { name: string })[]): string {
  const reference = torch.reduce<GridBench | null>(
    (a, b) => (a === null || b.seconds < a.seconds ? b : a),
    null,
  );
  const row = (name: string, r: GridBench) =>
    `| ${name} | ${r.seconds.toFixed(2)} | ${r.cpu_seconds.toFixed(2)} | ${
      r.peak_rss_mb.toFixed(0)
    } | ${reference ? (r.seconds / reference.seconds).toFixed(2) : "–"} | ${
      reference ? (r.cpu_seconds / reference.cpu_seconds).toFixed(2) : "–"
    } |`;
  return [
    "| 8-rate grid, 3 epochs each | seconds | CPU seconds | peak MiB | × PyTorch loop | × (CPU) |",
    "|---|--:|--:|--:|--:|--:|",
    row(`trainGrid, side by side (${grid.workers} worker(s), ${grid.threads} thread(s))`, grid),
    ...torch.map((t) => row(t.name, t)),
  ].join("\n").replace("8-rate grid, 3 epochs", `${grid.runs}-rate grid, ${grid.epochs} epochs`);
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
      "grid-worker": { type: "boolean", default: false },
      "grid-epochs": { type: "string", default: "3" },
      "no-grid": { type: "boolean", default: false },
      "no-lab": { type: "boolean", default: false },
      rounds: { type: "string", default: "3" },
    },
  });
  const epochs = Number(values.epochs);
  if (values["grid-worker"]) {
    console.log(JSON.stringify(await measureGrid(Number(values["grid-epochs"]))));
    return;
  }
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
  const gridEpochs = Number(values["grid-epochs"]);
  const gridArgs = ["--grid-worker", "--grid-epochs", String(gridEpochs)];
  const runGrid = () => runBenchProcess<GridBench>("grid", gridArgs);
  const grid = values.only || values["no-grid"] ? null : await runGrid();
  // PyTorch with OpenBLAS's own core, and with the best one for this CPU (the core our backend
  // settled on) when that differs.
  const best = grid?.core ??
    backends[0]?.detail?.match(/\((?:serial|pthread|openmp), (\w+)\)/)?.[1] ??
    null;
  const stock = grid?.stock_core ?? null;
  // When OpenBLAS's own pick is already the best core, one run stands for both.
  const same = best === null || best === stock;
  const cores: (string | null)[] = same ? [null] : [null, best];
  const withTorch = !values.only && await hasTorch();
  const torchEpochs: (BenchResult & { core: string })[] = [];
  const torchGrids: (GridBench & { name: string; core: string })[] = [];
  if (same && best !== null) {
    console.log(`PyTorch: OpenBLAS's own core ${best} is the best one here`);
  }
  const torchEpoch = (core: string | null) =>
    runPython<BenchResult>("torch_epoch.py", ["--epochs", String(epochs)], core);
  const torchGrid = (core: string | null, runs: number) =>
    runPython<GridBench & { name: string }>(
      "torch_grid.py",
      ["--epochs", String(gridEpochs), "--runs", String(runs)],
      core,
    );
  if (withTorch) {
    for (const core of cores) {
      const epoch = await torchEpoch(core);
      if (epoch) torchEpochs.push(epoch);
      if (grid) {
        const loop = await torchGrid(core, grid.runs);
        if (loop) torchGrids.push(loop);
      }
    }
  }
  const fastestTorch = torchEpochs.reduce<BenchResult | null>(
    (a, b) => (a === null || b.epoch_s < a.epoch_s ? b : a),
    null,
  );
  backends.push(...torchEpochs);
  const cpu = await cpuModel();
  console.log(
    `\nOne epoch: 51,000 images, batch 64, SGD(0.01, momentum 0.5); fastest of ${epochs}. ` +
      `CPU: ${cpu}; OpenBLAS core ${best ?? "?"} (its own pick: ${stock ?? "?"}).\n`,
  );
  console.log(table(backends, fastestTorch));
  const fastest = backends.find((b) => b.name.startsWith("wasm-blas"));
  const ratios: Record<string, number> = {};
  for (const t of torchEpochs) {
    for (const core of same ? ["default", "best"] : [t.core]) {
      if (fastest) ratios[`epoch_over_pytorch_${core}`] = fastest.epoch_s / t.epoch_s;
    }
  }
  for (const t of torchGrids) {
    if (grid) {
      for (const core of same ? ["default", "best"] : [t.core]) {
        ratios[`grid_over_pytorch_loop_${core}`] = grid.seconds / t.seconds;
        ratios[`grid_over_pytorch_loop_${core}_cpu`] = grid.cpu_seconds / t.cpu_seconds;
      }
    }
  }
  if (grid) {
    console.log(
      `\nGrid: ${grid.runs} learning rates 0.001–0.2, ${grid.epochs} epochs each, validation every ` +
        `epoch (trainGrid: ${grid.workers} worker(s), ${grid.threads} thread(s) on the wide ` +
        `products).\n`,
    );
    console.log(gridTable(grid, torchGrids));
  }
  for (const [name, value] of Object.entries(ratios)) console.log(`${name}: ${value.toFixed(2)}`);
  // On a shared machine one measurement of each is a coin toss: alternate ours and PyTorch's (at
  // its best core) for a few more rounds and quote the median of the per-round ratios.
  const rounds = Number(values.rounds);
  const alternating: Record<string, number[]> = {};
  const bestCore = same ? null : best;
  if (withTorch && rounds > 0 && fastest && fastestTorch && !values.only) {
    const defaultConfig = CONFIGS[0];
    alternating.epoch = [fastest.epoch_s / fastestTorch.epoch_s];
    if (grid && torchGrids.length > 0) {
      alternating.grid = [grid.seconds / Math.min(...torchGrids.map((t) => t.seconds))];
    }
    for (let round = 1; round < rounds; round++) {
      const ours = await runWorker(defaultConfig, forward);
      const theirs = await torchEpoch(bestCore);
      if (ours && theirs) alternating.epoch.push(ours.epoch_s / theirs.epoch_s);
      if (alternating.grid && grid) {
        const oursGrid = await runGrid();
        const theirGrid = await torchGrid(bestCore, grid.runs);
        if (oursGrid && theirGrid) alternating.grid.push(oursGrid.seconds / theirGrid.seconds);
      }
    }
    console.log(`\nAlternating rounds (ours, then PyTorch at its best core), ratio per round:`);
    for (const [name, list] of Object.entries(alternating)) {
      ratios[`${name}_over_pytorch_median`] = median(list);
      console.log(
        `${name}: ${list.map((r) => r.toFixed(2)).join(", ")}; median ${median(list).toFixed(2)}`,
      );
    }
  }
  const lab = values.only || values["no-lab"] ? null : await measureLab().catch((error) => {
    console.error(`bench: skipping the lab: ${error.message}`);
    return null;
  });
  if (lab) console.log(`\nThe learning-rate lab: ${lab.engine}\n\n${labTable(lab)}`);
  const wasmBlasOverPytorch = fastest && fastestTorch
    ? fastest.epoch_s / fastestTorch.epoch_s
    : null;
  if (values.json) {
    console.log(JSON.stringify({
      load_s,
      cpu,
      backends,
      grid,
      pytorch_grid: torchGrids,
      ratios,
      alternating,
      wasm_blas_over_pytorch: wasmBlasOverPytorch,
      lab,
    }));
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

if (import.meta.main) await main();
