// A bookings row and the Booking of the contract it is answered as.
import type { Static } from "elysia";
import type { bookings } from "../../db/schema";
import type { RuledPrice } from "./pricing";
import type { BookingDto, BookingStatus } from "./schemas";

export type BookingRow = typeof bookings.$inferSelect;
export type BookingDtoValue = Static<typeof BookingDto>;

/** A price's lines as the booking's columns (a snapshot: later rule or rate changes never alter it). */
export function priceColumns(p: RuledPrice) {
  return {
    nights: p.nights,
    nightlyTotal: p.nightlyTotal,
    discountKind: p.discount?.kind ?? null,
    discountPercent: p.discount?.percent ?? null,
    discountAmount: p.discount?.amount ?? 0,
    extraGuestFee: p.extraGuestFee,
    cleaningFee: p.cleaningFee,
    serviceFee: p.serviceFee,
    taxes: p.taxes,
    taxTotal: p.taxes.reduce((sum, t) => sum + t.amount, 0),
    hostPayout: p.hostPayout,
    total: p.total,
    currency: p.currency,
  };
}

/** A price as the Booking's `price` answers it (the quote's too). */
export function priceDto(p: RuledPrice): BookingDtoValue["price"] {
  return {
    nights: p.nights,
    nightlyTotal: p.nightlyTotal,
    discount: p.discount,
    extraGuestFee: p.extraGuestFee,
    cleaningFee: p.cleaningFee,
    serviceFee: p.serviceFee,
    taxes: p.taxes,
    total: p.total,
    hostPayout: p.hostPayout,
    currency: p.currency,
  };
}

export function toBookingDto(b: BookingRow): BookingDtoValue {
  return {
    id: b.id,
    propertyId: b.propertyId,
    guestId: b.guestId,
    checkIn: b.checkIn,
    checkOut: b.checkOut,
    guests: b.guests,
    status: b.status as BookingStatus,
    price: {
      nights: b.nights,
      nightlyTotal: b.nightlyTotal,
      discount:
        b.discountKind === "weekly" || b.discountKind === "monthly"
          ? { kind: b.discountKind, percent: b.discountPercent ?? 0, amount: b.discountAmount }
          : null,
      extraGuestFee: b.extraGuestFee,
      cleaningFee: b.cleaningFee,
      serviceFee: b.serviceFee,
      taxes: b.taxes,
      total: b.total,
      hostPayout: b.hostPayout,
      currency: b.currency,
    },
    expiresAt: b.expiresAt.toISOString(),
    ...(b.status === "cancelled" && b.cancelledAt
      ? {
          cancellation: {
            cancelledAt: b.cancelledAt.toISOString(),
            by: b.cancelledBy === "host" ? ("host" as const) : ("guest" as const),
            ...(b.cancelReason ? { reason: b.cancelReason } : {}),
            refundAmount: b.refundAmount ?? 0,
          },
        }
      : {}),
    ...(b.status === "declined" && b.cancelReason ? { declineReason: b.cancelReason } : {}),
    createdAt: b.createdAt.toISOString(),
    updatedAt: b.updatedAt.toISOString(),
  };
}
