// Read-through cache with generation-based invalidation: Redis (behind an in-process copy kept
// exact by an invalidation channel) when configured, an in-process LRU otherwise.
//
// Each namespace (one property, or "search") has a generation counter; entries are stored under
// the generation that was current *before* the database was read. A write bumps the generation
// after it commits, so an entry filled from data read before the write lands under an old
// generation that no reader asks for again: a reader can never be served data older than the
// last committed write it could have seen.
//
// Tags narrow that further: an entry may name the tags it depends on (a dated search, the
// listings on its page), and `touch(tag)` invalidates just the entries stored with that tag. A
// clock counts touches; each tag remembers the clock of its last touch; an entry keeps the clock
// read before the database was, and is served only while none of its tags was touched since. The
// same argument as for generations: a fill that read the database before a write committed holds
// an older clock than the write's touch, so it is never served after it.
import type Redis from "ioredis";
import type { Breaker } from "../lib/breaker";
import { within } from "../lib/deadline";

export interface Cached {
  value: string | null;
  /** Pass back to `set` so the entry lands under the generation read before the database was. */
  generation: string;
  /** The tags the entry was stored with (a hit only). */
  tags?: string[];
}

export interface Cache {
  get(namespace: string, key: string): Promise<Cached>;
  /** Stores the value; with `tags`, a later `touch` of any of them invalidates it. */
  set(
    namespace: string,
    key: string,
    generation: string,
    value: string,
    ttlSeconds: number,
    tags?: string[],
  ): Promise<void>;
  /** Invalidates everything in the namespaces. */
  bump(...namespaces: string[]): Promise<void>;
  /** Invalidates the entries stored with any of these tags, in every namespace. */
  touch(...tags: string[]): Promise<void>;
  /** Lets go of connections of its own. */
  close?(): Promise<void>;
  /** What this process holds in memory for the key, without waiting (a hot path's first try); null when it holds nothing. */
  peek?(namespace: string, key: string): string | null;
}

/** The clock part of a generation (after its last ':'), and what comes before it. */
function splitClock(generation: string): [string, number] {
  const at = generation.lastIndexOf(":");
  return at < 0 ? [generation, 0] : [generation.slice(0, at), Number(generation.slice(at + 1))];
}

export class MemoryCache implements Cache {
  private entries = new Map<
    string,
    { value: string; expiresAt: number; seq: number; tags: string[] | undefined; clock: number }
  >();
  /** Counts insertions; an entry's `seq` says how far from the eviction end it sits. */
  private seq = 0;
  private generations = new Map<string, number>();
  /** Part of every generation: `clear` makes every generation handed out before it unusable. */
  private epoch = 0;
  /** Counts touches; each tag's last touch is the clock it moved to. */
  private clock = 0;
  private touched = new Map<string, number>();

  /** Characters held (values only): search pages can be large, so size is bounded too. */
  private chars = 0;

  constructor(
    private maxEntries = 10_000,
    private now: () => number = () => performance.now(),
    private maxChars = 32 * 1024 * 1024,
  ) {}

  private gen(namespace: string): string {
    return `${this.epoch}.${this.generations.get(namespace) ?? 0}`;
  }

  private drop(k: string): void {
    const e = this.entries.get(k);
    if (!e) return;
    this.chars -= e.value.length;
    this.entries.delete(k);
  }

  /** Whether any of the tags was touched after `clock`. */
  private touchedSince(tags: string[] | undefined, clock: number): boolean {
    if (tags) for (const t of tags) if ((this.touched.get(t) ?? -1) > clock) return true;
    return false;
  }

  /** `get` without the promise, for callers on a hot path. */
  read(namespace: string, key: string): Cached {
    const current = this.gen(namespace);
    const generation = `${current}:${this.clock}`;
    const k = `${namespace}\u0000${current}\u0000${key}`;
    const e = this.entries.get(k);
    if (!e) return { value: null, generation };
    if (e.expiresAt <= this.now() || this.touchedSince(e.tags, e.clock)) {
      this.drop(k);
      return { value: null, generation };
    }
    // Map keeps insertion order: re-inserting makes this the most recently used. Only entries in
    // the older half move, so a hot entry costs one lookup per hit, not a delete and an insert.
    if (this.seq - e.seq >= this.maxEntries >> 1) {
      e.seq = ++this.seq;
      this.entries.delete(k);
      this.entries.set(k, e);
    }
    return e.tags ? { value: e.value, generation, tags: e.tags } : { value: e.value, generation };
  }

