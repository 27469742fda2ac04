// Input that cannot slip past its rules: JSON numbers only in bodies, every query bound enforced on
// every paginated route, each broken rule named, and a database rule that fires answered 409/422.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import postgres from "postgres";
import { httpFoundation } from "../../src/http/foundation";
import { createLogger } from "../../src/lib/log";
import { startTestApp, type TestApp } from "../support/app";
import { createListing, listing, registerHost } from "../support/properties";

let t: TestApp;
let host: Awaited<ReturnType<typeof registerHost>>;
beforeAll(async () => {
  t = await startTestApp();
  host = await registerHost(t.call);
}, 60_000);
afterAll(() => t?.close());

const api = (path: string) => `/api/v1${path}`;

describe("JSON bodies take numbers as JSON numbers only", () => {
  const numeric = {
    pricePerNight: "12000",
    cleaningFee: "0",
    maxGuests: "2",
    bedrooms: "1",
    beds: "1",
    bathrooms: "1",
    minNights: "1",
    maxNights: "3",
  };
  test.each(Object.entries(numeric))("%s as a string → 422 naming it", async (field, text) => {
    const res = await t.call("POST", api("/properties"), { token: host.accessToken, body: listing({ [field]: text }) });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe("validation_failed");
    expect(res.body.errors).toEqual([
      { path: `/${field}`, message: expect.stringMatching(/^must be an? (integer|number)/) },
    ]);
  });

  test('"maxGuests": "999" and "pricePerNight": "-5" are refused, not stored or 500', async () => {
    for (const body of [
      listing({ maxGuests: "999" }),
      listing({ pricePerNight: "-5" }),
      listing({ maxGuests: 999 }),
      listing({ pricePerNight: -5 }),
    ]) {
      const res = await t.call("POST", api("/properties"), { token: host.accessToken, body });
      expect(res.status).toBe(422);
    }
    const mine = await t.call<{ data: unknown[] }>("GET", api("/hosts/me/properties"), { token: host.accessToken });
    expect(mine.body.data).toHaveLength(0);
  });

  test("location and calendar numbers too; the message names the field and the rule", async () => {
    const res = await t.call("POST", api("/properties"), {
      token: host.accessToken,
      body: listing({ location: { lat: "1", lng: 2 } }),
    });
    expect(res.body.errors).toEqual([{ path: "/location/lat", message: "must be a number from -90 to 90" }]);
    expect(res.body.detail).toBe("Field /location/lat must be a number from -90 to 90");
    const p = await createListing(t.call, host);
    const cal = await t.call<{ errors: { path: string }[] }>("PUT", api(`/properties/${p.id}/calendar`), {
      token: host.accessToken,
      body: { from: "2030-01-01", to: "2030-01-03", price: "100" },
    });
    expect(cal.status).toBe(422);
    expect(cal.body.errors[0]?.path).toBe("/price");
  });
});

