// The job system on its real transports: in-process (always) and Redis Streams with worker threads
// (when REDIS_URL and DATABASE_URL are set, as in CI).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { listDeadJobs, retryDeadJob } from "../../src/jobs/dead-letters";
import type { JobEvent } from "../../src/jobs/execute";
import { runLocalOnce } from "../../src/jobs/local";
import { enqueue, enqueueMany } from "../../src/jobs/outbox";
import { RedisQueue } from "../../src/jobs/redis-queue";
import type { JobPayloads, JobType } from "../../src/jobs/registry";
import { relayOnce } from "../../src/jobs/relay";
import { startJobs } from "../../src/jobs/runner";
import { scheduleDue } from "../../src/jobs/scheduler";
import { handleNotify, handleNotifyEmail, handleNotifyMany } from "../../src/modules/notifications/service";
import { notifyWithin } from "../../src/modules/notifications/within";
import { registerUser, startTestApp, type TestApp } from "../support/app";
import { databaseUrl, redisUrl } from "../support/services";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    TEST_JOBS: "1",
    JOB_BACKOFF_MS: "10",
    JOB_VISIBILITY_TIMEOUT_MS: "1000",
    JOB_MAX_ATTEMPTS: "4",
    WORKER_THREADS: "2",
  });
}, 60_000);
afterAll(() => t?.close());

const q = <T extends Record<string, unknown>>(text: string, params: unknown[] = []) =>
  t.deps.database.raw.query<T>(text, params);
const effects = async (userId: string) =>
  Number(
    (
      await q<{ n: number }>("select count(*)::int as n from notifications where user_id = $1 and type = 'test'", [
        userId,
      ])
    )[0]?.n,
  );
const until = async (what: string, check: () => Promise<boolean>, ms = 20_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
};
const enqueueOne = <T extends JobType>(type: T, payload: JobPayloads[T]) =>
  t.deps.db.transaction((tx) => enqueue(tx, t.deps.clock, type, payload));

describe("outbox", () => {
  test("a rolled-back transaction enqueues nothing", async () => {
    const u = await registerUser(t.call);
    const before = Number((await q<{ n: number }>("select count(*)::int as n from outbox"))[0]?.n);
    await t.deps.db
      .transaction(async (tx) => {
        await enqueue(tx, t.deps.clock, "test.effect", { userId: u.id });
        throw new Error("rollback");
      })
      .catch(() => {});
    expect(Number((await q<{ n: number }>("select count(*)::int as n from outbox"))[0]?.n)).toBe(before);
    while ((await runLocalOnce(t.deps)) > 0) {}
    expect(await effects(u.id)).toBe(0);
  });

  test("enqueueMany writes every job in one statement, respecting dedupe keys", async () => {
    const u = await registerUser(t.call);
    const key = `many-${Math.random()}`;
    const ids = await t.deps.db.transaction((tx) =>
      enqueueMany(tx, t.deps.clock, [
        { type: "test.effect", payload: { userId: u.id } },
        { type: "test.effect", payload: { userId: u.id }, dedupeKey: key },
        { type: "test.effect", payload: { userId: u.id } },
      ]),
    );
    expect(ids).toHaveLength(3);
    const again = await enqueueMany(t.deps.db, t.deps.clock, [
      { type: "test.effect", payload: { userId: u.id }, dedupeKey: key },
    ]);
    expect(again).toEqual([]);
    while ((await runLocalOnce(t.deps)) > 0) {}
    expect(await effects(u.id)).toBe(3);
  });

  test("registering enqueues the welcome notification and e-mail with the account", async () => {
    const sent: string[] = [];
    const u = await registerUser(t.call);
    const mailer = t.deps.mailer;
    t.deps.mailer = { send: async (m) => void sent.push(m.to) };
    try {
      while ((await runLocalOnce(t.deps)) > 0) {}
      while ((await runLocalOnce(t.deps)) > 0) {}
    } finally {
      t.deps.mailer = mailer;
    }
    const list = await t.call<{ data: { type: string; readAt: string | null; id: string }[] }>(
      "GET",
      "/api/v1/notifications",
      { token: u.accessToken },
    );
    expect(list.body.data.map((n) => n.type)).toContain("welcome");
    expect(sent).toContain(u.email);
  });
});

