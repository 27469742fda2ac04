// Password reset: asking for one always answers the same 202 (a job does the rest, so a known and
// an unknown address cost the request exactly the same); the e-mail carries a single-use token
// valid 30 minutes, of which only the SHA-256 is stored; confirming it sets the password and
// revokes every session.
import { eq, sql } from "drizzle-orm";
import { users } from "../../db/schema";
import { together } from "../../db/together";
import type { Deps } from "../../dependencies";
import { AppError } from "../../http/errors";
import { rateLimitHeaders } from "../../http/rate-limit";
import { enqueue } from "../../jobs/outbox";
import type { Handlers } from "../../jobs/registry";
import type { JobDeps } from "../../jobs/types";
import { issueAccountToken, requireLiveToken, spendAccountToken } from "./account-tokens";
import { normalizeEmail } from "./service";
import { revokeAllSessions, spendResetTokens } from "./sessions";

export const RESET_TTL_MS = 30 * 60_000;
/** At most one reset e-mail per address per window (the job's dedupe key is per window). */
const RESET_WINDOW_MS = 60_000;

/**
 * POST /auth/password-reset: whatever the address, one outbox row and the same answer. Counted per
 * client address (PASSWORD_RESET_RATE_LIMIT per PASSWORD_RESET_RATE_WINDOW_SECONDS: its own numbers,
 * so opening registrations wide does not open this; its RateLimit headers say nothing of the
 * e-mail address asked for), so no one can mail a victim or fill the queue at will.
 */
export async function requestPasswordReset(email: string, ip: string, deps: Deps): Promise<Record<string, string>> {
  const { passwordResetRateLimit: limit, passwordResetRateWindowSeconds: window } = deps.config;
  const w = await deps.rateLimits.hit(`password-reset:${ip}`, window);
  if (w.count > limit)
    throw new AppError(
      429,
      "rate_limited",
      `Too many reset requests from this address; try again in ${w.resetSeconds} s`,
      undefined,
      rateLimitHeaders(limit, w, true),
    );
  const address = normalizeEmail(email);
  const slot = Math.floor(deps.clock.now().getTime() / RESET_WINDOW_MS);
  await deps.db.transaction((tx) =>
    enqueue(
      tx,
      deps.clock,
      "auth.password-reset",
      { email: address },
      { dedupeKey: `password-reset:${address}:${slot}` },
    ),
  );
  return rateLimitHeaders(limit, w, false);
}

/** The job: for an active account with this address, a token and the e-mail that carries it. */
async function sendResetMail(email: string, deps: JobDeps): Promise<void> {
  const [user] = await deps.db
    .select({ id: users.id, email: users.email, status: users.status })
    .from(users)
    .where(eq(sql`lower(${users.email})`, email));
  if (user?.status !== "active") return;
  const token = await issueAccountToken(deps.db, {
    userId: user.id,
    purpose: "password_reset",
    ttlMs: RESET_TTL_MS,
    now: deps.clock.now(),
  });
  await deps.mailer.send({
    to: user.email,
    subject: "Reset your stayhub password",
    text: `Someone (we hope you) asked to reset your password. Within 30 minutes, send this token to POST /api/v1/auth/password-reset/confirm with your new password:\n\n${token}\n\nIf it was not you, ignore this e-mail: your password stays as it is.`,
  });
}

/** POST /auth/password-reset/confirm: the token once, within its 30 minutes, for this purpose only. */
export async function confirmPasswordReset(
  { token, newPassword }: { token: string; newPassword: string },
  deps: Deps,
): Promise<void> {
  const now = deps.clock.now();
  // Checked before the (deliberately slow) hash, so bad tokens cost little.
  await requireLiveToken(deps.db, token, "password_reset", now);
  const passwordHash = await deps.passwords.hash(newPassword);
  await deps.db.transaction(async (tx) => {
    // Spent here, guarded: of two confirmations of one token, one sets the password.
    const userId = await spendAccountToken(tx, token, "password_reset", now);
    await tx.update(users).set({ passwordHash, updatedAt: now }).where(eq(users.id, userId));
    await together(revokeAllSessions(tx, userId), spendResetTokens(tx, userId, now));
  });
}

export const passwordResetHandlers: Handlers = {
  "auth.password-reset": (job, deps) => sendResetMail(job.payload.email, deps),
};
