// The composition root: builds the dependency bundle (its type, Deps, is in dependencies.ts) —
// connections, caches, clocks, mailer, payment provider and the job handlers.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Redis from "ioredis";
import { type Cache, MemoryCache, NoCache, RedisCache, SafeCache, TieredCache } from "./cache/cache";
import type { Config } from "./config";
import { type Database, openDatabase } from "./db/client";
import type { Deps } from "./dependencies";
import { Metrics } from "./http/metrics";
import { FallbackRateLimitStore, MemoryRateLimitStore, RedisRateLimitStore } from "./http/rate-limit";
import { jobHandlers } from "./job-handlers";
import { Breaker } from "./lib/breaker";
import { SharedTestClock, systemClock } from "./lib/clock";
import { createLogger, type Logger } from "./lib/log";
import { createPasswords, type Passwords } from "./modules/auth/passwords";
import { createAccessTokens } from "./modules/auth/tokens";
import { createMailer, type Mailer } from "./modules/notifications/mailer";
import type { PaymentProvider } from "./modules/payments/provider";
import { simulatedProvider } from "./modules/payments/simulated";
import { PropertyDto } from "./modules/properties/schemas";

export type { Deps } from "./dependencies";

// Cached answers are keyed by the shape of what they hold: a deploy that changes a DTO never
// reads entries written by the previous version.
const CACHE_SHAPE = Bun.hash(JSON.stringify(PropertyDto)).toString(36);

/** JWT_SECRET, or in development a random one made once and kept in DATA_DIR so tokens survive restarts. */
export function resolveJwtSecret(config: Config): string {
  if (config.jwtSecret) return config.jwtSecret;
  mkdirSync(config.dataDir, { recursive: true });
  const file = join(config.dataDir, "jwt-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64url");
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

export function connectRedis(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    lazyConnect: false,
    // Requests must not hang on a dead Redis: fail fast and let callers degrade.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}

/** Logs a connection's first error and its recovery, not each failed reconnect in between. */
export function reportOnce(connection: Redis, what: string, log: Logger): void {
  let down = false;
  connection.on("error", (err: Error) => {
    if (down) return;
    down = true;
    log.warn(`${what} lost; reconnecting`, { error: err.message });
  });
  connection.on("ready", () => {
    if (!down) return;
    down = false;
    log.info(`${what} back`);
  });
}

function createCache(config: Config, redis: Redis | null, breaker: Breaker | null, log: Logger): Cache {
  if (!config.cache) return new NoCache();
  // Only Redis can fail or stall; the in-process cache needs no guard on its hot path.
  if (!redis || !breaker) return new MemoryCache();
  const shared = new RedisCache(redis, `${config.redisPrefix}cache:`, CACHE_SHAPE);
  const safe = new SafeCache(shared, new MemoryCache(), breaker);
  // The channel's subscriber reports its own first failure (each reconnect would say it again).
  let channelDown = false;
  return new TieredCache(redis, safe, shared.channel, {
    onError: (err) => {
      if (channelDown) return;
      channelDown = true;
      log.warn("cache invalidation channel lost; local copies are off until it is back", { error: err.message });
    },
    onReady: () => {
      channelDown = false;
    },
  });
}

export interface DepsOverrides {
  database?: Database;
  log?: Logger;
  passwords?: Passwords;
  redis?: Redis | null;
  mailer?: Mailer;
  payments?: PaymentProvider;
  poolSize?: number;
}

export async function createDeps(config: Config, overrides: DepsOverrides = {}): Promise<Deps> {
  const log = overrides.log ?? createLogger(config.logLevel);
  const database =
    overrides.database ??
    (await openDatabase({
      url: config.databaseUrl,
      dataDir: config.dataDir,
      poolSize: overrides.poolSize ?? config.dbPoolSize,
    }));
  const redis =
    overrides.redis !== undefined
      ? overrides.redis
      : config.redisUrl
        ? connectRedis(config.redisUrl, "stayhub-api")
        : null;
  // ioredis reports every failed reconnect; one line per state change is what an operator reads.
  if (redis) reportOnce(redis, "Redis connection", log);
  // One breaker for Redis, shared by the cache and the rate limits: the first timeout or error
  // sends both in-process at once, and a ping each second brings them back.
  const redisBreaker = redis
    ? new Breaker(
        () => redis.ping(),
        (open, reason) =>
          open
            ? log.warn("Redis unreachable: cache and rate limits are in-process until it answers", { error: reason })
            : log.info("Redis answers again: cache and rate limits are back on Redis"),
      )
    : null;
  const testClock = config.testClock ? new SharedTestClock() : null;
  return {
    config,
    database,
    db: database.db,
    clock: testClock ?? systemClock,
    testClock,
    log,
    redis,
    rateLimits:
      redis && redisBreaker
        ? new FallbackRateLimitStore(
            new RedisRateLimitStore(redis, config.redisPrefix),
            new MemoryRateLimitStore(),
            redisBreaker,
          )
        : new MemoryRateLimitStore(),
    cache: createCache(config, redis, redisBreaker, log),
    redisBreaker,
    tokens: createAccessTokens(resolveJwtSecret(config), config.accessTokenTtlSeconds),
    passwords: overrides.passwords ?? createPasswords(),
    mailer: overrides.mailer ?? createMailer(config.smtpUrl, log, { logBodies: config.nodeEnv !== "production" }),
    payments:
      overrides.payments ??
      simulatedProvider(database.db, {
        latencyMs: config.paymentProviderLatencyMs,
        testTokens: config.testJobs,
        clock: testClock ?? systemClock,
      }),
    metrics: new Metrics(),
    handlers: jobHandlers(config),
  };
}

export async function closeDeps(deps: Deps): Promise<void> {
  if (deps.testClock instanceof SharedTestClock) deps.testClock.close();
  deps.redisBreaker?.close();
  await deps.database.close();
  await deps.cache.close?.();
  if (deps.redis) await deps.redis.quit().catch(() => deps.redis?.disconnect());
  deps.log.flush();
}
