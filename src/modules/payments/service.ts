// Payment verbs and effects: pay for a booking (a processing payment and its charge job, in one
// transaction), read payments, and the effects the charge job, the refund jobs and the webhooks
// apply. Each effect is one transaction that locks the payment row first and changes it only from
// the state it expects, so any number of reruns, redeliveries and webhooks apply it once.
import { and, eq, getTableColumns, inArray, isNull, ne } from "drizzle-orm";
import { onChange } from "../../cache/invalidation";
import type { Db } from "../../db/client";
import { sqlState, UNIQUE_VIOLATION } from "../../db/errors";
import { newestFirst } from "../../db/newest-first";
import { bookings, payments, properties, refunds, webhookEvents } from "../../db/schema";
import { together } from "../../db/together";
import type { Deps } from "../../dependencies";
import { conflict, notFound } from "../../http/errors";
import type { IdempotencyClaim } from "../../http/idempotency";
import type { Limited } from "../../http/rate-limit";
import { enqueueMany, type JobSpec } from "../../jobs/outbox";
import type { NotifyPayload } from "../../jobs/registry";
import type { JobDeps } from "../../jobs/types";
import type { Clock } from "../../lib/clock";
import { isUuid } from "../../lib/ids";
import type { Actor } from "../auth/actor";
import { bookingFor } from "../bookings/access";
import type { BookingRow } from "../bookings/dto";
import { isDue, notificationsOf, settleDue } from "../bookings/lifecycle";
import { settlePayout } from "../ledger/payouts";
import { moneyOf, postCapture, postRefundedTotal, releaseAt } from "../ledger/postings";
import { emailJobOf, insertNotices, type Notice, notifyWithin } from "../notifications/within";
import { admitPayment } from "./attempt-limits";
import { BACKSTOP_MS, chargeJobKey, chargeKey, chargesInline } from "./backstop";
import { type PaymentDtoValue, type PaymentRow, refundedStatus, toPaymentDto } from "./dto";
import { lockedPayment } from "./locked";
import type { ChargeState, RefundResult } from "./provider";
import { settleCapture } from "./requests";
import type { WebhookEventValue, WebhookOutcome } from "./schemas";
import { type SettleOptions, timingsOf } from "./timings";

/** Payments that took money (and may have given some back). */
const SETTLED = ["succeeded", "partially_refunded", "refunded"] as const;
const LIVE = ["processing", "authorized", ...SETTLED] as const;

/** One notification under its key (written once, in the transaction of what it tells). */
const notice = (dedupeKey: string, p: NotifyPayload): Notice => ({ dedupeKey, p });

/**
 * The payment as `actor` may see it: its booking's guest (the payer) or the property's host, by
 * way of the bookings' own access helper; everyone else gets the 404 of an id that does not exist.
 */
export async function paymentFor(actor: Pick<Actor, "id">, id: string, db: Db): Promise<PaymentRow> {
  if (!isUuid(id)) throw notFound("Payment");
  const [payment] = await db.select().from(payments).where(eq(payments.id, id));
  if (!payment) throw notFound("Payment");
  try {
    await bookingFor(actor, payment.bookingId, db);
  } catch {
    throw notFound("Payment");
  }
  return payment;
}

/**
 * Makes a processing payment of the booking and its charge job, in one transaction. `charge`: the
 * payment, when its caller is to charge it inline once this returns (the job then only backs it up).
 */
