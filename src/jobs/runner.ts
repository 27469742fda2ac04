// Starts the job machinery for `serve` and `worker`: with Redis and PostgreSQL, the outbox relay
// plus a pool of worker threads consuming the stream; otherwise the in-process transport. The
// scheduler runs in every instance (its dedupe keys make that safe).
import { sql } from "drizzle-orm";
import { outbox } from "../db/schema";
import type { Deps } from "../dependencies";
import { startLocalJobs } from "./local";
import { relayInProcess } from "./outbox";
import { RedisQueue } from "./redis-queue";
import { startRelay } from "./relay";
import { startScheduler } from "./scheduler";
import { type PoolHooks, startWorkerPool, type WorkerPool } from "./threads";

const count = async (deps: Deps, where: ReturnType<typeof sql>) => {
  const [row] = await deps.db.select({ n: sql<number>`count(*)::int` }).from(outbox).where(where);
  return Number(row?.n ?? 0);
};
const waitingInOutbox = (deps: Deps) => count(deps, sql`${outbox.sentAt} is null and ${outbox.deadAt} is null`);
const deadInOutbox = (deps: Deps) => count(deps, sql`${outbox.deadAt} is not null`);

export interface Jobs {
  transport: "redis-streams" | "in-process";
  pool: WorkerPool | null;
  queue: RedisQueue | null;
  /** Stops the relay, the scheduler and the workers; threads still busy after `deadlineMs` are terminated. */
  stop(deadlineMs?: number): Promise<void>;
}

export async function startJobs(
  deps: Deps,
  options: { threads?: number; scheduler?: boolean; hooks?: PoolHooks } = {},
): Promise<Jobs> {
  const onEvent = (e: Parameters<NonNullable<PoolHooks["onEvent"]>>[0]) => {
    deps.metrics.job(e);
    options.hooks?.onEvent?.(e);
  };
  const scheduler = options.scheduler === false ? null : startScheduler(deps);
  const threads = options.threads ?? deps.config.workerThreads;
  // WORKER_THREADS=0 with Redis: this instance only relays; `stayhub worker` processes consume.
  if (deps.redis && deps.database.kind === "postgres") {
    const queue = new RedisQueue(deps.redis, deps.config.redisPrefix);
    await queue
      .ensureGroup()
      .catch((err: Error) => deps.log.warn("could not create the job consumer group yet", { error: err.message }));
    // With worker threads the relay runs on one of them (a busy API thread would delay every job);
    // an instance without threads relays here.
    const relay = threads > 0 ? null : await startRelay(deps, queue);
    deps.metrics.setQueueProbe(async () => ({
      waiting: await waitingInOutbox(deps),
      ...(await queue.stats().then(({ depth, pending, delayed, dead }) => ({ stream: depth, pending, delayed, dead }))),
    }));
    let pool: WorkerPool | null = null;
    try {
      pool =
        threads > 0
          ? await startWorkerPool(
              deps.config,
              threads,
              deps.log,
              { ...options.hooks, onEvent },
              { relay: true, clock: deps.testClock ?? undefined },
            )
          : null;
    } catch (err) {
      scheduler?.stop();
      await relay?.stop();
      throw err;
    }
    // The pool's relay thread hears this thread's wakes: its commits need no NOTIFY.
    const released = pool ? relayInProcess() : () => {};
    deps.log.info("jobs started", { transport: "redis-streams", threads });
    return {
      transport: "redis-streams",
      pool,
      queue,
      async stop(deadlineMs) {
        scheduler?.stop();
        await relay?.stop();
        released();
        await pool?.stop(deadlineMs);
      },
    };
  }
  // Embedded database (one process owns it) or no Redis: the handlers run here, from the outbox.
  const local = await startLocalJobs(deps, onEvent);
  deps.metrics.setQueueProbe(async () => ({ waiting: await waitingInOutbox(deps), dead: await deadInOutbox(deps) }));
  deps.log.info("jobs started", { transport: "in-process" });
  return {
    transport: "in-process",
    pool: null,
    queue: null,
    async stop() {
      scheduler?.stop();
      await local.stop();
    },
  };
}
