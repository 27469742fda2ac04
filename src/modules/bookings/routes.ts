// /bookings: book a stay, read and list bookings, cancel.
import { Elysia, t } from "elysia";
import type { Deps } from "../../dependencies";
import { authMacro } from "../../http/auth";
import { errorResponses } from "../../http/errors";
import { requestIdOf } from "../../http/foundation";
import { IdempotencyHeaders, idempotently } from "../../http/idempotency";
import { DEFAULT_LIMIT } from "../../http/pagination";
import { IdParams } from "../../http/schema";
import { BookingDto, BookingPage, BookingQuery, CancelBookingBody, CreateBookingBody } from "./schemas";
import { cancelBooking, createBooking, getBooking, listBookings } from "./service";

export function bookingRoutes(deps: Deps) {
  const tags = ["bookings"];
  return new Elysia({ prefix: "/bookings" })
    .use(authMacro(deps))
    .post(
      "",
      async ({ actor, body, headers, set, request }) => {
        set.status = 201;
        const key = headers["idempotency-key"];
        return idempotently(
          deps,
          {
            userId: actor.id,
            key,
            route: "POST /bookings",
            request: body,
            status: 201,
            requestId: requestIdOf(request),
          },
          (claim) => createBooking({ actor, input: body, claim }, deps),
        );
      },
      {
        auth: true,
        headers: IdempotencyHeaders,
        body: CreateBookingBody,
        response: {
          201: BookingDto,
          ...errorResponses("not_found", "dates_unavailable", "conflict", "email_unverified", "too_many_holds"),
        },
        detail: {
          tags,
          summary: "Book a stay",
          description:
            "Holds the nights for 15 minutes (status pending_payment, expiresAt) at a price the server computes: each night's price (override or pricePerNight), " +
            "the cleaning fee, and a 10 % service fee rounded half up, in the listing's currency. " +
            "409 dates_unavailable when a held or confirmed stay overlaps (checkOut is exclusive: back-to-back stays are fine); " +
            "422 for a check-in in the past, checkOut ≤ checkIn, nights outside the listing's min/max, too many guests, a blocked night, an unlisted or one's own property; " +
            "404 for an unknown propertyId; 429 too_many_holds while the caller holds MAX_PENDING_BOOKINGS (default 3) unpaid bookings.",
          "x-rate-limit-headers": false,
        },
      },
    )
    .get(
      "",
      ({ actor, query }) =>
        listBookings(
          {
            actor,
            as: query.as ?? "guest",
            status: query.status,
            limit: query.limit ?? DEFAULT_LIMIT,
            cursor: query.cursor,
          },
          deps,
        ),
      {
        auth: true,
        query: BookingQuery,
        response: { 200: BookingPage, ...errorResponses() },
        detail: {
          tags,
          summary: "The caller's bookings, newest first",
          description: "as=guest (default): the caller's stays; as=host: stays at the caller's properties.",
        },
      },
    )
    .get("/:id", ({ actor, params }) => getBooking({ actor, id: params.id }, deps), {
      auth: true,
      params: IdParams,
      response: { 200: BookingDto, ...errorResponses("not_found") },
      detail: {
        tags,
        summary: "A booking (its guest or the property's host)",
        description: "Anyone else gets 404, as for an id that does not exist.",
      },
    })
    .post(
      "/:id/cancel",
      ({ actor, params, body }) => cancelBooking({ actor, id: params.id, reason: body?.reason }, deps),
      {
        auth: true,
        params: IdParams,
        body: t.Optional(CancelBookingBody),
        response: { 200: BookingDto, ...errorResponses("not_found", "invalid_state") },
        detail: {
          tags,
          summary: "Cancel a booking (its guest or host)",
          description:
            "Frees the nights at once. refundAmount follows the cancellation policy agreed at booking (check-in at 15:00 UTC): flexible — full until 24 h before, then nothing; " +
            "moderate — full until 5 days before, then 50 %; strict — 50 % until 7 days before, then nothing. The host cancelling refunds in full; an unpaid hold refunds nothing. " +
            "409 invalid_state unless the booking is pending_payment or confirmed.",
        },
      },
    );
}
