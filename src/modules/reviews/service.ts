// Review verbs: a guest reviews a completed stay, the host answers once, the host reviews the guest;
// reviews of a property and of a guest, newest first. Only real stays are reviewed, each once (a
// unique key per booking); the aggregates shown beside a listing or a guest move in the review's
// own transaction by a single atomic increment, so concurrent reviews never lose one.
import { and, desc, eq, getTableColumns, sql } from "drizzle-orm";
import { onChange } from "../../cache/invalidation";
import type { Db } from "../../db/client";
import { newestFirst } from "../../db/newest-first";
import { perDatabase } from "../../db/prepared";
import { guestReviews, properties, reviews, users } from "../../db/schema";
import { together } from "../../db/together";
import type { Deps } from "../../dependencies";
import { AppError, conflict, invalid, notFound } from "../../http/errors";
import { enqueueMany } from "../../jobs/outbox";
import { isUuid } from "../../lib/ids";
import type { Actor } from "../auth/actor";
import { bookingFor } from "../bookings/access";
import type { BookingRow } from "../bookings/dto";
import { isDue, settleDue } from "../bookings/lifecycle";
import { readProperty, type Viewer } from "../properties/service";
import { publicProfile } from "../users/service";
import { type Author, type GuestReviewDtoValue, type ReviewDtoValue, toGuestReviewDto, toReviewDto } from "./dto";

/** Days after the checkout day during which a stay may be reviewed (both ways). */
export const REVIEW_WINDOW_DAYS = 30;

/** When a stay's review window closes: at the end of the 30th day after its checkout day (UTC). */
export const reviewDeadline = (checkOut: string): Date =>
  new Date(Date.parse(`${checkOut}T00:00:00Z`) + (REVIEW_WINDOW_DAYS + 1) * 86_400_000);

/** The longest comment, in characters (code points, as the database counts), after trimming. */
export const MAX_COMMENT = 2000;

/** A comment as stored: trimmed, and then 1–2000 characters (else 422 naming the field). */
function commentOf(raw: string): string {
  const comment = raw.trim();
  const length = [...comment].length;
  if (length < 1 || length > MAX_COMMENT)
    throw invalid("/comment", `must be 1–${MAX_COMMENT} characters after trimming (it is ${length})`);
  return comment;
}

const authorOf = (u: Pick<Actor, "id" | "name" | "avatarUrl">): Author => ({
  id: u.id,
  name: u.name,
  avatarUrl: u.avatarUrl,
});
const authorColumns = { id: users.id, name: users.name, avatarUrl: users.avatarUrl };

/**
 * The booking `actor` may review as `as` (its guest, or the property's host), locked for the rest
 * of the transaction: anyone else gets the 404 of a booking that does not exist; a stay that is not
 * completed, or whose window has closed, is 422 saying which.
 */
async function reviewable(
  tx: Db,
  actor: Actor,
  bookingId: string,
  as: "guest" | "host",
  deps: Deps,
): Promise<{ booking: BookingRow; hostId: string }> {
  const now = deps.clock.now();
  const { booking, hostId, role } = await bookingFor(actor, bookingId, tx, { lock: true });
  if (role !== as) throw notFound("Booking");
  let current = booking;
  // A stay whose checkout day has passed is completed on sight, even before the sweep ran.
  if (isDue(booking, now)) {
    const { expired, completed } = await settleDue(tx, deps.clock, { ids: [booking.id] });
    current = completed[0] ?? expired[0] ?? booking;
  }
  if (current.status !== "completed") {
    const when =
      current.status === "confirmed" ? ` (it completes the day after its checkout day, ${current.checkOut})` : "";
    throw new AppError(
      422,
      "validation_failed",
      `Only a completed stay can be reviewed; this booking is ${current.status}${when}`,
    );
  }
  const deadline = reviewDeadline(current.checkOut);
  if (now.getTime() >= deadline.getTime())
    throw new AppError(
      422,
      "validation_failed",
      `The review window closed at ${deadline.toISOString()} (${REVIEW_WINDOW_DAYS} days after checkout)`,
    );
  return { booking: current, hostId };
}