/** The test app's deps with a mailer that records what it sent and fails the first e-mail to `address`. */
function failingOnceFor(address: string) {
  const sent: string[] = [];
  let failOnce = true;
  const deps = {
    ...t.deps,
    mailer: {
      send: async (m: { to: string }) => {
        await Bun.sleep(10);
        if (m.to === address && failOnce) {
          failOnce = false;
          throw new Error("SMTP says no");
        }
        sent.push(m.to);
      },
    },
  };
  return { sent, deps };
}

describe("in-process transport", () => {
  test("a job that throws twice then succeeds runs 3 times, with one effect", async () => {
    const u = await registerUser(t.call);
    const id = await enqueueOne("test.flaky", { userId: u.id, failTimes: 2 });
    const events: JobEvent[] = [];
    await until("the flaky job", async () => {
      await runLocalOnce(t.deps, (e) => void events.push(e));
      return (await effects(u.id)) > 0;
    });
    expect(events.filter((e) => e.type === "test.flaky").map((e) => e.outcome)).toEqual(["retry", "retry", "done"]);
    const [row] = await q<{ attempts: number; sent_at: unknown }>(
      "select attempts, sent_at from outbox where id = $1",
      [Number(id)],
    );
    expect(row?.attempts).toBe(3);
    expect(row?.sent_at).not.toBeNull();
    expect(await effects(u.id)).toBe(1);
  });

  test("retries and leases keep wall time: a frozen test clock does not strand a retry", async () => {
    await t.call("POST", "/api/v1/_test/clock", { body: { now: "2030-01-01T00:00:00Z" } });
    try {
      const u = await registerUser(t.call);
      await enqueueOne("test.flaky", { userId: u.id, failTimes: 1 });
      await until(
        "the retry under a frozen clock",
        async () => {
          await runLocalOnce(t.deps);
          return (await effects(u.id)) === 1;
        },
        10_000,
      );
    } finally {
      await t.call("DELETE", "/api/v1/_test/clock");
    }
  });

  test("two concurrent runs of one notify job send its e-mail once", async () => {
    const u = await registerUser(t.call);
    const sent: string[] = [];
    const deps = {
      ...t.deps,
      mailer: {
        send: async (m: { to: string }) => {
          await Bun.sleep(20);
          sent.push(m.to);
        },
      },
    };
    const job = {
      id: `dup-${Math.random()}`,
      type: "notify" as const,
      attempt: 1,
      enqueuedAt: Date.now(),
      payload: { userId: u.id, type: "x", title: "t", body: "b", email: true },
    };
    await Promise.all([handleNotify(job, deps), handleNotify(job, deps), handleNotify(job, deps)]);
    expect(sent).toEqual([u.email]);
  });

  test("notify.many: one job, several people; each notification stored once and each e-mail sent once, a failed e-mail retried", async () => {
    const [a, b] = await Promise.all([registerUser(t.call), registerUser(t.call)]);
    const { sent, deps } = failingOnceFor(b.email);
    const job = {
      id: `many-${Math.random()}`,
      type: "notify.many" as const,
      attempt: 1,
      enqueuedAt: Date.now(),
      payload: {
        notifications: [
          { userId: a.id, type: "x", title: "to a", body: "b", email: true },
          { userId: b.id, type: "x", title: "to b", body: "b", email: true },
          { userId: b.id, type: "y", title: "quiet", body: "b" },
        ],
      },
    };
    const runs = await Promise.allSettled([
      handleNotifyMany(job, deps),
      handleNotifyMany(job, deps),
      handleNotifyMany(job, deps),
    ]);
    expect(runs.filter((r) => r.status === "rejected")).toHaveLength(1);
    await handleNotifyMany({ ...job, attempt: 2 }, deps); // the retry of the failed run
    await handleNotifyMany({ ...job, attempt: 3 }, deps); // and a redelivery after it
    expect(sent.sort()).toEqual([a.email, b.email].sort());
    const stored = await t.deps.database.raw.query(
      "select user_id, title from notifications where dedupe_key like $1 order by title",
      [`job:${job.id}:%`],
    );
    expect(stored.map((n) => n.title)).toEqual(["quiet", "to a", "to b"]);
  });

  test("notify.email: notifications written in a change's transaction, their e-mails sent once across redeliveries, a failed one retried", async () => {
    const [a, b] = await Promise.all([registerUser(t.call), registerUser(t.call)]);
    const { sent, deps } = failingOnceFor(b.email);
    const key = `change-${Math.random()}`;
    const notices = [
      { dedupeKey: `${key}:a`, p: { userId: a.id, type: "x", title: "to a", body: "b", email: true } },
      { dedupeKey: `${key}:b`, p: { userId: b.id, type: "x", title: "to b", body: "b", email: true } },
      { dedupeKey: `${key}:quiet`, p: { userId: b.id, type: "y", title: "quiet", body: "b" } },
    ];
    // The change's transaction writes the rows and the one e-mail job, twice over (a retried change).
    for (let i = 0; i < 2; i++) await t.deps.db.transaction((tx) => notifyWithin(tx, t.deps.clock, notices));
    const jobs = await q("select type, payload from outbox where dedupe_key = $1", [`${key}:a:email`]);
    expect(jobs.map((j) => j.type)).toEqual(["notify.email"]);
    expect(jobs[0]?.payload).toEqual({ dedupeKeys: [`${key}:a`, `${key}:b`] });
    const job = {
      id: `email-${key}`,
      type: "notify.email" as const,
      attempt: 1,
      enqueuedAt: Date.now(),
      payload: { dedupeKeys: [`${key}:a`, `${key}:b`] },
    };
    const runs = await Promise.allSettled([
      handleNotifyEmail(job, deps),
      handleNotifyEmail(job, deps),
      handleNotifyEmail(job, deps),
    ]);
    expect(runs.filter((r) => r.status === "rejected")).toHaveLength(1);
    await handleNotifyEmail({ ...job, attempt: 2 }, deps); // the retry of the failed run
    await handleNotifyEmail({ ...job, attempt: 3 }, deps); // and a redelivery after it
    expect(sent.sort()).toEqual([a.email, b.email].sort());
    const stored = await q("select title from notifications where dedupe_key like $1 order by title", [`${key}:%`]);
    expect(stored.map((n) => n.title)).toEqual(["quiet", "to a", "to b"]);
  });

  test("after the last attempt the job is dead, listed, and can be retried", async () => {
    const u = await registerUser(t.call);
    const id = (await enqueueOne("test.flaky", { userId: u.id, failTimes: 99 })) as string;
    await until("the job to die", async () => {
      await runLocalOnce(t.deps);
      return (await q("select 1 from outbox where id = $1 and dead_at is not null", [Number(id)])).length > 0;
    });
    const dead = (await listDeadJobs(t.deps)).find((d) => d.jobId === id);
    expect(dead?.error).toContain("fails on purpose");
    expect(await retryDeadJob(t.deps, id)).toBe(true);
    await q("update outbox set payload = jsonb_set(payload, '{failTimes}', '0') where id = $1", [Number(id)]);
    await until("the retried job", async () => {
      await runLocalOnce(t.deps);
      return (await effects(u.id)) === 1;
    });
  });
});

