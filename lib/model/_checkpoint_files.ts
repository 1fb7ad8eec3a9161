/**
 * Reading a checkpoint folder as untrusted input: `model.json` and the weights files it names are
 * checked before a byte of weights is read (regular files, inside the folder, the sizes the
 * manifest implies), the weights are checked against the SHA-256 in their name, and every
 * manifest entry against the model it is for. Private to `checkpoint.ts`.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import {
  cannotMessage,
  describeValue,
  rangeError,
  typeError,
  type Where,
} from "../util/validate.ts";

/** The name `saveModel` gives a model's manifest. */
export const MODEL_FILE = "model.json";
/** A weights file named by the SHA-256 of its content (all 64 hex digits, or a prefix of 12+). */
export const WEIGHTS_NAME = /^weights-([0-9a-f]{12,64})\.bin$/;
/** Larger than any `model.json` we write (about 10 kB plus metadata); guards against huge files. */
const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };
const QUANTIZED_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

/** One weight as the manifest describes it. */
export type WeightSpec = tf.io.WeightsManifestEntry;

/** The parts of `model.json` we use, checked. */
export interface Manifest {
  modelTopology: Record<string, unknown>;
  paths: string[];
  specs: WeightSpec[];
  userDefinedMetadata?: Record<string, unknown>;
}

/**
 * The text of a file that must be a regular file of bounded size (a FIFO would block a read
 * forever, a device or a huge file would never end).
 */
export async function readRegularText(where: Where, what: string, path: string): Promise<string> {
  await regularFileSize(where, what, path);
  return await Deno.readTextFile(path);
}

/** Checks that `path` is a regular file and returns its size; NotFound passes through. */
export async function regularFileSize(where: Where, what: string, path: string): Promise<number> {
  const info = await Deno.stat(path);
  if (!info.isFile) {
    throw new TypeError(cannotMessage(where, `${what} "${path}"`, kindOf(info), "a regular file"));
  }
  if (what === MODEL_FILE && info.size > MAX_MODEL_JSON_BYTES) {
    rangeError(where, `size of "${path}"`, info.size, `at most ${MAX_MODEL_JSON_BYTES} bytes`);
  }
  return info.size;
}

function kindOf(info: Deno.FileInfo): { phrase: string } {
  const kind = info.isDirectory
    ? "a folder"
    : info.isFifo
    ? "a FIFO (named pipe)"
    : info.isSocket
    ? "a socket"
    : info.isCharDevice || info.isBlockDevice
    ? "a device"
    : "not a regular file";
  return { phrase: kind };
}

/** Parses `model.json` and checks the shape of everything we read from it. */
export function parseManifest(where: Where, text: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    typeError(where, "its text", { phrase: `not JSON (${(error as Error).message})` }, "JSON");
  }
  if (!isObject(json) || !isObject(json.modelTopology) || !Array.isArray(json.weightsManifest)) {
    typeError(
      where,
      "its keys",
      isObject(json) ? Object.keys(json) : { phrase: describeValue(json) },
      'a tfjs layers model with "modelTopology" and "weightsManifest"',
    );
  }
  const paths: string[] = [], specs: WeightSpec[] = [];
  json.weightsManifest.forEach((group: unknown, g: number) => {
    const what = `weightsManifest[${g}]`;
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      typeError(where, what, group, "an object with arrays paths and weights");
    }
    group.paths.forEach((path: unknown, i: number) => {
      if (typeof path !== "string") typeError(where, `${what}.paths[${i}]`, path, "a file name");
      paths.push(path);
    });
    for (const spec of group.weights) specs.push(checkSpec(where, spec));
  });
  const metadata = json.userDefinedMetadata;
  if (metadata !== undefined && !isObject(metadata)) {
    typeError(where, "userDefinedMetadata", metadata, "an object");
  }
  return {
    modelTopology: json.modelTopology,
    paths,
    specs,
    ...(metadata === undefined ? {} : { userDefinedMetadata: metadata }),
  };
}

