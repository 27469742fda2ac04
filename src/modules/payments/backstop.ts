// A new payment's charge job as the backstop of its inline charge (inline-charge.ts): its key,
// how long it waits, and whether this process takes one more payment inline.
import type { Config } from "../../config";

/** How long the backstop job waits before it charges a payment the inline charge left processing. */
export const BACKSTOP_MS = 60_000;
/** Inline charges in flight in this process at most; past it, a payment's job charges it at once. */
const MAX_INLINE = 256;

let inFlight = 0;

/** The dedupe key of a payment's charge job (the first one; the sweep's carry a slot). */
export const chargeJobKey = (paymentId: string) => `payment:${paymentId}:charge`;

/** The provider's key of a payment's charge (or authorization). */
export const chargeKey = (paymentId: string) => `charge:${paymentId}`;

/** The dedupe key of an accepted request's capture job. */
export const captureJobKey = (paymentId: string) => `payment:${paymentId}:capture`;

/** Whether a payment made now is charged inline (PAYMENT_CHARGE_INLINE, and room for one more). */
export const chargesInline = (config: Pick<Config, "paymentChargeInline">): boolean =>
  config.paymentChargeInline && inFlight < MAX_INLINE;

/** Counts an inline charge in flight until the function it returns is called. */
export function inlineStarted(): () => void {
  inFlight++;
  return () => {
    inFlight--;
  };
}
