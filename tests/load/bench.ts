// `bun run bench`: the service beside its raw floors, measured in one run on this machine, so the
// ratios survive a noisy machine. Needs wrk (apt-get install wrk) and PostgreSQL (DATABASE_URL,
// default postgres://postgres@127.0.0.1:5432/postgres); uses a scratch database stayhub_bench (or
// $BENCH_DATABASE). BENCH_BINARY=path measures that binary instead of building this checkout's.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { documentByIdQuery } from "../../src/modules/properties/service";
import { costLine, costProbe } from "./costs";
import { type JobsResult, jobsBench } from "./jobs-bench";
import { type LoadResult, wrk } from "./wrk";

const ROOT = resolve(import.meta.dir, "../..");
const BINARY = process.env.BENCH_BINARY ? resolve(process.env.BENCH_BINARY) : join(ROOT, "dist/stayhub");
const BENCH_DATABASE = process.env.BENCH_DATABASE ?? "stayhub_bench";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const baseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const benchDb = (() => {
  const u = new URL(baseUrl);
  u.pathname = `/${BENCH_DATABASE}`;
  return u.toString();
})();

const children: ReturnType<typeof Bun.spawn>[] = [];
const cleanup = () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
};
process.on("exit", cleanup);
process.on("SIGINT", () => process.exit(130));

const say = (msg: string) => console.error(`· ${msg}`);

function freePort(): number {
  const s = Bun.serve({ port: 0, fetch: () => new Response() });
  const p = s.port as number;
  s.stop(true);
  return p;
}

async function waitFor(url: string, proc: ReturnType<typeof Bun.spawn>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${url}: process exited ${proc.exitCode}`);
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    if (Date.now() > deadline) throw new Error(`${url} not ready`);
    await Bun.sleep(5);
  }
}

async function startStayhub(env: Record<string, string>, cwd: string, binary = BINARY) {
  const port = freePort();
  const t0 = performance.now();
  // BENCH_CPU_PROFILE=dir: the service runs from source under Bun's sampling profiler and leaves a
  // markdown profile of its main thread in dir when it stops (slower than the binary: for where, not how fast).
  const profile = process.env.BENCH_CPU_PROFILE;
  const cmd = profile
    ? [process.execPath, "--cpu-prof-md", `--cpu-prof-dir=${profile}`, join(ROOT, "src/main.ts"), "serve"]
    : [binary, "serve"];
  const proc = Bun.spawn(cmd, {
    cwd,
    env: { PATH: process.env.PATH ?? "", PORT: String(port), ...env },
    stdout: "ignore",
    stderr: "inherit",
  });
  children.push(proc);
  await waitFor(`http://127.0.0.1:${port}/ready`, proc);
  return {
    url: `http://127.0.0.1:${port}`,
    readyMs: performance.now() - t0,
    pid: proc.pid,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/** Each floor's process, by its URL. */
const floorPids = new Map<string, number>();

async function startFloor(args: string[], env: Record<string, string> = {}) {
  const port = freePort();
  const proc = Bun.spawn(
    [process.execPath, join(import.meta.dir, "floors.ts"), args[0] as string, String(port), ...args.slice(1)],
    {
      env: { ...process.env, ...env },
      stdout: "ignore",
      stderr: "inherit",
    },
  );
  children.push(proc);
  await waitFor(`http://127.0.0.1:${port}/`, proc);
  floorPids.set(`http://127.0.0.1:${port}/`, proc.pid);
  return `http://127.0.0.1:${port}/`;
}

async function measure(url: string, o: Parameters<typeof wrk>[1]): Promise<LoadResult> {
  await wrk(url, { ...o, seconds: 2 }); // warm-up: JIT, connection pools, caches
  return wrk(url, o);
}

const CLOCK_TICKS = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

/** CPU seconds these processes have used so far (user + system, from /proc; 0 where there is none). */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // gone, or not Linux
    }
  }
  return ticks / CLOCK_TICKS;
}

/**
 * A load run with the CPU time it cost, per request: the stayhub process, and the PostgreSQL
 * backends serving stayhub connections (found by application name after the warm-up has opened
 * them; the same machine runs both). Approximate: the other instances' idle backends are counted
 * too, and cost next to nothing while idle.
 */
async function measureCpu(appPid: number, url: string, o: Parameters<typeof wrk>[1]) {
  await wrk(url, { ...o, seconds: 2 });
  const sql = postgres(benchDb, { max: 1, onnotice: () => {} });
  const backends = (
    await sql`select pid from pg_stat_activity where datname = ${BENCH_DATABASE} and application_name = 'stayhub'`
  ).map((r) => r.pid as number);
  await sql.end();
  const [app0, db0] = [cpuSeconds([appPid]), cpuSeconds(backends)];
  const r = await wrk(url, o);
  const [app1, db1] = [cpuSeconds([appPid]), cpuSeconds(backends)];
  const perRequest = (seconds: number) => (r.requests > 0 ? Math.round((seconds * 1e6) / r.requests) : Number.NaN);
  return { r, cpu: `CPU per request: stayhub ${perRequest(app1 - app0)} µs, PostgreSQL ${perRequest(db1 - db0)} µs` };
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

async function timed(n: number, fn: (i: number) => Promise<Response>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fn(i);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`status ${res.status}`);
    out.push(performance.now() - t0);
  }
  return out;
}

const rows: { name: string; r: LoadResult; vs?: string; cost?: string }[] = [];
const jobResults: JobsResult[] = [];
const notes: string[] = [];
const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : "n/a");

