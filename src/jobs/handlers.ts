// Job type → handler: one code path for both transports (Redis streams and in-process).
import { handleNotify } from "../modules/notifications/service";
import type { Handler, Job, JobDeps } from "./types";

/** Effect of the test job types: one notification per job, whatever the number of deliveries. */
async function testEffect(job: Job, deps: JobDeps) {
  await handleNotify({ ...job, payload: { userId: job.payload.userId, type: "test", title: job.type, body: job.id } }, deps);
}

const handlers: Record<string, Handler> = {
  notify: handleNotify,
  // No effect: the scheduler's sample recurring job, and the benchmark's no-op.
  "jobs.noop": async () => {},
};

// TEST_JOBS=1 only: a job that fails its first `failTimes` attempts, and one that takes its time.
const testHandlers: Record<string, Handler> = {
  "test.flaky": async (job, deps) => {
    if (job.attempt <= Number(job.payload.failTimes ?? 0)) throw new Error(`flaky: attempt ${job.attempt} fails on purpose`);
    await testEffect(job, deps);
  },
  "test.sleep": async (job, deps) => {
    await Bun.sleep(Number(job.payload.ms ?? 100));
    await testEffect(job, deps);
  },
  "test.effect": testEffect,
};

export function handlerFor(type: string, deps: JobDeps): Handler | undefined {
  return handlers[type] ?? (deps.config.testJobs ? testHandlers[type] : undefined);
}
