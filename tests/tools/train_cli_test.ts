import assert from "node:assert/strict";
import { join } from "node:path";
import { loadModel } from "../../lib/model/checkpoint.ts";
import { projectPath } from "../../lib/util/paths.ts";
import { parseTrainArgs } from "../../lib/tools/train_cli.ts";
import { setupBackend } from "../../lib/backend/backend.ts";

await setupBackend();

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
    ],
    [30, 0.01, 0.5, 64, 0, "mnist"],
  );
});

Deno.test("parseTrainArgs() rejects bad flags, naming them", async (t) => {
  const cases: [string[], RegExp][] = [
    [["--lr=-1"], /--lr: "-1" is not a positive number/],
    [["--momentum", "1"], /--momentum: "1" is not a number in \[0, 1\)/],
    [["--batch-size", "0"], /--batch-size: "0" is not a positive integer/],
    [
      ["--dataset", "cifar"],
      /--dataset: "cifar" is not a dataset; expected mnist or fashion-mnist/,
    ],
    [["--epochs"], /epochs/],
    [["--seed="], /--seed: "" is not a non-negative integer/],
    [["--backend", "gpu"], /--backend: "gpu" is not a backend; expected wasm-blas, wasm, cpu/],
    [["--learning-rate", "0.1"], /learning-rate/],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), () => assert.throws(() => parseTrainArgs(args), message));
  }
});

Deno.test("deno task train prints JSON results last and saves a loadable model", async () => {
  const dir = await Deno.makeTempDir();
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "--allow-ffi",
      projectPath("lib", "tools", "train_cli.ts"),
      "--epochs",
      "2",
      "--limit",
      "640",
      "--lr",
      "0.05",
      "--json",
      "--save-model",
      dir,
    ],
    env: { NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
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
  const model = await loadModel(join(dir, "model.json"));
  assert.equal(model.countParams(), 109_386);
  assert.equal(
    (model.getUserDefinedMetadata() as { test_accuracy: number }).test_accuracy,
    result.test_accuracy,
  );
  model.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("deno task train exits with status 2 and the usage on a bad flag", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      projectPath("lib", "tools", "train_cli.ts"),
      "--epochs",
      "0",
    ],
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(output.code, 2);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.match(stderr, /train: --epochs: "0" is not a positive integer/);
  assert.match(stderr, /Usage: deno task train/);
});
