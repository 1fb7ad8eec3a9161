import assert from "node:assert/strict";
import { TASK_PERMISSIONS } from "../deno_process.ts";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { loadModel, saveModel } from "../../lib/model/checkpoint.ts";
import { createModel } from "../../lib/model/network.ts";
import { createRng, uniform } from "../../lib/util/random.ts";
import { setupBackend } from "../../lib/backend/backend.ts";

await setupBackend();

const inputs = uniform(20 * 784, 0, 1, createRng(1));
const WORKER = new URL("./_checkpoint_worker.ts", import.meta.url).pathname;

function predictions(model: tf.LayersModel): Float32Array {
  return tf.tidy(() => model.predict(tf.tensor2d(inputs, [20, 784])) as tf.Tensor)
    .dataSync() as Float32Array;
}

async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "checkpoint_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

interface ModelJson {
  weightsManifest: {
    paths: string[];
    weights: { name: string; shape: number[]; dtype: string }[];
  }[];
}

/** Rewrites model.json in place. */
async function editManifest(dir: string, edit: (json: ModelJson) => void) {
  const path = join(dir, "model.json");
  const json = JSON.parse(await Deno.readTextFile(path));
  edit(json);
  await Deno.writeTextFile(path, JSON.stringify(json));
}

/** Runs the worker script as its own Deno process and returns its JSON line. */
function worker(...args: string[]): Promise<Record<string, unknown>> {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...TASK_PERMISSIONS,
      WORKER,
      ...args,
    ],
    env: { NO_COLOR: "1" },
  }).output().then((out) => {
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `worker ${args.join(" ")} failed: ${stderr}`);
    return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  });
}

Deno.test("saveModel() and loadModel() round-trip to identical predictions and metadata", async () => {
  await inTempDir(async (dir) => {
    const model = createModel({ seed: 4 });
    const saved = await saveModel(model, dir, { metadata: { testAccuracy: 0.9736 } });
    const loaded = await loadModel(dir);
    assert.deepEqual(predictions(loaded), predictions(model));
    assert.deepEqual(loaded.getUserDefinedMetadata(), { testAccuracy: 0.9736 });
    assert.deepEqual(loaded.layers.map((l) => l.name), model.layers.map((l) => l.name));
    assert.equal(saved.weightBytes, 109_386 * 4);
    const json = JSON.parse(await Deno.readTextFile(join(dir, "model.json")));
    assert.equal(json.format, "layers-model");
    // The weights file is named by the SHA-256 of its bytes, computed here independently.
    assert.deepEqual(json.weightsManifest[0].paths, [
      `weights-${await sha256(saved.weightsPath)}.bin`,
    ]);
    model.dispose();
    loaded.dispose();
  });
});

Deno.test("saveModel() stores metadata as JSON, dropping undefined values", async () => {
  await inTempDir(async (dir) => {
    const model = createModel();
    await saveModel(model, dir, { metadata: { limit: undefined, loss: NaN, epochs: 30 } });
    const loaded = await loadModel(dir);
    assert.deepEqual(loaded.getUserDefinedMetadata(), { loss: null, epochs: 30 });
    [model, loaded].forEach((m) => m.dispose());
  });
});

Deno.test("saveModel() keeps the current and the previous weights only, and no temporary files", async () => {
  await inTempDir(async (dir) => {
    const models = [1, 2, 3].map((seed) => createModel({ seed }));
    const paths: string[] = [];
    for (const model of models) paths.push((await saveModel(model, dir)).weightsPath);
    const base = (p: string) => p.split("/").at(-1)!;
    assert.deepEqual(names(dir), ["model.json", base(paths[1]), base(paths[2])].sort());
    const loaded = await loadModel(join(dir, "model.json"));
    assert.deepEqual(predictions(loaded), predictions(models[2]));
    // Saving the same model again rewrites nothing new: still one weights file per distinct model.
    // A crashed saver's old temporary file goes too; a fresh one might be another's and stays.
    const crashed = join(dir, `${base(paths[2])}.12345.0badc0de.tmp`);
    const fresh = join(dir, "model.json.12346.0badc0df.tmp");
    await Deno.writeTextFile(crashed, "partial");
    await Deno.writeTextFile(fresh, "partial");
    const hourAgo = new Date(Date.now() - 3_600_000);
    await Deno.utime(crashed, hourAgo, hourAgo);
    await saveModel(models[2], dir);
    assert.deepEqual(names(dir), ["model.json", base(paths[2]), base(fresh)].sort());
    [...models, loaded].forEach((m) => m.dispose());
  });
});

