// Bookings over REST: the rules of creation, the price, who sees what, cancellation and refunds,
// the holds limit, Idempotency-Key, and what time does (expiry, completion) through the test clock.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { type BookingBody, book, drainDue, drainJobs, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";

let t: TestApp;
let host: Registered;
let guest: Registered;
let stranger: Registered;
let property: { id: string };
const NOW = "2031-06-01T09:00:00.000Z";

beforeAll(async () => {
  t = await startTestApp();
  await setClock(t.call, NOW);
  host = await registerHost(t.call);
  [guest, stranger] = await Promise.all([registerUser(t.call), registerUser(t.call)]);
  property = await createListing(t.call, host, {
    pricePerNight: 12_000,
    cleaningFee: 3_000,
    maxGuests: 4,
    minNights: 2,
    maxNights: 10,
    cancellationPolicy: "moderate",
  });
}, 60_000);
// Each test starts at NOW, whatever the one before did to the clock.
afterEach(() => setClock(t.call, NOW));
afterAll(async () => {
  await t?.call("DELETE", "/api/v1/_test/clock");
  await t?.close();
});

const api = (path: string) => `/api/v1${path}`;
const get = (user: Registered, id: string) =>
  t.call<BookingBody>("GET", api(`/bookings/${id}`), { token: user.accessToken });
const cancel = (user: Registered, id: string, body?: Record<string, unknown>) =>
  t.call<BookingBody>("POST", api(`/bookings/${id}/cancel`), { token: user.accessToken, body });
const setStatus = (id: string, status: string) =>
  t.deps.database.raw.query("update bookings set status = $2 where id = $1", [id, status]);
/** A new guest per booking where the holds limit is not the subject. */
const newGuest = () => registerUser(t.call);

