// Profile verbs. Each takes the acting user first and checks what it may do before anything else.
import { and, eq, sql } from "drizzle-orm";
import { onChange } from "../../cache/invalidation";
import { perDatabase } from "../../db/prepared";
import { properties, users } from "../../db/schema";
import { together } from "../../db/together";
import type { Deps } from "../../dependencies";
import { AppError, notFound } from "../../http/errors";
import type { Actor } from "../auth/actor";
import { type Limited, passwordChangeKeys, withAttemptLimit } from "../auth/login-limit";
import { revokeAllSessions, spendResetTokens } from "../auth/sessions";
import { requireActive } from "./active";
import type { UserRow } from "./dto";

export interface ProfileChanges {
  name?: string;
  bio?: string | null;
  avatarUrl?: string | null;
  phone?: string | null;
}

const userById = perDatabase((db) =>
  db
    .select()
    .from(users)
    .where(eq(users.id, sql.placeholder("id")))
    .limit(1)
    .prepare("user_by_id"),
);

/** The user row by id, one prepared primary-key select (the auth macro's hot path). */
export async function findUser(id: string, deps: Deps): Promise<UserRow | undefined> {
  const [row] = await userById(deps.db).execute({ id });
  return row;
}

/**
 * A write to the actor's own row, only while the account is active: one that waited on a deletion
 * or suspension (their transactions lock the row) must not write the erased data back.
 */
const stillActive = (actor: Actor) => and(eq(users.id, actor.id), eq(users.status, "active"));

/** Throws the answer for an account deleted (401) or suspended (403) while the request ran. */
async function refuseInactive(actor: Actor, deps: Deps): Promise<never> {
  const now = await findUser(actor.id, deps);
  if (now) requireActive(now);
  throw notFound("User");
}

export async function updateProfile(
  { actor, changes }: { actor: Actor; changes: ProfileChanges },
  deps: Deps,
): Promise<UserRow> {
  const set: Partial<typeof users.$inferInsert> = { updatedAt: deps.clock.now() };
  if (changes.name !== undefined) set.name = changes.name.trim();
  if (changes.bio !== undefined) set.bio = changes.bio;
  if (changes.avatarUrl !== undefined) set.avatarUrl = changes.avatarUrl;
  if (changes.phone !== undefined) set.phone = changes.phone;
  const [row] = await deps.db.update(users).set(set).where(stillActive(actor)).returning();
  if (!row) return refuseInactive(actor, deps);
  // A host's name and avatar are part of each of their listings' answers (and GraphQL's cached
  // searches show the host's public profile, bio included).
  if (
    row.roles.includes("host") &&
    (changes.name !== undefined || changes.avatarUrl !== undefined || changes.bio !== undefined)
  ) {
    const owned = await deps.db.select({ id: properties.id }).from(properties).where(eq(properties.hostId, actor.id));
    await onChange(deps, { kind: "host.profile.changed", propertyIds: owned.map((p) => p.id) });
  }
  return row;
}

/** Attempts are limited per user: a stolen access token must not become a free password oracle. */
export async function changePassword(
  input: { actor: Actor; currentPassword: string; newPassword: string },
  deps: Deps,
): Promise<Limited<void>> {
  return withAttemptLimit(deps, passwordChangeKeys(input.actor.id), () => setPassword(input, deps));
}

async function setPassword(
  { actor, currentPassword, newPassword }: { actor: Actor; currentPassword: string; newPassword: string },
  deps: Deps,
): Promise<void> {
  if (!(await deps.passwords.verify(currentPassword, actor.passwordHash))) {
    throw new AppError(401, "invalid_credentials", "The current password is wrong");
  }
  if (currentPassword === newPassword) {
    throw new AppError(422, "validation_failed", "The request breaks a rule", [
      { path: "/newPassword", message: "must differ from the current password" },
    ]);
  }
  const passwordHash = await deps.passwords.hash(newPassword);
  const changed = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(users)
      .set({ passwordHash, updatedAt: deps.clock.now() })
      .where(stillActive(actor))
      .returning({ id: users.id });
    if (!row) return false;
    await together(revokeAllSessions(tx, actor.id), spendResetTokens(tx, actor.id, deps.clock.now()));
    return true;
  });
  // Refused after the transaction: its reading of the row must not wait on the transaction's own
  // connection (the embedded database has one).
  if (!changed) await refuseInactive(actor, deps);
}

export async function becomeHost({ actor }: { actor: Actor }, deps: Deps): Promise<UserRow> {
  const [row] = await deps.db
    .update(users)
    .set({
      roles: sql`case when 'host' = any(${users.roles}) then ${users.roles} else array_append(${users.roles}, 'host') end`,
      updatedAt: deps.clock.now(),
    })
    .where(stillActive(actor))
    .returning();
  if (!row) return refuseInactive(actor, deps);
  return row;
}

/** Whose profile is public: an active user's (a suspended or deleted one's is answered like a missing one). */
export const hasPublicProfile = (row: UserRow | undefined): row is UserRow => row?.status === "active";

/** Anyone may see a public profile; a suspended user's profile is answered like a missing one. */
export async function publicProfile(id: string, deps: Deps): Promise<UserRow> {
  const row = await findUser(id, deps);
  if (!hasPublicProfile(row)) throw notFound("User");
  return row;
}
