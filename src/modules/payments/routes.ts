// /bookings/:id/payments, /payments/:id and the provider's /webhooks/payments.
import { Elysia, type Static, t } from "elysia";
import { onChange } from "../../cache/invalidation";
import type { Deps } from "../../dependencies";
import { authMacro } from "../../http/auth";
import { AppError, errorResponses, notFound } from "../../http/errors";
import { rawBodyOf, requestIdOf } from "../../http/foundation";
import { type IdempotentAnswer, type IdempotentOperation, idempotent, restAnswer } from "../../http/idempotency";
import { DEFAULT_LIMIT } from "../../http/pagination";
import type { Limited } from "../../http/rate-limit";
import { IdParams } from "../../http/schema";
import { systemClock } from "../../lib/clock";
import type { Actor } from "../auth/actor";
import { BookingDto, DeclineBookingBody } from "../bookings/schemas";
import type { PaymentDtoValue } from "./dto";
import { chargeInline } from "./inline-charge";
import { type WebhookEvent, WebhookSignatureError } from "./provider";
import { lastMismatches } from "./reconcile";
import { acceptBooking, declineBooking } from "./requests";
import {
  PayBody,
  PaymentDto,
  PaymentIdempotencyHeaders,
  PaymentListQuery,
  PaymentPage,
  WebhookAnswer,
  WebhookEventBody,
  WebhookHeaders,
} from "./schemas";
import { getPayment, listBookingPayments, payBooking, receiveWebhook } from "./service";

/** How far a webhook's signed timestamp may be from now (the contract: 5 minutes). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** POST /bookings/:id/payments under Idempotency-Keys (the route and GraphQL's payBooking share them). */
export const PAY_BOOKING: IdempotentOperation = { route: "POST /bookings/:id/payments", status: 202 };

/**
 * payBooking at most once per key: REST's POST /bookings/:id/payments and GraphQL's payBooking. With
 * the answer, the attempt limits' RateLimit-* headers (none for a replay: no attempt, nothing counted).
 */
export async function payBookingOnce(
  deps: Deps,
  r: { actor: Actor; bookingId: string; key: string; input: Static<typeof PayBody>; requestId?: string },
): Promise<Limited<IdempotentAnswer<PaymentDtoValue>>> {
  const { actor, bookingId, input } = r;
  let headers: Record<string, string> = {};
  const value = await idempotent(
    deps,
    { userId: actor.id, operation: PAY_BOOKING, key: r.key, request: { bookingId, ...input }, requestId: r.requestId },
    async (claim) => {
      const paid = await payBooking({ actor, bookingId, paymentMethod: input.paymentMethod, claim }, deps);
      headers = paid.headers;
      // Committed: the provider is asked now, outside any transaction (the job backs it up).
      if (paid.charge) void chargeInline(deps, paid.charge);
      return paid.value;
    },
    { within: true },
  );
  return { value, headers };
}