describe("create", () => {
  test("a listing's pricing rules price the booking, which keeps that price when the rules change", async () => {
    const p = await createListing(t.call, host, {
      pricePerNight: 10_000,
      cleaningFee: 5_000,
      maxGuests: 4,
      weekendPrice: 15_000,
      weeklyDiscountPercent: 15,
      monthlyDiscountPercent: 30,
      guestsIncluded: 2,
      extraGuestFee: 1_000,
    });
    // Tue 2031-06-10 .. Tue 2031-06-17: 7 nights, Fri 13th and Sat 14th at the weekend price, one
    // override (Sun 15th, 9000): 10000 × 4 + 15000 × 2 + 9000 = 79000.
    const put = await t.call("PUT", api(`/properties/${p.id}/calendar`), {
      token: host.accessToken,
      body: { from: "2031-06-15", to: "2031-06-16", price: 9_000 },
    });
    expect(put.status).toBe(200);
    const res = await book(t.call, await newGuest(), {
      propertyId: p.id,
      checkIn: "2031-06-10",
      checkOut: "2031-06-17",
      guests: 3,
    });
    expect(res.status).toBe(201);
    const price = {
      nights: 7,
      nightlyTotal: 79_000,
      discount: { kind: "weekly" as const, percent: 15, amount: 11_850 }, // the weekly one: 7 nights, not 28
      extraGuestFee: 7_000, // 1 guest above the 2 included × 7 nights, not discounted
      cleaningFee: 5_000,
      serviceFee: 7_915, // 10 % of 79000 − 11850 + 7000 + 5000 = 79150
      taxes: [],
      total: 87_065,
      hostPayout: 76_775, // 79150 less 3 % (2374.5 → 2375)
      currency: "EUR",
    };
    expect(res.body.price).toEqual(price);
    // Availability prices each night as the booking did.
    const days = await t.call<{ days: { date: string; price: number }[] }>(
      "GET",
      api(`/properties/${p.id}/availability?from=2031-06-12&to=2031-06-16`),
    );
    expect(days.body.days.map((d) => d.price)).toEqual([10_000, 15_000, 15_000, 9_000]);
    const patched = await t.call("PATCH", api(`/properties/${p.id}`), {
      token: host.accessToken,
      body: { weekendPrice: null, weeklyDiscountPercent: 0, extraGuestFee: 0 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      weekendPrice: null,
      weeklyDiscountPercent: 0,
      extraGuestFee: 0,
      guestsIncluded: 2,
    });
    const read = await t.call<BookingBody>("GET", api(`/bookings/${res.body.id}`), { token: host.accessToken });
    expect(read.body.price).toEqual(price);
  });

  test("201: the contract's Booking, priced by the server with overrides and rounding, held for 15 minutes", async () => {
    const p = await createListing(t.call, host, { pricePerNight: 12_000, cleaningFee: 3_000 });
    // One night costs 15005: 12000 + 15005 + 12000 + 3000 cleaning = 42005 → 10 % = 4200.5 → 4201.
    const put = await t.call("PUT", api(`/properties/${p.id}/calendar`), {
      token: host.accessToken,
      body: { from: "2031-06-11", to: "2031-06-12", price: 15_005 },
    });
    expect(put.status).toBe(200);
    const res = await book(t.call, guest, {
      propertyId: p.id,
      checkIn: "2031-06-10",
      checkOut: "2031-06-13",
      guests: 2,
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      propertyId: p.id,
      guestId: guest.id,
      checkIn: "2031-06-10",
      checkOut: "2031-06-13",
      guests: 2,
      status: "pending_payment",
      price: {
        nights: 3,
        nightlyTotal: 39_005,
        discount: null,
        extraGuestFee: 0,
        cleaningFee: 3_000,
        serviceFee: 4_201,
        taxes: [],
        total: 46_206,
        hostPayout: 40_745, // 42005 less 3 % (1260.15 → 1260)
        currency: "EUR",
      },
      expiresAt: "2031-06-01T09:15:00.000Z",
      createdAt: NOW,
      updatedAt: NOW,
    });
    // The price is the booking's: a later change of the listing's prices does not touch it.
    await t.call("PATCH", api(`/properties/${p.id}`), {
      token: host.accessToken,
      body: { pricePerNight: 99_000, cleaningFee: 0, cancellationPolicy: "strict" },
    });
    await t.call("PUT", api(`/properties/${p.id}/calendar`), {
      token: host.accessToken,
      body: { from: "2031-06-10", to: "2031-06-13", price: 1 },
    });
    const again = await get(guest, res.body.id);
    expect(again.body.price).toEqual(res.body.price);
    await cancel(guest, res.body.id);
  });

  test("one transaction: the guest's and the host's notifications are written with the booking, no job is queued for it", async () => {
    const g = await newGuest();
    const p = await createListing(t.call, host);
    const before = await t.deps.database.raw.query("select count(*)::int as n from outbox");
    const b = await book(t.call, g, { propertyId: p.id, checkIn: "2031-06-20", checkOut: "2031-06-22" });
    expect(b.status).toBe(201);
    // No job has run: the notifications are there at once, one each, and nothing waits in the outbox.
    const notes = await t.deps.database.raw.query(
      "select user_id, type, dedupe_key from notifications where data->>'bookingId' = $1 order by dedupe_key",
      [b.body.id],
    );
    expect(notes.map((n) => [n.user_id === g.id ? "guest" : n.user_id === host.id ? "host" : "?", n.type])).toEqual([
      ["guest", "booking_created"],
      ["host", "booking_created"],
    ]);
    const after = await t.deps.database.raw.query("select count(*)::int as n from outbox");
    expect(after[0]?.n).toBe(before[0]?.n);
    const listed = await t.call<{ data: { type: string; data: { bookingId: string } }[] }>(
      "GET",
      "/api/v1/notifications",
      { token: host.accessToken },
    );
    expect(listed.body.data.some((n) => n.type === "booking_created" && n.data.bookingId === b.body.id)).toBe(true);
  });

  test("the order of refusals past the hold limits: nights another stay holds are 409, free ones 429, counted per guest", async () => {
    const g = await newGuest();
    const p = await createListing(t.call, host);
    // Five holds on one listing in a day (each cancelled: a hold made counts whatever became of it).
    for (let i = 0; i < 5; i++) {
      const b = await book(t.call, g, { propertyId: p.id, checkIn: `2031-09-1${i}`, checkOut: `2031-09-1${i + 1}` });
      expect(b.status).toBe(201);
      expect((await t.call("POST", `/api/v1/bookings/${b.body.id}/cancel`, { token: g.accessToken })).status).toBe(200);
    }
    const taken = await book(t.call, await newGuest(), {
      propertyId: p.id,
      checkIn: "2031-09-20",
      checkOut: "2031-09-22",
    });
    expect(taken.status).toBe(201);
    const onTaken = await book(t.call, g, { propertyId: p.id, checkIn: "2031-09-21", checkOut: "2031-09-23" });
    expect([onTaken.status, onTaken.body.code]).toEqual([409, "dates_unavailable"]);
    const onFree = await book(t.call, g, { propertyId: p.id, checkIn: "2031-09-25", checkOut: "2031-09-27" });
    expect([onFree.status, onFree.body.code]).toEqual([429, "rate_limited"]);
    // Another guest is not counted with this one's holds.
    expect(
      (await book(t.call, await newGuest(), { propertyId: p.id, checkIn: "2031-09-25", checkOut: "2031-09-27" }))
        .status,
    ).toBe(201);
  });

  test("every broken rule is 422 naming its field; an unknown or malformed property is 404", async () => {
    const mine = await createListing(t.call, host);
    const unlisted = await createListing(t.call, host);
    expect((await t.call("DELETE", api(`/properties/${unlisted.id}`), { token: host.accessToken })).status).toBe(204);
    const blocked = await createListing(t.call, host);
    await t.call("PUT", api(`/properties/${blocked.id}/calendar`), {
      token: host.accessToken,
      body: { from: "2031-07-03", to: "2031-07-04", blocked: true },
    });
    const p = property.id;
    const cases: [string, Registered, Record<string, unknown>, string][] = [
      ["check-in in the past", guest, { propertyId: p, checkIn: "2031-05-31", checkOut: "2031-06-03" }, "/checkIn"],
      ["checkOut = checkIn", guest, { propertyId: p, checkIn: "2031-07-01", checkOut: "2031-07-01" }, "/checkOut"],
      ["checkOut before checkIn", guest, { propertyId: p, checkIn: "2031-07-05", checkOut: "2031-07-01" }, "/checkOut"],
      ["an impossible date", guest, { propertyId: p, checkIn: "2031-02-30", checkOut: "2031-03-03" }, "/checkIn"],
      [
        "a date that is not YYYY-MM-DD",
        guest,
        { propertyId: p, checkIn: "2031-7-1", checkOut: "2031-07-03" },
        "/checkIn",
      ],
      [
        "fewer nights than minNights (2)",
        guest,
        { propertyId: p, checkIn: "2031-07-01", checkOut: "2031-07-02" },
        "/checkOut",
      ],
      [
        "more nights than maxNights (10)",
        guest,
        { propertyId: p, checkIn: "2031-07-01", checkOut: "2031-07-12" },
        "/checkOut",
      ],
      ["no guests", guest, { propertyId: p, checkIn: "2031-07-01", checkOut: "2031-07-03", guests: 0 }, "/guests"],
      [
        "more guests than maxGuests (4)",
        guest,
        { propertyId: p, checkIn: "2031-07-01", checkOut: "2031-07-03", guests: 5 },
        "/guests",
      ],
      [
        "guests as text",
        guest,
        { propertyId: p, checkIn: "2031-07-01", checkOut: "2031-07-03", guests: "2" },
        "/guests",
      ],
      ["a blocked night", guest, { propertyId: blocked.id, checkIn: "2031-07-02", checkOut: "2031-07-05" }, "/checkIn"],
      [
        "an unlisted property",
        guest,
        { propertyId: unlisted.id, checkIn: "2031-07-01", checkOut: "2031-07-03" },
        "/propertyId",
      ],
      [
        "one's own property",
        host,
        { propertyId: mine.id, checkIn: "2031-07-01", checkOut: "2031-07-03" },
        "/propertyId",
      ],
      ["an unknown field", guest, { propertyId: p, checkIn: "2031-07-01", checkOut: "2031-07-03", price: 1 }, "/price"],
    ];
    for (const [what, who, body, path] of cases) {
      const res = await book(t.call, who, body);
      expect({ what, status: res.status, code: res.body.code, path: res.body.errors?.[0]?.path }).toEqual({
        what,
        status: 422,
        code: "validation_failed",
        path,
      });
    }
    for (const propertyId of ["01a21001-1cb3-775a-ba4d-59603dabccf5", "not-a-uuid", "'; drop table bookings; --"]) {
      const res = await book(t.call, guest, { propertyId, checkIn: "2031-07-01", checkOut: "2031-07-03" });
      expect({ propertyId, status: res.status, code: res.body.code }).toEqual({
        propertyId,
        status: 404,
        code: "not_found",
      });
    }
    // Nothing of the refused requests was stored.
    const rows = await t.deps.database.raw.query(
      "select count(*)::int as n from bookings where guest_id = $1 and check_in >= '2031-07-01'",
      [guest.id],
    );
    expect(rows[0]?.n).toBe(0);
  });

  test("overlap → 409 dates_unavailable; back-to-back stays both succeed; cancelled nights can be booked again at once", async () => {
    const [a, b, c, d] = await Promise.all([newGuest(), newGuest(), newGuest(), newGuest()]);
    const first = await book(t.call, a, { propertyId: property.id, checkIn: "2031-08-10", checkOut: "2031-08-13" });
    expect(first.status).toBe(201);
    for (const [checkIn, checkOut] of [
      ["2031-08-10", "2031-08-13"],
      ["2031-08-12", "2031-08-15"],
      ["2031-08-08", "2031-08-11"],
      ["2031-08-08", "2031-08-16"],
    ]) {
      const res = await book(t.call, b, { propertyId: property.id, checkIn, checkOut });
      expect({ checkIn, status: res.status, code: res.body.code }).toEqual({
        checkIn,
        status: 409,
        code: "dates_unavailable",
      });
    }
    // Checkout day = next check-in, on both sides.
    expect(
      (await book(t.call, b, { propertyId: property.id, checkIn: "2031-08-13", checkOut: "2031-08-15" })).status,
    ).toBe(201);
    expect(
      (await book(t.call, c, { propertyId: property.id, checkIn: "2031-08-08", checkOut: "2031-08-10" })).status,
    ).toBe(201);
    expect((await cancel(a, first.body.id)).status).toBe(200);
    expect(
      (await book(t.call, d, { propertyId: property.id, checkIn: "2031-08-10", checkOut: "2031-08-13" })).status,
    ).toBe(201);
  });

  test("holds cannot be hoarded: MAX_PENDING_BOOKINGS (3) unpaid holds, then 429 too_many_holds — also for a concurrent burst", async () => {
    const hoarder = await newGuest();
    const places = await Promise.all(Array.from({ length: 8 }, () => createListing(t.call, host)));
    const burst = await Promise.all(
      places.map((p) => book(t.call, hoarder, { propertyId: p.id, checkIn: "2031-09-01", checkOut: "2031-09-03" })),
    );
    const statuses = burst.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 201, 429, 429, 429, 429, 429]);
    const refused = burst.find((r) => r.status === 429);
    expect(refused?.body.code).toBe("too_many_holds");
    // The first hold ends 15 minutes from now (the clock is frozen).
    expect(refused?.headers.get("retry-after")).toBe("900");
    // Other refusals come first: at the limit, an unknown property is still 404.
    const unknown = await book(t.call, hoarder, {
      propertyId: "01a21001-1cb3-775a-ba4d-59603dabccf5",
      checkIn: "2031-09-01",
      checkOut: "2031-09-03",
    });
    expect(unknown.status).toBe(404);
    // A paid (confirmed) or cancelled booking is no hold: room for another.
    const held = burst.filter((r) => r.status === 201);
    await setStatus(held[0]?.body.id as string, "confirmed");
    await cancel(hoarder, held[1]?.body.id as string);
    const next = await Promise.all(
      places
        .slice(5)
        .map((p) => book(t.call, hoarder, { propertyId: p.id, checkIn: "2031-09-05", checkOut: "2031-09-07" })),
    );
    expect(next.map((r) => r.status).sort()).toEqual([201, 201, 429]);
  });
});

