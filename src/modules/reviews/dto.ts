// A reviews row and the Review of the contract it is answered as; a guest_reviews row and the
// GuestReview. Written out field by field so a new column never leaks by accident.
import type { Static } from "elysia";
import type { guestReviews, reviews } from "../../db/schema";
import type { AuthorDto, GuestReviewDto, ReviewDto } from "./schemas";

export type ReviewRow = typeof reviews.$inferSelect;
export type GuestReviewRow = typeof guestReviews.$inferSelect;
export type ReviewDtoValue = Static<typeof ReviewDto>;
export type GuestReviewDtoValue = Static<typeof GuestReviewDto>;
/** Who wrote a review, as shown beside it. */
export type Author = Static<typeof AuthorDto>;

export function toReviewDto(r: ReviewRow, author: Author): ReviewDtoValue {
  return {
    id: r.id,
    bookingId: r.bookingId,
    propertyId: r.propertyId,
    authorId: r.authorId,
    author,
    rating: r.rating,
    comment: r.comment,
    ...(r.responseComment && r.respondedAt
      ? { response: { comment: r.responseComment, createdAt: r.respondedAt.toISOString() } }
      : {}),
    createdAt: r.createdAt.toISOString(),
  };
}

export function toGuestReviewDto(r: GuestReviewRow, author: Author): GuestReviewDtoValue {
  return {
    id: r.id,
    bookingId: r.bookingId,
    guestId: r.guestId,
    authorId: r.authorId,
    author,
    rating: r.rating,
    comment: r.comment,
    createdAt: r.createdAt.toISOString(),
  };
}
