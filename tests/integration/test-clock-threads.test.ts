// The test clock reaches the job worker threads however early it is set: a thread that was still
// starting when the clock moved (its own clock not yet listening) takes the current value once it
// is ready. Before, such a thread kept the real time, and a job due at the set instant never ran.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { enqueue } from "../../src/jobs/outbox";
import { startJobs } from "../../src/jobs/runner";
import { registerUser, startTestApp, type TestApp } from "../support/app";
import { databaseUrl, redisUrl } from "../support/services";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ TEST_JOBS: "1", WORKER_THREADS: "1" });
}, 60_000);
afterAll(() => t?.close());

const effects = async (userId: string) =>
  Number(
    (
      await t.deps.database.raw.query<{ n: number }>(
        "select count(*)::int as n from notifications where user_id = $1 and type = 'test'",
        [userId],
      )
    )[0]?.n,
  );

test.if(Boolean(redisUrl && databaseUrl))(
  "a clock set while the worker threads start reaches them: a job due at the set instant runs",
  async () => {
    const testClock = t.deps.testClock;
    if (!testClock) throw new Error("TEST_CLOCK is off");
    const clock = testClock;
    const user = await registerUser(t.call);
    // A year ahead: by the real time, a job due then is not due.
    const future = new Date(Date.now() + 365 * 86_400_000);
    // Moved a minute on the moment each thread is spawned: after the pool read the clock for it,
    // before the thread has built (and started listening with) its own.
    const Spawn = globalThis.Worker;
    let spawned = 0;
    globalThis.Worker = class extends Spawn {
      constructor(...args: ConstructorParameters<typeof Worker>) {
        super(...args);
        clock.set(new Date(future.getTime() + ++spawned * 60_000));
      }
    };
    const jobs = await startJobs(t.deps, { scheduler: false }).finally(() => {
      globalThis.Worker = Spawn;
    });
    expect(spawned).toBe(2); // a consumer and the relay
    try {
      expect(jobs.transport).toBe("redis-streams");
      await t.deps.db.transaction((tx) => enqueue(tx, t.deps.clock, "test.effect", { userId: user.id }));
      const deadline = Date.now() + 10_000;
      while ((await effects(user.id)) === 0 && Date.now() < deadline) await Bun.sleep(50);
      expect(await effects(user.id)).toBe(1);
    } finally {
      await jobs.stop();
      clock.reset();
    }
  },
  60_000,
);
