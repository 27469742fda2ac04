// A property's nights: availability and price per day, host blocks and price overrides.
import { and, eq, gte, lt, type SQL, type SQLWrapper, sql } from "drizzle-orm";
import { onChange } from "../../cache/invalidation";
import { afterCommit } from "../../db/after-commit";
import type { Db } from "../../db/client";
import { perDatabase } from "../../db/prepared";
import { bookings, calendarDays, properties, taxRules } from "../../db/schema";
import { together } from "../../db/together";
import type { Deps } from "../../dependencies";
import { AppError, invalid } from "../../http/errors";
import { wakeRelays } from "../../jobs/outbox";
import { addDays, dayOf, daysBetween, eachDay, isIsoDay } from "../../lib/dates";
import type { Actor } from "../auth/actor";
import { bookingsAs, holdsNights, inHoldingStatus, stillHolding } from "../bookings/holds";
import { nightPrice, type TaxRule } from "../bookings/pricing";
import { propertyColumns, propertyForHost, type Viewer, visibleTo } from "./service";

export const MAX_RANGE_DAYS = 366;
export const DEFAULT_RANGE_DAYS = 90;

export interface Day {
  date: string;
  available: boolean;
  price: number;
}

/** [from, to) checked: real dates, from < to, at most 366 days. */
export function checkRange(from: string, to: string): void {
  if (!isIsoDay(from)) throw invalid("/from", "not a calendar date");
  if (!isIsoDay(to)) throw invalid("/to", "not a calendar date");
  const n = daysBetween(from, to);
  if (n < 1) throw invalid("/to", "must be after from");
  if (n > MAX_RANGE_DAYS) throw invalid("/to", `a range is at most ${MAX_RANGE_DAYS} days`);
}

/**
 * The nights of [from, to) that are held by a stay (bookings/holds.ts: confirmed, or pending payment
 * and not run out).
 */
export async function bookedDays(
  db: Db,
  now: Date,
  propertyId: string,
  from: string,
  to: string,
): Promise<Set<string>> {
  const rows = await db
    .select({ checkIn: bookings.checkIn, checkOut: bookings.checkOut })
    .from(bookings)
    .where(
      and(
        eq(bookings.propertyId, propertyId),
        holdsNights(bookings, now.toISOString()),
        sql`daterange(${bookings.checkIn}, ${bookings.checkOut}) && daterange(${from}::date, ${to}::date)`,
      ),
    );
  const days = new Set<string>();
  for (const b of rows)
    for (const d of eachDay(b.checkIn > from ? b.checkIn : from, b.checkOut < to ? b.checkOut : to)) days.add(d);
  return days;
}

async function computeDays(
  db: Db,
  now: Date,
  property: { id: string; pricePerNight: number; weekendPrice: number | null },
  from: string,
  to: string,
): Promise<Day[]> {
  const today = dayOf(now);
  const [overrides, booked] = await together(
    db
      .select()
      .from(calendarDays)
      .where(and(eq(calendarDays.propertyId, property.id), gte(calendarDays.day, from), lt(calendarDays.day, to))),
    bookedDays(db, now, property.id, from, to),
  );
  const byDay = new Map(overrides.map((o) => [o.day, o]));
  return eachDay(from, to).map((date) => {
    const o = byDay.get(date);
    return {
      date,
      available: date >= today && !booked.has(date) && !o?.blocked,
      price: nightPrice(property, date, o?.price ?? null),
    };
  });
}

/** Per-day availability and price; unlisted listings only for their host. */
export async function availability(
  { id, from, to, viewer }: { id: string; from?: string; to?: string; viewer: Viewer },
  deps: Deps,
): Promise<Day[]> {
  const today = dayOf(deps.clock.now());
  const start = from ?? today;
  // A bad `from` is named before a default `to` is computed from it.
  if (!isIsoDay(start)) throw invalid("/from", "not a calendar date");
  const end = to ?? addDays(start, DEFAULT_RANGE_DAYS);
  if (!to && !isIsoDay(end))
    throw invalid("/from", `leaves no room for the default ${DEFAULT_RANGE_DAYS}-day range; send to`);
  checkRange(start, end);
  const [row] = await deps.db
    .select({
      id: properties.id,
      pricePerNight: properties.pricePerNight,
      weekendPrice: properties.weekendPrice,
      status: properties.status,
      hostId: properties.hostId,
    })
    .from(properties)
    .where(eq(properties.id, id));
  return computeDays(deps.db, deps.clock.now(), await visibleTo(viewer, row), start, end);
}

