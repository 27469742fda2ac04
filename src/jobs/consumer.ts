// One consumer of the job stream (it runs in a worker thread): read a batch, run each job,
// acknowledge, retry later, or bury; now and then reclaim deliveries abandoned by a dead consumer.
import type Redis from "ioredis";
import { execute, type JobEvent } from "./execute";
import type { Delivery, RedisQueue } from "./redis-queue";
import type { JobDeps } from "./types";

export interface ConsumerOptions {
  queue: RedisQueue;
  /** A connection of its own: XREADGROUP BLOCK holds it. */
  blocking: Redis;
  deps: JobDeps;
  name: string;
  signal: AbortSignal;
  batch?: number;
  blockMs?: number;
  onEvent?: (e: JobEvent) => void;
  /** Called with the job in hand; tests use it to kill a thread mid-job. */
  onStart?: (d: Delivery) => void;
}

export async function consume(o: ConsumerOptions): Promise<void> {
  const { queue, deps, signal } = o;
  const visibility = deps.config.jobVisibilityTimeoutMs;
  let lastReclaim = 0;
  let idleErrors = 0;
  while (!signal.aborted) {
    let batch: Delivery[] = [];
    try {
      if (Date.now() - lastReclaim > Math.min(visibility / 2, 5000)) {
        lastReclaim = Date.now();
        // Every earlier delivery of a reclaimed entry counts as a failed attempt (its consumer died
        // running it), so a job that kills every consumer that touches it ends in the dead letters.
        batch = await queue.reclaim(o.name, visibility, o.batch ?? 16);
        if (batch.length) {
          const times = await queue.deliveries(o.name, batch.length + 100);
          batch = batch.map((d) => ({
            ...d,
            job: { ...d.job, attempt: d.job.attempt + Math.max(0, (times.get(d.streamId) ?? 1) - 1) },
          }));
        }
      }
      if (batch.length === 0) batch = await queue.read(o.blocking, o.name, o.batch ?? 16, o.blockMs ?? 1000);
      idleErrors = 0;
    } catch (err) {
      if (signal.aborted) break;
      // A Redis that restarted empty has lost the group: make it again (relayed jobs re-create the stream).
      if (String((err as Error).message).includes("NOGROUP")) await queue.ensureGroup().catch(() => {});
      if (idleErrors++ % 30 === 0)
        deps.log.warn("job stream unavailable; retrying", { consumer: o.name, error: (err as Error).message });
      await Bun.sleep(Math.min(1000, 100 * idleErrors));
      continue;
    }
    await runBatch(o, batch);
  }
}

/**
 * Runs a batch's jobs up to JOB_CONCURRENCY at a time (most of a job is waiting: on the database,
 * a provider, SMTP), acknowledging what is done as it goes. While the batch runs, its unfinished
 * deliveries have their idle time reset every third of the visibility timeout, so no other
 * consumer reclaims (and runs again) what this one still holds. Stopping: the jobs in hand
 * finish, the rest of the batch goes straight back for another consumer.
 */
async function runBatch(o: ConsumerOptions, batch: Delivery[]): Promise<void> {
  const { queue, deps, signal } = o;
  const visibility = deps.config.jobVisibilityTimeoutMs;
  const unfinished = new Set(batch.map((d) => d.streamId));
  let done: string[] = [];
  const flush = async () => {
    const ids = done;
    done = [];
    if (ids.length)
      await queue.ack(ids).catch((err: Error) => deps.log.warn("could not acknowledge jobs", { error: err.message }));
  };
  const keeper = setInterval(
    () => {
      void flush();
      if (unfinished.size) void queue.keep(o.name, [...unfinished]).catch(() => {});
    },
    Math.max(50, visibility / 3),
  );
  let next = 0;
  const lane = async () => {
    while (next < batch.length && !signal.aborted) {
      const d = batch[next++] as Delivery;
      if (d.job.attempt > deps.config.jobMaxAttempts) {
        await queue.bury(d, "abandoned by its consumer too many times").catch(() => {});
        o.onEvent?.({ type: d.job.type, outcome: "dead", seconds: 0 });
        unfinished.delete(d.streamId);
        continue;
      }
      o.onStart?.(d);
      const startedAt = Date.now();
      const outcome = await execute(d.job, deps);
      o.onEvent?.({
        type: d.job.type,
        outcome: outcome.kind,
        seconds: outcome.ms / 1000,
        delayMs: d.job.attempt === 1 ? startedAt - d.job.enqueuedAt : undefined,
      });
      try {
        if (outcome.kind === "done") done.push(d.streamId);
        else if (outcome.kind === "retry") await queue.retryLater(d, outcome.delayMs, outcome.error);
        else await queue.bury(d, outcome.error);
      } catch (err) {
        // Unacknowledged: it will be reclaimed and, handlers being idempotent, re-run harmlessly.
        deps.log.warn("could not record a job's outcome", { jobId: d.job.id, error: (err as Error).message });
      }
      unfinished.delete(d.streamId);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(deps.config.jobConcurrency, batch.length) }, lane));
  } finally {
    clearInterval(keeper);
  }
  // Stopping: what was not started goes straight back for another consumer.
  if (next < batch.length) await queue.release(batch.slice(next)).catch(() => {});
  await flush();
}
