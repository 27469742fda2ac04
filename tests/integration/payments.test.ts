// Payments over REST: paying a booking (Idempotency-Key, one live payment per booking), the charge
// job with each test token, refunds per cancellation policy, a charge that lands for nights no
// longer held, signed webhooks, reconciliation against the simulated provider's ledger, and who
// may see what.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { enqueue } from "../../src/jobs/outbox";
import { signWebhook, TransientProviderError } from "../../src/modules/payments/provider";
import { reconcile } from "../../src/modules/payments/reconcile";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { type BookingBody, book, drainJobs, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";

const SECRET = "whsec_test_0123456789abcdef";
const NOW = "2031-06-01T09:00:00.000Z";

let t: TestApp;
let host: Registered;
let stranger: Registered;
let properties: Record<"flexible" | "moderate" | "strict", { id: string }>;

interface PaymentBody {
  id: string;
  bookingId: string;
  amount: number;
  currency: string;
  status: string;
  failureCode?: string;
  refundedAmount: number;
  disputedAt?: string;
  createdAt: string;
  updatedAt: string;
  code?: string;
  errors?: { path: string; message: string }[];
}

const ENV = {
  PAYMENT_WEBHOOK_SECRET: SECRET,
  PAYMENT_PROVIDER_LATENCY_MS: "0",
  JOB_BACKOFF_MS: "1",
  JOB_MAX_ATTEMPTS: "3",
};

/** A service at NOW with a host and one listing per cancellation policy. */
async function start(): Promise<void> {
  t = await startTestApp(ENV);
  await setClock(t.call, NOW);
  host = await registerHost(t.call);
  stranger = await registerUser(t.call);
  const [flexible, moderate, strict] = await Promise.all(
    (["flexible", "moderate", "strict"] as const).map((cancellationPolicy) =>
      createListing(t.call, host, { pricePerNight: 10_000, cleaningFee: 2_000, cancellationPolicy }),
    ),
  );
  properties = {
    flexible: flexible as { id: string },
    moderate: moderate as { id: string },
    strict: strict as { id: string },
  };
}

beforeAll(start, 60_000);
afterEach(() => setClock(t.call, NOW));
afterAll(async () => {
  await t?.call("DELETE", "/api/v1/_test/clock");
  await t?.close();
});

const api = (path: string) => `/api/v1${path}`;
let nextDay = 0;
/** A fresh guest's booking of two nights, each test on its own nights. */
async function newBooking(
  policy: keyof typeof properties = "moderate",
  checkIn?: string,
): Promise<{ guest: Registered; booking: BookingBody }> {
  const guest = await registerUser(t.call);
  const start =
    checkIn ?? new Date(Date.parse("2031-10-01T00:00:00Z") + 3 * 86_400_000 * nextDay++).toISOString().slice(0, 10);
  const end = new Date(Date.parse(`${start}T00:00:00Z`) + 2 * 86_400_000).toISOString().slice(0, 10);
  const res = await book(t.call, guest, { propertyId: properties[policy].id, checkIn: start, checkOut: end });
  if (res.status !== 201) throw new Error(`booking: ${res.status} ${res.text}`);
  return { guest, booking: res.body };
}
const pay = (
  user: Registered,
  bookingId: string,
  paymentMethod = "pm_card_visa",
  key: string | null = crypto.randomUUID(),
) =>
  t.call<PaymentBody>("POST", api(`/bookings/${bookingId}/payments`), {
    token: user.accessToken,
    body: { paymentMethod },
    headers: key === null ? {} : { "idempotency-key": key },
  });
const getPayment = (user: Registered, id: string) =>
  t.call<PaymentBody>("GET", api(`/payments/${id}`), { token: user.accessToken });
const getBooking = (user: Registered, id: string) =>
  t.call<BookingBody>("GET", api(`/bookings/${id}`), { token: user.accessToken });
const query = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  t.deps.database.raw.query(text, params) as Promise<T[]>;
/** A write no path of the service can make (triggers off, for this transaction only): planted drift. */
const plant = (text: string, params: unknown[]) =>
  t.deps.db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    await tx.execute(sql.raw(text.replace("$1", `'${params[0] as string}'`)));
  });