/**
 * Runs `before` just ahead of the first statement sent through `db.execute` that calls
 * stayhub_create_booking, i.e. after the booking read the terms and before its turn.
 */
async function beforeTheTurn<T>(
  before: (attempt: number) => Promise<void>,
  run: () => Promise<T>,
): Promise<{ result: T; calls: number }> {
  const db = t.deps.db as unknown as { execute: (q: unknown) => Promise<unknown> };
  const real = db.execute;
  let calls = 0;
  db.execute = async (q: unknown) => {
    const text = (t.deps.db as unknown as { dialect: { sqlToQuery(q: unknown): { sql: string } } }).dialect.sqlToQuery(
      q,
    ).sql;
    if (text.includes("stayhub_create_booking")) await before(calls++);
    return real.call(t.deps.db, q);
  };
  try {
    return { result: await run(), calls };
  } finally {
    db.execute = real;
  }
}

test("a booking chosen as a deadlock victim (two overlapping inserts at one instant) is run again: 201, one booking", async () => {
  const p = await createListing(t.call, host);
  const g = await newGuest();
  // PostgreSQL aborts one of two exclusion checks waiting on each other with 40P01: the first
  // attempt here fails that way, as under a burst of overlapping bookings.
  const { result: res, calls } = await beforeTheTurn(
    async (attempt) => {
      if (attempt === 0)
        throw Object.assign(new Error("Failed query"), { cause: { code: "40P01", message: "deadlock detected" } });
    },
    () => book(t.call, g, { propertyId: p.id, checkIn: "2031-07-20", checkOut: "2031-07-22" }),
  );
  expect(res.status).toBe(201);
  expect(calls).toBe(2);
  const rows = await t.deps.database.raw.query("select count(*)::int as n from bookings where property_id = $1", [
    p.id,
  ]);
  expect(rows[0]?.n).toBe(1);
});

