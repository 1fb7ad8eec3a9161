/**
 * Saves and loads models in the standard tfjs layers format, `model.json` plus a binary weights
 * file, so `tf.loadLayersModel("…/model.json")` in a browser reads what we write.
 *
 * The commit protocol, safe for concurrent writers and readers (processes or calls):
 *
 * 1. Take the folder's lock file `.model.lock` (see `withFileLock`: it names its holder and is
 *    taken over when stale), so savers of one folder go one at a time.
 * 2. Write the weights to `weights-<SHA-256 of their bytes>.bin` atomically (temporary file, sync,
 *    rename; the name is the content, so two savers of one model write the same bytes), then
 *    replace `model.json` atomically; it names only that weights file.
 * 3. Still under the lock, remove weights files named neither by the new `model.json` nor by the
 *    one it replaced. Keeping the previous one means a reader that read the old `model.json` an
 *    instant before still finds its weights; savers cannot remove each other's fresh weights, as
 *    their steps 2–3 never interleave.
 *
 * A reader ({@linkcode loadModel}) reads `model.json`, then the weights it names. If they are gone
 * (two saves landed in between) and `model.json` has changed, it starts over, so it sees the old
 * checkpoint or the new one, never a mix. It trusts nothing in the folder: see `loadModel`.
 *
 * A model with NaN or infinite weights (a diverged run) is refused by both unless
 * `allowNonFinite` is passed, so it cannot silently replace a good checkpoint.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { dirname, join } from "node:path";
import { writeAtomically } from "../util/atomic.ts";
import { withFileLock } from "../util/file_lock.ts";
import { REPORTS_DIR } from "../util/paths.ts";
import { profileName } from "../util/profile.ts";
import { cannotMessage, phrase, rangeError, typeError, type Where } from "../util/validate.ts";
import {
  bytesNeeded,
  checkAgainstModel,
  checkDigest,
  type Manifest,
  MODEL_FILE,
  nonFiniteWeight,
  parseManifest,
  readRegularText,
  regularFileSize,
  sha256Hex,
  WEIGHTS_NAME,
  weightsFileIn,
} from "./_checkpoint_files.ts";
import { datasetName } from "../data/dataset.ts";
import type { DatasetName } from "../data/mnist.ts";

const LOCK_FILE = ".model.lock";
/** A temporary file of `writeAtomically` for model.json or a weights file. */
const LEFTOVER = /^(model\.json|weights-[0-9a-f]+\.bin)\.\d+\.[0-9a-f]{8}\.tmp$/;
const LEFTOVER_AGE_MS = 10 * 60_000;
/** How often a reader starts over when saves keep replacing the weights it was about to read. */
const MAX_LOAD_ATTEMPTS = 20;

/**
 * Where notebook 03 saves the trained model and notebook 04 looks for it, one folder per profile
 * and dataset so a quick run never overwrites the full one, nor Fashion-MNIST MNIST's.
 *
 * @param profile `"quick"` or `"full"`. Default: the current profile.
 * @param dataset Default: `DATASET` from the environment, else MNIST.
 * @returns An absolute folder path under `reports/models/`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(trainedModelDir("full", "mnist").endsWith("reports/models/ann_mnist_full"));
 * assert.ok(trainedModelDir("quick", "fashion-mnist").endsWith("models/ann_fashion-mnist_quick"));
 * ```
 */
export function trainedModelDir(
  profile: "quick" | "full" = profileName(),
  dataset: DatasetName = datasetName(),
): string {
  return join(REPORTS_DIR, "models", `ann_${dataset}_${profile}`);
}

/** Where a checkpoint was written. */
export interface SavedCheckpoint {
  /** Path of `model.json`. */
  modelPath: string;
  /** Path of the weights file. */
  weightsPath: string;
  /** Size of the weights in bytes. */
  weightBytes: number;
}

/** Options of {@linkcode saveModel}. */
export interface SaveModelOptions {
  /**
   * Facts to keep with the model (recipe, accuracy), stored as JSON (`undefined` values are
   * dropped, NaN becomes null); read them back with `model.getUserDefinedMetadata()`.
   */
  metadata?: Record<string, unknown>;
  /** Save even if a weight is NaN or infinite (a diverged model). Default false. */
  allowNonFinite?: boolean;
}

