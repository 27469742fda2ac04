// Single-use tokens e-mailed to a user (a password reset, an address verification). The token is
// made in the job that mails it, so it exists only in the e-mail: the database keeps its SHA-256.
import { and, eq, gt, isNull } from "drizzle-orm";
import type { Db } from "../../db/client";
import { accountTokens } from "../../db/schema";
import { AppError } from "../../http/errors";

export type TokenPurpose = "password_reset" | "email_verification";

export const invalidToken = () =>
  new AppError(
    400,
    "invalid_token",
    "The token is not valid: it was used already, has expired, or was not issued for this",
  );
export const hashToken = (token: string) => new Bun.CryptoHasher("sha256").update(token).digest("base64url");

/** A new token for the user, valid `ttlMs` from `now`; only its hash is stored. */
export async function issueAccountToken(
  db: Db,
  { userId, purpose, ttlMs, now }: { userId: string; purpose: TokenPurpose; ttlMs: number; now: Date },
): Promise<string> {
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  await db.insert(accountTokens).values({
    id: Bun.randomUUIDv7(),
    userId,
    purpose,
    tokenHash: hashToken(token),
    expiresAt: new Date(now.getTime() + ttlMs),
    createdAt: now,
  });
  return token;
}

const live = (hash: string, purpose: TokenPurpose, now: Date) =>
  and(
    eq(accountTokens.tokenHash, hash),
    eq(accountTokens.purpose, purpose),
    isNull(accountTokens.usedAt),
    gt(accountTokens.expiresAt, now),
  );

/** 400 invalid_token unless the token is unspent, unexpired and of this purpose (a cheap check before costly work). */
export async function requireLiveToken(db: Db, token: string, purpose: TokenPurpose, now: Date): Promise<void> {
  const [found] = await db
    .select({ id: accountTokens.id })
    .from(accountTokens)
    .where(live(hashToken(token), purpose, now));
  if (!found) throw invalidToken();
}

/** Spends the token (guarded: of two uses at once, one wins) and names its user; else 400 invalid_token. */
export async function spendAccountToken(tx: Db, token: string, purpose: TokenPurpose, now: Date): Promise<string> {
  const [spent] = await tx
    .update(accountTokens)
    .set({ usedAt: now })
    .where(live(hashToken(token), purpose, now))
    .returning({ userId: accountTokens.userId });
  if (!spent) throw invalidToken();
  return spent.userId;
}

/** Every unspent token of the user for this purpose is spent (after a reset, a verification, a suspension). */
export async function spendTokensOf(tx: Db, userId: string, purpose: TokenPurpose, now: Date): Promise<void> {
  await tx
    .update(accountTokens)
    .set({ usedAt: now })
    .where(and(eq(accountTokens.userId, userId), eq(accountTokens.purpose, purpose), isNull(accountTokens.usedAt)));
}
