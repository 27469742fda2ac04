// The inline charge (PAYMENT_CHARGE_INLINE=1): the instance that took a payment charges it right
// after its commit, and its payment.charge job, due a minute later, is the backstop. Charged and
// settled once whichever runs, and whatever order they run in; a crash between the payment's
// commit and the inline charge is completed by the job.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BACKSTOP_MS } from "../../src/modules/payments/backstop";
import type { ChargeRequest, ChargeResult } from "../../src/modules/payments/provider";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { book, captureMail, drainJobs, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";

const NOW = "2031-06-01T09:00:00.000Z";
let t: TestApp;
let host: Registered;
let property: { id: string };
let mails: { to: string; subject: string }[] = [];

beforeAll(async () => {
  t = await startTestApp({ PAYMENT_CHARGE_INLINE: "1", PAYMENT_PROVIDER_LATENCY_MS: "0", JOB_BACKOFF_MS: "1" });
  await setClock(t.call, NOW);
  host = await registerHost(t.call);
  property = (await createListing(t.call, host, { pricePerNight: 10_000 })) as { id: string };
  mails = captureMail(t);
}, 60_000);
afterAll(async () => {
  await t?.call("DELETE", "/api/v1/_test/clock");
  await t?.close();
});

const q = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  t.deps.database.raw.query(text, params) as Promise<T[]>;
const until = async (what: string, check: () => Promise<boolean>, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
};
let day = 0;
async function booked() {
  const guest = await registerUser(t.call);
  const start = new Date(Date.parse("2031-09-01T00:00:00Z") + 3 * 86_400_000 * day++).toISOString().slice(0, 10);
  const end = new Date(Date.parse(`${start}T00:00:00Z`) + 2 * 86_400_000).toISOString().slice(0, 10);
  const res = await book(t.call, guest, { propertyId: property.id, checkIn: start, checkOut: end });
  if (res.status !== 201) throw new Error(`booking: ${res.status} ${res.text}`);
  return { guest, bookingId: res.body.id };
}
const pay = (guest: Registered, bookingId: string, key = crypto.randomUUID(), paymentMethod = "pm_card_visa") =>
  t.call<{ id: string; status: string }>("POST", `/api/v1/bookings/${bookingId}/payments`, {
    token: guest.accessToken,
    body: { paymentMethod },
    headers: { "idempotency-key": key },
  });
const paymentStatus = async (id: string) =>
  (await q<{ status: string }>("select status from payments where id = $1", [id]))[0]?.status;
/** The payment's e-mails to `email` (not the account's own: welcome, verification). */
const mailsTo = (email: string) =>
  mails.filter((m) => m.to === email && /^(Payment|Booking)/.test(m.subject)).map((m) => m.subject);
const effects = async (paymentId: string, bookingId: string) => ({
  charges: (await q("select status from sim_charges where reference = $1", [paymentId])).length,
  booking: (await q<{ status: string }>("select status from bookings where id = $1", [bookingId]))[0]?.status,
  payment: await paymentStatus(paymentId),
  notifications: (
    await q<{ n: number }>("select count(*)::int as n from notifications where data->>'bookingId' = $1", [bookingId])
  )[0]?.n,
  emailJobs: (
    await q<{ n: number }>("select count(*)::int as n from outbox where type = 'notify.email' and dedupe_key like $1", [
      `%${paymentId}%`,
    ])
  )[0]?.n,
});
/** A minute and more later by the service clock: the backstop job is due. */
const pastBackstop = () => setClock(t.call, new Date(Date.parse(NOW) + BACKSTOP_MS + 1_000).toISOString());

describe("the inline charge", () => {
  test("charges and confirms without any job run; the backstop job is recorded done and changes nothing", async () => {
    const { guest, bookingId } = await booked();
    const paid = await pay(guest, bookingId);
    expect(paid.status).toBe(202);
    expect(paid.body.status).toBe("processing");
    await until("the inline charge", async () => (await paymentStatus(paid.body.id)) === "succeeded");
    const [job] = await q<{ sent: boolean; due: boolean }>(
      "select sent_at is not null as sent, run_at > created_at as due from outbox where dedupe_key = $1",
      [`payment:${paid.body.id}:charge`],
    );
    expect(job).toEqual({ sent: true, due: true });
    const first = await effects(paid.body.id, bookingId);
    expect(first).toMatchObject({ charges: 1, booking: "confirmed", payment: "succeeded", emailJobs: 1 });
    // The e-mails were sent from here too, their job recorded done with their claims.
    await until("the e-mails", async () => mailsTo(guest.email).length >= 2);
    const sent = mailsTo(guest.email);
    const [emailJob] = await q<{ sent: boolean }>(
      "select sent_at is not null as sent from outbox where type = 'notify.email' and dedupe_key like $1",
      [`%${paid.body.id}%`],
    );
    expect(emailJob?.sent).toBe(true);
    await pastBackstop();
    await drainJobs(t);
    expect(await effects(paid.body.id, bookingId)).toEqual(first);
    expect(mailsTo(guest.email)).toEqual(sent);
    await setClock(t.call, NOW);
  });

  test("a decline is settled inline too: the payment fails, the booking stays pending_payment", async () => {
    const { guest, bookingId } = await booked();
    const paid = await pay(guest, bookingId, crypto.randomUUID(), "pm_card_declined");
    await until("the inline decline", async () => (await paymentStatus(paid.body.id)) === "failed");
    expect(await effects(paid.body.id, bookingId)).toMatchObject({ charges: 1, booking: "pending_payment" });
  });

  test("a crash between the payment's commit and its inline charge: the job charges it once, and a late inline charge changes nothing", async () => {
    const real = t.deps.payments;
    // The inline charge never gets an answer (its process is as good as gone) until released.
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    let calls = 0;
    let lateAnswered = false;
    t.deps.payments = {
      ...real,
      async charge(r: ChargeRequest): Promise<ChargeResult> {
        if (calls++ > 0) return real.charge(r);
        await held;
        const answer = await real.charge(r);
        lateAnswered = true;
        return answer;
      },
    };
    try {
      const { guest, bookingId } = await booked();
      const paid = await pay(guest, bookingId);
      expect(paid.status).toBe(202);
      await Bun.sleep(50);
      // Not due yet: the job waits its minute.
      await drainJobs(t);
      expect(await paymentStatus(paid.body.id)).toBe("processing");
      await pastBackstop();
      await drainJobs(t);
      const done = await effects(paid.body.id, bookingId);
      expect(done).toMatchObject({ charges: 1, booking: "confirmed", payment: "succeeded", emailJobs: 1 });
      const sent = mailsTo(guest.email);
      expect(sent.length).toBeGreaterThanOrEqual(2);
      // The inline charge wakes up after all: the provider answers its key's first charge, and
      // the settlement finds the payment settled already.
      release();
      await until("the late inline charge", async () => lateAnswered);
      await Bun.sleep(100);
      expect(await effects(paid.body.id, bookingId)).toEqual(done);
      expect(mailsTo(guest.email)).toEqual(sent);
    } finally {
      t.deps.payments = real;
      await setClock(t.call, NOW);
    }
  });

  test("an inline charge that fails transiently makes its job due at once, which retries it", async () => {
    const real = t.deps.payments;
    let calls = 0;
    t.deps.payments = {
      ...real,
      async charge(r: ChargeRequest): Promise<ChargeResult> {
        if (calls++ === 0) throw new Error("the provider timed out");
        return real.charge(r);
      },
    };
    try {
      const { guest, bookingId } = await booked();
      const paid = await pay(guest, bookingId);
      await until("the job to come due", async () => {
        const [job] = await q<{ due: boolean }>("select run_at <= $2 as due from outbox where dedupe_key = $1", [
          `payment:${paid.body.id}:charge`,
          NOW,
        ]);
        return job?.due === true;
      });
      await drainJobs(t);
      expect(await effects(paid.body.id, bookingId)).toMatchObject({
        charges: 1,
        booking: "confirmed",
        payment: "succeeded",
      });
    } finally {
      t.deps.payments = real;
    }
  });

  test("a replayed Idempotency-Key answers the recorded payment and charges nothing more", async () => {
    const { guest, bookingId } = await booked();
    const key = crypto.randomUUID();
    const first = await pay(guest, bookingId, key);
    await until("the inline charge", async () => (await paymentStatus(first.body.id)) === "succeeded");
    const again = await pay(guest, bookingId, key);
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.status).toBe("processing");
    expect((await effects(first.body.id, bookingId)).charges).toBe(1);
  });

  test("one transaction each: the key, the payment, its job and its answer; then the settlement and the backstop's mark", async () => {
    const real = t.deps.payments;
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    t.deps.payments = {
      ...real,
      async charge(r: ChargeRequest): Promise<ChargeResult> {
        await held;
        return real.charge(r);
      },
    };
    try {
      const { guest, bookingId } = await booked();
      const key = crypto.randomUUID();
      const paid = await pay(guest, bookingId, key);
      const jobKey = `payment:${paid.body.id}:charge`;
      const [made] = await q<{ txs: string[] }>(
        `select array(select distinct x from (
            select xmin::text as x from idempotency_keys where key = $1
            union all select xmin::text from payments where id = $2
            union all select xmin::text from outbox where dedupe_key = $3) x) as txs`,
        [key, paid.body.id, jobKey],
      );
      expect(made?.txs.length).toBe(1);
      release();
      await until("the inline charge", async () => (await paymentStatus(paid.body.id)) === "succeeded");
      const [settled] = await q<{ txs: string[]; rows: number }>(
        `with s as (
            select xmin::text as x from payments where id = $1
            union all select xmin::text from bookings where id = $2
            union all select xmin::text from outbox where dedupe_key = $3)
          select array(select distinct x from s) as txs, (select count(*)::int from s) as rows`,
        [paid.body.id, bookingId, jobKey],
      );
      // The payment, the booking, the backstop's mark (the notifications' rows change again when
      // their e-mails are claimed, after the commit).
      expect(settled?.rows).toBe(3);
      expect(settled?.txs.length).toBe(1);
      expect(settled?.txs[0]).not.toBe(made?.txs[0] as string);
    } finally {
      t.deps.payments = real;
    }
  });

  test("concurrent payments of a booking under one key: one payment; the others get its answer replayed or 409 idempotency_in_progress", async () => {
    const { guest, bookingId } = await booked();
    const key = crypto.randomUUID();
    const answers = await Promise.all(Array.from({ length: 8 }, () => pay(guest, bookingId, key)));
    const made = answers.filter((a) => a.status === 202 && a.headers.get("idempotent-replayed") !== "true");
    expect(made.length).toBe(1);
    for (const a of answers) {
      if (a.status === 202) expect(a.body.id).toBe(made[0]?.body.id as string);
      else expect((a.body as unknown as { code: string }).code).toBe("idempotency_in_progress");
    }
    const [n] = await q<{ n: number }>("select count(*)::int as n from payments where booking_id = $1", [bookingId]);
    expect(n?.n).toBe(1);
    await until("the inline charge", async () => (await paymentStatus(made[0]?.body.id as string)) === "succeeded");
  });

  test("a refusal under a new key is the key's answer: replayed, with the first request's body; another body is 422", async () => {
    const { guest, bookingId } = await booked();
    const first = await pay(guest, bookingId);
    await until("the inline charge", async () => (await paymentStatus(first.body.id)) === "succeeded");
    const key = crypto.randomUUID();
    const refused = await pay(guest, bookingId, key);
    expect(refused.status).toBe(409);
    const again = await pay(guest, bookingId, key);
    expect(again.status).toBe(409);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.text).toBe(refused.text);
    const other = await pay(guest, bookingId, key, "pm_card_mastercard");
    expect(other.status).toBe(422);
    expect((other.body as unknown as { code: string }).code).toBe("idempotency_key_reused");
  });

  test("a mailer that fails after the inline settlement: the e-mail job is due at once and sends each e-mail once", async () => {
    let failing = true;
    const sent: string[] = [];
    t.deps.mailer = {
      send: async (m) => {
        if (!/^(Payment|Booking)/.test(m.subject)) return;
        if (failing) throw new Error("smtp down");
        sent.push(m.to);
      },
    };
    try {
      const { guest, bookingId } = await booked();
      const paid = await pay(guest, bookingId);
      await until("the inline charge", async () => (await paymentStatus(paid.body.id)) === "succeeded");
      await until("the e-mail job to come due again", async () => {
        const [job] = await q<{ open: boolean }>(
          "select sent_at is null and run_at <= $2 as open from outbox where type = 'notify.email' and dedupe_key like $1",
          [`%${paid.body.id}%`, NOW],
        );
        return job?.open === true;
      });
      failing = false;
      await drainJobs(t);
      await drainJobs(t);
      expect(sent.filter((to) => to === guest.email).length).toBe(2);
    } finally {
      mails = captureMail(t);
    }
  });
});

