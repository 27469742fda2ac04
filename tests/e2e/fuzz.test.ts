// Fuzzing the compiled binary from its own OpenAPI document: every operation (present and future)
// gets thousands of generated requests, valid and hostile. Whatever arrives: never a 5xx, every
// error is problem+json with a code and no stack trace or SQL, and every status (and error code)
// is one the document lists for that operation. Fixed seed and count (FUZZ_SEED, FUZZ_RUNS) so CI repeats it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import postgres from "postgres";
import { api, freshPostgresDatabase, type Running, runCleanups, start, tempDir } from "../support/binary";
import { answerChecker, describeUndocumented } from "../support/documented-answers";
import { type FuzzRequest, type Json, requestsFor } from "../support/openapi-fuzz";
import { databaseUrl, redisUrl } from "../support/services";

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const RUNS = Number(process.env.FUZZ_RUNS ?? 4000);
const LEAKS =
  /Failed query|\bselect\b.+\bfrom\b|\binsert into\b|\bupdate\b.+\bset\b|\n\s+at |node_modules|\.ts:\d+|SQLSTATE|postgres/i;

let server: Running;
let doc: Json;
let check: ReturnType<typeof answerChecker>;
let token = "";
let suspendedToken = "";
const ids: string[] = [];

beforeAll(async () => {
  const env: Record<string, string> = {
    DATA_DIR: tempDir(),
    LOG_LEVEL: "silent",
    JWT_SECRET: "e2e-fuzz-secret-e2e-fuzz-secret-e2e-fuzz",
  };
  if (databaseUrl) env.DATABASE_URL = (await freshPostgresDatabase()).url.toString();
  if (redisUrl) Object.assign(env, { REDIS_URL: redisUrl, REDIS_PREFIX: `e2e-fuzz-${Date.now()}:` });
  server = await start(env, tempDir());
  doc = (await (await fetch(`${server.url}/swagger/json`)).json()) as Json;
  check = answerChecker(doc);
  const reg = await api(server.url, "POST", "/auth/register", {
    email: "fuzz-host@example.com",
    password: "a long enough password",
    name: "Fuzz Host",
  });
  token = reg.body.accessToken;
  live = token;
  ids.push(reg.body.user.id);
  await api(server.url, "POST", "/users/me/host", undefined, token);
  const other = await api(server.url, "POST", "/auth/register", {
    email: "fuzz-suspended@example.com",
    password: "a long enough password",
    name: "Suspended",
  });
  suspendedToken = other.body.accessToken;
  if (env.DATABASE_URL) {
    const sql = postgres(env.DATABASE_URL, { max: 1, onnotice: () => {} });
    await sql`update users set status = 'suspended' where id = ${other.body.user.id}`;
    await sql.end();
  }
  const example = doc.paths["/api/v1/properties"].post.requestBody.content["application/json"].example;
  const property = await api(server.url, "POST", "/properties", example, token);
  expect(property.status).toBe(201);
  ids.push(property.body.id);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await runCleanups();
});

// The fuzz host's current access token. A generated POST /auth/logout-all ends every token of
// theirs, so the generated requests carry `token` as a stand-in for this one, renewed after each.
let live = "";
const logIn = async () =>
  (await api(server.url, "POST", "/auth/login", { email: "fuzz-host@example.com", password: "a long enough password" }))
    .body.accessToken as string;

async function send(r: FuzzRequest): Promise<Response> {
  const query = new URLSearchParams(r.query).toString();
  const headers = { ...r.headers };
  if (headers.authorization === `Bearer ${token}`) headers.authorization = `Bearer ${live}`;
  const res = await fetch(`${server.url}${r.path}${query ? `?${query}` : ""}`, {
    method: r.method,
    headers,
    body: r.body,
    signal: AbortSignal.timeout(10_000),
  });
  if (r.operation === "POST /api/v1/auth/logout-all" && res.status === 204) live = await logIn();
  return res;
}

test(`${RUNS} generated requests over every documented operation: no 5xx, problem+json errors, documented statuses only`, async () => {
  const byStatus = new Map<number, number>();
  const byOperation = new Map<string, number>();
  let sent = 0;
  const run = fc.assert(
    fc.asyncProperty(requestsFor(doc, { ids, token, suspendedToken }), async (request) => {
      const res = await send(request);
      const text = await res.text();
      sent++;
      byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
      byOperation.set(request.operation, (byOperation.get(request.operation) ?? 0) + 1);
      const where = `${request.operation} → ${res.status} ${text.slice(0, 300)}`;
      expect(res.status, where).toBeLessThan(500);
      const [method, path] = request.operation.split(" ") as [string, string];
      const documented = Object.keys(doc.paths[path][method.toLowerCase()].responses);
      expect(documented, where).toContain(String(res.status));
      if (res.status >= 400) expect(res.headers.get("content-type"), where).toBe("application/problem+json");
      // A HEAD answer has the headers of the GET answer and no body.
      let problem: { code?: unknown; status?: unknown } | undefined;
      if (res.status >= 400 && request.method !== "HEAD") {
        problem = JSON.parse(text) as { code?: unknown; status?: unknown };
        expect(typeof problem.code, where).toBe("string");
        expect(problem.status, where).toBe(res.status);
        expect(LEAKS.test(text), where).toBe(false);
      }
      // …and its code is one the document lists for this operation and status.
      const undocumented = check(request.method, request.path, res.status, problem);
      expect(undocumented && describeUndocumented(undocumented), where).toBeUndefined();
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  // fast-check's report quotes the whole counterexample; a huge generated value would flood the log.
  await run.catch((error: Error) => {
    throw new Error(error.message.length > 3000 ? `${error.message.slice(0, 3000)}…` : error.message);
  });
  const distribution = [...byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`);
  console.log(
    `fuzz: ${sent} requests over ${byOperation.size} operations, seed ${SEED}; statuses ${distribution.join(", ")}`,
  );
  // Every documented operation was exercised, and most requests reached a rule, not only the door.
  const operations = Object.entries(doc.paths).flatMap(([p, item]) =>
    Object.keys(item as object).map((m) => `${m.toUpperCase()} ${p}`),
  );
  for (const op of operations) expect(byOperation.get(op) ?? 0, op).toBeGreaterThan(RUNS / operations.length / 4);
  expect(byStatus.get(422) ?? 0).toBeGreaterThan(RUNS / 10);
  expect([...byStatus].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0)).toBeGreaterThan(RUNS / 10);
}, 600_000);