export async function payBooking(
  {
    actor,
    bookingId,
    paymentMethod,
    claim,
  }: { actor: Actor; bookingId: string; paymentMethod: string; claim?: IdempotencyClaim | null },
  deps: Deps,
): Promise<Limited<PaymentDtoValue> & { charge: PaymentRow | null }> {
  const now = deps.clock.now();
  const outcome = await deps.db
    .transaction(
      async (
        tx,
      ): Promise<(Limited<PaymentDtoValue> & { charge: PaymentRow | null }) | { refused: string; freed: boolean }> => {
        // The Idempotency-Key first: taken in this transaction, it commits with the payment and its answer.
        await claim?.take(tx);
        const { booking, role } = await bookingFor(actor, bookingId, tx, { lock: true });
        // Only the guest pays: to the host (and anyone else) this verb does not exist for the booking.
        if (role !== "guest") throw notFound("Booking");
        if (isDue(booking, now)) {
          const { expired } = await settleDue(tx, deps.clock, { ids: [booking.id] });
          return { refused: "The booking's hold expired before it was paid", freed: expired.length > 0 };
        }
        if (booking.status !== "pending_payment")
          return {
            refused: `The booking is ${booking.status}; only a pending_payment booking can be paid`,
            freed: false,
          };
        // Read once the booking is held (a payment another request made under the lock is seen).
        const [[live], [property]] = await together(
          tx
            .select({ id: payments.id, status: payments.status })
            .from(payments)
            .where(and(eq(payments.bookingId, booking.id), inArray(payments.status, [...LIVE]))),
          // Taken shared: an unlisting (by its host, an admin, or a suspension) waits, or is seen.
          tx
            .select({ status: properties.status, instantBook: properties.instantBook })
            .from(properties)
            .where(eq(properties.id, booking.propertyId))
            .for("share"),
        );
        if (live) return { refused: `The booking already has a ${live.status} payment (${live.id})`, freed: false };
        if (property?.status !== "listed")
          return { refused: "The property is no longer listed; this hold cannot be paid", freed: false };
        // Only now, so a booking that is paid already (or cannot be) gets its usual 409, never a 429.
        const headers = await admitPayment(tx, { guestId: actor.id, booking }, deps.config, now);
        const row: PaymentRow = {
          id: Bun.randomUUIDv7(),
          bookingId: booking.id,
          payerId: actor.id,
          amount: booking.total,
          currency: booking.currency,
          status: "processing",
          paymentMethod,
          // Request-to-book: the listing's host decides, so the card is only authorized now.
          captureMethod: property.instantBook ? "automatic" : "manual",
          failureCode: null,
          refundedAmount: 0,
          providerRef: null,
          attempts: 0,
          disputedAt: null,
          createdAt: now,
          updatedAt: now,
        };
        const dto = toPaymentDto(row);
        // Charged by this instance after the commit, the job is its backstop, due later; otherwise due now.
        const inline = chargesInline(deps.config);
        // The payment, its charge job and the recorded answer, sent together (a second live payment
        // fails its insert, and with it the transaction: the unique violation is what is thrown).
        await together(
          tx.insert(payments).values(row),
          enqueueMany(tx, deps.clock, [
            {
              type: "payment.charge",
              payload: { paymentId: row.id },
              dedupeKey: chargeJobKey(row.id),
              runAt: inline ? new Date(now.getTime() + BACKSTOP_MS) : now,
            },
          ]),
          claim?.complete(tx, dto),
        );
        return { value: dto, headers, charge: inline ? row : null };
      },
    )
    .catch((err: unknown) => {
      // The last line of defence: the unique index of live payments per booking.
      if (sqlState(err) === UNIQUE_VIOLATION)
        return { refused: "The booking already has a processing or succeeded payment", freed: false };
      throw err;
    });
  if ("refused" in outcome) {
    if (outcome.freed) await onChange(deps, { kind: "nights.freed" });
    throw conflict("invalid_state", outcome.refused);
  }
  return outcome;
}

export async function getPayment({ actor, id }: { actor: Actor; id: string }, deps: Deps): Promise<PaymentDtoValue> {
  return toPaymentDto(await paymentFor(actor, id, deps.db));
}

export async function listBookingPayments(
  { actor, bookingId, limit, cursor }: { actor: Actor; bookingId: string; limit: number; cursor?: string },
  deps: Deps,
): Promise<{ data: PaymentDtoValue[]; nextCursor: string | null }> {
  // A cursor the service did not issue is refused before anything is looked up.
  const keyset = newestFirst(payments, limit, cursor);
  const { booking } = await bookingFor(actor, bookingId, deps.db);
  const rows = await deps.db
    .select()
    .from(payments)
    .where(and(eq(payments.bookingId, booking.id), keyset.after))
    .orderBy(...keyset.orderBy)
    .limit(limit + 1);
  const page = keyset.page(rows);
  return { data: page.rows.map(toPaymentDto), nextCursor: page.nextCursor };
}