/**
 * Blocks/unblocks nights or sets/removes a nightly price override for [from, to). The property
 * row is locked for the change, and booking creation takes the same lock, so a block and a
 * booking of the same night cannot both succeed.
 */
export async function changeCalendar(
  {
    actor,
    id,
    change,
  }: { actor: Actor; id: string; change: { from: string; to: string; blocked?: boolean; price?: number | null } },
  deps: Deps,
): Promise<Day[]> {
  checkRange(change.from, change.to);
  if (change.blocked === undefined && change.price === undefined)
    throw invalid("/blocked", "give blocked, price, or both");
  const now = deps.clock.now();
  const days = await deps.db.transaction(async (tx) => {
    const property = await propertyForHost(tx, actor, id);
    if (change.blocked) {
      const booked = await bookedDays(tx, now, id, change.from, change.to);
      if (booked.size > 0) {
        const first = [...booked].sort()[0];
        throw new AppError(
          409,
          "dates_unavailable",
          `Those nights hold a booking (first: ${first}); cancel it before blocking them`,
        );
      }
    }
    const blocked = change.blocked === undefined ? sql`calendar_days.blocked` : sql`excluded.blocked`;
    const price = change.price === undefined ? sql`calendar_days.price` : sql`excluded.price`;
    await tx
      .insert(calendarDays)
      .values(
        eachDay(change.from, change.to).map((day) => ({
          propertyId: id,
          day,
          blocked: change.blocked ?? false,
          price: change.price ?? null,
        })),
      )
      .onConflictDoUpdate({
        target: [calendarDays.propertyId, calendarDays.day],
        set: { blocked: sql`${blocked}`, price: sql`${price}` },
      });
    // A night back to the listing's defaults needs no row.
    await tx
      .delete(calendarDays)
      .where(
        and(
          eq(calendarDays.propertyId, id),
          gte(calendarDays.day, change.from),
          lt(calendarDays.day, change.to),
          eq(calendarDays.blocked, false),
          sql`${calendarDays.price} is null`,
        ),
      );
    await tx.update(properties).set({ updatedAt: deps.clock.now() }).where(eq(properties.id, id));
    // Nights unblocked: the alerts waiting for them are judged by a job after this commits.
    if (change.blocked === false) await alertsFreed(tx, id, change.from, change.to, now);
    return computeDays(tx, now, property, change.from, change.to);
  });
  await onChange(deps, { kind: "calendar.changed", propertyId: id });
  return days;
}

/**
 * Nights [from, to) of a property freed: an alerts.check job in `tx` if alerts wait for some of
 * them (drizzle/0032's stayhub_alerts_freed; the bookings' and listings' own triggers call it too).
 */
export async function alertsFreed(tx: Db, propertyId: string, from: string, to: string, now: Date): Promise<void> {
  await tx.execute(
    sql`select stayhub_alerts_freed(${propertyId}::uuid, ${from}::date, ${to}::date, ${now.toISOString()}::timestamptz, null)`,
  );
  afterCommit(tx, wakeRelays);
}

export interface UnavailableRange {
  start: string;
  end: string; // exclusive
}

