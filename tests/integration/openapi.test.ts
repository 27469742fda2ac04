// The OpenAPI document and the docs UI: valid for three validators, complete for every route, and
// saying what the server really does (media types, error shapes, headers, security, examples).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateClientTypes } from "../../scripts/generate-client";
import { type ErrorCode, type ErrorStatus, isErrorCode, statusesOf } from "../../src/http/error-codes";
import { publicOrigin } from "../../src/http/openapi/docs-ui";
import { startTestApp, type TestApp } from "../support/app";
import { documentedCodes } from "../support/documented-answers";
import { summarize, validateOpenApi } from "../support/openapi-validators";

// biome-ignore lint/suspicious/noExplicitAny: a parsed OpenAPI document, walked by path; its shape is what the checks are about
type Json = Record<string, any>;
let t: TestApp;
let doc: Json;
const METHODS = ["get", "post", "put", "patch", "delete"];

beforeAll(async () => {
  t = await startTestApp();
  const res = await t.call("GET", "/swagger/json");
  expect(res.status).toBe(200);
  doc = JSON.parse(res.text);
}, 60_000);
afterAll(() => t?.close());

const operations = () =>
  Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method] as Json })),
  );

describe("the OpenAPI document", () => {
  test("0 errors from swagger-parser, Redocly (recommended) and Spectral (oas)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "openapi-"));
    const file = join(dir, "openapi.json");
    writeFileSync(file, JSON.stringify(doc));
    const findings = await validateOpenApi(file);
    const errors = findings.filter((f) => f.severity === "error");
    expect(errors).toEqual([]);
    // The only warning allowed: the server URL is localhost here.
    const warnings = findings.filter((f) => f.severity === "warning");
    expect(warnings.map((w) => w.rule)).toEqual(["no-server-example.com"]);
    console.log(summarize(findings));
  }, 60_000);

  test("OpenAPI 3.1 with servers, and every documented route, once, with {param} paths", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.servers).toEqual([{ url: "http://localhost", description: expect.any(String) }]);
    const documented = operations().map(({ path, method }) => `${method.toUpperCase()} ${path}`);
    const routes = t.app.routes
      // GraphQL is described by its own schema (schema.graphql), not by this document.
      .filter(
        (r) => !r.path.startsWith("/swagger") && r.path !== "/graphql" && METHODS.includes(r.method.toLowerCase()),
      )
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    expect(documented.sort()).toEqual([...new Set(routes)].sort());
  });

  test("named schemas in components, referenced by the operations", () => {
    for (const name of [
      "Problem",
      "User",
      "PublicUser",
      "Session",
      "Property",
      "PropertyPage",
      "CreateProperty",
      "Availability",
      "Notification",
    ]) {
      expect(doc.components.schemas[name]).toBeDefined();
    }
    const text = JSON.stringify(doc.paths);
    for (const name of Object.keys(doc.components.schemas))
      expect(
        text.includes(`#/components/schemas/${name}"`) || JSON.stringify(doc.components).includes(`/${name}"`),
      ).toBe(true);
    expect(doc.paths["/api/v1/users/me"].get.responses["200"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/User",
    });
  });

  test("every operation: operationId (unique), tag, summary, description, real statuses with descriptions", () => {
    const ids = new Set<string>();
    for (const { path, method, op } of operations()) {
      const where = `${method} ${path}`;
      expect(op.operationId, where).toMatch(/^[a-z][A-Za-z]+$/);
      expect(ids.has(op.operationId), where).toBe(false);
      ids.add(op.operationId);
      expect(op.tags.length, where).toBe(1);
      expect(op.summary.length, where).toBeGreaterThan(3);
      expect(op.description.length, where).toBeGreaterThan(3);
      for (const [status, response] of Object.entries(op.responses as Json))
        expect((response as Json).description, `${where} ${status}`).toBeTruthy();
      if (op.requestBody) for (const s of ["400", "413", "422"]) expect(op.responses[s], `${where} ${s}`).toBeDefined();
      if (path.startsWith("/api/")) expect(op.responses["503"].headers["Retry-After"], where).toBeDefined();
      if (op.security.length) for (const s of ["401", "403"]) expect(op.responses[s], `${where} ${s}`).toBeDefined();
      expect(op.responses["413"], where).toBeDefined(); // a declared length over 1 MiB, on any route
    }
    // Statuses a route cannot answer are not promised: a malformed id is a 404, not a 422.
    expect(Object.keys(doc.paths["/api/v1/users/{id}"].get.responses)).toEqual(["200", "404", "413", "503"]);
    expect(doc.paths["/api/v1/properties/{id}"].patch.responses["409"]).toBeDefined();
  });

  test("JSON answers are application/json only; every error is application/problem+json with the Problem schema", () => {
    for (const { path, method, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses as Json)) {
        const content = (response as Json).content as Json | undefined;
        if (`${method} ${path} ${status}` === "get /ready 503") {
          // Not ready is the readiness answer itself, with its checks, not a Problem.
          expect(content?.["application/json"].schema).toEqual({ $ref: "#/components/schemas/Readiness" });
        } else if (Number(status) >= 400) {
          expect(Object.keys(content ?? {}), `${method} ${path} ${status}`).toEqual(["application/problem+json"]);
          expect(content?.["application/problem+json"].schema.allOf[0]).toEqual({
            $ref: "#/components/schemas/Problem",
          });
        } else if (content) {
          expect(Object.keys(content).length, `${method} ${path} ${status}`).toBe(1);
        }
      }
      if (op.requestBody)
        expect(Object.keys(op.requestBody.content), `${method} ${path}`).toEqual(["application/json"]);
    }
    expect(Object.keys(doc.paths["/api/v1/properties/{id}/calendar.ics"].get.responses["200"].content)).toEqual([
      "text/calendar",
    ]);
    expect(Object.keys(doc.paths["/metrics"].get.responses["200"].content)).toEqual(["text/plain"]);
    expect(doc.paths["/api/v1/auth/logout"].post.responses["204"].content).toBeUndefined();
  });

  test("every error answer lists its codes: the catalog's, for that status, named in its description", () => {
    for (const { path, method, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses as Json)) {
        if (Number(status) < 400 || !(response as Json).content["application/problem+json"]) continue;
        const where = `${method} ${path} ${status}`;
        const codes = documentedCodes(response as Json);
        expect(codes?.length ?? 0, where).toBeGreaterThan(0);
        for (const code of codes ?? []) {
          expect(isErrorCode(code), `${where} ${code}`).toBe(true);
          expect(statusesOf(code as ErrorCode), `${where} ${code}`).toContain(Number(status) as ErrorStatus);
          expect((response as Json).description, where).toContain(`\`${code}\``);
        }
      }
    }
  });

  test("the payment webhook, POST /bookings' 429 and the webhook's answer say what the routes do", () => {
    const webhook = doc.paths["/api/v1/webhooks/payments"].post;
    expect(documentedCodes(webhook.responses["400"])).toEqual(["invalid_json", "invalid_signature"]);
    expect(webhook.parameters.find((p: Json) => p.name === "payment-signature")).toMatchObject({
      in: "header",
      required: true,
    });
    expect(documentedCodes(doc.paths["/api/v1/bookings"].post.responses["429"])).toContain("too_many_holds");
    expect(doc.components.schemas.PaymentWebhookAnswer.properties.outcome).toMatchObject({
      type: "string",
      enum: ["applied", "no_change", "unknown_payment", "unknown_payout", "amount_mismatch", "ignored_type"],
    });
  });

  test("every request body has an example, and each example passes its operation's rules", async () => {
    const example = (path: string, method: string) =>
      doc.paths[path][method].requestBody.content["application/json"].example;
    // Register with the documented example, become a host and list the documented property, so the
    // other examples meet real objects.
    const registered = await t.call<{ accessToken: string }>("POST", "/api/v1/auth/register", {
      body: example("/api/v1/auth/register", "post"),
    });
    expect(registered.status).toBe(201);
    const token = registered.body.accessToken;
    await t.call("POST", "/api/v1/users/me/host", { token });
    const property = await t.call<{ id: string }>("POST", "/api/v1/properties", {
      token,
      body: example("/api/v1/properties", "post"),
    });
    expect(property.status).toBe(201);
    for (const { path, method, op } of operations().filter((o) => o.op.requestBody)) {
      const body = op.requestBody.content["application/json"].example;
      expect(body, `${method} ${path}`).toBeDefined();
      const res = await t.call(method.toUpperCase(), path.replace("{id}", property.body.id), {
        token,
        body,
        headers: { "idempotency-key": crypto.randomUUID() },
      });
      // A refresh token in an example is made up (401), and so is a reset token (400 invalid_token:
      // the body passed every rule, the token is not one we issued); every other answer is the rule-abiding one.
      const madeUpToken = res.status === 400 && (res.body as { code?: string }).code === "invalid_token";
      if (!madeUpToken)
        expect([400, 413, 422], `${method} ${path} → ${res.status} ${res.text.slice(0, 200)}`).not.toContain(
          res.status,
        );
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
    }
  });

  test("numbers are integers or numbers with their bounds, never numeric-string alternatives; enums are enums", () => {
    const text = JSON.stringify(doc);
    expect(text).not.toContain('"format":"integer"');
    expect(text).not.toContain('"format":"numeric"');
    const property = doc.components.schemas.Property;
    expect(property.properties.pricePerNight).toEqual({ type: "integer" });
    expect(property.properties.propertyType).toEqual({
      type: "string",
      enum: ["apartment", "house", "room", "cabin", "villa", "other"],
    });
    expect(property.properties.ratingAverage).toEqual({ type: ["number", "null"] });
    const limit = doc.paths["/api/v1/properties"].get.parameters.find((p: Json) => p.name === "limit");
    expect(limit).toMatchObject({
      in: "query",
      required: false,
      schema: { type: "integer", minimum: 1, maximum: 100, default: 20 },
    });
  });

  test("headers: ETag and If-None-Match with 304, RateLimit-* and Retry-After with 429, X-Request-Id everywhere", () => {
    const read = doc.paths["/api/v1/properties/{id}"].get;
    expect(read.responses["304"].headers.ETag).toEqual({ $ref: "#/components/headers/ETag" });
    expect(read.responses["200"].headers.ETag).toBeDefined();
    expect(read.parameters.map((p: Json) => p.name)).toContain("If-None-Match");
    const login = doc.paths["/api/v1/auth/login"].post;
    expect(Object.keys(login.responses["429"].headers)).toEqual(
      expect.arrayContaining(["Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]),
    );
    expect(Object.keys(login.responses["200"].headers)).toEqual(
      expect.arrayContaining(["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]),
    );
    for (const { op } of operations())
      for (const r of Object.values(op.responses as Json)) expect((r as Json).headers["X-Request-Id"]).toBeDefined();
  });

  test("security: bearer on authenticated operations, security: [] on public ones", () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.paths["/api/v1/users/me"].get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths["/api/v1/users/me"].get.responses["401"]).toBeDefined();
    expect(doc.paths["/api/v1/properties"].get.security).toEqual([]);
    expect(doc.paths["/health"].get.security).toEqual([]);
  });
});

