// A fixed pool of job worker threads, started once; stopped by message.
import type { Config } from "../config";
import type { Logger } from "../lib/log";
import type { JobEvent } from "./execute";
import type { FromWorker, WorkerData } from "../../workers/job-worker";

export interface WorkerPool {
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

export async function startWorkerPool(config: Config, count: number, log: Logger, hooks: PoolHooks = {}): Promise<WorkerPool> {
  const threads: Worker[] = [];
  const stopped: Promise<void>[] = [];
  const ready: Promise<void>[] = [];
  const failures: string[] = [];
  for (let i = 0; i < count; i++) {
    const data: WorkerData = { config, name: `${process.pid}-${i}` };
    const worker = new Worker(entry(), { workerData: data } as WorkerOptions);
    threads.push(worker);
    let markReady: () => void = () => {};
    let markStopped: () => void = () => {};
    ready.push(new Promise<void>((r) => (markReady = r)));
    stopped.push(new Promise<void>((r) => (markStopped = r)));
    worker.addEventListener("message", (e) => {
      const m = (e as { data: FromWorker }).data;
      if (m.type === "ready") markReady();
      else if (m.type === "events") for (const ev of m.events) hooks.onEvent?.(ev);
      else if (m.type === "start") hooks.onStart?.(i, m.jobId);
      else if (m.type === "stopped") markStopped();
      else if (m.type === "error") {
        failures.push(m.error);
        log.error("job worker thread failed", { thread: i, error: m.error });
        markReady();
        markStopped();
      }
    });
    worker.addEventListener("error", (e) => {
      const error = (e as { message?: string }).message ?? "unknown error";
      failures.push(error);
      log.error("job worker thread error", { thread: i, entry: entry(), error });
      markReady();
      markStopped();
    });
    worker.addEventListener("close", () => {
      markReady();
      markStopped();
    });
  }
  await Promise.all(ready);
  if (failures.length) {
    for (const t of threads) t.terminate();
    throw new Error(`job worker threads failed to start: ${failures[0]}`);
  }
  return {
    threads,
    async stop(deadlineMs = 15_000) {
      for (const t of threads) t.postMessage({ type: "stop" });
      const all = Promise.all(stopped).then(() => "done" as const);
      const late = new Promise<"late">((r) => setTimeout(() => r("late"), deadlineMs).unref());
      if ((await Promise.race([all, late])) === "late") {
        log.warn("job worker threads did not stop in time; terminating them");
        for (const t of threads) t.terminate();
      }
    },
  };
}
