// Per-request batching of the nested fields: each loader answers all the keys one tick of the
// execution asked for with one statement, so a page's statements do not grow with its length.
import DataLoader from "dataloader";
import { desc, eq, getTableColumns, inArray, sql } from "drizzle-orm";
import { payments, propertyDocuments, reviews as reviewRows, users } from "../db/schema";
import type { Deps } from "../dependencies";
import { AppError } from "../http/errors";
import type { Actor } from "../modules/auth/actor";
import { type PaymentDtoValue, toPaymentDto } from "../modules/payments/dto";
import type { PropertyDtoValue } from "../modules/properties/dto";
import { visibleTo } from "../modules/properties/service";
import { type ReviewDtoValue, toReviewDto } from "../modules/reviews/dto";
import { toPublicUserDto } from "../modules/users/dto";
import { hasPublicProfile } from "../modules/users/service";

export type PublicUser = ReturnType<typeof toPublicUserDto>;
export type ReviewValue = ReviewDtoValue;

/** At most this many payments nested in one booking (its list: bookingPayments, paginated). */
export const MAX_NESTED_PAYMENTS = 100;
/** At most this many reviews nested in one property. */
export const MAX_NESTED_REVIEWS = 20;

/** What REST answers 404 for (unknown, or not the caller's to see) is a null field here. */
function hiddenAsNull(err: unknown): null {
  if (err instanceof AppError && err.status === 404) return null;
  throw err;
}

export function createLoaders(deps: Deps, viewer: () => Promise<Actor | null>) {
  /** Public profiles: null for a user without one (unknown, suspended, deleted), as GET /users/:id. */
  const publicUsers = new DataLoader<string, PublicUser | null>(async (ids) => {
    const rows = await deps.db
      .select()
      .from(users)
      .where(inArray(users.id, [...ids]));
    const byId = new Map(rows.map((u) => [u.id, u]));
    return ids.map((id) => {
      const u = byId.get(id);
      return hasPublicProfile(u) ? toPublicUserDto(u) : null;
    });
  });

  /** Properties the viewer may see (listed, or their own), else null: GET /properties/:id's rule, visibleTo. */
  const properties = new DataLoader<string, PropertyDtoValue | null>(async (ids) => {
    const rows = await deps.db
      .select({
        id: propertyDocuments.propertyId,
        status: propertyDocuments.status,
        hostId: propertyDocuments.hostId,
        body: propertyDocuments.body,
      })
      .from(propertyDocuments)
      .where(inArray(propertyDocuments.propertyId, [...ids]));
    const byId = new Map(rows.map((r) => [r.id, r]));
    // The viewer is looked up (once a request) only when an unlisted one is among them.
    return Promise.all(
      ids.map((id) =>
        visibleTo(viewer, byId.get(id)).then((r) => JSON.parse(r.body) as PropertyDtoValue, hiddenAsNull),
      ),
    );
  });

  /** The newest `first` reviews of each property (key: "propertyId first"), with their authors. */
  const reviews = new DataLoader<string, ReviewValue[]>(async (keys) => {
    const byFirst = new Map<number, string[]>();
    for (const key of keys) {
      const [id, first] = key.split(" ");
      byFirst.set(Number(first), [...(byFirst.get(Number(first)) ?? []), id as string]);
    }
    const found = new Map<string, ReviewValue[]>();
    await Promise.all(
      [...byFirst].map(async ([first, ids]) => {
        const list = sql.join(
          ids.map((id) => sql`${id}::uuid`),
          sql`, `,
        );
        // Each property's page walks its (property_id, created_at, id) index and stops at `first`.
        const newest = deps.db
          .select({ ...getTableColumns(reviewRows), authorName: users.name, authorAvatarUrl: users.avatarUrl })
          .from(reviewRows)
          .innerJoin(users, eq(users.id, reviewRows.authorId))
          .where(sql`${reviewRows.propertyId} = p.id`)
          .orderBy(desc(reviewRows.createdAt), desc(reviewRows.id))
          .limit(first)
          .as("r");
        const rows = await deps.db
          .select()
          .from(sql`unnest(array[${list}]) as p(id)`)
          .crossJoinLateral(newest)
          .orderBy(newest.propertyId, desc(newest.createdAt), desc(newest.id));
        for (const id of ids) found.set(`${id} ${first}`, []);
        for (const { r } of rows) {
          const { authorName: name, authorAvatarUrl: avatarUrl, ...review } = r;
          found
            .get(`${review.propertyId} ${first}`)
            ?.push(toReviewDto(review, { id: review.authorId, name, avatarUrl }));
        }
      }),
    );
    return keys.map((k) => found.get(k) ?? []);
  });

  /** The payments of bookings the caller was already allowed to see, newest first (at most MAX_NESTED_PAYMENTS each). */
  const bookingPayments = new DataLoader<string, PaymentDtoValue[]>(async (ids) => {
    const rows = await deps.db
      .select()
      .from(payments)
      .where(inArray(payments.bookingId, [...ids]))
      .orderBy(desc(payments.createdAt), desc(payments.id));
    const byBooking = new Map<string, PaymentDtoValue[]>();
    for (const p of rows) {
      const list = byBooking.get(p.bookingId) ?? [];
      if (list.length < MAX_NESTED_PAYMENTS) list.push(toPaymentDto(p));
      byBooking.set(p.bookingId, list);
    }
    return ids.map((id) => byBooking.get(id) ?? []);
  });

  return { publicUsers, properties, reviews, bookingPayments };
}

export type Loaders = ReturnType<typeof createLoaders>;
