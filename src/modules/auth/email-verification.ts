// E-mail verification: registering mails a single-use token (valid 24 hours) through the jobs
// system; POST /auth/verify-email spends it and marks the address verified. With
// EMAIL_VERIFICATION=required, listing a property and booking a stay wait for that mark.
import { eq } from "drizzle-orm";
import { users } from "../../db/schema";
import { together } from "../../db/together";
import type { Deps } from "../../dependencies";
import { AppError } from "../../http/errors";
import { rateLimitHeaders } from "../../http/rate-limit";
import { enqueue, type JobSpec } from "../../jobs/outbox";
import type { Handlers } from "../../jobs/registry";
import type { JobDeps } from "../../jobs/types";
import { issueAccountToken, spendAccountToken, spendTokensOf } from "./account-tokens";
import type { Actor } from "./actor";

export const VERIFY_TTL_MS = 24 * 60 * 60_000;
/** Resends per user per hour. */
export const RESEND_LIMIT = 5;
const RESEND_WINDOW_SECONDS = 3600;

/** The job that mails a new account its token, enqueued in the registration's transaction. */
export const verificationMailJob = (userId: string): JobSpec => ({ type: "auth.verify-email", payload: { userId } });

/** 403 email_unverified when verification is required and the actor's address is not verified yet. */
export function requireVerifiedEmail(
  actor: Pick<Actor, "emailVerifiedAt">,
  deps: Pick<Deps, "config">,
  toDo: string,
): void {
  if (deps.config.emailVerification !== "required" || actor.emailVerifiedAt) return;
  throw new AppError(
    403,
    "email_unverified",
    `Verify your e-mail address before you ${toDo}: send the token we e-mailed you to POST /api/v1/auth/verify-email, or ask for a new one with POST /api/v1/auth/verify-email/resend`,
  );
}

/** POST /auth/verify-email: the token once, within its 24 hours; every other verification token of the user is spent with it. */
export async function verifyEmail(token: string, deps: Deps): Promise<void> {
  const now = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    const userId = await spendAccountToken(tx, token, "email_verification", now);
    await together(
      tx.update(users).set({ emailVerifiedAt: now, updatedAt: now }).where(eq(users.id, userId)),
      spendTokensOf(tx, userId, "email_verification", now),
    );
  });
}

/**
 * POST /auth/verify-email/resend: a new e-mail (at most one a minute, RESEND_LIMIT an hour per
 * user); 409 once the address is verified.
 */
export async function resendVerification(actor: Actor, deps: Deps): Promise<Record<string, string>> {
  if (actor.emailVerifiedAt) throw new AppError(409, "invalid_state", "Your e-mail address is verified already");
  const w = await deps.rateLimits.hit(`verify-resend:${actor.id}`, RESEND_WINDOW_SECONDS);
  if (w.count > RESEND_LIMIT)
    throw new AppError(
      429,
      "rate_limited",
      `Too many verification e-mails asked for; try again in ${w.resetSeconds} s`,
      undefined,
      rateLimitHeaders(RESEND_LIMIT, w, true),
    );
  const slot = Math.floor(deps.clock.now().getTime() / 60_000);
  await deps.db.transaction((tx) =>
    enqueue(
      tx,
      deps.clock,
      "auth.verify-email",
      { userId: actor.id },
      { dedupeKey: `verify-email:${actor.id}:${slot}` },
    ),
  );
  return rateLimitHeaders(RESEND_LIMIT, w, false);
}

/** The job: an active account whose address is not verified yet gets a token and its e-mail. */
async function sendVerificationMail(userId: string, deps: JobDeps): Promise<void> {
  const [user] = await deps.db
    .select({ email: users.email, status: users.status, verifiedAt: users.emailVerifiedAt })
    .from(users)
    .where(eq(users.id, userId));
  if (user?.status !== "active" || user.verifiedAt) return;
  const token = await issueAccountToken(deps.db, {
    userId,
    purpose: "email_verification",
    ttlMs: VERIFY_TTL_MS,
    now: deps.clock.now(),
  });
  await deps.mailer.send({
    to: user.email,
    subject: "Verify your stayhub e-mail address",
    text: `Welcome to stayhub. To confirm this is your address, send this token to POST /api/v1/auth/verify-email within 24 hours:\n\n${token}\n\nIf you did not create an account, ignore this e-mail.`,
  });
}

export const emailVerificationHandlers: Handlers = {
  "auth.verify-email": (job, deps) => sendVerificationMail(job.payload.userId, deps),
};
