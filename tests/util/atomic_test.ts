import assert from "node:assert/strict";
import { join } from "node:path";
import { copyAtomically, writeAtomically } from "../../lib/util/atomic.ts";
import { projectPath } from "../../lib/util/paths.ts";

/**
 * Runs `writeAtomically` or `copyAtomically` in a child Deno under strace and returns the file
 * system calls that make a write durable, each with the path its descriptor refers to (`-y`).
 */
async function tracedSyscalls(kind: "write" | "copy", dir: string): Promise<string[]> {
  const script = join(dir, "writer.ts");
  const atomic = projectPath("lib", "util", "atomic.ts");
  await Deno.writeTextFile(
    script,
    `import { copyAtomically, writeAtomically } from ${JSON.stringify(atomic)};
     const [kind, target] = Deno.args;
     if (kind === "write") await writeAtomically(target, "hello");
     else { await Deno.writeTextFile(target + ".src", "hello"); await copyAtomically(target + ".src", target); }`,
  );
  const trace = join(dir, "trace.txt");
  const out = join(dir, "out");
  await Deno.mkdir(out);
  const result = await new Deno.Command("strace", {
    args: [
      "-f",
      "-qq",
      "-y",
      "-e",
      "trace=fsync,fdatasync,rename,renameat,renameat2",
      "-o",
      trace,
      Deno.execPath(),
      "run",
      "-A",
      script,
      kind,
      join(out, "a.txt"),
    ],
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
  return (await Deno.readTextFile(trace)).split("\n").filter((line) => line.includes(out));
}

Deno.test("writeAtomically() and copyAtomically() sync the file before the rename and the folder after", async (t) => {
  for (const kind of ["write", "copy"] as const) {
    await t.step(kind, async () => {
      const dir = await Deno.makeTempDir();
      try {
        const calls = await tracedSyscalls(kind, dir);
        const out = join(dir, "out");
        const syncTemp = calls.findIndex((l) => /fsync\(\d+<[^>]*a\.txt\.\d+\.\w+\.tmp>\)/.test(l));
        const rename = calls.findIndex((l) => /rename.*\.tmp", ".*a\.txt"\)/.test(l));
        const syncDir = calls.findIndex((l) => l.includes(`fsync(`) && l.includes(`<${out}>)`));
        assert.ok(syncTemp >= 0, `no fsync of the temporary file in:\n${calls.join("\n")}`);
        assert.ok(rename > syncTemp, `the rename does not follow the fsync:\n${calls.join("\n")}`);
        assert.ok(
          syncDir > rename,
          `no fsync of the folder after the rename:\n${calls.join("\n")}`,
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
});

Deno.test("writeAtomically() leaves only the target, and nothing when the folder is missing", async () => {
  const dir = await Deno.makeTempDir();
  await writeAtomically(join(dir, "a.bin"), new Uint8Array([1, 2, 3]));
  await writeAtomically(join(dir, "a.bin"), new Uint8Array([4]));
  assert.deepEqual([...await Deno.readFile(join(dir, "a.bin"))], [4]);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["a.bin"]);
  await assert.rejects(writeAtomically(join(dir, "missing", "a.bin"), "x"), Deno.errors.NotFound);
  await copyAtomically(join(dir, "a.bin"), join(dir, "b.bin"));
  assert.deepEqual([...await Deno.readFile(join(dir, "b.bin"))], [4]);
  await Deno.remove(dir, { recursive: true });
});