let g2: Registered;
beforeAll(async () => {
  g2 = await registerUser(t.call);
});

test("nights a stay is seen holding are refused at once (409, no attempt); nights only an overdue hold held are freed and booked", async () => {
  const p = await createListing(t.call, host);
  const first = await book(t.call, await newGuest(), {
    propertyId: p.id,
    checkIn: "2031-07-20",
    checkOut: "2031-07-23",
  });
  expect(first.status).toBe(201);
  const seen = await beforeTheTurn(
    async () => {},
    () => book(t.call, g2, { propertyId: p.id, checkIn: "2031-07-22", checkOut: "2031-07-24" }),
  );
  expect({
    status: seen.result.status,
    code: (seen.result.body as unknown as { code: string }).code,
    attempts: seen.calls,
  }).toEqual({
    status: 409,
    code: "dates_unavailable",
    attempts: 0,
  });
  // 16 minutes on, the hold is overdue (no job has run): it is expired, and the stay made.
  await setClock(t.call, "2031-06-01T09:16:00Z");
  const later = await beforeTheTurn(
    async () => {},
    () => book(t.call, g2, { propertyId: p.id, checkIn: "2031-07-22", checkOut: "2031-07-24" }),
  );
  expect({ status: later.result.status, attempts: later.calls }).toEqual({ status: 201, attempts: 1 });
  expect((await get(host, first.body.id)).body.status).toBe("expired");
});

