// The cache's contract on both transports: generations make invalidation exact, stale fills are
// dropped, and a broken Redis degrades to "no cache", never to an error.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { type Cache, MemoryCache, RedisCache, SafeCache } from "../../src/cache/cache";
import { createTestRedis, redisUrl, type TestRedis } from "../support/services";

let tr: TestRedis;
beforeAll(async () => {
  tr = await createTestRedis();
}, 30_000);
afterAll(() => tr?.cleanup());

const transports: [string, () => Cache][] = [["memory", () => new MemoryCache()]];
if (redisUrl) transports.push(["redis", () => new RedisCache(tr.redis as Redis, `${tr.prefix}cache:${Math.random()}:`)]);

for (const [name, make] of transports) {
  describe(`${name} cache`, () => {
    test("read-through: miss, fill, hit", async () => {
      const c = make();
      const first = await c.get("ns", "k");
      expect(first.value).toBeNull();
      await c.set("ns", "k", first.generation, "v1", 60);
      expect((await c.get("ns", "k")).value).toBe("v1");
    });

    test("bump invalidates the namespace only", async () => {
      const c = make();
      for (const ns of ["a", "b"]) await c.set(ns, "k", (await c.get(ns, "k")).generation, `${ns}-v`, 60);
      await c.bump("a");
      expect((await c.get("a", "k")).value).toBeNull();
      expect((await c.get("b", "k")).value).toBe("b-v");
    });

    test("a fill that read the database before a write landed is never served after it", async () => {
      const c = make();
      const before = await c.get("p", "dto"); // reader: generation read, then (slowly) the database
      await c.bump("p"); // writer commits and bumps
      await c.set("p", "dto", before.generation, "stale", 60); // reader's late fill
      expect((await c.get("p", "dto")).value).toBeNull();
    });

    test("entries expire", async () => {
      const c = make();
      await c.set("e", "k", (await c.get("e", "k")).generation, "v", 1);
      await Bun.sleep(1100);
      expect((await c.get("e", "k")).value).toBeNull();
    });
  });
}

describe("SafeCache", () => {
  test("Redis unreachable: misses, no throws, a report per failure", async () => {
    const dead = new Redis("redis://127.0.0.1:1", { maxRetriesPerRequest: 0, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    dead.on("error", () => {});
    const errors: string[] = [];
    const c = new SafeCache(new RedisCache(dead, "x:"), (op) => void errors.push(op), 100);
    const got = await c.get("ns", "k");
    expect(got.value).toBeNull();
    await c.set("ns", "k", got.generation, "v", 60);
    await c.bump("ns");
    expect(errors).toEqual(["get", "bump"]); // the set with an unusable generation is skipped
    dead.disconnect();
  });

  test("a hanging store is given up on after the timeout", async () => {
    const hanging: Cache = { get: () => new Promise(() => {}), set: () => new Promise(() => {}), bump: () => new Promise(() => {}) };
    const c = new SafeCache(hanging, () => {}, 50);
    const t0 = performance.now();
    expect((await c.get("ns", "k")).value).toBeNull();
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

test("MemoryCache evicts the least recently used beyond its size", async () => {
  const c = new MemoryCache(2);
  const put = async (k: string) => c.set("n", k, (await c.get("n", k)).generation, k, 60);
  await put("a");
  await put("b");
  await c.get("n", "a"); // a is now more recent than b
  await put("c");
  expect((await c.get("n", "a")).value).toBe("a");
  expect((await c.get("n", "b")).value).toBeNull();
  expect((await c.get("n", "c")).value).toBe("c");
});
