// The inline charge (the default, PAYMENT_CHARGE_INLINE=1): the process that took a payment charges
// it right after the commit and settles it in one transaction that also deletes its backstop job, so
// a payment costs no relay pass, stream entry or worker. What it cannot finish, its backstop job
// does, under the same provider key: a transient provider error (due at once), a process that dies
// between the provider's answer and the settlement (due a minute later), once either way.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../../src/dependencies";
import { backgroundSettled } from "../../src/lib/background";
import { chargeInline } from "../../src/modules/payments/inline-charge";
import { CHARGE_BACKSTOP_MS } from "../../src/modules/payments/service";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { type BookingBody, book, captureMail, drainJobs, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";

let t: TestApp;
let host: Registered;
let listing: { id: string };
const NOW = "2031-06-01T09:00:00.000Z";
let mail: { to: string; subject: string; text: string }[] = [];

beforeAll(async () => {
  t = await startTestApp({ PAYMENT_PROVIDER_LATENCY_MS: "0", JOB_BACKOFF_MS: "1", JOB_MAX_ATTEMPTS: "3" });
  await setClock(t.call, NOW);
  host = await registerHost(t.call);
  listing = await createListing(t.call, host, { pricePerNight: 10_000, cleaningFee: 2_000 });
  mail = captureMail(t);
}, 60_000);
afterAll(async () => {
  await t?.call("DELETE", "/api/v1/_test/clock");
  await t?.close();
});

const api = (path: string) => `/api/v1${path}`;
const q = <T extends Record<string, unknown>>(text: string, params: unknown[] = []) =>
  t.deps.database.raw.query<T>(text, params);
let day = 0;
async function newBooking(): Promise<{ guest: Registered; booking: BookingBody }> {
  const guest = await registerUser(t.call);
  const start = new Date(Date.parse("2031-09-01T00:00:00Z") + 3 * 86_400_000 * day++).toISOString().slice(0, 10);
  const end = new Date(Date.parse(`${start}T00:00:00Z`) + 2 * 86_400_000).toISOString().slice(0, 10);
  const res = await book(t.call, guest, { propertyId: listing.id, checkIn: start, checkOut: end });
  if (res.status !== 201) throw new Error(`booking: ${res.status} ${res.text}`);
  return { guest, booking: res.body };
}
const pay = (guest: Registered, bookingId: string, paymentMethod = "pm_card_visa", key: string = crypto.randomUUID()) =>
  t.call<{ id: string; status: string }>("POST", api(`/bookings/${bookingId}/payments`), {
    token: guest.accessToken,
    body: { paymentMethod },
    headers: { "idempotency-key": key },
  });
const statusOf = async (paymentId: string) =>
  (await q<{ status: string }>("select status from payments where id = $1", [paymentId]))[0]?.status;
const chargeJobs = (paymentId: string) =>
  q<{ sent: boolean }>("select sent_at is not null as sent from outbox where dedupe_key = $1", [
    `payment:${paymentId}:charge`,
  ]);
const charges = (paymentId: string) =>
  q<{ status: string }>("select status from sim_charges where reference = $1", [paymentId]);

describe("inline charge", () => {
  test("settled by the process that took it: confirmed, notified once, no job left, charged once", async () => {
    const { guest, booking } = await newBooking();
    await drainJobs(t); // the accounts' welcome e-mails, before what the payment sends
    const before = mail.length;
    const res = await pay(guest, booking.id, "pm_card_visa", `inline-${booking.id}`);
    expect(res.status).toBe(202);
    expect(res.body.status).toBe("processing");
    await backgroundSettled(t.deps);
    expect(await statusOf(res.body.id)).toBe("succeeded");
    const [b] = await q<{ status: string }>("select status from bookings where id = $1", [booking.id]);
    expect(b?.status).toBe("confirmed");
    // Its backstop was deleted in the settlement's transaction: nothing for a relay or a worker.
    expect(await chargeJobs(res.body.id)).toEqual([]);
    expect(await charges(res.body.id)).toEqual([{ status: "succeeded" }]);
    const kinds = await q<{ type: string; n: number }>(
      "select type, count(*)::int as n from notifications where data->>'bookingId' = $1 group by type order by type",
      [booking.id],
    );
    expect(kinds).toEqual([
      { type: "booking_confirmed", n: 2 },
      { type: "booking_created", n: 2 },
      { type: "payment_succeeded", n: 1 },
    ]);
    // The e-mails go through the outbox (one job), once however often the jobs run.
    await drainJobs(t);
    const sent = mail.slice(before).map((m) => m.subject);
    expect(sent.sort()).toEqual(["Booking confirmed", "Payment received"]); // the guest's
    expect(new Set(mail.slice(before).map((m) => m.to)).size).toBe(1);
    await drainJobs(t);
    expect(mail.length - before).toBe(sent.length);
    // A replay of the key answers the first 202 again and starts no second charge.
    const replay = await pay(guest, booking.id, "pm_card_visa", `inline-${booking.id}`);
    expect(replay.status).toBe(202);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body.id).toBe(res.body.id);
    await backgroundSettled(t.deps);
    expect(await charges(res.body.id)).toEqual([{ status: "succeeded" }]);
  });

  test("a decline is settled inline too: failed, the booking still held, its job gone", async () => {
    const { guest, booking } = await newBooking();
    const res = await pay(guest, booking.id, "pm_card_declined");
    expect(res.status).toBe(202);
    await backgroundSettled(t.deps);
    expect(await statusOf(res.body.id)).toBe("failed");
    expect(await chargeJobs(res.body.id)).toEqual([]);
    const [b] = await q<{ status: string }>("select status from bookings where id = $1", [booking.id]);
    expect(b?.status).toBe("pending_payment");
  });

  test("a transient provider error hands the charge to its job at once, with the job's retries", async () => {
    const { guest, booking } = await newBooking();
    const res = await pay(guest, booking.id, "pm_card_processing_error");
    expect(res.status).toBe(202);
    await backgroundSettled(t.deps);
    expect(await statusOf(res.body.id)).toBe("processing");
    // Due now (not a minute later): the job runs, retries, and fails it; nothing was charged.
    expect(await chargeJobs(res.body.id)).toEqual([{ sent: false }]);
    const [due] = await q<{ due: boolean }>(
      "select run_at <= $2::timestamptz as due from outbox where dedupe_key = $1",
      [`payment:${res.body.id}:charge`, NOW],
    );
    expect(due?.due).toBe(true);
    const end = Date.now() + 10_000;
    while ((await statusOf(res.body.id)) === "processing" && Date.now() < end) {
      await drainJobs(t);
      await Bun.sleep(5);
    }
    const [p] = await q<{ status: string; failure_code: string }>(
      "select status, failure_code from payments where id = $1",
      [res.body.id],
    );
    expect(p).toEqual({ status: "failed", failure_code: "processing_error" });
    expect(await charges(res.body.id)).toEqual([]);
  });

  test("the process dies between the provider's charge and the settlement: the backstop settles it a minute later, charged once", async () => {
    const { guest, booking } = await newBooking();
    // Paid with the inline charge's own process "dying": its settlement never commits.
    const dying: Deps = {
      ...t.deps,
      db: new Proxy(t.deps.db, {
        get: (target, prop, receiver) =>
          prop === "transaction"
            ? () => Promise.reject(new Error("the process was killed"))
            : Reflect.get(target, prop, receiver),
      }),
    };
    const res = await t.call<{ id: string; amount: number; currency: string }>(
      "POST",
      api(`/bookings/${booking.id}/payments`),
      {
        token: guest.accessToken,
        body: { paymentMethod: "pm_card_visa" },
        headers: { "idempotency-key": crypto.randomUUID() },
      },
    );
    expect(res.status).toBe(202);
    // The real inline charge of that request may have run already: undo it, as if it never had,
    // then run the dying one.
    await backgroundSettled(t.deps);
    await q("update payments set status = 'processing', provider_ref = null where id = $1", [res.body.id]);
    await q("update bookings set status = 'pending_payment' where id = $1", [booking.id]);
    await q("delete from sim_charges where reference = $1", [res.body.id]);
    await q(
      "insert into outbox (type, payload, run_at, dedupe_key) values ('payment.charge', $1, $2::timestamptz + interval '60 seconds', $3) on conflict (dedupe_key) do nothing",
      [JSON.stringify({ paymentId: res.body.id }), NOW, `payment:${res.body.id}:charge`],
    );
    chargeInline(dying, {
      paymentId: res.body.id,
      amount: res.body.amount,
      currency: res.body.currency,
      paymentMethod: "pm_card_visa",
    });
    await backgroundSettled(dying);
    // Charged at the provider, not settled here; the job waits for its minute.
    expect(await charges(res.body.id)).toEqual([{ status: "succeeded" }]);
    expect(await statusOf(res.body.id)).toBe("processing");
    await drainJobs(t);
    expect(await statusOf(res.body.id)).toBe("processing");
    await setClock(t.call, new Date(Date.parse(NOW) + CHARGE_BACKSTOP_MS + 1_000).toISOString());
    await drainJobs(t);
    expect(await statusOf(res.body.id)).toBe("succeeded");
    // The job asked under the same key: the provider's first charge, not a second one.
    expect(await charges(res.body.id)).toEqual([{ status: "succeeded" }]);
    const [b] = await q<{ status: string }>("select status from bookings where id = $1", [booking.id]);
    expect(b?.status).toBe("confirmed");
    await setClock(t.call, NOW);
  });
});
