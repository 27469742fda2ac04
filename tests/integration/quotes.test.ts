// GET /properties/:id/quote (and GraphQL's quote): what POST /bookings would charge, by the same
// rules from the same read. A quote and the booking made right after it cost the same, for random
// listings, rules, calendars and stays; every refusal of the booking is the quote's too, but for
// nights another stay holds, which are `available: false` rather than 409.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { type BookingBody, book, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";

let t: TestApp;
let host: Registered;
let guest: Registered;
const NOW = "2031-06-01T09:00:00.000Z";

beforeAll(async () => {
  t = await startTestApp();
  await setClock(t.call, NOW);
  host = await registerHost(t.call);
  guest = await registerUser(t.call);
}, 60_000);
afterAll(async () => {
  await t?.call("DELETE", "/api/v1/_test/clock");
  await t?.close();
});

type Quote = {
  checkIn: string;
  checkOut: string;
  guests: number;
  nights: { date: string; price: number }[];
  price: BookingBody["price"];
  available: boolean;
  instantBook: boolean;
  code?: string;
  errors?: { path: string }[];
};
const api = (path: string) => `/api/v1${path}`;
const quote = (id: string, qs: string, token?: string) =>
  t.call<Quote>("GET", api(`/properties/${id}/quote?${qs}`), token ? { token } : {});

