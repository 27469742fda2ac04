// Request-to-book: the host's answer to a request (a booking `requested`, its payment authorized,
// not captured). Accepting claims the request in one transaction (the booking's `accepted_at`,
// its row held) and only then captures, outside any transaction; the capture's outcome is
// settled in one more (confirmed, or expired when the provider refuses it — a lapsed
// authorization). Declining, the guest's cancellation and the expiry end the request in their own
// transaction, each from `requested` and never once it was accepted; the database voids the
// authorization in that same transaction (trigger bookings_request_ended) and a payment.void job
// tells the provider. So of any race (accept and decline, accept and expiry, accept and cancel)
// one wins and the others get 409 invalid_state, and a voided authorization is never captured,
// nor a captured one voided (payments_status_transition refuses both).
import { and, eq, getTableColumns } from "drizzle-orm";
import { onChange } from "../../cache/invalidation";
import { afterCommit } from "../../db/after-commit";
import type { Db } from "../../db/client";
import { bookings, payments } from "../../db/schema";
import { together } from "../../db/together";
import type { Deps } from "../../dependencies";
import { conflict, notFound } from "../../http/errors";
import { enqueueMany, markDone, runNow, wakeRelays } from "../../jobs/outbox";
import type { Handlers } from "../../jobs/registry";
import type { JobDeps } from "../../jobs/types";
import type { Clock } from "../../lib/clock";
import type { Actor } from "../auth/actor";
import { bookingFor } from "../bookings/access";
import { type BookingDtoValue, toBookingDto } from "../bookings/dto";
import { isDue, notificationsOf, settleDue } from "../bookings/lifecycle";
import { moneyOf, postCapture, releaseAt } from "../ledger/postings";
import { notifyWithin } from "../notifications/within";
import { BACKSTOP_MS, captureJobKey, chargeKey } from "./backstop";
import type { PaymentRow } from "./dto";
import { lockedPayment } from "./locked";
import type { CaptureResult } from "./provider";
import { type SettleOptions, timingsOf } from "./timings";

/** What a capture came to, as settled. */
export type CaptureOutcome = { status: "succeeded"; chargeId?: string } | { status: "refused"; reason: string };

export interface CaptureSettled {
  changed: boolean;
  /** The booking's status after it. */
  status: string | null;
  freed: boolean;
}

/**
 * A capture's outcome (the provider's answer, or a charge.captured / charge.voided event) applied
 * once, to an authorized payment only. Captured: the payment succeeds and a request still open is
 * confirmed (both sides told); a request that ended meanwhile had its payment voided already, so
 * nothing changes here and the void job gives the money back. Refused (voided or lapsed at the
 * provider): the request expires, nights freed, nothing charged.
 */
export async function settleCapture(
  tx: Db,
  clock: Clock,
  paymentId: string,
  outcome: CaptureOutcome,
  options: Pick<SettleOptions, "releaseMs">,
): Promise<CaptureSettled> {
  const now = clock.now();
  const row = await lockedPayment(tx, paymentId);
  if (!row) return { changed: false, status: null, freed: false };
  const { payment, booking, hostId } = row;
  if (payment.status !== "authorized") return { changed: false, status: booking.status, freed: false };
  if (outcome.status === "succeeded") {
    const open = booking.status === "requested";
    const notices = open
      ? [
          {
            dedupeKey: `payment:${payment.id}:succeeded`,
            p: {
              userId: payment.payerId,
              type: "payment_succeeded",
              title: "Payment received",
              body: `We received ${payment.amount} (minor units, ${payment.currency}).`,
              data: { bookingId: booking.id, paymentId: payment.id },
              email: true,
            },
          },
          ...notificationsOf("confirmed", { ...booking, hostId }),
        ]
      : [];
    await together(
      tx
        .update(payments)
        .set({ status: "succeeded", providerRef: outcome.chargeId ?? payment.providerRef, updatedAt: now })
        .where(eq(payments.id, payment.id)),
      open
        ? tx.update(bookings).set({ status: "confirmed", updatedAt: now }).where(eq(bookings.id, booking.id))
        : undefined,
      notifyWithin(tx, clock, notices),
      postCapture(tx, clock, moneyOf(booking, hostId), payment.id, releaseAt(booking.checkIn, options.releaseMs)),
    );
    // Captured for a stay that is not held (the request ended another way while the provider took
    // it, e.g. a charge.captured from its dashboard): all of it goes back.
    if (!open)
      await enqueueMany(tx, clock, [
        {
          type: "payment.refund",
          payload: { paymentId: payment.id, amount: payment.amount },
          dedupeKey: `payment:${payment.id}:not_held`,
        },
      ]);
    return { changed: true, status: open ? "confirmed" : booking.status, freed: false };
  }
  if (booking.status === "requested") {
    // The trigger voids the payment and writes its payment.void job (the provider lets it go anyway).
    await tx.update(bookings).set({ status: "expired", updatedAt: now }).where(eq(bookings.id, booking.id));
    await notifyWithin(tx, clock, notificationsOf("request_expired", { ...booking, hostId }));
    afterCommit(tx, wakeRelays);
    return { changed: true, status: "expired", freed: true };
  }
  await tx.update(payments).set({ status: "voided", updatedAt: now }).where(eq(payments.id, payment.id));
  return { changed: true, status: booking.status, freed: false };
}

