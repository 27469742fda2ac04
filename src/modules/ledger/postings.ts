// The ledger's postings: each source event (a capture, a refund, a release, a payout and its
// outcome) as one balanced transaction of entries, written once (its `source_key`) in the caller's
// database transaction — the one that makes the state change it records. Amounts are integer minor
// units; an entry's sign says which way the money moved: platform:clearing goes negative by what
// the provider holds for us, and a host's accounts are positive by what we owe them.
//
// Whatever moves a host's balances between their accounts (a refund, a release, a payout) takes
// the host's ledger turn first (an advisory lock per host, held to the commit), so two of them
// never judge the same balance at once: no double spend, whichever runs.
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { rowsOf } from "../../db/rows";
import { bookings, ledgerEntries, ledgerTransactions, properties } from "../../db/schema";
import { together } from "../../db/together";
import { enqueueMany } from "../../jobs/outbox";
import type { Clock } from "../../lib/clock";
import { checkInInstant } from "../bookings/refunds";

export type LedgerKind = "capture" | "refund" | "clawback" | "release" | "payout" | "payout_failed";
export type HostBucket = "pending" | "available" | "payout_in_transit";
export type PlatformAccount = "platform:clearing" | "platform:fees" | "platform:taxes_payable";

export const hostAccount = (hostId: string, bucket: HostBucket) => `host:${hostId}:${bucket}`;

/** One line of a posting: a platform account, or one of a host's. */
export type Line =
  | { account: PlatformAccount; amount: number }
  | { hostId: string; bucket: HostBucket; amount: number };

export interface Posting {
  sourceKey: string;
  kind: LedgerKind;
  currency: string;
  bookingId?: string | null;
  paymentId?: string | null;
  payoutId?: string | null;
  lines: Line[];
}

/** The advisory-lock space of the hosts' ledger turns. */
const LEDGER_LOCK_SPACE = 7_301;

/** Takes the host's ledger turn in `tx` (held until it ends). */
export function hostTurn(tx: Db, hostId: string) {
  return tx.execute(sql`select pg_advisory_xact_lock(${LEDGER_LOCK_SPACE}::int4, hashtext(${hostId}::text))`);
}

/**
 * Writes a posting in one statement: its transaction (once: a second posting of the same source
 * key writes nothing and answers false) and its entries. Zero lines are left out; the database
 * checks, at the end of the statement, that they sum to zero.
 */
export async function post(tx: Db, clock: Clock, p: Posting): Promise<boolean> {
  const lines = p.lines.filter((l) => l.amount !== 0);
  const now = clock.now().toISOString();
  const rows = lines.map((l) =>
    "account" in l
      ? { account: l.account, host_id: null, amount: l.amount }
      : { account: hostAccount(l.hostId, l.bucket), host_id: l.hostId, amount: l.amount },
  );
  const result = await tx.execute(sql`
    with t as (
      insert into ${ledgerTransactions} (source_key, kind, booking_id, payment_id, payout_id, created_at)
      values (${p.sourceKey}, ${p.kind}, ${p.bookingId ?? null}::uuid, ${p.paymentId ?? null}::uuid,
        ${p.payoutId ?? null}::uuid, ${now}::timestamptz)
      on conflict (source_key) do nothing
      returning id
    ), e as (
      insert into ${ledgerEntries} (transaction_id, account, host_id, amount, currency, created_at)
      select t.id, l.account, l.host_id, l.amount, ${p.currency}, ${now}::timestamptz
      from t cross join jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb)
        as l(account text, host_id uuid, amount int)
      returning 1
    )
    select (select count(*) from t)::int as made`);
  return (rowsOf<{ made: number }>(result)[0]?.made ?? 0) > 0;
}

/** What a booking's money is made of, as the ledger splits it. */
export interface BookingMoney {
  id: string;
  hostId: string;
  total: number;
  hostPayout: number;
  taxTotal: number;
  currency: string;
  /** For a release: a cancelled booking keeps only what is not refunded. */
  status?: string;
  refundAmount?: number | null;
}

/** A booking row's money, with its property's host. */
export const moneyOf = (
  b: { id: string; total: number; hostPayout: number; taxTotal: number; currency: string },
  hostId: string,
): BookingMoney => ({
  id: b.id,
  hostId,
  total: b.total,
  hostPayout: b.hostPayout,
  taxTotal: b.taxTotal,
  currency: b.currency,
});