describe("the generated client types", () => {
  test("tests/e2e/client/api.d.ts is what this document generates (else: bun run client:generate)", async () => {
    // The contract as deployed: without TEST_CLOCK, whose routes are not part of it.
    const plain = await startTestApp({ TEST_CLOCK: "0" });
    try {
      const { servers: _servers, ...contract } = JSON.parse((await plain.call("GET", "/swagger/json")).text) as Json;
      const generated = (await generateClientTypes(contract)).split("\n");
      const committed = (await Bun.file(`${import.meta.dir}/../e2e/client/api.d.ts`).text()).split("\n");
      const at = committed.findIndex((line, i) => line !== generated[i]);
      expect(
        at === -1 && committed.length === generated.length
          ? "identical"
          : `line ${at + 1}: ${committed[at]} ≠ ${generated[at]}`,
      ).toBe("identical");
    } finally {
      await plain.close();
    }
  }, 30_000);
});

describe("the docs UI", () => {
  test("/swagger and /swagger/ serve the same page, whose scripts and styles come from this server", async () => {
    for (const path of ["/swagger", "/swagger/"]) {
      const page = await t.call("GET", path);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toStartWith("text/html");
      const refs = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? "");
      expect(refs.length).toBeGreaterThanOrEqual(3);
      for (const ref of refs) {
        expect(ref).toStartWith("/swagger/assets/");
        const asset = await t.call("GET", ref);
        expect(asset.status, ref).toBe(200);
        expect(asset.text.length, ref).toBeGreaterThan(100);
      }
      expect(page.text).not.toMatch(/https?:\/\//);
    }
    expect((await t.call("GET", "/swagger/assets/init.js")).text).toContain('"/swagger/json"');
    for (const name of ["nope.js", "__proto__", "constructor", "toString", "..%2f..%2fpackage.json"]) {
      const missing = await t.call("GET", `/swagger/assets/${name}`);
      expect(missing.status, name).toBe(404);
      expect(missing.headers.get("content-type")).toBe("application/problem+json");
    }
    const page = await t.call("GET", "/swagger");
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  });

  test("servers: the origin asked at; behind a trusted proxy, the scheme and host it forwarded", () => {
    const behind = new Request("http://10.0.0.5:3000/swagger/json", {
      headers: { "x-forwarded-proto": "https", "x-forwarded-host": "api.stayhub.dev" },
    });
    expect(publicOrigin(behind, true)).toBe("https://api.stayhub.dev");
    expect(publicOrigin(behind, false)).toBe("http://10.0.0.5:3000");
    const forged = new Request("http://10.0.0.5:3000/swagger/json", {
      headers: { "x-forwarded-proto": "javascript", "x-forwarded-host": "evil/<script>" },
    });
    expect(publicOrigin(forged, true)).toBe("http://10.0.0.5:3000");
  });
});