/** What the provider (or its webhook) said of a charge, or of an authorization. */
export type ChargeOutcome =
  | { status: "succeeded"; chargeId?: string }
  | { status: "authorized"; chargeId?: string }
  | { status: "failed"; failureCode: string; chargeId?: string };

/**
 * Asks the provider for a processing payment's money, under its key: a charge, or (request-to-book,
 * `captureMethod` manual) an authorization. Throws TransientProviderError like the provider.
 */
export async function takePayment(deps: Pick<Deps, "payments">, p: PaymentRow): Promise<ChargeOutcome> {
  const request = {
    key: chargeKey(p.id),
    reference: p.id,
    amount: p.amount,
    currency: p.currency,
    paymentMethod: p.paymentMethod,
  };
  return p.captureMethod === "manual" ? deps.payments.authorize(request) : deps.payments.charge(request);
}

/** What the provider holds under a payment's key, as an outcome of ours (a voided authorization failed). */
export function outcomeOfState(found: ChargeState): ChargeOutcome {
  if (found.status === "voided")
    return { status: "failed", failureCode: "authorization_voided", chargeId: found.chargeId };
  if (found.status === "failed") return found;
  return { status: found.status, chargeId: found.chargeId };
}

export interface Settled {
  /** No such payment. */
  unknown: boolean;
  /** This call moved the payment out of processing. */
  changed: boolean;
  /** Nights were freed (a hold found overdue on the way). */
  freed: boolean;
  /** The e-mail job this settlement wrote (due at `emailsAt`, when given), if any. */
  emails?: JobSpec;
}

/**
 * A charge's outcome applied to its payment, once: only a processing payment changes. Success
 * confirms a booking that still holds its nights; a charge that lands after the hold expired or
 * was cancelled is given back in full (a refund job, in this transaction). A decline leaves the
 * booking pending_payment until it expires. Guest and host are notified in this transaction (their
 * e-mails by one job of it).
 */
