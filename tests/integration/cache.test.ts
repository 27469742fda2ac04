// The cache's contract on both transports: generations make invalidation exact, stale fills are
// dropped, and a broken Redis degrades to "no cache", never to an error.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { type Cache, MemoryCache, RedisCache, SafeCache, TieredCache } from "../../src/cache/cache";
import { Breaker } from "../../src/lib/breaker";
import { createTestRedis, redisUrl, type TestRedis } from "../support/services";

let tr: TestRedis;
beforeAll(async () => {
  tr = await createTestRedis();
}, 30_000);
afterAll(() => tr?.cleanup());

const transports: [string, () => Cache][] = [["memory", () => new MemoryCache()]];
if (redisUrl)
  transports.push(["redis", () => new RedisCache(tr.redis as Redis, `${tr.prefix}cache:${Math.random()}:`, "v1")]);

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

    test("a touch invalidates the entries stored with that tag, in any namespace, and no other", async () => {
      const c = make();
      const put = async (ns: string, k: string, tags?: string[]) =>
        c.set(ns, k, (await c.get(ns, k)).generation, `${ns}/${k}`, 60, tags);
      await put("dated", "lists-a", ["n:a", "n:b"]);
      await put("dated", "lists-c", ["n:c"]);
      await put("other", "lists-a", ["n:a"]);
      await put("dated", "untagged");
      const hit = await c.get("dated", "lists-a");
      expect(hit.value).toBe("dated/lists-a");
      expect(hit.tags).toEqual(["n:a", "n:b"]);
      await c.touch("n:a");
      expect((await c.get("dated", "lists-a")).value).toBeNull();
      expect((await c.get("other", "lists-a")).value).toBeNull();
      expect((await c.get("dated", "lists-c")).value).toBe("dated/lists-c");
      expect((await c.get("dated", "untagged")).value).toBe("dated/untagged");
      // Filled again after the touch, it is served again (until its tags are touched again).
      await put("dated", "lists-a", ["n:a", "n:b"]);
      expect((await c.get("dated", "lists-a")).value).toBe("dated/lists-a");
      await c.touch("n:b", "n:z");
      expect((await c.get("dated", "lists-a")).value).toBeNull();
    });

    test("a fill that read the database before a tag was touched is never served after it", async () => {
      const c = make();
      const before = await c.get("dated", "k"); // reader: clock read, then (slowly) the database
      await c.touch("n:a"); // a booking commits and touches its property
      await c.set("dated", "k", before.generation, "stale", 60, ["n:a"]); // reader's late fill
      expect((await c.get("dated", "k")).value).toBeNull();
      // A late fill whose page did not list the touched property is still good.
      const other = await c.get("dated", "k2");
      await c.touch("n:a");
      await c.set("dated", "k2", other.generation, "fresh", 60, ["n:b"]);
      expect((await c.get("dated", "k2")).value).toBe("fresh");
    });

    test("entries expire", async () => {
      const c = make();
      await c.set("e", "k", (await c.get("e", "k")).generation, "v", 1);
      await Bun.sleep(1100);
      expect((await c.get("e", "k")).value).toBeNull();
    });
  });
}

describe.if(Boolean(redisUrl))("SafeCache on real Redis", () => {
  test("a write while the breaker is open still invalidates in Redis (sent anyway, or replayed before reads return)", async () => {
    const redis = tr.redis as Redis;
    const healthy = false;
    const breaker = new Breaker(
      async () => {
        if (!healthy) throw new Error("down");
      },
      () => {},
      30,
      200,
    );
    const shared = new RedisCache(redis, `${tr.prefix}bump:`);
    const other = new RedisCache(redis, `${tr.prefix}bump:`); // another instance, reading Redis directly
    const c = new SafeCache(shared, new MemoryCache(), breaker, 100);
    const before = await other.get("p", "k");
    await other.set("p", "k", before.generation, "OLD", 60);
    breaker.failed(new Error("a stall")); // the breaker is open
    await c.bump("p"); // Redis is fine: the bump is sent anyway
    expect((await other.get("p", "k")).value).toBeNull();
    breaker.close();
  });
});

test("a bump the store did not take is replayed before the breaker lets calls back to it", async () => {
  let down = true;
  const applied: string[] = [];
  const inner: Cache = {
    get: async () => {
      if (down) throw new Error("down");
      return { value: null, generation: "g" };
    },
    set: async () => {},
    bump: async (...namespaces: string[]) => {
      if (down) throw new Error("down");
      applied.push(...namespaces);
    },
    touch: async (...tags: string[]) => {
      if (down) throw new Error("down");
      applied.push(...tags.map((t) => `#${t}`));
    },
  };
  const breaker = new Breaker(
    async () => {
      if (down) throw new Error("down");
    },
    () => {},
    30,
    200,
  );
  const c = new SafeCache(inner, new MemoryCache(), breaker, 50);
  await c.bump("p", "search");
  expect(breaker.isClosed).toBe(false);
  await c.touch("n:a");
  expect(applied).toEqual([]);
  down = false;
  await Bun.sleep(200);
  expect(applied).toEqual(["p", "search", "#n:a"]); // replayed by the probe's catch-up, once
  expect(breaker.isClosed).toBe(true);
  breaker.close();
  breaker.failed(new Error("after close"));
  expect(breaker.isClosed).toBe(true); // closed for good
});