Deno.test("a saved checkpoint loads with tf.loadLayersModel over HTTP, as in a browser", async () => {
  await inTempDir(async (dir) => {
    const model = createModel({ seed: 5 });
    await saveModel(model, dir);
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (request) => {
        const name = new URL(request.url).pathname.slice(1);
        try {
          return new Response(await Deno.readFile(join(dir, name)));
        } catch {
          return new Response("not found", { status: 404 });
        }
      },
    );
    const loaded = await tf.loadLayersModel(`http://127.0.0.1:${server.addr.port}/model.json`);
    assert.deepEqual(predictions(loaded), predictions(model));
    await server.shutdown();
    model.dispose();
    loaded.dispose();
  });
});

Deno.test("loadModel() explains a missing or corrupt checkpoint", async (t) => {
  await inTempDir(async (dir) => {
    const model = createModel();
    const { weightsPath } = await saveModel(model, dir);
    const modelPath = join(dir, "model.json");
    const good = await Deno.readTextFile(modelPath);
    const restore = () => Deno.writeTextFile(modelPath, good);

    await t.step("missing folder", async () => {
      const nowhere = join(dir, "nowhere");
      await assert.rejects(loadModel(nowhere), {
        name: "NotFound",
        message: `Cannot load a checkpoint from "${nowhere}": file "${nowhere}/model.json" is ` +
          "missing, expected a checkpoint's model.json. Save one with saveModel() or " +
          "`deno task train --save-model DIR`",
      });
    });
    await t.step("truncated weights", async () => {
      const bytes = await Deno.readFile(weightsPath);
      await Deno.writeFile(weightsPath, bytes.subarray(0, 1000));
      await assert.rejects(loadModel(dir), {
        name: "RangeError",
        message:
          `Cannot load checkpoint "${modelPath}": the size of weights file "${weightsPath}" ` +
          "is 1000 bytes, expected 437544 bytes, what the manifest's weights need",
      });
      await Deno.writeFile(weightsPath, bytes);
    });
    await t.step("missing weights file", async () => {
      await Deno.rename(weightsPath, `${weightsPath}.away`);
      await assert.rejects(loadModel(dir), {
        name: "NotFound",
        message:
          `Cannot load checkpoint "${modelPath}": weights file "${weightsPath}" is missing, ` +
          "expected the file model.json names",
      });
      await Deno.rename(`${weightsPath}.away`, weightsPath);
    });
    await t.step("invalid JSON", async () => {
      await Deno.writeTextFile(modelPath, good.slice(0, 50));
      await assert.rejects(loadModel(dir), {
        name: "TypeError",
        message: new RegExp(
          `^Cannot load checkpoint "${modelPath}": its text is not JSON \\(.*\\), expected JSON$`,
        ),
      });
    });
    await t.step("JSON that is not a model", async () => {
      await Deno.writeTextFile(modelPath, JSON.stringify({ hello: 1 }));
      await assert.rejects(loadModel(dir), {
        name: "TypeError",
        message: `Cannot load checkpoint "${modelPath}": its keys is ["hello"], expected a tfjs ` +
          'layers model with "modelTopology" and "weightsManifest"',
      });
    });
    await restore();
    model.dispose();
  });
});

