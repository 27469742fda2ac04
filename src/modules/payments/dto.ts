// A payments row and the Payment of the contract it is answered as.
import type { Static } from "elysia";
import type { payments } from "../../db/schema";
import type { PaymentDto, PaymentStatus } from "./schemas";

export type PaymentRow = typeof payments.$inferSelect;
export type PaymentDtoValue = Static<typeof PaymentDto>;

export function toPaymentDto(p: PaymentRow): PaymentDtoValue {
  return {
    id: p.id,
    bookingId: p.bookingId,
    amount: p.amount,
    currency: p.currency,
    status: p.status as PaymentStatus,
    ...(p.failureCode ? { failureCode: p.failureCode } : {}),
    refundedAmount: p.refundedAmount,
    ...(p.disputedAt ? { disputedAt: p.disputedAt.toISOString() } : {}),
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

/** What a refunded total makes of a settled payment's status. */
export function refundedStatus(amount: number, refunded: number): PaymentStatus {
  return refunded >= amount ? "refunded" : refunded > 0 ? "partially_refunded" : "succeeded";
}
