// A bookings row and the Booking of the contract it is answered as.
import type { Static } from "elysia";
import type { bookings } from "../../db/schema";
import type { BookingDto, BookingStatus } from "./schemas";

export type BookingRow = typeof bookings.$inferSelect;
export type BookingDtoValue = Static<typeof BookingDto>;

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
      cleaningFee: b.cleaningFee,
      serviceFee: b.serviceFee,
      total: b.total,
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
    createdAt: b.createdAt.toISOString(),
    updatedAt: b.updatedAt.toISOString(),
  };
}
