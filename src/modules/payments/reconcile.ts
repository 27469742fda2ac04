// Reconciliation: our payments against the provider's ledger. Every mismatch is one JSON-able
// record; none means every cent charged is a payment we recorded, and the other way round.
import { and, desc, eq, gte, inArray, isNull, lt, or } from "drizzle-orm";
import type { Db } from "../../db/client";
import { outbox, paymentReconciliations, payments, refunds } from "../../db/schema";
import { systemClock } from "../../lib/clock";
import type { LedgerCharge, PaymentProvider } from "./provider";

export type MismatchKind =
  | "charged_not_recorded"
  | "recorded_not_charged"
  | "amount_differs"
  | "refund_differs"
  | "authorization_differs";

export interface Mismatch {
  kind: MismatchKind;
  paymentId: string;
  ours?: { status: string; amount: number; currency: string; refundedAmount: number };
  provider?: { chargeId: string; status: string; amount: number; currency: string; refunded: number };
}

/**
 * Work still in flight is not a mismatch: a charge or refund the provider made in the last
 * `graceMs` (wall clock: the provider's books keep real time) whose job has not committed yet.
 */
export interface ReconcileOptions {
  since?: Date;
  graceMs?: number;
}

const SETTLED = new Set(["succeeded", "partially_refunded", "refunded"]);

export async function reconcile(
  db: Db,
  provider: PaymentProvider,
  options: ReconcileOptions = {},
): Promise<Mismatch[]> {
  const grace = options.graceMs ?? 60_000;
  const recent = new Date(systemClock.now().getTime() - grace);
  const mismatches: Mismatch[] = [];
  const ours = (p: typeof payments.$inferSelect) => ({
    status: p.status,
    amount: p.amount,
    currency: p.currency,
    refundedAmount: p.refundedAmount,
  });
  const theirs = (c: LedgerCharge) => ({
    chargeId: c.chargeId,
    status: c.status,
    amount: c.amount,
    currency: c.currency,
    refunded: c.refunded,
  });
  const charged = new Set<string>();
  const held = new Set<string>();
  for await (const page of provider.ledger(options.since)) {
    await compareAuthorizations(db, page, { held, recent, mismatches, ours, theirs });
    const succeeded = page.filter((c) => c.status === "succeeded");
    const ids = succeeded.map((c) => c.reference).filter((id) => /^[0-9a-f-]{36}$/i.test(id));
    const rows = ids.length ? await db.select().from(payments).where(inArray(payments.id, ids)) : [];
    const byId = new Map(rows.map((p) => [p.id, p]));
    // Refunds we reserved but whose answer is not committed yet are in flight too.
    const pending = ids.length
      ? new Set(
          (
            await db
              .select({ paymentId: refunds.paymentId })
              .from(refunds)
              .where(
                and(inArray(refunds.paymentId, ids), eq(refunds.status, "pending"), gte(refunds.createdAt, recent)),
              )
          ).map((r) => r.paymentId),
        )
      : new Set<string>();
    for (const c of succeeded) {
      charged.add(c.reference);
      const p = byId.get(c.reference);
      if (!p || !SETTLED.has(p.status)) {
        if (p?.status === "processing" && c.createdAt >= recent) continue;
        // A capture whose settlement has not committed yet (an accepted request) is in flight.
        if (p?.status === "authorized" && (await jobsInFlight(db, [p.id], recent)).has(p.id)) continue;
        // Voided by us and captured at the provider anyway: consistent once all of it went back.
        if (p?.status === "voided" && (c.refunded === c.amount || (await jobsInFlight(db, [p.id], recent)).has(p.id)))
          continue;
        // Recorded as failed while the provider charged (a charge.failed event contradicted by the
        // charge): consistent once all of it is given back, or while that refund is in flight.
        if (p?.status === "failed" && ((p.refundedAmount === c.amount && c.refunded === c.amount) || pending.has(p.id)))
          continue;
        mismatches.push({
          kind: "charged_not_recorded",
          paymentId: c.reference,
          ...(p ? { ours: ours(p) } : {}),
          provider: theirs(c),
        });
      } else if (p.amount !== c.amount || p.currency !== c.currency) {
        mismatches.push({ kind: "amount_differs", paymentId: p.id, ours: ours(p), provider: theirs(c) });
      } else if (p.refundedAmount !== c.refunded && !pending.has(p.id)) {
        mismatches.push({ kind: "refund_differs", paymentId: p.id, ours: ours(p), provider: theirs(c) });
      }
    }
  }
  // What we recorded as paid must be a succeeded charge of the provider's.
  const settled = await db
    .select()
    .from(payments)
    .where(
      and(inArray(payments.status, [...SETTLED]), options.since ? gte(payments.createdAt, options.since) : undefined),
    );
  for (const p of settled)
    if (!charged.has(p.id)) mismatches.push({ kind: "recorded_not_charged", paymentId: p.id, ours: ours(p) });
  // What we hold as an authorization must be one the provider holds (or one it captured just now).
  const authorized = await db
    .select()
    .from(payments)
    .where(and(eq(payments.status, "authorized"), options.since ? gte(payments.createdAt, options.since) : undefined));
  for (const p of authorized)
    if (!held.has(p.id) && !charged.has(p.id))
      mismatches.push({ kind: "authorization_differs", paymentId: p.id, ours: ours(p) });
  return mismatches;
}

