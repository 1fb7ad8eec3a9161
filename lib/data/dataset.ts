/**
 * The dataset switch: `DATASET=fashion-mnist` in the environment makes every notebook (and
 * `make report`) use Fashion-MNIST instead of MNIST, with its class names. Unset means MNIST.
 *
 * @module
 */
// mnist.ts imports this module too; the cycle is safe because values are only read inside functions.
import { CLASS_NAMES, type DatasetName, DATASETS } from "./mnist.ts";
import { oneOf } from "../util/validate.ts";

/** Environment variable choosing the dataset. */
export const DATASET_ENV = "DATASET";

/** Readable names, for titles and reports. */
export const DATASET_TITLES: Record<DatasetName, string> = {
  "mnist": "MNIST",
  "fashion-mnist": "Fashion-MNIST",
};

/**
 * The dataset a value of `DATASET` selects, for environments other than this process's.
 *
 * @param value The variable's value, or `undefined` if unset.
 * @returns `"mnist"` when unset or empty, else the value.
 * @throws {RangeError} If the value names no dataset.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(datasetFromValue(undefined), "mnist");
 * assert.equal(datasetFromValue("fashion-mnist"), "fashion-mnist");
 * assert.throws(() => datasetFromValue("cifar10"), RangeError);
 * ```
 */
export function datasetFromValue(value: string | undefined): DatasetName {
  if (value === undefined || value === "") return "mnist";
  return oneOf(
    { action: "choose the dataset", subject: DATASET_ENV },
    "the value",
    value,
    Object.keys(DATASETS) as DatasetName[],
  );
}

/**
 * The dataset this process uses: `DATASET` from the environment, MNIST when unset.
 *
 * @returns `"mnist"` or `"fashion-mnist"`.
 * @throws {RangeError} If `DATASET` names no dataset.
 */
export function datasetName(): DatasetName {
  return datasetFromValue(Deno.env.get(DATASET_ENV));
}

/**
 * The class names of a dataset, e.g. for table columns and chart labels.
 *
 * @param dataset The dataset. Default: {@linkcode datasetName}.
 * @returns Ten names, by class number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(classNames("fashion-mnist")[9], "Ankle boot");
 * ```
 */
export function classNames(dataset = datasetName()): readonly string[] {
  return CLASS_NAMES[dataset];
}

/**
 * The readable name of a dataset.
 *
 * @param dataset The dataset. Default: {@linkcode datasetName}.
 * @returns `"MNIST"` or `"Fashion-MNIST"`.
 */
export function datasetTitle(dataset = datasetName()): string {
  return DATASET_TITLES[dataset];
}
