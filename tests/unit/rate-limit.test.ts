import { describe, expect, test } from "bun:test";
import { MemoryRateLimitStore, rateLimitHeaders } from "../../src/http/rate-limit";

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