  write(namespace: string, key: string, generation: string, value: string, ttlSeconds: number, tags?: string[]): void {
    const [current, clock] = splitClock(generation);
    if (current !== this.gen(namespace)) return; // already invalidated: keep nothing stale
    if (this.touchedSince(tags, clock)) return; // one of its tags already was
    if (value.length > this.maxChars) return;
    const k = `${namespace}\u0000${current}\u0000${key}`;
    this.drop(k);
    const entry = { value, expiresAt: this.now() + ttlSeconds * 1000, seq: ++this.seq, tags, clock };
    this.entries.set(k, entry);
    this.chars += value.length;
    while (this.entries.size > this.maxEntries || this.chars > this.maxChars)
      this.drop(this.entries.keys().next().value as string);
  }

  invalidate(namespaces: string[]): void {
    for (const ns of namespaces) this.generations.set(ns, (this.generations.get(ns) ?? 0) + 1);
    // One counter per namespace ever written: past a bound, start over (clear makes every
    // generation handed out so far unusable, so nothing stale can come back).
    if (this.generations.size > 100_000) this.clear();
  }

  touchTags(tags: string[]): void {
    if (tags.length === 0) return;
    this.clock++;
    for (const t of tags) this.touched.set(t, this.clock);
    if (this.touched.size > 100_000) this.clear(); // the same bound as the generations'
  }

  /** Forgets everything, and makes fills that began before this land nowhere. */
  clear(): void {
    this.epoch++;
    this.entries.clear();
    this.chars = 0;
    this.generations.clear();
    this.touched.clear();
  }

  peek(namespace: string, key: string): string | null {
    return this.read(namespace, key).value;
  }

  async get(namespace: string, key: string): Promise<Cached> {
    return this.read(namespace, key);
  }

  async set(
    namespace: string,
    key: string,
    generation: string,
    value: string,
    ttlSeconds: number,
    tags?: string[],
  ): Promise<void> {
    this.write(namespace, key, generation, value, ttlSeconds, tags);
  }

  async bump(...namespaces: string[]): Promise<void> {
    this.invalidate(namespaces);
  }

  async touch(...tags: string[]): Promise<void> {
    this.touchTags(tags);
  }
}

// One round trip: the namespace's generation, the touch clock, and the entry stored under it. A
// tagged entry is stored as "\1<clock>\n<tag,tag,…>\n<value>" and served only while none of its
// tags was touched after its clock (the touched hash holds each tag's last touch).
const GET = `local g = redis.call('GET', KEYS[1]) or '0'
local c = redis.call('GET', KEYS[2]) or '0'
local v = redis.call('GET', ARGV[1] .. g .. ARGV[2])
if v and string.byte(v, 1) == 1 then
  local a = string.find(v, '\\n', 2, true)
  local b = string.find(v, '\\n', a + 1, true)
  local at = tonumber(string.sub(v, 2, a - 1))
  local tags = string.sub(v, a + 1, b - 1)
  local list = {}
  for t in string.gmatch(tags, '[^,]+') do list[#list + 1] = t end
  if #list > 0 then
    local last = redis.call('HMGET', KEYS[3], unpack(list))
    for i = 1, #last do
      if last[i] and tonumber(last[i]) > at then return {g .. ':' .. c, false, false} end
    end
  end
  return {g .. ':' .. c, string.sub(v, b + 1), tags}
end
return {g .. ':' .. c, v, false}`;

// One touch: the clock moves on, each tag records it, and every instance hears of it (the message's
// first character, \1, tells a touch from a bump's namespaces). Both keys outlive any entry.
const TOUCH = `local c = redis.call('INCR', KEYS[1])
for i = 1, #ARGV - 1 do redis.call('HSET', KEYS[2], ARGV[i], c) end
redis.call('EXPIRE', KEYS[1], 86400)
redis.call('EXPIRE', KEYS[2], 86400)
redis.call('PUBLISH', ARGV[#ARGV], '\\1' .. table.concat(ARGV, '\\n', 1, #ARGV - 1))
return c`;

export class RedisCache implements Cache {
  private entries: string;
  private generations: string;
  readonly channel: string;

  /**
   * Generations and the invalidation channel live under `prefix`, shared by every version of the
   * service; entries live under `prefix` + `shape`, so a deploy with new DTOs never reads old
   * entries, while a write on either version still invalidates both versions' entries.
   */
  constructor(
    private redis: Redis,
    prefix: string,
    shape = "",
  ) {
    // "e:" (not the "<shape>:c:" of earlier versions, whose generations lived elsewhere): keys that
    // never collide with entries an older version could still be writing.
    this.entries = `${prefix}e:${shape ? `${shape}:` : ""}`;
    this.generations = `${prefix}g:`;
    this.channel = `${prefix}invalidate`;
  }

  /** The touch clock and the tags' last touches (no namespace is spelled with a leading "~"). */
  private get clockKey() {
    return `${this.generations}~clock`;
  }
  private get touchedKey() {
    return `${this.generations}~touched`;
  }

