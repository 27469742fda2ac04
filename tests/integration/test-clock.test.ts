// The test clock refuses impossible instants, and at either end of its range every route stays total.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestApp, type TestApp } from "../support/app";
import { createListing, registerHost } from "../support/properties";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
}, 60_000);
afterAll(async () => {
  await t?.call("DELETE", "/api/v1/_test/clock");
  await t?.close();
});

const setClock = (now: unknown) => t.call("POST", "/api/v1/_test/clock", { body: { now } });

test("impossible or out-of-range instants are 422 naming /now", async () => {
  for (const now of [
    "2027-02-30T00:00:00Z",
    "2027-13-01T00:00:00Z",
    "2027-01-01T24:00:00Z",
    "0000-01-01T00:00:00Z",
    "+275760-09-13T00:00:00Z",
    "1999-12-31T23:59:59Z",
    "3000-01-01T00:00:00Z",
    "tomorrow",
    1_700_000_000,
  ]) {
    const res = await setClock(now);
    expect({ now, status: res.status, path: (res.body.errors as { path: string }[] | undefined)?.[0]?.path }).toEqual({
      now,
      status: 422,
      path: "/now",
    });
  }
  expect((await setClock("2027-02-28T12:00:00+02:00")).status).toBe(200);
});

test("at either end of the clock's range every GET route answers without a 5xx", async () => {
  const host = await registerHost(t.call);
  const property = await createListing(t.call, host);
  const gets = t.app.routes
    .filter((r) => r.method === "GET" && r.path.startsWith("/api/v1/"))
    .map((r) => r.path.replace(":id", property.id));
  expect(gets.length).toBeGreaterThan(8);
  for (const now of ["2000-01-01T00:00:00.000Z", "2999-12-31T23:59:59.999Z"]) {
    expect((await setClock(now)).status).toBe(200);
    const today = now.slice(0, 10);
    for (const path of [
      ...gets,
      `/api/v1/properties?checkIn=${today}&checkOut=2999-12-31`,
      `/api/v1/properties/${property.id}/availability?from=${today}`,
    ]) {
      const res = await t.call("GET", path, { token: host.accessToken });
      expect({ now, path, status: res.status < 500 }).toEqual({ now, path, status: true });
    }
  }
});
