// The dependency bundle's type, handed to routes, services and jobs: nothing reaches for a global.
// Types only, so a module that takes `deps` imports nothing of how they are built (compose.ts).
import type Redis from "ioredis";
import type { Cache } from "./cache/cache";
import type { Config } from "./config";
import type { Database, Db } from "./db/client";
import type { Metrics } from "./http/metrics";
import type { RateLimitStore } from "./http/rate-limit";
import type { Handlers } from "./jobs/registry";
import type { Breaker } from "./lib/breaker";
import type { Clock, SettableClock } from "./lib/clock";
import type { Logger } from "./lib/log";
import type { Passwords } from "./modules/auth/passwords";
import type { AccessTokens } from "./modules/auth/tokens";
import type { Mailer } from "./modules/notifications/mailer";
import type { PaymentProvider } from "./modules/payments/provider";

export interface Deps {
  config: Config;
  database: Database;
  db: Db;
  clock: Clock;
  /** Present only with TEST_CLOCK=1. */
  testClock: SettableClock | null;
  log: Logger;
  redis: Redis | null;
  /** Open while Redis does not answer (cache and rate limits then run in-process); null without Redis. */
  redisBreaker: Breaker | null;
  rateLimits: RateLimitStore;
  cache: Cache;
  tokens: AccessTokens;
  passwords: Passwords;
  mailer: Mailer;
  /** The payment gateway (PAYMENT_PROVIDER; the simulated one by default). */
  payments: PaymentProvider;
  metrics: Metrics;
  /** Job type → handler (src/job-handlers.ts). */
  handlers: Handlers;
}
