// The payments module's job handlers (registered by src/job-handlers.ts): the charge, the refunds
// (a cancellation's, and a charge that landed for nights no longer held), reconciliation.
import { and, eq, lt } from "drizzle-orm";
import { onChange } from "../../cache/invalidation";
import { bookings, payments } from "../../db/schema";
import { enqueueMany } from "../../jobs/outbox";
import type { Handlers } from "../../jobs/registry";
import { stalePayouts } from "../ledger/payouts";
import { chargeKey } from "./backstop";
import { TransientProviderError } from "./provider";
import { reconcileAndRecord } from "./reconcile";
import { chargeIdOf, requestHandlers } from "./requests";
import {
  type ChargeOutcome,
  executeRefund,
  outcomeOfState,
  refundCancellation,
  settleCharge,
  takePayment,
} from "./service";
import { timingsOf } from "./timings";

/** A payment processing longer than this (service clock) is charged again by the sweep. */
export const STALE_PROCESSING_MS = 5 * 60_000;

export const paymentHandlers: Handlers = {
  ...requestHandlers,
  // The charge key is derived from the payment id: a redelivered job (its worker killed after the
  // provider charged, before our commit) asks again with it and gets the first answer back.
  "payment.charge": async (job, deps) => {
    const [p] = await deps.db.select().from(payments).where(eq(payments.id, job.payload.paymentId));
    if (!p) return;
    const key = chargeKey(p.id);
    if (p.status !== "processing") {
      // Settled by a webhook first: what the provider did under our key is still asked, so a charge
      // id is on record for refunds, and a charge a charge.failed event contradicts is given back.
      if (!p.providerRef) {
        const found = await deps.payments.lookupCharge(key);
        if (found)
          await deps.db.transaction((tx) =>
            settleCharge(tx, deps.clock, p.id, outcomeOfState(found), { ...timingsOf(deps.config) }),
          );
      }
      return;
    }
    let outcome: ChargeOutcome;
    try {
      outcome = await takePayment(deps, p);
    } catch (err) {
      // Transient: retried with backoff by the jobs system. On the last attempt the provider is
      // asked what became of the key (an answer lost after it charged) before it counts as failed.
      if (!(err instanceof TransientProviderError) || job.attempt < deps.config.jobMaxAttempts) throw err;
      const found = await deps.payments.lookupCharge(key);
      deps.log.warn("charge failed transiently on its last attempt", {
        paymentId: p.id,
        attempt: job.attempt,
        error: err.message,
        charged: found?.status ?? "no",
      });
      outcome = found ? outcomeOfState(found) : { status: "failed", failureCode: "processing_error" };
    }
    const settled = await deps.db.transaction((tx) =>
      settleCharge(tx, deps.clock, p.id, outcome, { attempts: job.attempt, ...timingsOf(deps.config) }),
    );
    if (settled.freed) await onChange(deps, { kind: "nights.freed" });
  },
  // The backstop of the charge jobs: a payment still processing long after it was made (its job
  // ended in the dead letters, or was lost with a Redis that restarted empty) is charged again —
  // under the same key, so at most once.
  "payments.sweep": async (job, deps) => {
    const stale = await deps.db
      .select({ id: payments.id })
      .from(payments)
      .where(
        and(
          eq(payments.status, "processing"),
          lt(payments.updatedAt, new Date(deps.clock.now().getTime() - STALE_PROCESSING_MS)),
        ),
      )
      .limit(500);
    await enqueueMany(
      deps.db,
      deps.clock,
      stale.map((s) => ({
        type: "payment.charge" as const,
        payload: { paymentId: s.id },
        dedupeKey: `payment:${s.id}:charge:${job.payload.slot}`,
      })),
    );
    if (stale.length)
      deps.log.warn("payments still processing were sent back to the provider", { count: stale.length });
    // Requests accepted long ago whose capture has not settled (its job ended in the dead letters,
    // or was lost): captured again, by state — nothing else may end an accepted request.
    const accepted = await deps.db
      .select({ id: payments.id })
      .from(payments)
      .innerJoin(bookings, eq(bookings.id, payments.bookingId))
      .where(
        and(
          eq(payments.status, "authorized"),
          eq(bookings.status, "requested"),
          lt(bookings.acceptedAt, new Date(deps.clock.now().getTime() - STALE_PROCESSING_MS)),
        ),
      )
      .limit(500);
    await enqueueMany(
      deps.db,
      deps.clock,
      accepted.map((a) => ({
        type: "payment.capture" as const,
        payload: { paymentId: a.id },
        dedupeKey: `payment:${a.id}:capture:${job.payload.slot}`,
      })),
    );
    if (accepted.length)
      deps.log.warn("accepted requests still uncaptured were sent back to the provider", { count: accepted.length });
    // Payouts still pending long after they were made (their send job dead or lost): sent again,
    // under their own key — a host's next payout waits for this one.
    const unsent = await stalePayouts(deps.db, new Date(deps.clock.now().getTime() - STALE_PROCESSING_MS));
    await enqueueMany(
      deps.db,
      deps.clock,
      unsent.map((id) => ({
        type: "payout.send" as const,
        payload: { payoutId: id },
        dedupeKey: `payout:${id}:send:${job.payload.slot}`,
      })),
    );
    if (unsent.length) deps.log.warn("payouts still pending were sent again", { count: unsent.length });
  },
  // A voided payment's authorization released at the provider. Captured there after all (its
  // dashboard, a capture whose answer was lost): all of it is given back, as a refund on record.
  "payment.void": async (job, deps) => {
    const [p] = await deps.db.select().from(payments).where(eq(payments.id, job.payload.paymentId));
    if (!p || (p.status !== "voided" && p.status !== "failed")) return;
    const chargeId = await chargeIdOf(deps, p);
    if (!chargeId) return;
    const result = await deps.payments.void({ chargeId });
    if (result.status === "refused" && result.reason === "captured") {
      deps.log.warn("a voided payment was captured at the provider; refunding it in full", { paymentId: p.id });
      await executeRefund(deps, p.id, p.amount, { reason: "not_held", paymentId: p.id });
    }
  },
  "payment.refund": async (job, deps) => {
    await executeRefund(deps, job.payload.paymentId, job.payload.amount, {
      reason: "not_held",
      paymentId: job.payload.paymentId,
    });
  },
  // The refund a cancellation owes (its amount was fixed by the bookings' refund rules at cancel time).
  "booking.refund": async (job, deps) => {
    await refundCancellation(deps, job.payload.bookingId, job.payload.amount);
  },
  "payments.reconcile": async (_job, deps) => {
    const found = await reconcileAndRecord(deps.db, deps.payments);
    if (found.length)
      deps.log.error("payments do not reconcile with the provider's ledger", {
        mismatches: found.length,
        first: found.slice(0, 5),
      });
  },
};
