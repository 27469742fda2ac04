// The Redis rate-limit store against real Redis, and the fallback when Redis is gone.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { FallbackRateLimitStore, MemoryRateLimitStore, RedisRateLimitStore } from "../../src/http/rate-limit";
import { Breaker } from "../../src/lib/breaker";
import { createTestRedis, type TestRedis } from "../support/services";

let tr: TestRedis;
beforeAll(async () => {
  tr = await createTestRedis();
}, 60_000);
afterAll(() => tr?.cleanup());

describe.if(Boolean(process.env.REDIS_URL))("RedisRateLimitStore", () => {
  test("counts, expires with the window, clears", async () => {
    const store = new RedisRateLimitStore(tr.redis as Redis, tr.prefix);
    expect(await store.hit("k", 60)).toEqual({ count: 1, resetSeconds: 60 });
    expect((await store.hit("k", 60)).count).toBe(2);
    expect(await store.peek("k")).toMatchObject({ count: 2 });
    expect((await store.peek("k")).resetSeconds).toBeGreaterThan(58);
    await store.clear("k");
    expect(await store.peek("k")).toEqual({ count: 0, resetSeconds: 0 });
    await store.hit("short", 1);
    await Bun.sleep(1100);
    expect((await store.peek("short")).count).toBe(0);
  });

  test("undo takes one hit back, never below zero, never creating a window", async () => {
    for (const store of [new RedisRateLimitStore(tr.redis as Redis, tr.prefix), new MemoryRateLimitStore()]) {
      await store.hit("u", 60);
      await store.hit("u", 60);
      await store.undo("u");
      expect((await store.peek("u")).count).toBe(1);
      await store.undo("u");
      await store.undo("u");
      expect((await store.peek("u")).count).toBe(0);
      await store.undo("never");
      expect(await store.peek("never")).toEqual({ count: 0, resetSeconds: 0 });
    }
  });

  test("concurrent hits are all counted (INCR is atomic)", async () => {
    const store = new RedisRateLimitStore(tr.redis as Redis, tr.prefix);
    await Promise.all(Array.from({ length: 50 }, () => store.hit("many", 60)));
    expect((await store.peek("many")).count).toBe(50);
  });
});

describe("FallbackRateLimitStore", () => {
  test("Redis unreachable: answers from the in-process store, warns, never throws", async () => {
    const dead = new Redis("redis://127.0.0.1:1", {
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    dead.on("error", () => {});
    const warnings: string[] = [];
    const breaker = new Breaker(
      () => dead.ping(),
      (open) => void (open && warnings.push("open")),
      50,
      50,
    );
    const store = new FallbackRateLimitStore(
      new RedisRateLimitStore(dead, "x:"),
      new MemoryRateLimitStore(),
      breaker,
      100,
    );
    expect((await store.hit("k", 60)).count).toBe(1);
    expect((await store.hit("k", 60)).count).toBe(2);
    expect((await store.peek("k")).count).toBe(2);
    await store.clear("k");
    expect((await store.peek("k")).count).toBe(0);
    expect(warnings.length).toBe(1); // one warning per state change, not one per call
    breaker.close();
    dead.disconnect();
  });

  test("a hanging store is given up on after the timeout", async () => {
    const hanging = {
      hit: () => new Promise<never>(() => {}),
      peek: () => new Promise<never>(() => {}),
      clear: () => new Promise<never>(() => {}),
      undo: () => new Promise<never>(() => {}),
    };
    const breaker = new Breaker(
      () => new Promise(() => {}),
      () => {},
      50,
      50,
    );
    const store = new FallbackRateLimitStore(hanging, new MemoryRateLimitStore(), breaker, 50);
    const t0 = performance.now();
    expect((await store.hit("k", 60)).count).toBe(1);
    expect(performance.now() - t0).toBeLessThan(1000);
    // From then on no call waits for the hanging store.
    const t1 = performance.now();
    for (let i = 0; i < 100; i++) await store.hit("k", 60);
    expect(performance.now() - t1).toBeLessThan(50);
    breaker.close();
  });
});
