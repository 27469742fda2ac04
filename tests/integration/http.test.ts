// The HTTP foundation and the generated security checks over every route of the application.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { httpFoundation } from "../../src/http/foundation";
import { createLogger } from "../../src/lib/log";
import { registerUser, startTestApp, type TestApp } from "../support/app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
}, 60_000);
afterAll(() => t?.close());

// Every /api/v1 route, classified. A new route must be added here, and so gets its 401 checks.
const PUBLIC = new Set([
  "POST /api/v1/auth/register",
  "POST /api/v1/auth/login",
  "POST /api/v1/auth/refresh",
  "GET /api/v1/users/:id",
  "GET /api/v1/properties",
  "GET /api/v1/properties/:id",
  "GET /api/v1/properties/:id/availability",
  "GET /api/v1/properties/:id/quote",
  "GET /api/v1/properties/:id/calendar.ics",
  "POST /api/v1/_test/clock",
  "DELETE /api/v1/_test/clock",
  "GET /api/v1/_test/clock",
  "POST /api/v1/auth/password-reset",
  "POST /api/v1/auth/password-reset/confirm",
  "POST /api/v1/auth/verify-email",
  "GET /api/v1/properties/:id/reviews",
  "GET /api/v1/users/:id/reviews",
  // The payment provider's, authenticated by its signature (payments.test.ts).
  "POST /api/v1/webhooks/payments",
]);
const AUTHENTICATED = new Set([
  "POST /api/v1/auth/logout",
  "POST /api/v1/auth/logout-all",
  "GET /api/v1/users/me",
  "PATCH /api/v1/users/me",
  "POST /api/v1/users/me/password",
  "POST /api/v1/users/me/host",
  "DELETE /api/v1/users/me",
  "GET /api/v1/users/me/export",
  "POST /api/v1/auth/verify-email/resend",
  "POST /api/v1/properties",
  "PATCH /api/v1/properties/:id",
  "DELETE /api/v1/properties/:id",
  "PUT /api/v1/properties/:id/calendar",
  "GET /api/v1/hosts/me/properties",
  "POST /api/v1/bookings",
  "GET /api/v1/bookings",
  "GET /api/v1/bookings/:id",
  "POST /api/v1/bookings/:id/cancel",
  "POST /api/v1/bookings/:id/accept",
  "POST /api/v1/bookings/:id/decline",
  "POST /api/v1/bookings/:id/payments",
  "GET /api/v1/bookings/:id/payments",
  "GET /api/v1/payments/:id",
  "PUT /api/v1/hosts/me/payout-method",
  "GET /api/v1/hosts/me/balance",
  "GET /api/v1/hosts/me/ledger",
  "GET /api/v1/hosts/me/payouts",
  "GET /api/v1/payouts/:id",
  "POST /api/v1/bookings/:id/reviews",
  "POST /api/v1/bookings/:id/guest-review",
  "POST /api/v1/reviews/:id/response",
  "GET /api/v1/notifications",
  "POST /api/v1/notifications/:id/read",
  "POST /api/v1/wishlists",
  "GET /api/v1/wishlists",
  "GET /api/v1/wishlists/:id",
  "PATCH /api/v1/wishlists/:id",
  "DELETE /api/v1/wishlists/:id",
  "PUT /api/v1/wishlists/:id/properties/:propertyId",
  "DELETE /api/v1/wishlists/:id/properties/:propertyId",
  "GET /api/v1/wishlists/:id/properties",
  "POST /api/v1/alerts",
  "GET /api/v1/alerts",
  "DELETE /api/v1/alerts/:id",
]);

// Admins only: 404 to everyone else, token or not (admin.test.ts checks them all).
const ADMIN = new Set([
  "GET /api/v1/admin/ledger/balances",
  "GET /api/v1/admin/users",
  "POST /api/v1/admin/users/:id/suspend",
  "POST /api/v1/admin/users/:id/unsuspend",
  "POST /api/v1/admin/properties/:id/unlist",
  "GET /api/v1/admin/audit",
  "GET /api/v1/admin/tax-rules",
  "POST /api/v1/admin/tax-rules",
  "DELETE /api/v1/admin/tax-rules/:id",
]);

