// The double-entry ledger and host payouts: a capture splits the guest's money (host pending,
// platform fees, taxes payable, against clearing); a refund reverses it in proportion (exactly);
// the release moves the host's part to available PAYOUT_RELEASE_HOURS after check-in; the payout
// run pays it out (paid, failed, in transit until a webhook) and a refund after the money left is
// a clawback. The database refuses an unbalanced transaction and any change to a posted one;
// `ledger check` finds nothing amiss after all of it, and finds what is planted.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { checkLedger } from "../../src/modules/ledger/check";
import { runPayouts, sendPayout } from "../../src/modules/ledger/payouts";
import { post, proportional } from "../../src/modules/ledger/postings";
import { signWebhook, TransientProviderError } from "../../src/modules/payments/provider";
import { createAdmin } from "../../src/modules/users/admin-cli";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { type BookingBody, book, captureMail, drainJobs, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";

const SECRET = "whsec_test_ledger_0123456789";
const NOW = "2031-06-01T09:00:00.000Z";
const DAY = 86_400_000;

let t: TestApp;
let admin: string;

interface Balance {
  currency: string;
  pending: number;
  available: number;
  inTransit: number;
  paidOut: number;
  clawback: number;
}

beforeAll(async () => {
  t = await startTestApp({ PAYMENT_WEBHOOK_SECRET: SECRET, PAYMENT_PROVIDER_LATENCY_MS: "0", JOB_BACKOFF_MS: "1" });
  await setClock(t.call, NOW);
  await createAdmin({ email: "ledger-admin@example.com", password: "admin password 1" }, t.deps);
  const login = await t.call<{ accessToken: string }>("POST", "/api/v1/auth/login", {
    body: { email: "ledger-admin@example.com", password: "admin password 1" },
  });
  admin = login.body.accessToken;
}, 60_000);
afterAll(async () => {
  await t?.call("DELETE", "/api/v1/_test/clock");
  await t?.close();
});

const api = (path: string) => `/api/v1${path}`;
const query = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  t.deps.database.raw.query(text, params) as Promise<T[]>;
const balanceOf = async (host: Registered): Promise<Balance | undefined> =>
  (await t.call<{ balances: Balance[] }>("GET", api("/hosts/me/balance"), { token: host.accessToken })).body
    .balances[0];
const at = async (iso: string) => setClock(t.call, iso);

/** A host with one listing (price 10,000 a night, cleaning 2,000, moderate policy). */
async function newHost(overrides: Record<string, unknown> = {}) {
  const host = await registerHost(t.call);
  const listing = await createListing(t.call, host, { pricePerNight: 10_000, cleaningFee: 2_000, ...overrides });
  return { host, listing };
}

/** A guest's paid (confirmed) stay of `nights` nights from `checkIn`. */
async function paidStay(listingId: string, checkIn: string, nights = 2) {
  const guest = await registerUser(t.call);
  const checkOut = new Date(Date.parse(`${checkIn}T00:00:00Z`) + nights * DAY).toISOString().slice(0, 10);
  const made = await book(t.call, guest, { propertyId: listingId, checkIn, checkOut });
  if (made.status !== 201) throw new Error(`booking ${made.status} ${made.text}`);
  const paid = await t.call<{ id: string }>("POST", api(`/bookings/${made.body.id}/payments`), {
    token: guest.accessToken,
    body: { paymentMethod: "pm_card_visa" },
    headers: { "idempotency-key": crypto.randomUUID() },
  });
  await drainJobs(t);
  return { guest, booking: made.body, paymentId: paid.body.id };
}

/** Every account's sum per currency is zero: what the database itself keeps. */
async function sumsAreZero() {
  const rows = await query<{ currency: string; sum: number }>(
    "select currency, sum(amount)::int as sum from ledger_entries group by currency",
  );
  for (const r of rows) expect(r).toEqual({ currency: r.currency, sum: 0 });
}

describe("a capture, its release and its payout", () => {
  test("the capture splits the total: host pending, fees, taxes, against clearing", async () => {
    const { host, listing } = await newHost();
    const { booking, paymentId } = await paidStay(listing.id, "2031-07-01");
    expect(booking.price.total).toBe(24_200);
    const entries = await query<{ account: string; amount: number }>(
      `select e.account, e.amount from ledger_entries e join ledger_transactions x on x.id = e.transaction_id
       where x.source_key = $1 order by e.account`,
      [`capture:${paymentId}`],
    );
    const hostFee = 22_000 - booking.price.hostPayout;
    expect(hostFee).toBe(660);
    expect(Object.fromEntries(entries.map((e) => [e.account.replace(host.id, "H"), e.amount]))).toEqual({
      "host:H:pending": booking.price.hostPayout,
      "platform:clearing": -24_200,
      "platform:fees": 2_200 + hostFee,
    });
    expect(await balanceOf(host)).toEqual({
      currency: "EUR",
      pending: booking.price.hostPayout,
      available: 0,
      inTransit: 0,
      paidOut: 0,
      clawback: 0,
    });
    await sumsAreZero();
  });

  test("released PAYOUT_RELEASE_HOURS after check-in, paid out by the run, the host told at each step", async () => {
    const mail = captureMail(t);
    const { host, listing } = await newHost();
    const { booking } = await paidStay(listing.id, "2031-07-10");
    const payout = booking.price.hostPayout;
    // Not before: a minute short of 24 h after check-in (15:00 UTC).
    await at("2031-07-11T14:59:00.000Z");
    await drainJobs(t);
    expect((await balanceOf(host))?.pending).toBe(payout);
    await at("2031-07-11T15:00:00.000Z");
    await drainJobs(t);
    expect(await balanceOf(host)).toMatchObject({ pending: 0, available: payout });
    // No payout method: the run skips the host, the balance waits.
    expect((await runPayouts(t.deps, { hostIds: [host.id] })).length).toBe(0);
    const method = await t.call<{ token: string }>("PUT", api("/hosts/me/payout-method"), {
      token: host.accessToken,
      body: { token: "ba_test_ok" },
    });
    expect(method.status).toBe(200);
    expect(method.body.token).toBe("ba_…t_ok");
    const [made] = await runPayouts(t.deps, { hostIds: [host.id] });
    expect(made?.amount).toBe(payout);
    expect((await balanceOf(host))?.inTransit).toBe(payout);
    await drainJobs(t);
    expect(await balanceOf(host)).toMatchObject({ pending: 0, available: 0, inTransit: 0, paidOut: payout });
    const seen = await t.call<{ status: string }>("GET", api(`/payouts/${made?.id}`), { token: host.accessToken });
    expect(seen.body.status).toBe("paid");
    const other = await registerHost(t.call);
    expect((await t.call("GET", api(`/payouts/${made?.id}`), { token: other.accessToken })).status).toBe(404);
    const list = await t.call<{ data: { id: string }[] }>("GET", api("/hosts/me/payouts"), { token: host.accessToken });
    expect(list.body.data.map((p) => p.id)).toEqual([made?.id as string]);
    const ledger = await t.call<{ data: { kind: string; bookingId?: string; payoutId?: string; amount: number }[] }>(
      "GET",
      api("/hosts/me/ledger?limit=100"),
      { token: host.accessToken },
    );
    expect(ledger.body.data.map((e) => e.kind)).toEqual([
      "payout",
      "payout",
      "payout",
      "release",
      "release",
      "capture",
    ]);
    expect(ledger.body.data.filter((e) => e.kind === "capture")[0]?.bookingId).toBe(booking.id);
    expect(ledger.body.data.filter((e) => e.kind === "payout").every((e) => e.payoutId === made?.id)).toBe(true);
    await drainJobs(t);
    const subjects = mail.filter((m) => m.to === host.email).map((m) => m.subject);
    expect(subjects).toEqual(expect.arrayContaining(["Payout on its way", "Payout paid"]));
    // Nothing left to pay: a second run makes nothing.
    expect((await runPayouts(t.deps, { hostIds: [host.id] })).length).toBe(0);
    await at(NOW);
  });

  test("a failed payout returns the money to available; a pending one waits for its webhook", async () => {
    const { host, listing } = await newHost();
    const { booking } = await paidStay(listing.id, "2031-07-20");
    await at("2031-07-21T16:00:00.000Z");
    await drainJobs(t);
    await t.call("PUT", api("/hosts/me/payout-method"), { token: host.accessToken, body: { token: "ba_test_fail" } });
    const [failed] = await runPayouts(t.deps, { hostIds: [host.id] });
    await drainJobs(t);
    const seen = await t.call<{ status: string; failureCode?: string }>("GET", api(`/payouts/${failed?.id}`), {
      token: host.accessToken,
    });
    expect(seen.body).toMatchObject({ status: "failed", failureCode: "account_closed" });
    expect(await balanceOf(host)).toMatchObject({ available: booking.price.hostPayout, inTransit: 0, paidOut: 0 });
    await t.call("PUT", api("/hosts/me/payout-method"), {
      token: host.accessToken,
      body: { token: "ba_test_pending" },
    });
    const [pending] = await runPayouts(t.deps, { hostIds: [host.id] });
    await drainJobs(t);
    expect(
      (await t.call<{ status: string }>("GET", api(`/payouts/${pending?.id}`), { token: host.accessToken })).body
        .status,
    ).toBe("in_transit");
    // While one is in flight the run makes no other for that currency.
    expect((await runPayouts(t.deps, { hostIds: [host.id] })).length).toBe(0);
    const body = JSON.stringify({
      id: `evt_${crypto.randomUUID()}`,
      type: "payout.paid",
      created: Math.floor(Date.now() / 1000),
      data: { payoutId: pending?.id },
    });
    const hook = await t.call<{ outcome: string }>("POST", api("/webhooks/payments"), {
      rawBody: body,
      headers: {
        "content-type": "application/json",
        "payment-signature": signWebhook(SECRET, body, Math.floor(Date.now() / 1000)),
      },
    });
    expect(hook.body.outcome).toBe("applied");
    expect(await balanceOf(host)).toMatchObject({ available: 0, inTransit: 0, paidOut: booking.price.hostPayout });
    await at(NOW);
  });

  test("a payout whose answer was lost (the worker killed after the provider paid) is sent once", async () => {
    const { host, listing } = await newHost();
    await paidStay(listing.id, "2031-08-01");
    await at("2031-08-02T16:00:00.000Z");
    await drainJobs(t);
    await t.call("PUT", api("/hosts/me/payout-method"), { token: host.accessToken, body: { token: "ba_test_ok" } });
    const [made] = await runPayouts(t.deps, { hostIds: [host.id] });
    if (!made) throw new Error("no payout");
    // The provider paid under the payout's key; our side never heard.
    const first = await t.deps.payments.payout({
      key: `payout:${made.id}`,
      reference: made.id,
      amount: made.amount,
      currency: made.currency,
      token: made.token,
    });
    await sendPayout(t.deps, made.id);
    await drainJobs(t);
    // The provider's first answer is the one recorded: one payout at the provider, ours paid by it.
    const rows = await query<{ n: number }>("select count(*)::int as n from sim_payouts where reference = $1", [
      made.id,
    ]);
    expect(rows[0]?.n).toBe(1);
    const [ours] = await query<{ provider_ref: string; status: string }>(
      "select provider_ref, status from payouts where id = $1",
      [made.id],
    );
    expect(ours).toEqual({ provider_ref: first.payoutRef, status: "paid" });
    expect((await balanceOf(host))?.paidOut).toBe(made.amount);
    await at(NOW);
  });
});

describe("refunds", () => {
  test("proportional shares sum to the refund exactly (largest remainder)", () => {
    expect(proportional(100, [1, 1, 1])).toEqual([34, 33, 33]);
    expect(proportional(7, [21_340, 2_860, 0])).toEqual([6, 1, 0]);
    for (let r = 0; r <= 24_200; r += 97) {
      const parts = proportional(r, [21_340, 2_860, 1_000]);
      expect(parts.reduce((a, b) => a + b, 0)).toBe(r);
    }
  });

  test("a refund before the release comes out of pending, in proportion, and the ledger gives back what the payment says", async () => {
    const { host, listing } = await newHost({ cancellationPolicy: "moderate" });
    const { guest, booking, paymentId } = await paidStay(listing.id, "2031-09-01");
    // Within 5 days of check-in: half back.
    await at("2031-08-30T09:00:00.000Z");
    await t.call("POST", api(`/bookings/${booking.id}/cancel`), { token: guest.accessToken });
    await drainJobs(t);
    const [p] = await query<{ refunded_amount: number }>("select refunded_amount from payments where id = $1", [
      paymentId,
    ]);
    expect(p?.refunded_amount).toBe(12_100);
    const b = await balanceOf(host);
    expect(b?.pending).toBe(
      booking.price.hostPayout - (proportional(12_100, [booking.price.hostPayout, 2_860, 0])[0] ?? 0),
    );
    // The release moves the rest the host keeps.
    await at("2031-09-02T16:00:00.000Z");
    await drainJobs(t);
    expect(await balanceOf(host)).toMatchObject({ pending: 0, available: b?.pending });
    await sumsAreZero();
    await at(NOW);
  });

  test("a refund in steps reverses the capture exactly: a full refund nets every line to zero", async () => {
    const { host, listing } = await newHost();
    const { booking, paymentId } = await paidStay(listing.id, "2031-09-20");
    const refunded = async (amount: number) => {
      const body = JSON.stringify({
        id: `evt_${crypto.randomUUID()}`,
        type: "charge.refunded",
        created: Math.floor(Date.now() / 1000),
        data: { paymentId, amount },
      });
      return t.call<{ outcome: string }>("POST", api("/webhooks/payments"), {
        rawBody: body,
        headers: {
          "content-type": "application/json",
          "payment-signature": signWebhook(SECRET, body, Math.floor(Date.now() / 1000)),
        },
      });
    };
    // 55 first (its split rounds), then the rest: the host and the platform each get all of theirs back.
    expect((await refunded(55)).body.outcome).toBe("applied");
    expect((await refunded(booking.price.total)).body.outcome).toBe("applied");
    const lines = await query<{ account: string; n: number }>(
      `select e.account, sum(e.amount)::int as n from ledger_entries e join ledger_transactions x on x.id = e.transaction_id
       where x.payment_id = $1 group by e.account`,
      [paymentId],
    );
    for (const l of lines) expect({ account: l.account, n: l.n }).toEqual({ account: l.account, n: 0 });
    expect(await balanceOf(host)).toMatchObject({ pending: 0, available: 0, clawback: 0 });
  });

  test("a cancelled stay whose refund is late releases only what its host keeps", async () => {
    const { host, listing } = await newHost();
    const { booking } = await paidStay(listing.id, "2031-09-25");
    const refund = t.deps.payments.refund;
    t.deps.payments.refund = async () => {
      throw new TransientProviderError("the provider is down (test)");
    };
    try {
      await at("2031-09-26T16:00:00.000Z");
      // The host cancels the stay under way: all of it is owed back, and the refund cannot be made yet.
      expect((await t.call("POST", api(`/bookings/${booking.id}/cancel`), { token: host.accessToken })).status).toBe(
        200,
      );
      await drainJobs(t);
      // Its release ran meanwhile: nothing of it became available to pay out.
      expect(await balanceOf(host)).toMatchObject({ pending: booking.price.hostPayout, available: 0 });
    } finally {
      t.deps.payments.refund = refund;
    }
    // The provider is back: the refund job (between retries, or a dead letter) runs again.
    await t.deps.db.execute(sql`update outbox set run_at = now(), dead_at = null, attempts = 0, sent_at = null,
      locked_until = null where dedupe_key = ${`booking:${booking.id}:refund`}`);
    for (let i = 0; i < 200 && (await balanceOf(host))?.pending !== 0; i++) {
      await drainJobs(t);
      await Bun.sleep(10);
    }
    expect(await balanceOf(host)).toMatchObject({ pending: 0, available: 0, clawback: 0 });
    await at(NOW);
  });

  test("a refund after the money left is a clawback: available goes negative, flagged, recovered from the next payouts", async () => {
    const { host, listing } = await newHost();
    const first = await paidStay(listing.id, "2031-10-01");
    await at("2031-10-02T16:00:00.000Z");
    await drainJobs(t);
    await t.call("PUT", api("/hosts/me/payout-method"), { token: host.accessToken, body: { token: "ba_test_ok" } });
    await runPayouts(t.deps, { hostIds: [host.id] });
    await drainJobs(t);
    // The host cancels the stay under way: all of it back to the guest, after the host was paid.
    await t.call("POST", api(`/bookings/${first.booking.id}/cancel`), { token: host.accessToken });
    await drainJobs(t);
    const owed = first.booking.price.hostPayout;
    expect(await balanceOf(host)).toMatchObject({ available: -owed, clawback: owed, paidOut: owed });
    const kinds = await query<{ kind: string }>(
      "select kind from ledger_transactions where booking_id = $1 order by created_at, kind",
      [first.booking.id],
    );
    expect(kinds.map((k) => k.kind)).toContain("clawback");
    // The next stay's money pays the debt back first: nothing is paid out until it is.
    const second = await paidStay(listing.id, "2031-10-20");
    await at("2031-10-21T16:00:00.000Z");
    await drainJobs(t);
    expect((await runPayouts(t.deps, { hostIds: [host.id] })).length).toBe(0);
    const third = await paidStay(listing.id, "2031-11-01");
    await at("2031-11-02T16:00:00.000Z");
    await drainJobs(t);
    const [paid] = await runPayouts(t.deps, { hostIds: [host.id] });
    expect(paid?.amount).toBe(second.booking.price.hostPayout + third.booking.price.hostPayout - owed);
    await drainJobs(t);
    expect((await balanceOf(host))?.clawback).toBe(0);
    await at(NOW);
  });
});

describe("the database's own rules", () => {
  const code = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: { code?: string; cause?: { code?: string } }) => e.cause?.code ?? e.code ?? "error",
    );

  test("a transaction whose entries do not sum to zero is refused, and so is unbalancing one posted before", async () => {
    const refused = await code(
      t.deps.db.transaction((tx) =>
        post(tx, t.deps.clock, {
          sourceKey: `test:unbalanced:${crypto.randomUUID()}`,
          kind: "refund",
          currency: "EUR",
          lines: [
            { account: "platform:fees", amount: 100 },
            { account: "platform:clearing", amount: -99 },
          ],
        }),
      ),
    );
    expect(refused).toBe("23514");
    // One more entry for a transaction already posted, in a statement of its own.
    const [old] = await query<{ id: string }>("select id from ledger_transactions where kind = 'capture' limit 1");
    const appended = await code(
      query(
        "insert into ledger_entries (transaction_id, account, amount, currency, created_at) values ($1, 'platform:fees', 1, 'EUR', now())",
        [old?.id],
      ),
    );
    expect(appended).toBe("23514");
  });

  test("posted entries and transactions are never updated or deleted", async () => {
    for (const statement of [
      "update ledger_entries set amount = amount + 1 where id = (select min(id) from ledger_entries)",
      "delete from ledger_entries where id = (select min(id) from ledger_entries)",
      "update ledger_transactions set kind = 'refund' where id = (select id from ledger_transactions limit 1)",
      "delete from ledger_transactions where id = (select id from ledger_transactions limit 1)",
    ])
      expect({ statement, refused: await code(query(statement)) }).toEqual({ statement, refused: "23514" });
  });

  test("one transaction per source event: posting it again writes nothing", async () => {
    const key = `test:once:${crypto.randomUUID()}`;
    const once = () =>
      t.deps.db.transaction((tx) =>
        post(tx, t.deps.clock, {
          sourceKey: key,
          kind: "refund",
          currency: "EUR",
          lines: [
            { account: "platform:fees", amount: 5 },
            { account: "platform:clearing", amount: -5 },
          ],
        }),
      );
    expect(await once()).toBe(true);
    expect(await once()).toBe(false);
    const [n] = await query<{ n: number }>(
      "select count(*)::int as n from ledger_entries e join ledger_transactions x on x.id = e.transaction_id where x.source_key = $1",
      [key],
    );
    expect(n?.n).toBe(2);
    // Undo the test's own money the only way a ledger allows: a correcting transaction.
    await t.deps.db.transaction((tx) =>
      post(tx, t.deps.clock, {
        sourceKey: `${key}:correction`,
        kind: "refund",
        currency: "EUR",
        lines: [
          { account: "platform:fees", amount: -5 },
          { account: "platform:clearing", amount: 5 },
        ],
      }),
    );
  });
});

