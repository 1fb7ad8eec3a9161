/**
 * `deno task train`: the original recipe from a terminal, one line per epoch, flags named like
 * pytorch/examples' MNIST script.
 *
 * ```sh
 * deno task train --epochs 30 --lr 0.01 --momentum 0.5 --save-model reports/model --json
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { BACKEND_NAMES, type BackendName, setupBackend } from "../backend/backend.ts";
import { saveModel } from "../model/checkpoint.ts";
import { type DatasetName, DATASETS, loadSplits } from "../data/mnist.ts";
import { createModel } from "../model/network.ts";
import { evaluateModel } from "../model/predict.ts";
import { formatEpoch, train, widenHistory } from "../train/train.ts";

const USAGE = `Usage: deno task train [options]

Trains the original 784-128-64-10 network and reports test accuracy.

Options:
  --epochs N          passes over the training data (default 30)
  --lr X              learning rate (default 0.01)
  --momentum M        SGD momentum (default 0.5)
  --batch-size B      examples per step (default 64)
  --test-batch-size B examples per evaluation pass (default 1000)
  --seed S            seed of the weights, the split and the batch order (default 0)
  --limit N           train on N examples only (validation and test keep N/5) for quick runs
  --dataset NAME      mnist or fashion-mnist (default mnist)
  --backend NAME      wasm-blas, wasm or cpu (default: the fastest available; or ANN_BACKEND)
  --save-model DIR    save the trained model (model.json + weights) into DIR
  --json              print one JSON object with the results as the last line
  -h, --help          show this help
`;

/** The parsed command line. */
export interface TrainCliOptions {
  epochs: number;
  lr: number;
  momentum: number;
  batchSize: number;
  testBatchSize: number;
  seed: number;
  limit: number | null;
  dataset: DatasetName;
  backend: BackendName | undefined;
  saveModel: string | null;
  json: boolean;
  help: boolean;
}

/**
 * Parses the command line, failing with a message that names the flag.
 *
 * @param args The arguments after the script name.
 * @returns The options with defaults filled in.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(parseTrainArgs(["--lr", "0.1"]).lr, 0.1);
 * assert.throws(() => parseTrainArgs(["--epochs", "ten"]), /--epochs: "ten" is not a positive integer/);
 * ```
 */
export function parseTrainArgs(args: string[]): TrainCliOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      "epochs": { type: "string", default: "30" },
      "lr": { type: "string", default: "0.01" },
      "momentum": { type: "string", default: "0.5" },
      "batch-size": { type: "string", default: "64" },
      "test-batch-size": { type: "string", default: "1000" },
      "seed": { type: "string", default: "0" },
      "limit": { type: "string" },
      "dataset": { type: "string", default: "mnist" },
      "backend": { type: "string" },
      "save-model": { type: "string" },
      "json": { type: "boolean", default: false },
      "help": { type: "boolean", short: "h", default: false },
    },
  });
  const dataset = values.dataset;
  if (!Object.hasOwn(DATASETS, dataset)) {
    throw new TypeError(
      `--dataset: "${dataset}" is not a dataset; expected ${Object.keys(DATASETS).join(" or ")}`,
    );
  }
  return {
    epochs: integer("epochs", values.epochs, 1),
    lr: number("lr", values.lr, (x) => x > 0, "a positive number"),
    momentum: number("momentum", values.momentum, (x) => x >= 0 && x < 1, "a number in [0, 1)"),
    batchSize: integer("batch-size", values["batch-size"], 1),
    testBatchSize: integer("test-batch-size", values["test-batch-size"], 1),
    seed: integer("seed", values.seed, 0),
    limit: values.limit === undefined ? null : integer("limit", values.limit, 1),
    dataset: dataset as DatasetName,
    backend: backendName(values.backend),
    saveModel: values["save-model"] ?? null,
    json: values.json,
    help: values.help,
  };
}

function backendName(text: string | undefined): BackendName | undefined {
  if (text === undefined || (BACKEND_NAMES as readonly string[]).includes(text)) {
    return text as BackendName | undefined;
  }
  throw new TypeError(
    `--backend: "${text}" is not a backend; expected ${BACKEND_NAMES.join(", ")}`,
  );
}

function integer(flag: string, text: string, min: number): number {
  const value = text.trim() === "" ? NaN : Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(
      `--${flag}: "${text}" is not a ${min === 0 ? "non-negative" : "positive"} integer`,
    );
  }
  return value;
}

function number(flag: string, text: string, ok: (x: number) => boolean, expected: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || !ok(value)) {
    throw new RangeError(`--${flag}: "${text}" is not ${expected}`);
  }
  return value;
}

async function main(args: string[]): Promise<number> {
  let options: TrainCliOptions;
  try {
    options = parseTrainArgs(args);
  } catch (error) {
    console.error(`train: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const backend = await setupBackend(options.backend ? { backend: options.backend } : {});

  const { train: trainSplit, validation, test } = await loadSplits({
    dataset: options.dataset,
    seed: options.seed,
    limit: options.limit ?? undefined,
  });
  console.log(
    `data ${options.dataset}: ${trainSplit.count} train, ${validation.count} validation, ${test.count} test`,
  );

  const model = createModel({ seed: options.seed });
  const optimizer = { kind: "sgd", learningRate: options.lr, momentum: options.momentum } as const;
  const result = await train(model, trainSplit, {
    epochs: options.epochs,
    batchSize: options.batchSize,
    seed: options.seed,
    optimizer,
    validation,
    callbacks: { onEpochEnd: (info) => console.log(formatEpoch(info)) },
  });
  if (result.diverged) {
    const { epoch, batch, loss } = result.diverged;
    console.log(`diverged at epoch ${epoch}, batch ${batch}: loss ${loss}`);
  }
  const testScores = evaluateModel(model, test, { batchSize: options.testBatchSize });
  console.log(
    `test loss ${testScores.loss.toFixed(4)}, accuracy ${
      (100 * testScores.accuracy).toFixed(2)
    } % ` +
      `(${result.seconds.toFixed(1)} s training)`,
  );
  const summary = {
    test_accuracy: testScores.accuracy,
    test_loss: testScores.loss,
    backend: backend.name,
    backend_summary: backend.summary,
    seconds: result.seconds,
    epochs: result.epochs,
    diverged: result.diverged,
    config: {
      ...optimizer,
      batchSize: options.batchSize,
      seed: options.seed,
      dataset: options.dataset,
    },
    history: widenHistory(result.history),
  };
  if (options.saveModel) {
    const saved = await saveModel(model, options.saveModel, { metadata: summary });
    console.log(`saved ${saved.modelPath}`);
  }
  if (options.json) console.log(JSON.stringify(summary));
  model.dispose();
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
