// The in-process transport (no REDIS_URL): the same handlers, run straight from the outbox.
// A job is leased by pushing its run_at past the visibility timeout (FOR UPDATE SKIP LOCKED, so
// instances share the work); a crash lets the lease lapse and the job runs again.
import { sql } from "drizzle-orm";
import { rowsOf } from "../db/rows";
import type { Deps } from "../dependencies";
import { execute, type JobEvent } from "./execute";
import { jobOf, type OutboxRow } from "./outbox";
import { type OutboxLoop, startOutboxLoop } from "./outbox-loop";
import type { JobDeps } from "./types";

interface LeasedRow extends OutboxRow {
  attempts: number;
}

export async function runLocalOnce(
  deps: Deps & JobDeps,
  onEvent?: (e: JobEvent) => void,
  batch = 100,
): Promise<number> {
  // Due by business time (run_at against the service clock), free by wall time (locked_until
  // against the database's clock): leases and backoff keep working when the test clock is frozen,
  // set back, or moved forward.
  const now = deps.clock.now();
  const lease = deps.config.jobVisibilityTimeoutMs;
  const leased = rowsOf<LeasedRow>(
    await deps.db.execute(sql`
      update outbox set attempts = attempts + 1, locked_until = now() + ${lease} * interval '1 millisecond'
      where id in (
        select id from outbox
        where sent_at is null and dead_at is null and run_at <= ${now.toISOString()}::timestamptz
          and (locked_until is null or locked_until < now())
        order by run_at, id limit ${batch}
        for update skip locked)
      returning id, type, payload, attempts, created_at`),
  );
  const done: number[] = [];
  for (const r of leased) {
    const job = jobOf(r, r.attempts);
    const startedAt = Date.now();
    const outcome = await execute(job, deps);
    onEvent?.({
      type: job.type,
      outcome: outcome.kind,
      seconds: outcome.ms / 1000,
      delayMs: job.attempt === 1 ? startedAt - job.enqueuedAt : undefined,
    });
    if (outcome.kind === "done") {
      done.push(Number(r.id));
    } else if (outcome.kind === "retry") {
      await deps.db.execute(
        sql`update outbox set locked_until = now() + ${outcome.delayMs} * interval '1 millisecond', last_error = ${outcome.error} where id = ${Number(r.id)}`,
      );
    } else {
      await deps.db.execute(
        sql`update outbox set dead_at = now(), last_error = ${outcome.error} where id = ${Number(r.id)}`,
      );
    }
  }
  // Successes are recorded together (one statement per batch); a crash before it re-runs them,
  // which idempotent handlers allow.
  if (done.length) {
    await deps.db.execute(
      sql`update outbox set sent_at = now(), locked_until = null, last_error = null where id in ${sql.raw(`(${done.join(",")})`)}`,
    );
  }
  return leased.length;
}

export function startLocalJobs(
  deps: Deps & JobDeps,
  onEvent?: (e: JobEvent) => void,
  pollMs = 200,
): Promise<OutboxLoop> {
  return startOutboxLoop({
    deps,
    pollMs,
    what: "in-process jobs",
    pass: async () => (await runLocalOnce(deps, onEvent)) > 0,
  });
}