describe("scheduler", () => {
  test("a recurring job is enqueued once per interval, however many instances schedule it", async () => {
    await t.call("POST", "/api/v1/_test/clock", { body: { now: "2031-01-01T10:00:30Z" } });
    try {
      const recurring = [{ name: `sample-${Math.random()}`, everyMs: 60_000, type: "jobs.noop" as const }];
      const counts = await Promise.all(Array.from({ length: 5 }, () => scheduleDue(t.deps, recurring)));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
      expect(await scheduleDue(t.deps, recurring)).toBe(0);
      await t.call("POST", "/api/v1/_test/clock", { body: { now: "2031-01-01T10:01:05Z" } });
      expect(await scheduleDue(t.deps, recurring)).toBe(1);
      const rows = await q("select 1 from outbox where dedupe_key like $1", [`recurring:${recurring[0]?.name}:%`]);
      expect(rows).toHaveLength(2);
    } finally {
      await t.call("DELETE", "/api/v1/_test/clock");
    }
  });
});

describe("notifications API", () => {
  test("newest first, paginated; read is idempotent; someone else's is 404", async () => {
    const u = await registerUser(t.call);
    for (let i = 0; i < 3; i++) await enqueueOne("notify", { userId: u.id, type: "note", title: `n${i}`, body: "b" });
    while ((await runLocalOnce(t.deps)) > 0) {}
    const page1 = await t.call<{ data: { id: string; title: string }[]; nextCursor: string }>(
      "GET",
      "/api/v1/notifications?limit=2",
      { token: u.accessToken },
    );
    expect(page1.body.data).toHaveLength(2);
    const page2 = await t.call<{ data: { id: string; title: string }[] }>(
      "GET",
      `/api/v1/notifications?limit=10&cursor=${page1.body.nextCursor}`,
      {
        token: u.accessToken,
      },
    );
    expect(page1.body.data.length + page2.body.data.length).toBe(4); // three notes + welcome
    const id = page1.body.data[0]?.id as string;
    const read = await t.call("POST", `/api/v1/notifications/${id}/read`, { token: u.accessToken });
    expect(read.status).toBe(200);
    expect(read.body.readAt).toBeString();
    const again = await t.call("POST", `/api/v1/notifications/${id}/read`, { token: u.accessToken });
    expect(again.body.readAt).toBe(read.body.readAt);
    const other = await registerUser(t.call);
    expect((await t.call("POST", `/api/v1/notifications/${id}/read`, { token: other.accessToken })).status).toBe(404);
  });
});

