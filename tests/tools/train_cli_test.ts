import assert from "node:assert/strict";
import { join } from "node:path";
import { loadModel, saveModel } from "../../lib/model/checkpoint.ts";
import { createModel } from "../../lib/model/network.ts";
import { projectPath } from "../../lib/util/paths.ts";
import { checkSaveTarget, parseTrainArgs } from "../../lib/tools/train_cli.ts";
import { setupBackend } from "../../lib/backend/backend.ts";

await setupBackend({ log: false });

const PREFIX = 'Cannot run "deno task train": ';

/**
 * Runs `deno task train` from `cwd` (a folder outside the project), as a user would from a shell:
 * without the INIT_CWD that `deno task test` set for this process, which deno task would keep.
 */
async function deno_task_train(cwd: string, args: string[], extraEnv: Record<string, string> = {}) {
  const env: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1", ...extraEnv };
  delete env.INIT_CWD;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "--config", projectPath("deno.json"), "train", ...args],
    cwd,
    env,
    clearEnv: true,
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** Whether this test runs with --allow-all, without which Deno refuses /sys and /proc itself. */
async function hasAllAccess(): Promise<boolean> {
  return await Deno.stat("/proc/self").then(
    () => true,
    (e) => !(e instanceof Deno.errors.NotCapable),
  );
}

async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "train_cli_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("parseTrainArgs() fills the original recipe's defaults", () => {
  const options = parseTrainArgs([]);
  assert.deepEqual(
    [
      options.epochs,
      options.lr,
      options.momentum,
      options.batchSize,
      options.seed,
      options.dataset,
      options.saveModel,
      options.saveDiverged,
    ],
    [30, 0.01, 0.5, 64, 0, "mnist", null, false],
  );
});

Deno.test("parseTrainArgs() rejects bad flags, naming the flag, what it is and what was expected", async (t) => {
  const cases: [string[], string][] = [
    [["--lr=-1"], '--lr is "-1", expected a positive number'],
    [["--lr", "1e400"], '--lr is "1e400", expected a positive number'],
    [["--momentum", "1"], '--momentum is "1", expected a number in [0, 1)'],
    [["--batch-size", "0"], '--batch-size is "0", expected an integer from 1 to 60000'],
    [
      ["--batch-size", "100000000"],
      '--batch-size is "100000000", expected an integer from 1 to 60000',
    ],
    [
      ["--test-batch-size", "2.5"],
      '--test-batch-size is "2.5", expected an integer from 1 to 60000',
    ],
    [["--seed", "4294967296"], '--seed is "4294967296", expected an integer from 0 to 4294967295'],
    [["--seed=-1"], '--seed is "-1", expected an integer from 0 to 4294967295'],
    [["--seed="], '--seed is "", expected an integer from 0 to 4294967295'],
    [["--limit", "0"], '--limit is "0", expected a positive integer'],
    [["--dataset", "cifar"], '--dataset is "cifar", expected "mnist" or "fashion-mnist"'],
    [["--backend", "gpu"], '--backend is "gpu", expected "wasm-blas", "wasm" or "cpu"'],
    [["--save-model", ""], '--save-model is "", expected a folder path'],
    [["--save-model", "  "], '--save-model is "  ", expected a folder path'],
    [["--epochs"], "--epochs is missing its value, expected --epochs VALUE"],
    [["--json=yes"], "--json is given a value, expected --json alone (it takes no value)"],
    [["model"], 'an argument is "model", expected options only (--name value). See --help'],
    [
      ["--learning-rate", "0.1"],
      'an option is "--learning-rate", expected one of --epochs, --lr, --momentum, --batch-size, ' +
      "--test-batch-size, --seed, --limit, --dataset, --backend, --save-model, --save-diverged, " +
      "--json, --help. See --help",
    ],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), () => {
      assert.throws(() => parseTrainArgs(args), { name: "RangeError", message: PREFIX + message });
    });
  }
});

Deno.test("parseTrainArgs() resolves a relative --save-model against INIT_CWD, where deno task ran", () => {
  assert.equal(
    parseTrainArgs(["--save-model", "m"], { cwd: "/home/u/work" }).saveModel,
    "/home/u/work/m",
  );
  assert.equal(parseTrainArgs(["--save-model", "/abs/m/"], { cwd: "/x" }).saveModel, "/abs/m");
  const saved = Deno.env.get("INIT_CWD");
  try {
    Deno.env.set("INIT_CWD", "/where/the/user/was");
    assert.equal(parseTrainArgs(["--save-model", "../m"]).saveModel, "/where/the/user/m");
  } finally {
    if (saved === undefined) Deno.env.delete("INIT_CWD");
    else Deno.env.set("INIT_CWD", saved);
  }
});

Deno.test("checkSaveTarget() accepts a folder to create and refuses files and unwritable folders", async () => {
  await inTempDir(async (dir) => {
    await checkSaveTarget(join(dir, "a", "b"));
    assert.deepEqual([...Deno.readDirSync(dir)], [], "the check must not create anything");
    await Deno.writeTextFile(join(dir, "file"), "x");
    await assert.rejects(checkSaveTarget(join(dir, "file", "x")), {
      name: "NotADirectory",
      message: `Cannot save the model into "${join(dir, "file", "x")}": "${join(dir, "file")}" ` +
        "is a file, expected a folder, or a path to create one at",
    });
    await assert.rejects(checkSaveTarget(join(dir, "file")), { name: "NotADirectory" });
  });
  // Even root cannot create files in /sys/kernel.
  await assert.rejects(checkSaveTarget("/sys/kernel/model"), {
    // The OS refuses (PermissionDenied), or Deno itself without --allow-all (NotCapable).
    name: (await hasAllAccess()) ? "PermissionDenied" : "NotCapable",
    message:
      /^Cannot save the model into "\/sys\/kernel\/model": (folder )?"\/sys\/kernel(\/model)?" is not (writable|accessible) \(.*\), expected a folder this process can create files in$/,
  });
});

