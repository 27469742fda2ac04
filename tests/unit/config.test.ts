import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config";

const load = (env: Record<string, string>) => () => loadConfig(env);

describe("loadConfig", () => {
  test("defaults on an empty environment", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      dataDir: "./data",
      nodeEnv: "development",
      logLevel: "info",
      testClock: false,
      accessTokenTtlSeconds: 900,
    });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(c.workerThreads).toBeGreaterThanOrEqual(1);
  });

  test("a bad value is one clear line naming variable, rule and value", () => {
    expect(load({ PORT: "abc" })).toThrow(new ConfigError('PORT must be an integer 1–65535, got "abc"'));
    expect(load({ PORT: "70000" })).toThrow('PORT must be an integer 1–65535, got "70000"');
    expect(load({ PORT: "0" })).toThrow("PORT must be");
    expect(load({ LOG_LEVEL: "loud" })).toThrow(
      'LOG_LEVEL must be one of debug, info, warn, error, silent, got "loud"',
    );
    expect(load({ DATABASE_URL: "mysql://x" })).toThrow("DATABASE_URL must be a postgres:// URL");
    expect(load({ REDIS_URL: "localhost:6379" })).toThrow("REDIS_URL must be a redis:// URL");
    expect(load({ ACCESS_TOKEN_TTL_SECONDS: "3600" })).toThrow("ACCESS_TOKEN_TTL_SECONDS must be an integer 1–900");
    expect(load({ TEST_CLOCK: "maybe" })).toThrow("TEST_CLOCK must be");
    expect(load({ JWT_SECRET: "short" })).toThrow("JWT_SECRET must be at least 32 characters");
  });

  test("production requires JWT_SECRET and refuses the test clock", () => {
    expect(load({ NODE_ENV: "production" })).toThrow("JWT_SECRET must be set when NODE_ENV=production");
    expect(load({ NODE_ENV: "production", JWT_SECRET: "s".repeat(40), TEST_CLOCK: "1" })).toThrow(
      "TEST_CLOCK must not be enabled",
    );
    expect(loadConfig({ NODE_ENV: "production", JWT_SECRET: "s".repeat(40) }).jwtSecret).toBe("s".repeat(40));
  });

  test("EMAIL_VERIFICATION follows NODE_ENV unless set", () => {
    const secret = "x".repeat(32);
    expect(loadConfig({}).emailVerification).toBe("optional");
    expect(loadConfig({ NODE_ENV: "production", JWT_SECRET: secret }).emailVerification).toBe("required");
    expect(
      loadConfig({ NODE_ENV: "production", JWT_SECRET: secret, EMAIL_VERIFICATION: "optional" }).emailVerification,
    ).toBe("optional");
    expect(loadConfig({ EMAIL_VERIFICATION: "required" }).emailVerification).toBe("required");
    expect(load({ EMAIL_VERIFICATION: "maybe" })).toThrow(
      'EMAIL_VERIFICATION must be required or optional, got "maybe"',
    );
  });

  test("typed conversion", () => {
    const c = loadConfig({
      PORT: "8080",
      TEST_CLOCK: "true",
      WORKER_THREADS: "3",
      REDIS_URL: "redis://127.0.0.1:6379",
    });
    expect(c.port).toBe(8080);
    expect(c.testClock).toBe(true);
    expect(c.workerThreads).toBe(3);
    expect(c.redisUrl).toBe("redis://127.0.0.1:6379");
  });

  test("abuse limits: defaults, and each validated on its own", () => {
    expect(loadConfig({})).toMatchObject({
      bookingHoldsPerHour: 10,
      bookingHoldsPerListingPerDay: 5,
      paymentAttemptsPerBooking: 5,
      paymentAttemptsPerUserPerHour: 10,
      paymentFailuresPerUserPerHour: 5,
      passwordResetRateLimit: 10,
      passwordResetRateWindowSeconds: 3600,
      registerRateLimit: 20,
    });
    for (const name of [
      "BOOKING_HOLDS_PER_HOUR",
      "BOOKING_HOLDS_PER_LISTING_PER_DAY",
      "PAYMENT_ATTEMPTS_PER_BOOKING",
      "PAYMENT_ATTEMPTS_PER_USER_PER_HOUR",
      "PAYMENT_FAILURES_PER_USER_PER_HOUR",
      "PASSWORD_RESET_RATE_LIMIT",
      "PASSWORD_RESET_RATE_WINDOW_SECONDS",
    ])
      expect(load({ [name]: "0" })).toThrow(`${name} must be an integer 1–`);
    expect(load({ PASSWORD_RESET_RATE_WINDOW_SECONDS: "86401" })).toThrow("PASSWORD_RESET_RATE_WINDOW_SECONDS must be");
    // The reset limit no longer follows the registration limit.
    expect(loadConfig({ REGISTER_RATE_LIMIT: "500" }).passwordResetRateLimit).toBe(10);
  });

  test("empty values count as unset", () => {
    expect(loadConfig({ DATABASE_URL: "", PORT: "" }).port).toBe(3000);
  });
});
