// An application wired to this test file's own database and Redis prefix, driven through app.handle().
import { appendFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/app";
import { createDeps, type Deps } from "../../src/compose";
import { loadConfig } from "../../src/config";
import { createLogger } from "../../src/lib/log";
import { createPasswords } from "../../src/modules/auth/passwords";
import { answerChecker, describeUndocumented } from "./documented-answers";
import { createTestDatabase, createTestRedis, redisUrl } from "./services";

export const TEST_JWT_SECRET = "test-secret-test-secret-test-secret-0123";

export interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface CallOptions {
  body?: unknown;
  rawBody?: string | Uint8Array;
  token?: string;
  headers?: Record<string, string>;
}

export type Call = <T = Record<string, unknown>>(
  method: string,
  path: string,
  options?: CallOptions,
) => Promise<Answer<T>>;

export interface TestApp {
  app: ReturnType<typeof createApp>;
  deps: Deps;
  call: Call;
  close(): Promise<void>;
}

export interface TestAppOptions {
  redisUrl?: string;
  /** On the embedded database (PGlite) even when DATABASE_URL is set. */
  embedded?: boolean;
  /** A second instance of the service: the same database and Redis keys as `shareWith`, its own cache and connections. */
  shareWith?: TestApp;
}

export async function startTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const shared = options.shareWith;
  const [tdb, tredis] = await Promise.all([
    shared
      ? { database: shared.deps.database, url: shared.deps.config.databaseUrl, drop: async () => {} }
      : createTestDatabase({ embedded: options.embedded }),
    createTestRedis(options.redisUrl, shared ? { prefix: shared.deps.config.redisPrefix } : undefined),
  ]);
  const config = loadConfig({
    NODE_ENV: "test",
    JWT_SECRET: TEST_JWT_SECRET,
    DATA_DIR: mkdtempSync(join(tmpdir(), "stayhub-test-")),
    LOG_LEVEL: "silent",
    TEST_CLOCK: "1",
    // Every test request comes from one address: the registration and reset limits are tested on their own.
    REGISTER_RATE_LIMIT: "100000",
    PASSWORD_RESET_RATE_LIMIT: "100000",
    // The charge job charges (the tests drive the jobs); payment-inline.test.ts turns it back on.
    PAYMENT_CHARGE_INLINE: "0",
    REDIS_PREFIX: tredis.prefix,
    ...((options.redisUrl ?? redisUrl) ? { REDIS_URL: (options.redisUrl ?? redisUrl) as string } : {}),
    ...(tdb.url ? { DATABASE_URL: tdb.url } : {}),
    ...env,
  });
  const deps = await createDeps(config, {
    database: tdb.database,
    redis: tredis.redis,
    // Errors only: an unexpected 500 shows its stack in the test output.
    log: createLogger("error"),
    // Cheap hashes keep the suite fast; the production cost is measured by the benchmark.
    passwords: createPasswords({ memoryCost: 1024, timeCost: 1 }),
  });
  const app = createApp(deps);
  // Every answer is checked against the app's own OpenAPI document: a status, or an error code for
  // it, that the document does not list fails the test that got it. UNDOCUMENTED_ANSWERS=<file>
  // lists them there instead (one JSON line each), to see them all in one run.
  let check: ReturnType<typeof answerChecker> | undefined;
  const documented = async (method: string, path: string, status: number, body: unknown) => {
    check ??= answerChecker(JSON.parse(await (await app.handle(new Request("http://localhost/swagger/json"))).text()));
    const missing = check(method, path, status, body);
    if (!missing) return;
    const file = process.env.UNDOCUMENTED_ANSWERS;
    if (file) appendFileSync(file, `${JSON.stringify(missing)}\n`);
    else throw new Error(describeUndocumented(missing));
  };
  const call: Call = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Uint8Array | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    // (graphql-yoga's fetch types bring the DOM's BodyInit, which names Uint8Array<ArrayBuffer> only.)
    const res = await app.handle(
      new Request(`http://localhost${path}`, { method, headers, body: body as BodyInit | undefined }),
    );
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get("content-type") ?? "").includes("json") && text) parsed = JSON.parse(text);
    await documented(method, path, res.status, parsed);
    return { status: res.status, headers: res.headers, body: parsed as never, text };
  };
  return {
    app,
    deps,
    call,
    async close() {
      if (app.server) await app.stop(true);
      await deps.cache.close?.();
      await tdb.drop();
      await tredis.cleanup();
    },
  };
}

let seq = 0;

export interface Registered {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export async function registerUser(
  call: Call,
  overrides: { email?: string; password?: string; name?: string } = {},
): Promise<Registered> {
  const email = overrides.email ?? `user${++seq}.${Math.random().toString(36).slice(2, 8)}@example.com`;
  const password = overrides.password ?? "correct horse battery";
  const res = await call<{ user: { id: string }; accessToken: string; refreshToken: string }>(
    "POST",
    "/api/v1/auth/register",
    {
      body: { email, password, name: overrides.name ?? "Test User" },
    },
  );
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
  return {
    id: res.body.user.id,
    email,
    password,
    accessToken: res.body.accessToken,
    refreshToken: res.body.refreshToken,
  };
}