const ledger = (paymentId: string) =>
  query<{ status: string; amount: number; refunded: number }>(
    "select status, amount, refunded from sim_charges where reference = $1",
    [paymentId],
  );

/** Runs due jobs (retries come due on the wall clock) until `done` says so. */
async function settle(done: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    await drainJobs(t);
    if (await done()) return;
    await Bun.sleep(5);
  }
  throw new Error("timed out waiting for the jobs");
}
const settled = (user: Registered, paymentId: string) =>
  settle(async () => (await getPayment(user, paymentId)).body.status !== "processing");

async function paid(policy: keyof typeof properties = "moderate", checkIn?: string) {
  const { guest, booking } = await newBooking(policy, checkIn);
  const p = await pay(guest, booking.id);
  expect(p.status).toBe(202);
  await settled(guest, p.body.id);
  expect((await getBooking(guest, booking.id)).body.status).toBe("confirmed");
  return { guest, booking, payment: p.body };
}

describe("pay", () => {
  test("202 processing for the booking's stored total; the charge job confirms the booking and notifies guest and host", async () => {
    const { guest, booking } = await newBooking();
    const res = await pay(guest, booking.id);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      bookingId: booking.id,
      amount: booking.price.total,
      currency: "EUR",
      status: "processing",
      refundedAmount: 0,
      createdAt: NOW,
      updatedAt: NOW,
    });
    await settled(guest, res.body.id);
    expect((await getPayment(guest, res.body.id)).body).toMatchObject({ status: "succeeded", refundedAmount: 0 });
    expect((await getBooking(guest, booking.id)).body.status).toBe("confirmed");
    expect(await ledger(res.body.id)).toEqual([{ status: "succeeded", amount: booking.price.total, refunded: 0 }]);
    const notes = await query<{ user_id: string; type: string }>(
      "select user_id, type from notifications where data->>'bookingId' = $1 order by type, user_id",
      [booking.id],
    );
    const types = notes
      .map((n) => `${n.user_id === guest.id ? "guest" : n.user_id === host.id ? "host" : "?"}:${n.type}`)
      .sort();
    expect(types).toEqual([
      "guest:booking_confirmed",
      "guest:booking_created",
      "guest:payment_succeeded",
      "host:booking_confirmed",
      "host:booking_created",
    ]);
  });

  test("declines: the payment fails with the token's code, the booking stays pending_payment and can be paid again", async () => {
    for (const [token, code] of [
      ["pm_card_declined", "card_declined"],
      ["pm_card_insufficient_funds", "insufficient_funds"],
      ["pm_card_unknown_token", "invalid_payment_method"],
    ] as const) {
      const { guest, booking } = await newBooking();
      const res = await pay(guest, booking.id, token);
      expect(res.status).toBe(202);
      await settled(guest, res.body.id);
      expect((await getPayment(guest, res.body.id)).body).toMatchObject({ status: "failed", failureCode: code });
      expect((await getBooking(guest, booking.id)).body.status).toBe("pending_payment");
      const notes = await query("select 1 from notifications where user_id = $1 and type = 'payment_failed'", [
        guest.id,
      ]);
      expect(notes.length).toBe(1);
      // Another method, another key: the second payment goes through.
      const again = await pay(guest, booking.id, "pm_card_visa");
      expect(again.status).toBe(202);
      await settled(guest, again.body.id);
      expect((await getBooking(guest, booking.id)).body.status).toBe("confirmed");
    }
  });

  test("pm_card_processing_error is retried with backoff, then fails processing_error; nothing was charged", async () => {
    const { guest, booking } = await newBooking();
    const res = await pay(guest, booking.id, "pm_card_processing_error");
    await settled(guest, res.body.id);
    expect((await getPayment(guest, res.body.id)).body).toMatchObject({
      status: "failed",
      failureCode: "processing_error",
    });
    const [row] = await query<{ attempts: number }>("select attempts from payments where id = $1", [res.body.id]);
    expect(row?.attempts).toBe(3);
    expect(await ledger(res.body.id)).toEqual([]);
    expect((await getBooking(guest, booking.id)).body.status).toBe("pending_payment");
  });

  test("bad input: no Idempotency-Key → 422; a card number or an unknown field → 422; nothing is created", async () => {
    const { guest, booking } = await newBooking();
    const missing = await pay(guest, booking.id, "pm_card_visa", null);
    expect(missing.status).toBe(422);
    expect(missing.body.code).toBe("validation_failed");
    expect(missing.body.errors?.[0]?.path).toBe("/headers/idempotency-key");
    expect(missing.body).toMatchObject({ detail: expect.stringMatching(/^Header idempotency-key is required/) });
    const card = await pay(guest, booking.id, "4242424242424242");
    expect(card.status).toBe(422);
    expect(card.body.errors?.[0]?.path).toBe("/paymentMethod");
    const extra = await t.call<PaymentBody>("POST", api(`/bookings/${booking.id}/payments`), {
      token: guest.accessToken,
      body: { paymentMethod: "pm_card_visa", amount: 1 },
      headers: { "idempotency-key": "k-extra" },
    });
    expect(extra.status).toBe(422);
    expect(await query("select 1 from payments where booking_id = $1", [booking.id])).toEqual([]);
  });

  test("the same Idempotency-Key twice → the first answer replayed, one payment, one charge", async () => {
    const { guest, booking } = await newBooking();
    const first = await pay(guest, booking.id, "pm_card_visa", "same-key");
    const second = await pay(guest, booking.id, "pm_card_visa", "same-key");
    expect(second.status).toBe(202);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.body).toEqual(first.body);
    await settled(guest, first.body.id);
    // Replayed after the charge too: still the first answer (processing), not a new payment.
    const third = await pay(guest, booking.id, "pm_card_visa", "same-key");
    expect(third.body.id).toBe(first.body.id);
    const reused = await pay(guest, booking.id, "pm_card_declined", "same-key");
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe("idempotency_key_reused");
    expect((await query("select 1 from payments where booking_id = $1", [booking.id])).length).toBe(1);
    expect((await ledger(first.body.id)).length).toBe(1);
  });

  test("different keys at once for one booking → exactly one payment; the others 409 invalid_state", async () => {
    for (let round = 0; round < 5; round++) {
      const { guest, booking } = await newBooking();
      const answers = await Promise.all(Array.from({ length: 12 }, () => pay(guest, booking.id)));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([202, ...Array(11).fill(409)]);
      for (const a of answers.filter((x) => x.status === 409)) expect(a.body.code).toBe("invalid_state");
      expect((await query("select 1 from payments where booking_id = $1", [booking.id])).length).toBe(1);
    }
  });

  test("the unique index is the last line: a second live payment inserted behind the service's back is refused", async () => {
    const { guest, booking } = await newBooking();
    const res = await pay(guest, booking.id);
    const insert = query(
      "insert into payments (booking_id, payer_id, amount, currency, payment_method) values ($1, $2, 100, 'EUR', 'pm_card_visa')",
      [booking.id, guest.id],
    );
    await expect(insert).rejects.toThrow(/payments_one_live_per_booking_key/);
    await settled(guest, res.body.id);
  });

  test("a hold on a property that is no longer listed cannot be paid (409 invalid_state)", async () => {
    const p = await createListing(t.call, host);
    const guest = await registerUser(t.call);
    const b = await book(t.call, guest, { propertyId: p.id, checkIn: "2031-09-01", checkOut: "2031-09-03" });
    expect((await t.call("DELETE", api(`/properties/${p.id}`), { token: host.accessToken })).status).toBe(204);
    const res = await pay(guest, b.body.id);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("invalid_state");
    expect(await query("select 1 from payments where booking_id = $1", [b.body.id])).toEqual([]);
  });

  test("409 invalid_state for a booking that is confirmed, cancelled or expired", async () => {
    const confirmed = await paid();
    const again = await pay(confirmed.guest, confirmed.booking.id);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("invalid_state");

    const { guest, booking } = await newBooking();
    await t.call("POST", api(`/bookings/${booking.id}/cancel`), { token: guest.accessToken });
    expect((await pay(guest, booking.id)).body.code).toBe("invalid_state");

    const late = await newBooking();
    await setClock(t.call, "2031-06-01T09:15:00.000Z");
    const expired = await pay(late.guest, late.booking.id);
    expect(expired.status).toBe(409);
    expect((await getBooking(late.guest, late.booking.id)).body.status).toBe("expired");
  });
});

