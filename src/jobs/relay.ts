// The outbox relay: moves committed, due outbox rows into the Redis stream and marks them sent, in
// one database transaction — if Redis is down the rows simply wait. Instances cooperate through
// FOR UPDATE SKIP LOCKED. Woken by NOTIFY at commit, with a poll as the safety net.
import { sql } from "drizzle-orm";
import type { Deps } from "../deps";
import type { RedisQueue } from "./redis-queue";
import type { Job } from "./types";
import { type OutboxLoop, startOutboxLoop } from "./outbox-loop";

const BATCH = 500;

interface DueRow extends Record<string, unknown> {
  id: string | number;
  type: string;
  payload: Record<string, unknown>;
  created_at: string | Date;
}

/** One pass; returns how many jobs were handed to Redis. */
export async function relayOnce(deps: Deps, queue: RedisQueue): Promise<number> {
  const now = deps.clock.now().toISOString();
  return deps.db.transaction(async (tx) => {
    const rows = (await tx.execute(sql`
      select id, type, payload, created_at from outbox
      where sent_at is null and dead_at is null and run_at <= ${now}::timestamptz
      order by run_at, id
      limit ${BATCH}
      for update skip locked`)) as unknown as DueRow[] | { rows: DueRow[] };
    const due = Array.isArray(rows) ? rows : rows.rows;
    if (due.length === 0) return 0;
    const jobs: Job[] = due.map((r) => ({
      id: String(r.id),
      type: r.type,
      payload: typeof r.payload === "string" ? (JSON.parse(r.payload) as Record<string, unknown>) : r.payload,
      attempt: 1,
      enqueuedAt: new Date(r.created_at).getTime(),
    }));
    await queue.add(jobs); // throws when Redis is down: the transaction rolls back, rows stay unsent
    await tx.execute(sql`update outbox set sent_at = now() where id in ${sql.raw(`(${jobs.map((j) => Number(j.id)).join(",")})`)}`);
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