/** The provider's charge id of a payment (stored, or asked by its key); null when it holds nothing. */
export async function chargeIdOf(deps: Pick<JobDeps, "db" | "payments">, p: PaymentRow): Promise<string | null> {
  if (p.providerRef) return p.providerRef;
  const found = await deps.payments.lookupCharge(chargeKey(p.id));
  if (!found) return null;
  await deps.db.update(payments).set({ providerRef: found.chargeId }).where(eq(payments.id, p.id));
  return found.chargeId;
}

/**
 * Captures an accepted request's authorization and settles the outcome, marking its backstop job
 * done. Throws what the provider throws (a transient error: the job captures again, by state).
 */
async function capture(deps: JobDeps, p: PaymentRow): Promise<CaptureSettled> {
  const chargeId = await chargeIdOf(deps, p);
  const result: CaptureResult = chargeId
    ? await deps.payments.capture({ chargeId })
    : { status: "refused", reason: "not_authorized" };
  const outcome: CaptureOutcome =
    result.status === "succeeded" ? { status: "succeeded", chargeId: result.chargeId } : result;
  const settled = await deps.db.transaction(async (tx) => {
    const [s] = await together(
      settleCapture(tx, deps.clock, p.id, outcome, timingsOf(deps.config)),
      markDone(tx, captureJobKey(p.id)),
    );
    return s;
  });
  if (settled.freed) await onChange(deps, { kind: "nights.freed" });
  return settled;
}

type Refusal = { refused: string; freed: boolean };

const refusedWith = async (deps: Deps, r: Refusal, what: string): Promise<never> => {
  if (r.freed) await onChange(deps, { kind: "nights.freed" });
  throw conflict("invalid_state", `${r.refused}; only a requested booking can be ${what}`);
};

/**
 * The request held for the host's answer, in `tx`: its booking row locked, or why not (time got
 * there first: it is expired on the way). Only the property's host answers: to anyone else the
 * verb does not exist.
 */
async function openRequest(actor: Actor, id: string, tx: Db, clock: Clock) {
  const { booking, hostId, role } = await bookingFor(actor, id, tx, { lock: true });
  if (role !== "host") throw notFound("Booking");
  if (isDue(booking, clock.now())) {
    const { expired } = await settleDue(tx, clock, { ids: [booking.id] });
    const what =
      booking.status === "requested" ? "The request expired before the host answered" : "The booking is over";
    return { refused: what, freed: expired.length > 0 } as Refusal;
  }
  if (booking.status !== "requested") return { refused: `The booking is ${booking.status}`, freed: false } as Refusal;
  if (booking.acceptedAt) return { refused: "The request was accepted already", freed: false } as Refusal;
  return { booking, hostId };
}

/**
 * The host accepts a request: claimed, captured, settled. 200 with the confirmed booking; 409
 * invalid_state when the request is not open (declined, expired, cancelled, accepted already) or
 * the provider refuses the capture (the authorization lapsed: the request expires). When the
 * provider does not answer, the booking is returned still `requested` (`pending`: the capture job
 * finishes it).
 */