/**
 * Saves a model's architecture and weights into a folder, safely against concurrent savers and
 * loaders (see the module's commit protocol).
 *
 * @param model The model.
 * @param dir Folder to write into (created if missing).
 * @param options Metadata; whether a model with non-finite weights may be saved.
 * @returns The paths written.
 * @throws {RangeError} If a weight is NaN or infinite and `allowNonFinite` is not set; nothing is
 *   written then.
 * @throws {Deno.errors.Busy} If another saver holds the folder's lock for more than 30 s.
 */
export async function saveModel(
  model: tf.LayersModel,
  dir: string,
  options: SaveModelOptions = {},
): Promise<SavedCheckpoint> {
  const where: Where = { action: "save checkpoint", subject: dir };
  if (!options.allowNonFinite) refuseNonFinite(where, model);
  // tfjs accepts only plain JSON here: drop `undefined` values and turn NaN into null, as
  // model.json would anyway.
  if (options.metadata) model.setUserDefinedMetadata(JSON.parse(JSON.stringify(options.metadata)));
  let saved: SavedCheckpoint | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const weightData = new Uint8Array(
      tf.io.CompositeArrayBuffer.join(artifacts.weightData as ArrayBuffer | ArrayBuffer[]),
    );
    const weightsName = `weights-${await sha256Hex(weightData)}.bin`;
    const modelJson = {
      format: "layers-model",
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: [weightsName], weights: artifacts.weightSpecs }],
      ...(artifacts.userDefinedMetadata
        ? { userDefinedMetadata: artifacts.userDefinedMetadata }
        : {}),
    };
    const weightsPath = join(dir, weightsName);
    const modelPath = join(dir, MODEL_FILE);
    await Deno.mkdir(dir, { recursive: true });
    // The weights are written under the lock too: another saver's clean-up must not see them
    // before the model.json naming them.
    await withFileLock(join(dir, LOCK_FILE), async () => {
      await writeAtomically(weightsPath, weightData);
      const previous = await namedWeights(modelPath);
      await writeAtomically(modelPath, JSON.stringify(modelJson));
      await removeUnnamedWeights(dir, new Set([weightsName, ...previous]));
    }, { where });
    saved = { modelPath, weightsPath, weightBytes: weightData.byteLength };
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }));
  return saved!;
}

/** Options of {@linkcode loadModel}. */
export interface LoadModelOptions {
  /** Load even if a weight is NaN or infinite. Default false. */
  allowNonFinite?: boolean;
}

/**
 * Loads a model saved by {@linkcode saveModel} (or any tfjs layers model on disk), treating the
 * folder as untrusted: `model.json` and the weights must be regular files (a FIFO would hang the
 * read), weights paths must stay inside the folder, their total size must be what the manifest
 * needs, a `weights-<hex>.bin` file must have that SHA-256, and every weight must match the
 * model's name, shape and dtype; each failure names the file and the weight.
 *
 * @param dir Folder holding `model.json`, or the path of `model.json` itself.
 * @param options Whether non-finite weights are allowed.
 * @returns The model, with its metadata available from `getUserDefinedMetadata()`.
 * @throws {Deno.errors.NotFound} If `model.json` or a weights file is missing.
 * @throws {TypeError} If a file is not a regular file or `model.json` is not a tfjs layers model.
 * @throws {RangeError} If a path leaves the folder, or sizes, digests, shapes, dtypes or values
 *   are not what they should be.
 */
export async function loadModel(
  dir: string,
  options: LoadModelOptions = {},
): Promise<tf.LayersModel> {
  const modelPath = dir.endsWith(".json") ? dir : join(dir, MODEL_FILE);
  const folder = dirname(modelPath);
  const where: Where = { action: "load checkpoint", subject: modelPath };
  for (let attempt = 1;; attempt++) {
    const text = await readModelJson(where, dir, modelPath);
    const manifest = parseManifest(where, text);
    const buffers = await readWeights(where, folder, manifest);
    if (!("missing" in buffers)) return await buildModel(where, manifest, buffers, options);
    // A save replaced model.json and removed these weights since we read it: start over.
    const now = await Deno.readTextFile(modelPath).catch(() => null);
    if (now === text || attempt === MAX_LOAD_ATTEMPTS) {
      throw new Deno.errors.NotFound(
        cannotMessage(
          where,
          `weights file "${buffers.missing}"`,
          phrase("missing"),
          "the file model.json names",
        ),
      );
    }
  }
}

async function readModelJson(where: Where, dir: string, modelPath: string): Promise<string> {
  try {
    return await readRegularText(where, MODEL_FILE, modelPath);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Deno.errors.NotFound(
      cannotMessage(
        { action: "load a checkpoint from", subject: dir },
        `file "${modelPath}"`,
        phrase("missing"),
        "a checkpoint's model.json",
        "Save one with saveModel() or `deno task train --save-model DIR`",
      ),
    );
  }
}

