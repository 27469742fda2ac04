// Booking verbs: create (price, rules, holds limit, no overlap), read, list, cancel. Each verb
// starts with who may do it; what a caller may not see is answered like what does not exist.
import { and, eq, type SQL, sql } from "drizzle-orm";
import type { Static } from "elysia";
import { onChange } from "../../cache/invalidation";
import { afterCommit } from "../../db/after-commit";
import type { Db } from "../../db/client";
import { DEADLOCK_DETECTED, EXCLUSION_VIOLATION, sqlState } from "../../db/errors";
import { newestFirst } from "../../db/newest-first";
import { perDatabase } from "../../db/prepared";
import { rowsOf } from "../../db/rows";
import { bookings, properties, users } from "../../db/schema";
import { together } from "../../db/together";
import type { Deps } from "../../dependencies";
import { AppError, conflict, notFound } from "../../http/errors";
import type { IdempotencyClaim } from "../../http/idempotency";
import type { Limited } from "../../http/rate-limit";
import { enqueueMany, type JobSpec, outboxRowsJson, wakeRelays } from "../../jobs/outbox";
import { dayOf, daysBetween } from "../../lib/dates";
import { isUuid } from "../../lib/ids";
import { type Actor, actingAs, type Caller, requireActive, revoked } from "../auth/actor";
import { requireVerifiedEmail } from "../auth/email-verification";
import { emailJobOf, insertNotices, noticesJson } from "../notifications/within";
import {
  listingTermsColumns,
  overridesOf,
  type StayTermsRow,
  staysOf,
  taxesOf,
  termsOf,
  termsVersionOf,
} from "../properties/calendar";
import { bookingFor } from "./access";
import { type BookingDtoValue, type BookingRow, priceColumns, toBookingDto } from "./dto";
import { admitHold, DAY_MS, holdsMadeField, type MadeHold } from "./hold-limits";
import { dueNow, isDue, notificationsOf, settleDue } from "./lifecycle";
import { type CancellationPolicy, refundFor } from "./refunds";
import type { BookingStatus, CreateBookingBody } from "./schemas";
import { checkListingTerms, checkNotBlocked, checkStayDates, priceOfStay } from "./stay-rules";

/** The advisory-lock key space of "a booking of this property is being made" (the other key is the property id's hash). */
export const BOOKING_LOCK_SPACE = 7_411_338;

/**
 * Waits for (and then holds, to the end of the transaction) the booking turn of each property:
 * bookings of them being made finish first, later ones read what this transaction wrote. Taken in
 * the order of the locks' keys, so two such callers may wait for each other but never in a circle.
 */
export async function lockBookingsOf(tx: Db, propertyIds: string[]): Promise<void> {
  if (propertyIds.length === 0) return;
  const ids = sql.join(
    [...propertyIds].sort().map((id) => sql`${id}::text`),
    sql`, `,
  );
  await tx.execute(
    sql`select pg_advisory_xact_lock(${BOOKING_LOCK_SPACE}::int4, hashtext(id)) from unnest(array[${ids}]) as id order by hashtext(id), id`,
  );
}

/** How long an unpaid booking holds its nights. */
export const HOLD_MS = 15 * 60_000;
/** The longest stay anyone can book (listings' maxNights is at most this). */

const unavailable = () =>
  new AppError(409, "dates_unavailable", "Those nights are no longer available; pick other dates");

/** 429 while the guest holds `max` unpaid bookings; Retry-After says when the first of them ends. */
function tooManyHolds(held: { n: number; firstEnds: Date | null }, max: number, now: Date): AppError {
  const wait = held.firstEnds
    ? Math.max(1, Math.ceil((held.firstEnds.getTime() - now.getTime()) / 1000))
    : HOLD_MS / 1000;
  return new AppError(
    429,
    "too_many_holds",
    `You hold ${max} unpaid bookings already; pay for or cancel one before booking again`,
    undefined,
    {
      "retry-after": String(wait),
    },
  );
}

