/**
 * MNIST and Fashion-MNIST from the original IDX files: parse, validate, scale to [0, 1], split.
 *
 * One Float32Array holds every image of a split (row-major, 28×28 each) and one Uint8Array every
 * label; tensors are made later, only where the model needs them.
 *
 * @module
 */
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzip as gunzipCallback } from "node:zlib";
import { datasetName } from "./dataset.ts";
import { IMAGE_PIXELS, IMAGE_SIDE, NUM_CLASSES } from "./shape.ts";
import { DATA_DIR } from "../util/paths.ts";
import { createRng, permutation } from "../util/random.ts";
import {
  cannotMessage,
  integer,
  oneOf,
  phrase,
  positiveInteger,
  rangeError,
  typeError,
  type Where,
} from "../util/validate.ts";

const gunzipAsync = promisify(gunzipCallback);

export { IMAGE_PIXELS, IMAGE_SIDE, NUM_CLASSES };

/** IDX magic number of a ubyte file with 3 dimensions (images). */
export const IMAGE_MAGIC = 0x00000803;
/** IDX magic number of a ubyte file with 1 dimension (labels). */
export const LABEL_MAGIC = 0x00000801;
const UBYTE_TYPE = 0x08;
const GZIP_MAGIC = [0x1f, 0x8b];
/** More dimensions than any IDX file has (MNIST uses 1 and 3): a larger rank byte is garbage. */
export const MAX_IDX_RANK = 8;

/** The datasets `loadMnist` knows, with the folder setup puts them in and the variable that overrides it. */
export const DATASETS = {
  "mnist": { folder: "mnist", envVar: "MNIST_DIR" },
  "fashion-mnist": { folder: "fashion-mnist", envVar: "FASHION_MNIST_DIR" },
} as const;

/** Name of a dataset `loadMnist` can read. */
export type DatasetName = keyof typeof DATASETS;

/** Class names for display, per dataset. */
export const CLASS_NAMES: Record<DatasetName, readonly string[]> = {
  "mnist": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  "fashion-mnist": [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
  ],
};

/** Images and labels of one split. */
export interface Split {
  /** `count × 784` pixels, row-major, each in [0, 1]. */
  images: Float32Array;
  /** `count` labels in 0–9. */
  labels: Uint8Array;
  /** Number of examples. */
  count: number;
}

/** The parsed content of an IDX file. */
export interface Idx {
  /** Size of each dimension, outermost first. */
  dims: number[];
  /** The values, row-major. */
  data: Uint8Array;
}

/**
 * Parses an IDX file of unsigned bytes, the format MNIST is distributed in.
 *
 * @param bytes The raw (not gzipped) file content.
 * @param options.name File name used in error messages.
 * @returns The dimensions and a view of the values (no copy).
 * @throws {TypeError} If the header is not that of a ubyte IDX file.
 * @throws {RangeError} If the body is shorter or longer than the header says.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 3]);
 * assert.deepEqual(parseIdx(bytes).dims, [2]);
 * assert.deepEqual([...parseIdx(bytes).data], [7, 3]);
 * ```
 */
export function parseIdx(bytes: Uint8Array, options: { name?: string } = {}): Idx {
  const where: Where = { action: "parse IDX file", subject: options.name ?? "<bytes>" };
  if (bytes.length < 4) {
    rangeError(where, "its size", phrase(`${bytes.length} bytes`), "at least a 4-byte header");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const rank = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== UBYTE_TYPE || rank === 0) {
    typeError(
      where,
      "its magic number",
      phrase(`${magic} (0x${hex(magic)})`),
      "0x000008NN (unsigned bytes, NN dims)",
    );
  }
  if (rank > MAX_IDX_RANK) {
    rangeError(where, "its number of dimensions", rank, `1 to ${MAX_IDX_RANK}`);
  }
  const headerLength = 4 + 4 * rank;
  if (bytes.length < headerLength) {
    rangeError(
      where,
      "its size",
      phrase(`${bytes.length} bytes`),
      `at least ${headerLength}, the header of ${rank} dimensions`,
    );
  }
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const expected = dims.reduce((a, b) => a * b, 1);
  const found = bytes.length - headerLength;
  if (found !== expected) {
    rangeError(
      where,
      "its body",
      phrase(
        `${found} bytes (${found < expected ? "truncated" : `${found - expected} trailing bytes`})`,
      ),
      `${expected} bytes for dimensions ${dims.join("×")}`,
    );
  }
  return { dims, data: bytes.subarray(headerLength) };
}