describe("a charge that lands for nights no longer held is refunded in full", () => {
  test("the hold expired while the charge was processing", async () => {
    const { guest, booking } = await newBooking();
    const res = await pay(guest, booking.id);
    await setClock(t.call, "2031-06-01T09:16:00.000Z");
    await settle(async () => (await getPayment(guest, res.body.id)).body.status === "refunded");
    expect((await getPayment(guest, res.body.id)).body.refundedAmount).toBe(booking.price.total);
    expect((await getBooking(guest, booking.id)).body.status).toBe("expired");
    expect(await ledger(res.body.id)).toEqual([
      { status: "succeeded", amount: booking.price.total, refunded: booking.price.total },
    ]);
  });

  test("the booking was cancelled while the charge was processing", async () => {
    const { guest, booking } = await newBooking();
    const res = await pay(guest, booking.id);
    const cancelled = await t.call<BookingBody>("POST", api(`/bookings/${booking.id}/cancel`), {
      token: guest.accessToken,
    });
    expect(cancelled.body.cancellation?.refundAmount).toBe(0);
    await settle(async () => (await getPayment(guest, res.body.id)).body.status === "refunded");
    expect((await ledger(res.body.id))[0]?.refunded).toBe(booking.price.total);
    const notes = await query("select 1 from notifications where user_id = $1 and type = 'refund_issued'", [guest.id]);
    expect(notes.length).toBe(1);
  });
});

