// The composition root of the jobs: every module's handlers, registered in one place, so jobs/
// never imports a module and a module never registers itself.
import type { Config } from "./config";
import { idempotencyHandlers } from "./http/idempotency";
import type { Handlers, JobOf } from "./jobs/registry";
import type { JobDeps } from "./jobs/types";
import { emailVerificationHandlers } from "./modules/auth/email-verification";
import { passwordResetHandlers } from "./modules/auth/password-reset";
import { bookingHandlers } from "./modules/bookings/jobs";
import { ledgerHandlers } from "./modules/ledger/jobs";
import { handleNotify, notificationHandlers } from "./modules/notifications/service";
import { paymentHandlers } from "./modules/payments/jobs";
import { alertHandlers } from "./modules/wishlists/alerts";

/** Effect of the test job types: one notification per job, whatever the number of deliveries. */
async function testEffect(job: JobOf<"test.effect" | "test.flaky" | "test.sleep">, deps: JobDeps) {
  await handleNotify(
    { ...job, type: "notify", payload: { userId: job.payload.userId, type: "test", title: job.type, body: job.id } },
    deps,
  );
}

// TEST_JOBS=1 only: a job that fails its first `failTimes` attempts, and one that takes its time.
const testHandlers: Handlers = {
  "test.flaky": async (job, deps) => {
    if (job.attempt <= (job.payload.failTimes ?? 0)) throw new Error(`flaky: attempt ${job.attempt} fails on purpose`);
    await testEffect(job, deps);
  },
  "test.sleep": async (job, deps) => {
    await Bun.sleep(job.payload.ms ?? 100);
    await testEffect(job, deps);
  },
  "test.effect": testEffect,
};

export function jobHandlers(config: Config): Handlers {
  return {
    // The job machinery's own type (no domain effect).
    "jobs.noop": async () => {},
    ...notificationHandlers,
    ...bookingHandlers,
    ...paymentHandlers,
    ...ledgerHandlers,
    ...alertHandlers,
    ...passwordResetHandlers,
    ...emailVerificationHandlers,
    ...idempotencyHandlers,
    ...(config.testJobs ? testHandlers : {}),
  };
}
