// SIGTERM always ends the process within SHUTDOWN_TIMEOUT_MS, whatever its database does: here the
// database connection goes silent (a proxy that stops forwarding, as a dropped network does)
// with a request waiting on it, and the binary still exits in time, saying what it gave up on.
import { afterAll, expect, test } from "bun:test";
import type { Socket } from "bun";
import postgres from "postgres";
import { freePort, freshPostgresDatabase, runCleanups, start, tempDir } from "../support/binary";
import { databaseUrl, redisUrl, requireServices } from "../support/services";

afterAll(runCleanups);

/** A TCP proxy to PostgreSQL that can go silent: it keeps every socket open and forwards nothing. */
function silentableProxy(target: URL) {
  let silent = false;
  const port = freePort();
  // Bytes a client sends before its upstream connection is open wait here.
  const peers = new Map<Socket<unknown>, { upstream?: Socket<unknown>; waiting: Uint8Array[] }>();
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port,
    socket: {
      async open(client) {
        const peer: { upstream?: Socket<unknown>; waiting: Uint8Array[] } = { waiting: [] };
        peers.set(client, peer);
        peer.upstream = await Bun.connect({
          hostname: target.hostname,
          port: Number(target.port || 5432),
          socket: {
            data: (_s, data) => void (!silent && client.write(data)),
            close: () => void client.end(),
          },
        });
        for (const chunk of peer.waiting.splice(0)) peer.upstream.write(chunk);
      },
      data: (client, data) => {
        if (silent) return;
        const peer = peers.get(client);
        if (peer?.upstream) peer.upstream.write(data);
        else peer?.waiting.push(new Uint8Array(data));
      },
      close: (client) => void peers.get(client)?.upstream?.end(),
    },
  });
  return {
    port,
    goSilent: () => {
      silent = true;
    },
    stop: () => server.stop(true),
  };
}

test.if(Boolean(databaseUrl) || requireServices)(
  "the database goes silent mid-request: SIGTERM still exits within SHUTDOWN_TIMEOUT_MS, exit 1, naming what it waited for",
  async () => {
    const { url } = await freshPostgresDatabase();
    const proxy = silentableProxy(url);
    const viaProxy = new URL(url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    const server = await start(
      {
        DATABASE_URL: viaProxy.toString(),
        DATA_DIR: tempDir(),
        LOG_LEVEL: "info",
        SHUTDOWN_TIMEOUT_MS: "2000",
        CACHE: "0",
        WORKER_THREADS: "1",
        JWT_SECRET: "e2e-shutdown-secret-e2e-shutdown-secret",
      },
      tempDir(),
    );
    expect((await fetch(`${server.url}/api/v1/properties?city=Lisbon`)).status).toBe(200);
    proxy.goSilent();
    // A request that now waits on the silent database, and stays waiting.
    const stuck = fetch(`${server.url}/api/v1/properties?city=Porto`).then(
      (r) => r.status,
      () => "connection closed",
    );
    await Bun.sleep(200);
    const signalled = performance.now();
    server.proc.kill("SIGTERM");
    const code = await server.proc.exited;
    const took = performance.now() - signalled;
    const stdout = await new Response(server.proc.stdout as ReadableStream).text();
    console.log(
      `shutdown with a silent database: exit ${code} after ${Math.round(took)} ms; the stuck request got ${await stuck}`,
    );
    expect(took).toBeLessThan(2000 + 1500);
    expect(code).toBe(1);
    const gaveUp = stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === "shutdown did not finish in time; exiting anyway");
    expect(gaveUp).toMatchObject({ timeoutMs: 2000, gaveUpOn: expect.any(String) });
    proxy.stop();
  },
  30_000,
);

test.if(Boolean(databaseUrl && redisUrl) || requireServices)(
  "a job still running at SIGTERM: its thread is stopped within the budget and the process still exits 0",
  async () => {
    const { url } = await freshPostgresDatabase();
    const server = await start(
      {
        DATABASE_URL: url.toString(),
        REDIS_URL: redisUrl ?? "",
        REDIS_PREFIX: `e2e-shutdown-${Date.now()}:`,
        TEST_JOBS: "1",
        DATA_DIR: tempDir(),
        LOG_LEVEL: "info",
        SHUTDOWN_TIMEOUT_MS: "4000",
        WORKER_THREADS: "1",
        JWT_SECRET: "e2e-shutdown-secret-e2e-shutdown-secret",
      },
      tempDir(),
    );
    const registered = await fetch(`${server.url}/api/v1/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "sleep@example.com", password: "a long enough password", name: "S" }),
    });
    const userId = ((await registered.json()) as { user: { id: string } }).user.id;
    const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
    await sql`insert into outbox (type, payload, run_at) values ('test.sleep', ${sql.json({ userId, ms: 30_000 })}, now())`;
    await sql.end();
    await Bun.sleep(1_500); // relayed and picked up by the worker thread
    const signalled = performance.now();
    server.proc.kill("SIGTERM");
    const code = await server.proc.exited;
    const took = performance.now() - signalled;
    const stdout = await new Response(server.proc.stdout as ReadableStream).text();
    console.log(`shutdown with a 30 s job running: exit ${code} after ${Math.round(took)} ms`);
    expect(code).toBe(0);
    expect(took).toBeLessThan(4000 + 1000);
    expect(stdout).toContain("job worker threads did not stop in time; terminating them");
  },
  30_000,
);