async function main() {
  if (!Bun.which("wrk")) throw new Error("wrk is not installed: apt-get install -y wrk");
  if (!process.env.BENCH_BINARY && (!existsSync(BINARY) || process.env.BENCH_BUILD !== "0")) {
    say("building the binary");
    const b = Bun.spawnSync([process.execPath, "run", "build"], { cwd: ROOT, stdout: "ignore", stderr: "inherit" });
    if (b.exitCode !== 0) throw new Error("build failed");
  }
  notes.push(`binary size: ${(statSync(BINARY).size / 1024 / 1024).toFixed(1)} MiB`);

  say(`fresh database ${BENCH_DATABASE}`);
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists "${BENCH_DATABASE}" with (force)`);
  await admin.unsafe(`create database "${BENCH_DATABASE}"`);
  await admin.end();

  const cwd = mkdtempSync(join(tmpdir(), "stayhub-bench-"));
  const only = process.env.BENCH_ONLY; // "properties": the issue-4 scenarios alone (with their floors)
  // The login storm logs one account in over and over: the brute-force limit must not cut it short.
  const env = {
    DATABASE_URL: benchDb,
    JWT_SECRET: "bench-secret-bench-secret-bench-secret",
    DATA_DIR: join(cwd, "pgdata"),
    LOG_LEVEL: "info",
    LOGIN_RATE_LIMIT: "10000",
    REGISTER_RATE_LIMIT: "100000",
  };

  if (only === "reset") {
    const app = await startStayhub({ ...env, LOG_LEVEL: "warn" }, cwd);
    notes.push(await resetTiming(app.url));
    await app.stop();
    rmSync(cwd, { recursive: true, force: true });
    return report();
  }
  if (only === "me") {
    await meScenario(env, { connections: CONNECTIONS, seconds: SECONDS });
    rmSync(cwd, { recursive: true, force: true });
    return report();
  }
  if (only === "graphql") {
    seedProperties(env, cwd);
    await graphqlScenario(env, cwd, { connections: CONNECTIONS, seconds: SECONDS });
    rmSync(cwd, { recursive: true, force: true });
    return report();
  }
  if (["properties", "bookings", "payments", "reviews", "mixed", "quote", "payouts"].includes(only ?? "")) {
    const o = { connections: CONNECTIONS, seconds: SECONDS };
    if (only === "properties") await propertyScenarios(env, cwd, o);
    else if (only === "quote") await quoteScenario(env, cwd, o);
    else if (only === "payouts") await payoutScenario(env, cwd);
    else {
      seedProperties(env, cwd);
      if (only === "bookings") await bookingScenarios(env, cwd, o);
      else if (only === "mixed") await mixedScenario(env, cwd, o);
      else if (only === "reviews") await reviewScenario(env, cwd, o);
      else await paymentScenario(env, cwd, o);
    }
    rmSync(cwd, { recursive: true, force: true });
    return report();
  }

  say("PostgreSQL: start → /ready (first start migrates; second start finds it migrated)");
  const first = await startStayhub(env, cwd);
  await first.stop();
  const app = await startStayhub(env, cwd);
  notes.push(
    `start → /ready with PostgreSQL: ${fmt(first.readyMs, 0)} ms (migrating an empty database), ${fmt(app.readyMs, 0)} ms (migrated)`,
  );

  say("register and login latency (argon2id, sequential)");
  const password = "bench password 123";
  const regs = await timed(30, (i) =>
    fetch(`${app.url}/api/v1/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: `bench${i}@example.com`, password, name: "Bench" }),
    }),
  );
  const loginBody = JSON.stringify({ email: "bench0@example.com", password });
  const logins = await timed(30, () =>
    fetch(`${app.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: loginBody,
    }),
  );
  notes.push(
    `register p50 ${fmt(percentile(regs, 50), 1)} ms, login p50 ${fmt(percentile(logins, 50), 1)} ms (argon2id m=19 MiB, t=2)`,
  );
  // Unknown e-mail vs wrong password must take about as long (no account enumeration by timing).
  // Different e-mails each time so the failed-login limit does not cut the sample short.
  const failedLogin = (email: string) =>
    fetch(`${app.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "wrong password!!" }),
    });
  const expectFail = async (res: Promise<Response>) => {
    const r = await res;
    return new Response(r.status === 401 ? "" : `unexpected ${r.status}`, { status: r.status === 401 ? 200 : 500 });
  };
  // Interleaved, so that drift in the machine's load hits both samples alike.
  const wrongPassword: number[] = [];
  const unknownEmail: number[] = [];
  for (let i = 0; i < 20; i++) {
    wrongPassword.push(...(await timed(1, () => expectFail(failedLogin(`bench${i + 1}@example.com`)))));
    unknownEmail.push(...(await timed(1, () => expectFail(failedLogin(`nobody${i}@example.com`)))));
  }
  notes.push(await resetTiming(app.url));
  notes.push(
    `failed login p50: wrong password ${fmt(percentile(wrongPassword, 50), 1)} ms, unknown e-mail ${fmt(percentile(unknownEmail, 50), 1)} ms (should match)`,
  );
  const session = (await (
    await fetch(`${app.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: loginBody,
    })
  ).json()) as {
    accessToken: string;
    user: { id: string };
  };

  say("floors");
  const jsonFloor = await startFloor(["json"]);
  const dbFloor = await startFloor(["db", benchDb, session.user.id]);
  const o = { connections: CONNECTIONS, seconds: SECONDS };

  say(`load: ${CONNECTIONS} connections, ${SECONDS} s each`);
  const floorJson = await measure(jsonFloor, o);
  rows.push({ name: "floor: Bun.serve JSON", r: floorJson });
  const floorDb = await measure(dbFloor, o);
  rows.push({ name: "floor: Bun.serve + postgres.js PK select", r: floorDb });
  const me = await measure(`${app.url}/api/v1/users/me`, {
    ...o,
    headers: { authorization: `Bearer ${session.accessToken}` },
  });
  rows.push({ name: "GET /api/v1/users/me", r: me, vs: `${fmt(me.rps / floorDb.rps)} × db floor (target ≥ 0.7)` });
  const health = await measure(`${app.url}/health`, o);
  rows.push({ name: "GET /health", r: health, vs: `${fmt(health.rps / floorJson.rps)} × Bun.serve floor` });

  say("/health latency idle, then while logins saturate the CPU");
  const idle = await wrk(`${app.url}/health`, { connections: 1, seconds: SECONDS });
  rows.push({ name: "GET /health, 1 connection, idle", r: idle });
  const [busy, storm] = await Promise.all([
    (async () => {
      await Bun.sleep(1000); // let the login storm fill the thread pool first
      return wrk(`${app.url}/health`, { connections: 1, seconds: SECONDS });
    })(),
    wrk(`${app.url}/api/v1/auth/login`, {
      connections: 16,
      seconds: SECONDS + 2,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: loginBody,
    }),
  ]);
  rows.push({ name: "POST /auth/login, 16 connections (the storm)", r: storm });
  rows.push({
    name: "GET /health, 1 connection, during the storm",
    r: busy,
    vs: `p99 ${fmt(busy.p99ms / idle.p99ms, 1)} × idle (target ≤ 5)`,
  });
  await app.stop();

  // Jobs before the 10,000-property seed and its load, whose aftermath (autovacuum, a busy
  // PostgreSQL) would otherwise land in the jobs' tail latencies.
  say("jobs: 20,000 no-op jobs per transport, then 5,000 jobs/s offered; and BullMQ");
  jobResults.push(...(await jobsBench()));

  await propertyScenarios(env, cwd, o);
  await bookingScenarios(env, cwd, o);
  await mixedScenario(env, cwd, o);
  await paymentScenario(env, cwd, o);
  await reviewScenario(env, cwd, o);
  await graphqlScenario(env, cwd, o);

  say("embedded database: first start on an empty DATA_DIR, then a restart");
  const embeddedDir = join(cwd, "embedded");
  const e1 = await startStayhub({ DATA_DIR: embeddedDir, LOG_LEVEL: "warn" }, cwd);
  await e1.stop();
  const e2 = await startStayhub({ DATA_DIR: embeddedDir, LOG_LEVEL: "warn" }, cwd);
  await e2.stop();
  notes.push(
    `start → /ready embedded: first start ${fmt(e1.readyMs, 0)} ms (initdb + migrations), restart ${fmt(e2.readyMs, 0)} ms`,
  );
  rmSync(cwd, { recursive: true, force: true });
  report();
}

/**
 * BENCH_ONLY=me: the authenticated read alone, with PostgreSQL and Redis, beside its floors. With
 * BENCH_COMPARE=path, that binary (e.g. main's) runs too, on its own database, and the two are
 * measured in turns (A B B A …, BENCH_ROUNDS rounds of BENCH_SECONDS each) with the floors
 * between, so the drift of a shared machine falls on both alike; the report gives the median.
 */
async function meScenario(env: Record<string, string>, o: Parameters<typeof wrk>[1]) {
  const compare = process.env.BENCH_COMPARE ? resolve(process.env.BENCH_COMPARE) : undefined;
  const startOne = async (binary: string, database: string, tag: string) => {
    if (database !== BENCH_DATABASE) {
      const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop database if exists "${database}" with (force)`);
      await admin.unsafe(`create database "${database}"`);
      await admin.end();
    }
    const url = new URL(benchDb);
    url.pathname = `/${database}`;
    const dir = mkdtempSync(join(tmpdir(), `stayhub-bench-${tag}-`));
    const app = await startStayhub(
      {
        ...env,
        DATABASE_URL: url.toString(),
        DATA_DIR: join(dir, "pgdata"),
        REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
        REDIS_PREFIX: `benchme${tag}${Date.now()}:`,
        LOG_LEVEL: "warn",
      },
      dir,
      binary,
    );
    const res = await fetch(`${app.url}/api/v1/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "me@example.com", password: "bench password 123", name: "Bench" }),
    });
    const session = (await res.json()) as { accessToken: string; user: { id: string } };
    return {
      app,
      dir,
      url: `${app.url}/api/v1/users/me`,
      headers: { authorization: `Bearer ${session.accessToken}` },
      userId: session.user.id,
    };
  };
  const a = await startOne(BINARY, BENCH_DATABASE, "a");
  const b = compare ? await startOne(compare, `${BENCH_DATABASE}_b`, "b") : undefined;
  const jsonFloor = await startFloor(["json"]);
  const dbFloor = await startFloor(["db", benchDb, a.userId]);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
  const runs: Record<string, LoadResult[]> = { json: [], db: [], a: [], b: [] };
  // CPU time of the service process per request: what a busy machine's throughput hides.
  const cpu: Record<string, number[]> = { a: [], b: [] };
  await wrk(jsonFloor, { ...o, seconds: 2 });
  await wrk(dbFloor, { ...o, seconds: 2 });
  await wrk(a.url, { ...o, seconds: 2, headers: a.headers });
  if (b) await wrk(b.url, { ...o, seconds: 2, headers: b.headers });
  for (let round = 0; round < rounds; round++) {
    runs.json?.push(await wrk(jsonFloor, o));
    const order = b && round % 2 === 1 ? [b, a] : b ? [a, b] : [a];
    for (const x of order) {
      const cpu0 = cpuSeconds([x.app.pid]);
      const r = await wrk(x.url, { ...o, headers: x.headers });
      cpu[x === a ? "a" : "b"]?.push(((cpuSeconds([x.app.pid]) - cpu0) * 1e6) / Math.max(1, r.requests));
      runs[x === a ? "a" : "b"]?.push(r);
    }
    runs.db?.push(await wrk(dbFloor, o));
  }
  const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const summary = (rs: LoadResult[]): LoadResult => ({
    rps: median(rs.map((r) => r.rps)),
    p50ms: median(rs.map((r) => r.p50ms)),
    p99ms: median(rs.map((r) => r.p99ms)),
    errors: rs.reduce((n, r) => n + r.errors, 0),
    requests: rs.reduce((n, r) => n + r.requests, 0),
  });
  const [json, db, ra, rb] = [runs.json, runs.db, runs.a, runs.b].map((rs) => summary(rs ?? []));
  const vs = (r: LoadResult) =>
    `${fmt(r.rps / (json as LoadResult).rps)} × JSON floor, ${fmt(r.rps / (db as LoadResult).rps)} × db floor`;
  rows.push({ name: `floor: Bun.serve JSON (median of ${rounds})`, r: json as LoadResult });
  rows.push({ name: `floor: Bun.serve + postgres.js PK select (median of ${rounds})`, r: db as LoadResult });
  rows.push({
    name: `GET /api/v1/users/me, ${BINARY.split("/").slice(-3).join("/")}`,
    r: ra as LoadResult,
    vs: vs(ra as LoadResult),
  });
  if (b) {
    rows.push({
      name: `GET /api/v1/users/me, ${compare?.split("/").slice(-3).join("/")}`,
      r: rb as LoadResult,
      vs: vs(rb as LoadResult),
    });
    // Per round, this binary's rate over the other's (the same minute of the machine).
    const ratios = (runs.a ?? []).map((r, i) => r.rps / ((runs.b ?? [])[i]?.rps ?? Number.NaN));
    notes.push(
      `users/me req/s, ${BINARY} ÷ ${compare} per round: ${ratios.map((x) => fmt(x)).join(" ")} (median ${fmt(median(ratios))})`,
    );
    notes.push(
      `stayhub CPU per request (median): ${BINARY} ${fmt(median(cpu.a ?? []), 0)} µs, ${compare} ${fmt(median(cpu.b ?? []), 0)} µs`,
    );
    for (const [name, rs] of Object.entries(runs))
      notes.push(`${name}: ${rs.map((r) => `${fmt(r.rps, 0)} (${fmt(r.p50ms)}/${fmt(r.p99ms)})`).join(", ")}`);
  }
  await Promise.all([a.app.stop(), b?.app.stop()]);
  for (const x of [a, b]) if (x) rmSync(x.dir, { recursive: true, force: true });
}

function report() {
  console.log(
    `\nstayhub bench — ${new Date().toISOString()} — ${navigator.hardwareConcurrency} cores, wrk -t1, ${SECONDS} s per scenario\n`,
  );
  console.log(
    `${"scenario".padEnd(62)} ${"req/s".padStart(9)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"errors".padStart(7)}  ratio`,
  );
  for (const { name, r, vs, cost } of rows) {
    console.log(
      `${name.padEnd(62)} ${fmt(r.rps, 0).padStart(9)} ${fmt(r.p50ms).padStart(8)} ${fmt(r.p99ms).padStart(8)} ${String(r.errors).padStart(7)}  ${vs ?? ""}`,
    );
    if (cost) console.log(`${"".padEnd(4)}↳ ${cost}`);
  }
  console.log("");
  for (const j of jobResults) {
    console.log(
      `${j.name.padEnd(62)} ${fmt(j.jobsPerSecond, 0).padStart(9)} jobs/s, commit → handler start p50 ${fmt(j.p50DelayMs, 1)} ms, p99 ${fmt(j.p99DelayMs, 1)} ms`,
    );
  }
  const [streams, bull] = jobResults;
  if (streams && bull)
    console.log(
      `stream transport vs BullMQ: ${fmt(streams.jobsPerSecond / bull.jobsPerSecond)} × (target ≥ 1; ≥ 5,000 jobs/s; p99 < 50 ms at 5,000 jobs/s offered)`,
    );
  console.log("");
  for (const n of notes) console.log(n);
}

function seedProperties(env: Record<string, string>, cwd: string) {
  say("seeding 10,000 properties");
  const t0 = performance.now();
  const s = Bun.spawnSync([BINARY, "seed", "--properties", "10000"], {
    cwd,
    env: { ...env, LOG_LEVEL: "warn" },
    stdout: "pipe",
    stderr: "ignore",
  });
  if (s.exitCode !== 0) throw new Error("seed failed");
  const seeded = JSON.parse(s.stdout.toString().trim().split("\n").pop() ?? "{}") as {
    properties: number;
    bookings: number;
  };
  notes.push(
    `seed: ${seeded.properties} properties and ${seeded.bookings} bookings in ${fmt((performance.now() - t0) / 1000, 1)} s (whole command)`,
  );
}

/** Issue 4: property reads (cache hit on Redis and in-process, miss) and three search shapes. */
async function propertyScenarios(
  env: Record<string, string>,
  cwd: string,
  o: { connections: number; seconds: number },
) {
  seedProperties(env, cwd);

  const sql = postgres(benchDb, { max: 1, onnotice: () => {} });
  const ids = (await sql`select id from properties where status = 'listed' order by random() limit 500`).map(
    (r) => r.id as string,
  );
  const cities = (await sql`select distinct city from properties`).map((r) => r.city as string);
  const [someUser] = await sql`select id from users limit 1`;
  await sql.end();

  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const withRedis = await startStayhub({ ...env, REDIS_URL: redisUrl, REDIS_PREFIX: `bench${Date.now()}:` }, cwd);
  const inProcess = await startStayhub(env, cwd);
  const uncached = await startStayhub({ ...env, CACHE: "0" }, cwd);
  const propertyPaths = ids.map((id) => `/api/v1/properties/${id}`);
  const po = { ...o, paths: propertyPaths };

  // Floors beside these scenarios, driven by the same wrk script (each request picks a random
  // property path, which costs wrk itself a few per cent): the plain JSON floor; Bun.serve
  // answering the very bytes of a property read from memory (what a cached read must send);
  // postgres.js running the very statement a cache miss runs; and the primary-key select floor.
  const sampleBody = await (await fetch(inProcess.url + (propertyPaths[0] as string))).text();
  const readSql = documentByIdQuery(drizzle(postgres(benchDb, { max: 1 }))).toSQL().sql;
  const floors = {
    json: await measure(await startFloor(["json"]), po),
    body: await measure(await startFloor(["body"], { FLOOR_BODY: sampleBody }), po),
    query: await measure(await startFloor(["query", benchDb], { FLOOR_SQL: readSql }), po),
    pk: await measure(await startFloor(["db", benchDb, someUser?.id as string]), po),
  };
  rows.push({ name: "floor: Bun.serve JSON (random property paths)", r: floors.json });
  rows.push({ name: `floor: Bun.serve, a property's ${sampleBody.length} bytes from memory`, r: floors.body });
  rows.push({ name: "floor: Bun.serve + postgres.js, the property read statement", r: floors.query });
  rows.push({ name: "floor: Bun.serve + postgres.js PK select (random paths)", r: floors.pk });
  const vs = (r: LoadResult, floor: LoadResult, label: string) => `${fmt(r.rps / floor.rps)} × ${label}`;

  const hitRedis = await measure(withRedis.url + (propertyPaths[0] as string), po);
  rows.push({
    name: "GET /properties/:id, cache hit (Redis + local copy)",
    r: hitRedis,
    vs: `${vs(hitRedis, floors.body, "same-bytes floor")}, ${vs(hitRedis, floors.json, "JSON floor")} (target ≥ 0.6)`,
  });
  const hitLocal = await measure(inProcess.url + (propertyPaths[0] as string), po);
  rows.push({
    name: "GET /properties/:id, cache hit (in-process)",
    r: hitLocal,
    vs: `${vs(hitLocal, floors.body, "same-bytes floor")}, ${vs(hitLocal, floors.json, "JSON floor")} (target ≥ 0.6)`,
  });
  const { r: miss, cpu: missCpu } = await measureCpu(uncached.pid, uncached.url + (propertyPaths[0] as string), po);
  rows.push({
    name: "GET /properties/:id, uncached",
    r: miss,
    vs: `${vs(miss, floors.query, "same-statement floor")}, ${vs(miss, floors.pk, "PK floor")} (target ≥ 0.7); ${missCpu}`,
  });

  // Searches on the uncached instance, with varied parameters: the database does the work every time.
  const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
  const cityPaths: string[] = [];
  const geoPaths: string[] = [];
  for (const [i, city] of cities.entries()) {
    for (let w = 0; w < 6; w++) {
      const ci = day(20 + w * 9 + (i % 5));
      const co = day(23 + w * 9 + (i % 5));
      cityPaths.push(
        `/api/v1/properties?city=${encodeURIComponent(city)}&checkIn=${ci}&checkOut=${co}&guests=${1 + (w % 4)}`,
      );
    }
  }
  const centers = await (async () => {
    const c = postgres(benchDb, { max: 1, onnotice: () => {} });
    const r = await c`select avg(lat)::float8 as lat, avg(lng)::float8 as lng from properties group by city`;
    await c.end();
    return r as unknown as { lat: number; lng: number }[];
  })();
  for (const [i, c] of centers.entries()) {
    for (let w = 0; w < 6; w++)
      geoPaths.push(
        `/api/v1/properties?near=${c.lat.toFixed(4)},${c.lng.toFixed(4)}&radiusKm=${3 + (w % 3) * 2}&checkIn=${day(25 + w * 7 + (i % 3))}&checkOut=${day(27 + w * 7 + (i % 3))}`,
      );
  }
  const words = [
    "cosy",
    "loft",
    "garden",
    "charming studio",
    "quiet",
    "villa view",
    "historic",
    "water",
    "modern flat",
    "rustic cabin",
    "terrace",
    "station",
  ];
  const textPaths = words.flatMap((w) => [
    `/api/v1/properties?q=${encodeURIComponent(w)}`,
    `/api/v1/properties?q=${encodeURIComponent(w)}&sort=price_asc`,
  ]);
  // Served as deployed (Redis cache, 60 s TTL: after the warm-up every key is cached), then with
  // the cache off, where PostgreSQL answers every request.
  for (const [label, instance] of [
    ["Redis cache", withRedis],
    ["uncached", uncached],
  ] as const) {
    for (const [name, paths] of [
      ["search city + dates + guests", cityPaths],
      ["search geo radius + dates", geoPaths],
      ["search text", textPaths],
    ] as const) {
      const url = instance.url + (paths[0] as string);
      const po = { ...o, paths: [...paths] };
      const { r, cpu } =
        label === "uncached" ? await measureCpu(instance.pid, url, po) : { r: await measure(url, po), cpu: undefined };
      rows.push({
        name: `${name} (${label}, ${paths.length} queries)`,
        r,
        vs: `p99 ${fmt(r.p99ms, 1)} ms (target < 25)${cpu ? `; ${cpu}` : ""}`,
      });
    }
  }
  await Promise.all([withRedis.stop(), inProcess.stop(), uncached.stop()]);
}

/**
 * BENCH_ONLY=quote (issue 27): GET /properties/:id/quote over 1,000 distinct stays (500 listings,
 * every pricing rule among them, two dates each, 1–3 guests), with the cache on (Redis) and off.
 * A quote is read fresh either way (like availability: the terms, the nights and the stays
 * holding them, in one statement), so the two differ only by what the cache costs around it.
 */
async function quoteScenario(env: Record<string, string>, cwd: string, o: { connections: number; seconds: number }) {
  seedProperties(env, cwd);
  const sql = postgres(benchDb, { max: 1, onnotice: () => {} });
  const listed = (await sql`select id, min_nights, max_guests from properties where status = 'listed'
    order by random() limit 500`) as unknown as { id: string; min_nights: number; max_guests: number }[];
  const [someUser] = await sql`select id from users limit 1`;
  await sql.end();
  const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
  const paths = listed.flatMap((p, i) =>
    [30 + (i % 40), 120 + (i % 60)].map(
      (d) =>
        `/api/v1/properties/${p.id}/quote?checkIn=${day(d)}&checkOut=${day(d + Math.max(p.min_nights, 2 + (i % 6)))}&guests=${1 + (i % Math.min(3, p.max_guests))}`,
    ),
  );
  const po = { ...o, paths };
  const floors = {
    json: await measure(await startFloor(["json"]), po),
    pk: await measure(await startFloor(["db", benchDb, someUser?.id as string]), po),
  };
  rows.push({ name: "floor: Bun.serve JSON (random quote paths)", r: floors.json });
  rows.push({ name: "floor: Bun.serve + postgres.js PK select (random quote paths)", r: floors.pk });
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  for (const [label, extra] of [
    ["cache on (Redis)", { REDIS_URL: redisUrl, REDIS_PREFIX: `bench${Date.now()}:` }],
    ["cache off", { CACHE: "0" }],
  ] as const) {
    const app = await startStayhub({ ...env, ...extra }, cwd);
    const { r, cpu } = await measureCpu(app.pid, app.url + (paths[0] as string), po);
    rows.push({
      name: `GET /properties/:id/quote, ${label} (${paths.length} stays, ${o.connections} clients)`,
      r,
      vs: `${fmt(r.rps / floors.pk.rps)} × PK floor, ${fmt(r.rps / floors.json.rps)} × JSON floor; p99 ${fmt(r.p99ms, 1)} ms; ${cpu}`,
    });
    await app.stop();
  }
}

/**
 * BENCH_ONLY=payouts (issue 28): 10,000 hosts, each with an available balance and a payout method
 * (one balanced posting each, written here in SQL), then `stayhub payouts run` (the provider at
 * its 5 ms a call) and `stayhub ledger check`, timed as a user runs them. The run touches the
 * ledger and payouts tables only: no booking or payment row is locked while it runs.
 */
async function payoutScenario(env: Record<string, string>, cwd: string) {
  seedProperties(env, cwd);
  const sql = postgres(benchDb, { max: 1, onnotice: () => {} });
  say("payouts: 10,000 hosts with an available balance and a payout method");
  await sql`insert into users (id, email, name, password_hash, roles)
    select gen_random_uuid(), 'payout-host-' || n || '@bench.invalid', 'Payout Host ' || n, '!', '{guest,host}'
    from generate_series(1, 10000 - (select count(*) from users where 'host' = any(roles))) n`;
  await sql.begin(async (tx) => {
    await tx`create temporary table bench_hosts on commit drop as
      select id as host_id, gen_random_uuid() as tx_id, 1000 + (abs(hashtext(id::text)) % 90000) as amount
      from users where 'host' = any(roles)`;
    await tx`insert into payout_methods (host_id, token, updated_at) select host_id, 'ba_test_ok', now() from bench_hosts
      on conflict (host_id) do nothing`;
    await tx`insert into ledger_transactions (id, source_key, kind, created_at)
      select tx_id, 'bench:' || host_id, 'release', now() from bench_hosts`;
    await tx`insert into ledger_entries (transaction_id, account, host_id, amount, currency, created_at)
      select tx_id, 'host:' || host_id || ':available', host_id, amount, 'EUR', now() from bench_hosts
      union all select tx_id, 'platform:clearing', null, -amount, 'EUR', now() from bench_hosts`;
  });
  const [{ hosts } = { hosts: 0 }] = await sql`select count(*)::int as hosts from payout_methods`;
  await sql.end();
  const timedCommand = (args: string[]) => {
    const t0 = performance.now();
    const r = Bun.spawnSync([BINARY, ...args], {
      cwd,
      env: { ...env, LOG_LEVEL: "warn" },
      stdout: "pipe",
      stderr: "pipe",
    });
    return { ms: performance.now() - t0, code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString().trim() };
  };
  const run = timedCommand(["payouts", "run"]);
  const paid = run.out.split("\n").filter((l) => l.includes('"status":"paid"')).length;
  notes.push(
    `payouts run, ${hosts} hosts with balances: ${fmt(run.ms / 1000, 1)} s whole command (exit ${run.code}); ${paid} paid; ${run.err.split("\n").pop()}`,
  );
  const check = timedCommand(["ledger", "check"]);
  notes.push(
    `ledger check after it: ${fmt(check.ms / 1000, 1)} s whole command, exit ${check.code} (${check.err.split("\n").pop()}; ` +
      `expected here: the balances were written without the provider's charges behind them — ${check.out.split("\n")[0]})`,
  );
}

/**
 * BENCH_PG_STATS=1 (PostgreSQL started with shared_preload_libraries = 'pg_stat_statements'): the
 * statements of a scenario, the costliest first, with their time per request of the scenario.
 */
const statementProfile = {
  async reset() {
    if (!process.env.BENCH_PG_STATS) return;
    const c = postgres(baseUrl, { max: 1, onnotice: () => {} });
    await c`create extension if not exists pg_stat_statements`;
    await c`select pg_stat_statements_reset()`;
    await c.end();
  },
  async report(name: string, requests: number) {
    if (!process.env.BENCH_PG_STATS) return;
    const c = postgres(baseUrl, { max: 1, onnotice: () => {} });
    const top =
      await c`select calls, total_exec_time as ms, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) as q
      from pg_stat_statements order by total_exec_time desc limit 15`;
    await c.end();
    say(`statements of "${name}" (${requests} requests): ms per request, calls per request, statement`);
    for (const t of top) say(`  ${fmt(Number(t.ms) / requests, 3)}  ${fmt(Number(t.calls) / requests, 2)}  ${t.q}`);
  },
};

type Listing = { id: string; min_nights: number; max_nights: number };

/**
 * The wrk script of booking attempts: a random listing of `props`, a random arrival among the next
 * `window` days (from the day after tomorrow), its minimum stay plus 0–2 nights, a random guest's token.
 */
function bookingRequestsLua(tokens: string[], props: Listing[], window: number): string {
  const today = Date.now();
  const days = Array.from({ length: 420 }, (_, i) => new Date(today + (i + 2) * 86_400_000).toISOString().slice(0, 10));
  return `
local tokens = {${tokens.map((t) => `"${t}"`).join(",")}}
local props = {${props.map((p) => `{"${p.id}",${p.min_nights},${p.max_nights}}`).join(",")}}
local days = {${days.map((d) => `"${d}"`).join(",")}}
math.randomseed(${Math.floor(Math.random() * 1e9)})
request = function()
  local p = props[math.random(#props)]
  local n = p[2] + math.random(0, 2)
  if n > p[3] then n = p[3] end
  local i = math.random(${window})
  local body = '{"propertyId":"' .. p[1] .. '","checkIn":"' .. days[i] .. '","checkOut":"' .. days[i + n] .. '","guests":1}'
  return wrk.format("POST", "/api/v1/bookings", { ["content-type"] = "application/json", ["authorization"] = "Bearer " .. tokens[math.random(#tokens)] }, body)
end
`;
}

/**
 * A write run (after its warm-up) with what it cost per request: commits and top-level statements
 * in the bench database, CPU of process `pid` by thread class and of its backends (application_name
 * `app`), less an idle interval's rates (see costs.ts).
 */
async function measureWrite(url: string, pid: number, app: string, o: Parameters<typeof wrk>[1]) {
  await wrk(url, { ...o, seconds: 2 }); // warm-up, as measure() does
  const probe = await costProbe(baseUrl, BENCH_DATABASE, pid, app);
  const before = await probe.start();
  const r = await wrk(url, o);
  const costs = await probe.finish(before, r.requests);
  await probe.end();
  return { r, costs };
}

/** 201 and 409 are answers; anything else is an error. */
const answered = (r: LoadResult) => {
  r.errors = Object.entries(r.statuses ?? {}).reduce((n, [k, v]) => (k === "201" || k === "409" ? n : n + v), 0);
  return r;
};

/**
 * The floor of a booking scenario, in the same run with the same clients and the same wrk script:
 * floors.ts `insert` writes each requested stay raw into `bookings` (a random seeded guest), one
 * transaction each; a clash on the exclusion constraint is answered 409, as the service does. Its
 * rows (warm-up included) are deleted afterwards, so the scenarios that follow find the calendar
 * as the seed left it.
 */
async function bookingFloor(name: string, lua: string, connections: number, seconds: number) {
  const url = await startFloor(["insert", benchDb], { FLOOR_MARK: "bench floor" });
  const { r, costs } = await measureWrite(url, floorPids.get(url) as number, "stayhub-floor", {
    connections,
    seconds,
    lua,
    countStatuses: true,
  });
  answered(r);
  const s = r.statuses ?? {};
  const c = postgres(benchDb, { max: 1, onnotice: () => {} });
  const [gone] =
    await c`with d as (delete from bookings where cancel_reason = 'bench floor' returning 1) select count(*)::int as n from d`;
  await c`vacuum analyze bookings`;
  await c.end();
  rows.push({
    name: `floor: bookings INSERT … RETURNING, ${name}`,
    r,
    vs: `201: ${s[201] ?? 0}, 409: ${s[409] ?? 0}; ${gone?.n} floor rows deleted after`,
    cost: costLine(costs, "request"),
  });
  return r;
}

const OVERLAP_SQL = `select count(*)::int as n from bookings a join bookings b
  on a.property_id = b.property_id and a.id < b.id and daterange(a.check_in, a.check_out) && daterange(b.check_in, b.check_out)
  where a.status in ('pending_payment', 'requested', 'confirmed') and b.status in ('pending_payment', 'requested', 'confirmed')`;

/** Access tokens of up to 1,000 seeded guests, signed as the service signs them (the same secret). */
async function guestTokens(env: Record<string, string>): Promise<string[]> {
  const sql = postgres(benchDb, { max: 1, onnotice: () => {} });
  const guests = (await sql`select id from users where not ('host' = any(roles)) limit 1000`).map(
    (r) => r.id as string,
  );
  await sql.end();
  const { createAccessTokens } = await import("../../src/modules/auth/tokens");
  const signer = createAccessTokens(env.JWT_SECRET as string, 900);
  return Promise.all(guests.map((id) => signer.sign(id, 0)));
}

/** A booking load's service: on Redis, its own keys, and the hold limits out of the way (a guest may hold many). */
const bookingLoadEnv = (prefix: string) => ({
  REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  REDIS_PREFIX: `${prefix}${Date.now()}:`,
  MAX_PENDING_BOOKINGS: "1000",
  BOOKING_HOLDS_PER_HOUR: "100000",
  BOOKING_HOLDS_PER_LISTING_PER_DAY: "100000",
  LOG_LEVEL: "warn",
});

/**
 * Issue 12: booking attempts over the seeded listings as deployed (Redis, worker threads running
 * each booking's jobs): (a) random properties and dates, (b) 64 clients fighting over 20 properties;
 * beside the raw floor of one INSERT … RETURNING in its own transaction. 201s, 409s and anything
 * else are counted apart, and the database is asked for overlaps afterwards.
 */
async function bookingScenarios(env: Record<string, string>, cwd: string, o: { connections: number; seconds: number }) {
  const sql = postgres(benchDb, { max: 1, onnotice: () => {} });
  const listed =
    (await sql`select id, min_nights, max_nights from properties where status = 'listed' order by random()`) as unknown as {
      id: string;
      min_nights: number;
      max_nights: number;
    }[];
  await sql.end();
  const tokens = await guestTokens(env);
  const app = await startStayhub({ ...env, ...bookingLoadEnv("benchb") }, cwd);
  const lua = (props: Listing[], window: number) => bookingRequestsLua(tokens, props, window);
  const counted = (r: LoadResult) => {
    const s = r.statuses ?? {};
    const other = Object.entries(s).filter(([k]) => k !== "201" && k !== "409");
    return `201: ${s[201] ?? 0}, 409: ${s[409] ?? 0}, other: ${other.length ? other.map(([k, v]) => `${k}×${v}`).join(" ") : 0}`;
  };
  const overlapsNow = async () => {
    const c = postgres(benchDb, { max: 1, onnotice: () => {} });
    const [row] = await c.unsafe(OVERLAP_SQL);
    await c.end();
    return Number(row?.n);
  };
  for (const [name, props, connections, window, floorName, target] of [
    [
      "POST /bookings, random properties and dates",
      listed,
      o.connections,
      380,
      `random, ${o.connections} clients`,
      0.4,
    ],
    ["POST /bookings, hot spot: 64 clients, 20 properties", listed.slice(0, 20), 64, 60, "hot spot, 64 clients", 0.8],
  ] as const) {
    const script = lua([...props], window);
    const floor = await bookingFloor(floorName, script, connections, o.seconds);
    await statementProfile.reset();
    const { r, costs } = await measureWrite(app.url, app.pid, "stayhub", {
      connections,
      seconds: o.seconds,
      lua: script,
      countStatuses: true,
    });
    await statementProfile.report(name, r.requests);
    // 409 is an answer here, not an error: only what is neither 201 nor 409 counts as one.
    answered(r);
    rows.push({
      name,
      r,
      vs: `${fmt(r.rps / floor.rps)} × insert floor; ${counted(r)}; overlaps after: ${await overlapsNow()} (targets ≥ ${target} × floor, p99 < 50 ms, 0 5xx, 0 overlaps; 422: host-blocked nights)`,
      cost: costLine(costs, "attempt"),
    });
  }
  notes.push(`overlap query (bookings): ${OVERLAP_SQL.replace(/\s+/g, " ")}`);
  await app.stop();
}

/**
 * Issue 35: 90 % dated searches over 300 distinct queries, 10 % booking attempts (random listings
 * and dates), 32 clients — does the search cache keep hitting while bookings land? Each client
 * picks its next request at random; latencies are kept per kind (wrk reports one latency for a
 * whole run, so this driver is Bun's fetch, in the bench process). The hit ratio is the service's
 * own count (stayhub_search_cache_total, dated) over the measured run. The same driver with
 * searches alone, on the same instance right before, is the figure without bookings.
 */
async function mixedScenario(env: Record<string, string>, cwd: string, o: { connections: number; seconds: number }) {
  const sql = postgres(benchDb, { max: 1, onnotice: () => {} });
  const listed = (await sql`select id, min_nights, max_nights from properties where status = 'listed'`) as unknown as {
    id: string;
    min_nights: number;
    max_nights: number;
  }[];
  const cities = (await sql`select city from properties group by city order by count(*) desc limit 30`).map(
    (r) => r.city as string,
  );
  await sql.end();
  const tokens = await guestTokens(env);
  const app = await startStayhub({ ...env, ...bookingLoadEnv("benchm") }, cwd);
  const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
  // 300 distinct dated searches: 30 cities × 10 stays in the next two months.
  const searches: string[] = [];
  for (const [i, city] of cities.entries())
    for (let w = 0; w < 10; w++)
      searches.push(
        `${app.url}/api/v1/properties?city=${encodeURIComponent(city)}&checkIn=${day(7 + w * 5 + (i % 3))}&checkOut=${day(10 + w * 5 + (i % 3))}&guests=${1 + (w % 3)}`,
      );
  const bookingBody = () => {
    const p = listed[Math.floor(Math.random() * listed.length)] as (typeof listed)[number];
    const n = Math.min(p.max_nights, p.min_nights + Math.floor(Math.random() * 3));
    const i = 2 + Math.floor(Math.random() * 380);
    return JSON.stringify({ propertyId: p.id, checkIn: day(i), checkOut: day(i + n), guests: 1 });
  };
  const datedCounts = async () => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const n = (result: string) =>
      Number(
        text.match(new RegExp(`stayhub_search_cache_total\\{kind="dated",result="${result}"\\} (\\d+)`))?.[1] ?? 0,
      );
    return { hit: n("hit"), miss: n("miss") };
  };
  const drive = async (seconds: number, bookingShare: number) => {
    const lat = { search: [] as number[], booking: [] as number[] };
    const statuses: Record<string, number> = {};
    const until = performance.now() + seconds * 1000;
    const client = async () => {
      while (performance.now() < until) {
        const booking = Math.random() < bookingShare;
        const t0 = performance.now();
        const res = booking
          ? await fetch(`${app.url}/api/v1/bookings`, {
              method: "POST",
              headers: {
                "content-type": "application/json",
                authorization: `Bearer ${tokens[Math.floor(Math.random() * tokens.length)]}`,
              },
              body: bookingBody(),
            })
          : await fetch(searches[Math.floor(Math.random() * searches.length)] as string);
        await res.arrayBuffer();
        (booking ? lat.booking : lat.search).push(performance.now() - t0);
        const k = `${booking ? "booking" : "search"} ${res.status}`;
        statuses[k] = (statuses[k] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: o.connections }, client));
    return { lat, statuses, seconds };
  };
  const summary = (
    r: Awaited<ReturnType<typeof drive>>,
    before: { hit: number; miss: number },
    after: typeof before,
  ) => {
    const hit = after.hit - before.hit;
    const miss = after.miss - before.miss;
    const all = r.lat.search.length + r.lat.booking.length;
    const errors = Object.entries(r.statuses).reduce(
      (n, [k, v]) => (["search 200", "booking 201", "booking 409", "booking 422"].includes(k) ? n : n + v),
      0,
    );
    return {
      result: {
        rps: all / r.seconds,
        p50ms: percentile(r.lat.search, 50),
        p99ms: percentile(r.lat.search, 99),
        errors,
        requests: all,
      } satisfies LoadResult,
      text:
        `search p50 ${fmt(percentile(r.lat.search, 50), 2)} / p99 ${fmt(percentile(r.lat.search, 99), 2)} ms over ${r.lat.search.length}` +
        (r.lat.booking.length
          ? `; bookings ${fmt((100 * r.lat.booking.length) / all, 1)} % of requests, p50 ${fmt(percentile(r.lat.booking, 50), 1)} / p99 ${fmt(percentile(r.lat.booking, 99), 1)} ms, ${Object.entries(
              r.statuses,
            )
              .filter(([k]) => k.startsWith("booking"))
              .map(([k, v]) => `${k.slice(8)}: ${v}`)
              .join(", ")}`
          : "") +
        `; dated-search cache hit ratio ${fmt(hit / Math.max(1, hit + miss), 3)} (${hit} hits, ${miss} misses)`,
    };
  };
  say("mixed: searches alone, then 90 % searches + 10 % bookings");
  await drive(2, 0); // warm-up: every query read once, JIT, pools
  for (const [name, share] of [
    [`mixed: dated searches alone (300 queries), ${o.connections} clients`, 0],
    [`mixed: 90 % dated searches + 10 % bookings, ${o.connections} clients`, 0.1],
  ] as const) {
    const before = await datedCounts();
    const r = await drive(o.seconds, share);
    const { result, text } = summary(r, before, await datedCounts());
    rows.push({
      name,
      r: result,
      vs: `${text} (targets with bookings: search p99 < 25 ms, hit ratio ≥ 0.9; 422: host-blocked nights; req/s: all requests; p50/p99: the searches')`,
    });
  }
  await app.stop();
}

