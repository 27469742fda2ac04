// Request-to-book: on a listing with instantBook false a payment authorizes (nothing captured),
// the booking is `requested` holding its nights, and its host accepts (capture → confirmed) or
// declines (void → declined); unanswered it expires (void); its guest may cancel (void). Every
// transition happens once under concurrency (accept racing decline, the guest's cancel and the
// expiry: one winner, the others 409), a voided authorization is never captured nor a captured
// one voided — by the provider's books, not only ours — and a lapsed authorization cannot be
// captured. Webhooks charge.authorized / captured / voided, GraphQL's verbs, reconciliation.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { settleDue } from "../../src/modules/bookings/lifecycle";
import { signWebhook, TransientProviderError } from "../../src/modules/payments/provider";
import { reconcile } from "../../src/modules/payments/reconcile";
import { settleCapture } from "../../src/modules/payments/requests";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { type BookingBody, book, captureMail, drainDue, drainJobs, overlaps, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";
import { events, statusOf, subscribeBooking } from "../support/sse";

const SECRET = "whsec_test_request_to_book_0123";
const NOW = "2031-06-01T09:00:00.000Z";
const HOUR = 3_600_000;

let t: TestApp;
let host: Registered;
let otherHost: Registered;
let requestListing: { id: string };
let instantListing: { id: string };

interface PaymentBody {
  id: string;
  status: string;
  amount: number;
  refundedAmount: number;
}

beforeAll(async () => {
  // Some provider latency: the races below overlap the provider's calls, not only our transactions.
  t = await startTestApp({
    PAYMENT_WEBHOOK_SECRET: SECRET,
    PAYMENT_PROVIDER_LATENCY_MS: "3",
    JOB_BACKOFF_MS: "1",
    JOB_MAX_ATTEMPTS: "3",
  });
  await setClock(t.call, NOW);
  host = await registerHost(t.call);
  otherHost = await registerHost(t.call, "Olga Other");
  requestListing = await createListing(t.call, host, { pricePerNight: 10_000, cleaningFee: 2_000, instantBook: false });
  instantListing = await createListing(t.call, host, { pricePerNight: 10_000, cleaningFee: 2_000 });
}, 60_000);
afterAll(async () => {
  await t?.call("DELETE", "/api/v1/_test/clock");
  await t?.close();
});

const api = (path: string) => `/api/v1${path}`;
const query = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  t.deps.database.raw.query(text, params) as Promise<T[]>;
let nextDay = 0;
const nights = () => {
  const start = new Date(Date.parse("2031-09-01T00:00:00Z") + 3 * 86_400_000 * nextDay++).toISOString().slice(0, 10);
  const end = new Date(Date.parse(`${start}T00:00:00Z`) + 2 * 86_400_000).toISOString().slice(0, 10);
  return { checkIn: start, checkOut: end };
};
const getBooking = (user: Registered, id: string) =>
  t.call<BookingBody>("GET", api(`/bookings/${id}`), { token: user.accessToken });
const paymentsOf = async (user: Registered, bookingId: string) =>
  (await t.call<{ data: PaymentBody[] }>("GET", api(`/bookings/${bookingId}/payments`), { token: user.accessToken }))
    .body.data;
const accept = (user: Registered, id: string) =>
  t.call<BookingBody>("POST", api(`/bookings/${id}/accept`), { token: user.accessToken });
const decline = (user: Registered, id: string, reason?: string) =>
  t.call<BookingBody>("POST", api(`/bookings/${id}/decline`), {
    token: user.accessToken,
    ...(reason ? { body: { reason } } : {}),
  });
const cancel = (user: Registered, id: string) =>
  t.call<BookingBody>("POST", api(`/bookings/${id}/cancel`), { token: user.accessToken });
/** The provider's own books for a payment: what it holds, captured or released. */
const providerStatus = async (paymentId: string) =>
  (await query<{ status: string }>("select status from sim_charges where reference = $1", [paymentId]))[0]?.status ??
  null;

/** A signed provider event about one of our payments, under a fresh event id. */
const sendEvent = async (type: string, paymentId: string) => {
  const body = JSON.stringify({
    id: `evt_${crypto.randomUUID()}`,
    type,
    created: Math.floor(Date.now() / 1000),
    data: { paymentId },
  });
  return t.call<{ outcome: string }>("POST", api("/webhooks/payments"), {
    rawBody: body,
    headers: {
      "content-type": "application/json",
      "payment-signature": signWebhook(SECRET, body, Math.floor(Date.now() / 1000)),
    },
  });
};

/**
 * A fresh guest's booking of the request listing, paid, its authorization made at the provider
 * (under the payment's own key) and its job not yet run: what a worker that died before
 * committing leaves, for the provider's events to settle.
 */
async function authorizedUnsettled() {
  const guest = await registerUser(t.call);
  const made = await book(t.call, guest, { propertyId: requestListing.id, ...nights() });
  const paid = await t.call<PaymentBody>("POST", api(`/bookings/${made.body.id}/payments`), {
    token: guest.accessToken,
    body: { paymentMethod: "pm_card_visa" },
    headers: { "idempotency-key": crypto.randomUUID() },
  });
  await t.deps.payments.authorize({
    key: `charge:${paid.body.id}`,
    reference: paid.body.id,
    amount: paid.body.amount,
    currency: "EUR",
    paymentMethod: "pm_card_visa",
  });
  return { guest, made, paid };
}

/** A fresh guest's booking on `listing`, paid with `pm_card_visa`, its payment job run. */
async function requested(listing = requestListing, stay = nights()) {
  const guest = await registerUser(t.call);
  const made = await book(t.call, guest, { propertyId: listing.id, ...stay });
  if (made.status !== 201) throw new Error(`booking: ${made.status} ${made.text}`);
  const paid = await t.call<PaymentBody>("POST", api(`/bookings/${made.body.id}/payments`), {
    token: guest.accessToken,
    body: { paymentMethod: "pm_card_visa" },
    headers: { "idempotency-key": crypto.randomUUID() },
  });
  expect(paid.status).toBe(202);
  await drainJobs(t);
  return { guest, booking: made.body, paymentId: paid.body.id, stay };
}

describe("a request to book", () => {
  test("the listing says instantBook false (REST and the quote), and the host may switch it", async () => {
    const seen = await t.call<{ instantBook: boolean }>("GET", api(`/properties/${requestListing.id}`));
    expect(seen.body.instantBook).toBe(false);
    const q = await t.call<{ instantBook: boolean }>(
      "GET",
      api(`/properties/${requestListing.id}/quote?checkIn=2031-12-01&checkOut=2031-12-03&guests=1`),
    );
    expect(q.body.instantBook).toBe(false);
    const other = await createListing(t.call, host);
    const patched = await t.call<{ instantBook: boolean }>("PATCH", api(`/properties/${other.id}`), {
      token: host.accessToken,
      body: { instantBook: false },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.instantBook).toBe(false);
  });

  test("paying authorizes, captures nothing: the booking is requested for REQUEST_EXPIRY_HOURS, holding its nights", async () => {
    const { guest, booking, paymentId, stay } = await requested();
    const now = await getBooking(guest, booking.id);
    expect(now.body.status).toBe("requested");
    expect(Date.parse(now.body.expiresAt)).toBe(Date.parse(NOW) + 24 * HOUR);
    expect((await paymentsOf(guest, booking.id))[0]?.status).toBe("authorized");
    expect(await providerStatus(paymentId)).toBe("authorized");
    // The nights are held: another guest cannot book them.
    const other = await registerUser(t.call);
    expect((await book(t.call, other, { propertyId: requestListing.id, ...stay })).status).toBe(409);
    // Both sides are told: the guest that it is sent, the host that it waits for an answer.
    const notes = await query<{ type: string; user_id: string }>(
      "select type, user_id from notifications where data->>'bookingId' = $1 and type = 'booking_requested' order by user_id",
      [booking.id],
    );
    expect(notes.map((n) => n.user_id).sort()).toEqual([guest.id, host.id].sort());
    // A requested booking cannot be paid again.
    const again = await t.call("POST", api(`/bookings/${booking.id}/payments`), {
      token: guest.accessToken,
      body: { paymentMethod: "pm_card_visa" },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    expect(again.status).toBe(409);
  });

  test("accept: captured, confirmed, both told; a second answer is 409 invalid_state", async () => {
    const { guest, booking, paymentId } = await requested();
    const res = await accept(host, booking.id);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("confirmed");
    expect((await paymentsOf(guest, booking.id))[0]?.status).toBe("succeeded");
    expect(await providerStatus(paymentId)).toBe("succeeded");
    const notes = await query<{ n: number }>(
      "select count(*)::int as n from notifications where data->>'bookingId' = $1 and type = 'booking_confirmed'",
      [booking.id],
    );
    expect(notes[0]?.n).toBe(2);
    for (const second of [await accept(host, booking.id), await decline(host, booking.id)]) {
      expect(second.status).toBe(409);
      expect(second.body.code).toBe("invalid_state");
    }
    // Confirmed through a request, it cancels like any confirmed stay: refunded per its policy.
    const cancelled = await t.call<BookingBody>("POST", api(`/bookings/${booking.id}/cancel`), {
      token: host.accessToken,
    });
    expect({ status: cancelled.status, refund: cancelled.body.cancellation?.refundAmount }).toEqual({
      status: 200,
      refund: booking.price.total,
    });
  });

  test("decline: declined with its reason, nights free at once, authorization voided at the provider", async () => {
    const { guest, booking, paymentId, stay } = await requested();
    const res = await decline(host, booking.id, "Not those dates");
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("declined");
    // The host's reason reaches the guest: on the booking, and in their notification.
    expect((res.body as BookingBody & { declineReason?: string }).declineReason).toBe("Not those dates");
    const [told] = await query<{ body: string }>(
      "select body from notifications where user_id = $1 and type = 'booking_declined'",
      [guest.id],
    );
    expect(told?.body).toContain("Not those dates");
    expect((await paymentsOf(guest, booking.id))[0]?.status).toBe("voided");
    await drainJobs(t);
    expect(await providerStatus(paymentId)).toBe("voided");
    const other = await registerUser(t.call);
    expect((await book(t.call, other, { propertyId: requestListing.id, ...stay })).status).toBe(201);
    expect((await accept(host, booking.id)).status).toBe(409);
    const note = await query<{ n: number }>(
      "select count(*)::int as n from notifications where user_id = $1 and type = 'booking_declined'",
      [guest.id],
    );
    expect(note[0]?.n).toBe(1);
  });

  test("the guest cancels a request: cancelled, nothing charged, the authorization voided", async () => {
    const { guest, booking, paymentId } = await requested();
    const res = await cancel(guest, booking.id);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("cancelled");
    expect(res.body.cancellation?.refundAmount).toBe(0);
    expect((await paymentsOf(guest, booking.id))[0]?.status).toBe("voided");
    await drainJobs(t);
    expect(await providerStatus(paymentId)).toBe("voided");
    expect((await accept(host, booking.id)).status).toBe(409);
  });

  test("unanswered, it expires at expiresAt (service clock): voided; accepting then is 409", async () => {
    const { guest, booking, paymentId } = await requested();
    try {
      await setClock(t.call, new Date(Date.parse(NOW) + 24 * HOUR - 1000).toISOString());
      await drainDue(t);
      expect((await getBooking(guest, booking.id)).body.status).toBe("requested");
      await setClock(t.call, new Date(Date.parse(NOW) + 24 * HOUR + 1000).toISOString());
      await drainDue(t);
      expect((await getBooking(guest, booking.id)).body.status).toBe("expired");
      expect((await paymentsOf(guest, booking.id))[0]?.status).toBe("voided");
      expect(await providerStatus(paymentId)).toBe("voided");
      const late = await accept(host, booking.id);
      expect(late.status).toBe(409);
      expect(late.body.code).toBe("invalid_state");
      const note = await query<{ n: number }>(
        "select count(*)::int as n from notifications where data->>'bookingId' = $1 and type = 'booking_request_expired'",
        [booking.id],
      );
      expect(note[0]?.n).toBe(2);
    } finally {
      await setClock(t.call, NOW);
    }
  });

  test("only the property's host answers: the guest and anyone else get 404", async () => {
    const { guest, booking } = await requested();
    for (const who of [guest, otherHost, await registerUser(t.call)]) {
      expect((await accept(who, booking.id)).status).toBe(404);
      expect((await decline(who, booking.id)).status).toBe(404);
    }
    expect((await getBooking(guest, booking.id)).body.status).toBe("requested");
  });

  test("an instant-book listing behaves as before: charged, confirmed; accept is 409", async () => {
    const { guest, booking } = await requested(instantListing);
    expect((await getBooking(guest, booking.id)).body.status).toBe("confirmed");
    expect((await paymentsOf(guest, booking.id))[0]?.status).toBe("succeeded");
    expect((await accept(host, booking.id)).status).toBe(409);
  });

  test("a declined card on a request: failed, the booking stays pending_payment", async () => {
    const guest = await registerUser(t.call);
    const made = await book(t.call, guest, { propertyId: requestListing.id, ...nights() });
    await t.call("POST", api(`/bookings/${made.body.id}/payments`), {
      token: guest.accessToken,
      body: { paymentMethod: "pm_card_declined" },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    await drainJobs(t);
    expect((await getBooking(guest, made.body.id)).body.status).toBe("pending_payment");
    expect((await paymentsOf(guest, made.body.id))[0]?.status).toBe("failed");
  });
});

describe("what a demanding host and guest expect", () => {
  test("a request waits at most until its check-in day ends (UTC), whatever REQUEST_EXPIRY_HOURS says", async () => {
    const { guest, booking } = await requested(requestListing, { checkIn: "2031-06-01", checkOut: "2031-06-03" });
    expect((await getBooking(guest, booking.id)).body.expiresAt).toBe("2031-06-02T00:00:00.000Z");
  });

  test("each transition is mailed: the request to both sides, the confirmation, the decline to the guest", async () => {
    const mail = captureMail(t);
    const a = await requested();
    await drainJobs(t);
    const to = (who: Registered) => mail.filter((m) => m.to === who.email).map((m) => m.subject);
    expect(to(a.guest)).toContain("Request sent");
    expect(to(host)).toContain("New booking request");
    await accept(host, a.booking.id);
    await drainJobs(t);
    expect(to(a.guest)).toContain("Booking confirmed");
    const d = await requested();
    await decline(host, d.booking.id, "Closed for works");
    await drainJobs(t);
    const declined = mail.find((m) => m.to === d.guest.email && m.subject === "Request declined");
    expect(declined?.text).toContain("Closed for works");
  });

  test("an accepted request whose capture is stuck holds its nights, and the payments sweep captures it later", async () => {
    const { guest, booking, stay } = await requested();
    const capture = t.deps.payments.capture;
    t.deps.payments.capture = async () => {
      throw new TransientProviderError("the provider is down (test)");
    };
    try {
      const res = await accept(host, booking.id);
      expect(res.status).toBe(202);
      expect(res.body.status).toBe("requested");
      // Its job tries, and ends in the dead letters.
      await drainJobs(t);
      await setClock(t.call, new Date(Date.parse(NOW) + 30 * HOUR).toISOString());
      await drainDue(t);
      // Past its expiresAt, still held: nobody else books it, the calendar shows it taken, and
      // neither the guest nor the host can end it (the capture will).
      expect((await getBooking(guest, booking.id)).body.status).toBe("requested");
      const days = await t.call<{ days: { date: string; available: boolean }[] }>(
        "GET",
        api(`/properties/${requestListing.id}/availability?from=${stay.checkIn}&to=${stay.checkOut}`),
      );
      expect(days.body.days.map((d) => d.available)).toEqual([false, false]);
      expect((await book(t.call, await registerUser(t.call), { propertyId: requestListing.id, ...stay })).status).toBe(
        409,
      );
      expect((await cancel(guest, booking.id)).status).toBe(409);
      expect((await decline(host, booking.id)).status).toBe(409);
    } finally {
      t.deps.payments.capture = capture;
    }
    // The provider is back: the sweep sends the capture again, which settles it.
    await setClock(t.call, new Date(Date.parse(NOW) + 31 * HOUR).toISOString());
    try {
      await drainDue(t);
      expect((await getBooking(guest, booking.id)).body.status).toBe("confirmed");
    } finally {
      await setClock(t.call, NOW);
    }
  });

  test("a provider's charge.succeeded for a request's payment is an authorization: only the host confirms", async () => {
    const { guest, made, paid } = await authorizedUnsettled();
    expect((await sendEvent("charge.succeeded", paid.body.id)).body.outcome).toBe("applied");
    expect((await getBooking(guest, made.body.id)).body.status).toBe("requested");
    expect((await paymentsOf(guest, made.body.id))[0]?.status).toBe("authorized");
    await drainJobs(t);
    expect((await accept(host, made.body.id)).body.status).toBe("confirmed");
  });

  test("a webhook settling a request while the host declines it: both finish, no deadlock (the booking is locked first)", async () => {
    const { booking, paymentId } = await requested();
    let held!: () => void;
    const locked = new Promise<void>((r) => {
      held = r;
    });
    const declining = t.deps.db
      .transaction(async (tx) => {
        await tx.execute(sql`select 1 from bookings where id = ${booking.id} for update`);
        held();
        await Bun.sleep(200);
        await tx.execute(sql`update bookings set status = 'declined' where id = ${booking.id}`);
        return "declined";
      })
      .catch((e: { code?: string; cause?: { code?: string } }) => e.cause?.code ?? e.code ?? "error");
    await locked;
    const settling = t.deps.db
      .transaction((tx) =>
        settleCapture(tx, { now: () => new Date(NOW) }, paymentId, { status: "succeeded" }, { releaseMs: 86_400_000 }),
      )
      .then((r) => r.status)
      .catch((e: { code?: string; cause?: { code?: string } }) => e.cause?.code ?? e.code ?? "error");
    // The capture waited for the decline and found the payment voided: no change, no 40P01.
    expect(await Promise.all([declining, settling])).toEqual(["declined", "declined"]);
    await drainJobs(t);
  });
});

describe("races: one winner, never a capture of a voided authorization nor a void of a captured one", () => {
  const ROUNDS = 8;

  /** The booking, our payment and the provider's books agree on how the race ended. */
  async function consistent(guest: Registered, bookingId: string, paymentId: string): Promise<string> {
    await drainJobs(t);
    const status = (await getBooking(guest, bookingId)).body.status;
    const ours = (await paymentsOf(guest, bookingId))[0]?.status;
    const theirs = await providerStatus(paymentId);
    if (status === "confirmed") expect([ours, theirs]).toEqual(["succeeded", "succeeded"]);
    else expect([ours, theirs]).toEqual(["voided", "voided"]);
    return status;
  }

  test("accept racing decline", async () => {
    const winners: Record<string, number> = {};
    for (let round = 0; round < ROUNDS; round++) {
      const { guest, booking, paymentId } = await requested();
      const [a, d] = await Promise.all([accept(host, booking.id), decline(host, booking.id)]);
      expect([a.status, d.status].sort()).toEqual([200, 409]);
      for (const r of [a, d]) if (r.status === 409) expect(r.body.code).toBe("invalid_state");
      const status = await consistent(guest, booking.id, paymentId);
      expect(status).toBe(a.status === 200 ? "confirmed" : "declined");
      winners[status] = (winners[status] ?? 0) + 1;
    }
    console.log("accept vs decline:", winners);
  }, 60_000);

  test("accept racing the guest's cancel", async () => {
    const winners: Record<string, number> = {};
    for (let round = 0; round < ROUNDS; round++) {
      const { guest, booking, paymentId } = await requested();
      const [a, c] = await Promise.all([accept(host, booking.id), cancel(guest, booking.id)]);
      expect([a.status, c.status].sort()).toEqual([200, 409]);
      const status = await consistent(guest, booking.id, paymentId);
      expect(status).toBe(a.status === 200 ? "confirmed" : "cancelled");
      winners[status] = (winners[status] ?? 0) + 1;
    }
    console.log("accept vs cancel:", winners);
  }, 60_000);

  test("accept racing the expiry (a sweep run just after expiresAt, while the capture is in flight)", async () => {
    const winners: Record<string, number> = {};
    for (let round = 0; round < ROUNDS; round++) {
      const { guest, booking, paymentId } = await requested();
      const expiresAt = Date.parse((await getBooking(guest, booking.id)).body.expiresAt);
      await setClock(t.call, new Date(expiresAt - 50).toISOString());
      try {
        // The sweep's clock is already past expiresAt; the host's request comes just before it.
        const sweep = async () => {
          if (round % 2 === 1) await Bun.sleep(round % 4);
          const { expired } = await t.deps.db.transaction((tx) =>
            settleDue(tx, { now: () => new Date(expiresAt + 1000) }, { ids: [booking.id] }),
          );
          return expired.length;
        };
        const late = async () => {
          if (round % 2 === 0) await Bun.sleep(round % 4);
          return accept(host, booking.id);
        };
        const [a, swept] = await Promise.all([late(), sweep()]);
        expect(a.status === 200 ? 0 : 1).toBe(swept);
        // The sweep's void job is due by its clock.
        await setClock(t.call, new Date(expiresAt + 2000).toISOString());
        const status = await consistent(guest, booking.id, paymentId);
        expect(status).toBe(a.status === 200 ? "confirmed" : "expired");
        winners[status] = (winners[status] ?? 0) + 1;
      } finally {
        await setClock(t.call, NOW);
      }
    }
    console.log("accept vs expiry:", winners);
  }, 60_000);

  test("no two stays holding nights overlap after all of it", async () => {
    expect(await overlaps(t.deps.database)).toBe(0);
  });
});

describe("an authorization the provider let lapse", () => {
  test("cannot be captured: accept answers 409 and the request expires", async () => {
    const lapsing = await startTestApp({ REQUEST_EXPIRY_HOURS: "240", PAYMENT_PROVIDER_LATENCY_MS: "0" });
    try {
      await setClock(lapsing.call, NOW);
      const h = await registerHost(lapsing.call);
      const listing = await createListing(lapsing.call, h, { instantBook: false });
      const guest = await registerUser(lapsing.call);
      const made = await book(lapsing.call, guest, { propertyId: listing.id, ...nights() });
      const paid = await lapsing.call<PaymentBody>("POST", api(`/bookings/${made.body.id}/payments`), {
        token: guest.accessToken,
        body: { paymentMethod: "pm_card_visa" },
        headers: { "idempotency-key": crypto.randomUUID() },
      });
      await drainJobs(lapsing);
      const seen = await lapsing.call<BookingBody>("GET", api(`/bookings/${made.body.id}`), {
        token: guest.accessToken,
      });
      expect(seen.body.status).toBe("requested");
      expect(Date.parse(seen.body.expiresAt)).toBe(Date.parse(NOW) + 240 * HOUR);
      // Eight days on: the request still stands by our clock, but the provider let the hold go.
      await setClock(lapsing.call, new Date(Date.parse(NOW) + 8 * 24 * HOUR).toISOString());
      const res = await lapsing.call<BookingBody>("POST", api(`/bookings/${made.body.id}/accept`), {
        token: h.accessToken,
      });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe("invalid_state");
      const after = await lapsing.call<BookingBody>("GET", api(`/bookings/${made.body.id}`), {
        token: guest.accessToken,
      });
      expect(after.body.status).toBe("expired");
      const [p] = await lapsing.deps.database.raw.query<{ status: string }>(
        "select status from payments where id = $1",
        [paid.body.id],
      );
      expect(p?.status).toBe("voided");
    } finally {
      await lapsing.call("DELETE", "/api/v1/_test/clock");
      await lapsing.close();
    }
  }, 60_000);
});

describe("the database's own rules", () => {
  test("a voided payment is never captured, a captured one never voided (payments_status_transition)", async () => {
    const { booking: declinedBooking, paymentId: voided } = await requested();
    await decline(host, declinedBooking.id);
    const { booking: acceptedBooking, paymentId: captured } = await requested();
    await accept(host, acceptedBooking.id);
    for (const [id, to] of [
      [voided, "succeeded"],
      [voided, "authorized"],
      [captured, "voided"],
      [captured, "authorized"],
    ] as const) {
      const refused = await query("update payments set status = $2 where id = $1", [id, to]).then(
        () => null,
        (e: { code?: string }) => e.code,
      );
      expect({ id, to, refused }).toEqual({ id, to, refused: "23514" });
    }
  });

  test("a request ended by any path voids its authorization in the same transaction (bookings_request_ended)", async () => {
    const { booking, paymentId } = await requested();
    // Not through a verb: an UPDATE of the row alone.
    await query("update bookings set status = 'expired' where id = $1", [booking.id]);
    const [p] = await query<{ status: string }>("select status from payments where id = $1", [paymentId]);
    expect(p?.status).toBe("voided");
    const jobs = await query<{ type: string }>("select type from outbox where dedupe_key = $1", [
      `payment:${paymentId}:void`,
    ]);
    expect(jobs.map((j) => j.type)).toEqual(["payment.void"]);
    await drainJobs(t);
    expect(await providerStatus(paymentId)).toBe("voided");
  });

  test("an accepted request cannot be declined, even behind the service's back (bookings_accepted_check)", async () => {
    const { booking } = await requested();
    await query("update bookings set accepted_at = now() where id = $1", [booking.id]);
    const refused = await query("update bookings set status = 'declined' where id = $1", [booking.id]).then(
      () => null,
      (e: { code?: string }) => e.code,
    );
    expect(refused).toBe("23514");
    // And the verbs refuse it too (the capture is the accepted request's to end).
    expect((await decline(host, booking.id)).status).toBe(409);
    await query("update bookings set accepted_at = null where id = $1", [booking.id]);
  });
});

describe("webhooks and GraphQL", () => {
  const send = sendEvent;

  test("charge.authorized settles a processing request payment; charge.captured confirms; charge.voided expires", async () => {
    // The provider authorized (the job's worker died before committing); its event arrives first.
    const { guest, made, paid } = await authorizedUnsettled();
    expect((await send("charge.authorized", paid.body.id)).body.outcome).toBe("applied");
    expect((await getBooking(guest, made.body.id)).body.status).toBe("requested");
    expect((await send("charge.authorized", paid.body.id)).body.outcome).toBe("no_change");
    await drainJobs(t);
    // Captured at the provider (its dashboard), the event tells us.
    const chargeId = (
      await query<{ charge_id: string }>("select charge_id from sim_charges where reference = $1", [paid.body.id])
    )[0]?.charge_id as string;
    expect((await t.deps.payments.capture({ chargeId })).status).toBe("succeeded");
    expect((await send("charge.captured", paid.body.id)).body.outcome).toBe("applied");
    expect((await getBooking(guest, made.body.id)).body.status).toBe("confirmed");
    // The same news under another event id: nothing left to change.
    expect((await send("charge.captured", paid.body.id)).body.outcome).toBe("no_change");
    expect((await send("charge.voided", paid.body.id)).body.outcome).toBe("no_change");

    const other = await requested();
    const otherCharge = (
      await query<{ charge_id: string }>("select charge_id from sim_charges where reference = $1", [other.paymentId])
    )[0]?.charge_id as string;
    expect((await t.deps.payments.void({ chargeId: otherCharge })).status).toBe("voided");
    expect((await send("charge.voided", other.paymentId)).body.outcome).toBe("applied");
    expect((await getBooking(other.guest, other.booking.id)).body.status).toBe("expired");
    expect((await paymentsOf(other.guest, other.booking.id))[0]?.status).toBe("voided");
  });

  test("acceptBooking and declineBooking mutations: the same verbs, the same rules", async () => {
    const gql = (user: Registered, q: string, variables: Record<string, unknown>) =>
      t.call<{ data?: Record<string, { status: string } | null>; errors?: { extensions?: { code?: string } }[] }>(
        "POST",
        "/graphql",
        { token: user.accessToken, body: { query: q, variables } },
      );
    const a = await requested();
    const accepted = await gql(host, "mutation($id: ID!) { acceptBooking(id: $id) { status } }", {
      id: a.booking.id,
    });
    expect(accepted.body.data?.acceptBooking?.status).toBe("confirmed");
    const d = await requested();
    const byGuest = await gql(d.guest, "mutation($id: ID!) { declineBooking(id: $id) { status } }", {
      id: d.booking.id,
    });
    expect(byGuest.body.errors?.[0]?.extensions?.code).toBe("not_found");
    const declined = await gql(host, 'mutation($id: ID!) { declineBooking(id: $id, reason: "No") { status } }', {
      id: d.booking.id,
    });
    expect(declined.body.data?.declineBooking?.status).toBe("declined");
    const again = await gql(host, "mutation($id: ID!) { acceptBooking(id: $id) { status } }", { id: d.booking.id });
    expect(again.body.errors?.[0]?.extensions?.code).toBe("invalid_state");
  });

  test("bookingUpdated pushes each transition: requested, then confirmed; a declined request ends its stream", async () => {
    const watch = (bookingId: string, as: Registered) => subscribeBooking(t, bookingId, as, "status");
    // The guest watches from the hold on: the payment's authorization, then the host's answer.
    const guest = await registerUser(t.call);
    const made = await book(t.call, guest, { propertyId: requestListing.id, ...nights() });
    const stream = events(await watch(made.body.id, guest), (d) => d.length >= 3, 10_000);
    await Bun.sleep(100);
    await t.call("POST", api(`/bookings/${made.body.id}/payments`), {
      token: guest.accessToken,
      body: { paymentMethod: "pm_card_visa" },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    await drainJobs(t);
    await Bun.sleep(100);
    expect((await accept(host, made.body.id)).status).toBe(200);
    expect((await stream).data.map(statusOf)).toEqual(["pending_payment", "requested", "confirmed"]);
    // The host watches a request and declines it: declined is final, the stream ends by itself.
    const d = await requested();
    const ended = events(await watch(d.booking.id, host), () => false, 10_000);
    await Bun.sleep(100);
    await decline(host, d.booking.id);
    const got = await ended;
    expect(got.data.map(statusOf)).toEqual(["requested", "declined"]);
    expect(got.completed).toBe(true);
  });

  test("reconciliation finds nothing amiss after all of it, and finds an authorization we and the provider disagree on", async () => {
    await drainJobs(t);
    const clean = await reconcile(t.deps.db, t.deps.payments, { graceMs: 0 });
    expect(clean.map((m) => ({ kind: m.kind, ours: m.ours?.status, theirs: m.provider?.status }))).toEqual([]);
    const { paymentId } = await requested();
    // The provider let it go; we still hold it as authorized.
    await query("update sim_charges set status = 'voided' where reference = $1", [paymentId]);
    const found = await reconcile(t.deps.db, t.deps.payments, { graceMs: 0 });
    expect(found.map((m) => [m.kind, m.paymentId])).toEqual([["authorization_differs", paymentId]]);
    await t.deps.db.execute(sql`update sim_charges set status = 'authorized' where reference = ${paymentId}`);
  });
});
