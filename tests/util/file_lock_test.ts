import assert from "node:assert/strict";
import { hostname } from "node:os";
import { join } from "node:path";
import { processAlive, withFileLock } from "../../lib/util/file_lock.ts";

const where = { action: "test the lock", subject: "x" };

/** The pid of a process that has exited, so no process has it (until the kernel reuses it). */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "file_lock_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function holder(pid: number, host = hostname()) {
  return JSON.stringify({
    pid,
    hostname: host,
    since: "2026-01-01T00:00:00.000Z",
    purpose: "save checkpoint",
    token: "t",
  });
}

Deno.test("withFileLock() names its holder in the lock file and removes it afterwards", async () => {
  await inTempDir(async (dir) => {
    const lock = join(dir, ".lock");
    const seen = await withFileLock(lock, () => Deno.readTextFile(lock), { where });
    const content = JSON.parse(seen);
    assert.equal(content.pid, Deno.pid);
    assert.equal(content.hostname, hostname());
    assert.equal(content.purpose, "test the lock");
    await assert.rejects(Deno.stat(lock), Deno.errors.NotFound);
  });
});

Deno.test("withFileLock() keeps a long-held lock fresh, so waiters do not take it over", async () => {
  await inTempDir(async (dir) => {
    const lock = join(dir, ".lock");
    const options = { where, staleMs: 200, timeoutMs: 5000 };
    const order: string[] = [];
    const slow = withFileLock(lock, async () => {
      order.push("slow start");
      await new Promise((resolve) => setTimeout(resolve, 800)); // four times staleMs
      order.push("slow end");
    }, options);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await withFileLock(lock, () => Promise.resolve(void order.push("waiter")), options);
    await slow;
    assert.deepEqual(order, ["slow start", "slow end", "waiter"]);
  });
});

Deno.test("withFileLock() releases the lock when the function throws", async () => {
  await inTempDir(async (dir) => {
    const lock = join(dir, ".lock");
    await assert.rejects(
      withFileLock(lock, () => Promise.reject(new Error("boom")), { where }),
      /boom/,
    );
    assert.equal(await withFileLock(lock, () => Promise.resolve(7), { where }), 7);
  });
});

Deno.test("processAlive() tells a running process from one that has ended", async () => {
  assert.equal(await processAlive(Deno.pid), true);
  assert.equal(await processAlive(await deadPid()), false);
});

Deno.test("withFileLock() takes over a lock whose holder is gone", async (t) => {
  // Found at once with /proc (--allow-all) or signal 0 (--allow-run, which the tests have).
  await t.step({
    name: "a dead pid on this host, found at once",
    ignore: (await processAlive(Deno.pid)) === null,
    fn: async () => {
      await inTempDir(async (dir) => {
        const lock = join(dir, ".lock");
        await Deno.writeTextFile(lock, holder(await deadPid()));
        // Within timeoutMs, or withFileLock throws: the takeover happened.
        assert.equal(
          await withFileLock(lock, () => Promise.resolve("ran"), { where, timeoutMs: 5000 }),
          "ran",
        );
      });
    },
  });
  await t.step("a lock whose holder stopped refreshing it", async () => {
    await inTempDir(async (dir) => {
      const lock = join(dir, ".lock");
      await Deno.writeTextFile(lock, holder(await deadPid()));
      const options = { where, timeoutMs: 5000, staleMs: 400 }; // else it throws after 5 s
      assert.equal(await withFileLock(lock, () => Promise.resolve("ran"), options), "ran");
    });
  });
  await t.step("an old lock from another host, or unreadable", async () => {
    for (const text of [holder(1, "elsewhere"), "{torn"]) {
      await inTempDir(async (dir) => {
        const lock = join(dir, ".lock");
        await Deno.writeTextFile(lock, text);
        const old = new Date(Date.now() - 10 * 60_000);
        await Deno.utime(lock, old, old);
        assert.equal(
          await withFileLock(lock, () => Promise.resolve(1), { where, staleMs: 60_000 }),
          1,
        );
      });
    }
  });
});

Deno.test("withFileLock() waits for a live holder and names it when giving up", async () => {
  await inTempDir(async (dir) => {
    const lock = join(dir, ".lock");
    // A live process holding the lock: a child that sleeps.
    const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
    try {
      await Deno.writeTextFile(lock, holder(child.pid));
      await assert.rejects(withFileLock(lock, () => Promise.resolve(), { where, timeoutMs: 200 }), {
        name: "Busy",
        message: `Cannot test the lock "x": lock "${lock}" is held by pid ${child.pid} on ` +
          `${hostname()} (save checkpoint, since 2026-01-01T00:00:00.000Z), expected it to be ` +
          "released within 0.2 s. If that process is gone, delete the lock file",
      });
    } finally {
      child.kill();
      await child.status;
    }
    // Once the holder is gone, the lock is taken over (at once with /proc, else once stale).
    const options = { where, timeoutMs: 5000, staleMs: 500 };
    assert.equal(await withFileLock(lock, () => Promise.resolve(2), options), 2);
  });
});