export async function settleCharge(
  tx: Db,
  clock: Clock,
  paymentId: string,
  reported: ChargeOutcome,
  options: SettleOptions,
): Promise<Settled> {
  let outcome = reported;
  const { emailsAt } = options;
  const now = clock.now();
  const row = await lockedPayment(tx, paymentId);
  if (!row) return { unknown: true, changed: false, freed: false };
  const { payment, booking, hostId } = row;
  // A request-to-book payment is only ever authorized here (a provider's "succeeded" for it, as
  // some send for an uncaptured authorization, confirms nothing without the host); an instant
  // one is charged, never left authorized (its charge job settles it).
  if (payment.captureMethod === "manual" && outcome.status === "succeeded")
    outcome = { status: "authorized", ...(outcome.chargeId ? { chargeId: outcome.chargeId } : {}) };
  if (payment.captureMethod === "automatic" && outcome.status === "authorized")
    return { unknown: false, changed: false, freed: false };
  if (payment.status !== "processing") {
    // Settled already (by a webhook, or an earlier run): the provider's charge id is still worth keeping.
    if (outcome.chargeId && !payment.providerRef)
      await tx.update(payments).set({ providerRef: outcome.chargeId }).where(eq(payments.id, payment.id));
    // Recorded as failed (a charge.failed event) while the provider authorized: the hold is released.
    if (outcome.status === "authorized" && outcome.chargeId && payment.status === "failed") {
      await enqueueMany(tx, clock, [voidJob(payment.id)]);
      return { unknown: false, changed: true, freed: false };
    }
    // Recorded as failed (a charge.failed event) while the provider did charge: the money goes back.
    if (outcome.status === "succeeded" && outcome.chargeId && payment.status === "failed") {
      await enqueueMany(tx, clock, [
        {
          type: "payment.refund",
          payload: { paymentId: payment.id, amount: payment.amount },
          dedupeKey: `payment:${payment.id}:not_held`,
        },
      ]);
      return { unknown: false, changed: true, freed: false };
    }
    return { unknown: false, changed: false, freed: false };
  }
  const guest = (type: string, title: string, body: string): NotifyPayload => ({
    userId: payment.payerId,
    type,
    title,
    body,
    data: { bookingId: booking.id, paymentId: payment.id },
    email: true,
  });
  if (outcome.status === "failed") {
    // The first failure of a booking is e-mailed; the next ones only notified in the app (the
    // guest is at it, trying another card; ten declines are not ten e-mails). The booking's row is
    // held: its payments' failures are settled one at a time.
    const [, [earlier]] = await together(
      tx
        .update(payments)
        .set({
          status: "failed",
          failureCode: outcome.failureCode,
          providerRef: outcome.chargeId ?? payment.providerRef,
          attempts: options.attempts ?? payment.attempts,
          updatedAt: now,
        })
        .where(eq(payments.id, payment.id)),
      tx
        .select({ id: payments.id })
        .from(payments)
        .where(and(eq(payments.bookingId, booking.id), eq(payments.status, "failed"), ne(payments.id, payment.id)))
        .limit(1),
    );
    const failed = guest(
      "payment_failed",
      "Payment failed",
      `The payment for your booking failed (${outcome.failureCode}). Your nights stay held until the hold expires: try another payment method.`,
    );
    const notices = [notice(`payment:${payment.id}:failed`, { ...failed, email: !earlier })];
    await notifyWithin(tx, clock, notices, emailsAt);
    return { unknown: false, changed: true, freed: false, emails: emailJobOf(notices, emailsAt)[0] };
  }
  if (outcome.status === "authorized") return authorized(tx, clock, row, outcome, options);
  const paid = tx.update(payments).set({
    status: "succeeded",
    providerRef: outcome.chargeId ?? payment.providerRef,
    attempts: options.attempts ?? payment.attempts,
    updatedAt: now,
  });
  const received = guest(
    "payment_succeeded",
    "Payment received",
    `We received ${payment.amount} (minor units, ${payment.currency}).`,
  );
  if (booking.status === "pending_payment" && !isDue(booking, now)) {
    // The guest's receipt and both parties' confirmation, written here; their e-mails by one job.
    const notices = [
      notice(`payment:${payment.id}:succeeded`, received),
      ...notificationsOf("confirmed", { ...booking, hostId }),
    ];
    // The payment, the booking and the notifications: both rows are held already, so sent together.
    await together(
      paid.where(eq(payments.id, payment.id)),
      tx.update(bookings).set({ status: "confirmed", updatedAt: now }).where(eq(bookings.id, booking.id)),
      notifyWithin(tx, clock, notices, emailsAt),
      postCapture(tx, clock, moneyOf(booking, hostId), payment.id, releaseAt(booking.checkIn, options.releaseMs)),
    );
    return { unknown: false, changed: true, freed: false, emails: emailJobOf(notices, emailsAt)[0] };
  }
  // Captured all the same: in the ledger, as its refund (below) will be.
  await together(
    paid.where(eq(payments.id, payment.id)),
    postCapture(tx, clock, moneyOf(booking, hostId), payment.id, releaseAt(booking.checkIn, options.releaseMs)),
  );
  // The nights are not held for this money (the hold ran out, or the booking was cancelled): all of it goes back.
  const freed =
    booking.status === "pending_payment" && (await settleDue(tx, clock, { ids: [booking.id] })).expired.length > 0;
  const notices = [notice(`payment:${payment.id}:succeeded`, received)];
  await insertNotices(tx, clock, notices);
  await enqueueMany(tx, clock, [
    ...emailJobOf(notices, emailsAt),
    {
      type: "payment.refund",
      payload: { paymentId: payment.id, amount: payment.amount },
      dedupeKey: `payment:${payment.id}:not_held`,
    },
  ]);
  return { unknown: false, changed: true, freed, emails: emailJobOf(notices, emailsAt)[0] };
}

