// Payment DTOs: the pay request, the Payment of the contract, and the webhook event.
import { type Static, t } from "elysia";
import { idempotencyKeySchema } from "../../http/idempotency";
import { Page, PageOnlyQuery } from "../../http/pagination";
import { BearerHeader, Int, strictObject, Timestamp, Uuid } from "../../http/schema";

export const PaymentStatusSchema = t.Union([
  t.Literal("processing"),
  t.Literal("authorized"),
  t.Literal("succeeded"),
  t.Literal("failed"),
  t.Literal("voided"),
  t.Literal("refunded"),
  t.Literal("partially_refunded"),
]);
export type PaymentStatus = Static<typeof PaymentStatusSchema>;

const Amount = Int({ minimum: 0, description: "minor units (cents)" });

export const PayBody = strictObject(
  {
    paymentMethod: t.String({
      pattern: "^pm_[A-Za-z0-9_]{1,100}$",
      description:
        "A payment-method token (pm_…), never a card number. The simulated provider's test tokens: pm_card_visa succeeds; pm_card_declined fails card_declined; " +
        "pm_card_insufficient_funds fails insufficient_funds; pm_card_processing_error fails transiently (retried with backoff, then processing_error); any other token fails invalid_payment_method.",
    }),
  },
  { title: "PayBooking", examples: [{ paymentMethod: "pm_card_visa" }] },
);

/** Required on POST /bookings/:id/payments (the contract: missing → 422). */
export const PaymentIdempotencyHeaders = t.Object({
  ...BearerHeader,
  "idempotency-key": idempotencyKeySchema(
    "Required. A retry with the same key and body replays the first answer (Idempotent-Replayed: true); another body → 422 idempotency_key_reused; still running → 409 idempotency_in_progress.",
  ),
});

export const PaymentDto = t.Object(
  {
    id: Uuid,
    bookingId: Uuid,
    amount: Int({ minimum: 1, description: "minor units (cents): the booking's total, as stored when it was made" }),
    currency: t.String({ pattern: "^[A-Z]{3}$", description: "ISO 4217" }),
    status: PaymentStatusSchema,
    failureCode: t.Optional(
      t.String({
        description:
          "why a failed payment failed: card_declined, insufficient_funds, processing_error, invalid_payment_method",
      }),
    ),
    refundedAmount: Amount,
    disputedAt: t.Optional(Timestamp),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: "Payment" },
);

export const PaymentPage = Page(PaymentDto, "PaymentPage");
export const PaymentListQuery = PageOnlyQuery;

export const WebhookEventBody = t.Object(
  {
    id: t.String({
      minLength: 1,
      maxLength: 255,
      description: "the event id (evt_…): a replayed id is answered 200 and changes nothing",
    }),
    type: t.String({
      minLength: 1,
      maxLength: 100,
      description:
        "charge.succeeded, charge.failed, charge.refunded, charge.dispute_created, charge.authorized, charge.captured, charge.voided, payout.paid, payout.failed; other types are acknowledged and ignored",
    }),
    created: Int({ minimum: 0, description: "unix seconds" }),
    data: t.Object(
      {
        paymentId: t.Optional(
          t.String({ minLength: 1, maxLength: 64, description: "our payment id (charge.* events)" }),
        ),
        payoutId: t.Optional(t.String({ minLength: 1, maxLength: 64, description: "our payout id (payout.* events)" })),
        amount: t.Optional(
          Int({
            minimum: 0,
            maximum: 2_147_483_647,
            description: "charge.refunded: the charge's refunded total so far (minor units); absent → all of it",
          }),
        ),
        failureCode: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
      },
      // A provider adds fields over time: what we do not read is no reason to refuse its event.
      { additionalProperties: true },
    ),
  },
  {
    title: "PaymentWebhookEvent",
    additionalProperties: true,
    examples: [
      {
        id: "evt_01934f3e7b2a",
        type: "charge.succeeded",
        created: 1_798_761_600,
        data: { paymentId: "01934f3e-7b2a-7c3d-9e4f-5a6b7c8d9e0f" },
      },
    ],
  },
);
export type WebhookEventValue = Static<typeof WebhookEventBody>;

/** What a webhook event did: applied, or why not. */
export const WebhookOutcome = t.Union(
  [
    t.Literal("applied"),
    t.Literal("no_change"),
    t.Literal("unknown_payment"),
    t.Literal("unknown_payout"),
    t.Literal("amount_mismatch"),
    t.Literal("ignored_type"),
  ],
  {
    description:
      "what the event did: applied, or why not (no_change: nothing left to change; unknown_payment, unknown_payout: no such payment or payout of ours; amount_mismatch: a charge.succeeded for another amount, not applied; ignored_type: an event type we do not act on)",
  },
);
export type WebhookOutcome = Static<typeof WebhookOutcome>;

export const WebhookAnswer = t.Object(
  {
    received: t.Literal(true),
    replayed: t.Boolean({ description: "true when this event id was received before (nothing changed this time)" }),
    outcome: WebhookOutcome,
  },
  { title: "PaymentWebhookAnswer" },
);

// Required: an event without it is refused (400 invalid_signature, checked before the body is read).
export const WebhookHeaders = t.Object({
  "payment-signature": t.String({
    description: 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with PAYMENT_WEBHOOK_SECRET>',
  }),
});
