// How much of what was paid goes back when a booking is cancelled (contract: Bookings → Refund).

export type CancellationPolicy = "flexible" | "moderate" | "strict";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Check-in is at 15:00 on its day; the contract accepts UTC for the property's local time. */
export const checkInInstant = (checkIn: string): number => Date.parse(`${checkIn}T15:00:00Z`);

/** Half of an amount in minor units, an odd cent going to the guest. */
const half = (amount: number) => Math.ceil(amount / 2);

/**
 * The refund for a cancellation at `cancelledAt`. "Until N before check-in" includes the instant
 * itself: cancelling exactly 24 h before a flexible stay's check-in is still a full refund.
 *
 * | policy   | guest, at or before the cutoff | guest, after it | host |
 * | flexible | full (24 h)                    | nothing         | full |
 * | moderate | full (5 days)                  | 50 %            | full |
 * | strict   | 50 % (7 days)                  | nothing         | full |
 *
 * Nothing was paid (an unpaid hold) → nothing.
 */
export function refundFor(
  policy: CancellationPolicy,
  paid: number,
  by: "guest" | "host",
  cancelledAt: Date,
  checkIn: string,
): number {
  if (paid <= 0) return 0;
  if (by === "host") return paid;
  const before = checkInInstant(checkIn) - cancelledAt.getTime();
  switch (policy) {
    case "flexible":
      return before >= DAY ? paid : 0;
    case "moderate":
      return before >= 5 * DAY ? paid : half(paid);
    case "strict":
      return before >= 7 * DAY ? half(paid) : 0;
  }
}
