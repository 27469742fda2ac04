// Whether a stay holds its nights: the one definition, owned by bookings, used by every read of
// availability (search, the calendar, the terms a booking is priced by) and by the lifecycle.
//
// A booking holds its nights while it is confirmed, or while it is pending_payment or requested
// (request-to-book: paid by an authorization, awaiting the host) and its hold has not run out
// (expiresAt > now). A hold past its expiresAt frees its nights at once, even before the sweep
// (every 30 s) marks it expired.
//
// The database has its own copies, which migrations that have landed keep as they are:
// bookings_no_overlap (0028) and bookings_active_idx (0027) name HOLDING_STATUSES, and
// stayhub_create_booking (0019) counts a guest's live holds with `expires_at > p_now`.
// tests/integration/holds.test.ts ties them to this file.
import { and, eq, inArray, isNull, lte, type SQL, type SQLWrapper, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { bookings } from "../../db/schema";
import type { BookingRow } from "./dto";
import type { BookingStatus as Status } from "./schemas";

/** The statuses of a booking that may hold nights (what the exclusion constraint and the index name). */
export const HOLDING_STATUSES = ["pending_payment", "requested", "confirmed"] as const satisfies readonly Status[];

/** Of those, the ones whose hold runs out at expiresAt: an unpaid hold, and a request the host has not answered. */
export const EXPIRING_STATUSES = ["pending_payment", "requested"] as const satisfies readonly Status[];

/** Of those, the one that holds until the stay is over (the sweep completes it). */
export const LASTING_STATUS = "confirmed" satisfies Status;

/** Where a booking's columns are read from: a table's columns, or a raw alias (see `bookingsAs`). */
export interface BookingRefs {
  status: SQLWrapper;
  expiresAt: SQLWrapper;
  acceptedAt: SQLWrapper;
}

/**
 * The columns of `bookings` under a plain SQL alias (`from bookings b`), for statements written as
 * SQL text. Written out qualified, as the text around them is.
 */
export function bookingsAs(alias: string): BookingRefs {
  return {
    status: sql.raw(`${alias}.${bookings.status.name}`),
    expiresAt: sql.raw(`${alias}.${bookings.expiresAt.name}`),
    acceptedAt: sql.raw(`${alias}.${bookings.acceptedAt.name}`),
  };
}

// Literals, not parameters: the partial index (bookings_active_idx) and the exclusion constraint
// are matched on the statement's text, also by a generic plan.
const statusList = sql.raw(HOLDING_STATUSES.map((s) => `'${s}'`).join(", "));

/** The status half: a booking whose status may hold nights (`status in ('pending_payment', 'requested', 'confirmed')`). */
export function inHoldingStatus(b: BookingRefs = bookings): SQL {
  return sql`${b.status} in (${statusList})`;
}

/**
 * The time half, for a booking in a holding status: confirmed, or its hold not yet run out, or a
 * request its host accepted (held until its capture ends it, whatever its expiresAt).
 * `now` is a bound value (an ISO string, a placeholder); it is compared as a timestamptz.
 */
export function stillHolding(b: BookingRefs, now: SQLWrapper | string): SQL {
  return sql`(${b.status} = ${sql.raw(`'${LASTING_STATUS}'`)} or ${b.expiresAt} > ${now}::timestamptz or ${b.acceptedAt} is not null)`;
}

/** A booking that holds its nights at `now`: both halves. */
export function holdsNights(b: BookingRefs, now: SQLWrapper | string): SQL {
  return sql`${inHoldingStatus(b)} and ${stillHolding(b, now)}`;
}

/**
 * A hold whose time is up: in an expiring status (`status`, or either when none is given), and no longer
 * holding (the lifecycle expires it).
 */
export function lapsedHold(
  b: { status: PgColumn; expiresAt: PgColumn; acceptedAt: PgColumn },
  now: Date,
  status?: (typeof EXPIRING_STATUSES)[number],
): SQL {
  const which = status === undefined ? inArray(b.status, [...EXPIRING_STATUSES]) : eq(b.status, status);
  // A request its host accepted is the capture's to end (confirmed, or expired if it is refused).
  return and(which, lte(b.expiresAt, now), isNull(b.acceptedAt)) as SQL;
}

const expiring = (status: string) => (EXPIRING_STATUSES as readonly string[]).includes(status);

/** `holdsNights` for a row already read. */
export function holdsNightsNow(b: Pick<BookingRow, "status" | "expiresAt" | "acceptedAt">, now: Date): boolean {
  if (!(HOLDING_STATUSES as readonly string[]).includes(b.status)) return false;
  return !expiring(b.status) || b.expiresAt.getTime() > now.getTime() || b.acceptedAt !== null;
}

/** `lapsedHold` for a row already read. */
export function lapsedHoldNow(b: Pick<BookingRow, "status" | "expiresAt" | "acceptedAt">, now: Date): boolean {
  return expiring(b.status) && b.expiresAt.getTime() <= now.getTime() && b.acceptedAt === null;
}