/** The provider is told to release a voided payment's authorization. */
export const voidJob = (paymentId: string): JobSpec => ({
  type: "payment.void",
  payload: { paymentId },
  dedupeKey: `payment:${paymentId}:void`,
});

/**
 * An authorization granted (request-to-book): the booking, still a held unpaid hold, becomes
 * `requested` for REQUEST_EXPIRY_HOURS and both sides are told; for nights no longer held (the hold
 * ran out, or was cancelled) the authorization is voided at once and released by a job.
 */
async function authorized(
  tx: Db,
  clock: Clock,
  row: { payment: PaymentRow; booking: BookingRow; hostId: string },
  outcome: { chargeId?: string },
  options: SettleOptions,
): Promise<Settled> {
  const { payment, booking, hostId } = row;
  const now = clock.now();
  const providerRef = outcome.chargeId ?? payment.providerRef;
  const attempts = options.attempts ?? payment.attempts;
  if (booking.status === "pending_payment" && !isDue(booking, now)) {
    // REQUEST_EXPIRY_HOURS, but never past the check-in day (UTC): the host answers before the stay begins.
    const checkInDayEnds = Date.parse(`${booking.checkIn}T00:00:00Z`) + 86_400_000;
    const expiresAt = new Date(Math.min(now.getTime() + options.requestMs, checkInDayEnds));
    const notices = notificationsOf("requested", { ...booking, hostId }, { guestEmail: true }).map((n) =>
      n.p.userId === hostId ? { ...n, p: { ...n.p, email: true } } : n,
    );
    await together(
      tx
        .update(payments)
        .set({ status: "authorized", providerRef, attempts, updatedAt: now })
        .where(eq(payments.id, payment.id)),
      tx.update(bookings).set({ status: "requested", expiresAt, updatedAt: now }).where(eq(bookings.id, booking.id)),
      notifyWithin(tx, clock, notices, options.emailsAt),
    );
    return { unknown: false, changed: true, freed: false, emails: emailJobOf(notices, options.emailsAt)[0] };
  }
  await tx
    .update(payments)
    .set({ status: "voided", providerRef, attempts, updatedAt: now })
    .where(eq(payments.id, payment.id));
  const freed =
    booking.status === "pending_payment" && (await settleDue(tx, clock, { ids: [booking.id] })).expired.length > 0;
  await enqueueMany(tx, clock, [voidJob(payment.id)]);
  return { unknown: false, changed: true, freed };
}

/** The reason a refund is owed, and its row's key: one refund per reason, however often it runs. */
export type RefundReason = { reason: "cancellation"; bookingId: string } | { reason: "not_held"; paymentId: string };
const refundKey = (r: RefundReason) =>
  r.reason === "cancellation" ? `refund:cancel:${r.bookingId}` : `refund:unheld:${r.paymentId}`;

/** Payments whose money may be given back: settled ones, and a failed one the provider charged after all. */
const refundable = (p: PaymentRow) =>
  SETTLED.includes(p.status as (typeof SETTLED)[number]) ||
  ((p.status === "failed" || p.status === "voided") && p.providerRef !== null);

/**
 * The provider's charge id of a settled payment. A payment settled by a webhook has none stored
 * (the event names our payment, not the charge): the provider is asked by the charge's key, and
 * the answer kept. No charge at the provider is an error (the job retries, then is a dead letter
 * to look at): money that was never taken cannot be given back.
 */
async function chargeIdOf(deps: JobDeps, p: PaymentRow): Promise<string> {
  if (p.providerRef) return p.providerRef;
  const found = await deps.payments.lookupCharge(chargeKey(p.id));
  if (found?.status !== "succeeded")
    throw new Error(
      `payment ${p.id} is ${p.status} but the provider has no succeeded charge for it; nothing to refund`,
    );
  await deps.db
    .update(payments)
    .set({ providerRef: found.chargeId })
    .where(and(eq(payments.id, p.id), isNull(payments.providerRef)));
  return found.chargeId;
}