  async get(namespace: string, key: string): Promise<Cached> {
    const [generation, value, tags] = (await this.redis.eval(
      GET,
      3,
      `${this.generations}${namespace}`,
      this.clockKey,
      this.touchedKey,
      `${this.entries}${namespace}:`,
      `:${key}`,
    )) as [string, string | null, string | null];
    return tags ? { value, generation, tags: tags.split(",") } : { value, generation };
  }

  async set(
    namespace: string,
    key: string,
    generation: string,
    value: string,
    ttlSeconds: number,
    tags?: string[],
  ): Promise<void> {
    const [current, clock] = splitClock(generation);
    const stored = tags ? `\u0001${clock}\n${tags.join(",")}\n${value}` : value;
    await this.redis.set(`${this.entries}${namespace}:${current}:${key}`, stored, "EX", ttlSeconds);
  }

  async bump(...namespaces: string[]): Promise<void> {
    if (namespaces.length === 0) return;
    const m = this.redis.multi();
    // Generations outlive entries (a day): an expired generation would restart at 0 and could
    // meet entries stored under an old 0, so it lives far longer than any entry's TTL.
    for (const ns of namespaces) m.incr(`${this.generations}${ns}`).expire(`${this.generations}${ns}`, 86_400);
    // Inside the transaction: the message is queued to every subscriber before this returns (they
    // act on it as soon as their event loop reads it).
    m.publish(this.channel, namespaces.join("\n"));
    await m.exec();
  }

  async touch(...tags: string[]): Promise<void> {
    if (tags.length === 0) return;
    await this.redis.eval(TOUCH, 2, this.clockKey, this.touchedKey, ...tags, this.channel);
  }
}

/** CACHE=0: every read misses, nothing is kept (for measuring, or ruling the cache out). */
export class NoCache implements Cache {
  async get(): Promise<Cached> {
    return { value: null, generation: "" };
  }
  async set(): Promise<void> {}
  async bump(): Promise<void> {}
  async touch(): Promise<void> {}
}

/**
 * A cache that never fails or slows a request: when Redis errs or stalls (one timeout), the
 * breaker opens and, until its probe finds Redis again, every call goes straight to an
 * in-process cache whose entries live at most FALLBACK_TTL_SECONDS (other instances' writes do
 * not reach it, so it may be that stale). A bump that fails is also applied in-process; in Redis
 * the entries it missed then live until their TTL, which is why TTLs are short.
 */
export class SafeCache implements Cache {
  static readonly FALLBACK_TTL_SECONDS = 5;
  /** Namespaces bumped (and tags touched) while Redis did not take it: replayed before Redis is used again. */
  private missedBumps = new Set<string>();
  private missedTouches = new Set<string>();

  constructor(
    private inner: Cache,
    private fallback: Cache,
    private breaker: Breaker,
    private timeoutMs = 200,
  ) {
    breaker.whenRecovering(() => this.replayBumps());
  }

  get(namespace: string, key: string): Promise<Cached> {
    return this.breaker.run(
      () => this.inner.get(namespace, key),
      () => this.fallback.get(namespace, key),
      this.timeoutMs,
      "cache get",
    );
  }

  set(
    namespace: string,
    key: string,
    generation: string,
    value: string,
    ttlSeconds: number,
    tags?: string[],
  ): Promise<void> {
    return this.breaker.run(
      () => this.inner.set(namespace, key, generation, value, ttlSeconds, tags),
      () =>
        this.fallback.set(
          namespace,
          key,
          generation,
          value,
          Math.min(ttlSeconds, SafeCache.FALLBACK_TTL_SECONDS),
          tags,
        ),
      this.timeoutMs,
      "cache set",
    );
  }

  /**
   * In-process always (its entries from an outage must not outlive a write), and in Redis even while
   * the breaker is open: an invalidation is the one call worth its timeout. One that fails is kept
   * and replayed before the breaker lets reads back to Redis.
   */
  async bump(...namespaces: string[]): Promise<void> {
    await this.fallback.bump(...namespaces);
    try {
      await within(this.inner.bump(...namespaces), this.timeoutMs, "cache bump");
    } catch (err) {
      for (const n of namespaces) this.missedBumps.add(n);
      this.breaker.failed(err);
    }
  }

  /** As `bump`, for tags. */
  async touch(...tags: string[]): Promise<void> {
    await this.fallback.touch(...tags);
    try {
      await within(this.inner.touch(...tags), this.timeoutMs, "cache touch");
    } catch (err) {
      for (const t of tags) this.missedTouches.add(t);
      this.breaker.failed(err);
    }
  }

