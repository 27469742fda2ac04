// The contract as the compiled binary serves it: its OpenAPI document passes the three validators,
// the committed client types are what that document generates, and the generated client's script
// runs against the binary with strict types and no casts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { generateClientTypes } from "../../scripts/generate-client";
import { freshPostgresDatabase, type Running, runCleanups, start, tempDir } from "../support/binary";
import { summarize, validateOpenApi } from "../support/openapi-validators";
import { databaseUrl, redisUrl } from "../support/services";

const ROOT = resolve(import.meta.dir, "../..");
let server: Running;
let document: Record<string, unknown>;

beforeAll(async () => {
  const env: Record<string, string> = {
    DATA_DIR: tempDir(),
    LOG_LEVEL: "warn",
    JWT_SECRET: "e2e-contract-secret-e2e-contract-secret",
  };
  if (databaseUrl) env.DATABASE_URL = (await freshPostgresDatabase()).url.toString();
  if (redisUrl) Object.assign(env, { REDIS_URL: redisUrl, REDIS_PREFIX: `e2e-contract-${Date.now()}:` });
  server = await start(env, tempDir());
  const res = await fetch(`${server.url}/swagger/json`);
  expect(res.status).toBe(200);
  document = (await res.json()) as Record<string, unknown>;
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await runCleanups();
});

describe("the binary's OpenAPI document", () => {
  test("0 errors from swagger-parser, Redocly and Spectral; servers name the instance", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "openapi-")), "openapi.json");
    writeFileSync(file, JSON.stringify(document));
    const findings = await validateOpenApi(file);
    console.log(`served document: ${summarize(findings)}`);
    expect(findings.filter((f) => f.severity === "error")).toEqual([]);
    expect(document.servers).toEqual([{ url: server.url, description: expect.any(String) }]);
    // Without TEST_CLOCK the test clock is neither served nor documented.
    expect(Object.keys(document.paths as object).some((p) => p.includes("_test"))).toBe(false);
  }, 60_000);
});

describe("the generated TypeScript client", () => {
  test("the committed types are what the served document generates (run `bun run client:generate` after a contract change)", async () => {
    const { servers: _servers, ...contract } = document;
    const generated = await generateClientTypes(contract);
    const committed = await Bun.file(join(ROOT, "tests/e2e/client/api.d.ts")).text();
    // On a difference, the first line that differs (the whole files would flood the log).
    const a = committed.split("\n");
    const b = generated.split("\n");
    const at = a.findIndex((line, i) => line !== b[i]);
    expect(
      at === -1 && a.length === b.length
        ? "identical"
        : `line ${at + 1}: committed ${JSON.stringify(a[at])}, served ${JSON.stringify(b[at])}`,
    ).toBe("identical");
  }, 30_000);

  test("its script type-checks strictly and runs against the binary", async () => {
    const tsc = Bun.spawn(
      [
        join(ROOT, "node_modules/.bin/tsc"),
        "--ignoreConfig",
        "--noEmit",
        "--strict",
        "--noUncheckedIndexedAccess",
        "--skipLibCheck",
        "--target",
        "esnext",
        "--module",
        "preserve",
        "--moduleResolution",
        "bundler",
        "--types",
        "bun-types",
        "tests/e2e/client/flow.ts",
      ],
      {
        cwd: ROOT,
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const [typeErrors] = await Promise.all([new Response(tsc.stdout).text(), tsc.exited]);
    expect(typeErrors).toBe("");
    expect(tsc.exitCode).toBe(0);
    // No cast of any kind in the script: the types alone carry it.
    const source = await Bun.file(join(ROOT, "tests/e2e/client/flow.ts")).text();
    expect(source).not.toMatch(/\bas\s+(unknown|any|[A-Z])|<any>|@ts-/);

    const run = Bun.spawn([process.execPath, "tests/e2e/client/flow.ts", server.url], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err] = await Promise.all([
      new Response(run.stdout).text(),
      new Response(run.stderr).text(),
      run.exited,
    ]);
    console.log(out.trim());
    expect(err).toBe("");
    expect(run.exitCode).toBe(0);
    expect(out).toContain("again with If-None-Match: 304");
    expect(out).toContain("limit=0: 422 validation_failed /limit must be an integer from 1 to 100");
    expect(out.trim().endsWith("done")).toBe(true);
  }, 60_000);
});
