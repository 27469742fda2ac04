// `bun run test:faults` after `bun run build` (part of .ci/run): against the compiled binary on a
// private PostgreSQL cluster and a private Redis (both started and killed here, on loopback), under
// light steady traffic: every connection terminated, the database stopped and started again,
// Redis killed and started again, and SIGTERM with the database down, right after the connections
// were terminated, and with Redis killed. Only 2xx/4xx/503 answers, /ready tells the truth, every
// acknowledged write is there afterwards, and the process exits within its deadline.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { cleanups, freePort, type Running, runCleanups, start, tempDir } from "../support/binary";
import { requireServices } from "../support/services";

const PG_BIN = "/usr/lib/postgresql/15/bin";
const canRun = existsSync(`${PG_BIN}/initdb`) && Bun.which("redis-server") !== null && Bun.which("runuser") !== null;
if (!canRun && (process.env.CI || requireServices))
  throw new Error("the fault suite needs PostgreSQL 15's initdb/pg_ctl, runuser and redis-server");

const asPostgres = (args: string[]) =>
  Bun.spawn(["runuser", "-u", "postgres", "--", ...args], { stdout: "pipe", stderr: "pipe" });
async function run(args: string[]): Promise<void> {
  const proc = asPostgres(args);
  if ((await proc.exited) !== 0) throw new Error(`${args.join(" ")}: ${await new Response(proc.stderr).text()}`);
}

let dataDir = "";
let pgPort = 0;
let redisPort = 0;
let redis: ReturnType<typeof Bun.spawn> | undefined;
const pgCtl = (action: "start" | "stop") =>
  run([
    `${PG_BIN}/pg_ctl`,
    "-D",
    dataDir,
    "-w",
    "-t",
    "30",
    ...(action === "start"
      ? ["-o", `-p ${pgPort} -k ${dataDir} -c listen_addresses=127.0.0.1`, "-l", join(dataDir, "log"), "start"]
      : ["-m", "fast", "stop"]),
  ]);
const startRedis = () => {
  redis = Bun.spawn(
    ["redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdout: "ignore", stderr: "ignore" },
  );
};
const adminUrl = () => `postgres://postgres@127.0.0.1:${pgPort}/postgres`;

beforeAll(async () => {
  if (!canRun) return;
  const parent = mkdtempSync(join(tmpdir(), "stayhub-faults-"));
  chmodSync(parent, 0o755);
  dataDir = join(parent, "pg");
  mkdirSync(dataDir);
  Bun.spawnSync(["chown", "postgres:postgres", dataDir]);
  await run([`${PG_BIN}/initdb`, "-D", dataDir, "-A", "trust", "-U", "postgres", "--no-sync"]);
  pgPort = freePort();
  redisPort = freePort();
  await pgCtl("start");
  startRedis();
  cleanups.push(async () => {
    redis?.kill("SIGKILL");
    await pgCtl("stop").catch(() => {});
    Bun.spawnSync(["rm", "-rf", parent]);
  });
}, 60_000);
afterAll(runCleanups);

/** Which fault is being injected: named in the report of a request that got no answer. */
const phase = { now: "steady" };

interface Traffic {
  statuses: Map<number, number>;
  acknowledged: string[];
  failures: string[];
  stop(): Promise<void>;
}

/** A register, a search and a /ready every ~40 ms until stopped: what a quiet production sees. */
function traffic(base: string): Traffic {
  const statuses = new Map<number, number>();
  const acknowledged: string[] = [];
  const failures: string[] = [];
  let running = true;
  let n = 0;
  const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);
  const loop = (async () => {
    while (running) {
      const email = `fault${n++}@example.com`;
      const sent = performance.now();
      const settled = await Promise.allSettled([
        fetch(`${base}/api/v1/auth/register`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email, password: "a long enough password", name: "F" }),
          signal: AbortSignal.timeout(8_000),
        }),
        fetch(`${base}/api/v1/properties?city=Lisbon&limit=5`, { signal: AbortSignal.timeout(8_000) }),
      ]);
      for (const [i, a] of settled.entries()) {
        if (a.status === "fulfilled") {
          count(a.value.status);
          if (i === 0 && a.value.status === 201) acknowledged.push(email);
        } else {
          count(0); // no answer at all: a failure the assertions catch
          failures.push(
            `${i === 0 ? "register" : "search"} sent during "${phase.now}" at ${Math.round(sent)}: ${(a.reason as Error)?.name}`,
          );
        }
      }
      await Bun.sleep(40);
    }
  })();
  return {
    statuses,
    acknowledged,
    failures,
    async stop() {
      running = false;
      await loop;
    },
  };
}

const ready = async (base: string) =>
  (await fetch(`${base}/ready`, { signal: AbortSignal.timeout(5_000) }).catch(() => null))?.status ?? 0;
async function until(what: () => Promise<boolean>, ms: number): Promise<number> {
  const t0 = performance.now();
  while (!(await what())) {
    if (performance.now() - t0 > ms) throw new Error(`not within ${ms} ms`);
    await Bun.sleep(100);
  }
  return performance.now() - t0;
}