Deno.test("loadModel() treats the folder as untrusted input", async (t) => {
  await inTempDir(async (dir) => {
    const model = createModel({ seed: 3 });
    const { weightsPath } = await saveModel(model, dir);
    const modelPath = join(dir, "model.json");
    const good = await Deno.readTextFile(modelPath);
    const goodBytes = await Deno.readFile(weightsPath);
    const weightsName = weightsPath.split("/").at(-1)!;
    const setPath = (path: string) =>
      editManifest(dir, (json) => (json.weightsManifest[0].paths = [path]));
    const prefix = `Cannot load checkpoint "${modelPath}": `;

    await t.step("a path out of the folder is refused before anything is read", async () => {
      for (const path of ["../../../../etc/passwd", "/etc/passwd", "sub/../../x.bin"]) {
        await setPath(path);
        await assert.rejects(loadModel(dir), {
          name: "RangeError",
          message: `${prefix}a weights path is "${path}", expected a file name inside the ` +
            "checkpoint folder",
        });
      }
    });
    await t.step("a link leading out of the folder is refused", async () => {
      await Deno.symlink("/etc/passwd", join(dir, "link.bin"));
      await setPath("link.bin");
      await assert.rejects(loadModel(dir), {
        name: "RangeError",
        message: `${prefix}weights path "link.bin" is a link to "/etc/passwd", expected a file ` +
          "name inside the checkpoint folder",
      });
      await Deno.remove(join(dir, "link.bin"));
    });
    await t.step("a FIFO is refused instead of hanging", async () => {
      const fifo = join(dir, "fifo.bin");
      const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
      assert.equal(made.code, 0);
      await setPath("fifo.bin");
      await assert.rejects(loadModel(dir), {
        name: "TypeError",
        message: `${prefix}weights file "${fifo}" is a FIFO (named pipe), expected a regular file`,
      });
      await Deno.writeTextFile(modelPath, good);
      await Deno.rename(modelPath, `${modelPath}.real`);
      await new Deno.Command("mkfifo", { args: [modelPath] }).output();
      await assert.rejects(loadModel(dir), {
        name: "TypeError",
        message:
          `${prefix}model.json "${modelPath}" is a FIFO (named pipe), expected a regular file`,
      });
      await Deno.remove(modelPath);
      await Deno.rename(`${modelPath}.real`, modelPath);
      await Deno.remove(fifo);
    });
    await t.step("bytes that do not match the SHA-256 in the file name", async () => {
      await Deno.writeTextFile(modelPath, good);
      const random = new Uint8Array(goodBytes.length);
      for (let i = 0; i < random.length; i += 65536) {
        crypto.getRandomValues(random.subarray(i, i + 65536));
      }
      await Deno.writeFile(weightsPath, random);
      const digest = await crypto.subtle.digest("SHA-256", random);
      const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
      await assert.rejects(loadModel(dir), {
        name: "RangeError",
        message: `${prefix}the SHA-256 of weights file "${weightsPath}" is "${hex}", expected ` +
          `"${weightsName.slice(8, -4)}" as its name says. The file is corrupt or was replaced; ` +
          "save the model again",
      });
      await Deno.writeFile(weightsPath, goodBytes);
    });
    await t.step("NaN weights in a file whose name carries no digest", async () => {
      await Deno.writeFile(
        join(dir, "group1-shard1of1.bin"),
        new Uint8Array(goodBytes.length).fill(255),
      );
      await setPath("group1-shard1of1.bin");
      await assert.rejects(loadModel(dir), {
        name: "RangeError",
        message: `${prefix}the number of NaN or infinite values of weight "linear1/kernel" in ` +
          `"group1-shard1of1.bin" is 100352, expected 0. The model diverged or the file is ` +
          "corrupt; pass allowNonFinite: true to load it anyway",
      });
      const loaded = await loadModel(dir, { allowNonFinite: true });
      assert.ok(Number.isNaN(predictions(loaded)[0]));
      loaded.dispose();
      await Deno.remove(join(dir, "group1-shard1of1.bin"));
    });
    await t.step(
      "a shape or a dtype that is not the model's names the file and the weight",
      async () => {
        await Deno.writeTextFile(modelPath, good);
        await editManifest(dir, (json) => (json.weightsManifest[0].weights[0].shape = [128, 784]));
        await assert.rejects(loadModel(dir), {
          name: "RangeError",
          message:
            `${prefix}the shape of weight "linear1/kernel" in "${weightsName}" is [128, 784], ` +
            "expected [784, 128] (the model's)",
        });
        await Deno.writeTextFile(modelPath, good);
        await editManifest(dir, (json) => (json.weightsManifest[0].weights[1].dtype = "int32"));
        await assert.rejects(loadModel(dir), {
          name: "RangeError",
          message: `${prefix}the dtype of weight "linear1/bias" in "${weightsName}" is "int32", ` +
            `expected "float32" (the model's)`,
        });
        await Deno.writeTextFile(modelPath, good);
        await editManifest(dir, (json) => (json.weightsManifest[0].weights[1].dtype = "float64"));
        await assert.rejects(loadModel(dir), {
          name: "RangeError",
          message:
            `${prefix}weight "linear1/bias"'s dtype is "float64", expected one of "float32", ` +
            `"int32" or "bool"`,
        });
        await Deno.writeTextFile(modelPath, good);
        await editManifest(
          dir,
          (json) => (json.weightsManifest[0].weights[0].name = "other/kernel"),
        );
        await assert.rejects(loadModel(dir), {
          name: "RangeError",
          message:
            `${prefix}weight "linear1/kernel" in "${weightsName}" is missing, expected one ` +
            "per model weight",
        });
      },
    );
    await Deno.writeTextFile(modelPath, good);
    const loaded = await loadModel(dir);
    assert.deepEqual(predictions(loaded), predictions(model));
    [model, loaded].forEach((m) => m.dispose());
  });
});

