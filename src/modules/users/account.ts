// Leaving and looking: DELETE /users/me erases the caller's personal data (the row stays,
// anonymized, so the other party of each booking, payment and review keeps its record), and
// GET /users/me/export answers everything stored about the caller.
import { and, asc, eq, gt, inArray, isNotNull, or, sql } from "drizzle-orm";
import { onChange } from "../../cache/invalidation";
import type { Db } from "../../db/client";
import {
  accountTokens,
  adminAudit,
  alerts,
  bookings,
  guestReviews,
  idempotencyKeys,
  notifications,
  payments,
  properties,
  propertyDocuments,
  refreshTokens,
  reviews,
  users,
  wishlists,
} from "../../db/schema";
import { together } from "../../db/together";
import type { Deps } from "../../dependencies";
import { AppError, unauthenticated } from "../../http/errors";
import { systemClock } from "../../lib/clock";
import { dayOf } from "../../lib/dates";
import type { Actor } from "../auth/actor";
import { type Limited, passwordChangeKeys, withAttemptLimit } from "../auth/login-limit";
import { revokeAllSessions } from "../auth/sessions";
import { toBookingDto } from "../bookings/dto";
import { lockBookingsOf } from "../bookings/service";
import { toNotificationDto } from "../notifications/service";
import { toPaymentDto } from "../payments/dto";
import type { PropertyDtoValue } from "../properties/dto";
import { toGuestReviewDto, toReviewDto } from "../reviews/dto";
import { exportAlerts } from "../wishlists/alerts";
import { exportWishlists, lockSavedOf } from "../wishlists/service";
import { requireActive } from "./active";
import { toUserDto } from "./dto";

export const DELETED_NAME = "Deleted user";

/** Attempts are limited like password changes: a stolen access token cannot guess its way to a deletion. */
export async function deleteAccount(input: { actor: Actor; password: string }, deps: Deps): Promise<Limited<void>> {
  return withAttemptLimit(deps, passwordChangeKeys(input.actor.id), () => eraseAccount(input, deps));
}

async function eraseAccount({ actor, password }: { actor: Actor; password: string }, deps: Deps): Promise<void> {
  if (!(await deps.passwords.verify(password, actor.passwordHash)))
    throw new AppError(401, "invalid_credentials", "The password is wrong");
  const now = deps.clock.now();
  const listings = await deps.db.transaction(async (tx) => {
    // First the booking turn of each listing (bookings of them being made right now finish first,
    // later ones find the listing unlisted), then the user's row, exclusively (the user's own
    // bookings queue behind it and then find the account gone; a concurrent deletion or suspension
    // waits). A booking takes its property's turn before the guest's row: the same order.
    const mine = await tx.select({ id: properties.id }).from(properties).where(eq(properties.hostId, actor.id));
    await lockBookingsOf(
      tx,
      mine.map((p) => p.id),
    );
    // Lists and alerts being made now finish first, later ones find the account gone: taken before
    // the row (their inserts take the row's key share, so after it they would wait in a circle).
    await lockSavedOf(tx, actor.id);
    const [me] = await tx.select({ status: users.status }).from(users).where(eq(users.id, actor.id)).for("update");
    if (!me) throw unauthenticated("The account was deleted");
    requireActive(me);
    // A listing made between the first read and the row lock takes its turn now (none can be
    // made from here on: a new listing takes the row, shared).
    const known = new Set(mine.map((p) => p.id));
    const late = (
      await tx.select({ id: properties.id }).from(properties).where(eq(properties.hostId, actor.id))
    ).filter((p) => !known.has(p.id));
    await lockBookingsOf(
      tx,
      late.map((p) => p.id),
    );
    const owned = (
      await tx
        .update(properties)
        .set({ status: "unlisted", hiddenBySuspension: false, updatedAt: now })
        .where(eq(properties.hostId, actor.id))
        .returning({ id: properties.id })
    ).map((p) => p.id);
    // Read after the turns: no booking committed before this point is missed.
    const [ahead] = await tx
      .select({ status: bookings.status, asGuest: sql<boolean>`${bookings.guestId} = ${actor.id}` })
      .from(bookings)
      .innerJoin(properties, eq(properties.id, bookings.propertyId))
      .where(
        and(
          or(eq(bookings.guestId, actor.id), eq(properties.hostId, actor.id)),
          or(
            and(eq(bookings.status, "confirmed"), gt(bookings.checkOut, dayOf(now))),
            and(inArray(bookings.status, ["pending_payment", "requested"]), gt(bookings.expiresAt, now)),
          ),
        ),
      )
      .limit(1);
    if (ahead) {
      const whose = ahead.asGuest ? "You have" : "A guest has";
      throw new AppError(
        409,
        "invalid_state",
        ahead.status === "confirmed"
          ? `${whose} a confirmed stay ahead; cancel it (or wait until it is over) before deleting the account`
          : ahead.status === "requested"
            ? `${whose} a request to book awaiting the host's answer; cancel or decline it before deleting the account`
            : `${whose} a booking awaiting payment; cancel it or let it expire (within 15 minutes) before deleting the account`,
      );
    }
    await together(
      tx
        .update(users)
        .set({
          email: `deleted-${actor.id}@deleted.invalid`,
          name: DELETED_NAME,
          bio: null,
          avatarUrl: null,
          phone: null,
          // No password verifies against this: the account cannot be logged into again.
          passwordHash: "!deleted",
          emailVerifiedAt: null,
          status: "deleted",
          deletedAt: now,
          updatedAt: now,
        })
        .where(eq(users.id, actor.id)),
      revokeAllSessions(tx, actor.id),
      tx.delete(accountTokens).where(eq(accountTokens.userId, actor.id)),
      tx.delete(notifications).where(eq(notifications.userId, actor.id)),
      // What they saved and waited for is theirs alone.
      tx.delete(wishlists).where(eq(wishlists.userId, actor.id)),
      tx.delete(alerts).where(eq(alerts.userId, actor.id)),
      // Stored answers (bookings, payments) replayed to nobody now.
      tx.delete(idempotencyKeys).where(eq(idempotencyKeys.userId, actor.id)),
    );
    return owned;
  });
  if (listings.length) await onChange(deps, { kind: "account.deleted", propertyIds: listings });
}

