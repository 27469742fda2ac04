// Cursors are verified, not trusted: on every paginated route (found from the route table, so a new
// one is covered the day it lands), a cursor we did not issue is 422 invalid_cursor, never a 500.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createAdmin } from "../../src/modules/users/admin-cli";
import { startTestApp, type TestApp } from "../support/app";
import { createListing, registerHost } from "../support/properties";

let t: TestApp;
let token = "";
let adminToken = "";
beforeAll(async () => {
  t = await startTestApp();
  const host = await registerHost(t.call);
  token = host.accessToken;
  await createAdmin({ email: "cursors-admin@example.com", password: "admin password 1" }, t.deps);
  adminToken = (
    await t.call<{ accessToken: string }>("POST", "/api/v1/auth/login", {
      body: { email: "cursors-admin@example.com", password: "admin password 1" },
    })
  ).body.accessToken;
  for (let i = 0; i < 3; i++) await createListing(t.call, host, { title: `Cursor ${i}` });
}, 60_000);
afterAll(() => t?.close());

const forge = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
const ID = "01a21001-1cb3-775a-ba4d-59603dabccf5";
const HOSTILE_NUMBERS = [2 ** 31, -(2 ** 31) - 1, 2 ** 53, 1e21, 1e300, -1e300, 1.5, "1", null];
const HOSTILE_INSTANTS = [
  "2024-02-30T00:00:00.000Z",
  "0000-01-01T00:00:00.000Z",
  "2024-01-01T24:00:00.000Z",
  "2024-01-01T00:60:00Z",
  "+275760-09-13T00:00:00.000Z",
  "2024-01-01",
  0,
];

test("every paginated route answers hand-made cursors with 422 invalid_cursor", async () => {
  const paginated = t.app.routes
    .filter(
      (r) =>
        r.method === "GET" &&
        (r.hooks as { query?: { properties?: Record<string, unknown> } }).query?.properties?.cursor,
    )
    .map((r) => r.path);
  expect(paginated.sort()).toEqual([
    "/api/v1/admin/audit",
    "/api/v1/admin/users",
    "/api/v1/alerts",
    "/api/v1/bookings",
    "/api/v1/bookings/:id/payments",
    "/api/v1/hosts/me/ledger",
    "/api/v1/hosts/me/payouts",
    "/api/v1/hosts/me/properties",
    "/api/v1/notifications",
    "/api/v1/properties",
    "/api/v1/properties/:id/reviews",
    "/api/v1/users/:id/reviews",
    "/api/v1/wishlists",
    "/api/v1/wishlists/:id/properties",
  ]);
  const cursors = [
    "garbage",
    "",
    forge({}),
    forge([]),
    forge("text"),
    ...HOSTILE_INSTANTS.map((at) => forge([at, ID])),
    forge(["2024-01-01T00:00:00.000Z", "not-a-uuid"]),
    forge(["2024-01-01T00:00:00.000Z", ID, "extra"]),
  ];
  // Search cursors carry the sort, its key and the id.
  const searchCursors = [
    ...["recommended", "price_asc", "price_desc", "rating"].flatMap((sort) =>
      HOSTILE_NUMBERS.map((v) => ({ sort, cursor: forge([sort, v, ID]) })),
    ),
    ...HOSTILE_INSTANTS.map((v) => ({ sort: "newest", cursor: forge(["newest", v, ID]) })),
    ...[1e300, 1e21, Number.MAX_VALUE].map((v) => ({
      sort: "distance&near=38.7,-9.1",
      cursor: forge(["distance", v, ID]),
    })),
    { sort: "price_asc", cursor: forge(["price_desc", 100, ID]) },
  ];
  const checks: { path: string; cursor: string }[] = [
    ...paginated.flatMap((path) =>
      cursors.filter(Boolean).map((cursor) => ({ path: path.replace(":id", ID), cursor })),
    ),
    ...searchCursors.map(({ sort, cursor }) => ({ path: `/api/v1/properties?sort=${sort}`, cursor })),
  ];
  for (const { path, cursor } of checks) {
    const url = `${path}${path.includes("?") ? "&" : "?"}cursor=${encodeURIComponent(cursor)}`;
    const res = await t.call("GET", url, { token: path.startsWith("/api/v1/admin/") ? adminToken : token });
    expect({ url, status: res.status, code: res.body.code }).toEqual({ url, status: 422, code: "invalid_cursor" });
  }
  expect(checks.length).toBeGreaterThan(60);
});

test("cursors we issued still page through", async () => {
  for (const path of [
    "/api/v1/hosts/me/properties?limit=1",
    "/api/v1/properties?limit=1&sort=newest",
    "/api/v1/properties?limit=1&sort=price_asc",
  ]) {
    const first = await t.call<{ nextCursor: string }>("GET", path, { token });
    expect(first.body.nextCursor).toBeString();
    const next = await t.call("GET", `${path}&cursor=${encodeURIComponent(first.body.nextCursor)}`, { token });
    expect(next.status, path).toBe(200);
  }
});
