import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { registerUser, startTestApp, type TestApp } from "../support/app";
import { createListing, listing, registerHost } from "../support/properties";
import { databaseUrl } from "../support/services";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
}, 60_000);
afterAll(() => t?.close());

const api = (path: string) => `/api/v1${path}`;

describe("POST /properties", () => {
  test("a host lists a property: 201 with the whole Property", async () => {
    const host = await registerHost(t.call, "Hannah");
    const res = await t.call("POST", api("/properties"), { token: host.accessToken, body: listing() });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      hostId: host.id,
      host: { id: host.id, name: "Hannah", avatarUrl: null },
      title: "Sunny loft by the river",
      description: "Two rooms, a balcony and a view of the river.",
      propertyType: "apartment",
      address: { line1: "Rua Augusta 10", city: "Lisbon", postalCode: "1100-053", country: "PT" },
      location: { lat: 38.7107, lng: -9.1366 },
      pricePerNight: 12000,
      cleaningFee: 3000,
      currency: "EUR",
      maxGuests: 4,
      bedrooms: 2,
      beds: 2,
      bathrooms: 1.5,
      amenities: ["wifi", "kitchen"],
      photos: [
        { url: "https://img.example.com/1.jpg", caption: "Living room" },
        { url: "https://img.example.com/2.jpg" },
      ],
      minNights: 1,
      maxNights: 30,
      cancellationPolicy: "moderate",
      // No pricing rule set: none applies, and every guest is included in the nightly price.
      weekendPrice: null,
      weeklyDiscountPercent: 0,
      monthlyDiscountPercent: 0,
      guestsIncluded: 4,
      extraGuestFee: 0,
      instantBook: true,
      status: "listed",
      ratingAverage: null,
      reviewCount: 0,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  test("a guest who is not a host gets 403", async () => {
    const guest = await registerUser(t.call);
    const res = await t.call("POST", api("/properties"), { token: guest.accessToken, body: listing() });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("forbidden");
  });

  const bad: [string, Record<string, unknown>, string][] = [
    ["unknown country", { address: { line1: "a", city: "b", country: "XX" } }, "/address/country"],
    ["lower-case country", { address: { line1: "a", city: "b", country: "pt" } }, "/address/country"],
    ["latitude out of range", { location: { lat: 91, lng: 0 } }, "/location/lat"],
    ["longitude out of range", { location: { lat: 0, lng: -181 } }, "/location/lng"],
    ["negative price", { pricePerNight: -1 }, "/pricePerNight"],
    ["fractional price", { pricePerNight: 99.5 }, "/pricePerNight"],
    ["absurd price", { pricePerNight: 100_000_001 }, "/pricePerNight"],
    ["unknown currency", { currency: "ABC" }, "/currency"],
    ["minNights over maxNights", { minNights: 10, maxNights: 5 }, "/minNights"],
    ["http photo", { photos: [{ url: "http://img.example.com/1.jpg" }] }, "/photos/0/url"],
    [
      "too many photos",
      { photos: Array.from({ length: 51 }, (_, i) => ({ url: `https://img.example.com/${i}.jpg` })) },
      "/photos",
    ],
    ["duplicate amenities", { amenities: ["wifi", "wifi"] }, "/amenities"],
    ["long title", { title: "x".repeat(201) }, "/title"],
    ["blank title", { title: "   " }, "/title"],
    ["zero guests", { maxGuests: 0 }, "/maxGuests"],
    ["unknown type", { propertyType: "castle" }, "/propertyType"],
    ["unknown field", { hostId: "01a21001-1cb3-775a-ba4d-59603dabccf5" }, "/hostId"],
    ["rating smuggled in", { ratingAverage: 5 }, "/ratingAverage"],
    ["a weekly discount above 90 %", { weeklyDiscountPercent: 91 }, "/weeklyDiscountPercent"],
    ["a negative monthly discount", { monthlyDiscountPercent: -1 }, "/monthlyDiscountPercent"],
    ["a fractional discount", { weeklyDiscountPercent: 12.5 }, "/weeklyDiscountPercent"],
    ["a negative weekend price", { weekendPrice: -100 }, "/weekendPrice"],
    ["a negative extra-guest fee", { extraGuestFee: -1 }, "/extraGuestFee"],
    ["no guest included", { guestsIncluded: 0 }, "/guestsIncluded"],
    ["more guests included than the listing takes", { maxGuests: 4, guestsIncluded: 5 }, "/guestsIncluded"],
    ["instant booking that is not a boolean", { instantBook: "no" }, "/instantBook"],
  ];
  for (const [what, overrides, path] of bad) {
    test(`422 for ${what}`, async () => {
      const host = await registerHost(t.call);
      const res = await t.call("POST", api("/properties"), { token: host.accessToken, body: listing(overrides) });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe("validation_failed");
      expect((res.body.errors as { path: string }[]).map((e) => e.path)).toContain(path);
    });
  }
});

describe("GET /properties/:id", () => {
  test("anyone reads a listed property, with a strong ETag; If-None-Match → 304", async () => {
    const host = await registerHost(t.call);
    const p = await createListing(t.call, host);
    const res = await t.call("GET", api(`/properties/${p.id}`));
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(p.id);
    const etag = res.headers.get("etag");
    expect(etag).toMatch(/^"[^"]+"$/);
    const again = await t.call("GET", api(`/properties/${p.id}`), { headers: { "if-none-match": etag as string } });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
    expect(again.headers.get("etag")).toBe(etag);
    const other = await t.call("GET", api(`/properties/${p.id}`), { headers: { "if-none-match": '"something-else"' } });
    expect(other.status).toBe(200);
    // Weak comparison: W/"x" and * match too (RFC 9110).
    expect(
      (await t.call("GET", api(`/properties/${p.id}`), { headers: { "if-none-match": `"other", W/${etag}` } })).status,
    ).toBe(304);
    expect((await t.call("GET", api(`/properties/${p.id}`), { headers: { "if-none-match": "*" } })).status).toBe(304);
  });

  test("unknown and malformed ids → 404", async () => {
    expect((await t.call("GET", api("/properties/01a21001-1cb3-775a-ba4d-59603dabccf5"))).status).toBe(404);
    expect((await t.call("GET", api("/properties/nope"))).status).toBe(404);
  });

  test("an unlisted property is visible to its host only", async () => {
    const host = await registerHost(t.call);
    const p = await createListing(t.call, host);
    expect((await t.call("DELETE", api(`/properties/${p.id}`), { token: host.accessToken })).status).toBe(204);
    const stranger = await registerUser(t.call);
    expect((await t.call("GET", api(`/properties/${p.id}`))).status).toBe(404);
    expect((await t.call("GET", api(`/properties/${p.id}`), { token: stranger.accessToken })).status).toBe(404);
    const mine = await t.call("GET", api(`/properties/${p.id}`), { token: host.accessToken });
    expect(mine.status).toBe(200);
    expect(mine.body.status).toBe("unlisted");
  });
});

describe("PATCH /properties/:id", () => {
  test("pricing rules are patchable; null clears the weekend price and guestsIncluded; maxGuests below guestsIncluded → 422", async () => {
    const host = await registerHost(t.call);
    const p = await createListing(t.call, host, { maxGuests: 6, guestsIncluded: 4, weekendPrice: 20_000 });
    expect(p).toMatchObject({ guestsIncluded: 4, weekendPrice: 20_000 });
    const patch = (body: Record<string, unknown>) =>
      t.call("PATCH", api(`/properties/${p.id}`), { token: host.accessToken, body });
    const lower = await patch({ maxGuests: 3 });
    expect(lower.status).toBe(422);
    expect((lower.body.errors as { path: string }[]).map((e) => e.path)).toEqual(["/maxGuests"]);
    const both = await patch({ maxGuests: 3, guestsIncluded: 2, monthlyDiscountPercent: 25, extraGuestFee: 800 });
    expect(both.status).toBe(200);
    expect(both.body).toMatchObject({
      maxGuests: 3,
      guestsIncluded: 2,
      monthlyDiscountPercent: 25,
      extraGuestFee: 800,
    });
    const cleared = await patch({ weekendPrice: null, guestsIncluded: null });
    expect(cleared.status).toBe(200);
    // guestsIncluded cleared is every guest the listing takes, and follows maxGuests from then on.
    expect(cleared.body).toMatchObject({ weekendPrice: null, guestsIncluded: 3 });
    expect((await patch({ maxGuests: 5 })).body).toMatchObject({ guestsIncluded: 5 });
    expect((await t.call("GET", api(`/properties/${p.id}`))).body).toMatchObject({
      guestsIncluded: 5,
      weekendPrice: null,
    });
  });

  test("the host changes fields; address merges; the next read shows it (cache invalidated), with a new ETag", async () => {
    const host = await registerHost(t.call);
    const p = await createListing(t.call, host);
    const before = await t.call("GET", api(`/properties/${p.id}`));
    const res = await t.call("PATCH", api(`/properties/${p.id}`), {
      token: host.accessToken,
      body: {
        title: "Renamed loft",
        pricePerNight: 15000,
        address: { city: "Porto" },
        photos: [],
        amenities: ["wifi", "pool"],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      title: "Renamed loft",
      pricePerNight: 15000,
      photos: [],
      amenities: ["wifi", "pool"],
    });
    expect(res.body.address).toEqual({ line1: "Rua Augusta 10", city: "Porto", postalCode: "1100-053", country: "PT" });
    const after = await t.call("GET", api(`/properties/${p.id}`));
    expect(after.body.title).toBe("Renamed loft");
    expect(after.headers.get("etag")).not.toBe(before.headers.get("etag"));
    const stale = await t.call("GET", api(`/properties/${p.id}`), {
      headers: { "if-none-match": before.headers.get("etag") as string },
    });
    expect(stale.status).toBe(200);
  });

  test("a host's new name shows on their listings at once", async () => {
    const host = await registerHost(t.call, "Old Name");
    const p = await createListing(t.call, host);
    expect((await t.call("GET", api(`/properties/${p.id}`))).body.host).toMatchObject({ name: "Old Name" });
    await t.call("PATCH", api("/users/me"), { token: host.accessToken, body: { name: "New Name" } });
    expect((await t.call("GET", api(`/properties/${p.id}`))).body.host).toMatchObject({ name: "New Name" });
    const found = await t.call<{ data: { id: string; host: { name: string } }[] }>(
      "GET",
      api("/properties?q=sunny&limit=100"),
    );
    expect(found.body.data.find((d) => d.id === p.id)?.host.name).toBe("New Name");
  });

  test("another user gets 403 on a listed property, 404 on an unlisted one", async () => {
    const host = await registerHost(t.call);
    const p = await createListing(t.call, host);
    const other = await registerHost(t.call);
    const res = await t.call("PATCH", api(`/properties/${p.id}`), {
      token: other.accessToken,
      body: { title: "Mine now" },
    });
    expect(res.status).toBe(403);
    await t.call("DELETE", api(`/properties/${p.id}`), { token: host.accessToken });
    expect(
      (await t.call("PATCH", api(`/properties/${p.id}`), { token: other.accessToken, body: { title: "Mine now" } }))
        .status,
    ).toBe(404);
    expect((await t.call("GET", api(`/properties/${p.id}`), { token: host.accessToken })).body.title).toBe(
      "Sunny loft by the river",
    );
  });

  test("minNights over the stored maxNights → 422; relisting with status", async () => {
    const host = await registerHost(t.call);
    const p = await createListing(t.call, host, { maxNights: 10 });
    expect(
      (await t.call("PATCH", api(`/properties/${p.id}`), { token: host.accessToken, body: { minNights: 11 } })).status,
    ).toBe(422);
    await t.call("DELETE", api(`/properties/${p.id}`), { token: host.accessToken });
    const relisted = await t.call("PATCH", api(`/properties/${p.id}`), {
      token: host.accessToken,
      body: { status: "listed" },
    });
    expect(relisted.body.status).toBe("listed");
    expect((await t.call("GET", api(`/properties/${p.id}`))).status).toBe(200);
  });

  test("under concurrent readers, a read after the write returns never shows the old value", async () => {
    const host = await registerHost(t.call);
    const p = await createListing(t.call, host);
    let running = true;
    const readers = Array.from({ length: 4 }, async () => {
      while (running) {
        await t.call("GET", api(`/properties/${p.id}`));
        // A hit held in memory completes without I/O: let the writer's queries run, as sockets would.
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
    try {
      for (let i = 0; i < 15; i++) {
        const w = await t.call("PATCH", api(`/properties/${p.id}`), {
          token: host.accessToken,
          body: { title: `Version ${i}` },
        });
        expect(w.status).toBe(200);
        const r = await t.call("GET", api(`/properties/${p.id}`));
        expect(r.body.title).toBe(`Version ${i}`);
      }
    } finally {
      running = false;
      await Promise.all(readers);
    }
  });
});

describe.if(Boolean(databaseUrl))("PATCH /properties/:id against a suspension (real PostgreSQL)", () => {
  // A suspension (and an account deletion) locks the user's row, then their listings. A host's
  // change must take the same order — the host's row first, the listing after — or the two wait
  // on each other in a circle and PostgreSQL aborts one (40P01: the PATCH answered 409 conflict).
  test("the host's row is locked before the listing: a suspension holding the row never deadlocks with it", async () => {
    const host = await registerHost(t.call);
    const p = await createListing(t.call, host);
    const sql = postgres(t.deps.config.databaseUrl as string, { max: 2, onnotice: () => {} });
    try {
      let patch: Promise<{ status: number; body: { title?: string } }> | undefined;
      // The suspension's order, by hand: the user's row, then (once the PATCH waits) the listings.
      await sql.begin(async (tx) => {
        await tx`select 1 from users where id = ${host.id} for update`;
        patch = t.call("PATCH", api(`/properties/${p.id}`), { token: host.accessToken, body: { title: "Renamed" } });
        for (let waited = 0; ; waited += 10) {
          const [w] = await sql`select count(*)::int as n from pg_locks where not granted`;
          if ((w?.n ?? 0) > 0) break;
          if (waited > 5_000) throw new Error("the PATCH never waited for the host's row");
          await Bun.sleep(10);
        }
        // Waiting for the host's row, the PATCH holds nothing of the listings yet.
        const [held] = await sql`select count(*)::int as n from pg_locks where relation = 'properties'::regclass`;
        expect(held?.n).toBe(0);
        await tx`update properties set updated_at = now() where host_id = ${host.id}`;
      });
      const res = await (patch as Promise<{ status: number; body: { title?: string } }>);
      expect(res.status).toBe(200);
      expect(res.body.title).toBe("Renamed");
    } finally {
      await sql.end();
    }
  });
});

describe("DELETE /properties/:id", () => {
  test("refused (409 invalid_state) while a confirmed stay lies ahead; allowed once it is past", async () => {
    const host = await registerHost(t.call);
    const guest = await registerUser(t.call);
    const p = await createListing(t.call, host);
    await t.call("POST", api("/_test/clock"), { body: { now: "2031-01-10T12:00:00Z" } });
    try {
      await t.deps.database.raw.query(
        `insert into bookings (id, property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total, cleaning_fee, service_fee, total, currency, expires_at)
         values ($1, $2, $3, '2031-02-01', '2031-02-03', 2, 'confirmed', 2, 24000, 3000, 2700, 29700, 'EUR', now())`,
        [Bun.randomUUIDv7(), p.id, guest.id],
      );
      const refused = await t.call("DELETE", api(`/properties/${p.id}`), { token: host.accessToken });
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe("invalid_state");
      await t.call("POST", api("/_test/clock"), { body: { now: "2031-02-05T12:00:00Z" } });
      expect((await t.call("DELETE", api(`/properties/${p.id}`), { token: host.accessToken })).status).toBe(204);
    } finally {
      await t.call("DELETE", api("/_test/clock"));
    }
  });

  test("PATCH status: unlisted is refused the same way while a confirmed stay lies ahead", async () => {
    const host = await registerHost(t.call);
    const guest = await registerUser(t.call);
    const p = await createListing(t.call, host);
    await t.deps.database.raw.query(
      `insert into bookings (id, property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total, cleaning_fee, service_fee, total, currency, expires_at)
       values ($1, $2, $3, '2099-02-01', '2099-02-03', 2, 'confirmed', 2, 24000, 3000, 2700, 29700, 'EUR', now())`,
      [Bun.randomUUIDv7(), p.id, guest.id],
    );
    const res = await t.call("PATCH", api(`/properties/${p.id}`), {
      token: host.accessToken,
      body: { status: "unlisted" },
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("invalid_state");
    expect((await t.call("GET", api(`/properties/${p.id}`))).body.status).toBe("listed");
  });

  test("only the host: others 403 (listed)", async () => {
    const host = await registerHost(t.call);
    const p = await createListing(t.call, host);
    const other = await registerUser(t.call);
    expect((await t.call("DELETE", api(`/properties/${p.id}`), { token: other.accessToken })).status).toBe(403);
  });
});

describe("GET /hosts/me/properties", () => {
  test("the caller's listings, unlisted included, newest first, paginated", async () => {
    const host = await registerHost(t.call);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createListing(t.call, host, { title: `Place ${i}` })).id);
    await t.call("DELETE", api(`/properties/${ids[0]}`), { token: host.accessToken });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { data: { id: string }[]; nextCursor: string | null } } = await t.call(
        "GET",
        api(`/hosts/me/properties?limit=2${cursor ? `&cursor=${cursor}` : ""}`),
        {
          token: host.accessToken,
        },
      );
      seen.push(...res.body.data.map((d) => d.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  test("non-hosts get 403; a broken or tampered cursor 422, never 500", async () => {
    const guest = await registerUser(t.call);
    expect((await t.call("GET", api("/hosts/me/properties"), { token: guest.accessToken })).status).toBe(403);
    const host = await registerHost(t.call);
    const forge = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    for (const cursor of [
      "garbage",
      forge(["2024-01-01T00:00:00.000Z", "not-a-uuid"]),
      forge(["+275760-09-13T00:00:00.000Z", "01a21001-1cb3-775a-ba4d-59603dabccf5"]),
      forge(["2024", "01a21001-1cb3-775a-ba4d-59603dabccf5"]),
    ]) {
      const res = await t.call("GET", api(`/hosts/me/properties?cursor=${cursor}`), { token: host.accessToken });
      expect({ cursor, status: res.status }).toEqual({ cursor, status: 422 });
    }
  });
});
