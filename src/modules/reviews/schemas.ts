// Review DTOs: the review bodies allowed, the Review and GuestReview of the contract.
import { t } from "elysia";
import { Page, PageOnlyQuery } from "../../http/pagination";
import { Int, Nullable, strictObject, Timestamp, Uuid } from "../../http/schema";

const Rating = Int({ minimum: 1, maximum: 5, description: "1–5, a whole number" });
// At least one visible character; trimmed before it is stored, and then at most 2000 characters
// (the service checks that: the bound here only keeps the request small).
const Comment = t.String({
  minLength: 1,
  maxLength: 8192,
  pattern: "\\S",
  description: "1–2000 characters once leading and trailing spaces are trimmed",
});

export const ReviewBody = strictObject(
  { rating: Rating, comment: Comment },
  {
    title: "CreateReview",
    examples: [{ rating: 5, comment: "Spotless flat, a lovely host and the river right outside." }],
  },
);

export const ResponseBody = strictObject(
  { comment: Comment },
  { title: "ReviewResponseBody", examples: [{ comment: "Thank you, come back any time!" }] },
);

export const AuthorDto = t.Object(
  { id: Uuid, name: t.String(), avatarUrl: Nullable(t.String()) },
  { title: "ReviewAuthor" },
);

export const ReviewDto = t.Object(
  {
    id: Uuid,
    bookingId: Uuid,
    propertyId: Uuid,
    authorId: Uuid,
    author: AuthorDto,
    rating: Int({ minimum: 1, maximum: 5 }),
    comment: t.String(),
    response: t.Optional(t.Object({ comment: t.String(), createdAt: Timestamp }, { title: "ReviewResponse" })),
    createdAt: Timestamp,
  },
  { title: "Review" },
);

export const GuestReviewDto = t.Object(
  {
    id: Uuid,
    bookingId: Uuid,
    guestId: Uuid,
    authorId: Uuid,
    author: AuthorDto,
    rating: Int({ minimum: 1, maximum: 5 }),
    comment: t.String(),
    createdAt: Timestamp,
  },
  { title: "GuestReview" },
);

export const ReviewPage = Page(ReviewDto, "ReviewPage");
export const GuestReviewPage = Page(GuestReviewDto, "GuestReviewPage");
export const ReviewListQuery = PageOnlyQuery;
