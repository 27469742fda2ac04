// Relays are woken after the commit that enqueued jobs (not by a NOTIFY inside it): the wake-up
// comes once the jobs are visible, and never for a transaction that rolled back.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { afterCommit } from "../../src/db/after-commit";
import { enqueue } from "../../src/jobs/outbox";
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
    expect(await t.deps.database.raw.query("select tgname from pg_trigger where tgrelid = 'outbox'::regclass and not tgisinternal")).toEqual([]);
  } finally {
    await unlisten();
  }
});
