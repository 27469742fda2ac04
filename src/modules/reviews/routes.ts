// /bookings/:id/reviews, /bookings/:id/guest-review, /reviews/:id/response, and the review lists
// of a property and of a guest.
import { Elysia } from "elysia";
import type { Deps } from "../../dependencies";
import { authMacro, optionalActor } from "../../http/auth";
import { errorResponses } from "../../http/errors";
import { DEFAULT_LIMIT } from "../../http/pagination";
import { IdParams } from "../../http/schema";
import {
  GuestReviewDto,
  GuestReviewPage,
  ResponseBody,
  ReviewBody,
  ReviewDto,
  ReviewListQuery,
  ReviewPage,
} from "./schemas";
import {
  createGuestReview,
  createReview,
  listGuestReviews,
  listPropertyReviews,
  REVIEW_WINDOW_DAYS,
  respondToReview,
} from "./service";

export function reviewRoutes(deps: Deps) {
  const tags = ["reviews"];
  const window = `within ${REVIEW_WINDOW_DAYS} days after its checkout day (service clock, UTC)`;
  return new Elysia()
    .use(authMacro(deps))
    .post(
      "/bookings/:id/reviews",
      async ({ actor, params, body, set }) => {
        set.status = 201;
        return createReview({ actor, bookingId: params.id, rating: body.rating, comment: body.comment }, deps);
      },
      {
        auth: true,
        params: IdParams,
        body: ReviewBody,
        response: { 201: ReviewDto, ...errorResponses("not_found", "already_reviewed") },
        detail: {
          tags,
          summary: "Review a stay (its guest)",
          description:
            `Only for a completed booking, ${window}; else 422 saying why. One review per booking: 409 already_reviewed. ` +
            "The property's ratingAverage and reviewCount include it at once. Anyone but the booking's guest → 404.",
        },
      },
    )
    .post(
      "/bookings/:id/guest-review",
      async ({ actor, params, body, set }) => {
        set.status = 201;
        return createGuestReview({ actor, bookingId: params.id, rating: body.rating, comment: body.comment }, deps);
      },
      {
        auth: true,
        params: IdParams,
        body: ReviewBody,
        response: { 201: GuestReviewDto, ...errorResponses("not_found", "already_reviewed") },
        detail: {
          tags,
          summary: "Review the guest of a stay (the property's host)",
          description: `The same rules as a guest's review: a completed booking, ${window}, once (409 already_reviewed). Anyone but the property's host → 404.`,
        },
      },
    )
    .post(
      "/reviews/:id/response",
      async ({ actor, params, body, set }) => {
        set.status = 201;
        return respondToReview({ actor, reviewId: params.id, comment: body.comment }, deps);
      },
      {
        auth: true,
        params: IdParams,
        body: ResponseBody,
        response: { 201: ReviewDto, ...errorResponses("not_found", "already_reviewed") },
        detail: {
          tags,
          summary: "Answer a review (the property's host)",
          description:
            "Once: a second answer is 409 already_responded. Anyone but the property's host → 404. Answers the Review with its response.",
        },
      },
    )
    .get(
      "/properties/:id/reviews",
      ({ params, query, request }) =>
        listPropertyReviews(
          {
            propertyId: params.id,
            viewer: () => optionalActor(request.headers.get("authorization"), deps),
            limit: query.limit ?? DEFAULT_LIMIT,
            cursor: query.cursor,
          },
          deps,
        ),
      {
        params: IdParams,
        query: ReviewListQuery,
        response: { 200: ReviewPage, ...errorResponses("not_found") },
        detail: {
          tags,
          summary: "A property's reviews, newest first",
          description:
            "Each with its author and the host's response. An unlisted property's reviews are its host's to see only (404 for anyone else).",
        },
      },
    )
    .get(
      "/users/:id/reviews",
      ({ params, query }) =>
        listGuestReviews({ userId: params.id, limit: query.limit ?? DEFAULT_LIMIT, cursor: query.cursor }, deps),
      {
        params: IdParams,
        query: ReviewListQuery,
        response: { 200: GuestReviewPage, ...errorResponses("not_found") },
        detail: {
          tags,
          summary: "The reviews a user received as a guest, newest first",
          description: "Written by the hosts they stayed with; 404 for a user without a public profile.",
        },
      },
    );
}
