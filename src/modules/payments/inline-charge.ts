// The charge of a new payment, run by the instance that took it right after its commit: the
// provider is asked outside any transaction, and the outcome settled in one (payment, booking,
// notifications, e-mail job) that also marks the backstop job done. The payment's
// `payment.charge` job, written with the payment but due only BACKSTOP_MS later, charges it when
// this did not finish (a crash, a provider that did not answer): under the same provider key, and
// settled only from processing, so the payment is charged and settled once either way. Started
// by payBookingOnce (routes.ts) with the payment payBooking made.
import { onChange } from "../../cache/invalidation";
import { together } from "../../db/together";
import type { Deps } from "../../dependencies";
import { markDone, runNow } from "../../jobs/outbox";
import { sendEmailsNow } from "../notifications/service";
import { BACKSTOP_MS, chargeJobKey, inlineStarted } from "./backstop";
import type { PaymentRow } from "./dto";
import { settleCharge, takePayment } from "./service";
import { timingsOf } from "./timings";

/**
 * Charges `p` (just committed, processing) and settles it, in the background. Any failure (a
 * transient provider error included) is left to the backstop job, made due at once: it retries
 * with backoff and asks the provider what became of the key.
 */
export function chargeInline(deps: Deps, p: PaymentRow): Promise<void> {
  const ended = inlineStarted();
  return (async () => {
    try {
      const outcome = await takePayment(deps, p);
      // The settlement's e-mails are sent from here too: their job is a backstop, due later.
      const emailsAt = new Date(deps.clock.now().getTime() + BACKSTOP_MS);
      const settled = await deps.db.transaction(async (tx) => {
        const [s] = await together(
          settleCharge(tx, deps.clock, p.id, outcome, { attempts: 1, emailsAt, ...timingsOf(deps.config) }),
          markDone(tx, chargeJobKey(p.id)),
        );
        return s;
      });
      if (settled.freed) await onChange(deps, { kind: "nights.freed" });
      await sendEmailsNow(settled.emails, deps).catch((err: Error) =>
        deps.log.warn("settlement e-mails left to their job", { paymentId: p.id, error: err.message }),
      );
    } catch (err) {
      deps.log.warn("inline charge left to its job", { paymentId: p.id, error: (err as Error).message });
      await runNow(deps.db, deps.clock, chargeJobKey(p.id)).catch(() => {});
    } finally {
      ended();
    }
  })();
}
