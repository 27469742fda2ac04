// Dead letters, wherever the transport keeps them: the dead-letter stream (Redis) or outbox rows
// marked dead (in-process).
import { and, desc, eq, isNotNull } from "drizzle-orm";
import { outbox } from "../db/schema";
import type { Deps } from "../dependencies";
import { RedisQueue } from "./redis-queue";

export interface DeadLetter {
  id: string;
  transport: "redis-streams" | "in-process";
  jobId: string;
  type: string;
  payload: Record<string, unknown>;
  error: string;
  at: string;
}

export async function listDeadJobs(deps: Deps, count = 100): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  if (deps.redis) {
    for (const d of await new RedisQueue(deps.redis, deps.config.redisPrefix).listDead(count)) {
      out.push({
        id: d.id,
        transport: "redis-streams",
        jobId: d.job.id,
        type: d.job.type,
        payload: d.job.payload,
        error: d.error,
        at: d.at,
      });
    }
  }
  const rows = await deps.db
    .select()
    .from(outbox)
    .where(isNotNull(outbox.deadAt))
    .orderBy(desc(outbox.deadAt))
    .limit(count);
  for (const r of rows) {
    out.push({
      id: String(r.id),
      transport: "in-process",
      jobId: String(r.id),
      type: r.type,
      payload: r.payload as Record<string, unknown>,
      error: r.lastError ?? "",
      at: r.deadAt?.toISOString() ?? "",
    });
  }
  return out;
}

/** Gives a dead job a fresh set of attempts. `id` is a dead-letter stream id or an outbox id. */
export async function retryDeadJob(deps: Deps, id: string): Promise<boolean> {
  if (id.includes("-")) return deps.redis ? new RedisQueue(deps.redis, deps.config.redisPrefix).retryDead(id) : false;
  if (!/^\d+$/.test(id)) return false;
  const revived = await deps.db
    .update(outbox)
    .set({ deadAt: null, attempts: 0, lastError: null, lockedUntil: null, runAt: deps.clock.now() })
    .where(and(eq(outbox.id, Number(id)), isNotNull(outbox.deadAt)))
    .returning({ id: outbox.id });
  return revived.length > 0;
}
