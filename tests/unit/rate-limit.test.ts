import { describe, expect, test } from "bun:test";
import { AppError } from "../../src/http/errors";
import { admitAttempt, MemoryRateLimitStore, rateLimitHeaders, slidingReset } from "../../src/http/rate-limit";

describe("MemoryRateLimitStore", () => {
  test("counts hits in a fixed window and resets after it", async () => {
    let now = 1_000_000;
    const store = new MemoryRateLimitStore(() => now);
    expect(await store.hit("k", 60)).toEqual({ count: 1, resetSeconds: 60 });
    now += 10_000;
    expect(await store.hit("k", 60)).toEqual({ count: 2, resetSeconds: 50 });
    expect(await store.peek("k")).toEqual({ count: 2, resetSeconds: 50 });
    now += 50_000;
    expect(await store.peek("k")).toEqual({ count: 0, resetSeconds: 0 });
    expect((await store.hit("k", 60)).count).toBe(1);
  });

  test("keys are independent and clear forgets", async () => {
    const store = new MemoryRateLimitStore(() => 0);
    await store.hit("a", 60);
    await store.hit("a", 60);
    await store.hit("b", 60);
    expect((await store.peek("a")).count).toBe(2);
    await store.clear("a");
    expect((await store.peek("a")).count).toBe(0);
    expect((await store.peek("b")).count).toBe(1);
  });
});

test("rateLimitHeaders", () => {
  expect(rateLimitHeaders(5, { count: 2, resetSeconds: 30 }, false)).toEqual({
    "ratelimit-limit": "5",
    "ratelimit-remaining": "3",
    "ratelimit-reset": "30",
  });
  expect(rateLimitHeaders(5, { count: 7, resetSeconds: 30 }, true)).toMatchObject({
    "ratelimit-remaining": "0",
    "retry-after": "30",
  });
});

describe("limits counted from records (sliding windows)", () => {
  const HOUR = 3_600_000;
  const now = 10 * HOUR;

  test("slidingReset: under the limit, when the oldest leaves; at or over it, when one more fits", () => {
    expect(slidingReset([], 3, HOUR, now)).toBe(3600);
    expect(slidingReset([now - 600_000], 3, HOUR, now)).toBe(3000);
    // Three of three used: room again when the oldest leaves.
    expect(slidingReset([now - 3_000_000, now - 2_000_000, now - 1_000], 3, HOUR, now)).toBe(600);
    // Five against a limit of three (a burst slipped through): room when the third oldest leaves.
    const five = [now - 3_500_000, now - 3_000_000, now - 2_000_000, now - 1_000_000, now - 1_000];
    expect(slidingReset(five, 3, HOUR, now)).toBe(1600);
  });

  test("admitAttempt: the tightest limit's headers; past any, 429 with the longest wait", () => {
    const hourly = { limit: 10, used: 3, resetSeconds: 3000 };
    const daily = { limit: 5, used: 3, resetSeconds: 80_000 };
    expect(admitAttempt([hourly, daily], () => "no")).toEqual({
      "ratelimit-limit": "5",
      "ratelimit-remaining": "1",
      "ratelimit-reset": "80000",
    });
    // The last one left is still admitted (used 4 of 5: this is the fifth).
    expect(admitAttempt([{ ...daily, used: 4 }], () => "no")["ratelimit-remaining"]).toBe("0");
    let refused: unknown;
    try {
      admitAttempt(
        [
          { ...hourly, used: 10 },
          { ...daily, used: 5 },
        ],
        (broken, wait) => `${broken.limit} ${wait}`,
      );
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(AppError);
    const e = refused as AppError;
    expect([e.status, e.code, e.detail]).toEqual([429, "rate_limited", "5 80000"]);
    expect(e.headers).toEqual({
      "ratelimit-limit": "5",
      "ratelimit-remaining": "0",
      "ratelimit-reset": "80000",
      "retry-after": "80000",
    });
  });
});
