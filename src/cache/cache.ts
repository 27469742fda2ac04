// Read-through cache with generation-based invalidation: Redis when configured, an in-process
// LRU otherwise.
//
// Each namespace (one property, or "search") has a generation counter; entries are stored under
// the generation that was current *before* the database was read. A write bumps the generation
// after it commits, so an entry filled from data read before the write lands under an old
// generation that no reader asks for again: a reader can never be served data older than the
// last committed write it could have seen.
import type Redis from "ioredis";
import { within } from "../lib/deadline";

export interface Cached {
  value: string | null;
  /** Pass back to `set` so the entry lands under the generation read before the database was. */
  generation: string;
}

export interface Cache {
  get(namespace: string, key: string): Promise<Cached>;
  set(namespace: string, key: string, generation: string, value: string, ttlSeconds: number): Promise<void>;
  /** Invalidates everything in the namespaces. */
  bump(...namespaces: string[]): Promise<void>;
}

export class MemoryCache implements Cache {
  private entries = new Map<string, { value: string; expiresAt: number }>();
  private generations = new Map<string, number>();

  constructor(
    private maxEntries = 10_000,
    private now: () => number = () => performance.now(),
  ) {}

  private gen(namespace: string): string {
    return String(this.generations.get(namespace) ?? 0);
  }

  async get(namespace: string, key: string): Promise<Cached> {
    const generation = this.gen(namespace);
    const k = `${namespace}\u0000${generation}\u0000${key}`;
    const e = this.entries.get(k);
    if (!e) return { value: null, generation };
    if (e.expiresAt <= this.now()) {
      this.entries.delete(k);
      return { value: null, generation };
    }
    // Map keeps insertion order: re-inserting makes this the most recently used.
    this.entries.delete(k);
    this.entries.set(k, e);
    return { value: e.value, generation };
  }

  async set(namespace: string, key: string, generation: string, value: string, ttlSeconds: number): Promise<void> {
    if (generation !== this.gen(namespace)) return; // already invalidated: keep nothing stale
    const k = `${namespace}\u0000${generation}\u0000${key}`;
    this.entries.delete(k);
    this.entries.set(k, { value, expiresAt: this.now() + ttlSeconds * 1000 });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  async bump(...namespaces: string[]): Promise<void> {
    for (const ns of namespaces) this.generations.set(ns, (this.generations.get(ns) ?? 0) + 1);
  }
}

// One round trip: the namespace's generation and the entry stored under it.
const GET = `local g = redis.call('GET', KEYS[1]) or '0'
return {g, redis.call('GET', ARGV[1] .. g .. ARGV[2])}`;

export class RedisCache implements Cache {
  constructor(
    private redis: Redis,
    /** Includes the shape version, so a deploy with new DTOs never reads old entries. */
    private prefix: string,
  ) {}

  async get(namespace: string, key: string): Promise<Cached> {
    const [generation, value] = (await this.redis.eval(GET, 1, `${this.prefix}g:${namespace}`, `${this.prefix}c:${namespace}:`, `:${key}`)) as [
      string,
      string | null,
    ];
    return { value, generation };
  }

  async set(namespace: string, key: string, generation: string, value: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(`${this.prefix}c:${namespace}:${generation}:${key}`, value, "EX", ttlSeconds);
  }

  async bump(...namespaces: string[]): Promise<void> {
    if (namespaces.length === 0) return;
    const m = this.redis.multi();
    // Generations outlive entries (a day): an expired generation would restart at 0 and could
    // meet entries stored under an old 0, so it lives far longer than any entry's TTL.
    for (const ns of namespaces) m.incr(`${this.prefix}g:${ns}`).expire(`${this.prefix}g:${ns}`, 86_400);
    await m.exec();
  }
}

/** CACHE=0: every read misses, nothing is kept (for measuring, or ruling the cache out). */
export class NoCache implements Cache {
  async get(): Promise<Cached> {
    return { value: null, generation: "" };
  }
  async set(): Promise<void> {}
  async bump(): Promise<void> {}
}

/**
 * A cache that never fails a request: when Redis errs or stalls, reads miss (the database
 * answers) and the error is reported. A failed bump is reported loudly: entries then live until
 * their TTL, which is why TTLs are short.
 */
export class SafeCache implements Cache {
  constructor(
    private inner: Cache,
    private onError: (op: string, err: Error) => void,
    private timeoutMs = 200,
  ) {}

  private within<T>(op: string, p: Promise<T>, fallback: T): Promise<T> {
    return within(p, this.timeoutMs, `cache ${op}`).catch((err: Error) => {
      this.onError(op, err);
      return fallback;
    });
  }

  get(namespace: string, key: string): Promise<Cached> {
    // An unusable generation: a later `set` with it is skipped (see below).
    return this.within("get", this.inner.get(namespace, key), { value: null, generation: "" });
  }

  set(namespace: string, key: string, generation: string, value: string, ttlSeconds: number): Promise<void> {
    if (generation === "") return Promise.resolve();
    return this.within("set", this.inner.set(namespace, key, generation, value, ttlSeconds), undefined);
  }

  bump(...namespaces: string[]): Promise<void> {
    return this.within("bump", this.inner.bump(...namespaces), undefined);
  }
}
