// The ledger's invariants under random histories (fast-check): bookings paid, cancelled by guest
// or host at random times (refunds per policy, before or after the money left), time passing
// (releases), payout runs to methods that pay, fail or stay in transit, and the provider's
// webhooks settling those. After every step: each currency sums to zero; no host bucket but
// available is ever negative, and available only by a flagged clawback; what a host was paid,
// is being paid and holds is exactly what they earned less what was refunded; `ledger check` clean.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { checkLedger } from "../../src/modules/ledger/check";
import { runPayouts } from "../../src/modules/ledger/payouts";
import { signWebhook } from "../../src/modules/payments/provider";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { type BookingBody, book, drainDue, drainJobs, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";

const SECRET = "whsec_test_ledger_properties";
const START = Date.parse("2031-03-01T09:00:00.000Z");
const HOUR = 3_600_000;

let t: TestApp;
let now = START;
const hosts: { host: Registered; listings: string[] }[] = [];
const stays: { guest: Registered; hostIndex: number; booking: BookingBody }[] = [];

beforeAll(async () => {
  t = await startTestApp({ PAYMENT_WEBHOOK_SECRET: SECRET, PAYMENT_PROVIDER_LATENCY_MS: "0", JOB_BACKOFF_MS: "1" });
  await setClock(t.call, new Date(now).toISOString());
  for (const policy of ["flexible", "strict"] as const) {
    const host = await registerHost(t.call);
    const listings = [];
    for (const cleaningFee of [0, 2_500])
      listings.push(
        (await createListing(t.call, host, { pricePerNight: 9_999, cleaningFee, cancellationPolicy: policy })).id,
      );
    hosts.push({ host, listings });
  }
}, 60_000);
afterAll(async () => {
  await t?.call("DELETE", "/api/v1/_test/clock");
  await t?.close();
});

const api = (path: string) => `/api/v1${path}`;
const query = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  t.deps.database.raw.query(text, params) as Promise<T[]>;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

type Op =
  | { kind: "book"; host: number; listing: number; inDays: number; nights: number }
  | { kind: "cancel"; pick: number; byHost: boolean }
  | { kind: "wait"; hours: number }
  | { kind: "payout"; host: number; token: "ba_test_ok" | "ba_test_fail" | "ba_test_pending" }
  | { kind: "settle"; paid: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("book" as const),
    host: fc.nat(1),
    listing: fc.nat(1),
    inDays: fc.integer({ min: 1, max: 20 }),
    nights: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat(1000), byHost: fc.boolean() }),
  fc.record({ kind: fc.constant("wait" as const), hours: fc.integer({ min: 1, max: 96 }) }),
  fc.record({
    kind: fc.constant("payout" as const),
    host: fc.nat(1),
    token: fc.constantFrom("ba_test_ok" as const, "ba_test_fail" as const, "ba_test_pending" as const),
  }),
  fc.record({ kind: fc.constant("settle" as const), paid: fc.boolean() }),
);

async function apply(o: Op): Promise<void> {
  if (o.kind === "book") {
    const h = hosts[o.host] as (typeof hosts)[number];
    const guest = await registerUser(t.call);
    const checkIn = day(now + o.inDays * 24 * HOUR);
    const checkOut = day(now + (o.inDays + o.nights) * 24 * HOUR);
    const made = await book(t.call, guest, { propertyId: h.listings[o.listing], checkIn, checkOut });
    if (made.status !== 201) return; // taken: an answer like any other
    await t.call("POST", api(`/bookings/${made.body.id}/payments`), {
      token: guest.accessToken,
      body: { paymentMethod: "pm_card_visa" },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    stays.push({ guest, hostIndex: o.host, booking: made.body });
  } else if (o.kind === "cancel") {
    if (stays.length === 0) return;
    const s = stays[o.pick % stays.length] as (typeof stays)[number];
    const who = o.byHost ? (hosts[s.hostIndex] as (typeof hosts)[number]).host : s.guest;
    await t.call("POST", api(`/bookings/${s.booking.id}/cancel`), { token: who.accessToken });
  } else if (o.kind === "wait") {
    now += o.hours * HOUR;
    await setClock(t.call, new Date(now).toISOString());
    await drainDue(t);
  } else if (o.kind === "payout") {
    const h = hosts[o.host] as (typeof hosts)[number];
    await t.call("PUT", api("/hosts/me/payout-method"), { token: h.host.accessToken, body: { token: o.token } });
    await runPayouts(t.deps, { hostIds: [h.host.id] });
  } else {
    // The provider settles a payout it had in transit, and tells us by its signed webhook.
    const [p] = await query<{ id: string }>("select id from payouts where status = 'in_transit' limit 1");
    if (!p) return;
    const body = JSON.stringify({
      id: `evt_${crypto.randomUUID()}`,
      type: o.paid ? "payout.paid" : "payout.failed",
      created: Math.floor(Date.now() / 1000),
      data: { payoutId: p.id, ...(o.paid ? {} : { failureCode: "account_closed" }) },
    });
    await t.call("POST", api("/webhooks/payments"), {
      rawBody: body,
      headers: {
        "content-type": "application/json",
        "payment-signature": signWebhook(SECRET, body, Math.floor(Date.now() / 1000)),
      },
    });
  }
  await drainJobs(t);
}

async function invariants(): Promise<void> {
  for (const r of await query<{ currency: string; sum: number }>(
    "select currency, sum(amount)::int as sum from ledger_entries group by currency",
  ))
    expect(r.sum).toBe(0);
  for (const { host } of hosts) {
    const [b] = await query<{
      pending: number;
      available: number;
      transit: number;
      earned: number;
      refunded: number;
      clawbacks: number;
    }>(
      `select
         coalesce(sum(e.amount) filter (where e.account like '%:pending'), 0)::int as pending,
         coalesce(sum(e.amount) filter (where e.account like '%:available'), 0)::int as available,
         coalesce(sum(e.amount) filter (where e.account like '%:payout_in_transit'), 0)::int as transit,
         coalesce(sum(e.amount) filter (where x.kind = 'capture'), 0)::int as earned,
         coalesce(-sum(e.amount) filter (where x.kind in ('refund', 'clawback')), 0)::int as refunded,
         count(*) filter (where x.kind = 'clawback')::int as clawbacks
       from ledger_entries e join ledger_transactions x on x.id = e.transaction_id where e.host_id = $1`,
      [host.id],
    );
    const [paid] = await query<{ n: number }>(
      "select coalesce(sum(amount), 0)::int as n from payouts where host_id = $1 and status = 'paid'",
      [host.id],
    );
    if (!b) continue;
    expect(b.pending).toBeGreaterThanOrEqual(0);
    expect(b.transit).toBeGreaterThanOrEqual(0);
    if (b.available < 0) expect(b.clawbacks).toBeGreaterThan(0);
    // Conservation: paid out + in transit + held = earned − refunded, to the minor unit.
    expect((paid?.n ?? 0) + b.transit + b.pending + b.available).toBe(b.earned - b.refunded);
  }
  expect(await checkLedger(t.deps.db, t.deps.payments)).toEqual([]);
}

test("every invariant holds after every step of random histories", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 12 }), async (ops) => {
      for (const o of ops) {
        await apply(o);
        await invariants();
      }
    }),
    { numRuns: 25 },
  );
  // The histories did reach each kind of posting.
  const kinds = await query<{ kind: string }>("select distinct kind from ledger_transactions order by kind");
  expect(kinds.map((k) => k.kind)).toEqual(expect.arrayContaining(["capture", "refund", "release", "payout"]));
}, 240_000);
