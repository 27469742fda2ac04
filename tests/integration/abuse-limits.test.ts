// Abuse limits of the routes that spend: how many holds a guest makes (date hoarding: per hour,
// per listing per day), how many payments a guest attempts (card testing: per booking, per hour,
// failures per hour), and the e-mails that churn no longer sends. Windows are moved with the test
// clock; small limits come from the settings.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Mail } from "../../src/modules/notifications/mailer";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { type BookingBody, book, captureMail, drainJobs, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";

const NOW = "2031-06-01T09:00:00.000Z";
const at = (ms: number) => new Date(Date.parse(NOW) + ms).toISOString();
const HOUR = 3_600_000;
const api = (path: string) => `/api/v1${path}`;

interface PaymentBody {
  id: string;
  status: string;
  failureCode?: string;
  code?: string;
}

const rateHeaders = (h: Headers) => ({
  limit: h.get("ratelimit-limit"),
  remaining: h.get("ratelimit-remaining"),
  reset: h.get("ratelimit-reset"),
});

let nextNights = 0;
/** Two nights nobody else in this file books. */
function nights(): { checkIn: string; checkOut: string } {
  const start = Date.parse("2031-09-01T00:00:00Z") + 3 * 86_400_000 * nextNights++;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { checkIn: day(start), checkOut: day(start + 2 * 86_400_000) };
}

