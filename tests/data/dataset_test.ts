import assert from "node:assert/strict";
import {
  classNames,
  DATASET_ENV,
  datasetFromValue,
  datasetName,
  datasetTitle,
} from "../../lib/data/dataset.ts";
import { loadMnist } from "../../lib/data/mnist.ts";
import { trainedModelDir } from "../../lib/model/checkpoint.ts";
import { renderIndex } from "../../lib/tools/report.ts";

/** Runs `fn` with DATASET set to `value` (or unset), restoring it afterwards. */
async function withDataset<T>(value: string | undefined, fn: () => T | Promise<T>): Promise<T> {
  const before = Deno.env.get(DATASET_ENV);
  if (value === undefined) Deno.env.delete(DATASET_ENV);
  else Deno.env.set(DATASET_ENV, value);
  try {
    return await fn();
  } finally {
    if (before === undefined) Deno.env.delete(DATASET_ENV);
    else Deno.env.set(DATASET_ENV, before);
  }
}

Deno.test("DATASET picks the dataset, its class names and its model folder; unset is MNIST", async () => {
  await withDataset(undefined, () => {
    assert.equal(datasetName(), "mnist");
    assert.equal(datasetTitle(), "MNIST");
    assert.equal(classNames()[3], "3");
    assert.match(trainedModelDir("quick"), /ann_mnist_quick$/);
  });
  await withDataset("fashion-mnist", () => {
    assert.equal(datasetName(), "fashion-mnist");
    assert.equal(datasetTitle(), "Fashion-MNIST");
    assert.equal(classNames()[0], "T-shirt/top");
    assert.match(trainedModelDir("quick"), /ann_fashion-mnist_quick$/);
  });
});

Deno.test("DATASET=fashion-mnist makes loadMnist() read Fashion-MNIST", async () => {
  const [digits, garments] = [
    await withDataset(undefined, () => loadMnist()),
    await withDataset("fashion-mnist", () => loadMnist()),
  ];
  // Same sizes, different images: the first training label of MNIST is a 5, of Fashion-MNIST a 9.
  assert.equal(garments.train.count, 60_000);
  assert.equal(digits.train.labels[0], 5);
  assert.equal(garments.train.labels[0], 9);
});

Deno.test("an unknown DATASET is refused, naming the variable and the choices", () => {
  assert.throws(() => datasetFromValue("cifar10"), {
    name: "RangeError",
    message:
      'Cannot choose the dataset "DATASET": the value is "cifar10", expected one of "mnist" or "fashion-mnist"',
  });
  assert.equal(datasetFromValue(""), "mnist");
});

Deno.test("the report index says which dataset a notebook ran on, when it is not MNIST", () => {
  const entry = {
    notebook: "03_training.ipynb",
    title: "03",
    summary: "",
    html: "03_training.html",
    status: "ok" as const,
    ranAt: "2026-01-02T03:04:05Z",
    seconds: 7,
    profile: "quick" as const,
  };
  assert.match(
    renderIndex([{ ...entry, dataset: "Fashion-MNIST" }]),
    /took 7.0 s, quick profile, Fashion-MNIST/,
  );
  assert.doesNotMatch(renderIndex([{ ...entry, dataset: "MNIST" }]), /profile, MNIST/);
});
