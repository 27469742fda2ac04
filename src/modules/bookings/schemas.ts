// Booking DTOs: the request bodies allowed, and the Booking of the contract.
import { type Static, t } from "elysia";
import { Page, PageQuery } from "../../http/pagination";
import { Int, Nullable, strictObject, Timestamp, Uuid } from "../../http/schema";

export const BookingStatusSchema = t.Union([
  t.Literal("pending_payment"),
  t.Literal("requested"),
  t.Literal("confirmed"),
  t.Literal("completed"),
  t.Literal("expired"),
  t.Literal("cancelled"),
  t.Literal("declined"),
]);
export type BookingStatus = Static<typeof BookingStatusSchema>;
/** Who a booking is seen as: its guest, or the property's host. */
export const BookingRoleSchema = t.Union([t.Literal("guest"), t.Literal("host")]);

const Day = (description = "YYYY-MM-DD") => t.String({ format: "date", description });
const Amount = Int({ minimum: 0, description: "minor units (cents)" });

export const CreateBookingBody = strictObject(
  {
    // Not format uuid: an id that names no property, well-formed or not, is the contract's 404.
    propertyId: t.String({
      minLength: 1,
      maxLength: 64,
      description: "the property's id (UUID); one that does not exist → 404",
    }),
    checkIn: Day("the first night, YYYY-MM-DD; today or later (service clock, UTC)"),
    checkOut: Day("the day the stay ends (exclusive), YYYY-MM-DD"),
    guests: Int({ minimum: 1, maximum: 50, description: "1 to the listing's maxGuests" }),
  },
  {
    title: "CreateBooking",
    examples: [
      { propertyId: "01934f3e-7b2a-7c3d-9e4f-5a6b7c8d9e0f", checkIn: "2031-07-01", checkOut: "2031-07-04", guests: 2 },
    ],
  },
);

export const CancelBookingBody = strictObject(
  { reason: t.Optional(t.String({ minLength: 1, maxLength: 500, description: "shown to the other party" })) },
  { title: "CancelBooking", examples: [{ reason: "Plans changed" }] },
);

export const DeclineBookingBody = strictObject(
  { reason: t.Optional(t.String({ minLength: 1, maxLength: 500, description: "shown to the guest" })) },
  { title: "DeclineBooking", examples: [{ reason: "The dates no longer suit us" }] },
);

export const PriceDto = t.Object(
  {
    nights: Int({ minimum: 1 }),
    nightlyTotal: Amount,
    discount: Nullable(
      t.Object(
        {
          kind: t.Union([t.Literal("weekly"), t.Literal("monthly")]),
          percent: Int({ minimum: 1, maximum: 90 }),
          amount: Amount,
        },
        { description: "the length-of-stay discount of nightlyTotal (7+ nights weekly, 28+ monthly); null when none" },
      ),
    ),
    extraGuestFee: Int({
      minimum: 0,
      description: "minor units: the fee per night per guest above the listing's guestsIncluded; never discounted",
    }),
    cleaningFee: Amount,
    serviceFee: Amount,
    taxes: t.Array(t.Object({ name: t.String(), amount: Amount }), {
      description: "occupancy taxes, as priced when booked",
    }),
    total: Amount,
    hostPayout: Int({
      minimum: 0,
      description:
        "minor units the host earns: nightlyTotal − discount + extraGuestFee + cleaningFee, less HOST_FEE_PERCENT of it",
    }),
    currency: t.String({ pattern: "^[A-Z]{3}$", description: "ISO 4217" }),
  },
  {
    title: "BookingPrice",
    description:
      "total = nightlyTotal − discount.amount + extraGuestFee + cleaningFee + serviceFee + the taxes; each line rounded half up once",
  },
);

export const CancellationDto = t.Object(
  {
    cancelledAt: Timestamp,
    by: BookingRoleSchema,
    reason: t.Optional(t.String()),
    refundAmount: Amount,
  },
  { title: "Cancellation" },
);

export const BookingDto = t.Object(
  {
    id: Uuid,
    propertyId: Uuid,
    guestId: Uuid,
    checkIn: Day(),
    checkOut: Day(),
    guests: Int({ minimum: 1 }),
    status: BookingStatusSchema,
    price: PriceDto,
    expiresAt: Timestamp,
    cancellation: t.Optional(CancellationDto),
    declineReason: t.Optional(t.String({ description: "a declined request: the host's reason, when one was given" })),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: "Booking" },
);

export const BookingPage = Page(BookingDto, "BookingPage");

export const BookingQuery = t.Object({
  as: t.Optional(
    t.Union([...BookingRoleSchema.anyOf], {
      default: "guest",
      description: "guest: the caller's stays; host: stays at the caller's properties",
    }),
  ),
  status: t.Optional(t.Union([...BookingStatusSchema.anyOf], { description: "only bookings in this status" })),
  ...PageQuery,
});

export const QuoteQuery = t.Object({
  checkIn: Day("the first night, YYYY-MM-DD; today or later (service clock, UTC)"),
  checkOut: Day("the day the stay ends (exclusive), YYYY-MM-DD"),
  guests: t.Optional(Int({ minimum: 1, maximum: 50, description: "1 to the listing's maxGuests; default 1" })),
});

export const QuoteDto = t.Object(
  {
    checkIn: t.String({ format: "date" }),
    checkOut: t.String({ format: "date" }),
    guests: Int({ minimum: 1 }),
    nights: t.Array(t.Object({ date: t.String({ format: "date" }), price: Amount })),
    price: PriceDto,
    available: t.Boolean({
      description: "false when another stay holds some of these nights (where POST /bookings answers 409)",
    }),
    instantBook: t.Boolean(),
  },
  {
    title: "Quote",
    description:
      "What POST /bookings would charge for this stay now: the same rules (the same 422s) and the same price, from the same read of the listing.",
  },
);
