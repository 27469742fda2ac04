// Card testing (OWASP API6): how many payments a guest may attempt — per booking, per hour, and
// how many may have failed in the last hour. Counted from the payments table itself: a failure is
// known only when the charge job (or a webhook) settles it, and the row it writes is the count —
// no counter beside it that a worker thread, another instance or a lost Redis could miss.
import { and, eq, gt, or } from "drizzle-orm";
import type { Config } from "../../config";
import type { Db } from "../../db/client";
import { bookings, payments } from "../../db/schema";
import { admitAttempt, type CountedLimit, slidingReset } from "../../http/rate-limit";
import { HOLD_MS } from "../bookings/service";

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
  const since = new Date(at - HOUR_MS);
  // A payment is made while its booking's hold lives: one made in the last hour belongs to a
  // booking created at most HOLD_MS before that (the guest's bookings index finds them).
  const rows = await tx
    .select({ bookingId: payments.bookingId, status: payments.status, createdAt: payments.createdAt })
    .from(payments)
    .innerJoin(bookings, eq(bookings.id, payments.bookingId))
    .where(
      and(
        eq(bookings.guestId, guestId),
        or(
          eq(payments.bookingId, booking.id),
          and(gt(bookings.createdAt, new Date(since.getTime() - HOLD_MS)), gt(payments.createdAt, since)),
        ),
      ),
    )
    .orderBy(payments.createdAt);
  const recent = rows.filter((r) => r.createdAt > since && r.createdAt <= now);
  const attempts = recent.map((r) => r.createdAt.getTime());
  const failures = recent.filter((r) => r.status === "failed").map((r) => r.createdAt.getTime());
  const { paymentAttemptsPerBooking: perBooking, paymentAttemptsPerUserPerHour: perHour } = config;
  const { paymentFailuresPerUserPerHour: failuresPerHour } = config;
  const onBooking: CountedLimit = {
    limit: perBooking,
    used: rows.filter((r) => r.bookingId === booking.id).length,
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