/** Maximal runs of nights that cannot be booked (held by a stay or blocked), from today on. */
export async function unavailableRanges(
  { id, viewer }: { id: string; viewer: Viewer },
  deps: Deps,
): Promise<{ property: { id: string; title: string }; ranges: UnavailableRange[] }> {
  const [row] = await deps.db.select(propertyColumns).from(properties).where(eq(properties.id, id));
  const property = await visibleTo(viewer, row);
  // From a month back, so a stay in progress keeps its first night (and its UID) while it lasts.
  const from = addDays(dayOf(deps.clock.now()), -30);
  const to = addDays(from, MAX_RANGE_DAYS + 30);
  const [booked, blocked] = await Promise.all([
    bookedDays(deps.db, deps.clock.now(), id, from, to),
    deps.db
      .select({ day: calendarDays.day })
      .from(calendarDays)
      .where(
        and(
          eq(calendarDays.propertyId, id),
          eq(calendarDays.blocked, true),
          gte(calendarDays.day, from),
          lt(calendarDays.day, to),
        ),
      ),
  ]);
  const taken = new Set([...booked, ...blocked.map((b) => b.day)]);
  const ranges: UnavailableRange[] = [];
  for (const day of eachDay(from, to)) {
    if (!taken.has(day)) continue;
    const last = ranges[ranges.length - 1];
    if (last && last.end === day) last.end = addDays(day, 1);
    else ranges.push({ start: day, end: addDays(day, 1) });
  }
  return { property: { id: property.id, title: property.title }, ranges };
}

/** What a stay at a property is judged and priced by: the listing's terms and each night of it. */
export interface StayTerms {
  id: string;
  hostId: string;
  status: string;
  pricePerNight: number;
  cleaningFee: number;
  currency: string;
  maxGuests: number;
  minNights: number;
  maxNights: number;
  cancellationPolicy: "flexible" | "moderate" | "strict";
  // The pricing rules (bookings/pricing.ts): guestsIncluded is maxGuests when the host set none.
  weekendPrice: number | null;
  weeklyDiscountPercent: number;
  monthlyDiscountPercent: number;
  guestsIncluded: number;
  extraGuestFee: number;
  instantBook: boolean;
  /** The occupancy-tax rules of the listing's country and city, oldest first. */
  taxes: TaxRule[];
  /** Each night: its price (override, weekend price, base price), and the host's override alone. */
  nights: { date: string; price: number; override: number | null; blocked: boolean }[];
  /** What the booking compares under its turn: these terms are still the property's. */
  version: string;
  /**
   * Whether stays already hold some of these nights at `now`: "live" (a confirmed stay or a hold
   * still running), else "overdue" (only holds whose time is up, not yet expired), else null.
   */
  stays: "live" | "overdue" | null;
}

/**
 * The terms of a stay of [from, to) at the property (undefined when there is none), in one
 * statement (one snapshot) and without a lock, with their `version` (drizzle/0019's
 * stayhub_terms_version over the same fields and nights): the booking is judged and priced by
 * them, and made only if the version is still the property's when its turn comes. A field read
 * here that the version does not hash fails tests/integration/terms-version.test.ts.
 */
export async function stayTerms(
  db: Db,
  propertyId: string,
  from: string,
  to: string,
  now: Date,
): Promise<StayTerms | undefined> {
  const [row] = await stayTermsQuery(db).execute({ id: propertyId, from, to, now: now.toISOString() });
  return row ? termsOf(row, from, to) : undefined;
}

/** What `stayTermsFields` reads, as the database answers it. */
export type StayTermsRow = Omit<StayTerms, "nights" | "cancellationPolicy" | "stays" | "taxes"> & {
  cancellationPolicy: string;
  overrides: string;
  taxes: string;
  stays: string | null;
};

/** The terms of a stay of [from, to) from what `stayTermsFields` read. */
export function termsOf(row: StayTermsRow, from: string, to: string): StayTerms {
  const { overrides, taxes, ...terms } = row;
  const byDay = new Map(
    (JSON.parse(overrides) as { day: string; price: number | null; blocked: boolean }[]).map((o) => [o.day, o]),
  );
  return {
    ...terms,
    cancellationPolicy: row.cancellationPolicy as StayTerms["cancellationPolicy"],
    stays: row.stays as StayTerms["stays"],
    taxes: JSON.parse(taxes) as TaxRule[],
    nights: eachDay(from, to).map((date) => {
      const o = byDay.get(date);
      const override = o?.price ?? null;
      return { date, price: nightPrice(row, date, override), override, blocked: o?.blocked ?? false };
    }),
  };
}

