// The payments module's job handlers (registered by src/job-handlers.ts): the charge, the refunds
// (a cancellation's, and a charge that landed for nights no longer held), reconciliation.
import { eq } from "drizzle-orm";
import { payments } from "../../db/schema";
import type { Handlers } from "../../jobs/registry";
import { invalidateAvailability } from "../properties/service";
import { type ChargeOutcome, executeRefund, refundCancellation, settleCharge } from "./service";
import { TransientProviderError } from "./provider";
import { reconcileAndRecord } from "./reconcile";

export const paymentHandlers: Handlers = {
  // The charge key is derived from the payment id: a redelivered job (its worker killed after the
  // provider charged, before our commit) asks again with it and gets the first answer back.
  "payment.charge": async (job, deps) => {
    const [p] = await deps.db.select().from(payments).where(eq(payments.id, job.payload.paymentId));
    if (!p || p.status !== "processing") return;
    let outcome: ChargeOutcome;
    try {
      outcome = await deps.payments.charge({ key: `charge:${p.id}`, reference: p.id, amount: p.amount, currency: p.currency, paymentMethod: p.paymentMethod });
    } catch (err) {
      // Transient: retried with backoff by the jobs system; after the last attempt it is final.
      if (!(err instanceof TransientProviderError) || job.attempt < deps.config.jobMaxAttempts) throw err;
      deps.log.warn("charge failed transiently on its last attempt", { paymentId: p.id, attempt: job.attempt, error: err.message });
      outcome = { status: "failed", failureCode: "processing_error" };
    }
    await deps.db.update(payments).set({ attempts: job.attempt }).where(eq(payments.id, p.id));
    const settled = await deps.db.transaction((tx) => settleCharge(tx, deps.clock, p.id, outcome));
    if (settled.freed) await invalidateAvailability(deps);
  },
  "payment.refund": async (job, deps) => {
    await executeRefund(deps, job.payload.paymentId, job.payload.amount, { reason: "not_held", paymentId: job.payload.paymentId });
  },
  // The refund a cancellation owes (its amount was fixed by the bookings' refund rules at cancel time).
  "booking.refund": async (job, deps) => {
    await refundCancellation(deps, job.payload.bookingId, job.payload.amount);
  },
  "payments.reconcile": async (_job, deps) => {
    const found = await reconcileAndRecord(deps.db, deps.payments);
    if (found.length) deps.log.error("payments do not reconcile with the provider's ledger", { mismatches: found.length, first: found.slice(0, 5) });
  },
};
