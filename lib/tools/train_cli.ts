/**
 * `deno task train`: the original recipe from a terminal, one line per epoch, flags named like
 * pytorch/examples' MNIST script.
 *
 * ```sh
 * deno task train --epochs 30 --lr 0.01 --momentum 0.5 --save-model reports/model --json
 * ```
 *
 * Everything the run needs is checked before it trains: flags (a usage error exits 2), and the
 * `--save-model` folder, resolved against the folder `deno task` was started from (`INIT_CWD`;
 * tasks themselves run in the project folder). A diverged run exits 1 without printing an
 * accuracy as if the model were usable, and saves nothing unless `--save-diverged` is given.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { BACKEND_NAMES, type BackendName, setupBackend } from "../backend/backend.ts";
import { saveModel } from "../model/checkpoint.ts";
import { type DatasetName, DATASETS, loadSplits } from "../data/mnist.ts";
import { createModel } from "../model/network.ts";
import { evaluateModel } from "../model/predict.ts";
import { formatEpoch, train, widenHistory } from "../train/train.ts";
import { temporaryPathFor } from "../util/atomic.ts";
import { cannotMessage, phrase, rangeError, sameClass, type Where } from "../util/validate.ts";

const USAGE = `Usage: deno task train [options]

Trains the original 784-128-64-10 network and reports test accuracy.

Options:
  --epochs N          passes over the training data (default 30)
  --lr X              learning rate (default 0.01)
  --momentum M        SGD momentum (default 0.5)
  --batch-size B      examples per step, 1 to 60000 (default 64)
  --test-batch-size B examples per evaluation pass, 1 to 60000 (default 1000)
  --seed S            seed of the weights, the split and the batch order, 0 to 4294967295 (default 0)
  --limit N           train on N examples only (validation and test keep N/5) for quick runs
  --dataset NAME      mnist or fashion-mnist (default mnist)
  --backend NAME      wasm-blas, wasm or cpu (default: the fastest available; or ANN_BACKEND)
  --save-model DIR    save the trained model (model.json + weights) into DIR, relative to the
                      folder you ran the command from
  --save-diverged     save the model even if training diverged (NaN weights)
  --json              print one JSON object with the results as the last line
  -h, --help          show this help

Exit status: 0 for a usable model, 1 if training diverged or failed, 2 for a usage error
(a bad flag, or a --save-model folder that cannot be written).
`;

/** The largest batch: all of MNIST's 60,000 training images in one step. */
export const MAX_BATCH_SIZE = 60_000;
/** Seeds are 32-bit: a larger one would silently equal its low 32 bits. */
export const MAX_SEED = 2 ** 32 - 1;

/** A loss above this (or NaN) stops training as diverged. */
export const DIVERGENCE_LOSS = 100;

const WHERE: Where = { action: "run", subject: "deno task train" };

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
  /** Absolute path of the folder to save into, or `null`. */
  saveModel: string | null;
  saveDiverged: boolean;
  json: boolean;
  help: boolean;
}

const OPTIONS = {
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
  "save-diverged": { type: "boolean", default: false },
  "json": { type: "boolean", default: false },
  "help": { type: "boolean", short: "h", default: false },
} as const;

/**
 * Parses the command line, failing with a message that names the flag, what it is and what was
 * expected.
 *
 * @param args The arguments after the script name.
 * @param options.cwd The folder a relative `--save-model` is resolved against. Default `INIT_CWD`
 *   (set by `deno task` to where it was run), else the working directory.
 * @returns The options with defaults filled in.
 * @throws {RangeError | TypeError} On a bad flag or value (a usage error).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(parseTrainArgs(["--lr", "0.1"]).lr, 0.1);
 * assert.throws(
 *   () => parseTrainArgs(["--epochs", "ten"]),
 *   { message: 'Cannot run "deno task train": --epochs is "ten", expected a positive integer' },
 * );
 * ```
 */