/** A booking's money as the database has it (its row and its property's host), for a refund's reversal. */
export async function bookingMoney(tx: Db, bookingId: string): Promise<BookingMoney | null> {
  const [row] = await tx
    .select({
      id: bookings.id,
      hostId: properties.hostId,
      total: bookings.total,
      hostPayout: bookings.hostPayout,
      taxTotal: bookings.taxTotal,
      currency: bookings.currency,
      status: bookings.status,
      refundAmount: bookings.refundAmount,
    })
    .from(bookings)
    .innerJoin(properties, eq(properties.id, bookings.propertyId))
    .where(eq(bookings.id, bookingId));
  return row ?? null;
}

/**
 * A payment's refunded total moved from `before` to `after`: that much of its capture reversed,
 * once per step (its key names the new total, which only grows), so the ledger's refunds of a
 * payment always sum to its refundedAmount.
 */
export async function postRefundedTotal(
  tx: Db,
  clock: Clock,
  p: { id: string; bookingId: string },
  before: number,
  after: number,
): Promise<boolean> {
  if (after <= before) return false;
  const money = await bookingMoney(tx, p.bookingId);
  if (!money) return false;
  return postRefund(tx, clock, money, {
    sourceKey: `refund:${p.id}:${after}`,
    paymentId: p.id,
    before,
    after,
  });
}

/** The platform's part of a booking: the guest's service fee and the host fee (the host's part less its payout). */
const feesOf = (b: BookingMoney) => b.total - b.hostPayout - b.taxTotal;
/** The capture's lines a refund reverses in proportion: the host's, the platform's, the taxes. */
const partsOf = (b: BookingMoney) => [b.hostPayout, feesOf(b), b.taxTotal];

/** When a booking's host part is released: `releaseMs` (PAYOUT_RELEASE_HOURS) after its check-in (15:00 UTC, as refunds count it). */
export const releaseAt = (checkIn: string, releaseMs: number) => new Date(checkInInstant(checkIn) + releaseMs);

/**
 * A captured payment of a booking: clearing ← total; host pending, fees and taxes payable → their
 * parts; and the booking's release job, due at `release`.
 */
export async function postCapture(
  tx: Db,
  clock: Clock,
  b: BookingMoney,
  paymentId: string,
  release: Date,
): Promise<boolean> {
  const [made] = await together(
    postCaptureEntries(tx, clock, b, paymentId),
    enqueueMany(tx, clock, [
      { type: "ledger.release", payload: { bookingId: b.id }, dedupeKey: `release:${b.id}`, runAt: release },
    ]),
  );
  return made;
}

function postCaptureEntries(tx: Db, clock: Clock, b: BookingMoney, paymentId: string): Promise<boolean> {
  return post(tx, clock, {
    sourceKey: `capture:${paymentId}`,
    kind: "capture",
    currency: b.currency,
    bookingId: b.id,
    paymentId,
    lines: [
      { account: "platform:clearing", amount: -b.total },
      { hostId: b.hostId, bucket: "pending", amount: b.hostPayout },
      { account: "platform:fees", amount: feesOf(b) },
      { account: "platform:taxes_payable", amount: b.taxTotal },
    ],
  });
}

/**
 * `amount` split over `parts` in proportion, rounded so the shares sum to `amount` exactly
 * (largest remainder: the floor of each share, then one unit more to the largest fractions,
 * ties to the earlier part).
 */
export function proportional(amount: number, parts: number[]): number[] {
  const whole = BigInt(parts.reduce((a, b) => a + b, 0));
  if (whole <= 0n) return parts.map(() => 0);
  // Integers throughout (amount × part can pass 2^53): each share's floor and its remainder.
  const exact = parts.map((p) => BigInt(amount) * BigInt(p));
  const shares = exact.map((x) => Number(x / whole));
  let left = amount - shares.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, i) => ({ i, rest: x % whole }))
    .sort((a, b) => (a.rest === b.rest ? a.i - b.i : a.rest > b.rest ? -1 : 1));
  for (const { i } of order) {
    if (left <= 0) break;
    shares[i] = (shares[i] as number) + 1;
    left--;
  }
  return shares;
}

/**
 * What a step of a refund from `before` to `after` (refunded totals) takes back of each part:
 * the split of the new total less the split of the old one, so the steps of any refund add up to
 * the split of its total, and a full refund nets every part to zero.
 */