export function paymentRoutes(deps: Deps) {
  const tags = ["payments"];
  deps.metrics.setMismatchProbe(() => lastMismatches(deps.db));
  // Fresh by the wall clock, or by the service clock when a test clock moved it (the two are one
  // without TEST_CLOCK): a test that signs "now" on either clock is believed, a stale one is not.
  const isFresh = (t: number) =>
    [systemClock.now(), deps.clock.now()].some(
      (now) => Math.abs(Math.floor(now.getTime() / 1000) - t) <= WEBHOOK_TOLERANCE_SECONDS,
    );
  return new Elysia()
    .use(authMacro(deps))
    .post(
      "/bookings/:id/payments",
      async ({ actor, params, body, headers, set, request }) => {
        set.status = PAY_BOOKING.status;
        const key = headers["idempotency-key"];
        const paid = await payBookingOnce(deps, {
          actor,
          bookingId: params.id,
          key,
          input: body,
          requestId: requestIdOf(request),
        });
        Object.assign(set.headers, paid.headers);
        return restAnswer(paid.value);
      },
      {
        auth: true,
        params: IdParams,
        headers: PaymentIdempotencyHeaders,
        body: PayBody,
        response: { 202: PaymentDto, ...errorResponses("not_found", "invalid_state", "rate_limited") },
        detail: {
          tags,
          summary: "Pay for a booking (its guest)",
          description:
            "Creates a processing payment of the booking's stored total and charges it in a background job; poll GET /payments/:id or the booking " +
            "(confirmed once the charge succeeds). On a listing with instantBook false the card is only authorized: the payment becomes authorized and the booking requested " +
            "for REQUEST_EXPIRY_HOURS (default 24), until its host accepts (captured: succeeded, confirmed) or declines (voided, declined); unanswered, it expires (voided). A declined charge leaves the booking pending_payment until its hold expires: pay again with another method and a new key. " +
            "A charge that lands after the hold expired or the booking was cancelled is refunded in full. Idempotency-Key is required (missing → 422). " +
            "409 invalid_state when the booking is not pending_payment or already has a processing or succeeded payment; anyone but the booking's guest → 404. " +
            "Attempts are limited (card testing): PAYMENT_ATTEMPTS_PER_BOOKING (default 5) per booking, PAYMENT_ATTEMPTS_PER_USER_PER_HOUR (default 10) and " +
            "PAYMENT_FAILURES_PER_USER_PER_HOUR (default 5 declined or failed charges) per guest in the last hour; past one of them, 429 rate_limited with Retry-After " +
            "(the 409s above come first). Replays of a key count for nothing; the RateLimit-* headers (not on a replay) show the tightest limit.",
        },
      },
    )
    .post(
      "/bookings/:id/accept",
      async ({ actor, params, set }) => {
        const { booking, pending } = await acceptBooking({ actor, id: params.id }, deps);
        set.status = pending ? 202 : 200;
        return booking;
      },
      {
        auth: true,
        params: IdParams,
        response: { 200: BookingDto, 202: BookingDto, ...errorResponses("not_found", "invalid_state") },
        detail: {
          tags: ["bookings"],
          summary: "Accept a request to book (the property's host)",
          description:
            "Captures the request's authorized payment: 200 with the booking confirmed. 409 invalid_state unless the booking is requested and not yet answered " +
            "(declined, expired, cancelled by the guest, accepted already), and when the provider refuses the capture (an authorization it let lapse: the request then expires). " +
            "202 with the booking still requested when the provider did not answer: the capture is retried in the background, and nothing else may end the request meanwhile. " +
            "Anyone but the property's host → 404.",
        },
      },
    )
    .post(
      "/bookings/:id/decline",
      ({ actor, params, body }) => declineBooking({ actor, id: params.id, reason: body?.reason }, deps),
      {
        auth: true,
        params: IdParams,
        body: t.Optional(DeclineBookingBody),
        response: { 200: BookingDto, ...errorResponses("not_found", "invalid_state") },
        detail: {
          tags: ["bookings"],
          summary: "Decline a request to book (the property's host)",
          description:
            "The booking becomes declined, its nights free at once, its payment voided (nothing is charged; the provider releases the authorization). " +
            "409 invalid_state unless the booking is requested and not yet accepted. Anyone but the property's host → 404.",
        },
      },
    )
    .get(
      "/bookings/:id/payments",
      ({ actor, params, query }) =>
        listBookingPayments(
          { actor, bookingId: params.id, limit: query.limit ?? DEFAULT_LIMIT, cursor: query.cursor },
          deps,
        ),
      {
        auth: true,
        params: IdParams,
        query: PaymentListQuery,
        response: { 200: PaymentPage, ...errorResponses("not_found") },
        detail: {
          tags,
          summary: "A booking's payments, newest first (its guest or host)",
          description: "Anyone else gets 404, as for a booking that does not exist.",
        },
      },
    )
    .get("/payments/:id", ({ actor, params }) => getPayment({ actor, id: params.id }, deps), {
      auth: true,
      params: IdParams,
      response: { 200: PaymentDto, ...errorResponses("not_found") },
      detail: {
        tags,
        summary: "A payment (the payer or the property's host)",
        description: "Anyone else gets 404, as for an id that does not exist.",
      },
    })
    .post(
      "/webhooks/payments",
      async ({ body }) => {
        // The simulated provider's books follow a verified event (it was its decision); then ours.
        await deps.payments.observe?.(body as WebhookEvent);
        const { replayed, outcome, freed } = await receiveWebhook(deps, body);
        if (freed) await onChange(deps, { kind: "nights.freed" });
        return { received: true as const, replayed, outcome };
      },
      {
        headers: WebhookHeaders,
        body: WebhookEventBody,
        // Before the body is validated: an unsigned request learns nothing, and changes nothing.
        transform({ request }) {
          const secret = deps.config.paymentWebhookSecret;
          if (!secret) throw notFound("Route");
          try {
            deps.payments.verifyWebhook(rawBodyOf(request), request.headers.get("payment-signature"), secret, isFresh);
          } catch (err) {
            if (err instanceof WebhookSignatureError) throw new AppError(400, "invalid_signature", err.message);
            throw err;
          }
        },
        response: { 200: WebhookAnswer, ...errorResponses("invalid_signature", "not_found") },
        detail: {
          tags,
          summary: "The payment provider's events (signed)",
          description:
            'Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with PAYMENT_WEBHOOK_SECRET>; a missing, malformed or wrong signature, ' +
            "or a timestamp more than 5 minutes away → 400 invalid_signature, and nothing changes. A replayed event id → 200 replayed: true, nothing changes. " +
            "charge.succeeded / charge.failed settle a processing payment; charge.refunded records the charge's refunded total (data.amount, absent → all); " +
            "charge.dispute_created marks the payment disputed and tells the host; charge.authorized settles a processing payment of a request-to-book listing as authorized (the booking becomes requested); " +
            "charge.captured and charge.voided settle an authorized one (confirmed; or the request expires). 404 when PAYMENT_WEBHOOK_SECRET is not configured. " +
            "`stayhub webhook sign --secret S < event.json` prints a header.",
          "x-rate-limit-headers": false,
        },
      },
    );
}