describe("concurrency: a refund, the payout run and a release of one host at once", () => {
  test("never pays out more than the host has earned less what was refunded", async () => {
    const { host, listing } = await newHost({ cancellationPolicy: "flexible" });
    await t.call("PUT", api("/hosts/me/payout-method"), { token: host.accessToken, body: { token: "ba_test_ok" } });
    const stays: { guest: Registered; booking: BookingBody }[] = [];
    for (let i = 0; i < 4; i++) stays.push(await paidStay(listing.id, `2031-12-${String(1 + i * 3).padStart(2, "0")}`));
    // The first two released; then, at once: a payout run, the third's release, a guest's refund, another run.
    await at("2031-12-05T16:00:00.000Z");
    await drainJobs(t);
    await at("2031-12-08T16:00:00.000Z");
    const [s3, s4] = [stays[2], stays[3]] as [(typeof stays)[0], (typeof stays)[0]];
    const [a, , , b] = await Promise.all([
      runPayouts(t.deps, { hostIds: [host.id] }),
      drainJobs(t),
      t.call("POST", api(`/bookings/${s4.booking.id}/cancel`), { token: s4.guest.accessToken }),
      runPayouts(t.deps, { hostIds: [host.id] }),
    ]);
    // The runs may make one payout each (the second once the first was paid, of what a release
    // added since), never two of the same money: never two in flight (the partial unique index),
    // and every one of them is of money held (the conservation below).
    const made = [...a, ...b];
    const amounts = await query<{ n: number }>(
      "select count(*)::int as n from payouts where host_id = $1 and status in ('pending', 'in_transit')",
      [host.id],
    );
    expect(amounts[0]?.n ?? 0).toBeLessThanOrEqual(1);
    await drainJobs(t);
    await runPayouts(t.deps, { hostIds: [host.id] });
    await drainJobs(t);
    const bal = (await balanceOf(host)) as Balance;
    expect(made.reduce((x, p) => x + p.amount, 0)).toBeLessThanOrEqual(bal.paidOut + bal.inTransit);
    const earned = stays.reduce((a, s) => a + s.booking.price.hostPayout, 0);
    const refundedToHost = s4.booking.price.hostPayout;
    expect(bal.paidOut + bal.available + bal.pending + bal.inTransit).toBe(earned - refundedToHost);
    expect(bal.paidOut).toBeLessThanOrEqual(earned - refundedToHost);
    expect(bal.available).toBeGreaterThanOrEqual(0);
    expect(s3.booking.price.hostPayout).toBeGreaterThan(0);
    await sumsAreZero();
    await at(NOW);
  }, 60_000);
});