export function refundStep(before: number, after: number, parts: number[]): number[] {
  const then = proportional(before, parts);
  return proportional(after, parts).map((x, i) => x - (then[i] as number));
}

/** A host's balance of one bucket for one booking (its captures, refunds and release). */
async function bookingBucket(tx: Db, b: BookingMoney, bucket: HostBucket): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`coalesce(sum(${ledgerEntries.amount}), 0)::float8` })
    .from(ledgerEntries)
    .innerJoin(ledgerTransactions, eq(ledgerTransactions.id, ledgerEntries.transactionId))
    .where(and(eq(ledgerTransactions.bookingId, b.id), eq(ledgerEntries.account, hostAccount(b.hostId, bucket))));
  return Number(row?.n ?? 0);
}

/**
 * A refund of `amount` of a captured payment, reversing its capture in proportion (host, fees,
 * taxes; the shares sum to the refund exactly). The host's share comes out of what the booking
 * still has pending, then out of available — below zero if need be: a clawback, recovered from
 * the host's next payouts. No capture on record: nothing to reverse (false).
 */
export async function postRefund(
  tx: Db,
  clock: Clock,
  b: BookingMoney,
  r: { sourceKey: string; paymentId: string; before: number; after: number },
): Promise<boolean> {
  const [captured] = await tx
    .select({ id: ledgerTransactions.id })
    .from(ledgerTransactions)
    .where(eq(ledgerTransactions.sourceKey, `capture:${r.paymentId}`));
  if (!captured) return false;
  await hostTurn(tx, b.hostId);
  const amount = r.after - r.before;
  const [host, fees, taxes] = refundStep(r.before, r.after, partsOf(b)) as [number, number, number];
  const pending = Math.max(0, await bookingBucket(tx, b, "pending"));
  const fromPending = Math.min(pending, host);
  const fromAvailable = host - fromPending;
  let clawback = false;
  if (fromAvailable > 0) {
    const available = await hostBalance(tx, b.hostId, b.currency, "available");
    clawback = available < fromAvailable;
  }
  return post(tx, clock, {
    sourceKey: r.sourceKey,
    kind: clawback ? "clawback" : "refund",
    currency: b.currency,
    bookingId: b.id,
    paymentId: r.paymentId,
    lines: [
      { account: "platform:clearing", amount },
      { hostId: b.hostId, bucket: "pending", amount: -fromPending },
      { hostId: b.hostId, bucket: "available", amount: -fromAvailable },
      { account: "platform:fees", amount: -fees },
      { account: "platform:taxes_payable", amount: -taxes },
    ],
  });
}

/** The release of a booking's host part still pending: pending → available (once per booking). */
export async function postRelease(tx: Db, clock: Clock, b: BookingMoney) {
  await hostTurn(tx, b.hostId);
  const held = await bookingBucket(tx, b, "pending");
  // A cancelled booking releases only the host's share of what the guest does not get back, even
  // while its refund is on its way (the rest stays pending for that refund to take).
  const kept =
    b.status === "cancelled" ? b.hostPayout - (refundStep(0, b.refundAmount ?? 0, partsOf(b))[0] ?? 0) : b.hostPayout;
  // (Nothing was released before: one release per booking. What the refunds took so far came out
  // of pending, so what is left to refund is what pending holds beyond `kept`.)
  const pending = Math.max(0, Math.min(held, kept));
  return post(tx, clock, {
    sourceKey: `release:${b.id}`,
    kind: "release",
    currency: b.currency,
    bookingId: b.id,
    lines:
      pending > 0
        ? [
            { hostId: b.hostId, bucket: "pending", amount: -pending },
            { hostId: b.hostId, bucket: "available", amount: pending },
          ]
        : [],
  });
}

/** A host's balance of one bucket in one currency. */
export async function hostBalance(tx: Db, hostId: string, currency: string, bucket: HostBucket): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`coalesce(sum(${ledgerEntries.amount}), 0)::float8` })
    .from(ledgerEntries)
    .where(
      and(
        eq(ledgerEntries.hostId, hostId),
        eq(ledgerEntries.currency, currency),
        eq(ledgerEntries.account, hostAccount(hostId, bucket)),
      ),
    );
  return Number(row?.n ?? 0);
}
