// Worker-thread entry: one consumer of the job stream (or the pool's outbox relay) with its own
// database pool and Redis connections. Started once per thread by the main thread and stopped by
// a message (never terminate(), which has crashed Bun under load): the job in hand finishes, the
// rest of its batch goes back to the stream, connections close, then it says "stopped".
import { parentPort, workerData } from "node:worker_threads";
import { closeDeps, connectRedis, createDeps } from "../src/compose";
import type { Config } from "../src/config";
import { consume } from "../src/jobs/consumer";
import { relayInProcess } from "../src/jobs/outbox";
import { RedisQueue } from "../src/jobs/redis-queue";
import { startRelay } from "../src/jobs/relay";
import { SharedTestClock } from "../src/lib/clock";
import { within } from "../src/lib/deadline";
import { createLogger } from "../src/lib/log";

export interface WorkerData {
  config: Config;
  name: string;
  /** A consumer of the stream, or the pool's outbox relay. */
  role: "consumer" | "relay";
  /** The test clock's instant when this thread was started (null: not set, or no test clock). */
  fixedClock: string | null;
  /** The main thread answers `{ type: "clock" }` with the test clock's current value. */
  announcesClock: boolean;
  /** The pool has a relay thread (it hears this thread's wakes: its commits need no NOTIFY). */
  poolRelays?: boolean;
}

export type FromWorker =
  | { type: "ready" }
  | { type: "clock" }
  | { type: "events"; events: import("../src/jobs/execute").JobEvent[] }
  | { type: "start"; jobId: string }
  | { type: "stopped" }
  | { type: "error"; error: string };

const { config, name, role, fixedClock, announcesClock, poolRelays } = workerData as WorkerData;
const post = (m: FromWorker) => parentPort?.postMessage(m);

async function run() {
  const log = createLogger(config.logLevel);
  // One connection per job it may run at once (JOB_CONCURRENCY), up to 8.
  const deps = await createDeps(config, { log, poolSize: Math.max(2, Math.min(config.jobConcurrency, 8)) });
  if (!deps.redis || !config.redisUrl) throw new Error("job worker threads need REDIS_URL");
  if (deps.testClock instanceof SharedTestClock) {
    deps.testClock.adopt(fixedClock);
    // The clock may have moved after this thread was spawned and before its own clock listened:
    // no work starts until the main thread has told it the current value.
    if (announcesClock) {
      const told = deps.testClock.nextValue();
      post({ type: "clock" });
      await within(told, 10_000, "the test clock's current value");
    }
  }
  const blocking = connectRedis(config.redisUrl, `stayhub-${name}-blocking`);
  blocking.on("error", () => {});
  const queue = new RedisQueue(deps.redis, `${config.redisPrefix}`);
  // Redis may be down at start: the consumer loop makes the group once it answers (NOGROUP).
  await queue.ensureGroup().catch(() => {});
  const stop = new AbortController();
  parentPort?.on("message", (m: { type: string }) => {
    if (m.type === "stop") stop.abort();
  });
  if (role === "consumer" && poolRelays) relayInProcess();
  if (role === "relay") {
    const relay = await startRelay(deps, queue);
    post({ type: "ready" });
    await new Promise((resolve) => stop.signal.addEventListener("abort", resolve, { once: true }));
    await relay.stop();
    blocking.disconnect();
    await closeDeps(deps);
    post({ type: "stopped" });
    process.exit(0);
  }
  post({ type: "ready" });
  // Outcomes go to the main thread (which owns /metrics) in batches, not one message per job.
  let events: import("../src/jobs/execute").JobEvent[] = [];
  const flush = () => {
    if (events.length) post({ type: "events", events });
    events = [];
  };
  const flusher = setInterval(flush, 50);
  await consume({
    queue,
    blocking,
    deps,
    name,
    signal: stop.signal,
    onEvent: (event) => {
      events.push(event);
      if (events.length >= 256) flush();
    },
    onStart: (d) => post({ type: "start", jobId: d.job.id }),
  });
  clearInterval(flusher);
  flush();
  blocking.disconnect();
  await closeDeps(deps);
  post({ type: "stopped" });
  process.exit(0);
}

run().catch((err: unknown) => {
  post({ type: "error", error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