const faultEnv = () => ({
  DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/postgres`,
  REDIS_URL: `redis://127.0.0.1:${redisPort}`,
  DATA_DIR: tempDir(),
  LOG_LEVEL: "warn",
  SHUTDOWN_TIMEOUT_MS: "5000",
  REGISTER_RATE_LIMIT: "100000",
  WORKER_THREADS: "1",
  JWT_SECRET: "e2e-faults-secret-e2e-faults-secret-e2e",
});

test.if(canRun)(
  "terminated connections, a stopped and restarted database, a killed Redis: 2xx/4xx/503 only, /ready tracks it, nothing acknowledged is lost",
  async () => {
    const env = faultEnv();
    const server: Running = await start({ ...env, LOG_LEVEL: "info" }, tempDir());
    // The binary's log, read as it comes (an unread pipe fills and stalls the writer), kept for
    // the report of a request that got no answer.
    const lines: string[] = [];
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of server.proc.stdout as ReadableStream<Uint8Array>)
        lines.push(...decoder.decode(chunk).split("\n").filter(Boolean));
    })();
    const load = traffic(server.url);
    await Bun.sleep(1_000);

    // (a) every connection of the service terminated.
    phase.now = "connections terminated";
    const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'stayhub'`;
    await admin.end();
    await Bun.sleep(1_500);
    expect(await ready(server.url)).toBe(200);

    // (b) the database stopped, then started again.
    phase.now = "database stopped";
    await pgCtl("stop");
    const toUnready = await until(async () => (await ready(server.url)) === 503, 5_000);
    const refused = await fetch(`${server.url}/api/v1/properties?city=Porto`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBeTruthy();
    await Bun.sleep(1_500);
    phase.now = "database starting";
    await pgCtl("start");
    const toReadyAgain = await until(async () => (await ready(server.url)) === 200, 20_000);

    // (c) Redis killed, then started again.
    phase.now = "redis killed";
    redis?.kill("SIGKILL");
    await redis?.exited;
    await until(async () => (await ready(server.url)) === 503, 5_000);
    await Bun.sleep(1_500);
    phase.now = "redis starting";
    startRedis();
    await until(async () => (await ready(server.url)) === 200, 20_000);
    await Bun.sleep(1_000);
    await load.stop();

    const statuses = [...load.statuses.keys()].sort();
    console.log(
      `faults: ${[...load.statuses].map(([s, n]) => `${s}: ${n}`).join(", ")}; /ready 503 after ${Math.round(toUnready)} ms of a stopped database, 200 again ${Math.round(toReadyAgain)} ms after it started; ${load.acknowledged.length} registrations acknowledged`,
    );
    if (load.failures.length)
      console.log(lines.filter((l) => !l.includes('"msg":"mail"') && !l.includes('"route":"/ready"')).join("\n"));
    expect(load.failures).toEqual([]);
    for (const s of statuses) expect(s === 503 || (s >= 200 && s < 500), `status ${s}`).toBe(true);
    expect(load.statuses.get(201) ?? 0).toBeGreaterThan(10);
    // Every acknowledged registration is there: each can log in.
    const check = postgres(adminUrl(), { max: 1, onnotice: () => {} });
    const stored = new Set((await check<{ email: string }[]>`select email from users`).map((r) => r.email));
    await check.end();
    expect(load.acknowledged.filter((e) => !stored.has(e))).toEqual([]);

    // (d) SIGTERM while the database is down: still out within SHUTDOWN_TIMEOUT_MS.
    await pgCtl("stop");
    await until(async () => (await ready(server.url)) === 503, 5_000);
    const signalled = performance.now();
    server.proc.kill("SIGTERM");
    const code = await server.proc.exited;
    const took = performance.now() - signalled;
    console.log(`SIGTERM with the database down: exit ${code} after ${Math.round(took)} ms`);
    expect(took).toBeLessThan(5_000 + 1_500);
    await pgCtl("start");
  },
  120_000,
);

test.if(canRun)(
  "SIGTERM during each fault (connections just terminated, Redis killed) under traffic: out within the deadline",
  async () => {
    const times: string[] = [];
    for (const fault of ["connections terminated", "redis killed"] as const) {
      const server = await start(faultEnv(), tempDir());
      const load = traffic(server.url);
      await Bun.sleep(500);
      if (fault === "connections terminated") {
        const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
        await admin`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'stayhub'`;
        await admin.end();
      } else {
        redis?.kill("SIGKILL");
        await redis?.exited;
        await until(async () => (await ready(server.url)) === 503, 5_000);
      }
      const signalled = performance.now();
      server.proc.kill("SIGTERM");
      const code = await server.proc.exited;
      const took = performance.now() - signalled;
      await load.stop();
      times.push(`${fault}: exit ${code} after ${Math.round(took)} ms`);
      expect(took).toBeLessThan(5_000 + 1_500);
      if (fault === "redis killed") {
        startRedis();
        await Bun.sleep(300);
      }
      // Answers while it ran were 2xx/4xx/503; a request cut by the shutdown itself is no answer.
      for (const st of load.statuses.keys())
        expect(st === 0 || st === 503 || (st >= 200 && st < 500), `status ${st}`).toBe(true);
    }
    console.log(`SIGTERM during faults: ${times.join("; ")}`);
  },
  60_000,
);
