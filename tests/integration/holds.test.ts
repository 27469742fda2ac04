// "Does a stay hold this night?" has one definition in TypeScript (src/modules/bookings/holds.ts)
// and copies in the database that landed migrations keep: the exclusion constraint, the partial
// index search probes, and stayhub_create_booking's count of a guest's live holds. Each is tied
// here to the TypeScript one, by what it names and by what it does with a booking of every
// status whose hold ran out a second ago, runs out now, or runs out in a second.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { and, eq, inArray, type sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { bookings } from "../../src/db/schema";
import {
  HOLDING_STATUSES,
  holdsNights,
  holdsNightsNow,
  inHoldingStatus,
  lapsedHold,
  lapsedHoldNow,
} from "../../src/modules/bookings/holds";
import { startTestApp, type TestApp } from "../support/app";
import { createListing, registerHost } from "../support/properties";

const ALL_STATUSES = [
  "pending_payment",
  "requested",
  "confirmed",
  "completed",
  "expired",
  "cancelled",
  "declined",
] as const;
const OFFSETS = [-1000, 0, 1000] as const; // expiresAt - now, in ms
const now = new Date("2031-03-01T12:00:00.000Z");

let t: TestApp;
let propertyId: string;
type Case = { id: string; guestId: string; status: string; offset: number; checkIn: string; checkOut: string };
const nextDay = (d: string) => new Date(Date.parse(d) + 86_400_000).toISOString().slice(0, 10);
const cases: Case[] = [];

const day = (n: number) => new Date(Date.UTC(2031, 3, 1) + n * 86_400_000).toISOString().slice(0, 10);
const statusesIn = (text: string) => [...text.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]).sort();

beforeAll(async () => {
  t = await startTestApp();
  const host = await registerHost(t.call);
  propertyId = (await createListing(t.call, host)).id;
  const raw = t.deps.database.raw;
  let n = 0;
  for (const status of ALL_STATUSES)
    for (const offset of OFFSETS) {
      // Each its own guest (the holds count is per guest) and its own nights (no overlap between them).
      const guestId = Bun.randomUUIDv7();
      await raw.query("insert into users (id, email, name, password_hash) values ($1, $2, 'Guest', 'h')", [
        guestId,
        `holds-${guestId}@example.com`,
      ]);
      const c = { id: Bun.randomUUIDv7(), guestId, status, offset, checkIn: day(n * 3), checkOut: day(n * 3 + 2) };
      n++;
      await raw.query(
        `insert into bookings (id, property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total,
           cleaning_fee, service_fee, total, currency, expires_at, cancelled_at, cancelled_by)
         values ($1, $2, $3, $4, $5, 1, $6, 2, 1000, 0, 100, 1100, 'EUR', $7,
           case when $6 = 'cancelled' then now() end, case when $6 = 'cancelled' then 'guest' end)`,
        [c.id, propertyId, guestId, c.checkIn, c.checkOut, status, new Date(now.getTime() + offset).toISOString()],
      );
      cases.push(c);
    }
}, 60_000);
afterAll(async () => {
  await t?.close();
});

async function idsWhere(condition: ReturnType<typeof sql>): Promise<Set<string>> {
  const rows = await t.deps.db
    .select({ id: bookings.id })
    .from(bookings)
    .where(
      and(
        eq(bookings.propertyId, propertyId),
        inArray(
          bookings.id,
          cases.map((c) => c.id),
        ),
        condition,
      ),
    );
  return new Set(rows.map((r) => r.id));
}

const row = (c: Case) => ({ status: c.status, expiresAt: new Date(now.getTime() + c.offset), acceptedAt: null });