const alreadyReviewed = () =>
  conflict("already_reviewed", "This stay has been reviewed already; a review cannot be changed or repeated");

export async function createReview(
  { actor, bookingId, rating, comment }: { actor: Actor; bookingId: string; rating: number; comment: string },
  deps: Deps,
): Promise<ReviewDtoValue> {
  const now = deps.clock.now();
  const text = commentOf(comment);
  const { review, propertyId } = await deps.db.transaction(async (tx) => {
    const { booking, hostId } = await reviewable(tx, actor, bookingId, "guest", deps);
    const [review] = await tx
      .insert(reviews)
      .values({
        id: Bun.randomUUIDv7(),
        bookingId: booking.id,
        propertyId: booking.propertyId,
        authorId: actor.id,
        rating,
        comment: text,
        createdAt: now,
      })
      .onConflictDoNothing({ target: reviews.bookingId })
      .returning();
    if (!review) throw alreadyReviewed();
    await together(
      tx
        .update(properties)
        .set({ ratingSum: sql`${properties.ratingSum} + ${rating}`, reviewCount: sql`${properties.reviewCount} + 1` })
        .where(eq(properties.id, booking.propertyId)),
      enqueueMany(tx, deps.clock, [
        {
          type: "notify",
          payload: {
            userId: hostId,
            type: "review_received",
            title: "New review",
            body: `A guest rated their stay ${rating}/5.`,
            data: { bookingId: booking.id, propertyId: booking.propertyId, reviewId: review.id },
            email: true,
          },
          dedupeKey: `review:${review.id}:received`,
        },
      ]),
    );
    return { review, propertyId: booking.propertyId };
  });
  await onChange(deps, { kind: "review.added", propertyId });
  return toReviewDto(review, authorOf(actor));
}

export async function respondToReview(
  { actor, reviewId, comment }: { actor: Actor; reviewId: string; comment: string },
  deps: Deps,
): Promise<ReviewDtoValue> {
  if (!isUuid(reviewId)) throw notFound("Review");
  const now = deps.clock.now();
  const text = commentOf(comment);
  const answered = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ review: getTableColumns(reviews), hostId: properties.hostId, author: authorColumns })
      .from(reviews)
      .innerJoin(properties, eq(properties.id, reviews.propertyId))
      .innerJoin(users, eq(users.id, reviews.authorId))
      .where(eq(reviews.id, reviewId))
      .for("update", { of: reviews });
    // Only the property's host answers; to anyone else the review is not theirs to act on.
    if (!row || row.hostId !== actor.id) throw notFound("Review");
    if (row.review.responseComment !== null)
      throw conflict("already_reviewed", "This review has a response already; it cannot be changed or repeated");
    const [updated] = await tx
      .update(reviews)
      .set({ responseComment: text, respondedAt: now })
      .where(eq(reviews.id, reviewId))
      .returning();
    if (!updated) throw notFound("Review");
    await enqueueMany(tx, deps.clock, [
      {
        type: "notify",
        payload: {
          userId: row.review.authorId,
          type: "review_response",
          title: "The host answered your review",
          // Cut by characters, not UTF-16 units: half an emoji is not storable text.
          body: [...text].slice(0, 200).join(""),
          data: { reviewId, propertyId: row.review.propertyId },
        },
        dedupeKey: `review:${reviewId}:response`,
      },
    ]);
    return toReviewDto(updated, row.author);
  });
  await onChange(deps, { kind: "review.answered" });
  return answered;
}

