// Wishlists: a user's named lists of saved listings. Each list shows only the listings still
// visible (listed: not unlisted by their host or an admin, not hidden by their host's suspension);
// saving and removing are idempotent.
import { and, count, eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { newestFirst } from "../../db/newest-first";
import { rowsOf } from "../../db/rows";
import { properties, propertyDocuments, users, wishlistProperties, wishlists } from "../../db/schema";
import type { Deps } from "../../dependencies";
import { conflict, invalid, notFound, unauthenticated } from "../../http/errors";
import type { Actor } from "../auth/actor";
import type { PropertyDtoValue } from "../properties/dto";
import { requireActive } from "../users/active";
import { MAX_WISHLISTS, type WishlistDtoValue } from "./schemas";

/** The advisory-lock key space of "this user's lists and alerts are being counted" (the other key: the user id's hash). */
export const SAVED_LOCK_SPACE = 7_411_339;

/** Holds, to the end of the transaction, the turn of the user's lists and alerts: their limits are counted under it. */
export async function lockSavedOf(tx: Db, userId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${SAVED_LOCK_SPACE}::int4, hashtext(${userId}::text))`);
}

// Qualified by hand: in a select list drizzle writes a column unqualified, and inside these
// subqueries "id" would name the listing's.
const listId = sql.raw(`"wishlists"."id"`);

/** Under the user's turn: an account erased (or suspended) meanwhile makes nothing more. */
export async function stillActive(tx: Db, userId: string): Promise<void> {
  const [me] = await tx.select({ status: users.status }).from(users).where(eq(users.id, userId));
  if (!me || me.status === "deleted") throw unauthenticated("The account was deleted");
  requireActive(me);
}

/** A list's name as stored: trimmed, and not empty once trimmed. */
function nameOf(name: string): string {
  const trimmed = name.trim();
  if (!trimmed) throw invalid("/name", "must not be blank");
  return trimmed;
}

/** How many listings of a list are visible: the Wishlist's propertyCount. */
const visibleCount = sql<number>`(select count(*)::int from ${wishlistProperties} wp
    join ${properties} p on p.id = wp.property_id
    where wp.wishlist_id = ${listId} and p.status = 'listed')`;

const columns = {
  id: wishlists.id,
  name: wishlists.name,
  createdAt: wishlists.createdAt,
  propertyCount: visibleCount.as("property_count"),
};

type Row = { id: string; name: string; createdAt: Date; propertyCount: number };

const toDto = (r: Row): WishlistDtoValue => ({
  id: r.id,
  name: r.name,
  propertyCount: Number(r.propertyCount),
  createdAt: r.createdAt.toISOString(),
});

/** POST /wishlists: at most MAX_WISHLISTS a user (the next one: 409 limit_reached), counted under the user's turn. */
export async function createWishlist({ actor, name }: { actor: Actor; name: string }, deps: Deps) {
  const now = deps.clock.now();
  const row = await deps.db.transaction(async (tx) => {
    await lockSavedOf(tx, actor.id);
    await stillActive(tx, actor.id);
    const [kept] = await tx.select({ n: count() }).from(wishlists).where(eq(wishlists.userId, actor.id));
    if ((kept?.n ?? 0) >= MAX_WISHLISTS)
      throw conflict("limit_reached", `You keep ${MAX_WISHLISTS} wishlists already; delete one to make another`);
    const [made] = await tx
      .insert(wishlists)
      .values({ id: Bun.randomUUIDv7(), userId: actor.id, name: nameOf(name), createdAt: now, updatedAt: now })
      .returning({ id: wishlists.id, name: wishlists.name, createdAt: wishlists.createdAt });
    if (!made) throw new Error("insert returned no row");
    return { ...made, propertyCount: 0 };
  });
  return toDto(row);
}

/** GET /wishlists: the caller's lists, newest first, each with its count (one statement per page). */
export async function listWishlists(
  { actor, limit, cursor }: { actor: Actor; limit: number; cursor?: string },
  deps: Deps,
) {
  const keyset = newestFirst(wishlists, limit, cursor);
  const rows = await deps.db
    .select(columns)
    .from(wishlists)
    .where(and(eq(wishlists.userId, actor.id), keyset.after))
    .orderBy(...keyset.orderBy)
    .limit(limit + 1);
  const page = keyset.page(rows);
  return { data: page.rows.map(toDto), nextCursor: page.nextCursor };
}

const own = (actor: Actor, id: string) => and(eq(wishlists.id, id), eq(wishlists.userId, actor.id));

/** One of the caller's lists; anyone else's is answered like a missing one. */
async function ownWishlist(db: Db, actor: Actor, id: string): Promise<Row> {
  const [row] = await db.select(columns).from(wishlists).where(own(actor, id));
  if (!row) throw notFound("Wishlist");
  return row;
}

/** GET /wishlists/:id (and what PATCH answers). */
export async function getWishlist({ actor, id }: { actor: Actor; id: string }, deps: Deps) {
  return toDto(await ownWishlist(deps.db, actor, id));
}

/** PATCH /wishlists/:id { name }. */
export async function renameWishlist({ actor, id, name }: { actor: Actor; id: string; name: string }, deps: Deps) {
  const [renamed] = await deps.db
    .update(wishlists)
    .set({ name: nameOf(name), updatedAt: deps.clock.now() })
    .where(own(actor, id))
    .returning({ id: wishlists.id });
  if (!renamed) throw notFound("Wishlist");
  return getWishlist({ actor, id }, deps);
}

/** DELETE /wishlists/:id: the list and what it held. */
export async function deleteWishlist({ actor, id }: { actor: Actor; id: string }, deps: Deps): Promise<void> {
  const gone = await deps.db.delete(wishlists).where(own(actor, id)).returning({ id: wishlists.id });
  if (gone.length === 0) throw notFound("Wishlist");
}

/**
 * PUT /wishlists/:id/properties/:propertyId: saves a listing the caller may see (listed, or their
 * own); saving it again changes nothing (it keeps its place). One statement when it is new.
 */
export async function saveProperty(
  { actor, id, propertyId }: { actor: Actor; id: string; propertyId: string },
  deps: Deps,
): Promise<void> {
  const pid = propertyId.toLowerCase();
  const saved = await deps.db.execute(sql`
    insert into ${wishlistProperties} (wishlist_id, property_id, saved_at)
    select w.id, p.id, ${deps.clock.now().toISOString()}::timestamptz
    from ${wishlists} w, ${properties} p
    where w.id = ${id} and w.user_id = ${actor.id} and p.id = ${pid} and (p.status = 'listed' or p.host_id = ${actor.id})
    on conflict (wishlist_id, property_id) do nothing
    returning property_id`);
  if (rowsOf(saved).length > 0) return;
  // Nothing new: already saved, or the list or the listing is not the caller's to use.
  await ownWishlist(deps.db, actor, id);
  const [there] = await deps.db
    .select({ id: wishlistProperties.propertyId })
    .from(wishlistProperties)
    .where(and(eq(wishlistProperties.wishlistId, id), eq(wishlistProperties.propertyId, pid)));
  if (!there) throw notFound("Property");
}

/** DELETE /wishlists/:id/properties/:propertyId: idempotent (a listing not on it is no error). */
export async function unsaveProperty(
  { actor, id, propertyId }: { actor: Actor; id: string; propertyId: string },
  deps: Deps,
): Promise<void> {
  await ownWishlist(deps.db, actor, id);
  await deps.db
    .delete(wishlistProperties)
    .where(and(eq(wishlistProperties.wishlistId, id), eq(wishlistProperties.propertyId, propertyId.toLowerCase())));
}

/**
 * GET /wishlists/:id/properties: the list's listings still visible, newest saved first, as their
 * Property answers — one statement per page (a second only when the page is empty, to tell an
 * empty list from someone else's).
 */
export async function listWishlistProperties(
  { actor, id, limit, cursor }: { actor: Actor; id: string; limit: number; cursor?: string },
  deps: Deps,
): Promise<{ data: PropertyDtoValue[]; nextCursor: string | null }> {
  const keyset = newestFirst(
    { createdAt: wishlistProperties.savedAt, id: wishlistProperties.propertyId },
    limit,
    cursor,
  );
  const rows = await deps.db
    .select({ id: wishlistProperties.propertyId, createdAt: wishlistProperties.savedAt, json: propertyDocuments.body })
    .from(wishlistProperties)
    .innerJoin(wishlists, eq(wishlists.id, wishlistProperties.wishlistId))
    .innerJoin(propertyDocuments, eq(propertyDocuments.propertyId, wishlistProperties.propertyId))
    .where(and(own(actor, id), eq(propertyDocuments.status, "listed"), keyset.after))
    .orderBy(...keyset.orderBy)
    .limit(limit + 1);
  if (rows.length === 0) await ownWishlist(deps.db, actor, id);
  const page = keyset.page(rows);
  return { data: page.rows.map((r) => JSON.parse(r.json) as PropertyDtoValue), nextCursor: page.nextCursor };
}

/** The caller's lists with the ids they hold, for the account export. */
export async function exportWishlists(db: Db, userId: string) {
  const rows = await db
    .select({
      id: wishlists.id,
      name: wishlists.name,
      createdAt: wishlists.createdAt,
      propertyIds: sql<string[]>`coalesce((select array_agg(wp.property_id::text order by wp.saved_at)
        from ${wishlistProperties} wp where wp.wishlist_id = ${listId}), '{}')`,
    })
    .from(wishlists)
    .where(eq(wishlists.userId, userId))
    .orderBy(wishlists.createdAt);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    createdAt: r.createdAt.toISOString(),
    propertyIds: r.propertyIds,
  }));
}