export async function createBooking(
  {
    caller,
    input,
    claim,
  }: { caller: Caller; input: Static<typeof CreateBookingBody>; claim?: IdempotencyClaim | null },
  deps: Deps,
): Promise<Limited<BookingDtoValue>> {
  const now = deps.clock.now();
  // Malformed or unknown, an id that names no property is the same 404 (after the caller's checks).
  const propertyId = isUuid(input.propertyId) ? input.propertyId.toLowerCase() : NO_PROPERTY;
  const nights = daysBetween(input.checkIn, input.checkOut);
  const booking = await madeOnce({ caller, input, propertyId, nights, now, claim }, deps);
  await onChange(deps, { kind: "nights.taken", propertyId: booking.value.propertyId });
  return booking;
}

/** A property id no property has: what a malformed id is looked up as (the caller is still checked). */
const NO_PROPERTY = "00000000-0000-0000-0000-000000000000";

/**
 * Bookings of one property take turns (stayhub_create_booking's first statement), so two
 * overlapping inserts no longer wait on each other's exclusion check; a deadlock elsewhere (a
 * settling transaction, a host's change) is still simply run again.
 */
async function madeOnce(attempt: Attempt, deps: Deps): Promise<Limited<BookingDtoValue>> {
  for (let deadlocks = 0; ; ) {
    try {
      return await insertBooking(attempt, deps);
    } catch (err) {
      const state = sqlState(err);
      if (state === DEADLOCK_DETECTED && deadlocks++ < 5) {
        await Bun.sleep(Math.random() * 5 * deadlocks);
        continue;
      }
      // The exclusion constraint decided: another stay, made since the terms were read, holds one of these nights.
      if (state === EXCLUSION_VIOLATION) throw unavailable();
      throw err;
    }
  }
}

/** How often the terms are read again when they changed between their read and the booking's turn. */
const TERMS_RETRIES = 5;

/** The outcome `stayhub_create_booking` answers (drizzle/0019, 0021). */
interface Made {
  outcome: string;
  held: number;
  first_ends: string | Date | null;
}

interface Attempt {
  caller: Caller;
  input: Static<typeof CreateBookingBody>;
  propertyId: string;
  nights: number;
  now: Date;
  claim?: IdempotencyClaim | null;
}

/**
 * Everything a booking is judged by, in one statement (one snapshot, no lock): the guest's
 * account (status, credential version, e-mail verification), the stay's listing terms and
 * whether stays hold its nights (properties/calendar.ts's parts of a stay's terms; null columns
 * when there is no such property) — and, only when no stay holds them, the holds the guest made
 * in the last day, the nights' overrides and the terms' version. A stay seen taken is refused
 * (409) without them: under contention most attempts are, and those three cost half the read.
 */
const bookingContextQuery = perDatabase((db) => {
  const seen = db
    .select({
      guestId: sql<string>`${users.id}`.as("guest_id"),
      guestStatus: sql<string>`${users.status}`.as("guest_status"),
      guestVersion: users.credentialVersion,
      guestVerifiedAt: users.emailVerifiedAt,
      ...listingTermsColumns(),
      stays: staysOf(sql`${properties}.id`).as("stays"),
    })
    .from(users)
    .leftJoin(properties, eq(properties.id, sql.placeholder("id")))
    .where(eq(users.id, sql.placeholder("guest")))
    // A fence: the planner must not inline `stays` into each CASE below (it would run it again).
    .offset(0)
    .as("seen");
  // Qualified by hand: drizzle writes a subquery's aliased field unqualified, and inside the
  // subqueries below "guest_id" or "id" would name the bookings' or the nights' own column.
  const [guest, property] = [sql.raw('"seen"."guest_id"'), sql.raw('"seen"."id"')];
  const ifFree = <T>(field: SQL<T>) => sql<T | null>`case when ${seen.stays} is distinct from 'live' then ${field} end`;
  return db
    .select({
      guestStatus: seen.guestStatus,
      guestVersion: seen.guestVersion,
      guestVerifiedAt: seen.guestVerifiedAt,
      id: seen.id,
      hostId: seen.hostId,
      status: seen.status,
      pricePerNight: seen.pricePerNight,
      cleaningFee: seen.cleaningFee,
      currency: seen.currency,
      maxGuests: seen.maxGuests,
      minNights: seen.minNights,
      maxNights: seen.maxNights,
      cancellationPolicy: seen.cancellationPolicy,
      weekendPrice: seen.weekendPrice,
      weeklyDiscountPercent: seen.weeklyDiscountPercent,
      monthlyDiscountPercent: seen.monthlyDiscountPercent,
      guestsIncluded: seen.guestsIncluded,
      extraGuestFee: seen.extraGuestFee,
      instantBook: seen.instantBook,
      stays: seen.stays,
      made: ifFree(holdsMadeField(guest)),
      overrides: ifFree(overridesOf(property)),
      taxes: ifFree(taxesOf(property)),
      version: ifFree(termsVersionOf(property)),
    })
    .from(seen)
    .prepare("booking_context");
});

