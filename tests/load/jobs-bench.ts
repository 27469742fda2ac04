// Job throughput and start delay, end to end (outbox row committed → no-op handler done), on
// both transports, beside BullMQ (dev dependency, benchmark only) on the same Redis with the
// same concurrency (2). Run: `bun tests/load/jobs-bench.ts` (also part of `bun run bench`).
import { Queue, Worker as BullWorker } from "bullmq";
import postgres from "postgres";
import { loadConfig } from "../../src/config";
import { migrate } from "../../src/db/migrate";
import { closeDeps, createDeps, type Deps } from "../../src/deps";
import type { JobEvent } from "../../src/jobs/execute";
import { enqueue } from "../../src/jobs/outbox";
import { startJobs } from "../../src/jobs/runner";
import { createLogger } from "../../src/lib/log";

const N = Number(process.env.JOBS_BENCH_N ?? 20_000);
const PRODUCERS = 4;
const PER_TX = 50;
const baseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export interface JobsResult {
  name: string;
  jobsPerSecond: number;
  p50DelayMs: number;
  p99DelayMs: number;
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
  if (!withRedis) {
    // The in-process transport runs on the main thread whatever the database: force it.
    (deps as { redis: unknown }).redis = null;
  }
  const delays: number[] = [];
  let done = 0;
  let finished: () => void = () => {};
  const allDone = new Promise<void>((r) => (finished = r));
  const onEvent = (e: JobEvent) => {
    if (e.type !== "jobs.noop") return;
    if (e.delayMs !== undefined) delays.push(e.delayMs);
    if (e.outcome === "done" && ++done >= N) finished();
  };
  const jobs = await startJobs(deps, { scheduler: false, hooks: { onEvent } });
  const t0 = performance.now();
  // One transaction per batch, one enqueue (outbox insert) per job, as application code does.
  await produce((n) =>
    deps.db.transaction(async (tx) => {
      for (let i = 0; i < n; i++) await enqueue(tx, deps.clock, "jobs.noop", {});
    }),
  );
  await allDone;
  const seconds = (performance.now() - t0) / 1000;
  await jobs.stop();
  await closeDeps(deps);
  return { name, jobsPerSecond: N / seconds, p50DelayMs: pct(delays, 50), p99DelayMs: pct(delays, 99) };
}

async function bullmq(): Promise<JobsResult> {
  const u = new URL(redisUrl);
  const connection = { host: u.hostname, port: Number(u.port || 6379) };
  const name = `bench-${Date.now()}`;
  const queue = new Queue(name, { connection });
  const delays: number[] = [];
  let done = 0;
  let finished: () => void = () => {};
  const allDone = new Promise<void>((r) => (finished = r));
  const worker = new BullWorker(
    name,
    async (job) => {
      delays.push(Date.now() - job.timestamp);
    },
    { connection, concurrency: 2 },
  );
  worker.on("completed", () => {
    if (++done >= N) finished();
  });
  await worker.waitUntilReady();
  const t0 = performance.now();
  await produce((n) => queue.addBulk(Array.from({ length: n }, () => ({ name: "noop", data: {}, opts: { removeOnComplete: true } }))));
  await allDone;
  const seconds = (performance.now() - t0) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { name: "BullMQ 6 (Redis, concurrency 2, no outbox)", jobsPerSecond: N / seconds, p50DelayMs: pct(delays, 50), p99DelayMs: pct(delays, 99) };
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
  console.log(`\njobs bench — ${N} no-op jobs, ${PRODUCERS} producers × ${PER_TX} per transaction\n`);
  for (const r of results) console.log(`${r.name.padEnd(56)} ${fmt(r.jobsPerSecond, 0).padStart(7)} jobs/s  delay p50 ${fmt(r.p50DelayMs)} ms  p99 ${fmt(r.p99DelayMs)} ms`);
  const [redis, bull] = results;
  if (redis && bull) console.log(`\nstream transport vs BullMQ: ${fmt(redis.jobsPerSecond / bull.jobsPerSecond, 2)} × (target ≥ 1)`);
  process.exit(0);
}
