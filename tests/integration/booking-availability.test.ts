// Everything that shows availability follows the bookings at once: availability, dated search and
// the iCal feed, after a booking is made, cancelled or expires — with the cache on Redis, with the
// in-process cache, and across two instances of the service on one Redis.
import { afterAll, describe, expect, test } from "bun:test";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { book, drainDue, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";
import { redisUrl } from "../support/services";

const NOW = "2031-06-01T09:00:00Z";

interface Views {
  available: boolean[];
  inSearch: boolean;
  inFeed: boolean;
}

/** What a reader of `reader` sees of nights [10th, 12th) of June at `propertyId`. */
async function views(reader: TestApp, propertyId: string, city: string): Promise<Views> {
  const days = await reader.call<{ days: { available: boolean }[] }>(
    "GET",
    `/api/v1/properties/${propertyId}/availability?from=2031-06-10&to=2031-06-12`,
  );
  const search = await reader.call<{ data: { id: string }[] }>(
    "GET",
    `/api/v1/properties?city=${city}&checkIn=2031-06-10&checkOut=2031-06-12&limit=100`,
  );
  const feed = await reader.call("GET", `/api/v1/properties/${propertyId}/calendar.ics`);
  return {
    available: days.body.days.map((d) => d.available),
    inSearch: search.body.data.some((p) => p.id === propertyId),
    inFeed: feed.text.includes("DTSTART;VALUE=DATE:20310610"),
  };
}
const FREE: Views = { available: [true, true], inSearch: true, inFeed: false };
const HELD: Views = { available: [false, false], inSearch: false, inFeed: true };

/** The scenario, with bookings written through `writer` and read through `reader`. */
async function followsBookings(writer: TestApp, reader: TestApp) {
  // Each instance has its own test clock: both move together.
  const clock = async (now: string) => {
    await setClock(writer.call, now);
    if (reader !== writer) await setClock(reader.call, now);
  };
  await clock(NOW);
  const host = await registerHost(writer.call);
  const city = `Town${Math.random().toString(36).slice(2, 8)}`;
  const p = await createListing(writer.call, host, { address: { line1: "1 Main St", city, country: "PT" } });
  const guest: Registered = await registerUser(writer.call);
  // Fill every cache first: the reads that follow must not be the cached ones.
  expect(await views(reader, p.id, city)).toEqual(FREE);
  expect(await views(reader, p.id, city)).toEqual(FREE);
  const b = await book(writer.call, guest, { propertyId: p.id, checkIn: "2031-06-10", checkOut: "2031-06-12" });
  expect(b.status).toBe(201);
  expect(await views(reader, p.id, city)).toEqual(HELD);
  const cancelled = await writer.call("POST", `/api/v1/bookings/${b.body.id}/cancel`, { token: guest.accessToken });
  expect(cancelled.status).toBe(200);
  expect(await views(reader, p.id, city)).toEqual(FREE);
  // A hold that expires: first the bookings sweep runs (the writer's worker), then the reader looks.
  const b2 = await book(writer.call, guest, { propertyId: p.id, checkIn: "2031-06-10", checkOut: "2031-06-12" });
  expect(b2.status).toBe(201);
  expect(await views(reader, p.id, city)).toEqual(HELD);
  await clock("2031-06-01T09:15:00Z");
  await drainDue(writer);
  expect(await views(reader, p.id, city)).toEqual(FREE);
  // And on time alone, before any job: the hold's nights are free to every view.
  const b3 = await book(writer.call, guest, { propertyId: p.id, checkIn: "2031-06-10", checkOut: "2031-06-12" });
  expect(b3.status).toBe(201);
  expect(await views(reader, p.id, city)).toEqual(HELD);
  await clock("2031-06-01T09:31:00Z");
  // The dated search's cached page may be a minute old by time alone; the sweep bumps it.
  await drainDue(writer);
  expect(await views(reader, p.id, city)).toEqual(FREE);
}

describe("availability follows bookings", () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const a of apps.reverse()) await a.close();
  });

  test(redisUrl ? "cache on Redis" : "cache in-process (no REDIS_URL)", async () => {
    const t = await startTestApp();
    apps.push(t);
    await followsBookings(t, t);
  }, 60_000);

  test("cache in-process", async () => {
    const t = await startTestApp({}, { redisUrl: "" });
    apps.push(t);
    expect(t.deps.redis).toBeNull();
    await followsBookings(t, t);
  }, 60_000);

  if (redisUrl) {
    test("two instances on one Redis: written on one, read on the other", async () => {
      const a = await startTestApp();
      const b = await startTestApp({}, { shareWith: a });
      apps.push(a, b);
      await followsBookings(a, b);
    }, 60_000);
  }
});
