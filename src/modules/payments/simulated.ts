// The built-in simulated gateway: behaves like a real one outside our data. It keeps its own books
// (sim_charges, sim_refunds), written in its own transactions — never in the caller's — so a crash
// between its answer and our commit leaves what a real gateway would: a charge we must not repeat.
// Provider-side idempotency by key, refunds capped at what was charged, authorizations that lapse
// after AUTHORIZATION_LAPSE_MS of the service clock, a few ms of latency, and the contract's test tokens.
import { and, asc, eq, gt, gte, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { simCharges, simPayouts, simRefunds } from "../../db/schema";
import { type Clock, systemClock } from "../../lib/clock";
import {
  type AuthorizeResult,
  type CaptureResult,
  type ChargeRequest,
  type ChargeResult,
  type ChargeState,
  type LedgerCharge,
  type LedgerPayout,
  type PaymentProvider,
  type PayoutRequest,
  type PayoutResult,
  type RefundRequest,
  type RefundResult,
  TransientProviderError,
  type VoidResult,
  verifySignature,
} from "./provider";

/** How long the simulated provider keeps an authorization capturable (7 days of the service clock). */
export const AUTHORIZATION_LAPSE_MS = 7 * 86_400_000;

/** What each test token does: succeed, decline with a code, or fail transiently. */
const TOKENS: Record<
  string,
  { outcome: "succeeded" } | { outcome: "declined"; code: string } | { outcome: "transient" }
> = {
  pm_card_visa: { outcome: "succeeded" },
  pm_card_mastercard: { outcome: "succeeded" },
  pm_card_declined: { outcome: "declined", code: "card_declined" },
  pm_card_insufficient_funds: { outcome: "declined", code: "insufficient_funds" },
  pm_card_processing_error: { outcome: "transient" },
};

/** What each payout token does; any other fails invalid_payout_method. */
const PAYOUT_TOKENS: Record<string, { status: "paid" | "in_transit" } | { status: "failed"; code: string }> = {
  ba_test_ok: { status: "paid" },
  ba_test_pending: { status: "in_transit" },
  ba_test_fail: { status: "failed", code: "account_closed" },
};

/**
 * TEST_JOBS=1 only: charges like pm_card_visa, then stalls before answering the first time — the
 * window in which a test kills the worker thread between the provider's charge and our commit.
 */
export const STALL_AFTER_CHARGE = "pm_test_stall_after_charge";

export interface SimulatedOptions {
  /** Added to every call, as a network round trip to a real gateway would be. */
  latencyMs: number;
  /** Enables STALL_AFTER_CHARGE. */
  testTokens?: boolean;
  /** How long STALL_AFTER_CHARGE stalls. */
  stallMs?: number;
  /** The service clock (an authorization lapses by it); the system clock by default. */
  clock?: Clock;
}

type ChargeRow = typeof simCharges.$inferSelect;

const stateOf = (row: ChargeRow): ChargeState =>
  row.status === "failed"
    ? { status: "failed", chargeId: row.chargeId, failureCode: row.failureCode ?? "card_declined" }
    : { status: row.status as "succeeded" | "authorized" | "voided", chargeId: row.chargeId };

export function simulatedProvider(db: Db, options: SimulatedOptions): PaymentProvider {
  const wait = () => (options.latencyMs > 0 ? Bun.sleep(options.latencyMs) : Promise.resolve());
  const clock = options.clock ?? systemClock;
  /** A charge (`hold`: an authorization) under its key, once: the first answer for the key after that. */
  async function take(r: ChargeRequest, hold: boolean): Promise<ChargeState> {
    await wait();
    const stall = options.testTokens === true && r.paymentMethod === STALL_AFTER_CHARGE;
    const token = stall ? TOKENS.pm_card_visa : TOKENS[r.paymentMethod];
    // A processing error decides nothing: no charge is recorded, the same call may come again.
    if (token?.outcome === "transient")
      throw new TransientProviderError("The card processor did not answer (simulated processing error)");
    const declined = !token ? "invalid_payment_method" : token.outcome === "declined" ? token.code : null;
    const [created] = await db
      .insert(simCharges)
      .values({
        key: r.key,
        chargeId: `ch_${Bun.randomUUIDv7().replaceAll("-", "")}`,
        reference: r.reference,
        amount: r.amount,
        currency: r.currency,
        paymentMethod: r.paymentMethod,
        status: declined ? "failed" : hold ? "authorized" : "succeeded",
        failureCode: declined,
        authorizedAt: hold && !declined ? clock.now() : null,
      })
      .onConflictDoNothing()
      .returning();
    if (created) {
      if (stall) await Bun.sleep(options.stallMs ?? 60_000);
      return stateOf(created);
    }
    // The key was used before: the first answer, as long as it is the same request.
    const [first] = await db.select().from(simCharges).where(eq(simCharges.key, r.key));
    if (!first) throw new TransientProviderError("charge key vanished");
    if (first.amount !== r.amount || first.currency !== r.currency || first.reference !== r.reference)
      throw new Error(`idempotency key ${r.key} was used for a different charge`);
    return stateOf(first);
  }
  return {
    name: "simulated",

    async charge(r: ChargeRequest): Promise<ChargeResult> {
      const s = await take(r, false);
      // A key first used to authorize answers what became of the authorization.
      if (s.status === "failed") return s;
      if (s.status === "succeeded") return { status: "succeeded", chargeId: s.chargeId };
      return { status: "failed", chargeId: s.chargeId, failureCode: "authorization_only" };
    },

    async authorize(r: ChargeRequest): Promise<AuthorizeResult> {
      const s = await take(r, true);
      return s.status === "failed" ? s : { status: "authorized", chargeId: s.chargeId };
    },

    async capture({ chargeId }): Promise<CaptureResult> {
      await wait();
      return db.transaction(async (tx) => {
        const [c] = await tx.select().from(simCharges).where(eq(simCharges.chargeId, chargeId)).for("update");
        if (!c || c.status === "failed") return { status: "refused", reason: "not_authorized" };
        if (c.status === "succeeded") return { status: "succeeded", chargeId };
        if (c.status === "voided") return { status: "refused", reason: "voided" };
        if (!c.authorizedAt || clock.now().getTime() - c.authorizedAt.getTime() >= AUTHORIZATION_LAPSE_MS) {
          // Let go: it can no longer be captured, and the hold on the card is gone.
          await tx.update(simCharges).set({ status: "voided" }).where(eq(simCharges.chargeId, chargeId));
          return { status: "refused", reason: "lapsed" };
        }
        await tx.update(simCharges).set({ status: "succeeded" }).where(eq(simCharges.chargeId, chargeId));
        return { status: "succeeded", chargeId };
      });
    },

    async void({ chargeId }): Promise<VoidResult> {
      await wait();
      return db.transaction(async (tx) => {
        const [c] = await tx.select().from(simCharges).where(eq(simCharges.chargeId, chargeId)).for("update");
        if (!c || c.status === "failed") return { status: "refused", reason: "not_authorized" };
        if (c.status === "succeeded") return { status: "refused", reason: "captured" };
        if (c.status === "authorized")
          await tx.update(simCharges).set({ status: "voided" }).where(eq(simCharges.chargeId, chargeId));
        return { status: "voided" };
      });
    },

    async lookupCharge(key: string) {
      await wait();
      const [row] = await db.select().from(simCharges).where(eq(simCharges.key, key));
      return row ? { ...stateOf(row), amount: row.amount, refunded: row.refunded } : null;
    },

    async refund(r: RefundRequest): Promise<RefundResult> {
      await wait();
      return db.transaction(async (tx) => {
        const [charge] = await tx.select().from(simCharges).where(eq(simCharges.chargeId, r.chargeId)).for("update");
        if (charge?.status !== "succeeded") return { status: "refused", reason: "not_charged", refundedTotal: 0 };
        const [done] = await tx.select().from(simRefunds).where(eq(simRefunds.key, r.key));
        if (done) return { status: "succeeded", refundId: done.refundId, refundedTotal: charge.refunded };
        if (r.amount <= 0 || charge.refunded + r.amount > charge.amount)
          return { status: "refused", reason: "exceeds_charge", refundedTotal: charge.refunded };
        const refundId = `re_${Bun.randomUUIDv7().replaceAll("-", "")}`;
        await tx.insert(simRefunds).values({ key: r.key, refundId, chargeId: r.chargeId, amount: r.amount });
        const [after] = await tx
          .update(simCharges)
          .set({ refunded: sql`${simCharges.refunded} + ${r.amount}` })
          .where(eq(simCharges.chargeId, r.chargeId))
          .returning({ refunded: simCharges.refunded });
        return { status: "succeeded", refundId, refundedTotal: after?.refunded ?? charge.refunded + r.amount };
      });
    },

    async payout(r: PayoutRequest): Promise<PayoutResult> {
      await wait();
      const outcome = PAYOUT_TOKENS[r.token];
      const status = outcome?.status ?? "failed";
      const failureCode = outcome ? (outcome.status === "failed" ? outcome.code : null) : "invalid_payout_method";
      const [created] = await db
        .insert(simPayouts)
        .values({
          key: r.key,
          payoutRef: `po_${Bun.randomUUIDv7().replaceAll("-", "")}`,
          reference: r.reference,
          amount: r.amount,
          currency: r.currency,
          token: r.token,
          status,
          failureCode,
        })
        .onConflictDoNothing()
        .returning();
      const row = created ?? (await db.select().from(simPayouts).where(eq(simPayouts.key, r.key)))[0];
      if (!row) throw new TransientProviderError("payout key vanished");
      if (row.amount !== r.amount || row.currency !== r.currency || row.reference !== r.reference)
        throw new Error(`idempotency key ${r.key} was used for a different payout`);
      return row.status === "failed"
        ? { status: "failed", payoutRef: row.payoutRef, failureCode: row.failureCode ?? "account_closed" }
        : { status: row.status as "paid" | "in_transit", payoutRef: row.payoutRef };
    },

    async *payoutLedger(): AsyncIterable<LedgerPayout[]> {
      let after: string | null = null;
      for (;;) {
        const rows: (typeof simPayouts.$inferSelect)[] = await db
          .select()
          .from(simPayouts)
          .where(after ? gt(simPayouts.key, after) : undefined)
          .orderBy(asc(simPayouts.key))
          .limit(1000);
        if (rows.length === 0) return;
        yield rows.map((p) => ({
          reference: p.reference,
          amount: p.amount,
          currency: p.currency,
          status: p.status as LedgerPayout["status"],
        }));
        after = (rows[rows.length - 1] as typeof simPayouts.$inferSelect).key;
        if (rows.length < 1000) return;
      }
    },

    async observe(event) {
      const id = (event.data.payoutId ?? event.data.paymentId ?? "").toLowerCase();
      if (event.type === "payout.paid" || event.type === "payout.failed")
        await db
          .update(simPayouts)
          .set({
            status: event.type === "payout.paid" ? "paid" : "failed",
            failureCode: event.type === "payout.failed" ? (event.data.failureCode ?? "account_closed") : null,
          })
          .where(and(eq(simPayouts.reference, id), eq(simPayouts.status, "in_transit")));
      else if (event.type === "charge.refunded")
        // The charge's refunded total, as the event says (absent: all of it); never less than before.
        await db
          .update(simCharges)
          .set({
            refunded: sql`greatest(${simCharges.refunded}, least(${simCharges.amount}, ${event.data.amount ?? 2_147_483_647}::int))`,
          })
          .where(and(eq(simCharges.reference, id), eq(simCharges.status, "succeeded")));
      else if (event.type === "charge.captured" || event.type === "charge.voided")
        await db
          .update(simCharges)
          .set({ status: event.type === "charge.captured" ? "succeeded" : "voided" })
          .where(and(eq(simCharges.reference, id), eq(simCharges.status, "authorized")));
    },

    verifyWebhook(rawBody, signature, secret, isFresh) {
      verifySignature(rawBody, signature, secret, isFresh);
      return new TextDecoder().decode(rawBody);
    },

    async *ledger(since?: Date): AsyncIterable<LedgerCharge[]> {
      // Paged by key (exact text, unlike a millisecond timestamp against microseconds).
      let after: string | null = null;
      for (;;) {
        const rows: ChargeRow[] = await db
          .select()
          .from(simCharges)
          .where(
            and(since ? gte(simCharges.createdAt, since) : undefined, after ? gt(simCharges.key, after) : undefined),
          )
          .orderBy(asc(simCharges.key))
          .limit(1000);
        if (rows.length === 0) return;
        yield rows.map((c) => ({
          key: c.key,
          chargeId: c.chargeId,
          reference: c.reference,
          amount: c.amount,
          currency: c.currency,
          status: c.status as LedgerCharge["status"],
          refunded: c.refunded,
          createdAt: c.createdAt,
        }));
        after = (rows[rows.length - 1] as ChargeRow).key;
        if (rows.length < 1000) return;
      }
    },
  };
}
