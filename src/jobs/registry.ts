// Job type → payload: the one list that `enqueue` and every handler are checked against by the
// compiler (no payload casts). Types only: domain modules import it, it imports no module.
import type { Job, JobDeps } from "./types";

export interface NotifyPayload {
  userId: string;
  type: string;
  title: string;
  body: string;
  data?: Record<string, unknown>;
  /** Also send it by e-mail to the user's address. */
  email?: boolean;
}

export interface JobPayloads {
  notify: NotifyPayload;
  /** Several notifications of one event (e.g. a booking's guest and host): one job, one insert. */
  "notify.many": { notifications: NotifyPayload[] };
  /** The e-mails of notifications already written (by their keys), each sent once. */
  "notify.email": { dedupeKeys: string[] };
  /** No effect: the scheduler's heartbeat and the benchmark's no-op. */
  "jobs.noop": { slot?: number };
  /** A password reset was asked for this address: a token and its e-mail, if an active account has it. */
  "auth.password-reset": { email: string };
  /** Mail this user a token that verifies their address (at registration, and on request). */
  "auth.verify-email": { userId: string };
  /** A hold's 15 minutes are up: expire it unless it was paid or cancelled meanwhile. */
  "booking.expire": { bookingId: string };
  /** A cancelled booking's refund (the payments module executes it). */
  "booking.refund": { bookingId: string; amount: number; currency: string };
  /** Charge a processing payment through the provider (its key is derived from the payment id). */
  "payment.charge": { paymentId: string };
  /** Capture the authorization of a request its host accepted (the backstop of the inline capture). */
  "payment.capture": { paymentId: string };
  /** Release at the provider the authorization of a request that ended (its payment is voided already). */
  "payment.void": { paymentId: string };
  /** Give back in full a charge that landed for nights no longer held (expired or cancelled meanwhile). */
  "payment.refund": { paymentId: string; amount: number };
  /** Recurring: charge again (same key) payments still processing long after they were made. */
  "payments.sweep": { slot: number };
  /** A captured booking's host part, pending → available, PAYOUT_RELEASE_HOURS after check-in. */
  "ledger.release": { bookingId: string };
  /** Ask the provider to pay a pending payout (its key: the payout's id). */
  "payout.send": { payoutId: string };
  /** Recurring (daily): a payout for every host and currency with enough available. */
  "payouts.run": { slot: number };
  /** Recurring: compare our payments with the provider's ledger; /metrics reports the mismatches. */
  "payments.reconcile": { slot: number };
  /** Recurring: expire overdue holds, complete finished stays (the backstop of the per-booking jobs). */
  "bookings.sweep": { slot: number };
  /**
   * Nights of a property freed, or its terms eased (null bounds: every night), while alerts wait
   * there: notify the alerts whose whole stay can be booked now. Written by the database
   * (stayhub_alerts_freed) in the change's transaction, and by an alert's creation.
   */
  "alerts.check": { propertyId: string; from: string | null; to: string | null };
  /** Recurring: alerts whose check-in day has passed are expired. */
  "alerts.expire": { slot: number };
  /** Recurring: forget idempotency keys past their retention. */
  "idempotency.cleanup": { slot: number };
  // TEST_JOBS=1 only.
  "test.flaky": { userId: string; failTimes?: number };
  "test.sleep": { userId: string; ms?: number };
  "test.effect": { userId: string };
}

export type JobType = keyof JobPayloads;

export type JobOf<T extends JobType> = Omit<Job, "type" | "payload"> & { type: T; payload: JobPayloads[T] };

export type HandlerOf<T extends JobType> = (job: JobOf<T>, deps: JobDeps) => Promise<void>;

/** What a module exports and the composition root merges: handlers for some job types. */
export type Handlers = { [T in JobType]?: HandlerOf<T> };

/** A job of the registry's, or one the registry does not know (a newer deploy's, a typo). */
export const isJobType = (type: string, handlers: Handlers): type is JobType => Object.hasOwn(handlers, type);