/**
 * Issue 14: a property's reviews, 1,000 of them, read 20 at a time by 32 clients — the first page
 * and a deep one (by the cursor of the 25th page) — beside postgres.js running the page's
 * statement raw (Bun.serve answering every row as JSON).
 */
async function reviewScenario(env: Record<string, string>, cwd: string, o: { connections: number; seconds: number }) {
  const sql = postgres(benchDb, { max: 1, onnotice: () => {} });
  const [p] = await sql`select id from properties where status = 'listed' order by id limit 1`;
  const propertyId = p?.id as string;
  const guests = (await sql`select id from users where not ('host' = any(roles)) limit 1000`).map(
    (r) => r.id as string,
  );
  say("reviews: 1,000 completed stays of one property, each reviewed");
  // Completed stays hold no nights; timestamps to the millisecond, as the service writes them.
  await sql`
    with stays as (
      insert into bookings (property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total, cleaning_fee, service_fee, total, currency, expires_at)
      select ${propertyId}, g.id, date '2024-01-01', date '2024-01-03', 1, 'completed', 2, 20000, 0, 2000, 22000, 'EUR', now()
      from unnest(${guests}::uuid[]) as g(id)
      returning id, guest_id)
    insert into reviews (booking_id, property_id, author_id, rating, comment, created_at)
    select s.id, ${propertyId}, s.guest_id, 1 + (row_number() over () % 5)::int, 'A bench review: clean, quiet, as described.',
      date_trunc('milliseconds', now() - (row_number() over ()) * interval '1 minute')
    from stays s`;
  await sql`update properties p set rating_sum = r.s, review_count = r.n from (select sum(rating)::int s, count(*)::int n from reviews where property_id = ${propertyId}) r where p.id = ${propertyId}`;
  await sql.end();
  const app = await startStayhub(
    {
      ...env,
      REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
      REDIS_PREFIX: `benchr${Date.now()}:`,
      LOG_LEVEL: "warn",
    },
    cwd,
  );
  const path = `/api/v1/properties/${propertyId}/reviews?limit=20`;
  let cursor = "";
  for (let page = 0; page < 25; page++) {
    const body = (await (
      await fetch(`${app.url}${path}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)
    ).json()) as { nextCursor: string };
    cursor = body.nextCursor;
  }
  const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString()) as [string, string];
  const page = (after: string) =>
    `select r.id, r.booking_id, r.property_id, r.author_id, r.rating, r.comment, r.response_comment, r.responded_at, r.created_at, u.id as uid, u.name, u.avatar_url
     from reviews r join users u on u.id = r.author_id where r.property_id = $1 ${after} order by r.created_at desc, r.id desc limit 21`;
  const deepAfter = `and (r.created_at, r.id) < ('${at}'::timestamptz, '${id}'::uuid)`;
  for (const [name, url, floorSql] of [
    ["GET /properties/:id/reviews, first page of 20", `${app.url}${path}`, page("")],
    [
      "GET /properties/:id/reviews, page 26 of 20 (by cursor)",
      `${app.url}${path}&cursor=${encodeURIComponent(cursor)}`,
      page(deepAfter),
    ],
  ] as const) {
    const floorUrl = await startFloor(["page", benchDb], { FLOOR_SQL: floorSql });
    const floor = await measure(`${floorUrl}${propertyId}`, o);
    rows.push({
      name: `floor: postgres.js, the same page's statement (${name.includes("first") ? "first" : "deep"})`,
      r: floor,
    });
    const r = await measure(url, o);
    rows.push({ name, r, vs: `${fmt(r.rps / floor.rps)} × its floor (targets ≥ 0.5, p99 < 10 ms)` });
  }
  // The latency of a page when the CPU is not the queue: 4 clients.
  const calm = await measure(`${app.url}${path}`, { ...o, connections: 4 });
  rows.push({ name: "GET /properties/:id/reviews, first page, 4 clients", r: calm, vs: "p99 < 10 ms" });
  await app.stop();
}

/** Transactions committed in the database so far (each autocommit statement is one). */
async function commits(sql: postgres.Sql): Promise<number> {
  const [row] = await sql`select xact_commit::bigint as n from pg_stat_database where datname = current_database()`;
  return Number(row?.n ?? 0);
}

/**
 * Issue 15: properties(first: 20) with each host and 3 reviews beside the REST search of the same
 * page, in one run with the raw floors; then the time from a booking's confirmation commit to its
 * bookingUpdated event at an SSE client.
 */
async function graphqlScenario(env: Record<string, string>, cwd: string, o: { connections: number; seconds: number }) {
  const sql = postgres(benchDb, { max: 2, onnotice: () => {} });
  say("graphql: 3 completed, reviewed stays for every listed property");
  const [guest] = await sql`select id from users where not ('host' = any(roles)) limit 1`;
  await sql`
    with stays as (
      insert into bookings (property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total, cleaning_fee, service_fee, total, currency, expires_at)
      select p.id, ${guest?.id as string}, date '2020-01-01' + n * 3, date '2020-01-03' + n * 3, 1, 'completed', 2, 20000, 0, 2000, 22000, 'EUR', now()
      from properties p cross join generate_series(0, 2) as n where p.status = 'listed'
      returning id, property_id)
    insert into reviews (booking_id, property_id, author_id, rating, comment, created_at)
    select s.id, s.property_id, ${guest?.id as string}, 1 + (row_number() over () % 5)::int, 'A bench review: clean, quiet, as described.',
      date_trunc('milliseconds', now() - (row_number() over ()) * interval '1 second')
    from stays s`;
  await sql`update properties p set rating_sum = r.s, review_count = r.n from (select property_id, sum(rating)::int s, count(*)::int n from reviews group by property_id) r where p.id = r.property_id`;
  await sql`vacuum analyze reviews`;
  const [someUser] = await sql`select id from users limit 1`;
  const app = await startStayhub(
    {
      ...env,
      REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
      REDIS_PREFIX: `benchg${Date.now()}:`,
      LOG_LEVEL: "warn",
    },
    cwd,
  );
  const jsonFloor = await startFloor(["json"]);
  const dbFloor = await startFloor(["db", benchDb, someUser?.id as string]);
  const query =
    "{ properties(first: 20) { edges { cursor node { id title pricePerNight currency ratingAverage reviewCount photos { url } address { city country } host { id name avatarUrl } reviews(first: 3) { rating comment createdAt author { name } } } } pageInfo { hasNextPage endCursor } } }";
  const body = JSON.stringify({ query });
  const check = (await (
    await fetch(`${app.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body })
  ).json()) as {
    data?: { properties: { edges: { node: { host: unknown; reviews: unknown[] } }[] } };
    errors?: unknown;
  };
  const edges = check.data?.properties.edges ?? [];
  if (edges.length !== 20 || edges.some((e) => !e.node.host || e.node.reviews.length !== 3))
    throw new Error(`graphql bench query: ${JSON.stringify(check).slice(0, 300)}`);

  rows.push({ name: "floor: Bun.serve JSON (graphql run)", r: await measure(jsonFloor, o) });
  rows.push({ name: "floor: Bun.serve + postgres.js PK select (graphql run)", r: await measure(dbFloor, o) });
  const rest = await measure(`${app.url}/api/v1/properties?limit=20`, o);
  rows.push({ name: "REST GET /properties?limit=20 (cached page)", r: rest });
  const post = { ...o, method: "POST", headers: { "content-type": "application/json" }, body };
  await wrk(`${app.url}/graphql`, { ...post, seconds: 2 }); // warm-up, as measure() does
  const before = await commits(sql);
  const gql = await wrk(`${app.url}/graphql`, post);
  const statements = (await commits(sql)) - before;
  rows.push({
    name: "GraphQL properties(first: 20) + host + 3 reviews",
    r: gql,
    vs: `${fmt(gql.rps / rest.rps)} × REST req/s (target ≥ 0.7), p99 ${fmt(gql.p99ms / rest.p99ms)} × REST (target ≤ 1.3)`,
  });
  // Signed in, nothing comes from the cache: the page is executed every time.
  const token = await benchLogin(app.url, sql);
  const signedIn = { ...post, headers: { ...post.headers, authorization: `Bearer ${token}` } };
  await wrk(`${app.url}/graphql`, { ...signedIn, seconds: 2 });
  const before2 = await commits(sql);
  const executed = await wrk(`${app.url}/graphql`, signedIn);
  const statements2 = (await commits(sql)) - before2;
  rows.push({
    name: "GraphQL the same page, signed in (executed, never cached)",
    r: executed,
    vs: `${fmt(executed.rps / rest.rps)} × REST req/s`,
  });
  notes.push(
    `GraphQL page executed: ${fmt(statements2 / executed.requests, 2)} SQL statements per request (the search is a cache hit; the hosts and the reviews are one statement each)`,
  );
  notes.push(
    `GraphQL page: ${fmt(statements / gql.requests, 2)} SQL statements per request (committed transactions ÷ requests; the search itself is a cache hit)`,
  );
  await sql.end();
  notes.push(await liveLatency(app.url, token));
  await app.stop();
}

/** Confirmation commit → bookingUpdated event at an SSE client, for bookings confirmed one after another. */
/** An access token of the first guest (its password set for the bench). */
async function benchLogin(url: string, sql: postgres.Sql): Promise<string> {
  const [guest] = await sql`select id, email from users where not ('host' = any(roles)) order by id limit 1`;
  await sql`update users set password_hash = ${await Bun.password.hash("bench password 123", { algorithm: "argon2id" })} where id = ${guest?.id as string}`;
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: guest?.email, password: "bench password 123" }),
  });
  return ((await res.json()) as { accessToken: string }).accessToken;
}

async function liveLatency(url: string, accessToken: string, samples = 200): Promise<string> {
  const sql = postgres(benchDb, { max: 1, onnotice: () => {} });
  const [guest] = await sql`select id from users where not ('host' = any(roles)) order by id limit 1`;
  const login = { accessToken };
  const [p] = await sql`select id from properties where status = 'listed' order by id limit 1`;
  const delays: number[] = [];
  for (let i = 0; i < samples; i++) {
    const [b] = await sql`
      insert into bookings (property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total, cleaning_fee, service_fee, total, currency, expires_at)
      values (${p?.id as string}, ${guest?.id as string}, date '2040-01-01' + ${i * 3}::int, date '2040-01-03' + ${i * 3}::int, 1, 'pending_payment', 2, 20000, 0, 2000, 22000, 'EUR', now() + interval '1 day')
      returning id`;
    const res = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        authorization: `Bearer ${login.accessToken}`,
      },
      body: JSON.stringify({
        query: "subscription($id: ID!) { bookingUpdated(id: $id) { id status } }",
        variables: { id: b?.id },
      }),
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    const until = async (needle: string) => {
      while (!text.includes(needle)) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await until("pending_payment");
    await sql`update bookings set status = 'confirmed' where id = ${b?.id as string}`;
    const committed = performance.now();
    await until("confirmed");
    delays.push(performance.now() - committed);
    await reader.cancel();
  }
  await sql.end();
  return `bookingUpdated: confirmation commit → SSE event at the client, ${samples} bookings: p50 ${fmt(percentile(delays, 50), 2)} ms, p99 ${fmt(percentile(delays, 99), 2)} ms (target p99 < 50 ms)`;
}

/**
 * Issue 16: POST /auth/password-reset for addresses that have an account and for ones that do
 * not, interleaved (so drift hits both alike): the answers must not tell them apart, in time either.
 */
async function resetTiming(url: string): Promise<string> {
  // An account per sample and a new unknown address per sample: both sides are first requests
  // (a repeat within the minute is a dedupe no-op, which would compare something else).
  const known: string[] = [];
  for (let i = 0; i < 100; i++) {
    const email = `reset${i}.${Date.now()}@example.com`;
    await fetch(`${url}/api/v1/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "bench password 123", name: "R" }),
    });
    known.push(email);
  }
  const ask = (email: string) =>
    fetch(`${url}/api/v1/auth/password-reset`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email }),
    });
  const a: number[] = [];
  const b: number[] = [];
  const statuses = new Set<number>();
  for (let i = 0; i < known.length; i++) {
    for (const [email, into] of [
      [known[i] as string, a],
      [`nobody.${i}.${Date.now()}@example.com`, b],
    ] as const) {
      const t0 = performance.now();
      const res = await ask(email);
      await res.text();
      into.push(performance.now() - t0);
      statuses.add(res.status);
    }
  }
  return `password reset p50 / p90: known address ${fmt(percentile(a, 50), 2)} / ${fmt(percentile(a, 90), 2)} ms, unknown ${fmt(percentile(b, 50), 2)} / ${fmt(percentile(b, 90), 2)} ms over ${a.length} each (statuses ${[...statuses].join(", ")}; should match)`;
}

