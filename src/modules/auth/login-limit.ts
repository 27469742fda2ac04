// Brute-force guard for login: failures are counted per client IP + e-mail; at the limit the
// next attempts are refused with 429 until the window ends. A success clears the count.
import type { Deps } from "../../deps";
import { AppError } from "../../http/errors";
import { rateLimitHeaders } from "../../http/rate-limit";

export async function withLoginLimit<T>(
  deps: Deps,
  ip: string,
  email: string,
  attempt: () => Promise<T>,
): Promise<{ value: T; headers: Record<string, string> }> {
  const { loginRateLimit: limit, loginRateWindowSeconds: window } = deps.config;
  const key = `login:${ip}:${email.trim().toLowerCase()}`;
  const current = await deps.rateLimits.peek(key);
  if (current.count >= limit) {
    throw new AppError(429, "rate_limited", `Too many failed logins; try again in ${current.resetSeconds} s`, undefined,
      rateLimitHeaders(limit, current, true));
  }
  try {
    const value = await attempt();
    await deps.rateLimits.clear(key);
    return { value, headers: rateLimitHeaders(limit, { count: 0, resetSeconds: window }, false) };
  } catch (err) {
    if (err instanceof AppError && err.code === "invalid_credentials") {
      const w = await deps.rateLimits.hit(key, window);
      throw new AppError(err.status, err.code, err.detail, undefined, rateLimitHeaders(limit, w, false));
    }
    throw err;
  }
}