/** Every weights file's bytes, checked, or the path of the first that has disappeared. */
async function readWeights(
  where: Where,
  folder: string,
  manifest: Manifest,
): Promise<Uint8Array[] | { missing: string }> {
  const files: string[] = [];
  let found = 0;
  try {
    for (const path of manifest.paths) {
      const file = await weightsFileIn(where, folder, path);
      found += await regularFileSize(where, "weights file", file);
      files.push(file);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { missing: join(folder, manifest.paths[files.length]) };
    }
    throw error;
  }
  const needed = bytesNeeded(manifest.specs);
  if (found !== needed) {
    rangeError(
      where,
      `the size of weights file${files.length === 1 ? "" : "s"} ${
        files.map((f) => `"${f}"`).join(", ")
      }`,
      phrase(`${found} bytes`),
      `${needed} bytes, what the manifest's weights need`,
    );
  }
  const buffers: Uint8Array[] = [];
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return { missing: file };
      throw error;
    }
    await checkDigest(where, file, bytes);
    buffers.push(bytes);
  }
  return buffers;
}

async function buildModel(
  where: Where,
  manifest: Manifest,
  buffers: Uint8Array[],
  options: LoadModelOptions,
): Promise<tf.LayersModel> {
  let model: tf.LayersModel;
  try {
    model = await tf.models.modelFromJSON({
      modelTopology: manifest.modelTopology as tf.io.ModelJSON["modelTopology"] as never,
    });
  } catch (error) {
    typeError(
      where,
      "its modelTopology",
      phrase(`not a model tfjs can build (${(error as Error).message})`),
      "a tfjs layers model",
    );
  }
  const files = manifest.paths.length === 1 ? `"${manifest.paths[0]}"` : "the weights files";
  let weights: tf.NamedTensorMap = {};
  try {
    checkAgainstModel(where, files, manifest.specs, model);
    const joined = tf.io.CompositeArrayBuffer.join(
      buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer),
    );
    weights = tf.io.decodeWeights(joined, manifest.specs);
    if (!options.allowNonFinite) {
      const bad = nonFiniteWeight(
        manifest.specs.map((s) => ({
          name: s.name,
          values: weights[s.name].dataSync() as ArrayLike<number>,
        })),
      );
      if (bad) {
        rangeError(
          where,
          `the number of NaN or infinite values of weight "${bad.name}" in ${files}`,
          bad.count,
          "0",
          "The model diverged or the file is corrupt; pass allowNonFinite: true to load it anyway",
        );
      }
    }
    model.loadWeights(weights);
    if (manifest.userDefinedMetadata) model.setUserDefinedMetadata(manifest.userDefinedMetadata);
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    tf.dispose(weights);
  }
}

/** Refuses a model with a NaN or infinite weight, naming the weight. */
function refuseNonFinite(where: Where, model: tf.LayersModel): void {
  const bad = nonFiniteWeight(model.weights.map((w) => ({
    name: (w as unknown as { originalName: string }).originalName,
    values: w.read().dataSync() as ArrayLike<number>,
  })));
  if (bad) {
    rangeError(
      where,
      `the number of NaN or infinite values of weight "${bad.name}"`,
      bad.count,
      "0",
      "The model diverged; pass allowNonFinite: true to save it anyway",
    );
  }
}

/** The weights files a `model.json` names, or none if it is missing or unreadable. */
async function namedWeights(modelPath: string): Promise<string[]> {
  try {
    const json = JSON.parse(await Deno.readTextFile(modelPath));
    return json.weightsManifest.flatMap((group: { paths: string[] }) => group.paths);
  } catch {
    return [];
  }
}

/**
 * Removes weights files no `model.json` may still name, and temporary files a crashed saver left
 * (savers write only under the lock we hold, so an old one is nobody's work in progress).
 */
async function removeUnnamedWeights(dir: string, keep: ReadonlySet<string>): Promise<void> {
  const now = Date.now();
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile) continue;
    const path = join(dir, entry.name);
    let remove = WEIGHTS_NAME.test(entry.name) && !keep.has(entry.name);
    if (!remove && LEFTOVER.test(entry.name)) {
      const mtime = (await Deno.stat(path).catch(() => null))?.mtime?.getTime() ?? now;
      remove = now - mtime > LEFTOVER_AGE_MS;
    }
    if (remove) {
      await Deno.remove(path).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    }
  }
}
