// /bookings: book a stay, read and list bookings, cancel.
import { Elysia, type Static, t } from "elysia";
import type { Deps } from "../../dependencies";
import { authMacro, callerMacro } from "../../http/auth";
import { errorResponses } from "../../http/errors";
import { requestIdOf } from "../../http/foundation";
import {
  IdempotencyHeaders,
  type IdempotentAnswer,
  type IdempotentOperation,
  idempotent,
  restAnswer,
} from "../../http/idempotency";
import { DEFAULT_LIMIT } from "../../http/pagination";
import type { Limited } from "../../http/rate-limit";
import { IdParams } from "../../http/schema";
import type { Caller } from "../auth/actor";
import type { BookingDtoValue } from "./dto";
import { BookingDto, BookingPage, BookingQuery, CancelBookingBody, CreateBookingBody } from "./schemas";
import { cancelBooking, createBooking, getBooking, listBookings } from "./service";

/** POST /bookings under Idempotency-Keys (the route and GraphQL's createBooking share them). */
export const CREATE_BOOKING: IdempotentOperation = { route: "POST /bookings", status: 201 };

/**
 * createBooking at most once per key: REST's POST /bookings and GraphQL's createBooking. With the
 * answer, the holds limit's RateLimit-* headers (none for a replay: it made no hold, counted nothing).
 */
export async function createBookingOnce(
  deps: Deps,
  r: { caller: Caller; key: string | undefined; input: Static<typeof CreateBookingBody>; requestId?: string },
): Promise<Limited<IdempotentAnswer<BookingDtoValue>>> {
  const { caller, input } = r;
  let headers: Record<string, string> = {};
  const value = await idempotent(
    deps,
    { userId: caller.id, operation: CREATE_BOOKING, key: r.key, request: input, requestId: r.requestId },
    async (claim) => {
      const made = await createBooking({ caller, input, claim }, deps);
      headers = made.headers;
      return made.value;
    },
  );
  return { value, headers };
}

export function bookingRoutes(deps: Deps) {
  const tags = ["bookings"];
  return new Elysia({ prefix: "/bookings" })
    .use(authMacro(deps))
    .use(callerMacro(deps))
    .post(
      "",
      async ({ caller, body, headers, set, request }) => {
        set.status = CREATE_BOOKING.status;
        const key = headers["idempotency-key"];
        const made = await createBookingOnce(deps, { caller, key, input: body, requestId: requestIdOf(request) });
        Object.assign(set.headers, made.headers);
        return restAnswer(made.value);
      },
      {
        // The token alone here: the booking's own read takes the account's checks (one round trip fewer).
        caller: true,
        headers: IdempotencyHeaders,
        body: CreateBookingBody,
        response: {
          201: BookingDto,
          ...errorResponses(
            "not_found",
            "dates_unavailable",
            "conflict",
            "email_unverified",
            "too_many_holds",
            "rate_limited",
          ),
        },
        detail: {
          tags,
          summary: "Book a stay",
          description:
            "Holds the nights for 15 minutes (status pending_payment, expiresAt) at a price the server computes: each night's price (override or pricePerNight), " +
            "the cleaning fee, and a 10 % service fee rounded half up, in the listing's currency. " +
            "409 dates_unavailable when a held or confirmed stay overlaps (checkOut is exclusive: back-to-back stays are fine); " +
            "422 for a check-in in the past, checkOut ≤ checkIn, nights outside the listing's min/max, too many guests, a blocked night, an unlisted or one's own property; " +
            "404 for an unknown propertyId; 429 too_many_holds while the caller holds MAX_PENDING_BOOKINGS (default 3) unpaid bookings. " +
            "How many holds one makes is limited too: BOOKING_HOLDS_PER_HOUR (default 10) per guest and BOOKING_HOLDS_PER_LISTING_PER_DAY (default 5) per guest and listing, " +
            "counting only holds made (not refusals, not replays); past either, 429 rate_limited with Retry-After. The RateLimit-* headers (not on a replay) show the tighter of the two.",
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
        // Due bookings are settled on sight (a write): a database rule may answer 409 conflict.
        response: { 200: BookingPage, ...errorResponses("conflict") },
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
      response: { 200: BookingDto, ...errorResponses("not_found", "conflict") },
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
            "409 invalid_state unless the booking is pending_payment, requested (not yet accepted by its host; its authorization is voided, nothing charged) or confirmed.",
        },
      },
    );
}
