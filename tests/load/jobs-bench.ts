// Job throughput and start delay, end to end (outbox row committed → no-op handler done), on
// both transports, beside BullMQ (dev dependency, benchmark only) on the same Redis with the
// same concurrency (2). Run: `bun tests/load/jobs-bench.ts` (also part of `bun run bench`).
import { Worker as BullWorker, Queue } from "bullmq";
import postgres from "postgres";
import { closeDeps, createDeps } from "../../src/compose";
import { loadConfig } from "../../src/config";
import { migrate } from "../../src/db/migrate";
import type { JobEvent } from "../../src/jobs/execute";
import { enqueueMany } from "../../src/jobs/outbox";
import { startJobs } from "../../src/jobs/runner";
import { createLogger } from "../../src/lib/log";

const N = Number(process.env.JOBS_BENCH_N ?? 20_000);
const PRODUCERS = 4;
const PER_TX = 50;
const baseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export interface JobsResult {
  name: string;
  /** Saturation: producers as fast as they go, N jobs. */
  jobsPerSecond: number;
  /** Paced: RATE jobs/s offered for PACED_SECONDS, commit → handler start. */
  p50DelayMs: number;
  p99DelayMs: number;
}

const RATE = Number(process.env.JOBS_BENCH_RATE ?? 5000);
const PACED_SECONDS = 4;

/** Offers `rate` jobs per second in 10 ms ticks for `seconds`; returns how many were sent. */
async function paced(rate: number, seconds: number, batch: (n: number) => Promise<unknown>): Promise<number> {
  const perTick = Math.max(1, Math.round(rate / 100));
  const ticks = seconds * 100;
  const t0 = performance.now();
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < ticks; i++) {
    const due = t0 + i * 10;
    const wait = due - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    inflight.push(batch(perTick));
  }
  await Promise.all(inflight);
  return perTick * ticks;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

async function freshDb(name: string): Promise<string> {
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** PRODUCERS concurrent producers hand over N jobs in batches of PER_TX. */
async function produce(batch: (n: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: PRODUCERS }, async () => {
      while (next < N) {
        const n = Math.min(PER_TX, N - next);
        next += n;
        await batch(n);
      }
    }),
  );
}

/** Counts completions and collects start delays; `waitFor(n)` resolves once n more jobs are done. */
class Tally {
  delays: number[] = [];
  private done = 0;
  private target = Number.POSITIVE_INFINITY;
  private finished: () => void = () => {};

  record(delayMs: number | undefined, completed: boolean) {
    if (delayMs !== undefined) this.delays.push(delayMs);
    if (completed && ++this.done >= this.target) this.finished();
  }

  /** Starts a phase: forget what was counted so far. */
  reset() {
    this.delays = [];
    this.done = 0;
    this.target = Number.POSITIVE_INFINITY;
  }

  waitFor(n: number): Promise<void> {
    return new Promise((resolve) => {
      this.finished = resolve;
      this.target = n;
      if (this.done >= n) resolve();
    });
  }
}

/** Throughput (N jobs as fast as producers go), then delay at RATE jobs/s offered. */
async function measure(name: string, tally: Tally, batch: (n: number) => Promise<unknown>): Promise<JobsResult> {
  tally.reset();
  const t0 = performance.now();
  await produce(batch);
  await tally.waitFor(N);
  const seconds = (performance.now() - t0) / 1000;
  tally.reset();
  const sent = await paced(RATE, PACED_SECONDS, batch);
  await tally.waitFor(sent);
  return { name, jobsPerSecond: N / seconds, p50DelayMs: pct(tally.delays, 50), p99DelayMs: pct(tally.delays, 99) };
}

async function ours(name: string, withRedis: boolean): Promise<JobsResult> {
  const url = await freshDb("stayhub_jobs_bench");
  const config = loadConfig({
    DATABASE_URL: url,
    ...(withRedis ? { REDIS_URL: redisUrl, REDIS_PREFIX: `jobsbench${Date.now()}:` } : {}),
    JWT_SECRET: "jobs-bench-secret-jobs-bench-secret-00",
    LOG_LEVEL: "warn",
    WORKER_THREADS: "2",
    DATA_DIR: "/tmp/stayhub-jobs-bench",
  });
  const deps = await createDeps(config, { log: createLogger("warn") });
  await migrate(deps.database);
  const tally = new Tally();
  const onEvent = (e: JobEvent) => {
    if (e.type === "jobs.noop") tally.record(e.delayMs, e.outcome === "done");
  };
  const jobs = await startJobs(deps, { scheduler: false, hooks: { onEvent } });
  // Like BullMQ's addBulk: one call per batch of jobs (one multi-row outbox insert, committed).
  const result = await measure(name, tally, (n) =>
    enqueueMany(
      deps.db,
      deps.clock,
      Array.from({ length: n }, () => ({ type: "jobs.noop", payload: {} })),
    ),
  );
  await jobs.stop();
  await closeDeps(deps);
  return result;
}

async function bullmq(): Promise<JobsResult> {
  const u = new URL(redisUrl);
  const connection = { host: u.hostname, port: Number(u.port || 6379) };
  const name = `bench-${Date.now()}`;
  const queue = new Queue(name, { connection });
  const tally = new Tally();
  const worker = new BullWorker(name, async (job) => tally.record(Date.now() - job.timestamp, false), {
    connection,
    concurrency: 2,
  });
  worker.on("completed", () => tally.record(undefined, true));
  await worker.waitUntilReady();
  const result = await measure("BullMQ 6 (Redis, concurrency 2, no outbox)", tally, (n) =>
    queue.addBulk(Array.from({ length: n }, () => ({ name: "noop", data: {}, opts: { removeOnComplete: true } }))),
  );
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return result;
}

export async function jobsBench(): Promise<JobsResult[]> {
  const results: JobsResult[] = [];
  results.push(await ours("stayhub: outbox → Redis stream → 2 worker threads", true));
  results.push(await bullmq());
  results.push(await ours("stayhub: outbox → in-process (no Redis)", false));
  return results;
}

if (import.meta.main) {
  const results = await jobsBench();
  const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "n/a");
  console.log(
    `\njobs bench — throughput: ${N} no-op jobs, ${PRODUCERS} producers × ${PER_TX} per call; delay: ${RATE} jobs/s offered for ${PACED_SECONDS} s\n`,
  );
  for (const r of results)
    console.log(
      `${r.name.padEnd(56)} ${fmt(r.jobsPerSecond, 0).padStart(7)} jobs/s  delay p50 ${fmt(r.p50DelayMs)} ms  p99 ${fmt(r.p99DelayMs)} ms`,
    );
  const [redis, bull] = results;
  if (redis && bull)
    console.log(`\nstream transport vs BullMQ: ${fmt(redis.jobsPerSecond / bull.jobsPerSecond, 2)} × (target ≥ 1)`);
  process.exit(0);
}
