// Payouts: the run (daily, or `stayhub payouts run`) pays each host's available balance per
// currency, at or above PAYOUT_MINIMUM, to their payout method. Each payout is made in one
// transaction under the host's ledger turn (the payout row, available → in transit, its
// payout.send job, the host's notice); the provider is asked outside any transaction under the
// payout's own key, so a job redelivered after a crash gets the provider's first answer, never a
// second payout; its outcome (paid: in transit → clearing; failed: back to available) is settled
// once, from the state it expects, whether the answer or a payout.* webhook brings it.
import { and, eq, lte, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { rowsOf } from "../../db/rows";
import { payoutMethods, payouts } from "../../db/schema";
import { together } from "../../db/together";
import { enqueueMany } from "../../jobs/outbox";
import type { JobDeps } from "../../jobs/types";
import type { Clock } from "../../lib/clock";
import { notifyWithin } from "../notifications/within";
import type { PayoutResult } from "../payments/provider";
import { hostBalance, hostTurn, post } from "./postings";

type PayoutRow = typeof payouts.$inferSelect;

/** Payouts the run makes at once (each its own short transaction on the pool). */
const RUN_CONCURRENCY = 4;

/** Host and currency pairs whose available balance reaches the minimum, with a payout method, none in flight. */
async function candidates(db: Db, minimum: number, hostIds?: string[]) {
  const rows = await db.execute(sql`
    select e.host_id as "hostId", e.currency, sum(e.amount)::float8 as available
    from ledger_entries e
    join payout_methods m on m.host_id = e.host_id
    where e.account = 'host:' || e.host_id || ':available'
      ${hostIds ? sql`and e.host_id = any(${`{${hostIds.join(",")}}`}::uuid[])` : sql``}
      and not exists (select 1 from payouts p where p.host_id = e.host_id and p.currency = e.currency
        and p.status in ('pending', 'in_transit'))
    group by e.host_id, e.currency
    having sum(e.amount) >= ${minimum}
    order by e.host_id, e.currency`);
  return rowsOf<{ hostId: string; currency: string; available: number }>(rows);
}

/**
 * One payout of a host's available balance in one currency, or null when there is none to make
 * now (judged again under the host's turn: another run, a refund or a release got there first).
 */
async function makePayout(
  deps: Pick<JobDeps, "db" | "clock" | "config">,
  hostId: string,
  currency: string,
): Promise<PayoutRow | null> {
  return deps.db.transaction(async (tx) => {
    await hostTurn(tx, hostId);
    const [available, [method], [inFlight]] = await together(
      hostBalance(tx, hostId, currency, "available"),
      tx.select().from(payoutMethods).where(eq(payoutMethods.hostId, hostId)),
      tx
        .select({ id: payouts.id })
        .from(payouts)
        .where(
          and(
            eq(payouts.hostId, hostId),
            eq(payouts.currency, currency),
            sql`${payouts.status} in ('pending', 'in_transit')`,
          ),
        ),
    );
    if (!method || inFlight || available < deps.config.payoutMinimum) return null;
    const now = deps.clock.now();
    const row: PayoutRow = {
      id: Bun.randomUUIDv7(),
      hostId,
      amount: available,
      currency,
      status: "pending",
      token: method.token,
      failureCode: null,
      providerRef: null,
      createdAt: now,
      updatedAt: now,
    };
    await tx.insert(payouts).values(row);
    await together(
      post(tx, deps.clock, {
        sourceKey: `payout:${row.id}`,
        kind: "payout",
        currency,
        payoutId: row.id,
        lines: [
          { hostId, bucket: "available", amount: -available },
          { hostId, bucket: "payout_in_transit", amount: available },
        ],
      }),
      enqueueMany(tx, deps.clock, [
        { type: "payout.send", payload: { payoutId: row.id }, dedupeKey: `payout:${row.id}:send` },
      ]),
      notifyWithin(tx, deps.clock, [
        {
          dedupeKey: `payout:${row.id}:sent`,
          p: {
            userId: hostId,
            type: "payout_sent",
            title: "Payout on its way",
            body: `We are paying out ${available} (minor units, ${currency}) to your payout method.`,
            data: { payoutId: row.id },
            email: true,
          },
        },
      ]),
    );
    return row;
  });
}

/** The payout run: a payout for every host and currency due one. Answers the payouts made. */
export async function runPayouts(
  deps: Pick<JobDeps, "db" | "clock" | "config" | "log">,
  options: { hostIds?: string[] } = {},
): Promise<PayoutRow[]> {
  const made: PayoutRow[] = [];
  const due = await candidates(deps.db, deps.config.payoutMinimum, options.hostIds);
  // Hosts are independent (each payout under its own host's turn): a few at a time.
  let next = 0;
  const worker = async () => {
    while (next < due.length) {
      const c = due[next++] as (typeof due)[number];
      const p = await makePayout(deps, c.hostId, c.currency);
      if (p) made.push(p);
    }
  };
  await Promise.all(Array.from({ length: RUN_CONCURRENCY }, worker));
  if (made.length) deps.log.info("payouts made", { count: made.length });
  return made;
}

/** Asks the provider to pay a pending payout (its key: the payout's id) and settles the answer. */
export async function sendPayout(deps: JobDeps, payoutId: string): Promise<void> {
  const [p] = await deps.db.select().from(payouts).where(eq(payouts.id, payoutId));
  if (p?.status !== "pending") return;
  const result = await deps.payments.payout({
    key: `payout:${p.id}`,
    reference: p.id,
    amount: p.amount,
    currency: p.currency,
    token: p.token,
  });
  await deps.db.transaction((tx) => settlePayout(tx, deps.clock, p.id, result));
}

export type PayoutOutcome =
  | { status: "paid" | "in_transit"; payoutRef?: string }
  | { status: "failed"; failureCode: string; payoutRef?: string };

/**
 * A payout's outcome applied once: null for no such payout, false when nothing was left to
 * change. Paid: in transit → clearing (the money left the provider). Failed: back to available.
 * In transit: sent, the outcome to come. The host is told of each by notice and e-mail.
 */
export async function settlePayout(
  tx: Db,
  clock: Clock,
  payoutId: string,
  outcome: PayoutOutcome | PayoutResult,
): Promise<boolean | null> {
  const [p] = await tx.select().from(payouts).where(eq(payouts.id, payoutId)).for("update");
  if (!p) return null;
  const open = p.status === "pending" || p.status === "in_transit";
  if (!open || (outcome.status === "in_transit" && p.status === "in_transit")) return false;
  const now = clock.now();
  const providerRef = outcome.payoutRef ?? p.providerRef;
  if (outcome.status === "in_transit") {
    await tx.update(payouts).set({ status: "in_transit", providerRef, updatedAt: now }).where(eq(payouts.id, p.id));
    return true;
  }
  const paid = outcome.status === "paid";
  await together(
    tx
      .update(payouts)
      .set({
        status: outcome.status,
        failureCode: outcome.status === "failed" ? outcome.failureCode : null,
        providerRef,
        updatedAt: now,
      })
      .where(eq(payouts.id, p.id)),
    post(tx, clock, {
      sourceKey: `${paid ? "payout_paid" : "payout_failed"}:${p.id}`,
      kind: paid ? "payout" : "payout_failed",
      currency: p.currency,
      payoutId: p.id,
      lines: [
        { hostId: p.hostId, bucket: "payout_in_transit", amount: -p.amount },
        paid
          ? { account: "platform:clearing", amount: p.amount }
          : { hostId: p.hostId, bucket: "available", amount: p.amount },
      ],
    }),
    notifyWithin(tx, clock, [
      {
        dedupeKey: `payout:${p.id}:${outcome.status}`,
        p: {
          userId: p.hostId,
          type: paid ? "payout_paid" : "payout_failed",
          title: paid ? "Payout paid" : "Payout failed",
          body: paid
            ? `${p.amount} (minor units, ${p.currency}) reached your payout method.`
            : `The payout of ${p.amount} (minor units, ${p.currency}) failed (${outcome.status === "failed" ? outcome.failureCode : ""}); the money is back in your available balance. Check your payout method.`,
          data: { payoutId: p.id },
          email: true,
        },
      },
    ]),
  );
  return true;
}

/** Pending payouts older than `olderThan` (their send job lost): sent again, by key. */
export async function stalePayouts(db: Db, olderThan: Date): Promise<string[]> {
  const rows = await db
    .select({ id: payouts.id })
    .from(payouts)
    .where(and(eq(payouts.status, "pending"), lte(payouts.createdAt, olderThan)))
    .limit(500);
  return rows.map((r) => r.id);
}