/**
 * Executes a refund owed: decides its amount once (what is owed, at most what is left of the
 * charge by our books) in a refunds row keyed by the reason, asks the provider with the row's
 * provider key, then records the provider's refunded total. A rerun finds the row and repeats the
 * call with the same key (the provider answers it once). When the provider refuses the amount
 * because the charge was partly refunded elsewhere (its dashboard, a webhook not yet received),
 * what is left of the charge is asked under a new key, so the guest still gets all that is owed
 * and can be given; the provider itself never exceeds the charge.
 */
export async function executeRefund(deps: JobDeps, paymentId: string, owed: number, why: RefundReason): Promise<void> {
  const key = refundKey(why);
  const [p] = await deps.db.select().from(payments).where(eq(payments.id, paymentId));
  if (!p || !refundable(p)) return;
  const chargeId = await chargeIdOf(deps, p);
  let refund = await deps.db.transaction(async (tx) => {
    const [locked] = await tx.select().from(payments).where(eq(payments.id, paymentId)).for("update");
    if (!locked) return null;
    const [existing] = await tx.select().from(refunds).where(eq(refunds.key, key));
    if (existing) return existing;
    const amount = Math.min(owed, locked.amount - locked.refundedAmount);
    if (amount <= 0) return null;
    const [row] = await tx
      .insert(refunds)
      .values({
        paymentId,
        bookingId: locked.bookingId,
        amount,
        status: "pending",
        reason: why.reason,
        key,
        providerKey: key,
      })
      .returning();
    return row ?? null;
  });
  for (let round = 0; refund?.status === "pending" && round < 3; round++) {
    // A transient failure throws: the job is retried with backoff and asks again with the same key.
    const result = await deps.payments.refund({ key: refund.providerKey, chargeId, amount: refund.amount });
    refund = await recordRefund(deps, refund, result);
  }
}

type RefundRow = typeof refunds.$inferSelect;

/** The provider's answer to a refund, recorded: the row's outcome and the payment's refunded total. */
async function recordRefund(deps: JobDeps, refund: RefundRow, result: RefundResult): Promise<RefundRow | null> {
  return deps.db.transaction(async (tx) => {
    const [p] = await tx.select().from(payments).where(eq(payments.id, refund.paymentId)).for("update");
    if (!p) return null;
    const now = deps.clock.now();
    const refunded = Math.max(p.refundedAmount, Math.min(p.amount, result.refundedTotal));
    // What came back of the capture, reversed in the ledger (nothing when none was posted).
    await postRefundedTotal(tx, deps.clock, p, p.refundedAmount, refunded);
    if (refunded !== p.refundedAmount)
      await tx
        .update(payments)
        // A failed (or voided) payment the provider charged after all stays so; only its refunded total moves.
        .set({
          refundedAmount: refunded,
          status: p.status === "failed" || p.status === "voided" ? p.status : refundedStatus(p.amount, refunded),
          updatedAt: now,
        })
        .where(eq(payments.id, p.id));
    const left = p.amount - refunded;
    let next: Partial<RefundRow>;
    if (result.status === "succeeded") next = { status: "succeeded", providerRef: result.refundId, updatedAt: now };
    else if (result.reason === "exceeds_charge" && left > 0 && left < refund.amount)
      // Partly refunded elsewhere: ask for what is left, under a key of its own.
      next = { amount: left, providerKey: `${refund.key}:${left}`, updatedAt: now };
    else next = { status: "failed", failureCode: result.reason, updatedAt: now };
    const [row] = await tx
      .update(refunds)
      .set(next)
      .where(and(eq(refunds.id, refund.id), eq(refunds.status, "pending")))
      .returning();
    if (!row) return null;
    if (row.status === "succeeded")
      await notifyWithin(tx, deps.clock, [
        notice(`${row.key}:issued`, {
          userId: p.payerId,
          type: "refund_issued",
          title: "Refund issued",
          body: `We refunded ${row.amount} (minor units, ${p.currency}) to your payment method.`,
          data: { bookingId: p.bookingId, paymentId: p.id },
          email: true,
        }),
      ]);
    else if (row.status === "failed")
      deps.log.warn("refund refused by the provider", {
        paymentId: p.id,
        key: row.key,
        reason: row.failureCode,
        refundedTotal: result.refundedTotal,
      });
    return row;
  });
}

