// The changes time makes to bookings — a hold's 15 minutes run out (expired), a stay's checkout day
// passes (completed) — and the notifications every status change sends to guest and host.
//
// Each change is one UPDATE guarded by the status it leaves, so of any number of concurrent
// runs (the sweep, a read that found it overdue, a booking that ran into it) exactly one changes the row
// and only that one enqueues its notifications, in the same transaction.
import { and, eq, getTableColumns, inArray, lt, or, type SQL, sql } from "drizzle-orm";
import { afterCommit } from "../../db/after-commit";
import type { Db } from "../../db/client";
import { bookings, properties } from "../../db/schema";
import { wakeRelays } from "../../jobs/outbox";
import type { Clock } from "../../lib/clock";
import { dayOf } from "../../lib/dates";
import { type Notice, notifyWithin } from "../notifications/within";
import type { BookingRow } from "./dto";
import { lapsedHold, lapsedHoldNow } from "./holds";

export type BookingEvent =
  | "created"
  | "requested"
  | "confirmed"
  | "declined"
  | "cancelled"
  | "expired"
  | "request_expired"
  | "completed";

const wording: Record<BookingEvent, { guest: [string, string]; host: [string, string] }> = {
  created: {
    guest: ["Booking received", "Your nights are held for 15 minutes: pay to confirm the booking."],
    host: ["New booking", "A guest booked your property; it is confirmed once they pay."],
  },
  requested: {
    guest: [
      "Request sent",
      "Your payment is authorized, not charged: the host has until the request expires to accept.",
    ],
    host: ["New booking request", "A guest asks to book your property: accept or decline it before it expires."],
  },
  declined: {
    guest: ["Request declined", "The host declined your request; nothing was charged."],
    host: ["Request declined", "You declined a booking request; its nights are free again."],
  },
  request_expired: {
    guest: ["Request expired", "The host did not answer your request in time; nothing was charged."],
    host: ["Request expired", "A booking request at your property expired unanswered; its nights are free again."],
  },
  confirmed: {
    guest: ["Booking confirmed", "Your stay is confirmed."],
    host: ["Booking confirmed", "A stay at your property is confirmed."],
  },
  cancelled: {
    guest: ["Booking cancelled", "The booking was cancelled."],
    host: ["Booking cancelled", "A booking at your property was cancelled."],
  },
  expired: {
    guest: ["Hold expired", "The booking was not paid within 15 minutes; its nights are free again."],
    host: ["Hold expired", "An unpaid booking at your property expired; its nights are free again."],
  },
  // The guest's is the reminder to review, sent once, the day after checkout (when the stay completes).
  completed: {
    guest: ["How was your stay?", "Leave a review of your stay within 30 days of checkout."],
    host: ["Stay completed", "A guest's stay at your property is over: you can review your guest for 30 days."],
  },
};

/**
 * The notifications of one status change, the guest's and the host's, each keyed to be written at
 * most once (`notifyWithin` writes them in the change's transaction).
 * The guest hears of each change by e-mail too (the reminder to review included), except of what
 * they are doing at that moment on an unpaid hold: its creation (the e-mail that counts is the
 * confirmation, with the receipt) and — `guestEmail: false` — their own cancellation of it. So
 * holding and cancelling again and again mails no one; the in-app notifications stay.
 */
export function notificationsOf(
  event: BookingEvent,
  b: { id: string; guestId: string; hostId: string; checkIn: string; checkOut: string },
  { guestEmail = event !== "created" }: { guestEmail?: boolean } = {},
): Notice[] {
  return (["guest", "host"] as const).map((role) => {
    const [title, body] = wording[event][role];
    return {
      dedupeKey: `booking:${b.id}:${event}:${role}`,
      p: {
        userId: role === "guest" ? b.guestId : b.hostId,
        type: event === "completed" && role === "guest" ? "review_reminder" : `booking_${event}`,
        title,
        body: `${body} (${b.checkIn} – ${b.checkOut})`,
        data: { bookingId: b.id },
        email: role === "guest" && guestEmail,
      },
    };
  });
}

type Changed = BookingRow & { hostId: string };

/** An unpaid hold whose 15 minutes are up. */
const overdueHold = (now: Date) => lapsedHold(bookings, now, "pending_payment");
/** A request to book its host did not answer in time (nor accept: an accepted one is the capture's). */
const overdueRequest = (now: Date) => lapsedHold(bookings, now, "requested");
/** A confirmed stay whose checkout day has passed. */
const finishedStay = (now: Date) => and(eq(bookings.status, "confirmed"), lt(bookings.checkOut, dayOf(now))) as SQL;
/** Bookings that `settleDue` would change now. */
export const dueNow = (now: Date) => or(lapsedHold(bookings, now), finishedStay(now)) as SQL;

/** Which bookings a run looks at: some ids, or those overlapping nights of a property. */
export type Scope = { ids: string[] } | { propertyId: string; from: string; to: string } | "all";

const scoped = (scope: Scope): SQL | undefined => {
  if (scope === "all") return undefined;
  if ("ids" in scope) return inArray(bookings.id, scope.ids);
  return and(
    eq(bookings.propertyId, scope.propertyId),
    sql`daterange(${bookings.checkIn}, ${bookings.checkOut}) && daterange(${scope.from}::date, ${scope.to}::date)`,
  );
};

async function transition(
  tx: Db,
  now: Date,
  to: "expired" | "completed",
  due: SQL,
  scope: Scope,
  limit: number,
): Promise<Changed[]> {
  const candidates = tx
    .select({ id: bookings.id })
    .from(bookings)
    .where(and(due, scoped(scope)))
    .limit(limit);
  return tx
    .update(bookings)
    .set({ status: to, updatedAt: now })
    .from(properties)
    .where(and(eq(properties.id, bookings.propertyId), due, inArray(bookings.id, candidates)))
    .returning({ ...getTableColumns(bookings), hostId: properties.hostId });
}

export interface Settled {
  /** Unpaid holds and unanswered requests that expired (their nights freed). */
  expired: Changed[];
  completed: Changed[];
}

/**
 * Applies what time has done to the bookings in `scope` (at most `limit` of each kind): unpaid holds
 * and unanswered requests past expiresAt → expired (a request's authorization is voided by the
 * database's bookings_request_ended trigger, in this transaction); confirmed stays whose checkout
 * day has passed → completed. Writes their notifications in `tx`.
 */
export async function settleDue(tx: Db, clock: Clock, scope: Scope, limit = 500): Promise<Settled> {
  const now = clock.now();
  const expired = await transition(tx, now, "expired", overdueHold(now), scope, limit);
  const unanswered = await transition(tx, now, "expired", overdueRequest(now), scope, limit);
  const completed = await transition(tx, now, "completed", finishedStay(now), scope, limit);
  // Their payment.void jobs, written by the trigger, are due now.
  if (unanswered.length) afterCommit(tx, wakeRelays);
  await notifyWithin(tx, clock, [
    ...expired.flatMap((b) => notificationsOf("expired", b)),
    ...unanswered.flatMap((b) => notificationsOf("request_expired", b)),
    ...completed.flatMap((b) => notificationsOf("completed", b)),
  ]);
  return { expired: [...expired, ...unanswered], completed };
}

/** Whether time has changed this booking and `settleDue` would move it. */
export function isDue(b: Pick<BookingRow, "status" | "expiresAt" | "acceptedAt" | "checkOut">, now: Date): boolean {
  return lapsedHoldNow(b, now) || (b.status === "confirmed" && b.checkOut < dayOf(now));
}