/** Options of {@linkcode loadMnist}. */
export interface LoadMnistOptions {
  /**
   * Folder holding the four standard files (raw or `.gz`). Defaults to the dataset's environment
   * variable (`MNIST_DIR`, `FASHION_MNIST_DIR`), else `data/mnist` or `data/fashion-mnist`.
   */
  dir?: string;
  /** Which dataset. Default: `DATASET` from the environment, else `"mnist"`. */
  dataset?: DatasetName;
}

/** Options of {@linkcode loadMnist}: where from, and how many examples. */
export interface LoadMnistLimitOptions extends LoadMnistOptions {
  /**
   * Keep only the first `limit` examples of each split (all of them if fewer), scaling no others:
   * quick experiments and tests that need a few hundred images. Default: all.
   */
  limit?: number;
}

/**
 * Loads the 60,000 training and 10,000 test images of MNIST or Fashion-MNIST.
 *
 * @param options Where to read from, which dataset, how many examples.
 * @returns The training and test splits, pixels scaled to [0, 1], and the paths read (when a
 *   folder holds both a raw and a `.gz` copy of a file, the raw one is read, with a warning).
 * @throws {Deno.errors.NotFound} If the folder or a file is missing, naming the paths tried.
 * @throws {Deno.errors.NotADirectory} If the folder is a file.
 * @throws {TypeError | RangeError} If a file is not what MNIST files are (or holds no images).
 */
export async function loadMnist(
  options: LoadMnistLimitOptions = {},
): Promise<{ train: Split; test: Split; files: string[] }> {
  const { limit } = options;
  if (limit !== undefined) positiveInteger({ action: "load MNIST" }, "option limit", limit);
  const { train, test } = await loadMnistBytes(options);
  const first = (split: ByteSplit) =>
    limit === undefined ? null : range(Math.min(split.count, limit));
  return {
    train: scaleExamples(train, first(train)),
    test: scaleExamples(test, first(test)),
    files: [...train.files, ...test.files],
  };
}

/** A split as the IDX files hold it: one byte (0–255) a pixel, before scaling. */
interface ByteSplit {
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
  /** The image and label files it was read from. */
  files: string[];
}

/** Reads and checks both splits' files, leaving the pixels as bytes. */
async function loadMnistBytes(
  options: LoadMnistOptions,
): Promise<{ train: ByteSplit; test: ByteSplit }> {
  const dataset = oneOf(
    { action: "load MNIST" },
    "option dataset",
    options.dataset ?? datasetName(),
    Object.keys(DATASETS) as DatasetName[],
  );
  const fromEnv = options.dir === undefined && !!Deno.env.get(DATASETS[dataset].envVar);
  const dir = options.dir ?? datasetDir(dataset);
  await checkFolder(dataset, dir, fromEnv);
  const [train, test] = await Promise.all([
    loadSplit(dataset, dir, "train"),
    loadSplit(dataset, dir, "t10k"),
  ]);
  return { train, test };
}

/** The dataset folder must exist and be a folder; the message says where its path came from. */
async function checkFolder(dataset: DatasetName, dir: string, fromEnv: boolean): Promise<void> {
  const where: Where = { action: "load dataset", subject: dataset };
  const what = `folder "${dir}"${fromEnv ? ` (from ${DATASETS[dataset].envVar})` : ""}`;
  const expected = "a folder holding the four IDX files";
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory)) {
      throw error;
    }
    throw new Deno.errors.NotFound(
      cannotMessage(where, what, phrase("missing"), expected, setupHint(dataset)),
    );
  }
  if (!info.isDirectory) {
    throw new Deno.errors.NotADirectory(
      cannotMessage(where, what, phrase("a file"), expected, setupHint(dataset)),
    );
  }
}

