// The compiled binary for end-to-end tests: start it as a user would, talk to it over real HTTP,
// and clean up after the file (call `afterAll(runCleanups)`).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import postgres from "postgres";
import { databaseUrl } from "./services";

export const BINARY = resolve(import.meta.dir, "../../dist/stayhub");
if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run \`bun run test:e2e\` (it builds first)`);

export const cleanups: (() => Promise<void> | void)[] = [];
export async function runCleanups() {
  for (const c of cleanups.splice(0).reverse()) await c();
}

export function freePort(): number {
  const server = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = server.port as number;
  server.stop(true);
  return port;
}

export interface Running {
  url: string;
  proc: ReturnType<typeof Bun.spawn>;
  readyMs: number;
  stop(): Promise<number>;
}

export async function start(env: Record<string, string>, cwd: string): Promise<Running> {
  const port = freePort();
  const started = performance.now();
  const proc = Bun.spawn([BINARY, "serve"], {
    cwd,
    env: { PORT: String(port), ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null)
      throw new Error(`binary exited ${proc.exitCode}: ${await new Response(proc.stderr).text()}`);
    const ok = await fetch(`${url}/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error("binary not ready after 30 s");
    await Bun.sleep(25);
  }
  const readyMs = performance.now() - started;
  const running: Running = {
    url,
    proc,
    readyMs,
    async stop() {
      proc.kill("SIGTERM");
      return await proc.exited;
    },
  };
  cleanups.push(() => void (proc.exitCode === null && proc.kill("SIGKILL")));
  return running;
}

export async function api(base: string, method: string, path: string, body?: unknown, token?: string) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "stayhub-e2e-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An empty database on the PostgreSQL server, dropped after the file. */
export async function freshPostgresDatabase(): Promise<{ name: string; url: URL }> {
  const admin = postgres(databaseUrl as string, { max: 1, onnotice: () => {} });
  const name = `stayhub_e2e_${Math.random().toString(36).slice(2, 8)}`;
  await admin.unsafe(`create database "${name}"`);
  cleanups.push(async () => {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
  });
  const url = new URL(databaseUrl as string);
  url.pathname = `/${name}`;
  return { name, url };
}

/** The environment of a binary on this fresh database (and Redis, when there is one). */
export function postgresEnv(
  db: { name: string; url: URL },
  redisUrl: string | undefined,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: db.url.toString(),
    REDIS_URL: redisUrl ?? "",
    REDIS_PREFIX: `${db.name}:`,
    JWT_SECRET: "e2e-secret-e2e-secret-e2e-secret-e2e",
    DATA_DIR: tempDir(),
    ...extra,
  };
}