describe("/metrics", () => {
  test("Prometheus text with request counts and latency by route and status", async () => {
    await t.call("GET", "/health");
    await Bun.sleep(20); // the access log and metrics are recorded after the answer is sent
    const res = await t.call("GET", "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(res.text).toContain('stayhub_http_requests_total{method="GET",route="/health",status="200"}');
    expect(res.text).toContain("stayhub_http_request_duration_seconds_bucket");
  });
});

describe.if(Boolean(redisUrl && databaseUrl))("Redis Streams with worker threads", () => {
  test("flaky job: retried with backoff through the stream, effect once", async () => {
    const events: JobEvent[] = [];
    const jobs = await startJobs(t.deps, { scheduler: false, hooks: { onEvent: (e) => void events.push(e) } });
    try {
      expect(jobs.transport).toBe("redis-streams");
      const u = await registerUser(t.call);
      await enqueueOne("test.flaky", { userId: u.id, failTimes: 2 });
      await until("the flaky job", async () => (await effects(u.id)) === 1);
      // Outcomes reach the main thread in batches: wait for the last one.
      await until("its outcomes", async () => events.filter((e) => e.type === "test.flaky").length === 3);
      expect(events.filter((e) => e.type === "test.flaky").map((e) => e.outcome)).toEqual(["retry", "retry", "done"]);
    } finally {
      await jobs.stop();
    }
  }, 60_000);

  test("a worker thread killed in the middle of a job: another consumer reclaims and completes it", async () => {
    let victim = -1;
    const jobs = await startJobs(t.deps, {
      scheduler: false,
      hooks: {
        onStart: (thread) => {
          if (victim < 0) {
            victim = thread;
            jobs.pool?.threads[thread]?.terminate();
          }
        },
      },
    });
    try {
      const u = await registerUser(t.call);
      await enqueueOne("test.sleep", { userId: u.id, ms: 300 });
      await until("the reclaimed job", async () => (await effects(u.id)) === 1, 30_000);
      expect(victim).toBeGreaterThanOrEqual(0);
    } finally {
      await jobs.stop();
    }
  }, 60_000);

  test("a thread runs the jobs of a batch side by side (JOB_CONCURRENCY), not one after another", async () => {
    const starts = new Map<string, number>();
    const u = await registerUser(t.call);
    const ids = await enqueueMany(
      t.deps.db,
      t.deps.clock,
      Array.from({ length: 6 }, () => ({ type: "test.sleep", payload: { userId: u.id, ms: 1500 } })),
    );
    // In the stream before the thread reads it: its first read is the whole batch of six.
    const queue = new RedisQueue(t.deps.redis as NonNullable<typeof t.deps.redis>, t.deps.config.redisPrefix);
    await queue.ensureGroup();
    while ((await relayOnce(t.deps, queue)) > 0) {}
    const jobs = await startJobs(t.deps, {
      scheduler: false,
      threads: 1,
      hooks: { onStart: (_, id) => void starts.set(id, Date.now()) },
    });
    try {
      await until("6 effects", async () => (await effects(u.id)) === 6, 30_000);
      const at = ids.map((id) => starts.get(id) as number);
      // One after another, one thread could not start a second job before 1.5 s had passed.
      expect(Math.max(...at) - Math.min(...at)).toBeLessThan(1000);
    } finally {
      await jobs.stop();
    }
  }, 60_000);

  test("a batch slower than the visibility timeout is not reclaimed while its consumer works on it", async () => {
    const starts = new Map<string, number>();
    const jobs = await startJobs(t.deps, {
      scheduler: false,
      hooks: { onStart: (_, id) => void starts.set(id, (starts.get(id) ?? 0) + 1) },
    });
    try {
      const u = await registerUser(t.call);
      const ids = await enqueueMany(
        t.deps.db,
        t.deps.clock,
        Array.from({ length: 12 }, () => ({ type: "test.sleep", payload: { userId: u.id, ms: 300 } })),
      );
      await until("12 effects", async () => (await effects(u.id)) === 12, 30_000);
      expect(ids.map((id) => starts.get(id))).toEqual(Array(12).fill(1));
    } finally {
      await jobs.stop();
    }
  }, 60_000);

  test("a job that kills every thread that runs it ends in the dead letters; killed threads are replaced", async () => {
    let poison = "";
    const killed = new Set<Worker>();
    const jobs = await startJobs(t.deps, {
      scheduler: false,
      hooks: {
        onStart: (thread, id) => {
          if (id !== poison) return;
          const w = jobs.pool?.threads[thread];
          if (w) {
            killed.add(w);
            w.terminate();
          }
        },
      },
    });
    try {
      const u = await registerUser(t.call);
      poison = (await enqueueOne("test.sleep", { userId: u.id, ms: 2000 })) as string;
      await until(
        "the poison job in the dead letters",
        async () => (await listDeadJobs(t.deps)).some((d) => d.jobId === poison),
        45_000,
      );
      expect(killed.size).toBeGreaterThanOrEqual(2);
      // The pool is whole again: a normal job still runs.
      const v = await registerUser(t.call);
      await enqueueOne("test.effect", { userId: v.id });
      await until("a normal job after the poison", async () => (await effects(v.id)) === 1, 20_000);
      expect(await effects(u.id)).toBe(0);
    } finally {
      await jobs.stop();
    }
  }, 90_000);

  test("10,000 jobs across 2 worker threads: each effect exactly once", async () => {
    const u = await registerUser(t.call);
    await q(
      `insert into outbox (type, payload, run_at) select 'test.effect', jsonb_build_object('userId', $1::text, 'n', g), now() - interval '1 second' from generate_series(1, 10000) g`,
      [u.id],
    );
    const jobs = await startJobs(t.deps, { scheduler: false });
    try {
      await until("10,000 effects", async () => (await effects(u.id)) >= 10_000, 120_000);
      await Bun.sleep(300);
      expect(await effects(u.id)).toBe(10_000);
      const [left] = await q<{ n: number }>(
        "select count(*)::int as n from outbox where sent_at is null and type = 'test.effect'",
      );
      expect(left?.n).toBe(0);
    } finally {
      await jobs.stop();
    }
  }, 180_000);

  test("graceful shutdown loses nothing: jobs in flight finish or go back, and a new pool completes the rest", async () => {
    const u = await registerUser(t.call);
    for (let i = 0; i < 100; i++) await enqueueOne("test.sleep", { userId: u.id, ms: 100 });
    const first = await startJobs(t.deps, { scheduler: false });
    // Stopped once it has begun (not after a fixed time: a fast start could finish all 100 first).
    await until("a first effect", async () => (await effects(u.id)) > 0, 30_000);
    await first.stop();
    const doneBefore = await effects(u.id);
    expect(doneBefore).toBeLessThan(100);
    const second = await startJobs(t.deps, { scheduler: false });
    try {
      await until("all 100 effects", async () => (await effects(u.id)) === 100, 60_000);
    } finally {
      await second.stop();
    }
  }, 90_000);

  test("Redis stopped while the API takes requests: no request fails, every job runs once it returns", async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const start = () =>
      Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
        stdout: "ignore",
        stderr: "ignore",
      });
    let server = start();
    await Bun.sleep(300);
    const app = await startTestApp(
      { TEST_JOBS: "1", WORKER_THREADS: "1", JOB_BACKOFF_MS: "10" },
      { redisUrl: `redis://127.0.0.1:${port}` },
    );
    const jobs = await startJobs(app.deps, { scheduler: false });
    try {
      server.kill("SIGKILL");
      await server.exited;
      const users = [];
      for (let i = 0; i < 3; i++) users.push(await registerUser(app.call));
      const login = await app.call("POST", "/api/v1/auth/login", {
        body: { email: users[0]?.email, password: users[0]?.password },
      });
      expect(login.status).toBe(200); // rate limits fell back to in-process counting
      expect((await app.call("GET", "/api/v1/properties?city=Nowhere")).status).toBe(200); // the cache misses instead of failing
      const welcomes = async () =>
        Number(
          (
            await app.deps.database.raw.query<{ n: number }>(
              "select count(*)::int as n from notifications where type = 'welcome'",
            )
          )[0]?.n,
        );
      await Bun.sleep(500);
      expect(await welcomes()).toBe(0);
      server = start();
      await until("the welcome notifications after Redis returns", async () => (await welcomes()) === 3, 30_000);
    } finally {
      await jobs.stop();
      await app.close();
      server.kill("SIGKILL");
    }
  }, 60_000);

  test("the relay hands due rows to the stream earliest-due first, then in the order they were made, each once", async () => {
    const redis = t.deps.redis as NonNullable<typeof t.deps.redis>;
    const queue = new RedisQueue(redis, `order${Date.now()}:`);
    await queue.ensureGroup();
    await q("update outbox set sent_at = now() where sent_at is null"); // only this test's rows below
    const now = t.deps.clock.now().getTime();
    const ids = await enqueueMany(
      t.deps.db,
      t.deps.clock,
      [3, 1, 2, 1].map((s) => ({ type: "jobs.noop" as const, payload: {}, runAt: new Date(now - s * 1000) })),
    );
    try {
      expect(await relayOnce(t.deps, queue)).toBe(4);
      expect(await relayOnce(t.deps, queue)).toBe(0);
      const entries = (await redis.xrange(queue.stream, "-", "+")) as [string, string[]][];
      const relayed = entries.map(([, fields]) => (JSON.parse(fields[1] as string) as { id: string }).id);
      expect(relayed).toEqual([ids[0], ids[2], ids[1], ids[3]] as string[]);
      const [unsent] = await q<{ n: number }>(
        `select count(*)::int as n from outbox where sent_at is null and id in (${ids.join(",")})`,
      );
      expect(unsent?.n).toBe(0);
    } finally {
      await redis.del(queue.stream);
    }
  });

  test("Redis down: rows wait in the outbox; when it returns they are relayed", async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const start = () =>
      Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
        stdout: "ignore",
        stderr: "ignore",
      });
    let server = start();
    const Redis = (await import("ioredis")).default;
    const client = new Redis(`redis://127.0.0.1:${port}`, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    client.on("error", () => {});
    await until("private redis", async () => (await client.ping().catch(() => "")) === "PONG");
    const queue = new RedisQueue(client, "outage:");
    await queue.ensureGroup();
    const u = await registerUser(t.call);
    await q("update outbox set sent_at = now() where sent_at is null"); // only this test's job below
    server.kill("SIGKILL");
    await server.exited;
    await enqueueOne("test.effect", { userId: u.id });
    await expect(relayOnce(t.deps, queue)).rejects.toBeDefined();
    const [waiting] = await q<{ n: number }>("select count(*)::int as n from outbox where sent_at is null");
    expect(waiting?.n).toBe(1);
    server = start();
    await until("redis back", async () => (await client.ping().catch(() => "")) === "PONG");
    await queue.ensureGroup();
    expect(await relayOnce(t.deps, queue)).toBe(1);
    expect((await queue.stats()).depth).toBe(1);
    client.disconnect();
    server.kill("SIGKILL");
  }, 60_000);
});
