// Runs one job through its handler and decides what happens next. Both transports use this, so a
// handler behaves the same whether Redis or the in-process loop delivered its job.
import { type HandlerOf, isJobType, type JobType } from "./registry";
import { backoffMs, type Job, type JobDeps } from "./types";

export type Outcome =
  | { kind: "done"; ms: number }
  | { kind: "retry"; ms: number; delayMs: number; error: string }
  | { kind: "dead"; ms: number; error: string };

export async function execute(job: Job, deps: JobDeps): Promise<Outcome> {
  const started = performance.now();
  const handler = isJobType(job.type, deps.handlers)
    ? (deps.handlers[job.type] as HandlerOf<JobType> | undefined)
    : undefined;
  if (!handler) return { kind: "dead", ms: 0, error: `no handler for job type "${job.type}"` };
  try {
    // The payload was written by `enqueue`, which the compiler held to the registry's type.
    await handler(job as Parameters<HandlerOf<JobType>>[0], deps);
    return { kind: "done", ms: performance.now() - started };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    const ms = performance.now() - started;
    if (job.attempt >= deps.config.jobMaxAttempts) {
      deps.log.error("job failed for the last time", { jobId: job.id, type: job.type, attempt: job.attempt, error });
      return { kind: "dead", ms, error };
    }
    deps.log.warn("job failed; will retry", { jobId: job.id, type: job.type, attempt: job.attempt, error });
    return { kind: "retry", ms, delayMs: backoffMs(job.attempt, deps.config.jobBackoffMs), error };
  }
}

/** What a transport reports per job, for /metrics. */
export interface JobEvent {
  type: string;
  outcome: Outcome["kind"];
  seconds: number;
  /** Wall-clock ms from commit to handler start (first attempts only). */
  delayMs?: number;
}