export async function createGuestReview(
  { actor, bookingId, rating, comment }: { actor: Actor; bookingId: string; rating: number; comment: string },
  deps: Deps,
): Promise<GuestReviewDtoValue> {
  const now = deps.clock.now();
  const text = commentOf(comment);
  return deps.db.transaction(async (tx) => {
    const { booking } = await reviewable(tx, actor, bookingId, "host", deps);
    const [review] = await tx
      .insert(guestReviews)
      .values({
        id: Bun.randomUUIDv7(),
        bookingId: booking.id,
        guestId: booking.guestId,
        authorId: actor.id,
        rating,
        comment: text,
        createdAt: now,
      })
      .onConflictDoNothing({ target: guestReviews.bookingId })
      .returning();
    if (!review) throw alreadyReviewed();
    await together(
      tx
        .update(users)
        .set({
          guestRatingSum: sql`${users.guestRatingSum} + ${rating}`,
          guestReviewCount: sql`${users.guestReviewCount} + 1`,
        })
        .where(eq(users.id, booking.guestId)),
      enqueueMany(tx, deps.clock, [
        {
          type: "notify",
          payload: {
            userId: booking.guestId,
            type: "guest_review_received",
            title: "Your host reviewed you",
            body: `Your host rated your stay ${rating}/5.`,
            data: { bookingId: booking.id, guestReviewId: review.id },
          },
          dedupeKey: `guest-review:${review.id}:received`,
        },
      ]),
    );
    return toGuestReviewDto(review, authorOf(actor));
  });
}

const pageColumns = { review: getTableColumns(reviews), author: authorColumns };
// Prepared once per database handle (building the query cost more than running it): the first
// page, and a page after a cursor as one row comparison the (property, created_at, id) index
// answers as a range, however deep.
const firstReviewPage = perDatabase((db) =>
  db
    .select(pageColumns)
    .from(reviews)
    .innerJoin(users, eq(users.id, reviews.authorId))
    .where(eq(reviews.propertyId, sql.placeholder("propertyId")))
    .orderBy(desc(reviews.createdAt), desc(reviews.id))
    .limit(sql.placeholder("take"))
    .prepare("reviews_first_page"),
);
const laterReviewPage = perDatabase((db) =>
  db
    .select(pageColumns)
    .from(reviews)
    .innerJoin(users, eq(users.id, reviews.authorId))
    .where(
      and(
        eq(reviews.propertyId, sql.placeholder("propertyId")),
        sql`(${reviews.createdAt}, ${reviews.id}) < (${sql.placeholder("at")}::timestamptz, ${sql.placeholder("id")}::uuid)`,
      ),
    )
    .orderBy(desc(reviews.createdAt), desc(reviews.id))
    .limit(sql.placeholder("take"))
    .prepare("reviews_later_page"),
);

export async function listPropertyReviews(
  { propertyId, viewer, limit, cursor }: { propertyId: string; viewer: Viewer; limit: number; cursor?: string },
  deps: Deps,
): Promise<{ data: ReviewDtoValue[]; nextCursor: string | null }> {
  const keyset = newestFirst(reviews, limit, cursor);
  if (!isUuid(propertyId)) throw notFound("Property");
  // The property's own visibility rule (an unlisted one is its host's only), from its cached answer.
  await readProperty({ id: propertyId.toLowerCase(), viewer }, deps);
  const at = keyset.position;
  const args = { propertyId: propertyId.toLowerCase(), take: limit + 1 };
  const rows = at
    ? await laterReviewPage(deps.db).execute({ ...args, at: at.at.toISOString(), id: at.id })
    : await firstReviewPage(deps.db).execute(args);
  const page = keyset.page(rows.map((r) => ({ ...r.review, author: r.author })));
  return { data: page.rows.map((r) => toReviewDto(r, r.author)), nextCursor: page.nextCursor };
}

export async function listGuestReviews(
  { userId, limit, cursor }: { userId: string; limit: number; cursor?: string },
  deps: Deps,
): Promise<{ data: GuestReviewDtoValue[]; nextCursor: string | null }> {
  const keyset = newestFirst(guestReviews, limit, cursor);
  // A user who does not exist, or whose profile is not public (suspended), has no reviews to show.
  const user = await publicProfile(userId, deps);
  const rows = await deps.db
    .select({ review: getTableColumns(guestReviews), author: authorColumns })
    .from(guestReviews)
    .innerJoin(users, eq(users.id, guestReviews.authorId))
    .where(and(eq(guestReviews.guestId, user.id), keyset.after))
    .orderBy(...keyset.orderBy)
    .limit(limit + 1);
  const page = keyset.page(rows.map((r) => ({ ...r.review, author: r.author })));
  return { data: page.rows.map((r) => toGuestReviewDto(r, r.author)), nextCursor: page.nextCursor };
}
