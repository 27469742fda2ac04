// GET /api/v1/properties/:id over a real socket, where Bun's native route answers it before
// Elysia (see fastRoute): the same answers as the Elysia route, the same request ids, logs and
// metrics, and every other method on the path still Elysia's.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestApp, type TestApp } from "../support/app";
import { createListing, registerHost } from "../support/properties";

let t: TestApp;
let base: string;
let peeks = 0;
beforeAll(async () => {
  t = await startTestApp();
  // Only the native route peeks at memory: counting peeks proves which path answered.
  const cache = t.deps.cache;
  const peek = cache.peek?.bind(cache);
  if (!peek) throw new Error("the configured cache cannot peek");
  cache.peek = (ns, key) => {
    peeks++;
    return peek(ns, key);
  };
  t.app.listen({ port: 0, hostname: "127.0.0.1" });
  base = `http://127.0.0.1:${t.app.server?.port}/api/v1`;
}, 60_000);
afterAll(() => t?.close());

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });

test("a listed property: 200, the same document and ETag as through Elysia, a request id; then 304", async () => {
  const host = await registerHost(t.call);
  const p = await createListing(t.call, host);
  const viaElysia = await t.call("GET", `/api/v1/properties/${p.id}`);
  const before = peeks;
  const first = await get(`/properties/${p.id}`, { "x-request-id": "trace-123" });
  expect(first.status).toBe(200);
  expect(first.headers.get("x-request-id")).toBe("trace-123");
  expect(first.headers.get("content-type")).toBe("application/json;charset=utf-8");
  expect(first.headers.get("etag")).toBe(viaElysia.headers.get("etag"));
  for (const name of ["cache-control", "x-content-type-options"])
    expect(first.headers.get(name)).toBe(viaElysia.headers.get(name) as string);
  expect(await first.text()).toBe(viaElysia.text);
  const again = await get(`/properties/${p.id}`);
  expect(again.status).toBe(200);
  expect(again.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  expect(peeks).toBeGreaterThan(before);
  const notModified = await get(`/properties/${p.id}`, { "if-none-match": first.headers.get("etag") as string });
  expect(notModified.status).toBe(304);
  expect(notModified.headers.get("x-request-id")).toBeTruthy();
  expect(await notModified.text()).toBe("");
});

test("a PATCH on the same path is Elysia's, and the next native read shows it", async () => {
  const host = await registerHost(t.call);
  const p = await createListing(t.call, host);
  expect((await get(`/properties/${p.id}`)).status).toBe(200); // now held in memory
  const patched = await fetch(`${base}/properties/${p.id}`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${host.accessToken}`, "content-type": "application/json" },
    body: JSON.stringify({ title: "Renamed over the wire" }),
  });
  expect(patched.status).toBe(200);
  expect(((await (await get(`/properties/${p.id}`)).json()) as { title: string }).title).toBe("Renamed over the wire");
  const noToken = await fetch(`${base}/properties/${p.id}`, { method: "DELETE" });
  expect(noToken.status).toBe(401);
});

test("unlisted: 404 problem+json with the request id to others, 200 to its host", async () => {
  const host = await registerHost(t.call);
  const p = await createListing(t.call, host);
  expect((await get(`/properties/${p.id}`)).status).toBe(200);
  expect((await t.call("DELETE", `/api/v1/properties/${p.id}`, { token: host.accessToken })).status).toBe(204);
  const anon = await get(`/properties/${p.id}`, { "x-request-id": "trace-404" });
  expect(anon.status).toBe(404);
  expect(anon.headers.get("content-type")).toBe("application/problem+json");
  expect(anon.headers.get("x-request-id")).toBe("trace-404");
  expect(await anon.json()).toMatchObject({ status: 404, code: "not_found", requestId: "trace-404" });
  const stranger = await registerHost(t.call, "Someone Else");
  expect((await get(`/properties/${p.id}`, { authorization: `Bearer ${stranger.accessToken}` })).status).toBe(404);
  const own = await get(`/properties/${p.id}`, { authorization: `Bearer ${host.accessToken}` });
  expect(own.status).toBe(200);
  expect(((await own.json()) as { status: string }).status).toBe("unlisted");
});

test("unknown and malformed ids: 404 problem+json with a request id", async () => {
  for (const id of ["01a21057-5037-709c-9777-0932e7b4bc42", "not-a-uuid"]) {
    const res = await get(`/properties/${id}`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const requestId = res.headers.get("x-request-id");
    expect(requestId).toBeTruthy();
    expect(((await res.json()) as { requestId: string }).requestId).toBe(requestId as string);
  }
});

test("natively answered requests are counted in /metrics like any other", async () => {
  const host = await registerHost(t.call);
  const p = await createListing(t.call, host);
  const count = async () => {
    const text = await (await fetch(`${base.replace("/api/v1", "")}/metrics`)).text();
    const line = text
      .split("\n")
      .find((l) =>
        l.startsWith('stayhub_http_requests_total{method="GET",route="/api/v1/properties/:id",status="200"}'),
      );
    return Number(line?.split(" ").pop() ?? 0);
  };
  const before = await count();
  for (let i = 0; i < 5; i++) await get(`/properties/${p.id}`);
  expect(await count()).toBe(before + 5);
});

test("an unexpected failure is answered 500 once, with the request id, and not run again through Elysia", async () => {
  const host = await registerHost(t.call);
  const p = await createListing(t.call, host);
  const cache = t.deps.cache;
  const realGet = cache.get.bind(cache);
  let calls = 0;
  cache.get = async () => {
    calls++;
    throw new Error("cache exploded");
  };
  try {
    const res = await get(`/properties/${p.id}`); // never read yet: not held in memory, so the read goes to the cache
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const body = (await res.json()) as { code: string; requestId: string; detail: string };
    expect(body.code).toBe("internal");
    expect(body.requestId).toBe(res.headers.get("x-request-id") as string);
    expect(JSON.stringify(body)).not.toContain("exploded");
    expect(calls).toBe(1);
  } finally {
    cache.get = realGet;
  }
});

test("an uppercase spelling of an id reads the same entry, and sees writes at once", async () => {
  const host = await registerHost(t.call);
  const p = await createListing(t.call, host);
  const upper = p.id.toUpperCase();
  expect((await get(`/properties/${upper}`)).status).toBe(200);
  expect((await t.call("GET", `/api/v1/properties/${upper}`)).status).toBe(200);
  await t.call("PATCH", `/api/v1/properties/${p.id}`, { token: host.accessToken, body: { title: "Seen in any case" } });
  expect(((await (await get(`/properties/${upper}`)).json()) as { title: string }).title).toBe("Seen in any case");
  expect((await t.call<{ title: string }>("GET", `/api/v1/properties/${upper}`)).body.title).toBe("Seen in any case");
});