Deno.test("deno task train, run from another folder, prints JSON last and saves where the user is", async () => {
  await inTempDir(async (cwd) => {
    const { code, stdout, stderr } = await deno_task_train(cwd, [
      "--epochs",
      "2",
      "--limit",
      "640",
      "--lr",
      "0.05",
      "--json",
      "--save-model",
      "models/run1",
    ]);
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split("\n");
    assert.match(lines.find((l) => l.startsWith("epoch 2/2"))!, /train loss \d\.\d{4}/);
    const result = JSON.parse(lines.at(-1)!);
    assert.equal(result.history.length, 2);
    assert.ok(
      result.history.every((h: Record<string, number>) => h.train_loss > 0 && h.val_loss > 0),
    );
    assert.ok(result.test_accuracy >= 0 && result.test_accuracy <= 1);
    assert.equal(typeof result.backend, "string");
    assert.ok(result.seconds > 0);
    const model = await loadModel(join(cwd, "models", "run1"));
    assert.equal(model.countParams(), 109_386);
    assert.equal(
      (model.getUserDefinedMetadata() as { test_accuracy: number }).test_accuracy,
      result.test_accuracy,
    );
    model.dispose();
  });
});

Deno.test("deno task train exits 1 on divergence, prints no accuracy and keeps the saved model", async () => {
  await inTempDir(async (cwd) => {
    const dir = join(cwd, "model");
    const good = createModel({ seed: 7 });
    await saveModel(good, dir, { metadata: { good: true } });
    const before = Object.fromEntries(
      [...Deno.readDirSync(dir)].map((e) => [e.name, Deno.readFileSync(join(dir, e.name))]),
    );
    const { code, stdout, stderr } = await deno_task_train(cwd, [
      "--limit",
      "500",
      "--epochs",
      "1",
      "--lr",
      "1e300",
      "--json",
      "--save-model",
      "model",
    ]);
    assert.equal(code, 1, stderr);
    assert.match(
      stderr,
      new RegExp(
        `^train: Cannot train "model": the loss at epoch 1, batch \\d+ is (NaN|Infinity|[0-9.e+]+), ` +
          `expected a finite loss of at most 100. The model diverged and is not usable, so no ` +
          `test accuracy is given; nothing was saved to "${dir}" \\(pass --save-diverged to save ` +
          `it anyway\\); try a smaller --lr$`,
        "m",
      ),
    );
    assert.doesNotMatch(stdout, /accuracy [0-9.]+ %\s*\(/);
    assert.doesNotMatch(stdout, /^test /m);
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!);
    assert.equal(result.test_accuracy, null);
    assert.equal(result.diverged.epoch, 1);
    const after = Object.fromEntries(
      [...Deno.readDirSync(dir)].map((e) => [e.name, Deno.readFileSync(join(dir, e.name))]),
    );
    assert.deepEqual(after, before);
    const loaded = await loadModel(dir);
    assert.deepEqual(loaded.getUserDefinedMetadata(), { good: true });
    [good, loaded].forEach((m) => m.dispose());
  });
});

Deno.test("deno task train refuses a --save-model it cannot write before training, with status 2", async () => {
  await inTempDir(async (cwd) => {
    const { code, stdout, stderr } = await deno_task_train(cwd, [
      "--limit",
      "500",
      "--epochs",
      "1",
      "--save-model",
      "/etc/passwd/x",
    ]);
    assert.equal(code, 2);
    assert.equal(stdout, "", "nothing may train or print before the check");
    assert.equal(
      stderr.trim(),
      'train: Cannot save the model into "/etc/passwd/x": "/etc/passwd" is a file, expected a ' +
        "folder, or a path to create one at",
    );
  });
});

Deno.test("deno task train exits with status 2 and the usage on a bad flag", async () => {
  const { code, stderr } = await deno_task_train(Deno.cwd(), ["--epochs", "0"]);
  assert.equal(code, 2);
  assert.match(
    stderr,
    /^train: Cannot run "deno task train": --epochs is "0", expected a positive integer$/m,
  );
  assert.match(stderr, /Usage: deno task train/);
});

Deno.test("deno task train names MNIST_DIR when it points at a file, and exits 1", async () => {
  await inTempDir(async (cwd) => {
    const file = join(cwd, "mnist.tar");
    await Deno.writeTextFile(file, "x");
    const { code, stdout, stderr } = await deno_task_train(cwd, ["--epochs", "1"], {
      MNIST_DIR: file,
    });
    assert.equal(code, 1);
    assert.doesNotMatch(stdout, /^epoch/m);
    assert.equal(
      stderr.trim().split("\n").at(-1),
      `train: Cannot load dataset "mnist": folder "${file}" (from MNIST_DIR) is a file, expected a ` +
        "folder holding the four IDX files. Run `deno task setup` to fetch the datasets, or point " +
        "MNIST_DIR at a folder holding the four standard files",
    );
  });
});
