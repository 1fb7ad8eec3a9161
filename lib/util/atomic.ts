/**
 * Writing files so that a reader (or a crash) never sees half of one: write beside the target
 * under a temporary name, sync it to disk, rename it over the target (atomic within a file
 * system), then sync the folder so the rename itself survives a power loss. Without the first
 * sync a crash soon after the rename can leave an empty file under the target's name (the rename
 * reached the disk, the data did not); without the second the old file can come back.
 *
 * @module
 */
import { dirname } from "node:path";

/**
 * Writes bytes or text to `path` atomically and durably.
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
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const temporary = temporaryPathFor(path);
  try {
    const file = await Deno.open(temporary, { write: true, createNew: true });
    try {
      await writeAll(file, bytes);
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
  await syncFolder(dirname(path));
}

/**
 * Copies `source` to `target` atomically and durably.
 *
 * @param source The file to copy.
 * @param target Where the copy goes.
 */
export async function copyAtomically(source: string, target: string): Promise<void> {
  const temporary = temporaryPathFor(target);
  try {
    await Deno.copyFile(source, temporary);
    const file = await Deno.open(temporary, { read: true, write: true });
    try {
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temporary, target);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
  await syncFolder(dirname(target));
}

/**
 * Writes every byte: `write` may write fewer than asked (a signal, a full pipe).
 *
 * @param file An open file.
 * @param bytes What to write.
 */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
}

/**
 * Syncs a folder's entries (a rename, a new file) to disk. Some file systems cannot open or
 * sync a folder; there the rename is as durable as the system makes it, so that is not an error.
 *
 * @param dir The folder.
 */
export async function syncFolder(dir: string): Promise<void> {
  let folder: Deno.FsFile;
  try {
    folder = await Deno.open(dir, { read: true });
  } catch {
    return;
  }
  try {
    await folder.sync();
  } catch {
    // EINVAL on file systems without directory fsync: nothing more can be done.
  } finally {
    folder.close();
  }
}

/**
 * A name beside `path` that no other writer (process or concurrent call) uses.
 *
 * @param path The target.
 * @returns `<path>.<pid>.<random>.tmp`.
 */
export function temporaryPathFor(path: string): string {
  return `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
}
