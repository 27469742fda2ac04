// Date alerts: a user waits for a stay that cannot be booked now, and hears once when every night
// of it is free and bookable again.
//
// Who finds them: the database. Whatever frees nights at a property or eases its terms — a booking
// leaving a holding status by any path, a listing listed again or its min/max nights or guests
// eased (triggers, drizzle/0032), a host's block removed (changeCalendar) — calls
// stayhub_alerts_freed in its own transaction, which writes one `alerts.check` job for the property
// and the nights freed only when an alert waits there (one probe of alerts_waiting_idx). The job
// then judges, in one statement, every waiting alert of that property overlapping those nights,
// and marks the ones whose whole stay can be booked now `notified`, with their notifications and
// e-mails in the same transaction — each exactly once: the UPDATE is guarded by `status =
// 'waiting'` (of two runs at once, one changes the row), and the notices are keyed by the alert.
//
// The race with a creation: an alert is made after reading that its stay is taken; a change that
// frees it and commits meanwhile did not see the alert (not yet committed) and wrote no job. So
// each creation writes a check of its own stay too, and that check first waits for in-flight
// changes of the stay's bookings and of the listing (row locks, FOR SHARE): whatever committed
// before the check reads is seen by it, whatever commits later sees the alert.
//
// Freed and taken again in the same moment: the check judges the stay when it runs. Taken again
// by then, the alert keeps waiting; told, the stay may still be booked by someone else before its
// owner comes — the e-mail says so ("book soon: it may be taken again").
import { and, asc, eq, getTableColumns, inArray, lt, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { newestFirst } from "../../db/newest-first";
import { alerts, bookings, properties } from "../../db/schema";
import type { Deps } from "../../dependencies";
import { AppError, conflict, notFound } from "../../http/errors";
import { enqueue } from "../../jobs/outbox";
import type { Handlers } from "../../jobs/registry";
import type { JobDeps } from "../../jobs/types";
import type { Clock } from "../../lib/clock";
import { dayOf } from "../../lib/dates";
import type { Actor } from "../auth/actor";
import { bookingsAs, holdsNights, inHoldingStatus } from "../bookings/holds";
import { judgeStay } from "../bookings/quote";
import { type Notice, notifyWithin } from "../notifications/within";
import { type AlertDtoValue, MAX_WAITING_ALERTS } from "./schemas";
import { lockSavedOf, stillActive } from "./service";

type AlertRow = typeof alerts.$inferSelect;

export const toAlertDto = (a: AlertRow): AlertDtoValue => ({
  id: a.id,
  propertyId: a.propertyId,
  checkIn: a.checkIn,
  checkOut: a.checkOut,
  guests: a.guests,
  status: a.status as AlertDtoValue["status"],
  createdAt: a.createdAt.toISOString(),
});

/** Waiting alerts whose check-in day has passed (`userId`: only theirs) become expired. */
async function expirePassed(db: Db, clock: Clock, userId?: string, limit = 5_000): Promise<number> {
  const due = and(
    eq(alerts.status, "waiting"),
    lt(alerts.checkIn, dayOf(clock.now())),
    userId ? eq(alerts.userId, userId) : undefined,
  );
  const batch = db.select({ id: alerts.id }).from(alerts).where(due).orderBy(alerts.id).limit(limit).for("update");
  const expired = await db
    .update(alerts)
    .set({ status: "expired" })
    .where(and(due, inArray(alerts.id, batch)))
    .returning({ id: alerts.id });
  return expired.length;
}

/**
 * POST /alerts: the quote's 422s and 404s; 409 already_available when the stay can be booked now
 * (no stay holds its nights, none is blocked); 429 too_many_alerts past MAX_WAITING_ALERTS
 * waiting (counted under the user's turn). The same stay asked again (same property, dates and
 * guests, still waiting) answers the alert that waits: `created: false`.
 */
export async function createAlert(
  { actor, input }: { actor: Actor; input: { propertyId: string; checkIn: string; checkOut: string; guests: number } },
  deps: Deps,
): Promise<{ alert: AlertDtoValue; created: boolean }> {
  const now = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    await lockSavedOf(tx, actor.id);
    await stillActive(tx, actor.id);
    const { terms } = await judgeStay({ ...input, viewer: async () => actor }, deps, tx);
    const taken = terms.stays === "live" || terms.nights.some((n) => n.blocked);
    if (!taken)
      throw conflict("already_available", "Those nights can be booked now: book them instead of waiting for them");
    await expirePassed(tx, deps.clock, actor.id);
    const waiting = await tx
      .select()
      .from(alerts)
      .where(and(eq(alerts.userId, actor.id), eq(alerts.status, "waiting")));
    const same = waiting.find(
      (a) =>
        a.propertyId === terms.id &&
        a.checkIn === input.checkIn &&
        a.checkOut === input.checkOut &&
        a.guests === input.guests,
    );
    if (same) return { alert: toAlertDto(same), created: false };
    if (waiting.length >= MAX_WAITING_ALERTS)
      throw new AppError(
        429,
        "too_many_alerts",
        `You have ${MAX_WAITING_ALERTS} alerts waiting already; delete one to add another`,
      );
    const [made] = await tx
      .insert(alerts)
      .values({
        id: Bun.randomUUIDv7(),
        userId: actor.id,
        propertyId: terms.id,
        checkIn: input.checkIn,
        checkOut: input.checkOut,
        guests: input.guests,
        createdAt: now,
      })
      .returning();
    if (!made) throw new Error("insert returned no row");
    // A change that freed the stay while this one read it did not see the alert: look once more.
    await enqueue(
      tx,
      deps.clock,
      "alerts.check",
      { propertyId: made.propertyId, from: made.checkIn, to: made.checkOut },
      { dedupeKey: `alert:${made.id}:check` },
    );
    return { alert: toAlertDto(made), created: true };
  });
}

