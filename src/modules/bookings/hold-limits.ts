// How often a guest may place holds (date hoarding): MAX_PENDING_BOOKINGS caps how many unpaid
// holds one has at once, these cap how many one makes — per hour, and per listing per day — so
// cancelling and holding again cannot keep a calendar blocked for ever.
import { and, eq, gt, lte } from "drizzle-orm";
import type { Db } from "../../db/client";
import { bookings } from "../../db/schema";
import type { Deps } from "../../dependencies";
import { admitAttempt, slidingReset } from "../../http/rate-limit";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Whether the guest may place one more hold on `propertyId`: BOOKING_HOLDS_PER_HOUR and
 * BOOKING_HOLDS_PER_LISTING_PER_DAY over sliding windows of the service clock (429 rate_limited
 * past either), answering the RateLimit-* headers of the tighter one.
 *
 * Counted from the guest's bookings themselves (their index by guest and creation time): only a
 * hold made counts, whatever became of it (paid, cancelled, expired). A refusal (422, 404, 409
 * dates_unavailable, 429) makes none, blocks no night, and tells no more of the calendar than the
 * public availability route; an idempotent replay makes none either. Read before the booking's
 * turn, so a burst of parallel requests may pass together: at most MAX_PENDING_BOOKINGS of them
 * become holds (that limit is counted under the guest's row lock), so the overshoot is bounded.
 */
export async function admitHold(
  db: Db,
  { guestId, propertyId, now }: { guestId: string; propertyId: string; now: Date },
  config: Deps["config"],
): Promise<Record<string, string>> {
  const at = now.getTime();
  const made = await db
    .select({ propertyId: bookings.propertyId, createdAt: bookings.createdAt })
    .from(bookings)
    .where(
      and(eq(bookings.guestId, guestId), gt(bookings.createdAt, new Date(at - DAY_MS)), lte(bookings.createdAt, now)),
    )
    .orderBy(bookings.createdAt);
  const lastHour = made.map((b) => b.createdAt.getTime()).filter((t) => t > at - HOUR_MS);
  const here = made.filter((b) => b.propertyId === propertyId).map((b) => b.createdAt.getTime());
  const { bookingHoldsPerHour: perHour, bookingHoldsPerListingPerDay: perListing } = config;
  return admitAttempt(
    [
      { limit: perHour, used: lastHour.length, resetSeconds: slidingReset(lastHour, perHour, HOUR_MS, at) },
      { limit: perListing, used: here.length, resetSeconds: slidingReset(here, perListing, DAY_MS, at) },
    ],
    (_broken, wait) => `You placed too many holds recently; try again in ${wait} s`,
  );
}