function checkSpec(where: Where, spec: unknown): WeightSpec {
  if (!isObject(spec) || typeof spec.name !== "string") {
    typeError(where, "a weight of the manifest", spec, 'an object with a string "name"');
  }
  const what = `weight "${spec.name}"'s`;
  const shape = spec.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    typeError(where, `${what} shape`, shape, "an array of non-negative integers");
  }
  if (!Object.hasOwn(DTYPE_BYTES, spec.dtype as string)) {
    rangeError(where, `${what} dtype`, spec.dtype, 'one of "float32", "int32" or "bool"');
  }
  const quantization = spec.quantization;
  if (quantization !== undefined) {
    if (!isObject(quantization) || !Object.hasOwn(QUANTIZED_BYTES, quantization.dtype as string)) {
      rangeError(
        where,
        `${what} quantization`,
        quantization,
        'dtype "uint8", "uint16" or "float16"',
      );
    }
  }
  return spec as unknown as WeightSpec;
}

/** Bytes of weights the specs need, in file order. */
export function bytesNeeded(specs: readonly WeightSpec[]): number {
  return specs.reduce((sum, spec) => {
    const size = spec.quantization
      ? QUANTIZED_BYTES[spec.quantization.dtype]
      : DTYPE_BYTES[spec.dtype];
    return sum + spec.shape.reduce((a, b) => a * b, 1) * size;
  }, 0);
}

/**
 * The absolute path of a manifest's weights path, which must name a file inside the folder: not
 * absolute, no `..` out of it, and, once symbolic links are followed, still inside it.
 */
export async function weightsFileIn(where: Where, folder: string, path: string): Promise<string> {
  const expected = "a file name inside the checkpoint folder";
  const file = resolve(folder, path);
  const inside = (root: string, target: string) => {
    const rel = relative(root, target);
    return rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel);
  };
  if (path === "" || isAbsolute(path) || !inside(resolve(folder), file)) {
    rangeError(where, "a weights path", path, expected);
  }
  const [realFolder, realFile] = await Promise.all([Deno.realPath(folder), Deno.realPath(file)]);
  if (!inside(realFolder, realFile)) {
    rangeError(where, `weights path "${path}"`, { phrase: `a link to "${realFile}"` }, expected);
  }
  return join(folder, path);
}

/**
 * Checks a weights file against the SHA-256 its name carries (`weights-<hex>.bin`); files named
 * otherwise (other tfjs tools' `group1-shard1of1.bin`) have nothing to check against.
 */
export async function checkDigest(where: Where, path: string, bytes: Uint8Array): Promise<void> {
  const name = path.split(/[\\/]/).at(-1)!;
  const named = WEIGHTS_NAME.exec(name)?.[1];
  if (named === undefined) return;
  const digest = await sha256Hex(bytes);
  if (!digest.startsWith(named)) {
    rangeError(
      where,
      `the SHA-256 of weights file "${path}"`,
      digest.slice(0, named.length),
      `"${named}" as its name says`,
      "The file is corrupt or was replaced; save the model again",
    );
  }
}

/** Hex SHA-256 of bytes. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Checks that the manifest's weights are exactly the model's, by name, shape and dtype, so a
 * mismatch names the file and the weight instead of surfacing as a bare tfjs error.
 */
export function checkAgainstModel(
  where: Where,
  files: string,
  specs: readonly WeightSpec[],
  model: tf.LayersModel,
): void {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  for (const weight of model.weights) {
    const name = (weight as unknown as { originalName: string }).originalName;
    const spec = byName.get(name);
    if (spec === undefined) {
      rangeError(
        where,
        `weight "${name}" in ${files}`,
        { phrase: "missing" },
        "one per model weight",
      );
    }
    if (spec.shape.join() !== weight.shape.join()) {
      rangeError(
        where,
        `the shape of weight "${name}" in ${files}`,
        spec.shape,
        `${describeValue(weight.shape)} (the model's)`,
      );
    }
    if (spec.dtype !== weight.dtype) {
      rangeError(
        where,
        `the dtype of weight "${name}" in ${files}`,
        spec.dtype,
        `"${weight.dtype}" (the model's)`,
      );
    }
    byName.delete(name);
  }
  const extra = [...byName.keys()];
  if (extra.length > 0) {
    rangeError(where, `the weights in ${files} the model lacks`, extra, "none");
  }
}

/** Names the first weight holding NaN or ±Infinity, with how many such values it has. */
export function nonFiniteWeight(
  named: readonly { name: string; values: ArrayLike<number> }[],
): { name: string; count: number } | null {
  for (const { name, values } of named) {
    let count = 0;
    for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) count++;
    if (count > 0) return { name, count };
  }
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
