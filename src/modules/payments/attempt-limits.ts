// Card testing (OWASP API6): how many payments a guest may attempt — per booking, per hour, and
// how many may have failed in the last hour. Counted from the payments table itself: a failure is
// known only when the charge job (or a webhook) settles it, and the row it writes is the count —
// no counter beside it that a worker thread, another instance or a lost Redis could miss.
import { and, eq, gt, lte } from "drizzle-orm";
import type { Config } from "../../config";
import type { Db } from "../../db/client";
import { payments } from "../../db/schema";
import { together } from "../../db/together";
import { admitAttempt, type CountedLimit, slidingReset } from "../../http/rate-limit";

const HOUR_MS = 3_600_000;

/**
 * Checks a new payment attempt of `guestId` on `booking` against PAYMENT_ATTEMPTS_PER_BOOKING,
 * PAYMENT_ATTEMPTS_PER_USER_PER_HOUR and PAYMENT_FAILURES_PER_USER_PER_HOUR (429 rate_limited past
 * any), inside the verb's transaction, which holds the booking's row: attempts on one booking are
 * counted one at a time, on several at most as many at once as the guest holds unpaid bookings.
 * Answers the headers of the tightest limit. Only attempts made count (a replayed request makes
 * none); one that would succeed is refused only when the guest is over a limit already.
 */
export async function admitPayment(
  tx: Db,
  { guestId, booking }: { guestId: string; booking: { id: string; expiresAt: Date } },
  config: Config,
  now: Date,
): Promise<Record<string, string>> {
  const at = now.getTime();
  const [madeHere, recent] = await together(...attemptQueries(tx, guestId, booking.id, now));
  const attempts = recent.map((r) => r.createdAt.getTime());
  const failures = recent.filter((r) => r.status === "failed").map((r) => r.createdAt.getTime());
  const { paymentAttemptsPerBooking: perBooking, paymentAttemptsPerUserPerHour: perHour } = config;
  const { paymentFailuresPerUserPerHour: failuresPerHour } = config;
  const onBooking: CountedLimit = {
    limit: perBooking,
    used: madeHere.length,
    // The booking's attempts end with its hold.
    resetSeconds: Math.max(1, Math.ceil((booking.expiresAt.getTime() - at) / 1000)),
  };
  return admitAttempt(
    [
      onBooking,
      { limit: perHour, used: attempts.length, resetSeconds: slidingReset(attempts, perHour, HOUR_MS, at) },
      {
        limit: failuresPerHour,
        used: failures.length,
        resetSeconds: slidingReset(failures, failuresPerHour, HOUR_MS, at),
      },
    ],
    (broken, wait) =>
      broken === onBooking
        ? "Too many payment attempts for this booking; it takes no more (book again once its hold has ended)"
        : `Too many payment attempts recently; try again in ${wait} s`,
  );
}

/**
 * The two reads admitPayment counts from, each on its own index: the booking's payments (by
 * booking), and the guest's payments of the last hour (by payer: only a booking's guest pays it).
 * Read through the guest's bookings instead, this was the costliest statement of a payment (1.6 ms
 * of PostgreSQL at 32 clients, for guests with many bookings in the hour).
 */
export function attemptQueries(tx: Db, guestId: string, bookingId: string, now: Date) {
  const since = new Date(now.getTime() - HOUR_MS);
  return [
    tx.select({ id: payments.id }).from(payments).where(eq(payments.bookingId, bookingId)),
    tx
      .select({ status: payments.status, createdAt: payments.createdAt })
      .from(payments)
      .where(and(eq(payments.payerId, guestId), gt(payments.createdAt, since), lte(payments.createdAt, now)))
      .orderBy(payments.createdAt),
  ] as const;
}
