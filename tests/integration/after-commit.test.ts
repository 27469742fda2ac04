// Relays are woken after the commit that enqueued jobs (not by a NOTIFY inside it): the wake-up
// comes once the jobs are visible, and never for a transaction that rolled back; this process's
// relays hear it without a statement.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { afterCommit } from "../../src/db/after-commit";
import { enqueue, enqueueMany, onLocalWake, PROCESS_TAG, WAKE_CHANNEL } from "../../src/jobs/outbox";
import { startOutboxLoop } from "../../src/jobs/outbox-loop";
import { startTestApp, type TestApp } from "../support/app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
}, 60_000);
afterAll(() => t?.close());

test("after-commit callbacks run once the transaction commits, once, and never after a rollback", async () => {
  const ran: string[] = [];
  await t.deps.db.transaction(async (tx) => {
    const note = () => ran.push("committed");
    afterCommit(tx, note);
    afterCommit(tx, note);
    await Bun.sleep(20);
    expect(ran).toEqual([]);
  });
  expect(ran).toEqual(["committed"]);
  await t.deps.db
    .transaction(async (tx) => {
      afterCommit(tx, () => ran.push("rolled back"));
      throw new Error("no");
    })
    .catch(() => {});
  expect(ran).toEqual(["committed"]);
  afterCommit(t.deps.db, () => ran.push("autocommit"));
  expect(ran).toEqual(["committed", "autocommit"]);
});

test("an enqueueing commit NOTIFYs the relays' channel after it commits, not before", async () => {
  let notified = 0;
  const unlisten = await t.deps.database.listen("stayhub_outbox", () => void notified++);
  try {
    await t.deps.db.transaction(async (tx) => {
      await enqueue(tx, t.deps.clock, "jobs.noop", {});
      await Bun.sleep(150);
      expect(notified).toBe(0);
    });
    for (let i = 0; i < 100 && notified === 0; i++) await Bun.sleep(20);
    expect(notified).toBeGreaterThan(0);
    // And the enqueuing transaction itself NOTIFYs nothing (that would serialize every commit).
    expect(
      await t.deps.database.raw.query(
        "select tgname from pg_trigger where tgrelid = 'outbox'::regclass and not tgisinternal",
      ),
    ).toEqual([]);
  } finally {
    await unlisten();
  }
});

test("while this process runs a relay of its own, an enqueueing commit sends no NOTIFY; a job for later wakes no one", async () => {
  let notified = 0;
  const unlisten = await t.deps.database.listen("stayhub_outbox", () => void notified++);
  const quiet = async (what: string) => {
    await Bun.sleep(300);
    expect(`${what}: ${notified}`).toBe(`${what}: 0`);
  };
  try {
    const stopLoop = await startOutboxLoop({
      deps: t.deps,
      pollMs: 60_000,
      what: "test loop",
      pass: async () => false,
    });
    try {
      await t.deps.db.transaction((tx) => enqueue(tx, t.deps.clock, "jobs.noop", {}));
      await quiet("with a relay here");
    } finally {
      await stopLoop.stop();
    }
    const later = new Date(t.deps.clock.now().getTime() + 60_000);
    await t.deps.db.transaction((tx) =>
      enqueueMany(tx, t.deps.clock, [{ type: "jobs.noop", payload: {}, runAt: later }]),
    );
    await quiet("a job for later");
    await t.deps.db.transaction((tx) => enqueue(tx, t.deps.clock, "jobs.noop", {}));
    for (let i = 0; i < 100 && notified === 0; i++) await Bun.sleep(20);
    expect(notified).toBeGreaterThan(0);
  } finally {
    await unlisten();
  }
});

test("an enqueueing commit wakes this process's relay loops at once, without a statement: after the commit, and in other threads too", async () => {
  let woken = 0;
  const stop = onLocalWake(() => void woken++);
  // A worker thread listening as the relay's thread does; it answers each wake it hears.
  const thread = new Worker(
    URL.createObjectURL(
      new Blob(
        [
          `const c = new BroadcastChannel(${JSON.stringify(WAKE_CHANNEL)}); c.onmessage = () => postMessage("woken"); postMessage("ready");`,
        ],
        { type: "text/javascript" },
      ),
    ),
  );
  let threadWoken = 0;
  await new Promise<void>((resolve) => {
    thread.onmessage = (e) => {
      if (e.data === "ready") resolve();
      else threadWoken++;
    };
  });
  try {
    await t.deps.db.transaction(async (tx) => {
      await enqueue(tx, t.deps.clock, "jobs.noop", {});
      await Bun.sleep(50);
      expect(woken).toBe(0);
    });
    for (let i = 0; i < 300 && (woken === 0 || threadWoken === 0); i++) await Bun.sleep(10);
    expect(woken).toBeGreaterThan(0);
    expect(threadWoken).toBeGreaterThan(0);
    // The loop's own poll is set to a minute here: only the wake can have moved the job that fast.
    const relayed: string[] = [];
    const loop = await startOutboxLoop({
      deps: { ...t.deps, database: { ...t.deps.database, listen: async () => async () => {} } },
      pollMs: 60_000,
      what: "test loop",
      pass: async () => {
        relayed.push("pass");
        return false;
      },
    });
    try {
      for (let i = 0; i < 300 && relayed.length === 0; i++) await Bun.sleep(10);
      const passes = relayed.length;
      await enqueue(t.deps.db, t.deps.clock, "jobs.noop", {});
      for (let i = 0; i < 500 && relayed.length === passes; i++) await Bun.sleep(10);
      expect(relayed.length).toBeGreaterThan(passes);
    } finally {
      await loop.stop();
    }
  } finally {
    stop();
    thread.terminate();
  }
});

test("a relay lets pass its own process's NOTIFY (the channel woke it already) and wakes for another process's", async () => {
  const passes: number[] = [];
  const heard: { notify?: (payload: string) => void } = {};
  const loop = await startOutboxLoop({
    deps: {
      ...t.deps,
      database: {
        ...t.deps.database,
        listen: async (_c: string, on: (payload: string) => void) => {
          heard.notify = on;
          return async () => {};
        },
      },
    },
    pollMs: 60_000,
    what: "test loop",
    pass: async () => {
      passes.push(Date.now());
      return false;
    },
  });
  try {
    for (let i = 0; i < 300 && passes.length === 0; i++) await Bun.sleep(10);
    expect(passes.length).toBe(1);
    heard.notify?.(PROCESS_TAG);
    await Bun.sleep(100);
    expect(passes.length).toBe(1);
    heard.notify?.("another-host:123");
    for (let i = 0; i < 300 && passes.length === 1; i++) await Bun.sleep(10);
    expect(passes.length).toBe(2);
    heard.notify?.(""); // an older version's NOTIFY, without a tag
    for (let i = 0; i < 300 && passes.length === 2; i++) await Bun.sleep(10);
    expect(passes.length).toBe(3);
  } finally {
    await loop.stop();
  }
});
