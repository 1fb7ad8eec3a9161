/**
 * A lock file that serialises writers across processes (and across calls in one process): it is
 * created with `O_CREAT | O_EXCL`, so exactly one contender succeeds, and it names its holder (pid,
 * host, start time, purpose) so a waiter can tell whom it waits for.
 *
 * A holder refreshes the lock file's modification time while it works (every quarter of
 * `staleMs`), so a lock is stale, and taken over, when its holder is gone: it has not been
 * refreshed for `staleMs` (a crash, on any host), or, faster, its holder is on this host and no
 * process has its pid (`processAlive`: `/proc/<pid>` with `--allow-all`, signal 0 with
 * `--allow-run`). Taking over
 * is serialised by a second `O_EXCL` file and removes the lock only if it still says what was
 * judged stale, so no waiter removes another's fresh lock. A holder releases only a lock carrying its own random token.
 *
 * @module
 */
import { hostname } from "node:os";
import process from "node:process";
import { cannotMessage, type Where } from "./validate.ts";

/** Writes every byte (`write` may write fewer than asked). */
async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
}

/** What a lock file says about its holder. */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** ISO time the lock was taken. */
  since: string;
  /** What the holder is doing, e.g. `"save checkpoint"`. */
  purpose: string;
  /** Random, so a holder can recognise its own lock. */
  token: string;
}

/** Options of {@linkcode withFileLock}. */
export interface FileLockOptions {
  /** What the caller is doing, for messages and the lock's content. */
  where: Where;
  /** Give up after waiting this long for a live holder. Default 30 s. */
  timeoutMs?: number;
  /** Take over a lock not refreshed for this long, whatever its pid says. Default 10 s. */
  staleMs?: number;
}

const POLL_MS = 15;
const DEFAULT_STALE_MS = 10_000;

/**
 * Runs `fn` while holding the lock file `path`, waiting for another holder to finish.
 *
 * @param path The lock file, e.g. `<folder>/.lock`.
 * @param fn What to do under the lock.
 * @param options Purpose (for messages), how long to wait, when a lock is stale.
 * @returns What `fn` returns.
 * @throws {Deno.errors.Busy} If a live holder keeps the lock past `timeoutMs`; the message names it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const where = { action: "count", subject: dir };
 * let inside = 0, most = 0;
 * await Promise.all([1, 2, 3].map(() =>
 *   withFileLock(`${dir}/.lock`, async () => {
 *     most = Math.max(most, ++inside);
 *     await new Promise((r) => setTimeout(r, 5));
 *     inside--;
 *   }, { where })
 * ));
 * assert.equal(most, 1);
 * ```
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: FileLockOptions,
): Promise<T> {
  const token = await acquire(path, options);
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const heartbeat = setInterval(() => {
    const now = new Date();
    Deno.utime(path, now, now).catch(() => {}); // gone: released or taken over, nothing to keep
  }, staleMs / 4);
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await release(path, token);
  }
}

async function acquire(path: string, options: FileLockOptions): Promise<string> {
  const { where, timeoutMs = 30_000, staleMs = DEFAULT_STALE_MS } = options;
  const holder: LockHolder = {
    pid: Deno.pid,
    hostname: hostname(),
    since: new Date().toISOString(),
    purpose: where.action,
    token: crypto.randomUUID(),
  };
  const text = JSON.stringify(holder) + "\n";
  const start = Date.now();
  let seen: { text: string; holder: LockHolder | null } | null = null;
  while (true) {
    try {
      const file = await Deno.open(path, { write: true, createNew: true });
      try {
        await writeAll(file, new TextEncoder().encode(text));
      } finally {
        file.close();
      }
      return holder.token;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
    seen = await readLock(path);
    if (seen === null) continue; // released between our attempt and the read
    if (await isStale(path, seen.holder, staleMs) && await takeOver(path, seen.text, staleMs)) {
      continue;
    }
    if (Date.now() - start > timeoutMs) {
      throw new Deno.errors.Busy(
        cannotMessage(
          where,
          `lock "${path}"`,
          { phrase: `held by ${describeHolder(seen.holder)}` },
          `it to be released within ${+(timeoutMs / 1000).toFixed(1)} s`,
          "If that process is gone, delete the lock file",
        ),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS + Math.random() * POLL_MS));
  }
}

async function release(path: string, token: string): Promise<void> {
  const seen = await readLock(path);
  if (seen?.holder?.token === token) await Deno.remove(path).catch(() => {});
}

async function readLock(path: string): Promise<{ text: string; holder: LockHolder | null } | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  try {
    const holder = JSON.parse(text);
    return { text, holder: typeof holder?.pid === "number" ? holder : null };
  } catch {
    return { text, holder: null }; // being written, or torn by a crash: judged by its age
  }
}

async function isStale(path: string, holder: LockHolder | null, staleMs: number): Promise<boolean> {
  const info = await Deno.stat(path).catch(() => null);
  if (info === null) return false;
  const age = Date.now() - (info.mtime?.getTime() ?? Date.now());
  if (age > staleMs) return true;
  if (holder === null || holder.hostname !== hostname()) return false;
  if (holder.pid === Deno.pid) return false;
  return (await processAlive(holder.pid)) === false;
}

/**
 * Whether a process of this host is running: `/proc/<pid>` (readable when Deno runs with
 * `--allow-all`), else signal 0 (`kill(pid, 0)`, allowed by `--allow-run`), which fails with
 * `ESRCH` exactly when no such process exists. `null` when neither is allowed: then only a lock's
 * age can tell.
 *
 * @param pid The process id.
 * @returns `true` if it runs, `false` if it does not, `null` if this process may not know.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.notEqual(await processAlive(Deno.pid), false);
 * ```
 */
export async function processAlive(pid: number): Promise<boolean | null> {
  try {
    await Deno.stat(`/proc/${pid}`);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
  }
  if (Deno.permissions.querySync({ name: "run" }).state !== "granted") return null;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    return code === "ESRCH" ? false : code === "EPERM" ? true : null;
  }
}

/**
 * Removes a stale lock, one taker at a time: a second lock file, `<path>.takeover`, created with
 * `O_EXCL`, admits one waiter, which removes the lock only if it still says what was judged stale.
 * So a waiter holding an old reading can never remove the fresh lock another waiter has since
 * made (which a rename-aside-and-put-back could, when a third process slipped in between). A guard
 * left by a taker that crashed is removed once it is older than `staleMs`.
 *
 * @returns `false` when another waiter holds the guard (then wait before looking again).
 */
async function takeOver(path: string, staleText: string, staleMs: number): Promise<boolean> {
  const guard = `${path}.takeover`;
  try {
    (await Deno.open(guard, { createNew: true, write: true })).close();
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    const info = await Deno.stat(guard).catch(() => null);
    const age = info === null ? 0 : Date.now() - (info.mtime?.getTime() ?? Date.now());
    if (age > staleMs) await Deno.remove(guard).catch(() => {});
    return false; // another waiter is taking over; look again at the next poll
  }
  try {
    const current = await Deno.readTextFile(path).catch(() => null);
    if (current === staleText) await Deno.remove(path).catch(() => {});
    return true;
  } finally {
    await Deno.remove(guard).catch(() => {});
  }
}

function describeHolder(holder: LockHolder | null): string {
  if (holder === null) return "an unknown process";
  return `pid ${holder.pid} on ${holder.hostname} (${holder.purpose}, since ${holder.since})`;
}