async function bookingContext(db: Db, a: Attempt) {
  const { checkIn: from, checkOut: to } = a.input;
  const [row] = await bookingContextQuery(db).execute({
    guest: a.caller.id,
    id: a.propertyId,
    from,
    to,
    now: a.now.toISOString(),
    dayAgo: new Date(a.now.getTime() - DAY_MS).toISOString(),
  });
  if (!row) return { guest: undefined, made: "[]", terms: undefined };
  const { guestStatus, guestVersion, guestVerifiedAt, made, overrides, taxes, ...terms } = row;
  const guest = { status: guestStatus, credentialVersion: guestVersion, emailVerifiedAt: guestVerifiedAt };
  // When a stay holds the nights, made, overrides and version were not read: the attempt is a 409.
  const read = {
    ...terms,
    overrides: overrides ?? "[]",
    taxes: taxes ?? "[]",
    version: terms.version ?? "",
  } as StayTermsRow;
  return { guest, made: made ?? "[]", terms: terms.id === null ? undefined : termsOf(read, from, to) };
}

/**
 * One attempt in two round trips and one commit: everything it is judged by read in one
 * statement (`bookingContext`), the rules applied and the stay priced here, then the booking made
 * by one call of `stayhub_create_booking`, which under the property's booking turn takes the
 * guest's row (status and credential version again), counts their holds, checks the terms are
 * still the ones read, and inserts the booking with its notifications — one statement's
 * transaction (with an Idempotency-Key, a transaction that also records the answer). No job: the
 * hold's expiry is the bookings sweep's, and its creation mails no one.
 */