/** The refund a cancellation owes, executed against the booking's paid payment. */
export async function refundCancellation(deps: JobDeps, bookingId: string, amount: number): Promise<void> {
  const [paid] = await deps.db
    .select({ id: payments.id })
    .from(payments)
    .where(and(eq(payments.bookingId, bookingId), inArray(payments.status, [...SETTLED])));
  if (!paid) {
    // Paid bookings are the only ones refunded, so this is a booking confirmed by no payment of ours.
    deps.log.warn("a cancellation refund has no paid payment to refund", { bookingId, amount });
    return;
  }
  await executeRefund(deps, paid.id, amount, { reason: "cancellation", bookingId });
}

/**
 * A verified webhook event, applied once: its id is stored in the transaction of its effect, so a
 * replay (or a concurrent duplicate) is answered without a second one.
 */
export async function receiveWebhook(
  deps: Deps,
  event: WebhookEventValue,
): Promise<{ replayed: boolean; outcome: WebhookOutcome; freed: boolean }> {
  return deps.db.transaction(async (tx) => {
    const [fresh] = await tx
      .insert(webhookEvents)
      .values({ id: event.id, type: event.type, payload: event, receivedAt: deps.clock.now() })
      .onConflictDoNothing()
      .returning({ id: webhookEvents.id });
    if (!fresh) {
      const [seen] = await tx
        .select({ outcome: webhookEvents.outcome })
        .from(webhookEvents)
        .where(eq(webhookEvents.id, event.id));
      // What this service stored for the event's first delivery: one of the outcomes.
      return { replayed: true, outcome: (seen?.outcome ?? "applied") as WebhookOutcome, freed: false };
    }
    const { outcome, freed } = await applyEvent(tx, deps, event);
    await tx.update(webhookEvents).set({ outcome }).where(eq(webhookEvents.id, event.id));
    return { replayed: false, outcome, freed };
  });
}

async function applyEvent(
  tx: Db,
  deps: Deps,
  event: WebhookEventValue,
): Promise<{ outcome: WebhookOutcome; freed: boolean }> {
  if (event.type === "payout.paid" || event.type === "payout.failed") {
    const payoutId = (event.data.payoutId ?? "").toLowerCase();
    if (!isUuid(payoutId)) return { outcome: "unknown_payout", freed: false };
    const changed = await settlePayout(
      tx,
      deps.clock,
      payoutId,
      event.type === "payout.paid"
        ? { status: "paid" }
        : { status: "failed", failureCode: event.data.failureCode ?? "payout_failed" },
    );
    return { outcome: changed === null ? "unknown_payout" : changed ? "applied" : "no_change", freed: false };
  }
  const paymentId = (event.data.paymentId ?? "").toLowerCase();
  if (!isUuid(paymentId)) return { outcome: "unknown_payment", freed: false };
  const settled = (s: Settled): { outcome: WebhookOutcome; freed: boolean } => ({
    outcome: s.unknown ? "unknown_payment" : s.changed ? "applied" : "no_change",
    freed: s.freed,
  });
  switch (event.type) {
    case "charge.succeeded": {
      // An event for another amount than ours is not this payment's charge: nothing is applied.
      if (event.data.amount !== undefined) {
        const [p] = await tx.select({ amount: payments.amount }).from(payments).where(eq(payments.id, paymentId));
        if (p && p.amount !== event.data.amount) {
          deps.log.error("charge.succeeded for another amount than the payment's; not applied", {
            eventId: event.id,
            paymentId,
            amount: event.data.amount,
            expected: p.amount,
          });
          return { outcome: "amount_mismatch", freed: false };
        }
      }
      return settled(await settleCharge(tx, deps.clock, paymentId, { status: "succeeded" }, timingsOf(deps.config)));
    }
    case "charge.failed":
      return settled(
        await settleCharge(
          tx,
          deps.clock,
          paymentId,
          { status: "failed", failureCode: event.data.failureCode ?? "card_declined" },
          timingsOf(deps.config),
        ),
      );
    case "charge.authorized":
      return settled(await settleCharge(tx, deps.clock, paymentId, { status: "authorized" }, timingsOf(deps.config)));
    case "charge.captured":
    case "charge.voided": {
      const s = await settleCapture(
        tx,
        deps.clock,
        paymentId,
        event.type === "charge.captured" ? { status: "succeeded" } : { status: "refused", reason: "voided" },
        timingsOf(deps.config),
      );
      return { outcome: s.status === null ? "unknown_payment" : s.changed ? "applied" : "no_change", freed: s.freed };
    }
    case "charge.refunded":
      return { outcome: await applyProviderRefund(tx, deps, event, paymentId), freed: false };
    case "charge.dispute_created":
      return { outcome: await applyDispute(tx, deps, event, paymentId), freed: false };
    default:
      return { outcome: "ignored_type", freed: false };
  }
}

