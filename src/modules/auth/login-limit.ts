// Brute-force guard for password checks. Every attempt is counted *before* the password is
// verified (so parallel guesses cannot all slip under the limit), per client IP + e-mail and,
// more loosely, per client IP across e-mails; a success clears the IP + e-mail count.
import type { Deps } from "../../dependencies";
import { AppError } from "../../http/errors";
import { type Limited, type RateWindow, rateLimitHeaders } from "../../http/rate-limit";

export type { Limited };

/** How many more attempts one IP may spread over many e-mails than over one. */
export const PER_IP_FACTOR = 20;

/** Runs `attempt` unless the keys are over the limit (429); verbs call it, so every caller is limited. */
export async function withAttemptLimit<T>(
  deps: Deps,
  keys: { strict: string; loose?: string },
  attempt: () => Promise<T>,
): Promise<Limited<T>> {
  const { loginRateLimit: limit, loginRateWindowSeconds: window } = deps.config;
  const [strict, loose] = await Promise.all([
    deps.rateLimits.hit(keys.strict, window),
    keys.loose ? deps.rateLimits.hit(keys.loose, window) : Promise.resolve<RateWindow | null>(null),
  ]);
  const refusedBy = strict.count > limit ? strict : loose && loose.count > limit * PER_IP_FACTOR ? loose : null;
  if (refusedBy) {
    throw new AppError(
      429,
      "rate_limited",
      `Too many attempts; try again in ${refusedBy.resetSeconds} s`,
      undefined,
      rateLimitHeaders(limit, refusedBy, true),
    );
  }
  try {
    const value = await attempt();
    // A success is no guess: it clears the e-mail's count and does not count against the address
    // (a NAT full of people who know their passwords is never locked out).
    await Promise.all([deps.rateLimits.clear(keys.strict), keys.loose ? deps.rateLimits.undo(keys.loose) : undefined]);
    return { value, headers: rateLimitHeaders(limit, { count: 0, resetSeconds: window }, false) };
  } catch (err) {
    if (err instanceof AppError && err.code === "invalid_credentials") {
      throw new AppError(err.status, err.code, err.detail, undefined, rateLimitHeaders(limit, strict, false));
    }
    throw err;
  }
}

export const loginKeys = (ip: string, email: string) => ({
  strict: `login:${ip}:${email.trim().toLowerCase()}`,
  loose: `login-ip:${ip}`,
});
export const passwordChangeKeys = (userId: string) => ({ strict: `password:${userId}` });

/**
 * Account creation per client address: every registration counts, successful or not (a script
 * making thousands of accounts is what this stops). 429 with Retry-After past the limit.
 */
export async function countRegistration(deps: Deps, ip: string): Promise<Record<string, string>> {
  const { registerRateLimit: limit, registerRateWindowSeconds: window } = deps.config;
  const w = await deps.rateLimits.hit(`register:${ip}`, window);
  if (w.count > limit)
    throw new AppError(
      429,
      "rate_limited",
      `Too many registrations from this address; try again in ${w.resetSeconds} s`,
      undefined,
      rateLimitHeaders(limit, w, true),
    );
  return rateLimitHeaders(limit, w, false);
}