async function insertBooking(a: Attempt, deps: Deps): Promise<Limited<BookingDtoValue>> {
  const { caller, input, propertyId, nights, now, claim } = a;
  const { checkIn, checkOut } = input;
  for (let attempt = 1, settles = 0; ; attempt++) {
    if (attempt > 1) await Bun.sleep(Math.random() * 2 * attempt);
    const context = await bookingContext(deps.db, a);
    // Who may book first: the token's account, active, its session not revoked, its address verified.
    const guest = actingAs(context.guest, caller);
    requireVerifiedEmail(guest, deps, "book a stay");
    checkStayDates({ checkIn, nights, today: dayOf(now) });
    const { terms } = context;
    if (!terms) throw notFound("Property");
    checkListingTerms(terms, { nights, guests: input.guests, callerId: caller.id });
    // A stay seen holding these nights is a refusal without a try (the exclusion constraint alone
    // decides what is accepted); the read did not fetch what the rest of the judgement needs.
    if (terms.stays === "live") throw unavailable();
    // How many holds the guest made lately (only holds made count): 429 rate_limited past a limit.
    const headers = admitHold(JSON.parse(context.made) as MadeHold[], { propertyId, now }, deps.config);
    checkNotBlocked(terms);
    const price = priceOfStay(terms, input.guests, deps.config.hostFeePercent);
    // Nights only holds whose time is up held: those are expired first, then the terms read again.
    if (terms.stays === "overdue" && settles++ < 2) {
      const { expired } = await deps.db.transaction((tx) =>
        settleDue(tx, deps.clock, { propertyId, from: checkIn, to: checkOut }),
      );
      if (expired.length) await onChange(deps, { kind: "nights.freed" });
      continue;
    }
    const expiresAt = new Date(now.getTime() + HOLD_MS);
    const row: BookingRow = {
      id: Bun.randomUUIDv7(),
      propertyId,
      guestId: caller.id,
      checkIn,
      checkOut,
      guests: input.guests,
      status: "pending_payment",
      ...priceColumns(price),
      cancellationPolicy: terms.cancellationPolicy,
      expiresAt,
      acceptedAt: null,
      cancelledAt: null,
      cancelledBy: null,
      cancelReason: null,
      refundAmount: null,
      createdAt: now,
      updatedAt: now,
    };
    const notices = notificationsOf("created", { ...row, hostId: terms.hostId });
    const jobs = outboxRowsJson(deps.clock, emailJobOf(notices));
    const make = (db: Db) =>
      db
        .execute(
          sql`select outcome, held, first_ends from stayhub_create_booking(${BOOKING_LOCK_SPACE}::int4, ${row.id}::uuid, ${propertyId}::uuid,
            ${caller.id}::uuid, ${checkIn}::date, ${checkOut}::date, ${row.guests}::int, ${row.nightlyTotal}::int, ${row.cleaningFee}::int,
            ${row.serviceFee}::int, ${row.total}::int, ${row.currency}::text, ${row.cancellationPolicy}::text, ${expiresAt.toISOString()}::timestamptz,
            ${now.toISOString()}::timestamptz, ${terms.version}::text, ${deps.config.maxPendingBookings}::int, ${jobs}::text::jsonb,
            ${noticesJson(deps.clock, notices)}::text::jsonb, ${caller.credentialVersion}::int, ${row.discountKind}::text,
            ${row.discountPercent}::int, ${row.discountAmount}::int, ${row.extraGuestFee}::int, ${JSON.stringify(row.taxes)}::text::jsonb,
            ${row.taxTotal}::int, ${row.hostPayout}::int)`,
        )
        .then((r) => {
          const [m] = rowsOf<Made>(r);
          if (!m) throw new Error("stayhub_create_booking answered nothing");
          return m;
        });
    const dto = toBookingDto(row);
    // Without a key the call is its own transaction; with one, the answer is recorded in the same.
    const made = claim
      ? await deps.db.transaction(async (tx) => {
          const m = await make(tx);
          if (m.outcome === "booked") await claim.complete(tx, dto);
          return m;
        })
      : await make(deps.db);
    switch (made.outcome) {
      case "booked":
        // A creation mails no one today; were an e-mail asked for, its job is in the outbox.
        if (jobs !== "[]") afterCommit(deps.db, wakeRelays);
        return { value: dto, headers };
      case "no_guest":
      case "revoked":
        // The account went away, or its sessions were revoked, since the read.
        throw revoked();
      case "too_many_holds":
        throw tooManyHolds(
          { n: made.held, firstEnds: made.first_ends ? new Date(made.first_ends) : null },
          deps.config.maxPendingBookings,
          now,
        );
      case "terms_changed":
        // The host changed the listing or these nights meanwhile: judged again by what they are now.
        if (attempt < TERMS_RETRIES) continue;
        throw new AppError(
          409,
          "conflict",
          "The listing was being changed while this booking was made; retry it",
          undefined,
          { "retry-after": "1" },
        );
      default:
        // The guest's account went inactive (deleted or suspended) since the request was let in.
        requireActive({ status: made.outcome });
        throw new Error(`stayhub_create_booking answered ${made.outcome}`);
    }
  }
}

/** Applies what time has done to these bookings, then and only then are they read. */
async function settleIds(ids: string[], deps: Deps): Promise<void> {
  if (ids.length === 0) return;
  const changed = await deps.db.transaction((tx) => settleDue(tx, deps.clock, { ids }));
  if (changed.expired.length) await onChange(deps, { kind: "nights.freed" });
}

export async function getBooking({ actor, id }: { actor: Actor; id: string }, deps: Deps): Promise<BookingDtoValue> {
  const { booking } = await bookingFor(actor, id, deps.db);
  // A read never shows a hold whose time ran out as held, even before the sweep has marked it.
  if (!isDue(booking, deps.clock.now())) return toBookingDto(booking);
  await settleIds([booking.id], deps);
  const [current] = await deps.db.select().from(bookings).where(eq(bookings.id, booking.id));
  return toBookingDto(current ?? booking);
}