// POST routes that take no body.
const BODYLESS = new Set([
  "POST /api/v1/auth/logout-all",
  "POST /api/v1/users/me/host",
  "POST /api/v1/auth/verify-email/resend",
  "POST /api/v1/notifications/:id/read",
  "POST /api/v1/admin/users/:id/unsuspend",
  "POST /api/v1/bookings/:id/accept",
  "PUT /api/v1/wishlists/:id/properties/:propertyId",
]);
// The provider's signed events: 404 without PAYMENT_WEBHOOK_SECRET, and fields a provider adds
// are no reason to refuse its event (payments.test.ts covers their rules).
const SIGNED = new Set(["POST /api/v1/webhooks/payments"]);

const apiRoutes = () => t.app.routes.filter((r) => r.path.startsWith("/api/v1")).map((r) => `${r.method} ${r.path}`);

describe("generated security checks", () => {
  test("every API route is classified as public or authenticated", () => {
    const unclassified = apiRoutes().filter((r) => !PUBLIC.has(r) && !AUTHENTICATED.has(r) && !ADMIN.has(r));
    expect(unclassified).toEqual([]);
  });

  test("every authenticated route: 401 without a token, with a bad token, and with a malformed header", async () => {
    const checked: string[] = [];
    for (const route of apiRoutes().filter((r) => AUTHENTICATED.has(r))) {
      const [method = "GET", path = "/"] = route.split(" ");
      const url = path.replace(":id", "01a21001-1cb3-775a-ba4d-59603dabccf5");
      const body = method === "GET" ? undefined : {};
      for (const headers of [{}, { authorization: "Bearer not.a.token" }, { authorization: "Token abc" }] as Record<
        string,
        string
      >[]) {
        const res = await t.call(method, url, { headers, body });
        expect({ route, status: res.status, code: res.body.code }).toEqual({
          route,
          status: 401,
          code: "unauthenticated",
        });
        expect(res.headers.get("content-type")).toBe("application/problem+json");
      }
      checked.push(route);
    }
    expect(checked.length).toBe(AUTHENTICATED.size);
  });

  test("every route with a body: 422 for an unknown field, 400 for broken JSON", async () => {
    const u = await registerUser(t.call);
    for (const route of apiRoutes().filter(
      (r) => !r.startsWith("GET") && !r.startsWith("DELETE") && !BODYLESS.has(r) && !SIGNED.has(r) && !ADMIN.has(r),
    )) {
      const [method = "POST", template = "/"] = route.split(" ");
      const path = template.replace(":id", "01a21001-1cb3-775a-ba4d-59603dabccf5");
      const extra = await t.call(method, path, {
        token: u.accessToken,
        body: { surprise: true },
        headers: { "idempotency-key": "k" },
      });
      expect({ route, status: extra.status }).toEqual({ route, status: 422 });
      const broken = await t.call(method, path, {
        token: u.accessToken,
        rawBody: "{",
        headers: { "content-type": "application/json" },
      });
      expect({ route, status: broken.status }).toEqual({ route, status: 400 });
    }
  });
});

