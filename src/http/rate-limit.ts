// Fixed-window counters for rate limits: Redis when configured (shared by every instance),
// an in-process map otherwise.
import type Redis from "ioredis";
import type { Breaker } from "../lib/breaker";
import { AppError } from "./errors";

export interface RateWindow {
  /** Hits counted in the current window, including this one for `hit`. */
  count: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

export interface RateLimitStore {
  /** Counts one hit against key; the window starts at the first hit. */
  hit(key: string, windowSeconds: number): Promise<RateWindow>;
  peek(key: string): Promise<RateWindow>;
  clear(key: string): Promise<void>;
  /** Takes back one hit (never below zero), for an attempt that turned out not to count. */
  undo(key: string): Promise<void>;
}

export class MemoryRateLimitStore implements RateLimitStore {
  private windows = new Map<string, { count: number; resetAt: number }>();

  constructor(private now: () => number = () => performance.timeOrigin + performance.now()) {}

  async hit(key: string, windowSeconds: number): Promise<RateWindow> {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      if (this.windows.size > 100_000) this.sweep(now);
      w = { count: 0, resetAt: now + windowSeconds * 1000 };
      this.windows.set(key, w);
    }
    w.count++;
    return { count: w.count, resetSeconds: Math.max(1, Math.ceil((w.resetAt - now) / 1000)) };
  }

  async peek(key: string): Promise<RateWindow> {
    const now = this.now();
    const w = this.windows.get(key);
    if (!w || w.resetAt <= now) return { count: 0, resetSeconds: 0 };
    return { count: w.count, resetSeconds: Math.max(1, Math.ceil((w.resetAt - now) / 1000)) };
  }

  async clear(key: string): Promise<void> {
    this.windows.delete(key);
  }

  async undo(key: string): Promise<void> {
    const w = this.windows.get(key);
    if (w && w.count > 0) w.count--;
  }

  private sweep(now: number) {
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
  }
}

// INCR and set the expiry on the first hit, atomically; answers [count, ttl in ms].
const HIT = `local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {c, redis.call('PTTL', KEYS[1])}`;
// DECR only a window that exists and is above zero (a DECR on a missing key would make one without expiry).
const UNDO = `local c = tonumber(redis.call('GET', KEYS[1]) or '0')
if c > 0 then redis.call('DECR', KEYS[1]) end
return c`;

export class RedisRateLimitStore implements RateLimitStore {
  constructor(
    private redis: Redis,
    private prefix: string,
  ) {}

  async hit(key: string, windowSeconds: number): Promise<RateWindow> {
    const [count, ttl] = (await this.redis.eval(HIT, 1, `${this.prefix}rl:${key}`, windowSeconds * 1000)) as [
      number,
      number,
    ];
    return { count, resetSeconds: Math.max(1, Math.ceil(ttl / 1000)) };
  }

  async peek(key: string): Promise<RateWindow> {
    const k = `${this.prefix}rl:${key}`;
    const [[, count], [, ttl]] = (await this.redis.multi().get(k).pttl(k).exec()) as [
      [null, string | null],
      [null, number],
    ];
    if (count === null || ttl <= 0) return { count: 0, resetSeconds: 0 };
    return { count: Number(count), resetSeconds: Math.max(1, Math.ceil(ttl / 1000)) };
  }

  async clear(key: string): Promise<void> {
    await this.redis.del(`${this.prefix}rl:${key}`);
  }

  async undo(key: string): Promise<void> {
    await this.redis.eval(UNDO, 1, `${this.prefix}rl:${key}`);
  }
}

/** The RateLimit-* headers of draft-ietf-httpapi-ratelimit-headers, plus Retry-After when refused. */
export function rateLimitHeaders(limit: number, w: RateWindow, refused: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    "ratelimit-limit": String(limit),
    "ratelimit-remaining": String(Math.max(0, limit - w.count)),
    "ratelimit-reset": String(w.resetSeconds),
  };
  if (refused) headers["retry-after"] = String(w.resetSeconds);
  return headers;
}

/** A verb's value with the RateLimit-* headers its answer carries. */
export interface Limited<T> {
  value: T;
  headers: Record<string, string>;
}

/**
 * A limit counted from the records of what it limits (rows with their times) rather than in this
 * store: `used` before the attempt, `resetSeconds` until one more would fit (or, with room left,
 * until the quota grows again).
 */
export interface CountedLimit {
  limit: number;
  used: number;
  resetSeconds: number;
}

/**
 * The reset of a sliding window over past attempts (`times`, ascending ms, all within the window):
 * at or over `limit`, when enough have left it for one more; under it, when the oldest leaves
 * (none yet: a whole window, that of the attempt being made).
 */
export function slidingReset(times: number[], limit: number, windowMs: number, now: number): number {
  const leaving = times.length >= limit ? times[times.length - limit] : times[0];
  return Math.max(1, Math.ceil(((leaving ?? now) + windowMs - now) / 1000));
}

/**
 * One more attempt under several counted limits: 429 rate_limited when any is used up (Retry-After:
 * when every one used up has room again), else the RateLimit-* headers of the one with the least
 * left after it (then the longest wait).
 */
export function admitAttempt(
  limits: CountedLimit[],
  detail: (broken: CountedLimit, retryAfterSeconds: number) => string,
): Record<string, string> {
  const broken = limits.filter((l) => l.used >= l.limit);
  const longest = (a: CountedLimit, b: CountedLimit) => (b.resetSeconds > a.resetSeconds ? b : a);
  if (broken.length) {
    const last = broken.reduce(longest);
    throw new AppError(
      429,
      "rate_limited",
      detail(last, last.resetSeconds),
      undefined,
      rateLimitHeaders(last.limit, { count: last.used + 1, resetSeconds: last.resetSeconds }, true),
    );
  }
  const left = (l: CountedLimit) => l.limit - l.used;
  const shown = limits.reduce((a, b) => (left(b) < left(a) ? b : left(b) === left(a) ? longest(a, b) : a));
  return rateLimitHeaders(shown.limit, { count: shown.used + 1, resetSeconds: shown.resetSeconds }, false);
}

/**
 * Redis first; when Redis fails or is slow (one timeout), the breaker opens and the in-process
 * windows count every call at once until its probe finds Redis again, so an outage neither fails
 * logins (500), nor slows them, nor lifts the brute-force limit (it becomes per instance instead).
 */
export class FallbackRateLimitStore implements RateLimitStore {
  constructor(
    private primary: RateLimitStore,
    private fallback: RateLimitStore,
    private breaker: Breaker,
    private timeoutMs = 250,
  ) {}

  private attempt<T>(op: (s: RateLimitStore) => Promise<T>): Promise<T> {
    return this.breaker.run(
      () => op(this.primary),
      () => op(this.fallback),
      this.timeoutMs,
      "rate-limit store",
    );
  }

  hit(key: string, windowSeconds: number): Promise<RateWindow> {
    return this.attempt((s) => s.hit(key, windowSeconds));
  }

  peek(key: string): Promise<RateWindow> {
    return this.attempt((s) => s.peek(key));
  }

  clear(key: string): Promise<void> {
    return this.attempt((s) => s.clear(key));
  }

  undo(key: string): Promise<void> {
    return this.attempt((s) => s.undo(key));
  }
}