export async function listBookings(
  {
    actor,
    as,
    status,
    limit,
    cursor,
  }: { actor: Actor; as: "guest" | "host"; status?: BookingStatus; limit: number; cursor?: string },
  deps: Deps,
): Promise<{ data: BookingDtoValue[]; nextCursor: string | null }> {
  const keyset = newestFirst(bookings, limit, cursor);
  const mine = () => {
    const q = deps.db.select({ booking: bookings }).from(bookings);
    return as === "host" ? q.innerJoin(properties, eq(properties.id, bookings.propertyId)) : q;
  };
  const whose: SQL = as === "guest" ? eq(bookings.guestId, actor.id) : eq(properties.hostId, actor.id);
  // What time has changed is applied first, so the page and its status filter say what is true now.
  const due = await mine()
    .where(and(whose, dueNow(deps.clock.now())))
    .limit(500);
  await settleIds(
    due.map((r) => r.booking.id),
    deps,
  );
  const rows = await mine()
    .where(and(whose, status ? eq(bookings.status, status) : undefined, keyset.after))
    .orderBy(...keyset.orderBy)
    .limit(limit + 1);
  const page = keyset.page(rows.map((r) => r.booking));
  return { data: page.rows.map(toBookingDto), nextCursor: page.nextCursor };
}

export async function cancelBooking(
  { actor, id, reason }: { actor: Actor; id: string; reason?: string },
  deps: Deps,
): Promise<BookingDtoValue> {
  const now = deps.clock.now();
  // Either the cancelled booking, or why not (and whether nights were freed on the way).
  const outcome = await deps.db.transaction(
    async (tx): Promise<{ booking: BookingDtoValue } | { refused: string; freed: boolean }> => {
      const { booking, hostId, role } = await bookingFor(actor, id, tx, { lock: true });
      if (isDue(booking, now)) {
        // Time got there first: the hold expired (or the stay completed) before this cancellation.
        await settleDue(tx, deps.clock, { ids: [booking.id] });
        const expired = booking.status !== "confirmed";
        return { refused: `The booking is ${expired ? "expired" : "completed"}`, freed: expired };
      }
      if (booking.status !== "pending_payment" && booking.status !== "requested" && booking.status !== "confirmed")
        return { refused: `The booking is ${booking.status}`, freed: false };
      // Accepted by its host: the capture decides now (confirmed, or expired when it is refused).
      if (booking.status === "requested" && booking.acceptedAt)
        return { refused: "The host accepted the request; its payment is being captured", freed: false };
      // A stay whose checkout day has come is over (it completes after that day): nothing to cancel.
      if (dayOf(now) >= booking.checkOut) return { refused: "The stay's checkout day has come", freed: false };
      // A confirmed booking is paid in full; a hold is not paid at all, nor a request (its
      // authorization is voided by the database, bookings_request_ended, in this transaction).
      const paid = booking.status === "confirmed" ? booking.total : 0;
      const refundAmount = refundFor(
        booking.cancellationPolicy as CancellationPolicy,
        paid,
        role,
        now,
        booking.checkIn,
      );
      const [row] = await tx
        .update(bookings)
        .set({
          status: "cancelled",
          cancelledAt: now,
          cancelledBy: role,
          cancelReason: reason ?? null,
          refundAmount,
          updatedAt: now,
        })
        .where(eq(bookings.id, booking.id))
        .returning();
      if (!row) throw new Error("update returned no row");
      // Guests cancelling their own unpaid hold know it already: no e-mail (see notificationsOf).
      const notices = notificationsOf(
        "cancelled",
        { ...row, hostId },
        { guestEmail: !(role === "guest" && booking.status === "pending_payment") },
      );
      const jobs: JobSpec[] = emailJobOf(notices);
      if (refundAmount > 0)
        jobs.push({
          type: "booking.refund",
          payload: { bookingId: row.id, amount: refundAmount, currency: row.currency },
          dedupeKey: `booking:${row.id}:refund`,
        });
      await together(insertNotices(tx, deps.clock, notices), enqueueMany(tx, deps.clock, jobs));
      if (booking.status === "requested") afterCommit(tx, wakeRelays);
      return { booking: toBookingDto(row) };
    },
  );
  if ("booking" in outcome || outcome.freed) await onChange(deps, { kind: "nights.freed" });
  if ("refused" in outcome)
    throw conflict(
      "invalid_state",
      `${outcome.refused}; only a pending_payment, requested or confirmed stay before its checkout day can be cancelled`,
    );
  return outcome.booking;
}
