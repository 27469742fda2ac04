// The outbox relay: moves committed, due outbox rows into the Redis stream and marks them sent, in
// one database transaction — if Redis is down the rows simply wait. Instances cooperate through
// FOR UPDATE SKIP LOCKED. Woken after commit (this process's by a BroadcastChannel, others' by a
// NOTIFY; see outbox-loop.ts), with a poll as the safety net.
import { sql } from "drizzle-orm";
import { rowsOf } from "../db/rows";
import type { Deps } from "../dependencies";
import { jobOf, type OutboxRow } from "./outbox";
import { type OutboxLoop, startOutboxLoop } from "./outbox-loop";
import type { RedisQueue } from "./redis-queue";

const BATCH = 500;

/** One pass; returns how many jobs were handed to Redis. */
export async function relayOnce(deps: Deps, queue: RedisQueue): Promise<number> {
  const now = deps.clock.now().toISOString();
  return deps.db.transaction(async (tx) => {
    // Taken and marked sent in one statement; the mark commits only once Redis has the jobs.
    const due = rowsOf<OutboxRow & { run_at: string | Date }>(
      await tx.execute(sql`
      with due as materialized (
        select id from outbox
        where sent_at is null and dead_at is null and run_at <= ${now}::timestamptz
        order by run_at, id
        limit ${BATCH}
        for update skip locked)
      update outbox set sent_at = now() from due where outbox.id = due.id
      returning outbox.id, outbox.type, outbox.payload, outbox.created_at, outbox.run_at`),
    );
    if (due.length === 0) return 0;
    // RETURNING keeps no order: the stream gets them due-first, then in the order they were made.
    const at = (r: { run_at: string | Date }) => new Date(r.run_at).getTime();
    due.sort((a, b) => at(a) - at(b) || Number(a.id) - Number(b.id));
    const jobs = due.map((r) => jobOf(r, 1));
    await queue.add(jobs); // throws when Redis is down: the transaction rolls back, rows stay unsent
    return jobs.length;
  });
}

export function startRelay(deps: Deps, queue: RedisQueue, pollMs = 250): Promise<OutboxLoop> {
  return startOutboxLoop({
    deps,
    pollMs,
    what: "outbox relay (jobs wait in the outbox)",
    async pass() {
      const moved = await relayOnce(deps, queue);
      await queue.promoteDue();
      return moved === BATCH;
    },
  });
}