function setupHint(dataset: DatasetName): string {
  return `Run \`deno task setup\` to fetch the datasets, or point ${
    DATASETS[dataset].envVar
  } at a folder holding the four standard files`;
}

/**
 * The folder `loadMnist` reads a dataset from when given no `dir`.
 *
 * @param dataset The dataset.
 * @returns The environment variable's value if set, else the folder under `data/`.
 */
export function datasetDir(dataset: DatasetName): string {
  return Deno.env.get(DATASETS[dataset].envVar) || join(DATA_DIR, DATASETS[dataset].folder);
}

async function loadSplit(
  dataset: DatasetName,
  dir: string,
  prefix: string,
): Promise<ByteSplit> {
  const [imageFile, labelFile] = await Promise.all([
    readIdxFile(dir, `${prefix}-images`, "idx3-ubyte", { dataset }),
    readIdxFile(dir, `${prefix}-labels`, "idx1-ubyte", { dataset }),
  ]);
  const images = parseIdx(imageFile.bytes, { name: imageFile.path });
  const labels = parseIdx(labelFile.bytes, { name: labelFile.path });
  const imagesWhere: Where = { action: "load images", subject: imageFile.path };
  const labelsWhere: Where = { action: "load labels", subject: labelFile.path };
  checkMagic(images, imagesWhere, IMAGE_MAGIC);
  checkMagic(labels, labelsWhere, LABEL_MAGIC);
  const [count, rows, cols] = images.dims;
  if (rows !== IMAGE_SIDE || cols !== IMAGE_SIDE) {
    rangeError(
      imagesWhere,
      "the image size",
      phrase(`${rows}×${cols}`),
      `${IMAGE_SIDE}×${IMAGE_SIDE}`,
    );
  }
  if (count === 0) rangeError(imagesWhere, "the number of images", 0, "at least 1");
  if (labels.dims[0] !== count) {
    rangeError(
      labelsWhere,
      "the number of labels",
      labels.dims[0],
      `${count}, the number of images in "${imageFile.path}"`,
    );
  }
  const badLabel = labels.data.findIndex((label) => label >= NUM_CLASSES);
  if (badLabel >= 0) {
    rangeError(
      labelsWhere,
      `label ${badLabel} (0-based)`,
      labels.data[badLabel],
      `0 to ${NUM_CLASSES - 1}`,
    );
  }
  return {
    pixels: images.data,
    labels: labels.data,
    count,
    files: [imageFile.path, labelFile.path],
  };
}

function checkMagic(idx: Idx, where: Where, expected: number): void {
  const magic = (UBYTE_TYPE << 8) | idx.dims.length;
  if (magic !== expected) {
    const dims = (n: number) => `${n} dimension${n === 1 ? "" : "s"}`;
    typeError(
      where,
      "its magic number",
      phrase(`${magic} (${dims(idx.dims.length)})`),
      `${expected} (${dims(expected & 0xff)})`,
    );
  }
}

/**
 * The examples at `indices` (all of them for `null`) as a split, pixels scaled from 0–255 to
 * [0, 1] like torchvision's `ToTensor()`. Only the examples kept are scaled: on machines where
 * fresh memory is slow to touch, the floats of all 70,000 images (220 MB) cost more than reading
 * the files.
 */
function scaleExamples(bytes: ByteSplit, indices: ArrayLike<number> | null): Split {
  const count = indices === null ? bytes.count : indices.length;
  const images = new Float32Array(count * IMAGE_PIXELS);
  const labels = new Uint8Array(count);
  const scale = 1 / 255;
  for (let i = 0; i < count; i++) {
    const j = indices === null ? i : indices[i];
    const from = j * IMAGE_PIXELS, to = i * IMAGE_PIXELS;
    for (let p = 0; p < IMAGE_PIXELS; p++) images[to + p] = bytes.pixels[from + p] * scale;
    labels[i] = bytes.labels[j];
  }
  return { images, labels, count };
}