describe("holds: BOOKING_HOLDS_PER_HOUR and BOOKING_HOLDS_PER_LISTING_PER_DAY", () => {
  let t: TestApp;
  let host: Registered;
  let places: { id: string }[];
  beforeAll(async () => {
    t = await startTestApp({ BOOKING_HOLDS_PER_HOUR: "4", BOOKING_HOLDS_PER_LISTING_PER_DAY: "3" });
    await setClock(t.call, NOW);
    host = await registerHost(t.call);
    places = await Promise.all(Array.from({ length: 6 }, () => createListing(t.call, host)));
  }, 60_000);
  afterAll(async () => {
    await t?.call("DELETE", "/api/v1/_test/clock");
    await t?.close();
  });
  const cancel = (g: Registered, id: string) =>
    t.call<BookingBody>("POST", api(`/bookings/${id}/cancel`), { token: g.accessToken });
  const place = (i: number) => (places[i] as { id: string }).id;
  /** Holds and cancels at once: the churn of date hoarding. */
  async function churn(g: Registered, propertyId: string) {
    const res = await book(t.call, g, { propertyId, ...nights() });
    if (res.status === 201) expect((await cancel(g, res.body.id)).status).toBe(200);
    return res;
  }

  test("hold-and-cancel churn on one listing: 201 with RateLimit-* down to 0, then 429 rate_limited with Retry-After; a day later, again", async () => {
    await setClock(t.call, NOW);
    const g = await registerUser(t.call);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await churn(g, place(0)));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 429]);
    // The tighter limit (3 a day on this listing) is the one shown; the clock is frozen at NOW.
    expect(answers.slice(0, 3).map((a) => rateHeaders(a.headers))).toEqual(
      ["2", "1", "0"].map((remaining) => ({ limit: "3", remaining, reset: "86400" })),
    );
    const refused = answers[3];
    expect(refused?.body.code).toBe("rate_limited");
    expect(refused?.headers.get("retry-after")).toBe("86400");
    expect(rateHeaders(refused?.headers as Headers)).toEqual({ limit: "3", remaining: "0", reset: "86400" });
    // Another listing is another quota (the hourly one: 4, of which this is the fourth).
    const elsewhere = await churn(g, place(1));
    expect(elsewhere.status).toBe(201);
    expect(rateHeaders(elsewhere.headers)).toEqual({ limit: "4", remaining: "0", reset: "3600" });
    // A day later (sliding, by the service clock) the listing takes holds again.
    await setClock(t.call, at(24 * HOUR + 1000));
    expect((await churn(g, place(0))).status).toBe(201);
  });

  test("per hour across listings: the fifth hold within the hour is 429; an hour later it is 201", async () => {
    await setClock(t.call, NOW);
    const g = await registerUser(t.call);
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      // A few minutes apart: the window slides from the first of them.
      await setClock(t.call, at(i * 60_000));
      statuses.push(await churn(g, place(i)));
    }
    expect(statuses.map((a) => a.status)).toEqual([201, 201, 201, 201, 429]);
    // Room again when the first hold (at NOW) is an hour old: 4 minutes after the refusal, an hour less.
    expect(statuses[4]?.headers.get("retry-after")).toBe(String(3600 - 4 * 60));
    await setClock(t.call, at(HOUR + 1000));
    expect((await churn(g, place(4))).status).toBe(201);
  });

  test("only holds made count: refusals (409 dates_unavailable, 422, 404) and Idempotency-Key replays do not", async () => {
    await setClock(t.call, NOW);
    const g = await registerUser(t.call);
    const other = await registerUser(t.call);
    const taken = nights();
    expect((await book(t.call, other, { propertyId: place(2), ...taken })).status).toBe(201);
    const first = await book(t.call, g, { propertyId: place(2), ...nights() }, { "idempotency-key": "hold-1" });
    expect(first.status).toBe(201);
    const body = first.body;
    for (let i = 0; i < 3; i++) {
      // The replay sends the same request (the same nights): the stored answer comes back.
      const replay = await t.call<BookingBody>("POST", api("/bookings"), {
        token: g.accessToken,
        body: { propertyId: place(2), checkIn: body.checkIn, checkOut: body.checkOut, guests: 1 },
        headers: { "idempotency-key": "hold-1" },
      });
      expect([replay.status, replay.headers.get("idempotent-replayed"), replay.body.id]).toEqual([
        201,
        "true",
        body.id,
      ]);
      expect((await book(t.call, g, { propertyId: place(2), ...taken })).body.code).toBe("dates_unavailable");
      expect((await book(t.call, g, { propertyId: place(2), ...nights(), guests: 40 })).status).toBe(422);
      const unknown = "01a21001-1cb3-775a-ba4d-59603dabccf5";
      expect((await book(t.call, g, { propertyId: unknown, ...nights() })).status).toBe(404);
    }
    // One hold made so far: this one is the second on the listing (of 3) and of the hour (of 4).
    const second = await book(t.call, g, { propertyId: place(2), ...nights() });
    expect(second.status).toBe(201);
    expect(rateHeaders(second.headers)).toEqual({ limit: "3", remaining: "1", reset: "86400" });
  });

  test("the limit lives in the verb: GraphQL createBooking meets it too", async () => {
    await setClock(t.call, NOW);
    const g = await registerUser(t.call);
    for (let i = 0; i < 3; i++) expect((await churn(g, place(3))).status).toBe(201);
    const res = await t.call<{ data: unknown; errors?: { extensions: Record<string, unknown> }[] }>(
      "POST",
      "/graphql",
      {
        token: g.accessToken,
        body: {
          query: "mutation($i: CreateBookingInput!) { createBooking(input: $i) { id } }",
          variables: { i: { propertyId: place(3), ...nights(), guests: 1 } },
        },
      },
    );
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "rate_limited", status: 429, retryAfter: 86400 });
  });

  test("a parallel burst overshoots by at most MAX_PENDING_BOOKINGS − 1 (holds at once are counted under the guest's lock)", async () => {
    await setClock(t.call, NOW);
    const g = await registerUser(t.call);
    for (let i = 0; i < 3; i++) expect((await churn(g, place(i))).status).toBe(201);
    const burst = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) => book(t.call, g, { propertyId: place(i), ...nights() })),
    );
    const made = burst.filter((r) => r.status === 201).length;
    expect(made).toBeGreaterThanOrEqual(1);
    expect(3 + made).toBeLessThanOrEqual(4 + 3 - 1);
    for (const r of burst.filter((x) => x.status !== 201)) expect(r.status).toBe(429);
  });
});