Deno.test("saveModel() refuses a diverged model unless asked, leaving the checkpoint as it was", async () => {
  await inTempDir(async (dir) => {
    const good = createModel({ seed: 1 });
    await saveModel(good, dir);
    const before = names(dir);
    const bad = createModel({ seed: 2 });
    const kernel = bad.getLayer("linear2").getWeights()[0];
    const nan = tf.fill(kernel.shape, NaN);
    bad.getLayer("linear2").setWeights([nan, bad.getLayer("linear2").getWeights()[1]]);
    nan.dispose();
    await assert.rejects(saveModel(bad, dir), {
      name: "RangeError",
      message: `Cannot save checkpoint "${dir}": the number of NaN or infinite values of weight ` +
        `"linear2/kernel" is 8192, expected 0. The model diverged; pass allowNonFinite: true to ` +
        "save it anyway",
    });
    assert.deepEqual(names(dir), before);
    const loaded = await loadModel(dir);
    assert.deepEqual(predictions(loaded), predictions(good));
    await saveModel(bad, dir, { allowNonFinite: true });
    await assert.rejects(loadModel(dir), /weight "linear2\/kernel" in .* is 8192, expected 0/);
    [good, bad, loaded].forEach((m) => m.dispose());
  });
});

Deno.test("two saveModel() calls at once into one folder always leave a loadable checkpoint", async () => {
  await inTempDir(async (dir) => {
    const a = createModel({ seed: 1 }), b = createModel({ seed: 2 });
    for (let trial = 0; trial < 20; trial++) {
      await Promise.all([saveModel(a, dir), saveModel(b, dir)]);
      const loaded = await loadModel(dir);
      const p = predictions(loaded);
      assert.ok(
        [a, b].some((m) => predictions(m).every((v, i) => v === p[i])),
        `trial ${trial}: the loaded model is neither a nor b`,
      );
      loaded.dispose();
    }
    [a, b].forEach((m) => m.dispose());
  });
});

Deno.test("separate processes: two savers and a reader of one folder never fail or mix", async () => {
  await inTempDir(async (parent) => {
    const dir = join(parent, "model");
    await Deno.mkdir(dir);
    await worker("save", dir, "2", "warm");
    const [reader, first, second] = await Promise.all([
      worker("load", dir, join(parent, "b.done")),
      worker("save", dir, "150", "a"),
      worker("save", dir, "150", "b"),
    ]);
    assert.deepEqual([first.errors, second.errors], [0, 0]);
    assert.equal(reader.failures, 0, `reader failures: ${JSON.stringify(reader.messages)}`);
    assert.equal(reader.mismatches, 0, "a model.json was read with another save's weights");
    assert.ok((reader.loads as number) > 10, `only ${reader.loads} loads overlapped the saves`);
    // Whatever order the savers finished in, what is left is one of theirs and loads.
    const loaded = await loadModel(dir);
    assert.match((loaded.getUserDefinedMetadata() as { tag: string }).tag, /^[ab]$/);
    loaded.dispose();
    assert.ok(!names(dir).includes(".model.lock"), `lock left behind: ${names(dir)}`);
  });
});

Deno.test("a saver killed while holding the folder's lock does not block the next save", async () => {
  await inTempDir(async (dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...TASK_PERMISSIONS,
        WORKER,
        "hold",
        dir,
      ],
      stdout: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.match((await reader.read()).value ?? "", /holding/);
    const holder = JSON.parse(await Deno.readTextFile(join(dir, ".model.lock")));
    assert.equal(holder.pid, child.pid);
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel();
    const model = createModel({ seed: 8 });
    await saveModel(model, dir); // takes the stale lock over at once (its pid is gone)
    const loaded = await loadModel(dir);
    assert.deepEqual(predictions(loaded), predictions(model));
    assert.ok(!names(dir).includes(".model.lock"));
    [model, loaded].forEach((m) => m.dispose());
  });
});