/** GET /alerts: the caller's alerts, newest first (those whose check-in passed are expired first). */
export async function listAlerts(
  { actor, limit, cursor }: { actor: Actor; limit: number; cursor?: string },
  deps: Deps,
) {
  const keyset = newestFirst(alerts, limit, cursor);
  await expirePassed(deps.db, deps.clock, actor.id);
  const rows = await deps.db
    .select()
    .from(alerts)
    .where(and(eq(alerts.userId, actor.id), keyset.after))
    .orderBy(...keyset.orderBy)
    .limit(limit + 1);
  const page = keyset.page(rows);
  return { data: page.rows.map(toAlertDto), nextCursor: page.nextCursor };
}

/** DELETE /alerts/:id: the caller's own; anyone else's is answered like a missing one. */
export async function deleteAlert({ actor, id }: { actor: Actor; id: string }, deps: Deps): Promise<void> {
  const gone = await deps.db
    .delete(alerts)
    .where(and(eq(alerts.id, id), eq(alerts.userId, actor.id)))
    .returning({ id: alerts.id });
  if (gone.length === 0) throw notFound("Alert");
}

/** The caller's alerts, oldest first, for the account export. */
export async function exportAlerts(db: Db, userId: string): Promise<AlertDtoValue[]> {
  const rows = await db.select().from(alerts).where(eq(alerts.userId, userId)).orderBy(asc(alerts.createdAt));
  return rows.map(toAlertDto);
}

/** The nights [from, to) as a range (null bounds: unbounded). */
const range = (from: string | null, to: string | null) => sql`daterange(${from}::date, ${to}::date)`;

/**
 * The alerts of the property overlapping [from, to) whose whole stay can be booked now: the
 * listing listed, its guests and nights within the rules, no night blocked, none held by a stay,
 * check-in not passed — marked notified, in one statement. Rows are locked in id order first (as
 * the expiry's are), so two checks, or a check and the expiry, never wait for each other in a circle.
 */
