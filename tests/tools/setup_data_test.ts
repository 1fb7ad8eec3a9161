import assert from "node:assert/strict";
import { join } from "node:path";
import { copyIfChanged } from "../../lib/tools/setup_data.ts";

Deno.test("copyIfChanged() copies a missing or different file and skips an identical one", async () => {
  const dir = await Deno.makeTempDir();
  const source = join(dir, "source"), target = join(dir, "target");
  await Deno.writeFile(source, new Uint8Array([1, 2, 3]));
  assert.equal(await copyIfChanged(source, target), true);
  assert.deepEqual(await Deno.readFile(target), new Uint8Array([1, 2, 3]));
  assert.equal(await copyIfChanged(source, target), false);
  await Deno.writeFile(source, new Uint8Array([1, 2, 3, 4]));
  assert.equal(await copyIfChanged(source, target), true);
  assert.deepEqual(await Deno.readFile(target), new Uint8Array([1, 2, 3, 4]));
  // Same size, different bytes: copied too.
  await Deno.writeFile(source, new Uint8Array([4, 3, 2, 1]));
  assert.equal(await copyIfChanged(source, target), true);
  assert.deepEqual(await Deno.readFile(target), new Uint8Array([4, 3, 2, 1]));
  // No temporary files are left behind.
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["source", "target"]);
  await Deno.remove(dir, { recursive: true });
});
