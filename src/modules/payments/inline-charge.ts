// A payment charged by the process that took it, right after its commit: the provider call (outside
// any transaction), then the settlement in one transaction that also deletes the charge's backstop
// job — no relay pass, stream entry, worker read or ack per payment. The backstop (payment.charge,
// due CHARGE_BACKSTOP_MS later) finishes what this does not: a process that dies between the two
// commits, a transient provider error (the job is made due at once, with its retries), a crowd
// beyond MAX_INLINE. The charge key is the payment's, so the provider charges once whoever asks.
import { and, eq, isNull, sql } from "drizzle-orm";
import { onChange } from "../../cache/invalidation";
import { afterCommit } from "../../db/after-commit";
import { outbox } from "../../db/schema";
import type { Deps } from "../../dependencies";
import { wakeRelays } from "../../jobs/outbox";
import { backgroundCount, inBackground } from "../../lib/background";
import { type ChargeOutcome, chargeJobKey, chargeKey, settleCharge } from "./service";

/** Inline charges one process runs at once; past it, payments wait for their backstop job. */
export const MAX_INLINE = 256;

export interface InlineCharge {
  paymentId: string;
  amount: number;
  currency: string;
  paymentMethod: string;
}

/** Starts the charge in the background (the request answers 202 without waiting for it). */
export function chargeInline(deps: Deps, c: InlineCharge): void {
  if (backgroundCount(deps) >= MAX_INLINE) {
    void dueNow(deps, c.paymentId).catch(() => {}); // its backstop runs it (and the sweep, if this fails too)
    return;
  }
  inBackground(
    deps,
    () => charge(deps, c),
    (err) =>
      deps.log.warn("inline charge stopped; its backstop job will finish it", {
        paymentId: c.paymentId,
        error: err instanceof Error ? err.message : String(err),
      }),
  );
}

async function charge(deps: Deps, c: InlineCharge): Promise<void> {
  let outcome: ChargeOutcome;
  try {
    outcome = await deps.payments.charge({
      key: chargeKey(c.paymentId),
      reference: c.paymentId,
      amount: c.amount,
      currency: c.currency,
      paymentMethod: c.paymentMethod,
    });
  } catch (err) {
    // Transient, or no answer: the job asks again under the same key, with backoff and the last
    // attempt's lookup (jobs.ts).
    await dueNow(deps, c.paymentId);
    throw err;
  }
  const settled = await deps.db.transaction(async (tx) => {
    const s = await settleCharge(tx, deps.clock, c.paymentId, outcome, { attempts: 1 });
    await tx.delete(outbox).where(and(eq(outbox.dedupeKey, chargeJobKey(c.paymentId)), isNull(outbox.sentAt)));
    return s;
  });
  if (settled.freed) await onChange(deps, { kind: "nights.freed" });
}

/** The backstop job made due now (if no relay took it yet), and the relays woken for it. */
async function dueNow(deps: Deps, paymentId: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const moved = await tx
      .update(outbox)
      .set({ runAt: sql`least(${outbox.runAt}, ${deps.clock.now().toISOString()}::timestamptz)` })
      .where(and(eq(outbox.dedupeKey, chargeJobKey(paymentId)), isNull(outbox.sentAt)))
      .returning({ id: outbox.id });
    if (moved.length) afterCommit(tx, wakeRelays);
  });
}
