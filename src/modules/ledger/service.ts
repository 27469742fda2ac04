// The host's view of their money (balances, entries, payouts, the payout method) and the admins'
// view of every account. Balances are sums of the ledger's entries; nothing else holds them.
import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { newestFirst } from "../../db/newest-first";
import { ledgerEntries, ledgerTransactions, payoutMethods, payouts } from "../../db/schema";
import type { Deps } from "../../dependencies";
import { forbidden, notFound } from "../../http/errors";
import { decodeCursor, encodeCursor } from "../../http/pagination";
import { isUuid } from "../../lib/ids";
import { requireAdmin } from "../admin/service";
import type { Actor } from "../auth/actor";
import type { BalanceDtoValue, LedgerEntryDtoValue, PayoutDtoValue } from "./schemas";

type PayoutRow = typeof payouts.$inferSelect;

const requireHost = (actor: Actor) => {
  if (!actor.roles.includes("host"))
    throw forbidden("Only hosts have balances and payouts; become one with POST /users/me/host");
};

/** A token shown as its kind and last 4 characters only. */
export const maskToken = (token: string) => `ba_…${token.slice(-4)}`;

export async function setPayoutMethod(
  { actor, token }: { actor: Actor; token: string },
  deps: Deps,
): Promise<{ token: string; updatedAt: string }> {
  requireHost(actor);
  const now = deps.clock.now();
  await deps.db
    .insert(payoutMethods)
    .values({ hostId: actor.id, token, updatedAt: now })
    .onConflictDoUpdate({ target: payoutMethods.hostId, set: { token, updatedAt: now } });
  return { token: maskToken(token), updatedAt: now.toISOString() };
}

/** A host's balances per currency: every bucket of theirs, what was paid out, what they owe back. */
export async function hostBalances(db: Db, hostId: string): Promise<BalanceDtoValue[]> {
  const [sums, paid] = await Promise.all([
    db
      .select({
        currency: ledgerEntries.currency,
        account: ledgerEntries.account,
        n: sql<number>`sum(${ledgerEntries.amount})::float8`,
      })
      .from(ledgerEntries)
      .where(eq(ledgerEntries.hostId, hostId))
      .groupBy(ledgerEntries.currency, ledgerEntries.account),
    db
      .select({ currency: payouts.currency, n: sql<number>`sum(${payouts.amount})::float8` })
      .from(payouts)
      .where(and(eq(payouts.hostId, hostId), eq(payouts.status, "paid")))
      .groupBy(payouts.currency),
  ]);
  const by = new Map<string, BalanceDtoValue>();
  const of = (currency: string) => {
    let b = by.get(currency);
    if (!b) {
      b = { currency, pending: 0, available: 0, inTransit: 0, paidOut: 0, clawback: 0 };
      by.set(currency, b);
    }
    return b;
  };
  for (const s of sums) {
    const b = of(s.currency);
    const bucket = s.account.slice(s.account.lastIndexOf(":") + 1);
    if (bucket === "pending") b.pending = s.n;
    else if (bucket === "available") b.available = s.n;
    else if (bucket === "payout_in_transit") b.inTransit = s.n;
  }
  for (const p of paid) of(p.currency).paidOut = p.n;
  for (const b of by.values()) b.clawback = Math.max(0, -b.available);
  return [...by.values()].sort((a, b) => a.currency.localeCompare(b.currency));
}

export async function myBalances({ actor }: { actor: Actor }, deps: Deps): Promise<{ balances: BalanceDtoValue[] }> {
  requireHost(actor);
  return { balances: await hostBalances(deps.db, actor.id) };
}

