// The Redis side of the stream transport: a stream with one consumer group, a sorted set of
// delayed retries, and a dead-letter stream.
import type Redis from "ioredis";
import type { Job } from "./types";

export interface Delivery {
  streamId: string;
  job: Job;
}

// Acknowledged entries are deleted, so the stream holds only the backlog; this cap (approximate
// trimming) only bites past a million waiting jobs — Redis memory is the limit then, and trimmed
// jobs are lost: alert on stayhub_job_queue{state="stream"} long before.
const MAX_STREAM_LENGTH = 1_000_000;

// Moves due retries back into the stream, atomically (no job in both places, none in neither).
const PROMOTE = `local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 200)
for _, job in ipairs(due) do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'job', job)
  redis.call('ZREM', KEYS[1], job)
end
return #due`;

type StreamEntry = [id: string, fields: string[]];

function parseEntries(entries: StreamEntry[] | null | undefined): Delivery[] {
  const out: Delivery[] = [];
  for (const [streamId, fields] of entries ?? []) {
    if (!fields) continue; // deleted while pending
    const i = fields.indexOf("job");
    if (i < 0) continue;
    out.push({ streamId, job: JSON.parse(fields[i + 1] as string) as Job });
  }
  return out;
}

export class RedisQueue {
  readonly stream: string;
  readonly group = "workers";
  readonly dead: string;
  readonly delayed: string;

  constructor(
    private redis: Redis,
    prefix: string,
  ) {
    this.stream = `${prefix}jobs`;
    this.dead = `${prefix}jobs:dead`;
    this.delayed = `${prefix}jobs:delayed`;
  }

  async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup("CREATE", this.stream, this.group, "0", "MKSTREAM");
    } catch (err) {
      if (!String((err as Error).message).includes("BUSYGROUP")) throw err;
    }
  }

  async add(jobs: Job[]): Promise<void> {
    if (jobs.length === 0) return;
    const p = this.redis.pipeline();
    for (const job of jobs) p.xadd(this.stream, "MAXLEN", "~", MAX_STREAM_LENGTH, "*", "job", JSON.stringify(job));
    const results = await p.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  /** New deliveries for this consumer, waiting up to blockMs for some to arrive. */
  async read(redis: Redis, consumer: string, count: number, blockMs: number): Promise<Delivery[]> {
    const res = (await redis.xreadgroup(
      "GROUP",
      this.group,
      consumer,
      "COUNT",
      count,
      "BLOCK",
      blockMs,
      "STREAMS",
      this.stream,
      ">",
    )) as [string, StreamEntry[]][] | null;
    return parseEntries(res?.[0]?.[1]);
  }

  /** Deliveries whose consumer has held them past the visibility timeout (it died, or hangs). */
  async reclaim(consumer: string, minIdleMs: number, count: number): Promise<Delivery[]> {
    const res = (await this.redis.xautoclaim(this.stream, this.group, consumer, minIdleMs, "0-0", "COUNT", count)) as [
      string,
      StreamEntry[],
      string[]?,
    ];
    return parseEntries(res[1]);
  }

  /** Acknowledged entries are deleted too: the stream holds only work not yet done. */
  async ack(streamIds: string[]): Promise<void> {
    if (streamIds.length)
      await this.redis
        .multi()
        .xack(this.stream, this.group, ...streamIds)
        .xdel(this.stream, ...streamIds)
        .exec();
  }

  /** Resets the idle time of deliveries still in hand, so no other consumer reclaims them. */
  async keep(consumer: string, streamIds: string[]): Promise<void> {
    if (streamIds.length) await this.redis.xclaim(this.stream, this.group, consumer, 0, ...streamIds, "JUSTID");
  }

  /** How many times each of this consumer's pending deliveries has been delivered. */
  async deliveries(consumer: string, count: number): Promise<Map<string, number>> {
    const rows = (await this.redis.xpending(this.stream, this.group, "-", "+", count, consumer)) as [
      string,
      string,
      number,
      number,
    ][];
    return new Map(rows.map(([id, , , times]) => [id, times]));
  }

  /** Schedules the next attempt and acknowledges this one, in one transaction. */
  async retryLater(d: Delivery, delayMs: number, error: string): Promise<void> {
    const next: Job & { lastError: string } = { ...d.job, attempt: d.job.attempt + 1, lastError: error };
    await this.redis
      .multi()
      .zadd(this.delayed, Date.now() + delayMs, JSON.stringify(next))
      .xack(this.stream, this.group, d.streamId)
      .xdel(this.stream, d.streamId)
      .exec();
  }

  async bury(d: Delivery, error: string): Promise<void> {
    await this.redis
      .multi()
      .xadd(
        this.dead,
        "MAXLEN",
        "~",
        100_000,
        "*",
        "job",
        JSON.stringify(d.job),
        "error",
        error,
        "at",
        new Date().toISOString(),
      )
      .xack(this.stream, this.group, d.streamId)
      .xdel(this.stream, d.streamId)
      .exec();
  }

  /** Hands deliveries back for immediate redelivery (a consumer that is stopping). */
  async release(ds: Delivery[]): Promise<void> {
    if (ds.length === 0) return;
    const m = this.redis.multi();
    for (const d of ds) {
      m.xadd(this.stream, "MAXLEN", "~", MAX_STREAM_LENGTH, "*", "job", JSON.stringify(d.job))
        .xack(this.stream, this.group, d.streamId)
        .xdel(this.stream, d.streamId);
    }
    await m.exec();
  }

  async promoteDue(): Promise<number> {
    return (await this.redis.eval(PROMOTE, 2, this.delayed, this.stream, Date.now(), MAX_STREAM_LENGTH)) as number;
  }

  async stats(): Promise<{ depth: number; pending: number; delayed: number; dead: number }> {
    const [[, depth], [, pending], [, delayed], [, dead]] = (await this.redis
      .multi()
      .xlen(this.stream)
      .xpending(this.stream, this.group)
      .zcard(this.delayed)
      .xlen(this.dead)
      .exec()) as [[null, number], [null, [number, ...unknown[]]], [null, number], [null, number]];
    return { depth, pending: Number(pending[0] ?? 0), delayed, dead };
  }

  async listDead(count = 100): Promise<{ id: string; job: Job; error: string; at: string }[]> {
    const entries = (await this.redis.xrevrange(this.dead, "+", "-", "COUNT", count)) as StreamEntry[];
    return entries.map(([id, fields]) => {
      const f = Object.fromEntries(
        fields.flatMap((_, i) => (i % 2 === 0 ? [[fields[i], fields[i + 1]]] : [])),
      ) as Record<string, string>;
      return { id, job: JSON.parse(f.job ?? "{}") as Job, error: f.error ?? "", at: f.at ?? "" };
    });
  }

  /** Sends a dead letter back for a fresh set of attempts. */
  async retryDead(id: string): Promise<boolean> {
    const [entry] = (await this.redis.xrange(this.dead, id, id)) as StreamEntry[];
    if (!entry) return false;
    const job = parseEntries([entry])[0]?.job;
    if (!job) return false;
    await this.redis
      .multi()
      .xadd(this.stream, "MAXLEN", "~", MAX_STREAM_LENGTH, "*", "job", JSON.stringify({ ...job, attempt: 1 }))
      .xdel(this.dead, id)
      .exec();
    return true;
  }
}