describe("e-mails and payment attempts", () => {
  let t: TestApp;
  let host: Registered;
  let property: { id: string };
  const mail: Mail[] = [];
  beforeAll(async () => {
    // Holds limits at their defaults; the payment limits small.
    t = await startTestApp({
      PAYMENT_ATTEMPTS_PER_BOOKING: "3",
      PAYMENT_FAILURES_PER_USER_PER_HOUR: "4",
      PAYMENT_ATTEMPTS_PER_USER_PER_HOUR: "6",
      PAYMENT_PROVIDER_LATENCY_MS: "0",
      JOB_BACKOFF_MS: "1",
    });
    await setClock(t.call, NOW);
    host = await registerHost(t.call);
    property = await createListing(t.call, host, { cancellationPolicy: "flexible" });
    captureMail(t, mail);
  }, 60_000);
  afterAll(async () => {
    await t?.call("DELETE", "/api/v1/_test/clock");
    await t?.close();
  });
  const cancel = (g: Registered, id: string) =>
    t.call<BookingBody>("POST", api(`/bookings/${id}/cancel`), { token: g.accessToken });
  const mailsTo = (u: Registered) => mail.filter((m) => m.to === u.email).map((m) => m.subject);
  const notes = (u: Registered, type: string) =>
    t.deps.database.raw.query("select 1 from notifications where user_id = $1 and type = $2", [u.id, type]);
  /** A new guest whose own registration e-mails are out of the way. */
  async function guest(): Promise<Registered> {
    const g = await registerUser(t.call);
    await drainJobs(t);
    mail.length = 0;
    return g;
  }
  async function hold(g: Registered, propertyId = property.id): Promise<BookingBody> {
    const res = await book(t.call, g, { propertyId, ...nights() });
    expect(res.status).toBe(201);
    return res.body;
  }
  const pay = (g: Registered, bookingId: string, paymentMethod: string, key: string = crypto.randomUUID()) =>
    t.call<PaymentBody>("POST", api(`/bookings/${bookingId}/payments`), {
      token: g.accessToken,
      body: { paymentMethod },
      headers: { "idempotency-key": key },
    });
  /** Pays and lets the charge job settle it. */
  async function charged(g: Registered, bookingId: string, paymentMethod: string, key?: string) {
    const res = await pay(g, bookingId, paymentMethod, key);
    expect(res.status).toBe(202);
    await drainJobs(t);
    const after = await t.call<PaymentBody>("GET", api(`/payments/${res.body.id}`), { token: g.accessToken });
    expect(after.body.status).toBe(paymentMethod === "pm_card_visa" ? "succeeded" : "failed");
    return res;
  }
  const statusOf = async (g: Registered, id: string) =>
    (await t.call<BookingBody>("GET", api(`/bookings/${id}`), { token: g.accessToken })).body.status;

  test("5 hold-and-cancel cycles by the guest mail no one (10 e-mails before); the in-app notifications stay", async () => {
    await setClock(t.call, NOW);
    const g = await guest();
    for (let i = 0; i < 5; i++) {
      const b = await hold(g);
      expect((await cancel(g, b.id)).status).toBe(200);
    }
    await drainJobs(t);
    expect(mailsTo(g)).toEqual([]);
    expect(mailsTo(host)).toEqual([]);
    expect((await notes(g, "booking_created")).length).toBe(5);
    expect((await notes(g, "booking_cancelled")).length).toBe(5);
    expect((await notes(host, "booking_cancelled")).length).toBeGreaterThanOrEqual(5);
  });

  test("what the guest did not do is still e-mailed: a host's cancellation, an expiry, a confirmation and a paid stay's cancellation", async () => {
    await setClock(t.call, NOW);
    const g = await guest();
    const byHost = await hold(g);
    expect((await cancel(host, byHost.id)).status).toBe(200);
    const expiring = await hold(g);
    await setClock(t.call, at(15 * 60_000));
    await drainJobs(t);
    expect(await statusOf(g, expiring.id)).toBe("expired");
    const paid = await hold(g);
    await charged(g, paid.id, "pm_card_visa");
    expect(await statusOf(g, paid.id)).toBe("confirmed");
    expect((await cancel(g, paid.id)).status).toBe(200);
    await drainJobs(t);
    expect(mailsTo(g).sort()).toEqual(
      [
        "Booking cancelled",
        "Hold expired",
        "Payment received",
        "Booking confirmed",
        "Booking cancelled",
        "Refund issued",
      ].sort(),
    );
  });

  test("N−1 declines, their replays, then a good card: 202 and confirmed; RateLimit-* on each 202; paid, the booking's answer is its 409", async () => {
    await setClock(t.call, NOW);
    const g = await guest();
    const b = await hold(g);
    const first = await charged(g, b.id, "pm_card_declined", "decline-1");
    const second = await charged(g, b.id, "pm_card_insufficient_funds", "decline-2");
    // Replays of both answers, again and again: no attempt is made, none is counted.
    for (let i = 0; i < 3; i++)
      for (const [key, method, answer] of [
        ["decline-1", "pm_card_declined", first],
        ["decline-2", "pm_card_insufficient_funds", second],
      ] as const) {
        const replay = await pay(g, b.id, method, key);
        expect([replay.status, replay.headers.get("idempotent-replayed"), replay.body.id]).toEqual([
          202,
          "true",
          answer.body.id,
        ]);
      }
    const good = await charged(g, b.id, "pm_card_visa");
    expect(await statusOf(g, b.id)).toBe("confirmed");
    // The booking's 3 attempts are the tightest limit; its reset is the hold's end (15 min).
    expect([first, second, good].map((a) => rateHeaders(a.headers))).toEqual(
      ["2", "1", "0"].map((remaining) => ({ limit: "3", remaining, reset: "900" })),
    );
    // Over the booking's limit now, and paid: a new attempt is the usual 409, never a 429.
    const again = await pay(g, b.id, "pm_card_visa");
    expect([again.status, again.body.code]).toEqual([409, "invalid_state"]);
  });

  test("card testing on one booking: N declines, then 429 rate_limited (even for a good card); one e-mail, N notifications; GraphQL meets it too", async () => {
    await setClock(t.call, NOW);
    const g = await guest();
    const b = await hold(g);
    for (let i = 0; i < 3; i++) await charged(g, b.id, "pm_card_declined");
    await setClock(t.call, at(5 * 60_000));
    const refused = await pay(g, b.id, "pm_card_visa", "after-the-limit");
    expect([refused.status, refused.body.code]).toEqual([429, "rate_limited"]);
    // The booking takes no more attempts while its hold lives: 10 minutes are left of it.
    expect(refused.headers.get("retry-after")).toBe("600");
    expect(rateHeaders(refused.headers)).toEqual({ limit: "3", remaining: "0", reset: "600" });
    // A 429 is no stored answer: the key is free (and still refused).
    expect((await pay(g, b.id, "pm_card_visa", "after-the-limit")).status).toBe(429);
    const rows = await t.deps.database.raw.query("select status from payments where booking_id = $1", [b.id]);
    expect(rows.map((r) => r.status)).toEqual(["failed", "failed", "failed"]);
    await drainJobs(t);
    expect(mailsTo(g)).toEqual(["Payment failed"]);
    expect((await notes(g, "payment_failed")).length).toBe(3);
    const gql = await t.call<{ errors?: { extensions: Record<string, unknown> }[] }>("POST", "/graphql", {
      token: g.accessToken,
      body: {
        query:
          'mutation($id: ID!) { payBooking(bookingId: $id, paymentMethod: "pm_card_visa", idempotencyKey: "gql-over") { id } }',
        variables: { id: b.id },
      },
    });
    expect(gql.body.errors?.[0]?.extensions).toMatchObject({ code: "rate_limited", status: 429, retryAfter: 600 });
  });

  test("failures per guest per hour, across bookings: the fifth attempt after 4 failures is 429 even with a good card; an hour later it goes through", async () => {
    await setClock(t.call, NOW);
    const g = await guest();
    const [a, b] = [await hold(g), await hold(g)];
    await charged(g, a.id, "pm_card_declined");
    await charged(g, a.id, "pm_card_declined");
    await setClock(t.call, at(10 * 60_000));
    await charged(g, b.id, "pm_card_declined");
    const last = await charged(g, b.id, "pm_card_declined");
    expect(rateHeaders(last.headers)).toEqual({ limit: "4", remaining: "0", reset: "3000" });
    const refused = await pay(g, b.id, "pm_card_visa");
    expect([refused.status, refused.body.code]).toEqual([429, "rate_limited"]);
    // Room again when the first failures (those at NOW) leave the hour: 50 minutes from now.
    expect(refused.headers.get("retry-after")).toBe("3000");
    const c = await hold(g);
    expect((await pay(g, c.id, "pm_card_visa")).status).toBe(429);
    await setClock(t.call, at(HOUR + 1000));
    const d = await hold(g);
    await charged(g, d.id, "pm_card_visa");
    expect(await statusOf(g, d.id)).toBe("confirmed");
  });

  test("attempts per guest per hour (successes count): the seventh payment within the hour is 429", async () => {
    await setClock(t.call, NOW);
    const g = await guest();
    const listings = await Promise.all([0, 1].map(() => createListing(t.call, host)));
    for (let i = 0; i < 6; i++) {
      const b = await hold(g, (listings[i % 2] as { id: string }).id);
      await charged(g, b.id, "pm_card_visa");
    }
    const seventh = await hold(g, property.id);
    const refused = await pay(g, seventh.id, "pm_card_visa");
    expect([refused.status, refused.body.code, refused.headers.get("ratelimit-limit")]).toEqual([
      429,
      "rate_limited",
      "6",
    ]);
  });
});
