// How often a guest may place holds (date hoarding): MAX_PENDING_BOOKINGS caps how many unpaid
// holds one has at once, these cap how many one makes — per hour, and per listing per day — so
// cancelling and holding again cannot keep a calendar blocked for ever.
import { type SQL, type SQLWrapper, sql } from "drizzle-orm";
import { bookings } from "../../db/schema";
import type { Deps } from "../../dependencies";
import { admitAttempt, slidingReset } from "../../http/rate-limit";

const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** A hold the guest made: on which listing, and when (epoch ms). */
export type MadeHold = [propertyId: string, createdAtMs: number];

/**
 * The guest's holds made in the day up to `now` (placeholders `dayAgo`, `now`), as JSON text of
 * MadeHold pairs: a column of the booking's one read (their index by guest and creation time).
 */
export function holdsMadeField(guestId: SQLWrapper): SQL<string> {
  return sql<string>`(select coalesce(json_agg(json_build_array(m.property_id, (extract(epoch from m.created_at) * 1000)::float8)), '[]')::text
    from ${bookings} m where m.guest_id = ${guestId}
      and m.created_at > ${sql.placeholder("dayAgo")}::timestamptz and m.created_at <= ${sql.placeholder("now")}::timestamptz)`;
}

/**
 * Whether the guest may place one more hold on `propertyId`: BOOKING_HOLDS_PER_HOUR and
 * BOOKING_HOLDS_PER_LISTING_PER_DAY over sliding windows of the service clock (429 rate_limited
 * past either), answering the RateLimit-* headers of the tighter one.
 *
 * Counted from the guest's bookings themselves (`holdsMadeField`): only a hold made counts,
 * whatever became of it (paid, cancelled, expired). A refusal (422, 404, 409 dates_unavailable,
 * 429) makes none, blocks no night, and tells no more of the calendar than the public
 * availability route; an idempotent replay makes none either. Read before the booking's turn, so
 * a burst of parallel requests may pass together: at most MAX_PENDING_BOOKINGS of them become
 * holds (that limit is counted under the guest's row lock), so the overshoot is bounded.
 */
export function admitHold(
  made: MadeHold[],
  { propertyId, now }: { propertyId: string; now: Date },
  config: Deps["config"],
): Record<string, string> {
  const at = now.getTime();
  const times = (holds: MadeHold[]) => holds.map(([, t]) => t).sort((a, b) => a - b);
  const lastHour = times(made.filter(([, t]) => t > at - HOUR_MS));
  const here = times(made.filter(([p]) => p === propertyId));
  const { bookingHoldsPerHour: perHour, bookingHoldsPerListingPerDay: perListing } = config;
  return admitAttempt(
    [
      { limit: perHour, used: lastHour.length, resetSeconds: slidingReset(lastHour, perHour, HOUR_MS, at) },
      { limit: perListing, used: here.length, resetSeconds: slidingReset(here, perListing, DAY_MS, at) },
    ],
    (_broken, wait) => `You placed too many holds recently; try again in ${wait} s`,
  );
}
