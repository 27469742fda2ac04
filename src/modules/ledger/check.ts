// `stayhub ledger check`: every transaction balanced; every capture, refund and payout of the
// payments and payouts tables in the ledger exactly once (and nothing in it that they do not
// have); the clearing account against the provider's own books. One record per problem.
import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { rowsOf } from "../../db/rows";
import type { PaymentProvider } from "../payments/provider";

export interface LedgerProblem {
  kind:
    | "unbalanced_transaction"
    | "capture_missing"
    | "capture_unexpected"
    | "refunds_differ"
    | "payout_missing"
    | "payout_outcome_missing"
    | "clearing_differs";
  [detail: string]: unknown;
}

async function rows<T>(db: Db, query: ReturnType<typeof sql>): Promise<T[]> {
  return rowsOf<T>(await db.execute(query));
}

export async function checkLedger(db: Db, provider: PaymentProvider): Promise<LedgerProblem[]> {
  const problems: LedgerProblem[] = [];
  // The ledger's start: payments made before its first transaction (a database that had payments
  // before the ledger existed) are not in it, and are not looked for.
  const [epoch] = await rows<{ at: string | null }>(
    db,
    sql`select min(created_at)::text as at from ledger_transactions`,
  );
  const since = epoch?.at ?? "infinity";
  for (const r of await rows<{ transactionId: string; currency: string; sum: number }>(
    db,
    sql`select transaction_id as "transactionId", currency, sum(amount)::float8 as sum from ledger_entries
      group by transaction_id, currency having sum(amount) <> 0`,
  ))
    problems.push({ kind: "unbalanced_transaction", ...r });
  // Captures: one per payment that took money, none for one that did not.
  for (const r of await rows<{ paymentId: string; status: string }>(
    db,
    sql`select p.id as "paymentId", p.status from payments p
      where p.status in ('succeeded', 'partially_refunded', 'refunded') and p.created_at >= ${since}::timestamptz
        and not exists (select 1 from ledger_transactions t where t.source_key = 'capture:' || p.id)`,
  ))
    problems.push({ kind: "capture_missing", ...r });
  for (const r of await rows<{ paymentId: string; status: string }>(
    db,
    sql`select p.id as "paymentId", p.status from ledger_transactions t join payments p on p.id = t.payment_id
      where t.kind = 'capture' and p.status not in ('succeeded', 'partially_refunded', 'refunded')`,
  ))
    problems.push({ kind: "capture_unexpected", ...r });
  // Refunds: what the ledger gave back of each captured payment is its refundedAmount.
  for (const r of await rows<{ paymentId: string; refundedAmount: number; ledger: number }>(
    db,
    sql`select p.id as "paymentId", p.refunded_amount as "refundedAmount", coalesce(r.back, 0)::float8 as ledger
      from payments p
      join ledger_transactions c on c.source_key = 'capture:' || p.id
      left join (
        select t.payment_id, sum(e.amount) as back from ledger_transactions t
        join ledger_entries e on e.transaction_id = t.id and e.account = 'platform:clearing'
        where t.kind in ('refund', 'clawback') group by t.payment_id
      ) r on r.payment_id = p.id
      where coalesce(r.back, 0) <> p.refunded_amount`,
  ))
    problems.push({ kind: "refunds_differ", ...r });
  // Payouts: each one made is in the ledger, and so is its outcome.
  for (const r of await rows<{ payoutId: string; status: string; missing: string }>(
    db,
    sql`select p.id as "payoutId", p.status, k.key as missing from payouts p
      cross join lateral (values ('payout:' || p.id),
        (case p.status when 'paid' then 'payout_paid:' || p.id when 'failed' then 'payout_failed:' || p.id end)) k(key)
      where k.key is not null and not exists (select 1 from ledger_transactions t where t.source_key = k.key)`,
  ))
    problems.push({ kind: r.missing.startsWith("payout:") ? "payout_missing" : "payout_outcome_missing", ...r });
  // Clearing: what the provider holds for us by its books (charges less refunds, less paid
  // payouts), against the clearing account (negative by that much), per currency. Charges of
  // payments the ledger never captured (failed or voided ones the provider took anyway) are
  // compared by their net: given back in full, they hold nothing.
  const captured = new Set(
    (await rows<{ id: string }>(db, sql`select payment_id as id from ledger_transactions where kind = 'capture'`)).map(
      (r) => r.id,
    ),
  );
  const ours = new Set(
    (await rows<{ id: string }>(db, sql`select id from payments where created_at >= ${since}::timestamptz`)).map(
      (r) => r.id,
    ),
  );
  const held = new Map<string, number>();
  const add = (currency: string, n: number) => held.set(currency, (held.get(currency) ?? 0) + n);
  for await (const page of provider.ledger())
    for (const c of page)
      if (c.status === "succeeded" && (captured.has(c.reference) || (ours.has(c.reference) && c.amount !== c.refunded)))
        add(c.currency, c.amount - c.refunded);
  for await (const page of provider.payoutLedger())
    for (const p of page) if (p.status === "paid") add(p.currency, -p.amount);
  const clearing = await rows<{ currency: string; balance: number }>(
    db,
    sql`select currency, sum(amount)::float8 as balance from ledger_entries where account = 'platform:clearing' group by currency`,
  );
  const booked = new Map(clearing.map((c) => [c.currency, -c.balance]));
  for (const currency of new Set([...held.keys(), ...booked.keys()])) {
    const theirs = held.get(currency) ?? 0;
    const mine = booked.get(currency) ?? 0;
    if (theirs !== mine) problems.push({ kind: "clearing_differs", currency, ledger: mine, provider: theirs });
  }
  return problems;
}
