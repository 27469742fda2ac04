// Refresh-token sessions: opaque, stored hashed, single-use, rotated within a family; presenting a
// spent token revokes its whole family (the token was stolen, or replayed by someone who stole it).
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { refreshTokens, users } from "../../db/schema";
import { systemClock } from "../../lib/clock";
import { spendTokensOf } from "./account-tokens";
import { hashRefreshToken, newRefreshToken } from "./tokens";

// Token lifetimes follow the wall clock, not the business clock: moving the test clock must not
// log every client out (or keep a stolen token alive).
const wall = systemClock;

export async function startSession(
  db: Db,
  userId: string,
  ttlDays: number,
  familyId: string = Bun.randomUUIDv7(),
): Promise<string> {
  const token = newRefreshToken();
  await db.insert(refreshTokens).values({
    id: Bun.randomUUIDv7(),
    userId,
    familyId,
    tokenHash: hashRefreshToken(token),
    expiresAt: new Date(wall.now().getTime() + ttlDays * 86_400_000),
  });
  return token;
}

/**
 * `startSession`, only while the user's credential version is still `credentialVersion` (the one
 * the caller checked the password or refresh token against); null when it moved on. The user's
 * row is locked (shared) until the session is stored: a revocation bumps the version before it
 * revokes the refresh tokens (`revokeAllSessions`), so it either waits for this session and then
 * revokes it, or this sees its new version. Without it, a login or refresh in flight when the
 * sessions were revoked stored a refresh token that no revocation had seen.
 */
export async function startSessionAt(
  db: Db,
  user: { id: string; credentialVersion: number },
  ttlDays: number,
  familyId?: string,
): Promise<string | null> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select({ credentialVersion: users.credentialVersion })
      .from(users)
      .where(eq(users.id, user.id))
      .for("share");
    if (row?.credentialVersion !== user.credentialVersion) return null;
    return startSession(tx, user.id, ttlDays, familyId);
  });
}

export type RotateOutcome =
  | { ok: true; userId: string; familyId: string; credentialVersion: number }
  | { ok: false; reason: "unknown" | "expired" | "revoked" | "reused" };

/**
 * Spends a refresh token. The conditional UPDATE makes this race-free: of two concurrent requests
 * with the same token exactly one spends it; the other sees it spent and revokes the family.
 */
export async function spendRefreshToken(db: Db, token: string): Promise<RotateOutcome> {
  const hash = hashRefreshToken(token);
  const now = wall.now();
  const [spent] = await db
    .update(refreshTokens)
    .set({ spentAt: now })
    .where(
      and(
        eq(refreshTokens.tokenHash, hash),
        isNull(refreshTokens.spentAt),
        isNull(refreshTokens.revokedAt),
        gt(refreshTokens.expiresAt, now),
        // A family with any revoked member is dead: this also catches a token issued by a
        // refresh that raced with a logout, a reuse detection or a password change.
        sql`not exists (select 1 from refresh_tokens r where r.family_id = ${refreshTokens.familyId} and r.revoked_at is not null)`,
      ),
    )
    .returning({
      userId: refreshTokens.userId,
      familyId: refreshTokens.familyId,
      // The user's credential version as of this statement, the one that saw the token unrevoked:
      // a revocation that commits after it is told apart by the caller (see `refresh`).
      credentialVersion: sql<number>`(select u.credential_version from users u where u.id = ${refreshTokens.userId})`,
    });
  if (spent) return { ok: true, ...spent };
  const [row] = await db.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, hash)).limit(1);
  if (!row) return { ok: false, reason: "unknown" };
  if (row.revokedAt) return { ok: false, reason: "revoked" };
  if (!row.spentAt && row.expiresAt > now) {
    // Unspent and unexpired, yet refused: its family was revoked after it was issued.
    await revokeFamily(db, row.familyId);
    return { ok: false, reason: "revoked" };
  }
  if (row.spentAt) {
    await revokeFamily(db, row.familyId);
    return { ok: false, reason: "reused" };
  }
  return { ok: false, reason: "expired" };
}

export async function revokeFamily(db: Db, familyId: string): Promise<void> {
  await db
    .update(refreshTokens)
    .set({ revokedAt: wall.now() })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
}

/** Revokes the family of `token` if it belongs to userId; unknown tokens are ignored (logout is idempotent). */
export async function revokeFamilyOf(db: Db, userId: string, token: string): Promise<void> {
  const [row] = await db
    .select({ familyId: refreshTokens.familyId })
    .from(refreshTokens)
    .where(and(eq(refreshTokens.tokenHash, hashRefreshToken(token)), eq(refreshTokens.userId, userId)))
    .limit(1);
  if (row) await revokeFamily(db, row.familyId);
}

/** NOTIFYs "<user id>" when a user's credential version changed (their live subscriptions end). */
export const CREDENTIALS_CHANNEL = "stayhub_credentials";

/**
 * Ends every session of the user, in the caller's transaction: every refresh-token family is
 * revoked, and the credential version is bumped, so every access token issued before is refused
 * at its next request (the auth check compares the token's version with the row). The NOTIFY is
 * delivered at commit to every instance's live feed, which re-checks that user's open
 * subscriptions at once.
 */
export async function revokeAllSessions(db: Db, userId: string): Promise<void> {
  // The version first, awaited: it locks the user's row, so a session being started
  // (`startSessionAt`) is either stored before the refresh tokens are revoked below, or sees it.
  await db
    .update(users)
    .set({ credentialVersion: sql`${users.credentialVersion} + 1` })
    .where(eq(users.id, userId));
  await Promise.all([
    db
      .update(refreshTokens)
      .set({ revokedAt: wall.now() })
      .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt))),
    db.execute(sql`select pg_notify(${CREDENTIALS_CHANNEL}, ${userId})`),
  ]);
}

/**
 * Every reset token of the user still unspent is spent: after a reset, a password change or a
 * suspension, no e-mail sent before it can set the password again.
 */
export const spendResetTokens = (tx: Db, userId: string, now: Date) => spendTokensOf(tx, userId, "password_reset", now);