const PAY_CLIENTS_DEFAULT = 32;
const PAY_TARGET_DEFAULT = Number(process.env.BENCH_PAYMENTS ?? 2000);
const PROVIDER_LATENCY_MS = 5;
/** How long the clients run before what they do is counted. */
const PAY_WARMUP_MS = 5_000;
/** The clients poll the booking at 10 ms, then 1.5× longer each time up to 100 ms. */
const POLL_MS = 10;

/**
 * Issue 13: 32 clients, each booking a free stay and paying it, until 2,000 payments are confirmed
 * (after 5 s of the same load not counted), with 2 worker threads running the charges against the simulated provider (5 ms per call). The
 * latency is from the payment's making (its createdAt, stamped as the pay transaction begins) to the booking's confirmation (its
 * updatedAt), both stamped by the service's clock, less the provider's latency; clients poll the
 * booking with a backoff (10 ms, ×1.5, up to 100 ms) to move on (polling every 5 ms measured the
 * polling: 32 clients were 6,400 reads/s on 2 cores), and that client-side figure is reported too. Afterwards `stayhub
 * payments reconcile` counts the mismatches, and the provider's ledger is asked for bookings
 * charged twice.
 */
async function paymentScenario(env: Record<string, string>, cwd: string, o: { connections: number; seconds: number }) {
  const sql = postgres(benchDb, { max: 1, onnotice: () => {} });
  const listed =
    // Instant-book listings only: a request to book is confirmed by its host, not by its payment.
    (await sql`select id, min_nights from properties where status = 'listed' and instant_book order by random()`) as unknown as {
      id: string;
      min_nights: number;
    }[];
  await sql.end();
  const tokens = await guestTokens(env);
  const appEnv = {
    ...env,
    ...bookingLoadEnv("benchp"),
    PAYMENT_ATTEMPTS_PER_USER_PER_HOUR: "100000",
    WORKER_THREADS: "2",
    PAYMENT_PROVIDER_LATENCY_MS: String(PROVIDER_LATENCY_MS),
  };
  // The floor: the bookings these clients ask for (a listing's minimum stay), written raw.
  const floorProps = listed.map((p) => ({ ...p, max_nights: p.min_nights }));
  const floor = await bookingFloor(
    `${o.connections} clients, payments run`,
    bookingRequestsLua(tokens, floorProps, 380),
    o.connections,
    o.seconds,
  );
  // As the issue asks (32 clients, saturating this machine), then 4 clients and 1 (what the
  // pipeline takes when the CPU is not the queue).
  for (const [clients, target] of [
    [PAY_CLIENTS_DEFAULT, PAY_TARGET_DEFAULT],
    [4, Math.ceil(PAY_TARGET_DEFAULT / 5)],
    [1, Math.ceil(PAY_TARGET_DEFAULT / 10)],
  ] as const)
    await payAndConfirm(clients, target, floor);
  const reconcile = Bun.spawnSync([BINARY, "payments", "reconcile"], {
    cwd,
    env: { PATH: process.env.PATH ?? "", ...appEnv },
    stdout: "pipe",
    stderr: "pipe",
  });
  const mismatches = reconcile.stdout.toString().trim().split("\n").filter(Boolean).length;
  const c = postgres(benchDb, { max: 1, onnotice: () => {} });
  const [twice] =
    await c`select count(*)::int as n from (select p.booking_id from sim_charges s join payments p on p.id::text = s.reference
    where s.status = 'succeeded' group by p.booking_id having count(*) > 1) x`;
  await c.end();
  notes.push(
    `payments: after the runs, \`stayhub payments reconcile\` exit ${reconcile.exitCode} with ${mismatches} mismatches; bookings charged twice (the provider's ledger): ${twice?.n} (targets 0, 0)`,
  );

  async function payAndConfirm(clients: number, target: number, floor: LoadResult) {
    const app = await startStayhub({ ...appEnv, REDIS_PREFIX: `benchp${Date.now()}:` }, cwd);
    say(`payments: ${clients} clients book and pay until ${target} payments are confirmed`);
    const today = Date.now();
    const day = (i: number) => new Date(today + (i + 2) * 86_400_000).toISOString().slice(0, 10);
    const latencies: number[] = [];
    const unexpected: Record<string, number> = {};
    let confirmed = 0;
    let seq = 0;
    // The first seconds warm the service up (JIT, pools, prepared statements) and are not counted,
    // as wrk's scenarios have their warm-up run: a cold start is its own figure (start → /ready).
    let measuring = false;
    const post = (path: string, token: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${app.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers },
        body: JSON.stringify(body),
      });
    const client = async (c: number) => {
      while (confirmed < target) {
        const token = tokens[(c + clients * seq++) % tokens.length] as string;
        const p = listed[Math.floor(Math.random() * listed.length)] as { id: string; min_nights: number };
        const i = Math.floor(Math.random() * 400);
        const booked = await post("/api/v1/bookings", token, {
          propertyId: p.id,
          checkIn: day(i),
          checkOut: day(i + p.min_nights),
          guests: 1,
        });
        if (booked.status !== 201) {
          // 409: taken; 422: a night the seed blocked. Both are answers: try other dates.
          if (booked.status !== 409 && booked.status !== 422)
            unexpected[`booking ${booked.status}`] = (unexpected[`booking ${booked.status}`] ?? 0) + 1;
          await booked.body?.cancel();
          continue;
        }
        const { id } = (await booked.json()) as { id: string };
        const t0 = performance.now();
        const payment = await post(
          `/api/v1/bookings/${id}/payments`,
          token,
          { paymentMethod: "pm_card_visa" },
          { "idempotency-key": `bench-${id}` },
        );
        await payment.body?.cancel();
        if (payment.status !== 202) {
          unexpected[`payment ${payment.status}`] = (unexpected[`payment ${payment.status}`] ?? 0) + 1;
          continue;
        }
        for (let wait = POLL_MS; ; wait = Math.min(100, wait * 1.5)) {
          const r = await fetch(`${app.url}/api/v1/bookings/${id}`, { headers: { authorization: `Bearer ${token}` } });
          const status = ((await r.json()) as { status: string }).status;
          if (status === "confirmed") break;
          if (status !== "pending_payment") {
            unexpected[`booking became ${status}`] = (unexpected[`booking became ${status}`] ?? 0) + 1;
            break;
          }
          await Bun.sleep(wait);
        }
        if (!measuring) continue;
        latencies.push(performance.now() - t0);
        confirmed++;
      }
    };
    const running = Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
    const probe = await costProbe(baseUrl, BENCH_DATABASE, app.pid, "stayhub");
    await Bun.sleep(PAY_WARMUP_MS);
    await statementProfile.reset();
    const before = await probe.snapshot();
    const started = performance.now();
    const startedAt = Date.now();
    measuring = true;
    await running;
    const seconds = (performance.now() - started) / 1000;
    const after = await probe.snapshot();
    await statementProfile.report(`pay → confirmed, ${clients} clients`, confirmed);
    const costs = await probe.finishSteady(before, after, confirmed);
    await probe.end();
    await app.stop();
    latencies.sort((a, b) => a - b);
    const c = postgres(benchDb, { max: 1, onnotice: () => {} });
    const server = (
      await c`select extract(epoch from (b.updated_at - p.created_at)) * 1000 as ms from payments p join bookings b on b.id = p.booking_id
      where p.status = 'succeeded' and b.status = 'confirmed' and p.created_at >= to_timestamp(${startedAt / 1000})`
    ).map((r) => Number(r.ms));
    await c.end();
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const r: LoadResult = {
      rps: confirmed / seconds,
      p50ms: percentile(server, 50) - PROVIDER_LATENCY_MS,
      p99ms: percentile(server, 99) - PROVIDER_LATENCY_MS,
      errors: Object.values(unexpected).reduce((a, b) => a + b, 0),
      requests: confirmed,
    };
    rows.push({
      name: `pay → confirmed, ${clients} client${clients === 1 ? "" : "s"}, 2 worker threads (latency − ${PROVIDER_LATENCY_MS} ms provider)`,
      r,
      vs:
        `${fmt(r.rps / floor.rps, 3)} × insert floor; commit → confirmed over ${server.length} payments; client-side (POST → a poll, ${POLL_MS} ms ×1.5 ≤ 100 ms, reads confirmed) p50 ${fmt(p50, 1)} / p99 ${fmt(p99, 1)} ms; ` +
        `other answers: ${JSON.stringify(unexpected)} (target p99 < 100 ms)`,
      // Everything a client does per confirmed payment: its booking attempts, the POST, the
      // charge job, the settlement, the polls.
      cost: costLine(costs, "confirmed payment (its bookings, POST, charge job, polls)"),
    });
  }
}

main()
  .catch((err) => {
    console.error(`bench failed: ${err instanceof Error ? err.message : err}`);
    process.exitCode = 1;
  })
  .finally(cleanup);
