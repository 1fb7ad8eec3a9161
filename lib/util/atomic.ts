/**
 * Writing files so that a reader (or a crash) never sees half of one: write beside the target
 * under a temporary name, then rename over it, which is atomic within a file system.
 *
 * @module
 */

/**
 * Writes bytes or text to `path` atomically.
 *
 * @param path The file to (re)place.
 * @param data Its new content.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await writeAtomically(`${dir}/a.txt`, "hello");
 * assert.equal(await Deno.readTextFile(`${dir}/a.txt`), "hello");
 * assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["a.txt"]);
 * ```
 */
export async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const temporary = temporaryPathFor(path);
  try {
    if (typeof data === "string") await Deno.writeTextFile(temporary, data);
    else await Deno.writeFile(temporary, data);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

/**
 * Copies `source` to `target` atomically.
 *
 * @param source The file to copy.
 * @param target Where the copy goes.
 */
export async function copyAtomically(source: string, target: string): Promise<void> {
  const temporary = temporaryPathFor(target);
  try {
    await Deno.copyFile(source, temporary);
    await Deno.rename(temporary, target);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

function temporaryPathFor(path: string): string {
  return `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
}
