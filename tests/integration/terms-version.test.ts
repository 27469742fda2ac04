// stayhub_terms_version (drizzle/0019) is what a booking compares under its turn: the terms it was
// priced and judged by are still the property's. It must cover every field stayTerms reads, or a
// change to a field it misses lets a booking through on terms that are no longer the listing's.
// The fields are taken from what stayTerms answers (not listed here): a field it starts to read
// and the function does not hash fails the first test; a column the function hashes that stayTerms
// does not read (a booking refused for a change that does not matter to it) fails the second.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { getTableColumns } from "drizzle-orm";
import { calendarDays, properties } from "../../src/db/schema";
import { type StayTerms, stayTerms } from "../../src/modules/properties/calendar";
import { startTestApp, type TestApp } from "../support/app";
import { createListing, registerHost } from "../support/properties";

// Not terms of the listing: the id names it; stays are the nights other bookings hold, which the
// exclusion constraint judges under the turn (and an overdue hold is expired before booking).
// Taxes are the rules of the listing's country and city: versioned by the rules (tried below).
const NOT_VERSIONED = new Set(["id", "version", "stays", "nights", "taxes"]);
// A night's date is the calendar row's day (the key of the override, not a value of it); its
// override is the row's price column (the night's price is it, or the listing's rules).
const NIGHT_KEYS = new Set(["date", "override"]);

const [FROM, TO] = ["2031-08-01", "2031-08-04"];
const now = new Date("2031-07-01T00:00:00Z");

let t: TestApp;
let propertyId: string;
let otherHostId: string;

beforeAll(async () => {
  t = await startTestApp();
  const host = await registerHost(t.call);
  otherHostId = (await registerHost(t.call, "Other Host")).id;
  // minNights below maxNights, guestsIncluded below maxGuests, every fee and rule above zero: each
  // number can move by one within the checks.
  propertyId = (
    await createListing(t.call, host, {
      minNights: 2,
      maxNights: 30,
      cleaningFee: 3000,
      maxGuests: 4,
      guestsIncluded: 2,
      weekendPrice: 14_000,
      weeklyDiscountPercent: 10,
      monthlyDiscountPercent: 20,
      extraGuestFee: 1_000,
    })
  ).id;
  await t.deps.database.raw.query(
    "insert into calendar_days (property_id, day, blocked, price) values ($1, $2, false, 15000)",
    [propertyId, FROM],
  );
}, 60_000);
afterAll(async () => {
  await t?.close();
});

async function terms(): Promise<StayTerms> {
  const read = await stayTerms(t.deps.db, propertyId, FROM, TO, now);
  if (!read) throw new Error("no terms");
  return read;
}

/** Another value of the field that the table's checks accept. */
function changed(field: string, value: unknown): unknown {
  const others: Record<string, unknown> = {
    hostId: otherHostId,
    status: value === "listed" ? "unlisted" : "listed",
    currency: value === "EUR" ? "USD" : "EUR",
    cancellationPolicy: value === "strict" ? "flexible" : "strict",
  };
  if (field in others) return others[field];
  if (typeof value === "number") return value + 1;
  if (typeof value === "boolean") return !value;
  throw new Error(`stayTerms reads ${field}: say here how to change it, and make stayhub_terms_version hash it`);
}

