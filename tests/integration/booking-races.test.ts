// No double booking, under real concurrency, on PostgreSQL and on the embedded database: the
// exclusion constraint decides, and its refusal is a 409, never a 5xx.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addDays } from "../../src/lib/dates";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { book, overlaps, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";
import { databaseUrl } from "../support/services";

const START = "2031-06-01";
// Many holds per guest here: the holds limits have their own tests.
const ENV = {
  MAX_PENDING_BOOKINGS: "1000",
  BOOKING_HOLDS_PER_HOUR: "100000",
  BOOKING_HOLDS_PER_LISTING_PER_DAY: "100000",
};

const databases = [
  { name: "PostgreSQL", embedded: false },
  ...(databaseUrl ? [{ name: "the embedded database", embedded: true }] : []),
];

for (const { name, embedded } of databases) {
  describe(`races on ${name}`, () => {
    let t: TestApp;
    let host: Registered;
    let guests: Registered[];
    beforeAll(async () => {
      t = await startTestApp(ENV, { embedded });
      await setClock(t.call, `${START}T09:00:00Z`);
      host = await registerHost(t.call);
      guests = await Promise.all(Array.from({ length: 50 }, () => registerUser(t.call)));
    }, 120_000);
    afterAll(() => t?.close());

    test("50 concurrent requests for overlapping nights, 20 rounds with random offsets: exactly one 201 each round, the rest 409", async () => {
      const p = await createListing(t.call, host, { minNights: 1, maxNights: 30 });
      for (let round = 0; round < 20; round++) {
        // Every request holds the round's night D, so any two overlap.
        const d = addDays(START, 10 + round * 12);
        const answers = await Promise.all(
          guests.map((g) => {
            const checkIn = addDays(d, -Math.floor(Math.random() * 4));
            const checkOut = addDays(d, 1 + Math.floor(Math.random() * 4));
            return book(t.call, g, { propertyId: p.id, checkIn, checkOut });
          }),
        );
        const statuses = answers.map((a) => a.status);
        expect({ round, created: statuses.filter((s) => s === 201).length }).toEqual({ round, created: 1 });
        for (const a of answers.filter((x) => x.status !== 201))
          expect({ round, status: a.status, code: a.body.code }).toEqual({
            round,
            status: 409,
            code: "dates_unavailable",
          });
      }
      expect(await overlaps(t.deps.database)).toBe(0);
    }, 120_000);

    test("a randomized concurrent mix of bookings and cancellations over a few properties: never a 5xx, never an overlap", async () => {
      const places = await Promise.all(
        [0, 1, 2].map(() => createListing(t.call, host, { minNights: 1, maxNights: 30 })),
      );
      const created: { guest: Registered; id: string }[] = [];
      const seen = new Map<number, number>();
      for (let wave = 0; wave < 6; wave++) {
        const requests = guests.map(async (g, i) => {
          // Some cancel a booking they made in an earlier wave, the rest book random nights.
          const mine = created.filter((c) => c.guest === g);
          if (mine.length && Math.random() < 0.3) {
            const c = mine[Math.floor(Math.random() * mine.length)] as (typeof mine)[number];
            return (await t.call("POST", `/api/v1/bookings/${c.id}/cancel`, { token: g.accessToken })).status;
          }
          const p = places[(i + wave) % places.length] as { id: string };
          const checkIn = addDays(START, 400 + Math.floor(Math.random() * 30));
          const res = await book(t.call, g, {
            propertyId: p.id,
            checkIn,
            checkOut: addDays(checkIn, 1 + Math.floor(Math.random() * 5)),
          });
          if (res.status === 201) created.push({ guest: g, id: res.body.id });
          return res.status;
        });
        for (const s of await Promise.all(requests)) seen.set(s, (seen.get(s) ?? 0) + 1);
      }
      expect([...seen.keys()].filter((s) => s >= 500)).toEqual([]);
      expect([...seen.keys()].every((s) => [200, 201, 409].includes(s))).toBe(true);
      expect(seen.get(201) ?? 0).toBeGreaterThan(0);
      expect(seen.get(409) ?? 0).toBeGreaterThan(0);
      expect(await overlaps(t.deps.database)).toBe(0);
    }, 120_000);
  });
}
