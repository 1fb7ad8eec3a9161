/**
 * Saves and loads models in the standard tfjs layers format, `model.json` plus a binary weights
 * file, so `tf.loadLayersModel("…/model.json")` in a browser reads what we write.
 *
 * Saving is atomic: the weights go to a new content-named file, then `model.json` is replaced by a
 * rename, so a reader sees either the old checkpoint or the new one, never half of each.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { dirname, join } from "node:path";
import { writeAtomically } from "../util/atomic.ts";
import { REPORTS_DIR } from "../util/paths.ts";
import { profileName } from "../util/profile.ts";
import { datasetName } from "../data/dataset.ts";
import type { DatasetName } from "../data/mnist.ts";

const MODEL_FILE = "model.json";
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

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

/**
 * Saves a model's architecture and weights into a folder.
 *
 * @param model The model.
 * @param dir Folder to write into (created if missing).
 * @param options.metadata Facts to keep with the model (recipe, accuracy), stored as JSON
 *   (`undefined` values are dropped, NaN becomes null); read them back with
 *   `model.getUserDefinedMetadata()`.
 * @returns The paths written.
 */
export async function saveModel(
  model: tf.LayersModel,
  dir: string,
  options: { metadata?: Record<string, unknown> } = {},
): Promise<SavedCheckpoint> {
  await Deno.mkdir(dir, { recursive: true });
  // tfjs accepts only plain JSON here: drop `undefined` values and turn NaN into null, as
  // model.json would anyway.
  if (options.metadata) model.setUserDefinedMetadata(JSON.parse(JSON.stringify(options.metadata)));
  let saved: SavedCheckpoint | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const weightData = new Uint8Array(
      tf.io.CompositeArrayBuffer.join(artifacts.weightData as ArrayBuffer | ArrayBuffer[]),
    );
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", weightData));
    const weightsName = `weights-${[...digest.subarray(0, 6)].map(hexByte).join("")}.bin`;
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
    await writeAtomically(weightsPath, weightData);
    await writeAtomically(modelPath, new TextEncoder().encode(JSON.stringify(modelJson)));
    await removeStaleWeights(dir, weightsName);
    saved = { modelPath, weightsPath, weightBytes: weightData.byteLength };
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }));
  return saved!;
}

/**
 * Loads a model saved by {@linkcode saveModel} (or any tfjs layers model on disk).
 *
 * @param dir Folder holding `model.json`, or the path of `model.json` itself.
 * @returns The model, with its metadata available from `getUserDefinedMetadata()`.
 * @throws {Deno.errors.NotFound} If `model.json` or a weights file is missing.
 * @throws {TypeError} If `model.json` is not a tfjs layers model.
 * @throws {RangeError} If a weights file is not the size the manifest says.
 */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const modelPath = dir.endsWith(".json") ? dir : join(dir, MODEL_FILE);
  const folder = dirname(modelPath);
  const text = await Deno.readTextFile(modelPath).catch((error) => {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `Cannot load a checkpoint from "${dir}": "${modelPath}" does not exist. Save one with saveModel() or \`deno task train --save-model DIR\``,
      );
    }
    throw error;
  });
  let json: {
    format?: string;
    modelTopology?: object;
    weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    userDefinedMetadata?: Record<string, unknown>;
  };
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TypeError(
      `Cannot load checkpoint "${modelPath}": it is not valid JSON (${(error as Error).message})`,
    );
  }
  if (!json?.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new TypeError(
      `Cannot load checkpoint "${modelPath}": expected a tfjs layers model with "modelTopology" and "weightsManifest", found keys ${
        Object.keys(json ?? {}).join(", ") || "none"
      }`,
    );
  }
  const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
  const buffers: ArrayBuffer[] = [];
  for (const path of json.weightsManifest.flatMap((group) => group.paths)) {
    const file = join(folder, path);
    const bytes = await Deno.readFile(file).catch((error) => {
      if (error instanceof Deno.errors.NotFound) {
        throw new Deno.errors.NotFound(
          `Cannot load checkpoint "${modelPath}": its weights file "${file}" does not exist`,
        );
      }
      throw error;
    });
    buffers.push(bytes.buffer);
  }
  const found = buffers.reduce((sum, b) => sum + b.byteLength, 0);
  const expected = weightSpecs.reduce(
    (sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[spec.dtype] ?? 4),
    0,
  );
  if (found !== expected) {
    throw new RangeError(
      `Cannot load checkpoint "${modelPath}": the manifest needs ${expected} bytes of weights, found ${found}`,
    );
  }
  return await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs,
    weightData: tf.io.CompositeArrayBuffer.join(buffers),
    userDefinedMetadata: json.userDefinedMetadata,
  }));
}

async function removeStaleWeights(dir: string, keep: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && /^weights-[0-9a-f]+\.bin$/.test(entry.name) && entry.name !== keep) {
      await Deno.remove(join(dir, entry.name));
    }
  }
}

function hexByte(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