/** A refund made at the provider (its dashboard): `amount` is the charge's refunded total (absent: all of it). */
async function applyProviderRefund(
  tx: Db,
  deps: Deps,
  event: WebhookEventValue,
  paymentId: string,
): Promise<WebhookOutcome> {
  const [p] = await tx.select().from(payments).where(eq(payments.id, paymentId)).for("update");
  if (!p) return "unknown_payment";
  if (!SETTLED.includes(p.status as (typeof SETTLED)[number])) return "no_change";
  const total = Math.min(p.amount, event.data.amount ?? p.amount);
  if (total <= p.refundedAmount) return "no_change";
  const now = deps.clock.now();
  await together(
    tx
      .update(payments)
      .set({ refundedAmount: total, status: refundedStatus(p.amount, total), updatedAt: now })
      .where(eq(payments.id, p.id)),
    postRefundedTotal(tx, deps.clock, p, p.refundedAmount, total),
  );
  await notifyWithin(tx, deps.clock, [
    notice(`webhook:${event.id}:refund`, {
      userId: p.payerId,
      type: "refund_issued",
      title: "Refund issued",
      body: `We refunded ${total - p.refundedAmount} (minor units, ${p.currency}) to your payment method.`,
      data: { bookingId: p.bookingId, paymentId: p.id },
      email: true,
    }),
  ]);
  return "applied";
}

/** The cardholder disputes the charge with their bank: the payment is marked, the host is told. */
async function applyDispute(tx: Db, deps: Deps, event: WebhookEventValue, paymentId: string): Promise<WebhookOutcome> {
  const [row] = await tx
    .select({ payment: getTableColumns(payments), hostId: properties.hostId })
    .from(payments)
    .innerJoin(bookings, eq(bookings.id, payments.bookingId))
    .innerJoin(properties, eq(properties.id, bookings.propertyId))
    .where(eq(payments.id, paymentId))
    .for("update", { of: payments });
  if (!row) return "unknown_payment";
  if (row.payment.disputedAt || !SETTLED.includes(row.payment.status as (typeof SETTLED)[number])) return "no_change";
  const now = deps.clock.now();
  await tx.update(payments).set({ disputedAt: now, updatedAt: now }).where(eq(payments.id, paymentId));
  await notifyWithin(tx, deps.clock, [
    notice(`webhook:${event.id}:dispute`, {
      userId: row.hostId,
      type: "payment_disputed",
      title: "Payment disputed",
      body: "The guest disputed the payment for a stay at your property with their bank.",
      data: { bookingId: row.payment.bookingId, paymentId },
      email: true,
    }),
  ]);
  return "applied";
}