export function parseTrainArgs(args: string[], options: { cwd?: string } = {}): TrainCliOptions {
  const values = parseFlags(args);
  const dataset = values.dataset;
  if (!Object.hasOwn(DATASETS, dataset)) {
    rangeError(WHERE, "--dataset", dataset, oneOfText(Object.keys(DATASETS)));
  }
  return {
    epochs: integerFlag("epochs", values.epochs, 1),
    lr: numberFlag("lr", values.lr, (x) => x > 0, "a positive number"),
    momentum: numberFlag("momentum", values.momentum, (x) => x >= 0 && x < 1, "a number in [0, 1)"),
    batchSize: integerFlag("batch-size", values["batch-size"], 1, MAX_BATCH_SIZE),
    testBatchSize: integerFlag("test-batch-size", values["test-batch-size"], 1, MAX_BATCH_SIZE),
    seed: integerFlag("seed", values.seed, 0, MAX_SEED),
    limit: values.limit === undefined ? null : integerFlag("limit", values.limit, 1),
    dataset: dataset as DatasetName,
    backend: backendName(values.backend),
    saveModel: values["save-model"] === undefined
      ? null
      : saveModelPath(values["save-model"], options.cwd),
    saveDiverged: values["save-diverged"],
    json: values.json,
    help: values.help,
  };
}

/** node:util's parser, its errors rephrased in the project's grammar. */
function parseFlags(args: string[]) {
  try {
    return parseArgs({ args, strict: true, allowPositionals: false, options: OPTIONS }).values;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = (error as Error).message;
    const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? "";
    const known = Object.keys(OPTIONS).map((name) => `--${name}`);
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      rangeError(WHERE, "an option", flag, `one of ${known.join(", ")}`, "See --help");
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      const takesValue = /argument missing/.test(message) || /requires an argument/.test(message);
      rangeError(
        WHERE,
        flag || "an option",
        phrase(takesValue ? "missing its value" : "given a value"),
        takesValue ? `${flag} VALUE` : `${flag} alone (it takes no value)`,
      );
    }
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      const word = /'([^']*)'/.exec(message)?.[1] ?? message;
      rangeError(WHERE, "an argument", word, "options only (--name value)", "See --help");
    }
    throw error;
  }
}

function oneOfText(names: readonly string[]): string {
  const list = names.map((n) => `"${n}"`);
  return list.length === 1 ? list[0] : `${list.slice(0, -1).join(", ")} or ${list.at(-1)}`;
}

function backendName(text: string | undefined): BackendName | undefined {
  if (text === undefined || (BACKEND_NAMES as readonly string[]).includes(text)) {
    return text as BackendName | undefined;
  }
  rangeError(WHERE, "--backend", text, oneOfText(BACKEND_NAMES));
}

function integerFlag(flag: string, text: string, min: number, max?: number): number {
  const value = text.trim() === "" ? NaN : Number(text);
  const noun = max !== undefined
    ? `an integer from ${min} to ${max}`
    : min === 0
    ? "a non-negative integer"
    : "a positive integer";
  if (!Number.isSafeInteger(value) || value < min || (max !== undefined && value > max)) {
    rangeError(WHERE, `--${flag}`, text, noun);
  }
  return value;
}

function numberFlag(flag: string, text: string, ok: (x: number) => boolean, noun: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || !ok(value)) {
    rangeError(WHERE, `--${flag}`, text, noun);
  }
  return value;
}

function saveModelPath(text: string, cwd?: string): string {
  if (text.trim() === "") rangeError(WHERE, "--save-model", text, "a folder path");
  const base = cwd ?? (Deno.env.get("INIT_CWD") || Deno.cwd());
  return isAbsolute(text) ? resolve(text) : resolve(base, text);
}

/**
 * Checks, before training, that a checkpoint can be saved into `dir`: it is a folder or can be
 * created as one, and its nearest existing folder accepts new files.
 *
 * @param dir The absolute folder path.
 * @throws {Deno.errors.NotADirectory} If it, or a parent, is a file.
 * @throws {Deno.errors.PermissionDenied | Error} If the folder cannot take files.
 */