describe("body parsing", () => {
  test("an empty JSON body on a route without one is fine; content types are case-insensitive", async () => {
    const u = await registerUser(t.call);
    const empty = await t.call("POST", "/api/v1/users/me/host", {
      token: u.accessToken,
      rawBody: "",
      headers: { "content-type": "application/json" },
    });
    expect(empty.status).toBe(200);
    const upper = await t.call("PATCH", "/api/v1/users/me", {
      token: u.accessToken,
      rawBody: '{"bio":"x"}',
      headers: { "content-type": "Application/JSON; charset=UTF-8" },
    });
    expect(upper.status).toBe(200);
  });

  test("an empty body where one is required is 422, not 400 or 500", async () => {
    const u = await registerUser(t.call);
    const res = await t.call("POST", "/api/v1/users/me/password", {
      token: u.accessToken,
      rawBody: "",
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(422);
    const login = await t.call("POST", "/api/v1/auth/login", {
      rawBody: "",
      headers: { "content-type": "application/json" },
    });
    expect(login.status).toBe(422);
  });
});

describe("problem+json and request ids", () => {
  test("unknown routes → 404 not_found", async () => {
    const res = await t.call("GET", "/api/v1/nothing-here");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.body).toMatchObject({ status: 404, code: "not_found", title: "Not Found" });
    expect(typeof res.body.type).toBe("string");
  });

  test("X-Request-Id is echoed when given and made when not", async () => {
    const given = await t.call("GET", "/health", { headers: { "x-request-id": "abc-123" } });
    expect(given.headers.get("x-request-id")).toBe("abc-123");
    const made = await t.call("GET", "/health");
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const error = await t.call("GET", "/api/v1/nope", { headers: { "x-request-id": "err-1" } });
    expect(error.headers.get("x-request-id")).toBe("err-1");
    expect(error.body.requestId).toBe("err-1");
    const hostile = await t.call("GET", "/health", { headers: { "x-request-id": "bad id with spaces" } });
    expect(hostile.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("a crash answers 500 internal without the message, stack or SQL", async () => {
    const lines: string[] = [];
    const app = new Elysia({ normalize: false })
      .use(httpFoundation(createLogger("info", (l) => void lines.push(l))))
      .get("/boom", () => {
        throw new Error('relation "users" does not exist: select password_hash from users');
      });
    const res = await app.handle(new Request("http://localhost/boom"));
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(JSON.parse(text)).toMatchObject({ status: 500, code: "internal" });
    expect(text).not.toContain("password_hash");
    expect(text).not.toContain("at ");
    // …but the log has it, with the request id, for whoever investigates.
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "unhandled error");
    expect(logged.error).toContain("password_hash");
    expect(logged.requestId).toBe(res.headers.get("x-request-id"));
  });

  test("one structured log line per request with method, route, status, duration, request id", async () => {
    const lines: string[] = [];
    const app = new Elysia({ normalize: false })
      .use(httpFoundation(createLogger("info", (l) => void lines.push(l))))
      .get("/things/:id", () => ({ ok: true }));
    await app.handle(new Request("http://localhost/things/7", { headers: { "x-request-id": "r-7" } }));
    await app.handle(new Request("http://localhost/missing"));
    await Bun.sleep(5);
    const entries = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      method: "GET",
      route: "/things/:id",
      status: 200,
      requestId: "r-7",
      level: "info",
    });
    expect(typeof entries[0].durationMs).toBe("number");
    expect(entries[1]).toMatchObject({ status: 404 });
  });
});

describe("operations", () => {
  test("/health and /ready", async () => {
    expect((await t.call("GET", "/health")).body).toEqual({ status: "ok" });
    const ready = await t.call("GET", "/ready");
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: "ok", checks: { database: true } });
  });

  test("/swagger/json documents every route with its request and response schemas", async () => {
    const res = await t.call<{
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>>;
    }>("GET", "/swagger/json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toStartWith("3.");
    for (const route of apiRoutes()) {
      const [method = "", path = ""] = route.split(" ");
      const op = res.body.paths[path.replace(/:(\w+)/g, "{$1}")]?.[method.toLowerCase()];
      expect({ route, documented: Boolean(op) }).toEqual({ route, documented: true });
      expect(Object.keys(op?.responses ?? {}).length).toBeGreaterThan(0);
      if (method === "POST" || method === "PATCH") {
        if (!BODYLESS.has(route)) expect({ route, body: Boolean(op?.requestBody) }).toEqual({ route, body: true });
      }
    }
    const ui = await t.call("GET", "/swagger");
    expect(ui.status).toBe(200);
    expect(ui.text).toContain("swagger");
  });

  test("test clock: set, read, reset", async () => {
    const set = await t.call("POST", "/api/v1/_test/clock", { body: { now: "2030-01-02T03:04:05.000Z" } });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ now: "2030-01-02T03:04:05.000Z", fixed: true });
    expect(t.deps.clock.now().toISOString()).toBe("2030-01-02T03:04:05.000Z");
    const bad = await t.call("POST", "/api/v1/_test/clock", { body: { now: "yesterday" } });
    expect(bad.status).toBe(422);
    const reset = await t.call("DELETE", "/api/v1/_test/clock");
    expect(reset.body.fixed).toBe(false);
    expect(Math.abs(t.deps.clock.now().getTime() - Date.now())).toBeLessThan(5000);
  });
});

describe("without TEST_CLOCK", () => {
  test("the test clock route does not exist", async () => {
    const plain = await startTestApp({ TEST_CLOCK: "0" });
    try {
      const res = await plain.call("POST", "/api/v1/_test/clock", { body: { now: "2030-01-01T00:00:00Z" } });
      expect(res.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