describe("terms that change between their read and the booking's turn", () => {
  test("a new price: the stay is judged again and priced by the new one", async () => {
    const p = await createListing(t.call, host, { pricePerNight: 10_000, cleaningFee: 0 });
    const g = await newGuest();
    const { result: res, calls } = await beforeTheTurn(
      async (attempt) => {
        if (attempt === 0)
          await t.deps.database.raw.query("update properties set price_per_night = 20000 where id = $1", [p.id]);
      },
      () => book(t.call, g, { propertyId: p.id, checkIn: "2031-07-20", checkOut: "2031-07-22" }),
    );
    expect(res.status).toBe(201);
    expect(calls).toBe(2);
    // 2 × 20000 + 10 % = 44000 (the old price would have made 22000).
    expect(res.body.price).toMatchObject({ nightlyTotal: 40_000, total: 44_000 });
  });

  test.each([
    [
      "a night blocked meanwhile",
      "insert into calendar_days (property_id, day, blocked) values ($1, '2031-07-21', true)",
      "/checkIn",
    ],
    ["unlisted meanwhile", "update properties set status = 'unlisted' where id = $1", "/propertyId"],
  ])("%s: 422, nothing booked", async (_name, change, path) => {
    const p = await createListing(t.call, host);
    const g = await newGuest();
    const { result: res } = await beforeTheTurn(
      async (attempt) => {
        if (attempt === 0) await t.deps.database.raw.query(change, [p.id]);
      },
      () => book(t.call, g, { propertyId: p.id, checkIn: "2031-07-20", checkOut: "2031-07-22" }),
    );
    expect({
      status: res.status,
      path: (res.body as unknown as { errors: { path: string }[] }).errors?.[0]?.path,
    }).toEqual({ status: 422, path });
    const rows = await t.deps.database.raw.query("select count(*)::int as n from bookings where property_id = $1", [
      p.id,
    ]);
    expect(rows[0]?.n).toBe(0);
  });
});

test("a host blocking nights and a guest booking them at once: never both", async () => {
  for (let round = 0; round < 15; round++) {
    const p = await createListing(t.call, host);
    const g = await newGuest();
    const [blocked, booked] = await Promise.all([
      t.call("PUT", api(`/properties/${p.id}/calendar`), {
        token: host.accessToken,
        body: { from: "2031-07-10", to: "2031-07-12", blocked: true },
      }),
      book(t.call, g, { propertyId: p.id, checkIn: "2031-07-11", checkOut: "2031-07-13" }),
    ]);
    const outcome = `${blocked.status}/${booked.status}`;
    expect(["200/422", "409/201"]).toContain(outcome);
  }
});

describe("who sees what", () => {
  test("guest, host, stranger: every booking route; a booking the caller may not see is 404 exactly like one that does not exist", async () => {
    const g = await newGuest();
    const b = await book(t.call, g, { propertyId: property.id, checkIn: "2031-10-01", checkOut: "2031-10-04" });
    expect(b.status).toBe(201);
    const id = b.body.id;
    expect((await get(g, id)).status).toBe(200);
    expect((await get(host, id)).body).toEqual(b.body);
    const hidden = await get(stranger, id);
    const missing = await get(stranger, "01a21001-1cb3-775a-ba4d-59603dabccf5");
    const without = ({ requestId: _r, ...rest }: Record<string, unknown>) => rest;
    expect(hidden.status).toBe(404);
    expect(without(hidden.body)).toEqual(without(missing.body));
    expect(without(hidden.body)).toMatchObject({ status: 404, code: "not_found" });
    const malformed = await get(stranger, "nope");
    expect({ status: malformed.status, code: malformed.body.code }).toEqual({ status: 404, code: "not_found" });
    // Cancel: the stranger cannot, and learns nothing; the booking is untouched.
    const refused = await cancel(stranger, id);
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 404, code: "not_found" });
    expect((await get(g, id)).body.status).toBe("pending_payment");
    // Lists: each sees their own side only.
    const list = (user: Registered, query = "") =>
      t.call<{ data: BookingBody[] }>("GET", api(`/bookings${query}`), { token: user.accessToken });
    expect((await list(g)).body.data.map((x) => x.id)).toContain(id);
    expect((await list(host, "?as=host")).body.data.map((x) => x.id)).toContain(id);
    expect((await list(stranger)).body.data).toEqual([]);
    expect((await list(stranger, "?as=host")).body.data).toEqual([]);
    expect((await list(g, "?as=host")).body.data).toEqual([]);
    expect((await list(host)).body.data.map((x) => x.id)).not.toContain(id);
    // Without a token: 401.
    expect((await t.call("GET", api(`/bookings/${id}`))).status).toBe(401);
    // The host may cancel too, and that refunds in full (nothing was paid here).
    const byHost = await cancel(host, id, { reason: "Pipe burst" });
    expect(byHost.body.cancellation).toEqual({ cancelledAt: NOW, by: "host", reason: "Pipe burst", refundAmount: 0 });
  });

  test("lists: newest first, status filter, cursor pages, limit 1–100", async () => {
    const g = await newGuest();
    const p2 = await createListing(t.call, host);
    const ids: string[] = [];
    for (const [checkIn, checkOut] of [
      ["2032-01-01", "2032-01-03"],
      ["2032-01-05", "2032-01-07"],
      ["2032-01-09", "2032-01-11"],
    ]) {
      const res = await book(t.call, g, { propertyId: p2.id, checkIn, checkOut });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    await cancel(g, ids[0] as string);
    const page1 = await t.call<{ data: BookingBody[]; nextCursor: string | null }>("GET", api("/bookings?limit=2"), {
      token: g.accessToken,
    });
    expect(page1.body.data.map((b) => b.id)).toEqual(ids.slice(1).reverse());
    const page2 = await t.call<{ data: BookingBody[]; nextCursor: string | null }>(
      "GET",
      api(`/bookings?limit=2&cursor=${page1.body.nextCursor}`),
      { token: g.accessToken },
    );
    expect(page2.body).toEqual({
      data: [expect.objectContaining({ id: ids[0], status: "cancelled" })],
      nextCursor: null,
    });
    const cancelled = await t.call<{ data: BookingBody[] }>("GET", api("/bookings?status=cancelled"), {
      token: g.accessToken,
    });
    expect(cancelled.body.data.map((b) => b.id)).toEqual(ids.slice(0, 1));
    const asHost = await t.call<{ data: BookingBody[] }>(
      "GET",
      api("/bookings?as=host&status=pending_payment&limit=100"),
      { token: host.accessToken },
    );
    expect(asHost.body.data.map((b) => b.id)).toEqual(expect.arrayContaining(ids.slice(1)));
    for (const q of ["limit=0", "limit=101", "as=owner", "status=paid", "limit=abc"]) {
      const res = await t.call("GET", api(`/bookings?${q}`), { token: g.accessToken });
      expect({ q, status: res.status }).toEqual({ q, status: 422 });
    }
  });
});

