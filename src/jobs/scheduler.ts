// Recurring jobs: each runs once per interval however many instances schedule it, because every
// instance enqueues it under the same dedupe key for the same slot of (test-clock) time.
import type { Deps } from "../dependencies";
import { enqueue } from "./outbox";
import type { JobPayloads, JobType } from "./registry";

/** A recurring job's type takes `{ slot }` (the slot of time it runs for) as its payload. */
type SlotJob = { [T in JobType]: { slot: number } extends JobPayloads[T] ? T : never }[JobType];

export interface Recurring {
  name: string;
  everyMs: number;
  type: SlotJob;
}

export const RECURRING: Recurring[] = [
  { name: "heartbeat", everyMs: 60_000, type: "jobs.noop" },
  // What expires unpaid holds (a hold has no job of its own) and completes finished stays.
  { name: "bookings-sweep", everyMs: 30_000, type: "bookings.sweep" },
  { name: "idempotency-cleanup", everyMs: 3_600_000, type: "idempotency.cleanup" },
  // The backstop of the charge jobs (a payment stuck in processing is charged again, same key).
  { name: "payments-sweep", everyMs: 60_000, type: "payments.sweep" },
  // Our payments against the provider's ledger; /metrics: stayhub_payment_mismatches.
  { name: "payments-reconcile", everyMs: 600_000, type: "payments.reconcile" },
  // Alerts whose check-in day passed, expired (GET /alerts also expires the caller's own).
  { name: "alerts-expire", everyMs: 600_000, type: "alerts.expire" },
  // The daily payout run (the slot of a UTC day).
  { name: "payouts-run", everyMs: 86_400_000, type: "payouts.run" },
];

/** Enqueues every recurring job whose current slot has not been enqueued yet; returns how many. */
export async function scheduleDue(deps: Deps, recurring: Recurring[] = RECURRING): Promise<number> {
  const now = deps.clock.now().getTime();
  let n = 0;
  for (const r of recurring) {
    const slot = Math.floor(now / r.everyMs);
    const id = await enqueue(deps.db, deps.clock, r.type, { slot }, { dedupeKey: `recurring:${r.name}:${slot}` });
    if (id) n++;
  }
  return n;
}

export function startScheduler(deps: Deps, recurring: Recurring[] = RECURRING, tickMs = 1000): { stop(): void } {
  const timer = setInterval(() => {
    scheduleDue(deps, recurring).catch((err: Error) =>
      deps.log.warn("scheduler: could not enqueue", { error: err.message }),
    );
  }, tickMs);
  timer.unref();
  void scheduleDue(deps, recurring).catch(() => {});
  return { stop: () => clearInterval(timer) };
}
