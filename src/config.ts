// Environment → typed, validated Config. A bad value stops the process with one clear line.
import { type Static, Type as T, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

const LogLevel = T.Union([
  T.Literal("debug"),
  T.Literal("info"),
  T.Literal("warn"),
  T.Literal("error"),
  T.Literal("silent"),
]);

export const ConfigSchema = T.Object({
  nodeEnv: T.Union([T.Literal("development"), T.Literal("production"), T.Literal("test")]),
  port: T.Integer({ minimum: 1, maximum: 65535 }),
  host: T.String({ minLength: 1 }),
  databaseUrl: T.Optional(T.String({ pattern: "^postgres(ql)?://" })),
  dbPoolSize: T.Integer({ minimum: 1, maximum: 200 }),
  redisUrl: T.Optional(T.String({ pattern: "^rediss?://" })),
  redisPrefix: T.String({ minLength: 1, maxLength: 64 }),
  dataDir: T.String({ minLength: 1 }),
  jwtSecret: T.Optional(T.String({ minLength: 32 })),
  accessTokenTtlSeconds: T.Integer({ minimum: 1, maximum: 900 }),
  refreshTokenTtlDays: T.Integer({ minimum: 1, maximum: 365 }),
  loginRateLimit: T.Integer({ minimum: 1, maximum: 10_000 }),
  loginRateWindowSeconds: T.Integer({ minimum: 1, maximum: 86_400 }),
  registerRateLimit: T.Integer({ minimum: 1, maximum: 100_000 }),
  bodyTimeoutMs: T.Integer({ minimum: 100, maximum: 600_000 }),
  shutdownTimeoutMs: T.Integer({ minimum: 100, maximum: 600_000 }),
  registerRateWindowSeconds: T.Integer({ minimum: 1, maximum: 86_400 }),
  passwordResetRateLimit: T.Integer({ minimum: 1, maximum: 100_000 }),
  passwordResetRateWindowSeconds: T.Integer({ minimum: 1, maximum: 86_400 }),
  workerThreads: T.Integer({ minimum: 0, maximum: 256 }),
  paymentWebhookSecret: T.Optional(T.String({ minLength: 16 })),
  logLevel: LogLevel,
  smtpUrl: T.Optional(T.String({ pattern: "^smtps?://" })),
  testClock: T.Boolean(),
  cache: T.Boolean(),
  testJobs: T.Boolean(),
  jobVisibilityTimeoutMs: T.Integer({ minimum: 100, maximum: 3_600_000 }),
  jobMaxAttempts: T.Integer({ minimum: 1, maximum: 50 }),
  jobBackoffMs: T.Integer({ minimum: 1, maximum: 600_000 }),
  jobConcurrency: T.Integer({ minimum: 1, maximum: 256 }),
  trustProxy: T.Boolean(),
  maxPendingBookings: T.Integer({ minimum: 1, maximum: 1000 }),
  hostFeePercent: T.Integer({ minimum: 0, maximum: 50 }),
  requestExpiryHours: T.Integer({ minimum: 1, maximum: 720 }),
  payoutReleaseHours: T.Integer({ minimum: 0, maximum: 8760 }),
  payoutMinimum: T.Integer({ minimum: 1, maximum: 100_000_000 }),
  bookingHoldsPerHour: T.Integer({ minimum: 1, maximum: 100_000 }),
  bookingHoldsPerListingPerDay: T.Integer({ minimum: 1, maximum: 100_000 }),
  paymentAttemptsPerBooking: T.Integer({ minimum: 1, maximum: 1000 }),
  paymentAttemptsPerUserPerHour: T.Integer({ minimum: 1, maximum: 100_000 }),
  paymentFailuresPerUserPerHour: T.Integer({ minimum: 1, maximum: 100_000 }),
  paymentProvider: T.Literal("simulated"),
  paymentProviderLatencyMs: T.Integer({ minimum: 0, maximum: 60_000 }),
  paymentChargeInline: T.Boolean(),
  emailVerification: T.Union([T.Literal("required"), T.Literal("optional")]),
  graphqlIntrospection: T.Boolean(),
});
export type Config = Static<typeof ConfigSchema>;

type Key = keyof Config;
interface Var {
  env: string;
  rule: string;
  default?: string;
  kind: "string" | "int" | "bool";
}

// Each setting: where it comes from, its default, and the rule quoted when it is broken.
const vars: Record<Key, Var> = {
  nodeEnv: { env: "NODE_ENV", rule: "one of development, production, test", default: "development", kind: "string" },
  port: { env: "PORT", rule: "an integer 1–65535", default: "3000", kind: "int" },
  host: { env: "HOST", rule: "a host name or address", default: "0.0.0.0", kind: "string" },
  databaseUrl: { env: "DATABASE_URL", rule: "a postgres:// URL", kind: "string" },
  dbPoolSize: { env: "DB_POOL_SIZE", rule: "an integer 1–200", default: "10", kind: "int" },
  redisUrl: { env: "REDIS_URL", rule: "a redis:// URL", kind: "string" },
  redisPrefix: { env: "REDIS_PREFIX", rule: "a key prefix of 1–64 characters", default: "stayhub:", kind: "string" },
  dataDir: { env: "DATA_DIR", rule: "a directory path", default: "./data", kind: "string" },
  jwtSecret: { env: "JWT_SECRET", rule: "at least 32 characters", kind: "string" },
  accessTokenTtlSeconds: { env: "ACCESS_TOKEN_TTL_SECONDS", rule: "an integer 1–900", default: "900", kind: "int" },
  refreshTokenTtlDays: { env: "REFRESH_TOKEN_TTL_DAYS", rule: "an integer 1–365", default: "30", kind: "int" },
  loginRateLimit: { env: "LOGIN_RATE_LIMIT", rule: "an integer 1–10000", default: "5", kind: "int" },
  loginRateWindowSeconds: { env: "LOGIN_RATE_WINDOW_SECONDS", rule: "an integer 1–86400", default: "900", kind: "int" },
  registerRateLimit: { env: "REGISTER_RATE_LIMIT", rule: "an integer 1–100000", default: "20", kind: "int" },
  bodyTimeoutMs: { env: "BODY_TIMEOUT_MS", rule: "an integer 100–600000", default: "10000", kind: "int" },
  shutdownTimeoutMs: { env: "SHUTDOWN_TIMEOUT_MS", rule: "an integer 100–600000", default: "20000", kind: "int" },
  registerRateWindowSeconds: {
    env: "REGISTER_RATE_WINDOW_SECONDS",
    rule: "an integer 1–86400",
    default: "3600",
    kind: "int",
  },
  passwordResetRateLimit: {
    env: "PASSWORD_RESET_RATE_LIMIT",
    rule: "an integer 1–100000",
    default: "10",
    kind: "int",
  },
  passwordResetRateWindowSeconds: {
    env: "PASSWORD_RESET_RATE_WINDOW_SECONDS",
    rule: "an integer 1–86400",
    default: "3600",
    kind: "int",
  },
  workerThreads: {
    env: "WORKER_THREADS",
    rule: "an integer 0–256",
    default: String(navigator.hardwareConcurrency || 2),
    kind: "int",
  },
  paymentWebhookSecret: { env: "PAYMENT_WEBHOOK_SECRET", rule: "at least 16 characters", kind: "string" },
  logLevel: { env: "LOG_LEVEL", rule: "one of debug, info, warn, error, silent", default: "info", kind: "string" },
  smtpUrl: { env: "SMTP_URL", rule: "an smtp:// or smtps:// URL", kind: "string" },
  testClock: { env: "TEST_CLOCK", rule: "1/true or 0/false", default: "0", kind: "bool" },
  cache: { env: "CACHE", rule: "1/true or 0/false", default: "1", kind: "bool" },
  testJobs: { env: "TEST_JOBS", rule: "1/true or 0/false", default: "0", kind: "bool" },
  jobVisibilityTimeoutMs: {
    env: "JOB_VISIBILITY_TIMEOUT_MS",
    rule: "an integer 100–3600000",
    default: "30000",
    kind: "int",
  },
  jobMaxAttempts: { env: "JOB_MAX_ATTEMPTS", rule: "an integer 1–50", default: "5", kind: "int" },
  jobBackoffMs: { env: "JOB_BACKOFF_MS", rule: "an integer 1–600000", default: "500", kind: "int" },
  jobConcurrency: { env: "JOB_CONCURRENCY", rule: "an integer 1–256", default: "8", kind: "int" },
  trustProxy: { env: "TRUST_PROXY", rule: "1/true or 0/false", default: "0", kind: "bool" },
  maxPendingBookings: { env: "MAX_PENDING_BOOKINGS", rule: "an integer 1–1000", default: "3", kind: "int" },
  hostFeePercent: { env: "HOST_FEE_PERCENT", rule: "an integer 0–50", default: "3", kind: "int" },
  requestExpiryHours: { env: "REQUEST_EXPIRY_HOURS", rule: "an integer 1–720", default: "24", kind: "int" },
  payoutReleaseHours: { env: "PAYOUT_RELEASE_HOURS", rule: "an integer 0–8760", default: "24", kind: "int" },
  payoutMinimum: { env: "PAYOUT_MINIMUM", rule: "an integer 1–100000000 (minor units)", default: "1000", kind: "int" },
  bookingHoldsPerHour: { env: "BOOKING_HOLDS_PER_HOUR", rule: "an integer 1–100000", default: "10", kind: "int" },
  bookingHoldsPerListingPerDay: {
    env: "BOOKING_HOLDS_PER_LISTING_PER_DAY",
    rule: "an integer 1–100000",
    default: "5",
    kind: "int",
  },
  paymentAttemptsPerBooking: {
    env: "PAYMENT_ATTEMPTS_PER_BOOKING",
    rule: "an integer 1–1000",
    default: "5",
    kind: "int",
  },
  paymentAttemptsPerUserPerHour: {
    env: "PAYMENT_ATTEMPTS_PER_USER_PER_HOUR",
    rule: "an integer 1–100000",
    default: "10",
    kind: "int",
  },
  paymentFailuresPerUserPerHour: {
    env: "PAYMENT_FAILURES_PER_USER_PER_HOUR",
    rule: "an integer 1–100000",
    default: "5",
    kind: "int",
  },
  paymentProvider: {
    env: "PAYMENT_PROVIDER",
    rule: "simulated (the only provider built in; README: adding one)",
    default: "simulated",
    kind: "string",
  },
  paymentProviderLatencyMs: {
    env: "PAYMENT_PROVIDER_LATENCY_MS",
    rule: "an integer 0–60000",
    default: "5",
    kind: "int",
  },
  paymentChargeInline: { env: "PAYMENT_CHARGE_INLINE", rule: "1/true or 0/false", default: "1", kind: "bool" },
  // No default here: it follows NODE_ENV (required in production, optional otherwise).
  emailVerification: { env: "EMAIL_VERIFICATION", rule: "required or optional", kind: "string" },
  // No default here either: on outside production.
  graphqlIntrospection: { env: "GRAPHQL_INTROSPECTION", rule: "1/true or 0/false", kind: "bool" },
};

export class ConfigError extends Error {}

function convert(raw: string, kind: Var["kind"]): unknown {
  if (kind === "int") return /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (kind === "bool") {
    const v = raw.trim().toLowerCase();
    if (["1", "true", "yes", "on"].includes(v)) return true;
    if (["0", "false", "no", "off", ""].includes(v)) return false;
    return raw;
  }
  return raw;
}

/** Reads the environment; throws ConfigError with one line naming the variable, the rule and the value. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const out: Record<string, unknown> = {};
  const props = ConfigSchema.properties as Record<Key, TSchema>;
  for (const [key, spec] of Object.entries(vars) as [Key, Var][]) {
    const given = env[spec.env];
    const raw = given === undefined || given === "" ? spec.default : given;
    if (raw === undefined) continue;
    const value = convert(raw, spec.kind);
    if (!Value.Check(props[key], value)) throw new ConfigError(`${spec.env} must be ${spec.rule}, got "${raw}"`);
    out[key] = value;
  }
  out.emailVerification ??= out.nodeEnv === "production" ? "required" : "optional";
  out.graphqlIntrospection ??= out.nodeEnv !== "production";
  const config = out as Config;
  if (config.nodeEnv === "production") {
    if (!config.jwtSecret) throw new ConfigError("JWT_SECRET must be set when NODE_ENV=production");
    if (config.testClock) throw new ConfigError("TEST_CLOCK must not be enabled when NODE_ENV=production");
    if (config.testJobs) throw new ConfigError("TEST_JOBS must not be enabled when NODE_ENV=production");
  }
  return config;
}