describe("cancel", () => {
  test("refund by the policy agreed at booking, by the test clock; cancelling twice, or an expired or completed booking → 409 invalid_state", async () => {
    const strict = await createListing(t.call, host, {
      cancellationPolicy: "strict",
      pricePerNight: 10_001,
      cleaningFee: 0,
    });
    const g = await newGuest();
    const b = await book(t.call, g, { propertyId: strict.id, checkIn: "2031-06-20", checkOut: "2031-06-21" });
    // total 10001 + 1000 fee = 11001; strict: 50 % (rounded up to the guest) until 7 days before 15:00 UTC.
    expect(b.body.price.total).toBe(11_001);
    await setStatus(b.body.id, "confirmed");
    // The listing turns flexible afterwards: the guest's booking keeps strict.
    await t.call("PATCH", api(`/properties/${strict.id}`), {
      token: host.accessToken,
      body: { cancellationPolicy: "flexible" },
    });
    await setClock(t.call, "2031-06-13T15:00:00Z"); // exactly 7 days before
    const res = await cancel(g, b.body.id, { reason: "Plans changed" });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("cancelled");
    expect(res.body.cancellation).toEqual({
      cancelledAt: "2031-06-13T15:00:00.000Z",
      by: "guest",
      reason: "Plans changed",
      refundAmount: 5_501,
    });
    // The refund job was committed with the cancellation.
    const jobs = await t.deps.database.raw.query(
      "select payload from outbox where type = 'booking.refund' and dedupe_key = $1",
      [`booking:${b.body.id}:refund`],
    );
    expect(jobs.map((j) => (typeof j.payload === "string" ? JSON.parse(j.payload) : j.payload))).toEqual([
      { bookingId: b.body.id, amount: 5_501, currency: "EUR" },
    ]);
    const twice = await cancel(g, b.body.id);
    expect({ status: twice.status, code: twice.body.code }).toEqual({ status: 409, code: "invalid_state" });
    await setClock(t.call, NOW);

    // One second after the 7-day line: nothing.
    const strict2 = await createListing(t.call, host, { cancellationPolicy: "strict" });
    const b2 = await book(t.call, g, { propertyId: strict2.id, checkIn: "2031-06-20", checkOut: "2031-06-21" });
    await setStatus(b2.body.id, "confirmed");
    await setClock(t.call, "2031-06-13T15:00:01Z");
    expect((await cancel(g, b2.body.id)).body.cancellation?.refundAmount).toBe(0);
    await setClock(t.call, NOW);

    // A stay whose checkout day has come is over: not cancellable (it completes after that day).
    const over = await book(t.call, g, { propertyId: strict.id, checkIn: "2031-06-02", checkOut: "2031-06-04" });
    await setStatus(over.body.id, "confirmed");
    await setClock(t.call, "2031-06-04T10:00:00Z");
    for (const who of [g, host]) {
      const r = await cancel(who, over.body.id);
      expect({ status: r.status, code: r.body.code }).toEqual({ status: 409, code: "invalid_state" });
    }
    // During the stay (after check-in) it still can be, by the policy's rule.
    await setClock(t.call, "2031-06-03T10:00:00Z");
    expect((await cancel(host, over.body.id)).body.cancellation?.refundAmount).toBe(over.body.price.total);
    await setClock(t.call, NOW);

    for (const status of ["expired", "completed"]) {
      const b3 = await book(t.call, g, { propertyId: strict.id, checkIn: "2031-06-25", checkOut: "2031-06-26" });
      await setStatus(b3.body.id, status);
      const r = await cancel(g, b3.body.id);
      expect({ status, code: r.body.code, http: r.status }).toEqual({ status, code: "invalid_state", http: 409 });
    }
  });
});