  private async replayBumps(): Promise<void> {
    if (this.missedBumps.size > 0) {
      const namespaces = [...this.missedBumps];
      await this.inner.bump(...namespaces);
      for (const n of namespaces) this.missedBumps.delete(n);
    }
    if (this.missedTouches.size > 0) {
      const tags = [...this.missedTouches];
      await this.inner.touch(...tags);
      for (const t of tags) this.missedTouches.delete(t);
    }
  }
}

/**
 * Redis behind an in-process copy of what this instance read from it, so that a hit costs no
 * round trip. Correctness rests on the invalidation channel: every `bump` (on any instance)
 * publishes the namespaces inside the same Redis transaction that moves their generations, and
 * each instance drops its copies when the message arrives. The copies are used only while this
 * instance is subscribed: when the subscription drops, they are thrown away and reads go to Redis
 * until it is back. A local copy lives at most `localTtlSeconds`, which bounds the damage of a
 * message that never arrives on a connection that looks alive.
 */
export class TieredCache implements Cache {
  private local: MemoryCache;
  private localTtlSeconds: number;
  private subscriber: Redis | null = null;
  private listening = false;
  private closed = false;

  constructor(
    private redis: Redis,
    /** The shared tier, normally SafeCache(RedisCache): it never throws. */
    private shared: Cache,
    private channel: string,
    private options: {
      maxEntries?: number;
      localTtlSeconds?: number;
      onError?: (err: Error) => void;
      onReady?: () => void;
    } = {},
  ) {
    this.local = new MemoryCache(options.maxEntries ?? 10_000);
    this.localTtlSeconds = options.localTtlSeconds ?? 10;
  }

  /** Whether local copies are in use (subscribed to invalidations). */
  get isListening(): boolean {
    return this.listening;
  }

  private listen(): void {
    const sub = this.redis.duplicate({ connectionName: "stayhub-cache-invalidation", lazyConnect: false });
    this.subscriber = sub;
    const stop = () => {
      this.listening = false;
      this.local.clear();
    };
    sub.on("message", (_channel: string, message: string) => {
      if (message.charCodeAt(0) === 1) this.local.touchTags(message.slice(1).split("\n"));
      else this.local.invalidate(message.split("\n"));
    });
    sub.on("close", stop);
    sub.on("end", stop);
    sub.on("error", (err: Error) => this.options.onError?.(err));
    // After every (re)connection: subscribe, and only then trust local copies again.
    sub.on("ready", () => {
      sub.subscribe(this.channel).then(
        () => {
          if (sub.status !== "ready" || this.closed) return;
          this.local.clear();
          this.listening = true;
          this.options.onReady?.();
        },
        (err: Error) => this.options.onError?.(err),
      );
    });
  }

  peek(namespace: string, key: string): string | null {
    return this.listening ? this.local.read(namespace, key).value : null;
  }

  async get(namespace: string, key: string): Promise<Cached> {
    if (!this.subscriber && !this.closed) this.listen(); // only readers subscribe (job threads only bump)
    let localGeneration = "";
    if (this.listening) {
      const near = this.local.read(namespace, key);
      if (near.value !== null) return near;
      localGeneration = near.generation;
    }
    const far = await this.shared.get(namespace, key);
    if (far.generation === "") return far; // Redis failed: an unusable generation, nothing is kept
    // Kept only if no invalidation arrived while Redis answered (`write` checks the generation and,
    // for a tagged entry, its tags' touches).
    if (far.value !== null && localGeneration !== "")
      this.local.write(namespace, key, localGeneration, far.value, this.localTtlSeconds, far.tags);
    const generation = `${far.generation}|${localGeneration}`;
    return far.tags ? { value: far.value, generation, tags: far.tags } : { value: far.value, generation };
  }

  async set(
    namespace: string,
    key: string,
    generation: string,
    value: string,
    ttlSeconds: number,
    tags?: string[],
  ): Promise<void> {
    const bar = generation.lastIndexOf("|");
    if (bar < 0) return;
    await this.shared.set(namespace, key, generation.slice(0, bar), value, ttlSeconds, tags);
    const localGeneration = generation.slice(bar + 1);
    if (localGeneration !== "")
      this.local.write(namespace, key, localGeneration, value, Math.min(ttlSeconds, this.localTtlSeconds), tags);
  }

  async bump(...namespaces: string[]): Promise<void> {
    this.local.invalidate(namespaces);
    await this.shared.bump(...namespaces);
    // Again once Redis has moved on: a concurrent read may have copied the old entry from Redis
    // in between, and our own message may not be back yet.
    this.local.invalidate(namespaces);
  }

  async touch(...tags: string[]): Promise<void> {
    this.local.touchTags(tags);
    await this.shared.touch(...tags);
    this.local.touchTags(tags);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listening = false;
    if (this.subscriber) await this.subscriber.quit().catch(() => this.subscriber?.disconnect());
  }
}
