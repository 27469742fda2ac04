// The account's own requests and answers: deleting it, and everything stored about it.
import { t } from "elysia";
import { Int, Nullable, strictObject, Timestamp, Uuid } from "../../http/schema";
import { BookingDto } from "../bookings/schemas";
import { NotificationDto } from "../notifications/schemas";
import { PaymentDto } from "../payments/schemas";
import { PropertyDto } from "../properties/schemas";
import { GuestReviewDto, ReviewDto } from "../reviews/schemas";
import { AlertDto } from "../wishlists/schemas";
import { UserDto } from "./schemas";

export const DeleteAccountBody = strictObject(
  { password: t.String({ minLength: 1, maxLength: 128, description: "the current password, to confirm" }) },
  { title: "DeleteAccount", examples: [{ password: "correct horse battery" }] },
);

export const AccountExportDto = t.Object(
  {
    exportedAt: Timestamp,
    user: t.Object({
      ...UserDto.properties,
      guestRatingSum: Int({ minimum: 0 }),
      guestReviewCount: Int({ minimum: 0 }),
      updatedAt: Timestamp,
    }),
    sessions: t.Array(t.Object({ createdAt: Timestamp, expiresAt: Timestamp, active: t.Boolean() }), {
      description: "refresh-token sessions (the tokens themselves are never stored)",
    }),
    properties: t.Array(PropertyDto, { description: "the listings the user hosts, listed or not" }),
    bookings: t.Array(BookingDto, { description: "stays booked as a guest" }),
    hostedBookings: t.Array(BookingDto, { description: "bookings of the user's listings" }),
    payments: t.Array(PaymentDto),
    reviews: t.Array(ReviewDto, { description: "reviews written as a guest" }),
    guestReviewsWritten: t.Array(GuestReviewDto, { description: "reviews of guests written as a host" }),
    guestReviewsReceived: t.Array(GuestReviewDto, { description: "hosts' reviews of the user as a guest" }),
    notifications: t.Array(NotificationDto),
    reviewResponses: t.Array(t.Object({ reviewId: Uuid, comment: t.String(), createdAt: Timestamp }), {
      description: "the host's answers to reviews of their listings",
    }),
    moderation: t.Array(t.Object({ action: t.String(), reason: Nullable(t.String()), createdAt: Timestamp }), {
      description: "admin actions taken on the account",
    }),
    wishlists: t.Array(t.Object({ id: Uuid, name: t.String(), createdAt: Timestamp, propertyIds: t.Array(Uuid) }), {
      description: "the user's wishlists, each with the listings saved on it (oldest saved first)",
    }),
    alerts: t.Array(AlertDto, { description: "the user's date alerts" }),
  },
  { title: "AccountExport" },
);