type Row = typeof payments.$inferSelect;

/**
 * Payments whose capture or void job is still to run, or was handed on within the grace period
 * (`sent_at` is the database's wall clock, as the provider's books are): their work is in flight.
 */
async function jobsInFlight(db: Db, paymentIds: string[], recent: Date): Promise<Set<string>> {
  const keys = paymentIds.flatMap((id) => [`payment:${id}:capture`, `payment:${id}:void`]);
  const rows = await db
    .select({ key: outbox.dedupeKey })
    .from(outbox)
    .where(
      and(
        inArray(outbox.dedupeKey, keys),
        isNull(outbox.deadAt),
        or(isNull(outbox.sentAt), gte(outbox.sentAt, recent)),
      ),
    );
  return new Set(rows.map((r) => (r.key ?? "").split(":")[1] ?? ""));
}

/**
 * The provider's authorizations (held, or voided) against ours: an authorization it holds is one
 * we hold, or one we voided whose release is in flight; one it voided (or let lapse) is one we
 * voided, or one we marked failed. Anything else is an authorization_differs mismatch.
 */
async function compareAuthorizations(
  db: Db,
  page: LedgerCharge[],
  ctx: {
    /** Every payment the provider holds or held as an authorization (compared here). */
    held: Set<string>;
    recent: Date;
    mismatches: Mismatch[];
    ours: (p: Row) => Mismatch["ours"];
    theirs: (c: LedgerCharge) => Mismatch["provider"];
  },
): Promise<void> {
  const holds = page.filter((c) => c.status === "authorized" || c.status === "voided");
  const ids = holds.map((c) => c.reference).filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  if (ids.length === 0) return;
  const rows = await db.select().from(payments).where(inArray(payments.id, ids));
  const byId = new Map(rows.map((p) => [p.id, p]));
  const busy = await jobsInFlight(db, ids, ctx.recent);
  for (const c of holds) {
    const p = byId.get(c.reference);
    const inFlight = p !== undefined && busy.has(p.id);
    let consistent: boolean;
    ctx.held.add(c.reference);
    if (c.status === "authorized") {
      consistent =
        p?.status === "authorized" ||
        ((p?.status === "voided" || p?.status === "failed" || p?.status === "processing") && inFlight) ||
        (p?.status === "processing" && c.createdAt >= ctx.recent);
    } else consistent = p?.status === "voided" || p?.status === "failed" || (p?.status === "authorized" && inFlight);
    if (!consistent)
      ctx.mismatches.push({
        kind: "authorization_differs",
        paymentId: c.reference,
        ...(p ? { ours: ctx.ours(p) } : {}),
        provider: ctx.theirs(c),
      });
  }
}

/** Runs a reconciliation and keeps its result (what /metrics reports as stayhub_payment_mismatches). */
export async function reconcileAndRecord(
  db: Db,
  provider: PaymentProvider,
  options: ReconcileOptions = {},
): Promise<Mismatch[]> {
  const found = await reconcile(db, provider, options);
  await db
    .insert(paymentReconciliations)
    .values({ mismatches: found.length, report: found.slice(0, 1000), ranAt: systemClock.now() });
  // Only the recent history is worth keeping.
  await db
    .delete(paymentReconciliations)
    .where(lt(paymentReconciliations.ranAt, new Date(systemClock.now().getTime() - 30 * 86_400_000)));
  return found;
}

/** The mismatches of the last reconciliation (0 before the first). */
export async function lastMismatches(db: Db): Promise<number> {
  const [last] = await db
    .select({ n: paymentReconciliations.mismatches })
    .from(paymentReconciliations)
    .orderBy(desc(paymentReconciliations.id))
    .limit(1);
  return last?.n ?? 0;
}