describe("the inline charge on the embedded database", () => {
  test("charges, confirms and mails once; both backstop jobs are recorded done", async () => {
    const e = await startTestApp({ PAYMENT_CHARGE_INLINE: "1", PAYMENT_PROVIDER_LATENCY_MS: "0" }, { embedded: true });
    try {
      await setClock(e.call, NOW);
      const sent = captureMail(e);
      const owner = await registerHost(e.call);
      const listing = (await createListing(e.call, owner, { pricePerNight: 10_000 })) as { id: string };
      const guest = await registerUser(e.call);
      const made = await book(e.call, guest, { propertyId: listing.id, checkIn: "2031-09-01", checkOut: "2031-09-03" });
      expect(made.status).toBe(201);
      const paid = await e.call<{ id: string }>("POST", `/api/v1/bookings/${made.body.id}/payments`, {
        token: guest.accessToken,
        body: { paymentMethod: "pm_card_visa" },
        headers: { "idempotency-key": "embedded" },
      });
      expect(paid.status).toBe(202);
      const eq = (text: string, params: unknown[]) => e.deps.database.raw.query(text, params);
      const deadline = Date.now() + 10_000;
      while (sent.filter((m) => /^(Payment|Booking)/.test(m.subject) && m.to === guest.email).length < 2) {
        if (Date.now() > deadline) throw new Error("timed out waiting for the e-mails");
        await Bun.sleep(10);
      }
      expect(await eq("select status from bookings where id = $1", [made.body.id])).toEqual([{ status: "confirmed" }]);
      expect(
        await eq(
          "select type, sent_at is not null as done from outbox where payload->>'paymentId' = $1 or type = 'notify.email' order by type",
          [paid.body.id],
        ),
      ).toEqual([
        { type: "notify.email", done: true },
        { type: "payment.charge", done: true },
      ]);
    } finally {
      await e.call("DELETE", "/api/v1/_test/clock");
      await e.close();
    }
  }, 60_000);
});