describe("query parameters: text coerced, every bound enforced", () => {
  const paginated = () => [
    { path: api("/properties"), token: undefined },
    { path: api("/hosts/me/properties"), token: host.accessToken },
    { path: api("/notifications"), token: host.accessToken },
  ];

  test("limit must be an integer from 1 to 100 on every paginated route", async () => {
    for (const { path, token } of paginated()) {
      for (const limit of ["0", "101", "1000", "-1", "1.5", "abc", "", "1e999"]) {
        const res = await t.call("GET", `${path}?limit=${encodeURIComponent(limit)}`, { token });
        expect(res.status, `${path} limit=${limit}`).toBe(422);
        expect(res.body.errors, `${path} limit=${limit}`).toEqual([
          { path: "/limit", message: "must be an integer from 1 to 100" },
        ]);
      }
      for (const limit of ["1", "100", "1e1"])
        expect((await t.call("GET", `${path}?limit=${limit}`, { token })).status, `${path} limit=${limit}`).toBe(200);
    }
  });

  test.each([
    ["guests=0", "/guests", "must be an integer from 1 to 50"],
    ["guests=51", "/guests", "must be an integer from 1 to 50"],
    ["minPrice=-1", "/minPrice", "must be an integer from 0 to 100000000"],
    ["maxPrice=1.5", "/maxPrice", "must be an integer from 0 to 100000000"],
    ["near=1,2&radiusKm=501", "/radiusKm", "must be a number greater than 0 and at most 500"],
    ["near=1,2&radiusKm=0", "/radiusKm", "must be a number greater than 0 and at most 500"],
    [
      "sort=cheapest",
      "/sort",
      'must be one of: "recommended", "price_asc", "price_desc", "rating", "newest", "distance"',
    ],
    ["checkIn=tomorrow&checkOut=2030-01-01", "/checkIn", "must be a calendar date, YYYY-MM-DD"],
  ])("search %s → 422 %s", async (query, path, message) => {
    const res = await t.call("GET", api(`/properties?${query}`));
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ path, message }]);
  });

  test("dates must be real calendar dates (found by the fuzz test: from=7760-64-92 was a 500)", async () => {
    const p = await createListing(t.call, host);
    for (const query of ["from=7760-64-92", "from=2027-02-30", "to=2027-13-01", "from=2027-1-1"]) {
      const res = await t.call("GET", api(`/properties/${p.id}/availability?${query}`));
      expect(res.status, query).toBe(422);
      expect(res.body.errors, query).toEqual([
        { path: `/${query.split("=")[0]}`, message: "must be a calendar date, YYYY-MM-DD" },
      ]);
    }
    const search = await t.call("GET", api("/properties?checkIn=2027-02-30&checkOut=2027-03-02"));
    expect(search.status).toBe(422);
    expect(search.body.errors).toEqual([{ path: "/checkIn", message: "must be a calendar date, YYYY-MM-DD" }]);
  });

  test("in-range values still search", async () => {
    expect(
      (await t.call("GET", api("/properties?guests=2&minPrice=0&maxPrice=50000&near=38.7,-9.1&radiusKm=12.5&limit=5")))
        .status,
    ).toBe(200);
  });
});

describe("text PostgreSQL cannot store is refused at the door, naming the field", () => {
  test("NUL in bodies and queries → 422 with the field's path (was a 500 from PostgreSQL)", async () => {
    const cases: [string, string, { body?: unknown; token?: string }, string][] = [
      [
        "POST",
        api("/auth/register"),
        { body: { email: "nul@example.com", password: "a long enough password", name: "a\u0000b" } },
        "/name",
      ],
      ["POST", api("/auth/login"), { body: { email: "x\u0000@example.com", password: "whatever it is" } }, "/email"],
      ["PATCH", api("/users/me"), { body: { bio: "\u0000" }, token: host.accessToken }, "/bio"],
      [
        "POST",
        api("/properties"),
        { body: listing({ description: "ok\u0000" }), token: host.accessToken },
        "/description",
      ],
      [
        "POST",
        api("/properties"),
        {
          body: listing({ photos: [{ url: "https://img.example.com/1.jpg", caption: "\u0000" }] }),
          token: host.accessToken,
        },
        "/photos/0/caption",
      ],
      ["GET", api("/properties?city=%00"), {}, "/city"],
      ["GET", api("/properties?amenities=wifi,%00"), {}, "/amenities"],
    ];
    for (const [method, path, options, field] of cases) {
      const res = await t.call(method, path, options);
      expect(res.status, `${method} ${path}`).toBe(422);
      expect(res.body.errors, `${method} ${path}`).toEqual([
        { path: field, message: "must not contain NUL characters or unpaired surrogates" },
      ]);
    }
  });

  test("an unpaired surrogate is refused too; paired ones (emoji) are fine", async () => {
    const lone = await t.call("POST", api("/auth/register"), {
      rawBody: '{"email":"s@example.com","password":"a long enough password","name":"\\ud800x"}',
      headers: { "content-type": "application/json" },
    });
    expect(lone.status).toBe(422);
    expect(lone.body.errors).toEqual([
      { path: "/name", message: "must not contain NUL characters or unpaired surrogates" },
    ]);
    const emoji = await t.call("POST", api("/auth/register"), {
      body: { email: "emoji@example.com", password: "a long enough password", name: "Ana 🏠" },
    });
    expect(emoji.status).toBe(201);
  });

  test("authentication still comes first, and what a route does not declare is not read", async () => {
    expect((await t.call("PATCH", api("/users/me"), { body: { bio: "\u0000" } })).status).toBe(401);
    expect(
      (await t.call("POST", api("/users/me/host"), { body: { ignored: "\u0000" }, token: host.accessToken })).status,
    ).toBe(200);
    expect((await t.call("GET", "/health?x=%00")).status).toBe(200);
  });

  test("HEAD is validated like GET (query text coerced the same way)", async () => {
    expect((await t.call("HEAD", api("/properties?limit=5"))).status).toBe(200);
    expect((await t.call("HEAD", api("/properties?limit=0"))).status).toBe(422);
  });
});

