// A fixed pool of job worker threads, started once; stopped by message. A thread that dies on its
// own (a crash, a kill) is replaced, so capacity does not quietly fall to zero.

import type { FromWorker, WorkerData } from "../../workers/job-worker";
import type { Config } from "../config";
import type { Clock } from "../lib/clock";
import { settlesWithin } from "../lib/deadline";
import type { Logger } from "../lib/log";
import type { JobEvent } from "./execute";

export interface WorkerPool {
  /** The live threads, by slot (a replaced thread's slot holds its replacement). */
  threads: Worker[];
  /** Resolves when every thread said "stopped" (or, after the deadline, was terminated). */
  stop(deadlineMs?: number): Promise<void>;
}

export interface PoolHooks {
  onEvent?: (e: JobEvent) => void;
  onStart?: (thread: number, jobId: string) => void;
}

// From source, the .ts file beside src/; in the compiled binary, the extra entrypoint that
// `bun build --compile` embedded under the binary's root (its path relative to the project).
const entry = () =>
  import.meta.url.includes("/$bunfs/")
    ? new URL("./workers/job-worker.ts", "file:///$bunfs/root/").href
    : new URL("../../workers/job-worker.ts", import.meta.url).href;

interface Slot {
  worker: Worker;
  ready: Promise<string | null>;
  stopped: Promise<void>;
}

/**
 * `relay`: one more thread runs the outbox relay, so jobs move from the outbox to the stream on a
 * thread of their own however busy the API's thread is — and never on a consumer's, which a job
 * may kill (a relay killed in its transaction hands its rows to the stream a second time).
 */
export async function startWorkerPool(
  config: Config,
  count: number,
  log: Logger,
  hooks: PoolHooks = {},
  options: { relay?: boolean; clock?: Clock & { isSet?: boolean; announce?: () => void } } = {},
): Promise<WorkerPool> {
  let stopping = false;
  const slots: Slot[] = [];
  const threads: Worker[] = [];
  const restarts: number[] = [];

  // Slots 0…count-1 consume; slot `count`, when there is one, relays (it is not in `threads`).
  const spawn = (i: number): Slot => {
    const data: WorkerData = {
      config,
      name: `${process.pid}-${i}-${Date.now().toString(36)}`,
      role: i < count ? "consumer" : "relay",
      poolRelays: options.relay === true,
      fixedClock: options.clock?.isSet ? options.clock.now().toISOString() : null,
      announcesClock: options.clock?.announce !== undefined,
    };
    const worker = new Worker(entry(), { workerData: data } as WorkerOptions);
    let markReady: (error: string | null) => void = () => {};
    let markStopped: () => void = () => {};
    const ready = new Promise<string | null>((r) => (markReady = r));
    const stopped = new Promise<void>((r) => (markStopped = r));
    let started = false;
    worker.addEventListener("message", (e) => {
      const m = (e as { data: FromWorker }).data;
      if (m.type === "ready") {
        started = true;
        markReady(null);
      } else if (m.type === "clock") {
        // The thread's test clock listens now; a change made while it started may have passed it by.
        options.clock?.announce?.();
      } else if (m.type === "events") for (const ev of m.events) hooks.onEvent?.(ev);
      else if (m.type === "start") hooks.onStart?.(i, m.jobId);
      else if (m.type === "stopped") markStopped();
      else if (m.type === "error") {
        log.error("job worker thread failed", { thread: i, error: m.error });
        markReady(m.error);
      }
    });
    worker.addEventListener("error", (e) => {
      const error = (e as { message?: string }).message ?? "unknown error";
      log.error("job worker thread error", { thread: i, entry: entry(), error });
      markReady(error);
    });
    worker.addEventListener("close", () => {
      markReady("exited before it was ready");
      markStopped();
      if (stopping || !started) return;
      // Died on its own: replace it, unless threads die faster than once every few seconds.
      const now = Date.now();
      while (restarts.length && now - (restarts[0] as number) > 60_000) restarts.shift();
      if (restarts.length >= 10) {
        log.error("job worker threads keep dying; not replacing this one", { thread: i });
        return;
      }
      restarts.push(now);
      log.error("job worker thread died; starting a replacement", { thread: i });
      setTimeout(() => {
        if (stopping) return;
        const replacement = spawn(i);
        slots[i] = replacement;
        if (i < count) threads[i] = replacement.worker;
      }, 500);
    });
    return { worker, ready, stopped };
  };

  for (let i = 0; i < count; i++) {
    slots.push(spawn(i));
    threads.push((slots[i] as Slot).worker);
  }
  if (options.relay) slots.push(spawn(count));
  const failures = (await Promise.all(slots.map((s) => s.ready))).filter((e): e is string => e !== null);
  if (failures.length) {
    stopping = true;
    for (const s of slots) s.worker.terminate();
    throw new Error(`job worker threads failed to start: ${failures[0]}`);
  }
  return {
    threads,
    async stop(deadlineMs = 15_000) {
      stopping = true;
      for (const s of slots) s.worker.postMessage({ type: "stop" });
      if (!(await settlesWithin(Promise.all(slots.map((s) => s.stopped)), deadlineMs))) {
        log.warn("job worker threads did not stop in time; terminating them");
        for (const s of slots) s.worker.terminate();
      }
    },
  };
}