export async function checkSaveTarget(dir: string): Promise<void> {
  const where: Where = { action: "save the model into", subject: dir };
  let existing = dir;
  while (true) {
    const info = await Deno.stat(existing).catch((error) => {
      if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
        return null;
      }
      throw sameClass(
        error,
        cannotMessage(
          where,
          `"${existing}"`,
          phrase(`not accessible (${error.message})`),
          "a folder this process can create files in",
        ),
      );
    });
    if (info?.isDirectory) break;
    if (info !== null) {
      throw new Deno.errors.NotADirectory(
        cannotMessage(
          where,
          `"${existing}"`,
          phrase("a file"),
          "a folder, or a path to create one at",
        ),
      );
    }
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  const probe = temporaryPathFor(join(existing, ".train-cli-probe"));
  try {
    await Deno.writeFile(probe, new Uint8Array(0), { createNew: true });
    await Deno.remove(probe);
  } catch (error) {
    throw sameClass(
      error,
      cannotMessage(
        where,
        `folder "${existing}"`,
        phrase(`not writable (${(error as Error).message})`),
        "a folder this process can create files in",
      ),
    );
  }
}

/** An error of the same class as `error` (PermissionDenied, NotCapable…) with our message. */
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
  try {
    if (options.saveModel) await checkSaveTarget(options.saveModel);
  } catch (error) {
    console.error(`train: ${(error as Error).message}`);
    return 2;
  }
  try {
    return await run(options);
  } catch (error) {
    console.error(`train: ${(error as Error).message}`);
    return 1;
  }
}

async function run(options: TrainCliOptions): Promise<number> {
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
  try {
    const result = await train(model, trainSplit, {
      epochs: options.epochs,
      batchSize: options.batchSize,
      seed: options.seed,
      optimizer,
      validation,
      divergenceLoss: DIVERGENCE_LOSS,
      callbacks: { onEpochEnd: (info) => console.log(formatEpoch(info)) },
    });
    const diverged = result.diverged;
    const testScores = diverged ? null : evaluateModel(model, test, {
      batchSize: options.testBatchSize,
    });
    if (testScores) {
      console.log(
        `test loss ${testScores.loss.toFixed(4)}, accuracy ${
          (100 * testScores.accuracy).toFixed(2)
        } % (${result.seconds.toFixed(1)} s training)`,
      );
    }
    const summary = {
      test_accuracy: testScores?.accuracy ?? null,
      test_loss: testScores?.loss ?? null,
      backend: backend.name,
      backend_summary: backend.summary,
      seconds: result.seconds,
      epochs: result.epochs,
      diverged,
      config: {
        ...optimizer,
        batchSize: options.batchSize,
        seed: options.seed,
        dataset: options.dataset,
      },
      history: widenHistory(result.history),
    };
    if (diverged) console.error(`train: ${divergenceMessage(diverged, options)}`);
    if (options.saveModel && (!diverged || options.saveDiverged)) {
      const saved = await saveModel(model, options.saveModel, {
        metadata: summary,
        allowNonFinite: options.saveDiverged,
      });
      console.log(`saved ${saved.modelPath}`);
    }
    if (options.json) console.log(JSON.stringify(summary));
    return diverged ? 1 : 0;
  } finally {
    model.dispose();
  }
}

/**
 * What the CLI says when training diverged: where, that no accuracy is given, what was (not) saved.
 *
 * @param diverged Where the loss went wrong.
 * @param options The `--save-model` folder and whether `--save-diverged` was given.
 * @returns One message in the project's grammar.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   divergenceMessage({ epoch: 1, batch: 3, loss: NaN }, { saveModel: null, saveDiverged: false }),
 *   'Cannot train "model": the loss at epoch 1, batch 3 is NaN, expected a finite loss of at ' +
 *     "most 100. The model diverged and is not usable, so no test accuracy is given; try a smaller --lr",
 * );
 * ```
 */
export function divergenceMessage(
  diverged: { epoch: number; batch: number; loss: number },
  options: Pick<TrainCliOptions, "saveModel" | "saveDiverged">,
): string {
  const saved = options.saveModel === null
    ? ""
    : options.saveDiverged
    ? `; saving it to "${options.saveModel}" anyway, as --save-diverged asks`
    : `; nothing was saved to "${options.saveModel}" (pass --save-diverged to save it anyway)`;
  return cannotMessage(
    { action: "train", subject: "model" },
    `the loss at epoch ${diverged.epoch}, batch ${diverged.batch}`,
    diverged.loss,
    `a finite loss of at most ${DIVERGENCE_LOSS}`,
    `The model diverged and is not usable, so no test accuracy is given${saved}; try a smaller --lr`,
  );
}

if (import.meta.main) Deno.exit(await main(Deno.args));