describe("stayhub_terms_version is in step with stayTerms", () => {
  test("changing any field stayTerms reads, of the listing or of a night, changes the version", async () => {
    const before = await terms();
    const propertyColumns = getTableColumns(properties) as Record<string, { name: string } | undefined>;
    const dayColumns = getTableColumns(calendarDays) as Record<string, { name: string } | undefined>;
    const fields = Object.keys(before).filter((f) => !NOT_VERSIONED.has(f));
    const nightFields = Object.keys(before.nights[0] ?? {}).filter((f) => !NIGHT_KEYS.has(f));
    expect(fields.length).toBeGreaterThanOrEqual(9);
    expect(nightFields.sort()).toEqual(["blocked", "price"]);
    const raw = t.deps.database.raw;
    const checked: string[] = [];
    const tryChange = async (what: string, change: () => Promise<unknown>, undo: () => Promise<unknown>) => {
      await change();
      const after = (await terms()).version;
      await undo();
      expect({ what, changed: after !== before.version }).toEqual({ what, changed: true });
      expect({ what, restored: (await terms()).version }).toEqual({ what, restored: before.version });
      checked.push(what);
    };
    for (const field of fields) {
      const column = propertyColumns[field];
      if (!column) throw new Error(`stayTerms reads ${field}, which is no column of properties: version it here`);
      const value = (before as unknown as Record<string, unknown>)[field];
      await tryChange(
        field,
        () =>
          raw.query(`update properties set "${column.name}" = $1 where id = $2`, [changed(field, value), propertyId]),
        () => raw.query(`update properties set "${column.name}" = $1 where id = $2`, [value, propertyId]),
      );
    }
    // A night with an override: each of its values.
    const night = before.nights.find((n) => n.date === FROM) as Record<string, unknown>;
    for (const field of nightFields) {
      const column = dayColumns[field];
      if (!column) throw new Error(`stayTerms reads a night's ${field}, which is no column of calendar_days`);
      const set = (v: unknown) =>
        raw.query(`update calendar_days set "${column.name}" = $1 where property_id = $2 and day = $3`, [
          v,
          propertyId,
          FROM,
        ]);
      await tryChange(
        `night.${field}`,
        () => set(changed(field, night[field])),
        () => set(night[field]),
      );
    }
    // A night's override appearing, and going away (the night then has the listing's price).
    const second = "2031-08-02";
    await tryChange(
      "an override added",
      () =>
        raw.query("insert into calendar_days (property_id, day, blocked) values ($1, $2, false)", [propertyId, second]),
      () => raw.query("delete from calendar_days where property_id = $1 and day = $2", [propertyId, second]),
    );
    await tryChange(
      "an override removed",
      () => raw.query("delete from calendar_days where property_id = $1 and day = $2", [propertyId, FROM]),
      () =>
        raw.query("insert into calendar_days (property_id, day, blocked, price) values ($1, $2, $3, $4)", [
          propertyId,
          FROM,
          night.blocked,
          night.price,
        ]),
    );
    // A tax rule of its country, and one of its city, added and changed; one of another city is not its terms.
    const [place] = await raw.query<{ country: string; city: string }>(
      "select country, city from properties where id = $1",
      [propertyId],
    );
    const rule = (city: string | null) =>
      raw.query<{ id: string }>(
        "insert into tax_rules (id, country, city, name, kind, value, base) values ($1, $2, $3, 'T', 'per_stay', 100, 'nights') returning id",
        [Bun.randomUUIDv7(), place?.country, city],
      );
    for (const city of [null, place?.city.toUpperCase() ?? ""]) {
      let id = "";
      await tryChange(
        `a tax rule of its ${city ? "city" : "country"} added`,
        async () => {
          id = (await rule(city))[0]?.id ?? "";
        },
        () => raw.query("delete from tax_rules where id = $1", [id]),
      );
    }
    const [other] = await rule("Elsewhere");
    expect((await terms()).version).toBe(before.version);
    await raw.query("delete from tax_rules where id = $1", [other?.id]);
    expect(checked).toHaveLength(fields.length + nightFields.length + 4);
  });

  test("the function hashes no column that stayTerms does not read", async () => {
    const [fn] = await t.deps.database.raw.query<{ def: string }>(
      "select pg_get_functiondef('stayhub_terms_version(uuid, date, date)'::regprocedure) as def",
    );
    const def = fn?.def ?? "";
    const named = (alias: string) =>
      [...new Set([...def.matchAll(new RegExp(`\\b${alias}\\.([a-z_]+)`, "g"))].map((m) => m[1] as string))].sort();
    const read = await terms();
    const columnName = (table: Record<string, { name: string }>, field: string) => table[field]?.name ?? field;
    const propertyColumns = getTableColumns(properties) as unknown as Record<string, { name: string }>;
    const dayColumns = getTableColumns(calendarDays) as unknown as Record<string, { name: string }>;
    // p.id and d.property_id only join; d.day is the night's date; p.country and p.city find the taxes.
    expect(named("p")).toEqual(
      ["id", "country", "city", ...Object.keys(read).filter((f) => !NOT_VERSIONED.has(f))]
        .map((f) => columnName(propertyColumns, f))
        .sort(),
    );
    expect(named("d")).toEqual(
      ["day", "property_id", ...Object.keys(read.nights[0] ?? {}).filter((f) => !NIGHT_KEYS.has(f))]
        .map((f) => columnName(dayColumns, f))
        .sort(),
    );
  });
});
