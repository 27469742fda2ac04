// The OpenAPI document and the docs UI: valid for three validators, complete for every route, and
// saying what the server really does (media types, error shapes, headers, security, examples).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { summarize, validateOpenApi } from "../support/openapi-validators";
import { startTestApp, type TestApp } from "../support/app";

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

const operations = () => Object.entries(doc.paths as Json).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method] as Json })));

describe("the OpenAPI document", () => {
  test("0 errors from swagger-parser, Redocly (recommended) and Spectral (oas)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "openapi-"));
    const file = join(dir, "openapi.json");
    writeFileSync(file, JSON.stringify(doc));
    const findings = await validateOpenApi(file);
    const errors = findings.filter((f) => f.severity === "error");
    expect(errors).toEqual([]);
    // The only warnings allowed: a local server URL, and the operational routes that have no 4xx.
    const warnings = findings.filter((f) => f.severity === "warning");
    expect(warnings.filter((w) => !["no-server-example.com", "operation-4xx-response"].includes(w.rule))).toEqual([]);
    for (const w of warnings.filter((w) => w.rule === "operation-4xx-response")) expect(w.where).toMatch(/health|ready|metrics|_test/);
    console.log(summarize(findings));
  }, 60_000);

  test("OpenAPI 3.1 with servers, and every documented route, once, with {param} paths", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.servers).toEqual([{ url: "http://localhost", description: expect.any(String) }]);
    const documented = operations().map(({ path, method }) => `${method.toUpperCase()} ${path}`);
    const routes = t.app.routes
      .filter((r) => !r.path.startsWith("/swagger") && METHODS.includes(r.method.toLowerCase()))
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    expect(documented.sort()).toEqual([...new Set(routes)].sort());
  });

  test("named schemas in components, referenced by the operations", () => {
    for (const name of ["Problem", "User", "PublicUser", "Session", "Property", "PropertyPage", "CreateProperty", "Availability", "Notification"]) {
      expect(doc.components.schemas[name]).toBeDefined();
    }
    const text = JSON.stringify(doc.paths);
    for (const name of Object.keys(doc.components.schemas))
      expect(text.includes(`#/components/schemas/${name}"`) || JSON.stringify(doc.components).includes(`/${name}"`)).toBe(true);
    expect(doc.paths["/api/v1/users/me"].get.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/User" });
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
      for (const [status, response] of Object.entries(op.responses as Json)) expect((response as Json).description, `${where} ${status}`).toBeTruthy();
      if (op.requestBody) for (const s of ["400", "413", "422"]) expect(op.responses[s], `${where} ${s}`).toBeDefined();
      if (path.startsWith("/api/")) expect(op.responses["503"].headers["Retry-After"], where).toBeDefined();
    }
  });

  test("JSON answers are application/json only; every error is application/problem+json with the Problem schema", () => {
    for (const { path, method, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses as Json)) {
        const content = (response as Json).content as Json | undefined;
        if (Number(status) >= 400) {
          expect(Object.keys(content ?? {}), `${method} ${path} ${status}`).toEqual(["application/problem+json"]);
          expect(content?.["application/problem+json"].schema).toEqual({ $ref: "#/components/schemas/Problem" });
        } else if (content) {
          expect(Object.keys(content).length, `${method} ${path} ${status}`).toBe(1);
        }
      }
      if (op.requestBody) expect(Object.keys(op.requestBody.content), `${method} ${path}`).toEqual(["application/json"]);
    }
    expect(Object.keys(doc.paths["/api/v1/properties/{id}/calendar.ics"].get.responses["200"].content)).toEqual(["text/calendar"]);
    expect(Object.keys(doc.paths["/metrics"].get.responses["200"].content)).toEqual(["text/plain"]);
    expect(doc.paths["/api/v1/auth/logout"].post.responses["204"].content).toBeUndefined();
  });

  test("every request body has an example that the server accepts as valid input", async () => {
    for (const { path, method, op } of operations().filter((o) => o.op.requestBody)) {
      expect(op.requestBody.content["application/json"].example, `${method} ${path}`).toBeDefined();
    }
    // Registering with the documented example works as documented.
    const example = doc.paths["/api/v1/auth/register"].post.requestBody.content["application/json"].example;
    expect((await t.call("POST", "/api/v1/auth/register", { body: example })).status).toBe(201);
  });

  test("numbers are integers or numbers with their bounds, never numeric-string alternatives; enums are enums", () => {
    const text = JSON.stringify(doc);
    expect(text).not.toContain('"format":"integer"');
    expect(text).not.toContain('"format":"numeric"');
    const property = doc.components.schemas.Property;
    expect(property.properties.pricePerNight).toEqual({ type: "integer" });
    expect(property.properties.propertyType).toEqual({ type: "string", enum: ["apartment", "house", "room", "cabin", "villa", "other"] });
    expect(property.properties.ratingAverage).toEqual({ type: ["number", "null"] });
    const limit = doc.paths["/api/v1/properties"].get.parameters.find((p: Json) => p.name === "limit");
    expect(limit).toMatchObject({ in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } });
  });

  test("headers: ETag and If-None-Match with 304, RateLimit-* and Retry-After with 429, X-Request-Id everywhere", () => {
    const read = doc.paths["/api/v1/properties/{id}"].get;
    expect(read.responses["304"].headers.ETag).toEqual({ $ref: "#/components/headers/ETag" });
    expect(read.responses["200"].headers.ETag).toBeDefined();
    expect(read.parameters.map((p: Json) => p.name)).toContain("If-None-Match");
    const login = doc.paths["/api/v1/auth/login"].post;
    expect(Object.keys(login.responses["429"].headers)).toEqual(expect.arrayContaining(["Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]));
    expect(Object.keys(login.responses["200"].headers)).toEqual(expect.arrayContaining(["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]));
    for (const { op } of operations()) for (const r of Object.values(op.responses as Json)) expect((r as Json).headers["X-Request-Id"]).toBeDefined();
  });

  test("security: bearer on authenticated operations, security: [] on public ones", () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.paths["/api/v1/users/me"].get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths["/api/v1/users/me"].get.responses["401"]).toBeDefined();
    expect(doc.paths["/api/v1/properties"].get.security).toEqual([]);
    expect(doc.paths["/health"].get.security).toEqual([]);
  });
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
    const missing = await t.call("GET", "/swagger/assets/nope.js");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
  });
});
