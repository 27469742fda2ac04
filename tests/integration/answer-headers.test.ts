// Headers every answer carries, from both pipelines (Elysia's and the Bun-native routes): nosniff
// on everything (stored user text is served as JSON), no-store on whatever answers a request with
// credentials, and GraphiQL under a Content-Security-Policy that lets its own scripts alone run.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestApp, type TestApp } from "../support/app";
import { createListing, registerHost } from "../support/properties";

let t: TestApp;
let origin: string;
let host: Awaited<ReturnType<typeof registerHost>>;
let propertyId: string;
beforeAll(async () => {
  t = await startTestApp();
  t.app.listen({ port: 0, hostname: "127.0.0.1" });
  origin = `http://127.0.0.1:${t.app.server?.port}`;
  host = await registerHost(t.call);
  propertyId = (await createListing(t.call, host)).id;
}, 60_000);
afterAll(() => t?.close());

const bearer = () => ({ authorization: `Bearer ${host.accessToken}` });
const graphql = (query: string, headers: Record<string, string> = {}, body?: string) =>
  fetch(`${origin}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: body ?? JSON.stringify({ query }),
  });

function expectPublic(res: Response, what: string) {
  expect({ what, nosniff: res.headers.get("x-content-type-options") }).toEqual({ what, nosniff: "nosniff" });
  expect({ what, cache: res.headers.get("cache-control") }).not.toEqual({ what, cache: "no-store" });
}
function expectPrivate(res: Response, what: string) {
  expect({ what, nosniff: res.headers.get("x-content-type-options"), cache: res.headers.get("cache-control") }).toEqual(
    { what, nosniff: "nosniff", cache: "no-store" },
  );
}

describe("through Elysia (app.handle) and over the socket", () => {
  test("public answers: nosniff, and their own caching (the property keeps its ETag and no-cache)", async () => {
    const cases: [string, Promise<Response>][] = [
      ["health", fetch(`${origin}/health`)],
      ["search", fetch(`${origin}/api/v1/properties?city=Lisbon`)],
      ["reviews", fetch(`${origin}/api/v1/properties/${propertyId}/reviews`)],
      ["property (native)", fetch(`${origin}/api/v1/properties/${propertyId}`)],
      ["unknown route", fetch(`${origin}/api/v1/nothing-here`)],
      ["bad query", fetch(`${origin}/api/v1/properties?guests=zero`)],
      [
        "bad JSON",
        fetch(`${origin}/api/v1/auth/login`, {
          method: "POST",
          body: "{",
          headers: { "content-type": "application/json" },
        }),
      ],
      ["graphql (native)", graphql("{ properties(first: 1) { edges { cursor } } }")],
      ["graphql bad JSON (native)", graphql("", {}, "{")],
    ];
    for (const [what, answer] of cases) expectPublic(await answer, what);
    const property = await fetch(`${origin}/api/v1/properties/${propertyId}`);
    expect(property.headers.get("cache-control")).toBe("no-cache");
    expect(property.headers.get("etag")).toBeTruthy();
    const viaElysia = await t.app.handle(new Request(`http://localhost/api/v1/properties/${propertyId}`));
    expectPublic(viaElysia, "property (Elysia)");
    expect(viaElysia.headers.get("cache-control")).toBe("no-cache");
  });

  test("answers to a request with a bearer token: no-store, errors and 304s included", async () => {
    const etag = (await fetch(`${origin}/api/v1/properties/${propertyId}`)).headers.get("etag") as string;
    const cases: [string, Promise<Response>][] = [
      ["users/me", fetch(`${origin}/api/v1/users/me`, { headers: bearer() })],
      ["search with a token", fetch(`${origin}/api/v1/properties?city=Lisbon`, { headers: bearer() })],
      ["property (native)", fetch(`${origin}/api/v1/properties/${propertyId}`, { headers: bearer() })],
      [
        "property 304 (native)",
        fetch(`${origin}/api/v1/properties/${propertyId}`, { headers: { ...bearer(), "if-none-match": etag } }),
      ],
      ["a bad token", fetch(`${origin}/api/v1/users/me`, { headers: { authorization: "Bearer nope" } })],
      [
        "someone else's booking",
        fetch(`${origin}/api/v1/bookings/01a21057-5037-709c-9777-0932e7b4bc42`, { headers: bearer() }),
      ],
      ["a 422", fetch(`${origin}/api/v1/bookings?as=nobody`, { headers: bearer() })],
      ["graphql (native)", graphql("{ me { id } }", bearer())],
      ["graphql bad JSON (native)", graphql("", bearer(), "{")],
      // The docs UI's answers set their own caching: a request with credentials still gets no-store.
      ["swagger", fetch(`${origin}/swagger`, { headers: bearer() })],
      ["swagger/", fetch(`${origin}/swagger/`, { headers: bearer() })],
      ["swagger/json", fetch(`${origin}/swagger/json`, { headers: bearer() })],
      ["swagger init.js", fetch(`${origin}/swagger/assets/init.js`, { headers: bearer() })],
      ["swagger asset", fetch(`${origin}/swagger/assets/swagger-ui.css`, { headers: bearer() })],
    ];
    for (const [what, answer] of cases) expectPrivate(await answer, what);
    const viaElysia = await t.app.handle(
      new Request(`http://localhost/api/v1/properties/${propertyId}`, { headers: bearer() }),
    );
    expectPrivate(viaElysia, "property (Elysia)");
    const gqlViaElysia = await t.app.handle(
      new Request("http://localhost/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", ...bearer() },
        body: JSON.stringify({ query: "{ me { id } }" }),
      }),
    );
    expectPrivate(gqlViaElysia, "graphql (Elysia)");
  });
});

test("GraphiQL: a CSP whose script hashes are exactly the page's inline scripts, nothing from elsewhere", async () => {
  const res = await fetch(`${origin}/graphql`, { headers: { accept: "text/html" } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("text/html");
  expectPublic(res, "graphiql");
  const csp = res.headers.get("content-security-policy") ?? "";
  const html = await res.text();
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(
    (m) => `'sha256-${new Bun.CryptoHasher("sha256").update(m[1] ?? "").digest("base64")}'`,
  );
  expect(scripts.length).toBeGreaterThan(0);
  expect(html).not.toMatch(/<script[^>]+src=/);
  const directives = Object.fromEntries(csp.split(/;\s*/).map((d) => [d.split(" ")[0], d.split(" ").slice(1)]));
  expect(directives["default-src"]).toEqual(["'none'"]);
  expect(directives["script-src"]?.toSorted()).toEqual(scripts.toSorted());
  expect(directives["connect-src"]).toEqual(["'self'"]);
  expect(directives["frame-ancestors"]).toEqual(["'none'"]);
  // The same page and policy the second time (rendered and hashed once).
  const again = await fetch(`${origin}/graphql`, { headers: { accept: "text/html" } });
  expect(again.headers.get("content-security-policy")).toBe(csp);
  await again.text();
  // Not on GraphQL's JSON answers.
  expect((await graphql("{ __typename }")).headers.get("content-security-policy")).toBeNull();
});