describe("refunds on cancellation, per policy, around each boundary", () => {
  // Check-in 2031-07-20 at 15:00 UTC.
  const checkIn = "2031-07-20";
  const cases: [keyof typeof properties, string, "guest" | "host", number][] = [
    ["flexible", "2031-07-19T14:59:59.000Z", "guest", 1],
    ["flexible", "2031-07-19T15:00:01.000Z", "guest", 0],
    ["moderate", "2031-07-15T14:59:59.000Z", "guest", 1],
    ["moderate", "2031-07-15T15:00:01.000Z", "guest", 0.5],
    ["strict", "2031-07-13T14:59:59.000Z", "guest", 0.5],
    ["strict", "2031-07-13T15:00:01.000Z", "guest", 0],
    ["strict", "2031-07-19T15:00:01.000Z", "host", 1],
  ];
  for (const [policy, at, by, share] of cases) {
    test(`${policy}, cancelled by the ${by} at ${at} → ${share * 100} % back`, async () => {
      const { guest, booking, payment } = await paid(policy, checkIn);
      await setClock(t.call, at);
      const who = by === "guest" ? guest : host;
      const res = await t.call<BookingBody>("POST", api(`/bookings/${booking.id}/cancel`), { token: who.accessToken });
      expect(res.status).toBe(200);
      const owed = Math.round(booking.price.total * share);
      expect(res.body.cancellation?.refundAmount).toBe(owed);
      await drainJobs(t);
      // Run the refund job again, as a redelivery would: nothing more is refunded.
      await query(
        "update outbox set sent_at = null, locked_until = null where type = 'booking.refund' and payload->>'bookingId' = $1",
        [booking.id],
      );
      await drainJobs(t);
      const after = (await getPayment(guest, payment.id)).body;
      expect(after.refundedAmount).toBe(owed);
      expect(after.status).toBe(
        owed === 0 ? "succeeded" : owed === booking.price.total ? "refunded" : "partially_refunded",
      );
      expect((await ledger(payment.id))[0]?.refunded).toBe(owed);
      expect(
        (
          await query("select 1 from sim_refunds r join sim_charges c using (charge_id) where c.reference = $1", [
            payment.id,
          ])
        ).length,
      ).toBe(owed ? 1 : 0);
    });
  }
});