describe("SafeCache", () => {
  const breakerLog = () => {
    const changes: string[] = [];
    return {
      changes,
      breaker: (probe: () => Promise<unknown>) =>
        new Breaker(probe, (open) => void changes.push(open ? "open" : "closed"), 50, 50),
    };
  };

  test("Redis unreachable: no throws, one report, and from then on the in-process cache answers at once", async () => {
    const dead = new Redis("redis://127.0.0.1:1", {
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    dead.on("error", () => {});
    const { changes, breaker } = breakerLog();
    const b = breaker(() => dead.ping());
    const c = new SafeCache(new RedisCache(dead, "x:"), new MemoryCache(), b, 100);
    const got = await c.get("ns", "k");
    expect(got.value).toBeNull();
    await c.set("ns", "k", got.generation, "v", 60);
    expect((await c.get("ns", "k")).value).toBe("v"); // kept in-process while Redis is away
    await c.bump("ns");
    expect((await c.get("ns", "k")).value).toBeNull(); // and a write still invalidates it
    expect(changes).toEqual(["open"]); // one report, not one per call
    b.close();
    dead.disconnect();
  });

  test("a hanging store is given up on after one timeout; later calls do not wait; a probe closes the breaker", async () => {
    let healthy = false;
    const hanging: Cache = {
      get: () => new Promise(() => {}),
      set: () => new Promise(() => {}),
      bump: () => new Promise(() => {}),
      touch: () => new Promise(() => {}),
    };
    const { changes, breaker } = breakerLog();
    const b = breaker(async () => {
      if (!healthy) throw new Error("still down");
    });
    const c = new SafeCache(hanging, new MemoryCache(), b, 50);
    const t0 = performance.now();
    expect((await c.get("ns", "k")).value).toBeNull();
    expect(performance.now() - t0).toBeLessThan(1000);
    const t1 = performance.now();
    for (let i = 0; i < 100; i++) await c.get("ns", "k");
    expect(performance.now() - t1).toBeLessThan(50); // 100 calls, none waiting for the store
    healthy = true;
    await Bun.sleep(200);
    expect(changes).toEqual(["open", "closed"]);
    expect(b.isClosed).toBe(true);
    b.close();
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

// Redis behind a local copy per instance, kept exact by the invalidation channel. Each "instance"
// here is its own TieredCache with its own subscriber connection, as separate processes would be.
describe.skipIf(!redisUrl)("TieredCache (Redis + local copies)", () => {
  const instances: TieredCache[] = [];
  const instance = (prefix: string, shape = "v1") => {
    const shared = new RedisCache(tr.redis as Redis, prefix, shape);
    const c = new TieredCache(
      tr.redis as Redis,
      new SafeCache(
        shared,
        new MemoryCache(),
        new Breaker(
          () => (tr.redis as Redis).ping(),
          () => {},
        ),
      ),
      shared.channel,
    );
    instances.push(c);
    return c;
  };
  afterAll(async () => {
    for (const c of instances) await c.close();
  });
  const until = async (what: () => boolean, ms = 2000) => {
    const deadline = Date.now() + ms;
    while (!what()) {
      if (Date.now() > deadline) throw new Error("condition not reached");
      await Bun.sleep(5);
    }
  };
  /** An instance that has subscribed (its first read starts the subscription). */
  const listening = async (prefix: string) => {
    const c = instance(prefix);
    await c.get("warm", "k");
    await until(() => c.isListening);
    return c;
  };
  const fill = async (c: Cache, ns: string, value: string) =>
    c.set(ns, "k", (await c.get(ns, "k")).generation, value, 60);

  test("a hit is served from memory; a write on another instance reaches it through the channel", async () => {
    const prefix = `${tr.prefix}tier:${Math.random()}:`;
    const a = await listening(prefix);
    const b = instance(prefix);
    await fill(a, "p", "old");
    expect(a.peek("p", "k")).toBe("old"); // held locally: no round trip
    await b.bump("p"); // another instance writes
    await until(() => a.peek("p", "k") === null);
    expect((await a.get("p", "k")).value).toBeNull();
  });

  test("a bump on the same instance is seen at once, even while a read copied the old entry", async () => {
    const a = await listening(`${tr.prefix}tier:${Math.random()}:`);
    await fill(a, "p", "old");
    const bumped = a.bump("p");
    // A read racing the write: it may fetch the old entry from Redis before the generation moves.
    const racing = a.get("p", "k");
    await Promise.all([bumped, racing]);
    expect(a.peek("p", "k")).toBeNull();
    expect((await a.get("p", "k")).value).toBeNull();
  });

  test("a fill that read the database before another instance's write is never kept", async () => {
    const prefix = `${tr.prefix}tier:${Math.random()}:`;
    const a = await listening(prefix);
    const b = instance(prefix);
    const before = await a.get("p", "k"); // reader: generation, then (slowly) the database
    await b.bump("p");
    await Bun.sleep(50); // the message has arrived
    await a.set("p", "k", before.generation, "stale", 60);
    expect(a.peek("p", "k")).toBeNull();
    expect((await a.get("p", "k")).value).toBeNull();
  });

  test("a touch on another instance drops the local copies stored with that tag only", async () => {
    const prefix = `${tr.prefix}tier:${Math.random()}:`;
    const a = await listening(prefix);
    const b = instance(prefix);
    for (const [k, tag] of [
      ["lists-a", "n:a"],
      ["lists-b", "n:b"],
    ] as const)
      await a.set("dated", k, (await a.get("dated", k)).generation, k, 60, [tag]);
    expect(a.peek("dated", "lists-a")).toBe("lists-a");
    await b.touch("n:a");
    await until(() => a.peek("dated", "lists-a") === null);
    expect(a.peek("dated", "lists-b")).toBe("lists-b");
    expect((await a.get("dated", "lists-a")).value).toBeNull();
    // A copy taken from Redis keeps its tags: a later touch drops it too.
    const c = await listening(prefix);
    expect((await c.get("dated", "lists-b")).value).toBe("lists-b");
    expect(c.peek("dated", "lists-b")).toBe("lists-b");
    await b.touch("n:b");
    await until(() => c.peek("dated", "lists-b") === null && a.peek("dated", "lists-b") === null);
  });

  test("a fill that read before another instance's touch is never kept, locally or in Redis", async () => {
    const prefix = `${tr.prefix}tier:${Math.random()}:`;
    const a = await listening(prefix);
    const b = instance(prefix);
    const before = await a.get("dated", "k");
    await b.touch("n:a");
    await Bun.sleep(50); // the message has arrived
    await a.set("dated", "k", before.generation, "stale", 60, ["n:a"]);
    expect(a.peek("dated", "k")).toBeNull();
    expect((await a.get("dated", "k")).value).toBeNull();
    expect((await b.get("dated", "k")).value).toBeNull();
  });

  test("losing the channel drops every local copy until it is back", async () => {
    const a = await listening(`${tr.prefix}tier:${Math.random()}:`);
    await fill(a, "p", "v");
    expect(a.peek("p", "k")).toBe("v");
    // Kill the subscriber connection server-side (messages published now would be lost).
    const clients = (await (tr.redis as Redis).client("LIST")) as string;
    const ids = clients
      .split("\n")
      .filter((l) => l.includes("name=stayhub-cache-invalidation") && l.includes("cmd=subscribe"))
      .map((l) => /id=(\d+)/.exec(l)?.[1] as string);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) await (tr.redis as Redis).client("KILL", "ID", id);
    await until(() => !a.isListening);
    expect(a.peek("p", "k")).toBeNull(); // nothing served from memory while deaf
    expect((await a.get("p", "k")).value).toBe("v"); // Redis still answers
    await until(() => a.isListening, 5000); // reconnected and resubscribed
  });

  test("a write on a new version's instance invalidates the old version's entries too", async () => {
    const prefix = `${tr.prefix}tier:${Math.random()}:`;
    const old = instance(prefix, "shape-old");
    const next = instance(prefix, "shape-new");
    await fill(old, "p", "old-shape");
    expect((await next.get("p", "k")).value).toBeNull(); // new shape never reads old entries
    await next.bump("p");
    await until(() => old.peek("p", "k") === null);
    expect((await old.get("p", "k")).value).toBeNull();
  });
});

test("MemoryCache bounds what it holds by size too, and its generation counters by number", async () => {
  const c = new MemoryCache(1000, undefined, 100);
  await c.set("n", "a", (await c.get("n", "a")).generation, "x".repeat(60), 60);
  await c.set("n", "b", (await c.get("n", "b")).generation, "y".repeat(60), 60);
  expect((await c.get("n", "a")).value).toBeNull(); // evicted: 120 characters exceed 100
  expect((await c.get("n", "b")).value).toBe("y".repeat(60));
  const before = await c.get("p", "k");
  for (let i = 0; i <= 100_000; i++) c.invalidate([`ns${i}`]);
  expect((c as unknown as { generations: Map<string, number> }).generations.size).toBeLessThanOrEqual(100_000);
  await c.set("p", "k", before.generation, "filled before the reset", 60);
  expect((await c.get("p", "k")).value).toBeNull(); // a generation from before the reset is dead
});
