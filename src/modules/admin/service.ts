// Admin moderation: find users, suspend and unsuspend them, unlist a property; each action written
// to the audit log in its own transaction. Only admins may call these verbs: the admin macro turns
// everyone else away before the route, and every verb checks its actor again first (GraphQL and
// jobs call verbs without the macro).
import { and, desc, eq, ilike, isNull, lt, or, sql } from "drizzle-orm";
import { onChange } from "../../cache/invalidation";
import { adminAudit, properties, users } from "../../db/schema";
import { together } from "../../db/together";
import type { Deps } from "../../dependencies";
import { noSuchRoute } from "../../http/auth";
import { AppError, notFound } from "../../http/errors";
import { decodeCursor, encodeCursor } from "../../http/pagination";
import { isUuid } from "../../lib/ids";
import type { Actor } from "../auth/actor";
import { revokeAllSessions, spendResetTokens } from "../auth/sessions";
import { lockBookingsOf } from "../bookings/service";
import type { PropertyDtoValue } from "../properties/dto";
import { loadProperty } from "../properties/service";
import { toUserDto, type UserRow } from "../users/dto";

/**
 * The first line of every admin verb: the actor, who must be an admin. To anyone else the verb
 * answers what the admin routes answer them, a 404 like a route that does not exist.
 */
export function requireAdmin(actor: Actor | null | undefined): Actor {
  if (!actor?.roles.includes("admin")) throw noSuchRoute();
  return actor;
}

type AuditAction = "user.suspend" | "user.unsuspend" | "property.unlist" | "tax_rule.create" | "tax_rule.delete";

const STATUSES = ["active", "suspended", "deleted"] as const;
export const toAdminUserDto = (u: UserRow) => ({
  ...toUserDto(u),
  status: STATUSES.find((s) => s === u.status) ?? "active",
});

/** Pages by id, newest first (ids are UUIDv7): a cursor is the last id, exact whatever the timestamps. */
function byId(limit: number, cursor: string | undefined) {
  const after = cursor ? (decodeCursor(cursor, (p) => p.length === 1 && isUuid(p[0]))[0] as string) : undefined;
  return {
    after,
    page<R extends { id: string }>(rows: R[]) {
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { rows: page, nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null };
    },
  };
}