describe("webhooks", () => {
  const send = (event: unknown, options: { signature?: string | null; t?: number; raw?: string } = {}) => {
    const raw = options.raw ?? JSON.stringify(event);
    const ts = options.t ?? Math.floor(Date.now() / 1000);
    const signature = options.signature === undefined ? signWebhook(SECRET, raw, ts) : options.signature;
    return t.call<{ received: boolean; replayed: boolean; outcome: string; code?: string }>(
      "POST",
      api("/webhooks/payments"),
      {
        rawBody: raw,
        headers: {
          "content-type": "application/json",
          ...(signature === null ? {} : { "payment-signature": signature }),
        },
      },
    );
  };
  const event = (type: string, paymentId: string, data: Record<string, unknown> = {}) => ({
    id: `evt_${crypto.randomUUID()}`,
    type,
    created: Math.floor(Date.now() / 1000),
    data: { paymentId, ...data },
  });
  /** A processing payment the charge job has not run for yet. */
  async function processing() {
    const { guest, booking } = await newBooking();
    const res = await pay(guest, booking.id);
    return { guest, booking, payment: res.body };
  }

  test("a missing, malformed, wrong or stale signature → 400 and nothing changes", async () => {
    const { guest, payment } = await processing();
    const e = event("charge.failed", payment.id, { failureCode: "card_declined" });
    const raw = JSON.stringify(e);
    const now = Math.floor(Date.now() / 1000);
    for (const [what, res] of [
      ["missing", await send(e, { signature: null })],
      ["malformed", await send(e, { signature: "sha256=abc" })],
      ["another secret", await send(e, { signature: signWebhook("another-secret-0123456789", raw, now) })],
      ["another body", await send(e, { signature: signWebhook(SECRET, `${raw} `, now) })],
      ["6 minutes old", await send(e, { t: now - 360 })],
      ["6 minutes ahead", await send(e, { t: now + 360 })],
    ] as const) {
      expect(`${what}: ${res.status}`).toBe(`${what}: 400`);
      expect(res.body.code).toBe("invalid_signature");
    }
    expect((await getPayment(guest, payment.id)).body.status).toBe("processing");
    expect(await query("select 1 from webhook_events where id = $1", [e.id])).toEqual([]);
    // 4 minutes old is within the tolerance; several v1 values (a secret rotation) are fine.
    const ok = await send(e, {
      signature: `t=${now - 240},v1=${"0".repeat(64)},v1=${signWebhook(SECRET, raw, now - 240).split("v1=")[1]}`,
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ received: true, replayed: false, outcome: "applied" });
    expect((await getPayment(guest, payment.id)).body).toMatchObject({
      status: "failed",
      failureCode: "card_declined",
    });
  });

  test("charge.succeeded settles a processing payment once; a replayed id is 200 with no second effect", async () => {
    const { guest, booking, payment } = await processing();
    const e = event("charge.succeeded", payment.id);
    expect((await send(e)).body).toEqual({ received: true, replayed: false, outcome: "applied" });
    expect((await getBooking(guest, booking.id)).body.status).toBe("confirmed");
    const replay = await send(e);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ received: true, replayed: true, outcome: "applied" });
    // The charge job that then runs changes nothing.
    await drainJobs(t);
    const notes = await query("select 1 from notifications where user_id = $1 and type = 'payment_succeeded'", [
      guest.id,
    ]);
    expect(notes.length).toBe(1);
    // A second event id for the same charge is no change either.
    expect((await send(event("charge.succeeded", payment.id))).body.outcome).toBe("no_change");
  });

  test("charge.refunded records the charge's refunded total, never more than was paid; concurrent with the refund job", async () => {
    const { guest, payment } = await paid();
    expect((await send(event("charge.refunded", payment.id, { amount: 1_000 }))).body.outcome).toBe("applied");
    expect((await getPayment(guest, payment.id)).body).toMatchObject({
      status: "partially_refunded",
      refundedAmount: 1_000,
    });
    // An older total is no change; more than the charge is capped at it.
    expect((await send(event("charge.refunded", payment.id, { amount: 500 }))).body.outcome).toBe("no_change");
    expect((await send(event("charge.refunded", payment.id, { amount: 10 ** 9 }))).body.outcome).toBe("applied");
    expect((await getPayment(guest, payment.id)).body).toMatchObject({
      status: "refunded",
      refundedAmount: payment.amount,
    });

    // A host cancellation's full refund racing a dashboard refund of the whole charge.
    const other = await paid();
    await setClock(t.call, NOW);
    await t.call("POST", api(`/bookings/${other.booking.id}/cancel`), { token: host.accessToken });
    await Promise.all([drainJobs(t), send(event("charge.refunded", other.payment.id))]);
    await drainJobs(t);
    const after = (await getPayment(other.guest, other.payment.id)).body;
    expect(after).toMatchObject({ status: "refunded", refundedAmount: other.payment.amount });
    expect((await ledger(other.payment.id))[0]?.refunded).toBeLessThanOrEqual(other.payment.amount);
  });

  test("charge.dispute_created marks the payment disputed and tells the host; unknown payments and types are acknowledged", async () => {
    const { guest, payment } = await paid();
    expect((await send(event("charge.dispute_created", payment.id))).body.outcome).toBe("applied");
    expect((await getPayment(guest, payment.id)).body.disputedAt).toBe(NOW);
    await drainJobs(t);
    const notes = await query(
      "select 1 from notifications where user_id = $1 and type = 'payment_disputed' and data->>'paymentId' = $2",
      [host.id, payment.id],
    );
    expect(notes.length).toBe(1);
    expect((await send(event("charge.succeeded", crypto.randomUUID()))).body.outcome).toBe("unknown_payment");
    expect((await send(event("charge.succeeded", "not-a-uuid"))).body.outcome).toBe("unknown_payment");
    expect((await send(event("customer.created", payment.id))).body.outcome).toBe("ignored_type");
  });

  test("a well-signed body that is not an event → 422; not JSON → 400", async () => {
    const bad = await send({ id: "evt_1", type: "charge.succeeded" });
    expect(bad.status).toBe(422);
    const notJson = await send(null, { raw: "{nope" });
    expect(notJson.status).toBe(400);
  });

  test("without PAYMENT_WEBHOOK_SECRET the route is 404", async () => {
    const plain = await startTestApp();
    try {
      const raw = JSON.stringify(event("charge.succeeded", crypto.randomUUID()));
      const res = await plain.call("POST", api("/webhooks/payments"), {
        rawBody: raw,
        headers: {
          "content-type": "application/json",
          "payment-signature": signWebhook(SECRET, raw, Math.floor(Date.now() / 1000)),
        },
      });
      expect(res.status).toBe(404);
      // Before the body is read: not JSON, or none, is the same 404.
      const garbage = await plain.call("POST", api("/webhooks/payments"), {
        rawBody: "{nope",
        headers: { "content-type": "application/json" },
      });
      expect(garbage.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe("reads and who may see them", () => {
  test("the payer and the host read a payment and a booking's payments; anyone else gets 404", async () => {
    const { guest, booking, payment } = await paid();
    for (const who of [guest, host]) {
      expect((await getPayment(who, payment.id)).body.id).toBe(payment.id);
      const list = await t.call<{ data: PaymentBody[]; nextCursor: string | null }>(
        "GET",
        api(`/bookings/${booking.id}/payments`),
        { token: who.accessToken },
      );
      expect(list.status).toBe(200);
      expect(list.body.data.map((p) => p.id)).toEqual([payment.id]);
      expect(list.body.nextCursor).toBeNull();
    }
    for (const [status, res] of [
      [404, await getPayment(stranger, payment.id)],
      [404, await t.call("GET", api(`/bookings/${booking.id}/payments`), { token: stranger.accessToken })],
      [404, await getPayment(guest, crypto.randomUUID())],
      [404, await getPayment(guest, "nope")],
      [401, await t.call("GET", api(`/payments/${payment.id}`))],
    ] as const) {
      expect(res.status).toBe(status);
    }
  });

  test("only the booking's guest may pay: the host and a stranger get 404 and nothing is created", async () => {
    const { booking } = await newBooking();
    for (const who of [host, stranger]) {
      const res = await pay(who, booking.id);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("not_found");
    }
    expect(await query("select 1 from payments where booking_id = $1", [booking.id])).toEqual([]);
  });
});

describe("reconciliation", () => {
  test("clean after pays, declines, refunds and a late charge; finds each kind of planted mismatch", async () => {
    // A service of its own: the webhook tests above settled payments the simulated provider never charged.
    const saved = { t, host, stranger, properties };
    await start();
    try {
      const a = await paid();
      const b = await paid();
      const c = await paid();
      const declined = await newBooking();
      await settled(declined.guest, (await pay(declined.guest, declined.booking.id, "pm_card_declined")).body.id);
      await t.call("POST", api(`/bookings/${a.booking.id}/cancel`), { token: host.accessToken });
      const late = await newBooking();
      const latePayment = await pay(late.guest, late.booking.id);
      await setClock(t.call, "2031-06-01T09:20:00.000Z");
      await settle(async () => (await getPayment(late.guest, latePayment.body.id)).body.status === "refunded");
      expect(await reconcile(t.deps.db, t.deps.payments, { graceMs: 0 })).toEqual([]);

      await query("update payments set refunded_amount = 100, status = 'partially_refunded' where id = $1", [
        b.payment.id,
      ]);
      // Drift planted behind the service's back: past payments_status_transition too (no path of ours can).
      await plant("update payments set status = 'failed', failure_code = 'card_declined' where id = $1", [
        c.payment.id,
      ]);
      const d = await paid();
      await query("delete from sim_charges where reference = $1", [d.payment.id]);
      const e = await paid();
      await query("update sim_charges set amount = amount + 1 where reference = $1", [e.payment.id]);
      const found = await reconcile(t.deps.db, t.deps.payments, { graceMs: 0 });
      expect(Object.fromEntries(found.map((m) => [m.paymentId, m.kind]))).toEqual({
        [b.payment.id]: "refund_differs",
        [c.payment.id]: "charged_not_recorded",
        [d.payment.id]: "recorded_not_charged",
        [e.payment.id]: "amount_differs",
      });
      // In flight is not a mismatch: within the grace period a charge whose job has not committed is skipped.
      await plant("update payments set status = 'processing', failure_code = null where id = $1", [c.payment.id]);
      expect((await reconcile(t.deps.db, t.deps.payments)).map((m) => m.paymentId)).not.toContain(c.payment.id);
    } finally {
      await t.close();
      ({ t, host, stranger, properties } = saved);
    }
  }, 60_000);
});

describe("when answers are lost or contradict each other", () => {
  test("a payment settled by a webhook (no charge id stored) is still refunded: the provider is asked by the charge's key", async () => {
    const { guest, booking, payment } = await (async () => {
      const b = await newBooking();
      const res = await pay(b.guest, b.booking.id);
      return { ...b, payment: res.body };
    })();
    // The provider charged (the job's worker died before committing); its event arrives first.
    await t.deps.payments.charge({
      key: `charge:${payment.id}`,
      reference: payment.id,
      amount: payment.amount,
      currency: payment.currency,
      paymentMethod: "pm_card_visa",
    });
    await query("update outbox set sent_at = now() where type = 'payment.charge' and payload->>'paymentId' = $1", [
      payment.id,
    ]);
    const e = {
      id: `evt_${crypto.randomUUID()}`,
      type: "charge.succeeded",
      created: Math.floor(Date.now() / 1000),
      data: { paymentId: payment.id, amount: payment.amount },
    };
    const raw = JSON.stringify(e);
    const res = await t.call("POST", api("/webhooks/payments"), {
      rawBody: raw,
      headers: {
        "content-type": "application/json",
        "payment-signature": signWebhook(SECRET, raw, Math.floor(Date.now() / 1000)),
      },
    });
    expect(res.body.outcome).toBe("applied");
    const [before] = await query<{ provider_ref: string | null }>("select provider_ref from payments where id = $1", [
      payment.id,
    ]);
    expect(before?.provider_ref).toBeNull();
    await t.call("POST", api(`/bookings/${booking.id}/cancel`), { token: host.accessToken });
    await drainJobs(t);
    expect((await getPayment(guest, payment.id)).body).toMatchObject({
      status: "refunded",
      refundedAmount: payment.amount,
    });
    expect((await ledger(payment.id))[0]?.refunded).toBe(payment.amount);
  });

  test("a charge partly refunded at the provider before our cancellation refund: the rest is refunded, never more", async () => {
    const { guest, booking, payment } = await paid();
    const [charge] = await query<{ charge_id: string }>("select charge_id from sim_charges where reference = $1", [
      payment.id,
    ]);
    // A dashboard refund whose webhook has not arrived yet.
    await t.deps.payments.refund({ key: "dashboard-1", chargeId: charge?.charge_id as string, amount: 1_000 });
    await t.call("POST", api(`/bookings/${booking.id}/cancel`), { token: host.accessToken });
    await drainJobs(t);
    expect((await getPayment(guest, payment.id)).body).toMatchObject({
      status: "refunded",
      refundedAmount: payment.amount,
    });
    expect((await ledger(payment.id))[0]?.refunded).toBe(payment.amount);
    const rows = await query<{ amount: number; status: string; provider_key: string }>(
      "select amount, status, provider_key from refunds where payment_id = $1",
      [payment.id],
    );
    expect(rows).toEqual([
      {
        amount: payment.amount - 1_000,
        status: "succeeded",
        provider_key: `refund:cancel:${booking.id}:${payment.amount - 1_000}`,
      },
    ]);
  });

  test("the provider charged but every answer was lost: on the last attempt it is asked by key, and the payment succeeds", async () => {
    const real = t.deps.payments;
    t.deps.payments = {
      ...real,
      charge: async (r) => {
        await real.charge({ ...r, paymentMethod: "pm_card_visa" });
        throw new TransientProviderError("timed out waiting for the answer");
      },
    };
    try {
      const { guest, booking } = await newBooking();
      const res = await pay(guest, booking.id);
      await settled(guest, res.body.id);
      expect((await getPayment(guest, res.body.id)).body.status).toBe("succeeded");
      expect((await getBooking(guest, booking.id)).body.status).toBe("confirmed");
      expect((await ledger(res.body.id)).length).toBe(1);
    } finally {
      t.deps.payments = real;
    }
  });

  test("a charge.failed event contradicted by the provider's charge: the payment stays failed and all the money goes back", async () => {
    const { guest, booking } = await newBooking();
    const res = await pay(guest, booking.id);
    const payment = res.body;
    await t.deps.payments.charge({
      key: `charge:${payment.id}`,
      reference: payment.id,
      amount: payment.amount,
      currency: payment.currency,
      paymentMethod: "pm_card_visa",
    });
    const e = {
      id: `evt_${crypto.randomUUID()}`,
      type: "charge.failed",
      created: Math.floor(Date.now() / 1000),
      data: { paymentId: payment.id },
    };
    const raw = JSON.stringify(e);
    await t.call("POST", api("/webhooks/payments"), {
      rawBody: raw,
      headers: {
        "content-type": "application/json",
        "payment-signature": signWebhook(SECRET, raw, Math.floor(Date.now() / 1000)),
      },
    });
    await drainJobs(t);
    expect((await getPayment(guest, payment.id)).body).toMatchObject({
      status: "failed",
      refundedAmount: payment.amount,
    });
    expect((await ledger(payment.id))[0]?.refunded).toBe(payment.amount);
    expect((await getBooking(guest, booking.id)).body.status).toBe("pending_payment");
  });

  test("charge.succeeded for another amount is not applied", async () => {
    const { guest, booking } = await newBooking();
    const res = await pay(guest, booking.id);
    const e = {
      id: `evt_${crypto.randomUUID()}`,
      type: "charge.succeeded",
      created: Math.floor(Date.now() / 1000),
      data: { paymentId: res.body.id, amount: 1 },
    };
    const raw = JSON.stringify(e);
    const answer = await t.call("POST", api("/webhooks/payments"), {
      rawBody: raw,
      headers: {
        "content-type": "application/json",
        "payment-signature": signWebhook(SECRET, raw, Math.floor(Date.now() / 1000)),
      },
    });
    expect(answer.body.outcome).toBe("amount_mismatch");
    expect((await getPayment(guest, res.body.id)).body.status).toBe("processing");
    await settled(guest, res.body.id);
  });

  test("a payment whose charge job was lost is charged by the sweep once it has been processing for 5 minutes", async () => {
    const { guest, booking } = await newBooking();
    const res = await pay(guest, booking.id);
    // The job is gone (a dead letter, a Redis that restarted empty).
    await query("update outbox set dead_at = now() where type = 'payment.charge' and payload->>'paymentId' = $1", [
      res.body.id,
    ]);
    await t.deps.db.transaction((tx) => enqueue(tx, t.deps.clock, "payments.sweep", { slot: 1 }));
    await drainJobs(t);
    expect((await getPayment(guest, res.body.id)).body.status).toBe("processing");
    await setClock(t.call, "2031-06-01T09:05:01.000Z");
    await t.deps.db.transaction((tx) => enqueue(tx, t.deps.clock, "payments.sweep", { slot: 2 }));
    await settled(guest, res.body.id);
    expect((await getBooking(guest, booking.id)).body.status).toBe("confirmed");
    expect((await ledger(res.body.id)).length).toBe(1);
  });
});