describe("Idempotency-Key on POST /bookings", () => {
  test("same key and body: the first answer replayed, one booking; another body: 422; the key is the caller's own", async () => {
    const g = await newGuest();
    const p = await createListing(t.call, host);
    const body = { propertyId: p.id, checkIn: "2031-11-01", checkOut: "2031-11-03", guests: 2 };
    const first = await book(t.call, g, body, { "idempotency-key": "order-1" });
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    // The same body with its keys in another order is the same request.
    const replay = await book(
      t.call,
      g,
      { guests: 2, checkOut: "2031-11-03", checkIn: "2031-11-01", propertyId: p.id },
      { "idempotency-key": "order-1" },
    );
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.text).toBe(first.text);
    const other = await book(t.call, g, { ...body, guests: 3 }, { "idempotency-key": "order-1" });
    expect({ status: other.status, code: other.body.code }).toEqual({ status: 422, code: "idempotency_key_reused" });
    const rows = await t.deps.database.raw.query("select count(*)::int as n from bookings where guest_id = $1", [g.id]);
    expect(rows[0]?.n).toBe(1);
    // Someone else's key of the same name is theirs (and these nights are taken: 409, not a replay).
    const h = await newGuest();
    const theirs = await book(t.call, h, body, { "idempotency-key": "order-1" });
    expect({ status: theirs.status, code: theirs.body.code }).toEqual({ status: 409, code: "dates_unavailable" });
    // A refusal is the first answer too: replayed as it was, even once the nights are free.
    await cancel(g, first.body.id);
    const retried = await book(t.call, h, body, { "idempotency-key": "order-1" });
    expect({
      status: retried.status,
      replayed: retried.headers.get("idempotent-replayed"),
      type: retried.headers.get("content-type"),
    }).toEqual({
      status: 409,
      replayed: "true",
      type: "application/problem+json",
    });
    expect(retried.text).toBe(theirs.text);
    // A new key is a new request.
    expect((await book(t.call, h, body, { "idempotency-key": "order-2" })).status).toBe(201);
    for (const key of ["", "x".repeat(256)]) {
      const bad = await book(t.call, g, body, { "idempotency-key": key });
      expect({ key: key.length, status: bad.status }).toEqual({ key: key.length, status: 422 });
    }
  });

  test("two concurrent requests with one key: one booking; the other gets 409 idempotency_in_progress or the replay", async () => {
    for (let round = 0; round < 5; round++) {
      const g = await newGuest();
      const p = await createListing(t.call, host);
      const body = { propertyId: p.id, checkIn: "2031-12-01", checkOut: "2031-12-04" };
      const answers = await Promise.all(
        [0, 1, 2].map(() => book(t.call, g, body, { "idempotency-key": `race-${round}` })),
      );
      const created = answers.filter((a) => a.status === 201);
      expect(created.length).toBeGreaterThanOrEqual(1);
      expect(new Set(created.map((a) => a.body.id)).size).toBe(1);
      for (const a of answers.filter((x) => x.status !== 201))
        expect({ status: a.status, code: a.body.code }).toEqual({ status: 409, code: "idempotency_in_progress" });
      const rows = await t.deps.database.raw.query("select count(*)::int as n from bookings where guest_id = $1", [
        g.id,
      ]);
      expect(rows[0]?.n).toBe(1);
    }
  });
});