/** The host's entries, newest first (by id: the order they were written in). */
export async function myLedger(
  { actor, limit, cursor }: { actor: Actor; limit: number; cursor?: string },
  deps: Deps,
): Promise<{ data: LedgerEntryDtoValue[]; nextCursor: string | null }> {
  requireHost(actor);
  const before = cursor
    ? Number(decodeCursor(cursor, (p) => p.length === 1 && typeof p[0] === "string" && /^\d{1,18}$/.test(p[0]))[0])
    : undefined;
  const rows = await deps.db
    .select({
      id: ledgerEntries.id,
      transactionId: ledgerEntries.transactionId,
      account: ledgerEntries.account,
      amount: ledgerEntries.amount,
      currency: ledgerEntries.currency,
      kind: ledgerTransactions.kind,
      bookingId: ledgerTransactions.bookingId,
      payoutId: ledgerTransactions.payoutId,
      createdAt: ledgerEntries.createdAt,
    })
    .from(ledgerEntries)
    .innerJoin(ledgerTransactions, eq(ledgerTransactions.id, ledgerEntries.transactionId))
    .where(and(eq(ledgerEntries.hostId, actor.id), before !== undefined ? lt(ledgerEntries.id, before) : undefined))
    .orderBy(desc(ledgerEntries.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: page.map((r) => ({
      id: String(r.id),
      transactionId: r.transactionId,
      account: r.account,
      amount: r.amount,
      currency: r.currency,
      kind: r.kind as LedgerEntryDtoValue["kind"],
      ...(r.bookingId ? { bookingId: r.bookingId } : {}),
      ...(r.payoutId ? { payoutId: r.payoutId } : {}),
      createdAt: r.createdAt.toISOString(),
    })),
    nextCursor: rows.length > limit && last ? encodeCursor([String(last.id)]) : null,
  };
}

export const toPayoutDto = (p: PayoutRow): PayoutDtoValue => ({
  id: p.id,
  hostId: p.hostId,
  amount: p.amount,
  currency: p.currency,
  status: p.status as PayoutDtoValue["status"],
  ...(p.failureCode ? { failureCode: p.failureCode } : {}),
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
});

export async function myPayouts(
  { actor, limit, cursor }: { actor: Actor; limit: number; cursor?: string },
  deps: Deps,
): Promise<{ data: PayoutDtoValue[]; nextCursor: string | null }> {
  requireHost(actor);
  const keyset = newestFirst(payouts, limit, cursor);
  const rows = await deps.db
    .select()
    .from(payouts)
    .where(and(eq(payouts.hostId, actor.id), keyset.after))
    .orderBy(...keyset.orderBy)
    .limit(limit + 1);
  const page = keyset.page(rows);
  return { data: page.rows.map(toPayoutDto), nextCursor: page.nextCursor };
}

/** A payout as its host sees it; anyone else gets the 404 of an id that does not exist. */
export async function getPayout({ actor, id }: { actor: Actor; id: string }, deps: Deps): Promise<PayoutDtoValue> {
  if (!isUuid(id)) throw notFound("Payout");
  const [p] = await deps.db.select().from(payouts).where(eq(payouts.id, id));
  if (!p || p.hostId !== actor.id) throw notFound("Payout");
  return toPayoutDto(p);
}

/** Every account's balance per currency, and each currency's sum (zero, or the ledger is broken). */
export async function ledgerBalances({ actor }: { actor: Actor }, deps: Deps) {
  requireAdmin(actor);
  const accounts = await deps.db
    .select({
      account: ledgerEntries.account,
      currency: ledgerEntries.currency,
      balance: sql<number>`sum(${ledgerEntries.amount})::float8`,
    })
    .from(ledgerEntries)
    .groupBy(ledgerEntries.account, ledgerEntries.currency)
    .orderBy(ledgerEntries.currency, ledgerEntries.account);
  const totals = new Map<string, number>();
  for (const a of accounts) totals.set(a.currency, (totals.get(a.currency) ?? 0) + a.balance);
  return { accounts, totals: [...totals].map(([currency, sum]) => ({ currency, sum })) };
}

/** Payouts by id (for the jobs and the CLI). */
export async function payoutsById(db: Db, ids: string[]): Promise<PayoutRow[]> {
  return ids.length ? db.select().from(payouts).where(inArray(payouts.id, ids)) : [];
}