function notifyFreed(tx: Db, now: Date, p: { propertyId: string; from: string | null; to: string | null }) {
  const stay = bookingsAs("b");
  return tx
    .update(alerts)
    .set({ status: "notified", notifiedAt: now })
    .from(properties)
    .where(
      and(
        inArray(
          alerts.id,
          tx
            .select({ id: alerts.id })
            .from(alerts)
            .where(
              and(
                eq(alerts.propertyId, p.propertyId),
                eq(alerts.status, "waiting"),
                sql`daterange(${alerts.checkIn}, ${alerts.checkOut}) && ${range(p.from, p.to)}`,
              ),
            )
            .orderBy(alerts.id)
            .for("update"),
        ),
        // Checked again on the row as locked: of two checks at once, one changes it.
        eq(alerts.status, "waiting"),
        sql`${alerts.checkIn} >= ${dayOf(now)}::date`,
        eq(properties.id, alerts.propertyId),
        eq(properties.status, "listed"),
        sql`${alerts.guests} <= ${properties.maxGuests}`,
        sql`(${alerts.checkOut} - ${alerts.checkIn}) between ${properties.minNights} and ${properties.maxNights}`,
        sql`not exists (select 1 from calendar_days d where d.property_id = ${alerts.propertyId} and d.blocked
              and d.day >= ${alerts.checkIn} and d.day < ${alerts.checkOut})`,
        sql`not exists (select 1 from bookings b where b.property_id = ${alerts.propertyId}
              and ${holdsNights(stay, now.toISOString())}
              and b.check_out > ${alerts.checkIn} and b.check_in < ${alerts.checkOut})`,
      ),
    )
    .returning({ ...getTableColumns(alerts), title: properties.title });
}

function noticeOf(a: AlertRow & { title: string }): Notice {
  return {
    dedupeKey: `alert:${a.id}:notified`,
    p: {
      userId: a.userId,
      type: "alert_available",
      title: "Your dates are free",
      body:
        `${a.title}: every night of ${a.checkIn} – ${a.checkOut} can be booked again. ` +
        "Book soon: someone else may take them first.",
      data: { alertId: a.id, propertyId: a.propertyId, checkIn: a.checkIn, checkOut: a.checkOut, guests: a.guests },
      email: true,
    },
  };
}

/** The `alerts.check` job: the alerts its change freed, told (see the top of this file). */
export async function checkFreed(
  p: { propertyId: string; from: string | null; to: string | null },
  deps: Pick<JobDeps, "db" | "clock">,
): Promise<string[]> {
  return deps.db.transaction(async (tx) => {
    // Changes in flight of these nights' bookings and of the listing commit (or roll back) first.
    await tx
      .select({ id: bookings.id })
      .from(bookings)
      .where(
        and(
          eq(bookings.propertyId, p.propertyId),
          inHoldingStatus(),
          sql`daterange(${bookings.checkIn}, ${bookings.checkOut}) && ${range(p.from, p.to)}`,
        ),
      )
      .orderBy(bookings.id)
      .for("share");
    await tx.select({ id: properties.id }).from(properties).where(eq(properties.id, p.propertyId)).for("share");
    const now = deps.clock.now();
    const told = await notifyFreed(tx, now, p);
    await notifyWithin(tx, deps.clock, told.map(noticeOf));
    return told.map((a) => a.id);
  });
}

export const alertHandlers: Handlers = {
  "alerts.check": async (job, deps) => {
    const told = await checkFreed(job.payload, deps);
    if (told.length) deps.log.info("alerts told", { propertyId: job.payload.propertyId, alerts: told.length });
  },
  "alerts.expire": async (_job, deps) => {
    for (;;) {
      const n = await expirePassed(deps.db, deps.clock);
      if (n) deps.log.info("alerts expired", { alerts: n });
      if (n < 5_000) return;
    }
  },
};