describe("GET /properties/:id/quote", () => {
  test("the nights, the whole price and the flags; a booking made right after costs the same", async () => {
    const p = await createListing(t.call, host, {
      pricePerNight: 10_000,
      cleaningFee: 5_000,
      maxGuests: 4,
      weekendPrice: 15_000,
      weeklyDiscountPercent: 15,
      guestsIncluded: 2,
      extraGuestFee: 1_000,
    });
    const res = await quote(p.id, "checkIn=2031-06-12&checkOut=2031-06-19&guests=3");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      checkIn: "2031-06-12",
      checkOut: "2031-06-19",
      guests: 3,
      // Thu 12th .. Wed 18th: Friday and Saturday at the weekend price.
      nights: ["12", "13", "14", "15", "16", "17", "18"].map((d) => ({
        date: `2031-06-${d}`,
        price: d === "13" || d === "14" ? 15_000 : 10_000,
      })),
      price: {
        nights: 7,
        nightlyTotal: 80_000,
        discount: { kind: "weekly", percent: 15, amount: 12_000 },
        extraGuestFee: 7_000,
        cleaningFee: 5_000,
        serviceFee: 8_000,
        taxes: [],
        total: 88_000,
        hostPayout: 77_600,
        currency: "EUR",
      },
      available: true,
      instantBook: true,
    });
    // Anyone may ask, and it reads fresh: the stay booked, the same quote says it is taken.
    const made = await book(t.call, guest, {
      propertyId: p.id,
      checkIn: "2031-06-12",
      checkOut: "2031-06-19",
      guests: 3,
    });
    expect(made.status).toBe(201);
    expect(made.body.price).toEqual(res.body.price);
    const after = await quote(p.id, "checkIn=2031-06-14&checkOut=2031-06-16&guests=3");
    expect(after.status).toBe(200);
    expect(after.body.available).toBe(false);
    expect(after.body.price.nightlyTotal).toBe(25_000);
  });

  test("for random rules, overrides and stays, the booking made right after a quote has its price", async () => {
    const hosted = await registerHost(t.call, "Random Host");
    let day = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          pricePerNight: fc.integer({ min: 0, max: 50_000 }),
          cleaningFee: fc.integer({ min: 0, max: 20_000 }),
          weekendPrice: fc.option(fc.integer({ min: 0, max: 80_000 }), { nil: null }),
          weeklyDiscountPercent: fc.integer({ min: 0, max: 90 }),
          monthlyDiscountPercent: fc.integer({ min: 0, max: 90 }),
          guestsIncluded: fc.integer({ min: 1, max: 6 }),
          extraGuestFee: fc.integer({ min: 0, max: 5_000 }),
        }),
        fc.integer({ min: 1, max: 35 }),
        fc.integer({ min: 1, max: 6 }),
        fc.option(fc.integer({ min: 0, max: 90_000 }), { nil: null }),
        async (rules, nights, guests, override) => {
          const p = await createListing(t.call, hosted, { ...rules, maxGuests: 6, minNights: 1, maxNights: 60 });
          const start = new Date(Date.UTC(2031, 6, 1) + (day++ % 300) * 86_400_000);
          const checkIn = start.toISOString().slice(0, 10);
          const checkOut = new Date(start.getTime() + nights * 86_400_000).toISOString().slice(0, 10);
          if (override !== null) {
            const next = new Date(start.getTime() + 86_400_000).toISOString().slice(0, 10);
            const put = await t.call("PUT", api(`/properties/${p.id}/calendar`), {
              token: hosted.accessToken,
              body: { from: checkIn, to: next, price: override },
            });
            expect(put.status).toBe(200);
          }
          const q = await quote(p.id, `checkIn=${checkIn}&checkOut=${checkOut}&guests=${guests}`);
          expect(q.status).toBe(200);
          const sum = q.body.nights.reduce((s, n) => s + n.price, 0);
          expect(q.body.price.nightlyTotal).toBe(sum);
          const made = await book(t.call, await registerUser(t.call), { propertyId: p.id, checkIn, checkOut, guests });
          expect(made.status).toBe(201);
          expect(made.body.price).toEqual(q.body.price);
        },
      ),
      { numRuns: 15 },
    );
  }, 60_000);

  test("every refusal of POST /bookings is the quote's, with the same status, code and field", async () => {
    const p = await createListing(t.call, host, { maxGuests: 2, minNights: 2, maxNights: 5 });
    const block = await t.call("PUT", api(`/properties/${p.id}/calendar`), {
      token: host.accessToken,
      body: { from: "2031-07-03", to: "2031-07-04", blocked: true },
    });
    expect(block.status).toBe(200);
    const cases: [string, { checkIn: string; checkOut: string; guests: number }][] = [
      ["checkOut not after checkIn", { checkIn: "2031-07-10", checkOut: "2031-07-10", guests: 1 }],
      ["a past checkIn", { checkIn: "2031-05-30", checkOut: "2031-06-02", guests: 1 }],
      ["over a year", { checkIn: "2031-07-10", checkOut: "2032-07-20", guests: 1 }],
      ["too many guests", { checkIn: "2031-07-10", checkOut: "2031-07-12", guests: 3 }],
      ["too few nights", { checkIn: "2031-07-10", checkOut: "2031-07-11", guests: 1 }],
      ["too many nights", { checkIn: "2031-07-10", checkOut: "2031-07-16", guests: 1 }],
      ["a night the host blocked", { checkIn: "2031-07-02", checkOut: "2031-07-05", guests: 1 }],
    ];
    for (const [what, stay] of cases) {
      const booked = await book(t.call, guest, { propertyId: p.id, ...stay });
      const quoted = await quote(
        p.id,
        new URLSearchParams(Object.entries(stay).map(([k, v]) => [k, String(v)])).toString(),
      );
      const shape = (r: { status: number; body: { code?: string; errors?: { path: string }[] } }) => ({
        what,
        status: r.status,
        code: r.body.code,
        paths: r.body.errors?.map((e) => e.path),
      });
      expect(shape(quoted)).toEqual(shape(booked));
      expect(quoted.status).toBe(422);
    }
    // One's own listing: 422 to its host, who is known by the token.
    const own = await quote(p.id, "checkIn=2031-07-10&checkOut=2031-07-12", host.accessToken);
    expect(own.status).toBe(422);
    expect(own.body.errors?.map((e) => e.path)).toEqual(["/propertyId"]);
    // Missing or malformed dates are the query's 422.
    expect((await quote(p.id, "checkIn=2031-07-10")).status).toBe(422);
    expect((await quote(p.id, "checkIn=soon&checkOut=2031-07-12")).status).toBe(422);
  });

  test("unknown, malformed and other hosts' unlisted properties are 404; its own host gets the booking's 422", async () => {
    const qs = "checkIn=2031-07-10&checkOut=2031-07-12";
    expect((await quote("01a21001-1cb3-775a-ba4d-59603dabccf5", qs)).status).toBe(404);
    expect((await quote("nope", qs)).status).toBe(404);
    const p = await createListing(t.call, host);
    expect((await t.call("DELETE", api(`/properties/${p.id}`), { token: host.accessToken })).status).toBe(204);
    expect((await quote(p.id, qs)).status).toBe(404);
    expect((await quote(p.id, qs, guest.accessToken)).status).toBe(404);
    const mine = await quote(p.id, qs, host.accessToken);
    expect(mine.status).toBe(422);
    expect(mine.body.errors?.map((e) => e.path)).toEqual(["/propertyId"]);
  });

  test("GraphQL's quote is the REST quote", async () => {
    const p = await createListing(t.call, host, { weekendPrice: 20_000, monthlyDiscountPercent: 25 });
    const rest = await quote(p.id, "checkIn=2031-08-01&checkOut=2031-08-30&guests=2");
    expect(rest.status).toBe(200);
    expect(rest.body.price.discount?.kind).toBe("monthly");
    const gql = await t.call<{ data: { quote: Quote } }>("POST", "/graphql", {
      body: {
        query: `query($id: ID!) { quote(propertyId: $id, checkIn: "2031-08-01", checkOut: "2031-08-30", guests: 2) {
          checkIn checkOut guests nights { date price } available instantBook
          price { nights nightlyTotal discount { kind percent amount } extraGuestFee cleaningFee serviceFee taxes { name amount } total hostPayout currency } } }`,
        variables: { id: p.id },
      },
    });
    expect(gql.body.data.quote).toEqual(rest.body);
  });
});