/**
 * Reads one IDX file of a dataset folder in any of its usual spellings (`train-images-idx3-ubyte`,
 * `train-images.idx3-ubyte`, either with `.gz`), gunzipping when needed.
 *
 * @param dir The folder.
 * @param stem The file's name before the kind, e.g. `"train-images"` or `"t10k-labels"`.
 * @param kind `"idx3-ubyte"` (images) or `"idx1-ubyte"` (labels).
 * @param options.dataset Which dataset, for the hint when a file is missing. Default `"mnist"`.
 * @returns The path read and its raw (decompressed) bytes. When several spellings exist, the first
 *   in the order above is read and a warning names the others.
 * @throws {Deno.errors.NotFound} Naming every path tried.
 */
export async function readIdxFile(
  dir: string,
  stem: string,
  kind: string,
  options: { dataset?: DatasetName } = {},
): Promise<{ path: string; bytes: Uint8Array }> {
  // The official names use a dash; some mirrors (Kaggle) use a dot before the kind.
  const candidates = [`${stem}-${kind}`, `${stem}.${kind}`].flatMap((n) => [n, `${n}.gz`])
    .map((n) => join(dir, n));
  const present: string[] = [];
  for (const path of candidates) {
    const info = await Deno.stat(path).catch((error) => {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    });
    if (info !== null) present.push(path);
  }
  if (present.length === 0) {
    const dataset = options.dataset ?? "mnist";
    throw new Deno.errors.NotFound(
      cannotMessage(
        { action: "load dataset", subject: dataset },
        `file "${stem}-${kind}" in "${dir}"`,
        phrase("missing"),
        `one of ${candidates.map((c) => `"${c}"`).join(", ")}`,
        setupHint(dataset),
      ),
    );
  }
  const [path, ...others] = present;
  if (others.length > 0) {
    console.warn(
      `loadMnist: "${dir}" holds ${present.length} copies of ${stem}-${kind} (${
        present.map((p) => `"${p.slice(dir.length + 1)}"`).join(", ")
      }); reading "${path}"`,
    );
  }
  const bytes = await Deno.readFile(path);
  return { path, bytes: isGzip(bytes) ? await gunzip(bytes, path) : bytes };
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/** `node:zlib`'s gunzip, off the main thread: three times faster than a `DecompressionStream`. */
async function gunzip(bytes: Uint8Array, path: string): Promise<Uint8Array> {
  try {
    return await gunzipAsync(bytes);
  } catch (error) {
    throw new TypeError(
      cannotMessage(
        { action: "decompress", subject: path },
        "its content",
        phrase(`not a valid gzip stream (${(error as Error).message})`),
        "a gzipped IDX file",
      ),
      { cause: error },
    );
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}

/**
 * Picks examples of a split by index, copying them into a new split.
 *
 * @param split The split to pick from.
 * @param indices Which examples, in the order wanted.
 * @returns A new split.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const split = { images: new Float32Array(3 * 784).map((_, i) => Math.floor(i / 784)), labels: new Uint8Array([5, 6, 7]), count: 3 };
 * const picked = takeExamples(split, [2, 0]);
 * assert.deepEqual([...picked.labels], [7, 5]);
 * assert.deepEqual(picked.images[0], 2);
 * ```
 */
export function takeExamples(split: Split, indices: ArrayLike<number>): Split {
  const count = indices.length;
  const images = new Float32Array(count * IMAGE_PIXELS);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const j = indices[i];
    if (!(Number.isInteger(j) && j >= 0 && j < split.count)) {
      rangeError(
        { action: "take examples" },
        `index ${i}`,
        j,
        `an integer from 0 to ${split.count - 1} (the split has ${split.count} examples)`,
      );
    }
    images.set(split.images.subarray(j * IMAGE_PIXELS, (j + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
    labels[i] = split.labels[j];
  }
  return { images, labels, count };
}

/** Options of {@linkcode splitTrainValidation}. */
export interface SplitOptions {
  /** Examples held out for validation. Default 9,000, as in the original (51,000 / 9,000). */
  validationSize?: number;
  /** Seed of the shuffle that decides which examples are held out. Default 0. */
  seed?: number;
}

/**
 * Holds out a seeded random subset of the training images for validation.
 *
 * @param train The 60,000 training examples.
 * @param options How many to hold out and the seed.
 * @returns Disjoint `train` and `validation` splits covering every example once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const split = { images: new Float32Array(10 * 784), labels: new Uint8Array(10), count: 10 };
 * const { train, validation } = splitTrainValidation(split, { validationSize: 3 });
 * assert.deepEqual([train.count, validation.count], [7, 3]);
 * ```
 */
export function splitTrainValidation(
  train: Split,
  options: SplitOptions = {},
): { train: Split; validation: Split } {
  const { validationSize = 9_000 } = options;
  const order = validationOrder(train.count, options);
  return {
    train: takeExamples(train, order.subarray(validationSize)),
    validation: takeExamples(train, order.subarray(0, validationSize)),
  };
}

/** The seeded order whose first `validationSize` examples are held out for validation. */
function validationOrder(count: number, options: SplitOptions): Int32Array {
  const { validationSize = 9_000, seed = 0 } = options;
  integer({ action: "split the training set" }, "option validationSize", validationSize, {
    min: 0,
    max: count,
  });
  return permutation(count, createRng(seed));
}

/**
 * Counts the examples of each class.
 *
 * @param labels Class indices.
 * @param numClasses Number of classes.
 * @returns `counts[c]` is the number of labels equal to `c`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(classCounts(new Uint8Array([0, 2, 2]), 3), [1, 0, 2]);
 * ```
 */
export function classCounts(labels: ArrayLike<number>, numClasses = NUM_CLASSES): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  return counts;
}

/** Options of {@linkcode loadSplits}. */
export interface LoadSplitsOptions extends LoadMnistOptions, SplitOptions {
  /**
   * Keep at most this many training examples, and at most a fifth as many validation and test
   * examples (a quick profile). Default: everything.
   */
  limit?: number;
}

/** The three splits the notebooks use. */
export interface Splits {
  train: Split;
  validation: Split;
  test: Split;
}

/**
 * Loads a dataset and splits it like the original: 51,000 train, 9,000 validation (seeded), and the
 * 10,000 test images kept apart.
 *
 * @param options Dataset, folder, validation size, seed, and an optional size limit.
 * @returns Train, validation and test splits.
 */
export async function loadSplits(options: LoadSplitsOptions = {}): Promise<Splits> {
  const { limit, validationSize = 9_000, seed = 0 } = options;
  if (limit !== undefined) positiveInteger({ action: "load splits" }, "option limit", limit);
  const { train: all, test } = await loadMnistBytes(options);
  const order = validationOrder(all.count, { validationSize, seed });
  // splitTrainValidation's order, then at most `limit` (and a fifth as many) of each part.
  const evaluationLimit = limit === undefined ? Infinity : Math.max(1, Math.ceil(limit / 5));
  const trainEnd = Math.min(all.count, validationSize + (limit ?? Infinity));
  return {
    train: scaleExamples(all, order.subarray(validationSize, trainEnd)),
    validation: scaleExamples(all, order.subarray(0, Math.min(validationSize, evaluationLimit))),
    test: scaleExamples(
      test,
      limit === undefined ? null : range(Math.min(test.count, evaluationLimit)),
    ),
  };
}

function range(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/**
 * The first `n` examples of a split (all of them if it has fewer).
 *
 * @param split The split.
 * @param n How many to keep.
 * @returns A new split.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const split = { images: new Float32Array(3 * 784), labels: new Uint8Array([4, 5, 6]), count: 3 };
 * assert.deepEqual([...firstExamples(split, 2).labels], [4, 5]);
 * ```
 */
export function firstExamples(split: Split, n: number): Split {
  return takeExamples(split, Array.from({ length: Math.min(n, split.count) }, (_, i) => i));
}