const likePrefix = (q: string) => `${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function listUsers(
  { actor, q, limit, cursor }: { actor: Actor; q?: string; limit: number; cursor?: string },
  deps: Deps,
) {
  requireAdmin(actor);
  const keyset = byId(limit, cursor);
  const match = q
    ? or(
        ilike(users.email, likePrefix(q.trim())),
        ilike(users.name, likePrefix(q.trim())),
        ilike(users.name, `% ${likePrefix(q.trim())}`),
      )
    : undefined;
  const rows = await deps.db
    .select()
    .from(users)
    .where(and(match, keyset.after ? lt(users.id, keyset.after) : undefined))
    .orderBy(desc(users.id))
    .limit(limit + 1);
  const page = keyset.page(rows);
  return { data: page.rows.map(toAdminUserDto), nextCursor: page.nextCursor };
}

export async function listAudit(
  { actor, limit, cursor }: { actor: Actor; limit: number; cursor?: string },
  deps: Deps,
) {
  requireAdmin(actor);
  const keyset = byId(limit, cursor);
  const rows = await deps.db
    .select()
    .from(adminAudit)
    .where(keyset.after ? lt(adminAudit.id, keyset.after) : undefined)
    .orderBy(desc(adminAudit.id))
    .limit(limit + 1);
  const page = keyset.page(rows);
  return {
    data: page.rows.map((a) => ({
      id: a.id,
      actorId: a.actorId,
      action: a.action as AuditAction,
      targetType: a.targetType as "user" | "property" | "tax_rule",
      targetId: a.targetId,
      reason: a.reason,
      details: a.details as Record<string, unknown>,
      createdAt: a.createdAt.toISOString(),
    })),
    nextCursor: page.nextCursor,
  };
}

export const audit = (
  actor: Actor,
  action: AuditAction,
  targetType: "user" | "property" | "tax_rule",
  targetId: string,
  reason: string | null,
  now: Date,
  details: Record<string, unknown> = {},
) => ({
  id: Bun.randomUUIDv7(),
  actorId: actor.id,
  action,
  targetType,
  targetId,
  reason,
  details,
  createdAt: now,
});

/**
 * Suspends a user: they can no longer act (every token of theirs is refused, their sessions are
 * revoked), their public profile disappears, and their listed properties leave search at once —
 * hidden until they are unsuspended. Suspending a suspended user changes nothing (and logs nothing).
 */
export async function suspendUser(
  { actor, userId, reason }: { actor: Actor; userId: string; reason: string },
  deps: Deps,
) {
  requireAdmin(actor);
  if (userId.toLowerCase() === actor.id) throw new AppError(409, "invalid_state", "You cannot suspend yourself");
  const now = deps.clock.now();
  const { user, hidden } = await deps.db.transaction(async (tx) => {
    // The booking turn of each listing first (as a booking takes it before the user's row):
    // bookings of them being made finish first, later ones find the listing hidden.
    const listings = await tx.select({ id: properties.id }).from(properties).where(eq(properties.hostId, userId));
    await lockBookingsOf(
      tx,
      listings.map((p) => p.id),
    );
    // Admins are not suspended (two could lock each other, and everyone, out).
    const [user] = await tx
      .update(users)
      .set({ status: "suspended", updatedAt: now })
      .where(and(eq(users.id, userId), eq(users.status, "active"), sql`not ('admin' = any(${users.roles}))`))
      .returning();
    if (!user) {
      const [current] = await tx.select().from(users).where(eq(users.id, userId));
      if (!current) throw notFound("User");
      if (current.roles.includes("admin")) throw new AppError(409, "invalid_state", "Admins cannot be suspended");
      if (current.status === "deleted") throw new AppError(409, "invalid_state", "The account was deleted");
      return { user: current, hidden: [] as string[] };
    }
    await together(revokeAllSessions(tx, user.id), spendResetTokens(tx, user.id, now));
    const hidden = (
      await tx
        .update(properties)
        .set({ status: "unlisted", hiddenBySuspension: true, updatedAt: now })
        .where(and(eq(properties.hostId, user.id), eq(properties.status, "listed")))
        .returning({ id: properties.id })
    ).map((p) => p.id);
    await tx
      .insert(adminAudit)
      .values(audit(actor, "user.suspend", "user", user.id, reason.trim(), now, { hiddenListings: hidden }));
    return { user, hidden };
  });
  if (hidden.length) await onChange(deps, { kind: "host.suspended", propertyIds: hidden });
  return toAdminUserDto(user);
}

/** Unsuspends a user: they may act again and the listings their suspension hid are listed again. */
export async function unsuspendUser({ actor, userId }: { actor: Actor; userId: string }, deps: Deps) {
  requireAdmin(actor);
  const now = deps.clock.now();
  const { user, shown } = await deps.db.transaction(async (tx) => {
    const [user] = await tx
      .update(users)
      .set({ status: "active", updatedAt: now })
      .where(and(eq(users.id, userId), eq(users.status, "suspended")))
      .returning();
    if (!user) {
      const [current] = await tx.select().from(users).where(eq(users.id, userId));
      if (!current) throw notFound("User");
      return { user: current, shown: [] as string[] };
    }
    const shown = (
      await tx
        .update(properties)
        .set({ status: "listed", hiddenBySuspension: false, updatedAt: now })
        // A listing an admin unlisted meanwhile stays unlisted.
        .where(
          and(eq(properties.hostId, user.id), eq(properties.hiddenBySuspension, true), isNull(properties.moderatedAt)),
        )
        .returning({ id: properties.id })
    ).map((p) => p.id);
    await tx
      .insert(adminAudit)
      .values(audit(actor, "user.unsuspend", "user", user.id, null, now, { shownListings: shown }));
    return { user, shown };
  });
  if (shown.length) await onChange(deps, { kind: "host.unsuspended", propertyIds: shown });
  return toAdminUserDto(user);
}

/** Unlists a property for moderation: it leaves search at once and its host cannot list it again. */
export async function moderateProperty(
  { actor, propertyId, reason }: { actor: Actor; propertyId: string; reason: string },
  deps: Deps,
): Promise<PropertyDtoValue> {
  requireAdmin(actor);
  const now = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    // The property's booking turn first: a booking being made finishes before the unlisting, and
    // none accepted after it was answered (found by review: without it a booking whose terms were
    // checked just before could commit after the admin was told the listing is unlisted).
    if (isUuid(propertyId)) await lockBookingsOf(tx, [propertyId.toLowerCase()]);
    const [property] = await tx
      .update(properties)
      .set({
        status: "unlisted",
        moderatedAt: sql`coalesce(${properties.moderatedAt}, ${now.toISOString()}::timestamptz)`,
        hiddenBySuspension: false,
        updatedAt: now,
      })
      .where(eq(properties.id, propertyId))
      .returning({ id: properties.id });
    if (!property) throw notFound("Property");
    await tx.insert(adminAudit).values(audit(actor, "property.unlist", "property", property.id, reason.trim(), now));
  });
  await onChange(deps, { kind: "listing.moderated", propertyId });
  const doc = await loadProperty(deps.db, propertyId);
  if (!doc) throw notFound("Property");
  return JSON.parse(doc.json) as PropertyDtoValue;
}