export async function acceptBooking(
  { actor, id }: { actor: Actor; id: string },
  deps: Deps,
): Promise<{ booking: BookingDtoValue; pending: boolean }> {
  const now = deps.clock.now();
  const claimed = await deps.db.transaction(async (tx): Promise<Refusal | { payment: PaymentRow }> => {
    const open = await openRequest(actor, id, tx, deps.clock);
    if ("refused" in open) return open;
    const [payment] = await tx
      .select()
      .from(payments)
      .where(and(eq(payments.bookingId, open.booking.id), eq(payments.status, "authorized")))
      .for("update");
    if (!payment) return { refused: "The request has no authorized payment", freed: false };
    await together(
      tx.update(bookings).set({ acceptedAt: now, updatedAt: now }).where(eq(bookings.id, open.booking.id)),
      enqueueMany(tx, deps.clock, [
        {
          type: "payment.capture",
          payload: { paymentId: payment.id },
          dedupeKey: captureJobKey(payment.id),
          runAt: new Date(now.getTime() + BACKSTOP_MS),
        },
      ]),
    );
    return { payment };
  });
  if ("refused" in claimed) return refusedWith(deps, claimed, "accepted");
  let settled: CaptureSettled | null = null;
  try {
    settled = await capture(deps, claimed.payment);
  } catch (err) {
    deps.log.warn("capture left to its job", { paymentId: claimed.payment.id, error: (err as Error).message });
    await runNow(deps.db, deps.clock, captureJobKey(claimed.payment.id)).catch(() => {});
  }
  const [current] = await deps.db.select().from(bookings).where(eq(bookings.id, claimed.payment.bookingId));
  if (!current) throw notFound("Booking");
  if (settled && current.status !== "confirmed")
    throw conflict(
      "invalid_state",
      `The payment provider refused the capture (the authorization lapsed or was voided); the request is ${current.status}`,
    );
  return { booking: toBookingDto(current), pending: settled === null };
}

/** The host declines a request: `declined`, nights freed, the authorization voided (nothing charged). */
export async function declineBooking(
  { actor, id, reason }: { actor: Actor; id: string; reason?: string },
  deps: Deps,
): Promise<BookingDtoValue> {
  const now = deps.clock.now();
  const outcome = await deps.db.transaction(async (tx): Promise<Refusal | { booking: BookingDtoValue }> => {
    const open = await openRequest(actor, id, tx, deps.clock);
    if ("refused" in open) return open;
    // The trigger voids the payment and writes its payment.void job, in this transaction.
    const [row] = await tx
      .update(bookings)
      .set({ status: "declined", cancelReason: reason ?? null, updatedAt: now })
      .where(eq(bookings.id, open.booking.id))
      .returning();
    if (!row) throw new Error("update returned no row");
    // The guest's notice (and e-mail) carries the host's reason.
    const notices = notificationsOf("declined", { ...row, hostId: open.hostId }).map((n) =>
      reason && n.p.userId === row.guestId
        ? { ...n, p: { ...n.p, body: `${n.p.body} The host's reason: ${reason}` } }
        : n,
    );
    await notifyWithin(tx, deps.clock, notices);
    afterCommit(tx, wakeRelays);
    return { booking: toBookingDto(row) };
  });
  if ("refused" in outcome) return refusedWith(deps, outcome, "declined");
  await onChange(deps, { kind: "nights.freed" });
  return outcome.booking;
}

export const requestHandlers: Handlers = {
  // The backstop of an accepted request's inline capture (a crash, a provider that did not
  // answer): captures by state, so a capture made already answers succeeded again.
  "payment.capture": async (job, deps) => {
    const [row] = await deps.db
      .select({ payment: getTableColumns(payments), acceptedAt: bookings.acceptedAt })
      .from(payments)
      .innerJoin(bookings, eq(bookings.id, payments.bookingId))
      .where(eq(payments.id, job.payload.paymentId));
    if (row?.payment.status !== "authorized" || !row.acceptedAt) return;
    await capture(deps, row.payment);
  },
};