const stayDays = () => [sql`${sql.placeholder("from")}::date`, sql`${sql.placeholder("to")}::date`] as const;

/** A stay's terms' version (drizzle/0019's stayhub_terms_version) at the property `propertyId` names. */
export function termsVersionOf(propertyId: SQLWrapper): SQL<string> {
  const [from, to] = stayDays();
  return sql<string>`stayhub_terms_version(${propertyId}, ${from}, ${to})`;
}

/** The stay's nights with a host's override at `propertyId`, as JSON text. */
export function overridesOf(propertyId: SQLWrapper): SQL<string> {
  const [from, to] = stayDays();
  return sql<string>`(select coalesce(json_agg(json_build_object('day', d.day, 'blocked', d.blocked, 'price', d.price)), '[]')::text
        from ${calendarDays} d where d.property_id = ${propertyId} and d.day >= ${from} and d.day < ${to})`;
}

/** The occupancy-tax rules of the country and city of the listing `propertyId` names, as JSON text (oldest first). */
export function taxesOf(propertyId: SQLWrapper): SQL<string> {
  return sql<string>`(select coalesce(json_agg(json_build_object('name', r.name, 'kind', r.kind, 'value', r.value, 'base', r.base)
          order by r.created_at, r.id), '[]')::text
        from ${taxRules} r join ${properties} tp on tp.id = ${propertyId}
        where r.country = tp.country and (r.city is null or lower(r.city) = lower(tp.city)))`;
}

/** Whether stays at `propertyId` hold the stay's nights: 'live', 'overdue' (only holds whose time is up), or null. */
export function staysOf(propertyId: SQLWrapper): SQL<string | null> {
  const [from, to] = stayDays();
  const stay = bookingsAs("b");
  return sql<string | null>`(select case when bool_or(${stillHolding(stay, sql.placeholder("now"))}) then 'live'
          when count(*) > 0 then 'overdue' end
        from ${bookings} b where b.property_id = ${propertyId} and ${inHoldingStatus(stay)}
          and b.check_out > ${from} and b.check_in < ${to})`;
}

/** The listing's own columns of a stay's terms. */
export const listingTermsColumns = () => ({
  id: properties.id,
  hostId: properties.hostId,
  status: properties.status,
  pricePerNight: properties.pricePerNight,
  cleaningFee: properties.cleaningFee,
  currency: properties.currency,
  maxGuests: properties.maxGuests,
  minNights: properties.minNights,
  maxNights: properties.maxNights,
  cancellationPolicy: properties.cancellationPolicy,
  weekendPrice: properties.weekendPrice,
  weeklyDiscountPercent: properties.weeklyDiscountPercent,
  monthlyDiscountPercent: properties.monthlyDiscountPercent,
  guestsIncluded: sql<number>`coalesce(${properties.guestsIncluded}, ${properties.maxGuests})`.as("guests_included"),
  extraGuestFee: properties.extraGuestFee,
  instantBook: properties.instantBook,
});

/**
 * The columns a stay's terms are read from (placeholders `from`, `to`, `now`), for a statement
 * over `properties`: stayTerms'. (The booking's one read, bookings/service.ts, reads the same
 * parts, the version and overrides only when no stay holds the nights.)
 */
export function stayTermsFields() {
  // Qualified: in a select list drizzle writes a column unqualified, and inside these subqueries
  // "id" would name the booking's own id.
  const propertyId = sql`${properties}.id`;
  return {
    ...listingTermsColumns(),
    version: termsVersionOf(propertyId),
    overrides: overridesOf(propertyId),
    taxes: taxesOf(propertyId),
    stays: staysOf(propertyId),
  };
}

const stayTermsQuery = perDatabase((db) =>
  db
    .select(stayTermsFields())
    .from(properties)
    .where(eq(properties.id, sql.placeholder("id")))
    .prepare("stay_terms"),
);