describe("a body must arrive whole in time", () => {
  test("a body trickled a byte at a time gets 408 request_timeout after BODY_TIMEOUT_MS, not a held connection", async () => {
    const slow = await startTestApp({ BODY_TIMEOUT_MS: "300" });
    try {
      let timer: Timer | undefined;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          const bytes = new TextEncoder().encode(
            '{"email":"slow@example.com","password":"a long enough password","name":"Slow"}',
          );
          let i = 0;
          timer = setInterval(() => {
            if (i < bytes.length) controller.enqueue(bytes.subarray(i, ++i));
            else {
              clearInterval(timer);
              controller.close();
            }
          }, 50);
        },
        cancel: () => clearInterval(timer),
      });
      const started = performance.now();
      const res = await slow.app.handle(
        new Request("http://localhost/api/v1/auth/register", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          duplex: "half",
        } as RequestInit),
      );
      expect(res.status).toBe(408);
      expect(((await res.json()) as { code: string }).code).toBe("request_timeout");
      expect(res.headers.get("connection")).toBe("close");
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      await slow.close();
    }
  });
});

describe("bodies are parsed under a depth limit", () => {
  test("deeper than 32 levels → 400 invalid_json, before any schema work; 32 levels still parse", async () => {
    for (const raw of ["[".repeat(10_000), '{"a":'.repeat(5_000), `{"email":${"[".repeat(33)}${"]".repeat(33)}}`]) {
      const res = await t.call("POST", api("/auth/register"), {
        rawBody: raw,
        headers: { "content-type": "application/json" },
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: "invalid_json", detail: "The body nests deeper than 32 levels" });
    }
    const deepButFine = await t.call("POST", api("/auth/register"), {
      rawBody: `{"email":${"[".repeat(31)}${"]".repeat(31)}}`,
      headers: { "content-type": "application/json" },
    });
    expect(deepButFine.status).toBe(422);
  });
});

describe("a dependency that is unreachable is a 503 with Retry-After, never a 500", () => {
  test("a refused database connection", async () => {
    const closed = postgres("postgres://postgres@127.0.0.1:1/nothing", {
      max: 1,
      connect_timeout: 2,
      onnotice: () => {},
    });
    const app = new Elysia({ normalize: false })
      .use(httpFoundation(createLogger("silent")))
      .get("/db", async () => await closed`select 1`);
    const res = await app.handle(new Request("http://localhost/db"));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("2");
    expect(((await res.json()) as { code: string }).code).toBe("unavailable");
    await closed.end();
  });
});

describe("a database rule that fires is a 409/422, never a 500", () => {
  test("check and unique violations raised by PostgreSQL itself", async () => {
    const app = new Elysia({ normalize: false })
      .use(httpFoundation(createLogger("silent")))
      .get("/check", () =>
        t.deps.database.raw.query(
          "insert into users (id, email, name, password_hash) values (gen_random_uuid(), 'UPPER@x.io', 'n', 'h')",
        ),
      )
      .get("/unique", async () => {
        await t.deps.database.raw.query(
          "insert into users (id, email, name, password_hash) values (gen_random_uuid(), 'twice@x.io', 'n', 'h')",
        );
        return t.deps.database.raw.query(
          "insert into users (id, email, name, password_hash) values (gen_random_uuid(), 'twice@x.io', 'n', 'h')",
        );
      });
    const check = await app.handle(new Request("http://localhost/check"));
    expect(check.status).toBe(422);
    const body = await check.json();
    expect(body).toMatchObject({ code: "validation_failed", detail: expect.stringContaining("users_email_check") });
    expect(JSON.stringify(body)).not.toContain("insert");
    const unique = await app.handle(new Request("http://localhost/unique"));
    expect(unique.status).toBe(409);
    expect(((await unique.json()) as { code: string }).code).toBe("conflict");
  });
});