describe("one definition of a stay holding its nights", () => {
  test("the rule: confirmed, or pending_payment or requested whose expiresAt is after now", () => {
    const held = cases.filter((c) => holdsNightsNow(row(c), now)).map((c) => `${c.status}${c.offset}`);
    expect(held.sort()).toEqual(
      ["confirmed-1000", "confirmed0", "confirmed1000", "pending_payment1000", "requested1000"].sort(),
    );
  });

  test("a request its host accepted is not lapsed, whatever its expiresAt: the capture ends it", () => {
    const accepted = { status: "requested", expiresAt: new Date(now.getTime() - 1000), acceptedAt: now };
    expect(lapsedHoldNow(accepted, now)).toBe(false);
    expect(lapsedHoldNow({ ...accepted, acceptedAt: null }, now)).toBe(true);
  });

  test("the SQL fragment and the row predicate agree on every status and expiry", async () => {
    const bySql = await idsWhere(holdsNights(bookings, now.toISOString()));
    for (const c of cases) expect({ ...c, held: bySql.has(c.id) }).toEqual({ ...c, held: holdsNightsNow(row(c), now) });
    const lapsed = await idsWhere(lapsedHold(bookings, now));
    for (const c of cases) {
      expect({ ...c, lapsed: lapsed.has(c.id) }).toEqual({ ...c, lapsed: lapsedHoldNow(row(c), now) });
      // A lapsed hold is exactly a booking in a holding status that no longer holds.
      const inStatus = (HOLDING_STATUSES as readonly string[]).includes(c.status);
      expect({ ...c, lapsed: lapsed.has(c.id) }).toEqual({ ...c, lapsed: inStatus && !bySql.has(c.id) });
    }
  });

  test("the constraint, the search index and the fragment name the same statuses", async () => {
    const raw = t.deps.database.raw;
    const [constraint] = await raw.query<{ def: string }>(
      "select pg_get_constraintdef(oid) as def from pg_constraint where conname = 'bookings_no_overlap'",
    );
    const [index] = await raw.query<{ def: string }>(
      "select indexdef as def from pg_indexes where indexname = 'bookings_active_idx'",
    );
    const expected = [...HOLDING_STATUSES].sort();
    expect(statusesIn(constraint?.def ?? "")).toEqual(expected);
    // The index's predicate, not its columns (which name no literal).
    expect(statusesIn(index?.def.split(" WHERE ")[1] ?? "")).toEqual(expected);
    expect(statusesIn(new PgDialect().sqlToQuery(inHoldingStatus()).sql)).toEqual(expected);
  });

  test("the exclusion constraint refuses an overlap exactly with a booking in a holding status", async () => {
    const raw = t.deps.database.raw;
    const inStatus = await idsWhere(inHoldingStatus(bookings));
    for (const c of cases.filter((c) => c.offset === 0)) {
      const id = Bun.randomUUIDv7();
      const refused = await raw
        .query(
          `insert into bookings (id, property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total,
             cleaning_fee, service_fee, total, currency, expires_at)
           values ($1, $2, $3, $4, $5, 1, 'confirmed', 1, 1000, 0, 100, 1100, 'EUR', $6)`,
          [id, propertyId, c.guestId, c.checkIn, nextDay(c.checkIn), now.toISOString()],
        )
        .then(
          () => false,
          (e: { code?: string }) => {
            if (e.code !== "23P01") throw e;
            return true;
          },
        );
      await raw.query("delete from bookings where id = $1", [id]);
      expect({ status: c.status, refused }).toEqual({ status: c.status, refused: inStatus.has(c.id) });
    }
  });

  test("stayhub_create_booking counts as a guest's hold exactly the pending bookings that hold nights", async () => {
    const raw = t.deps.database.raw;
    for (const c of cases) {
      // With a limit of one hold, the guest's own booking decides: too_many_holds when it counts,
      // else the function goes on to the terms, which a wrong version refuses (nothing is written).
      const [answer] = await raw.query<{ outcome: string; held: number }>(
        `select * from stayhub_create_booking(0, $1, $2, $3, $4, $5, 1, 1000, 0, 100, 1100, 'EUR', 'flexible',
           $6, $7, 'not the terms', 1, '[]'::jsonb)`,
        [Bun.randomUUIDv7(), propertyId, c.guestId, day(200), day(201), now.toISOString(), now.toISOString()],
      );
      const counted = c.status === "pending_payment" && holdsNightsNow(row(c), now);
      expect({ ...c, outcome: answer?.outcome, held: answer?.held }).toEqual({
        ...c,
        outcome: counted ? "too_many_holds" : "terms_changed",
        held: counted ? 1 : 0,
      });
    }
  });
});