describe("operators", () => {
  test("admins see every account, each currency summing to 0; anyone else 404", async () => {
    const res = await t.call<{ accounts: { account: string }[]; totals: { currency: string; sum: number }[] }>(
      "GET",
      api("/admin/ledger/balances"),
      { token: admin },
    );
    expect(res.status).toBe(200);
    expect(res.body.accounts.map((a) => a.account)).toContain("platform:clearing");
    for (const total of res.body.totals) expect(total.sum).toBe(0);
    const host = await registerHost(t.call);
    expect((await t.call("GET", api("/admin/ledger/balances"), { token: host.accessToken })).status).toBe(404);
  });

  test("GraphQL hostBalance and payouts: the same verbs", async () => {
    const { host, listing } = await newHost();
    const { booking } = await paidStay(listing.id, "2032-01-05");
    const q = await t.call<{
      data?: { hostBalance: { currency: string; pending: number }[]; payouts: { edges: unknown[] } };
    }>("POST", "/graphql", {
      token: host.accessToken,
      body: { query: "{ hostBalance { currency pending } payouts(first: 5) { edges { node { id } } } }" },
    });
    expect(q.body.data?.hostBalance).toEqual([{ currency: "EUR", pending: booking.price.hostPayout }]);
    expect(q.body.data?.payouts.edges).toEqual([]);
  });

  test("balances and payouts are hosts' only (403 to a guest)", async () => {
    const guest = await registerUser(t.call);
    for (const [method, path] of [
      ["GET", "/hosts/me/balance"],
      ["GET", "/hosts/me/ledger"],
      ["GET", "/hosts/me/payouts"],
    ] as const)
      expect((await t.call(method, api(path), { token: guest.accessToken })).status).toBe(403);
    const bad = await t.call("PUT", api("/hosts/me/payout-method"), {
      token: (await registerHost(t.call)).accessToken,
      body: { token: "4111111111111111" },
    });
    expect(bad.status).toBe(422);
  });

  test("ledger check is clean after all of it, and finds what is planted", async () => {
    await drainJobs(t);
    expect(await checkLedger(t.deps.db, t.deps.payments)).toEqual([]);
    // A refund the payments tables know nothing of.
    const [capture] = await query<{ payment_id: string }>(
      "select payment_id from ledger_transactions where kind = 'capture' limit 1",
    );
    await t.deps.db.transaction((tx) =>
      post(tx, t.deps.clock, {
        sourceKey: `test:planted:${crypto.randomUUID()}`,
        kind: "refund",
        currency: "EUR",
        paymentId: capture?.payment_id ?? null,
        lines: [
          { account: "platform:clearing", amount: 10 },
          { account: "platform:fees", amount: -10 },
        ],
      }),
    );
    const found = await checkLedger(t.deps.db, t.deps.payments);
    expect(found.map((f) => f.kind).sort()).toEqual(["clearing_differs", "refunds_differ"]);
    await t.deps.db.execute(sql`select 1`);
  });
});