/** GET /users/me/export: the profile and everything the caller made or received, oldest first. */
export async function exportAccount({ actor }: { actor: Actor }, deps: Deps) {
  // One snapshot (every list as of one instant) on one connection.
  return deps.db.transaction((tx) => readExport(tx, actor, deps), {
    isolationLevel: "repeatable read",
    accessMode: "read only",
  });
}

async function readExport(db: Db, actor: Actor, deps: Deps) {
  const me = { id: actor.id, name: actor.name, avatarUrl: actor.avatarUrl };
  const hostedIds = db.select({ id: properties.id }).from(properties).where(eq(properties.hostId, actor.id));
  const [
    sessions,
    listings,
    booked,
    hosted,
    paid,
    written,
    hostWritten,
    received,
    notes,
    moderation,
    responses,
    saved,
    waiting,
  ] = await together(
    db.select().from(refreshTokens).where(eq(refreshTokens.userId, actor.id)).orderBy(asc(refreshTokens.createdAt)),
    db
      .select({ body: propertyDocuments.body })
      .from(propertyDocuments)
      .where(eq(propertyDocuments.hostId, actor.id))
      .orderBy(asc(propertyDocuments.propertyId)),
    db.select().from(bookings).where(eq(bookings.guestId, actor.id)).orderBy(asc(bookings.id)),
    db.select().from(bookings).where(inArray(bookings.propertyId, hostedIds)).orderBy(asc(bookings.id)),
    db.select().from(payments).where(eq(payments.payerId, actor.id)).orderBy(asc(payments.createdAt)),
    db.select().from(reviews).where(eq(reviews.authorId, actor.id)).orderBy(asc(reviews.createdAt)),
    db.select().from(guestReviews).where(eq(guestReviews.authorId, actor.id)).orderBy(asc(guestReviews.createdAt)),
    db
      .select({ review: guestReviews, author: { id: users.id, name: users.name, avatarUrl: users.avatarUrl } })
      .from(guestReviews)
      .innerJoin(users, eq(users.id, guestReviews.authorId))
      .where(eq(guestReviews.guestId, actor.id))
      .orderBy(asc(guestReviews.createdAt)),
    db.select().from(notifications).where(eq(notifications.userId, actor.id)).orderBy(asc(notifications.createdAt)),
    db
      .select()
      .from(adminAudit)
      .where(and(eq(adminAudit.targetType, "user"), eq(adminAudit.targetId, actor.id)))
      .orderBy(asc(adminAudit.createdAt)),
    // The host's answers to reviews of their listings.
    db
      .select({ reviewId: reviews.id, comment: reviews.responseComment, createdAt: reviews.respondedAt })
      .from(reviews)
      .where(and(inArray(reviews.propertyId, hostedIds), isNotNull(reviews.respondedAt)))
      .orderBy(asc(reviews.respondedAt)),
    exportWishlists(db, actor.id),
    exportAlerts(db, actor.id),
  );
  return {
    exportedAt: deps.clock.now().toISOString(),
    user: {
      ...toUserDto(actor),
      guestRatingSum: actor.guestRatingSum,
      guestReviewCount: actor.guestReviewCount,
      updatedAt: actor.updatedAt.toISOString(),
    },
    sessions: sessions.map((s) => ({
      createdAt: s.createdAt.toISOString(),
      expiresAt: s.expiresAt.toISOString(),
      // Sessions live by the wall clock, not the business clock (as in sessions.ts).
      active: !s.revokedAt && !s.spentAt && s.expiresAt.getTime() > systemClock.now().getTime(),
    })),
    properties: listings.map((l) => JSON.parse(l.body) as PropertyDtoValue),
    bookings: booked.map(toBookingDto),
    hostedBookings: hosted.map(toBookingDto),
    payments: paid.map(toPaymentDto),
    reviews: written.map((r) => toReviewDto(r, me)),
    guestReviewsWritten: hostWritten.map((r) => toGuestReviewDto(r, me)),
    guestReviewsReceived: received.map((r) => toGuestReviewDto(r.review, r.author)),
    notifications: notes.map(toNotificationDto),
    reviewResponses: responses.map((r) => ({
      reviewId: r.reviewId,
      comment: r.comment ?? "",
      createdAt: (r.createdAt as Date).toISOString(),
    })),
    moderation: moderation.map((a) => ({ action: a.action, reason: a.reason, createdAt: a.createdAt.toISOString() })),
    wishlists: saved,
    alerts: waiting,
  };
}
