// Recurring jobs: each runs once per interval however many instances schedule it, because every
// instance enqueues it under the same dedupe key for the same slot of (test-clock) time.
import type { Deps } from "../dependencies";
import { enqueue } from "./outbox";

export interface Recurring {
  name: string;
  everyMs: number;
  type: string;
  payload?: Record<string, unknown>;
}

/** The bookings issue adds expire-unpaid and complete-finished-stays here. */
export const RECURRING: Recurring[] = [{ name: "heartbeat", everyMs: 60_000, type: "jobs.noop" }];

/** Enqueues every recurring job whose current slot has not been enqueued yet; returns how many. */
export async function scheduleDue(deps: Deps, recurring: Recurring[] = RECURRING): Promise<number> {
  const now = deps.clock.now().getTime();
  let n = 0;
  for (const r of recurring) {
    const slot = Math.floor(now / r.everyMs);
    const id = await enqueue(deps.db, deps.clock, r.type, { ...r.payload, slot }, { dedupeKey: `recurring:${r.name}:${slot}` });
    if (id) n++;
  }
  return n;
}

export function startScheduler(deps: Deps, recurring: Recurring[] = RECURRING, tickMs = 1000): { stop(): void } {
  const timer = setInterval(() => {
    scheduleDue(deps, recurring).catch((err: Error) => deps.log.warn("scheduler: could not enqueue", { error: err.message }));
  }, tickMs);
  timer.unref();
  void scheduleDue(deps, recurring).catch(() => {});
  return { stop: () => clearInterval(timer) };
}