describe("what time does", () => {
  test("an unpaid hold expires when expiresAt passes: its nights are free, guest and host are told once (also when the sweep runs twice)", async () => {
    const g = await newGuest();
    const p = await createListing(t.call, host);
    const b = await book(t.call, g, { propertyId: p.id, checkIn: "2031-06-10", checkOut: "2031-06-12" });
    await drainJobs(t); // the "booking received" notifications
    await setClock(t.call, "2031-06-01T09:14:59Z");
    await drainJobs(t);
    expect((await get(g, b.body.id)).body.status).toBe("pending_payment");
    await setClock(t.call, "2031-06-01T09:15:00Z");
    // No job row per hold: the bookings sweep expires it. Run it twice over (a redelivery, another
    // instance's slot), concurrently with the scheduled one.
    const jobs = await t.deps.database.raw.query(
      "select count(*)::int as n from outbox where type = 'booking.expire' and payload->>'bookingId' = $1",
      [b.body.id],
    );
    expect(jobs[0]?.n).toBe(0);
    const handler = t.deps.handlers["bookings.sweep"];
    if (!handler) throw new Error("no bookings.sweep handler");
    const job = {
      id: "redelivered",
      type: "bookings.sweep" as const,
      attempt: 1,
      enqueuedAt: Date.now(),
      payload: { slot: 0 },
    };
    await Promise.all([handler(job, t.deps), handler({ ...job, attempt: 2 }, t.deps), drainDue(t)]);
    await drainJobs(t);
    const row = await t.deps.database.raw.query("select status from bookings where id = $1", [b.body.id]);
    expect(row[0]?.status).toBe("expired");
    const notes = await t.deps.database.raw.query(
      "select user_id, type from notifications where data->>'bookingId' = $1 order by type, user_id",
      [b.body.id],
    );
    expect(
      notes.map((n) => `${n.user_id === g.id ? "guest" : n.user_id === host.id ? "host" : "?"}:${n.type}`).sort(),
    ).toEqual(["guest:booking_created", "guest:booking_expired", "host:booking_created", "host:booking_expired"]);
    // Free again at once.
    const other = await newGuest();
    expect(
      (await book(t.call, other, { propertyId: p.id, checkIn: "2031-06-10", checkOut: "2031-06-12" })).status,
    ).toBe(201);
    await setClock(t.call, NOW);
  });

  test("a read or a new booking never waits for the expiry job: an overdue hold is expired on sight", async () => {
    const g = await newGuest();
    const p = await createListing(t.call, host);
    const b = await book(t.call, g, { propertyId: p.id, checkIn: "2031-06-10", checkOut: "2031-06-12" });
    await setClock(t.call, "2031-06-01T09:16:00Z");
    // No job has run: the read settles it, and so would a booking of the same nights.
    expect((await get(host, b.body.id)).body.status).toBe("expired");
    const b2 = await book(t.call, g, { propertyId: p.id, checkIn: "2031-06-14", checkOut: "2031-06-16" });
    await setClock(t.call, "2031-06-01T09:32:00Z");
    const other = await newGuest();
    expect(
      (await book(t.call, other, { propertyId: p.id, checkIn: "2031-06-15", checkOut: "2031-06-17" })).status,
    ).toBe(201);
    const expired = await t.call<{ data: BookingBody[] }>("GET", api("/bookings?status=expired"), {
      token: g.accessToken,
    });
    expect(expired.body.data.map((x) => x.id).sort()).toEqual([b.body.id, b2.body.id].sort());
    await setClock(t.call, NOW);
  });

  test("a confirmed stay completes after its checkout day (the sweep), and guest and host are told", async () => {
    const g = await newGuest();
    const p = await createListing(t.call, host);
    const b = await book(t.call, g, { propertyId: p.id, checkIn: "2031-06-03", checkOut: "2031-06-05" });
    await setStatus(b.body.id, "confirmed");
    const sweep = t.deps.handlers["bookings.sweep"];
    if (!sweep) throw new Error("no bookings.sweep handler");
    const run = () =>
      sweep(
        {
          id: `sweep-${Math.random()}`,
          type: "bookings.sweep",
          attempt: 1,
          enqueuedAt: Date.now(),
          payload: { slot: 0 },
        },
        t.deps,
      );
    await setClock(t.call, "2031-06-05T23:59:59Z"); // the checkout day itself
    await run();
    expect((await t.deps.database.raw.query("select status from bookings where id = $1", [b.body.id]))[0]?.status).toBe(
      "confirmed",
    );
    await setClock(t.call, "2031-06-06T00:00:00Z");
    await Promise.all([run(), run()]);
    await drainJobs(t);
    expect((await t.deps.database.raw.query("select status from bookings where id = $1", [b.body.id]))[0]?.status).toBe(
      "completed",
    );
    const notes = await t.deps.database.raw.query(
      "select user_id, type from notifications where type in ('booking_completed', 'review_reminder') and data->>'bookingId' = $1",
      [b.body.id],
    );
    // The guest's is the reminder to review (once, the day after checkout); the host's says the stay is over.
    expect(
      notes.map((n) => `${n.user_id === g.id ? "guest" : n.user_id === host.id ? "host" : "?"}:${n.type}`).sort(),
    ).toEqual(["guest:review_reminder", "host:booking_completed"]);
    await setClock(t.call, NOW);
  });

  test("the scheduler enqueues the sweep for each slot of test-clock time", async () => {
    const { scheduleDue, RECURRING } = await import("../../src/jobs/scheduler");
    expect(RECURRING.map((r) => r.type)).toContain("bookings.sweep");
    await setClock(t.call, "2031-06-02T10:00:00Z");
    await scheduleDue(t.deps);
    const slot = Math.floor(Date.parse("2031-06-02T10:00:00Z") / 30_000);
    const rows = await t.deps.database.raw.query("select count(*)::int as n from outbox where dedupe_key = $1", [
      `recurring:bookings-sweep:${slot}`,
    ]);
    expect(rows[0]?.n).toBe(1);
    await setClock(t.call, NOW);
  });
});
