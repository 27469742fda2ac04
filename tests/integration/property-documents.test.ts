// property_documents (drizzle/0007_property_documents.sql) is exact and never left behind:
// 1. `body` is byte for byte the contract's Property (API.md) computed from the inputs: compact
//    JSON, contract key order, optional keys absent when null, ISO timestamps; `card` is the same
//    with its first photo only; the rating aggregates re-render it.
// 2. Every write path (PATCH, photos, unlisting, a host's name/avatar) re-renders exactly the
//    affected documents, and GET /properties/:id, search and /hosts/me/properties show it.
// 3. On real PostgreSQL, overlapping transactions on one property never leave its document behind
//    (this relies on the row lock in stayhub_refresh_property_documents: without it, it fails).
// 4. Statements matching no rows, photo-less properties and cascading deletes are harmless.
// After every test, every property has a document equal to a fresh render.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { type Registered, startTestApp, type TestApp } from "../support/app";
import { createListing, listing, registerHost } from "../support/properties";
import { databaseUrl } from "../support/services";

let t: TestApp;
let pool: postgres.Sql | undefined; // other connections to this file's database (PostgreSQL only)
const AT = "2031-04-05T06:07:08.789Z";
beforeAll(async () => {
  t = await startTestApp();
  await t.call("POST", "/api/v1/_test/clock", { body: { now: AT } });
}, 60_000);
afterAll(async () => {
  await pool?.end();
  await t?.call("DELETE", "/api/v1/_test/clock");
  await t?.close();
});

const pg = () => (pool ??= postgres(t.deps.config.databaseUrl as string, { max: 10, onnotice: () => {} }));
const api = (path: string) => `/api/v1${path}`;
const q = <T extends Record<string, unknown> = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  t.deps.database.raw.query<T>(text, params);
type Doc = { status: string; host_id: string; body: string; card: string };
const doc = async (id: string) =>
  (await q<Doc>("select status, host_id, body, card from property_documents where property_id = $1", [id]))[0] as Doc;
const allDocs = async () =>
  Object.fromEntries(
    (await q<Doc & { property_id: string }>("select * from property_documents")).map((d) => [d.property_id, d.body]),
  );

/** Properties whose document is missing or differs from a fresh render (must always be none). */
const STALE = `select p.id from properties p left join property_documents d on d.property_id = p.id
  where d.property_id is null or d.status <> p.status or d.host_id <> p.host_id
     or d.body <> stayhub_property_json(p.id, null) or d.card <> stayhub_property_json(p.id, 1)`;
afterEach(async () => {
  expect(await q(STALE)).toEqual([]);
  const [all] = await q<{ ok: boolean }>(
    "select coalesce(bool_and(body = stayhub_property_json(property_id, null) and card = stayhub_property_json(property_id, 1)), true) as ok from property_documents",
  );
  expect(all?.ok).toBe(true);
});

type Input = ReturnType<typeof listing> & {
  address: Record<string, string>;
  photos: { url: string; caption?: string }[];
};
/** The Property the contract promises for this input, in the contract's key order. */
function expected(id: string, host: { id: string; name: string; avatarUrl: string | null }, input: Input) {
  const a = input.address;
  return {
    id,
    hostId: host.id,
    host: { id: host.id, name: host.name, avatarUrl: host.avatarUrl },
    title: (input.title as string).trim(),
    description: input.description,
    propertyType: input.propertyType,
    address: {
      line1: a.line1,
      city: a.city,
      ...(a.region != null && { region: a.region }),
      ...(a.postalCode != null && { postalCode: a.postalCode }),
      country: a.country,
    },
    location: input.location,
    pricePerNight: input.pricePerNight,
    cleaningFee: input.cleaningFee,
    currency: input.currency,
    maxGuests: input.maxGuests,
    bedrooms: input.bedrooms,
    beds: input.beds,
    bathrooms: input.bathrooms,
    amenities: input.amenities,
    photos: input.photos.map((p) => ({ url: p.url, ...(p.caption != null && { caption: p.caption }) })),
    minNights: input.minNights,
    maxNights: input.maxNights,
    cancellationPolicy: input.cancellationPolicy,
    // The pricing rules ("Property gains"), after the contract's own fields; unset, none applies.
    weekendPrice: (input.weekendPrice as number | undefined) ?? null,
    weeklyDiscountPercent: (input.weeklyDiscountPercent as number | undefined) ?? 0,
    monthlyDiscountPercent: (input.monthlyDiscountPercent as number | undefined) ?? 0,
    guestsIncluded: (input.guestsIncluded as number | undefined) ?? input.maxGuests,
    extraGuestFee: (input.extraGuestFee as number | undefined) ?? 0,
    instantBook: true,
    status: "listed",
    ratingAverage: null as number | null,
    reviewCount: 0,
    createdAt: AT,
    updatedAt: AT,
  };
}
const cardOf = (e: { photos: unknown[] }) => ({ ...e, photos: e.photos.slice(0, 1) });
const search = async (word: string) =>
  (await t.call<{ data: { id: string }[] }>("GET", api(`/properties?q=${word}&limit=100`))).body.data;

describe("rendering", () => {
  test("body is exactly the contract's Property, compact, in contract order; card keeps the first photo", async () => {
    const name = `Zoë "Z" O'Neil \\ 🏠`;
    const avatarUrl = "https://img.example.com/avatars/zoe.png?s=64&v=2";
    const host = await registerHost(t.call, name);
    expect((await t.call("PATCH", api("/users/me"), { token: host.accessToken, body: { avatarUrl } })).status).toBe(
      200,
    );
    const input = listing({
      title: `  "Quoted" \\ back\\slash — café ☕ 🏖️ tab\there ctl\u0001\u001f end  `,
      description: "Line one\nLine two\r\n\u2028 </script>",
      address: {
        line1: 'Rua "Augusta" 10',
        city: "Lisboa",
        region: "Lisboa 🌍",
        postalCode: "1100-053",
        country: "PT",
      },
      // biome-ignore lint/correctness/noPrecisionLoss: more digits than a double holds, on purpose: rendering must match JavaScript's
      location: { lat: 38.71071234567891, lng: -9.136612345678912 },
      bathrooms: 2.5,
      weekendPrice: 15_000,
      monthlyDiscountPercent: 20,
      guestsIncluded: 2,
      extraGuestFee: 1_250,
      amenities: ["wifi", "kitchen", "free_parking"],
      photos: [
        { url: "https://img.example.com/1.jpg", caption: 'Living "room" \\ 🛋️' },
        { url: "https://img.example.com/2.jpg" },
      ],
    }) as Input;
    const created = await t.call<{ id: string }>("POST", api("/properties"), { token: host.accessToken, body: input });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const want = expected(id, { id: host.id, name, avatarUrl }, input);

    const d = await doc(id);
    expect(JSON.parse(d.body)).toStrictEqual(want);
    expect(d.body).toBe(JSON.stringify(want)); // same bytes: compact, same key order, same escapes
    expect(d.body).toBe(JSON.stringify(JSON.parse(d.body)));
    expect(JSON.parse(d.card)).toStrictEqual(cardOf(want));
    expect(d.card).toBe(JSON.stringify(cardOf(want)));
    expect(d).toMatchObject({ status: "listed", host_id: host.id });
    expect(JSON.parse(d.body).createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(created.body).toStrictEqual(want); // the POST answer is the document

    // The rating aggregates live on the property row: an UPDATE of it must re-render.
    // [rating_sum, review_count, ratingAverage]: two decimals, half up (2.625 → 2.63).
    for (const [sum, count, ratingAverage] of [
      [14, 3, 4.67],
      [9, 2, 4.5],
      [21, 8, 2.63],
      [5, 1, 5],
      [0, 0, null],
    ] as const) {
      await q("update properties set rating_sum = $2, review_count = $3 where id = $1", [id, sum, count]);
      expect((await doc(id)).body).toBe(JSON.stringify({ ...want, ratingAverage, reviewCount: count }));
    }
  });

  test("optional keys are absent when null: no region, no postalCode, a photo without caption", async () => {
    const host = await registerHost(t.call, "Plain Host");
    const input = listing({
      address: { line1: "1 Main St", city: "Porto", country: "PT" },
      photos: [{ url: "https://img.example.com/only.jpg" }],
    }) as Input;
    const p = await createListing(t.call, host, input);
    const d = await doc(p.id);
    expect(d.body).toBe(JSON.stringify(expected(p.id, { id: host.id, name: "Plain Host", avatarUrl: null }, input)));
    const body = JSON.parse(d.body);
    expect(Object.keys(body.address)).toEqual(["line1", "city", "country"]);
    expect(Object.keys(body.photos[0])).toEqual(["url"]);
    expect(d.body).not.toMatch(/"(region|postalCode|caption)"|null,"country"/);
    expect(d.card).toBe(d.body); // one photo: the card is the whole thing
  });
  test("floats print as JavaScript prints them, near zero too (PostgreSQL would write 1e-05 and -0)", async () => {
    const host = await registerHost(t.call, "Equator Host");
    const cases: [number, number, number][] = [
      [0.00001, -0.0000001, 1.5],
      [-0, 0.000123456789, 2],
      [1e-7, -179.99999999999997, 0.5],
    ];
    for (const [lat, lng, bathrooms] of cases) {
      const input = listing({ location: { lat, lng }, bathrooms }) as Input;
      const p = await createListing(t.call, host, input);
      const d = await doc(p.id);
      expect(d.body).toBe(
        JSON.stringify(expected(p.id, { id: host.id, name: "Equator Host", avatarUrl: null }, input)),
      );
      // What GET sends (the stored text) and what POST sent (Elysia's serialisation) agree byte for byte.
      expect(d.body).toBe(JSON.stringify(p));
    }
    // What JSON has no number for, JavaScript writes as null; so does the renderer (not an error).
    const special = await q<{ t: string }>(
      "select string_agg(stayhub_json_number(x)::text, ',') as t from unnest(array['NaN', 'Infinity', '-Infinity', '1e21', '-1.5e-7']::float8[]) x",
    );
    expect(special[0]?.t).toBe(
      [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e21, -1.5e-7]
        .map((x) => JSON.stringify(x))
        .join(","),
    );
  });
});

describe("propagation", () => {
  test("PATCH, photos replaced and emptied, host name/avatar, unlisting: documents, GET, search and host list follow", async () => {
    const word = `zq${Math.random().toString(36).slice(2, 8)}`;
    const a = await registerHost(t.call, "Host A");
    const b = await registerHost(t.call, "Host B");
    const p1 = await createListing(t.call, a, { title: `${word} one` });
    const p2 = await createListing(t.call, a, { title: `${word} two` });
    const p3 = await createListing(t.call, b, { title: `${word} three` });
    const show = async (p: { id: string }, owner?: Registered) => {
      const d = await doc(p.id);
      const got = await t.call("GET", api(`/properties/${p.id}`), { token: owner?.accessToken });
      expect(got.text).toBe(d.body);
      const hit = (await search(word)).find((x) => x.id === p.id);
      if (d.status === "listed") expect(hit).toEqual(JSON.parse(d.card));
      else expect(hit).toBeUndefined();
      return { d, body: JSON.parse(d.body) };
    };

    const later = "2031-04-05T06:09:10.001Z";
    await t.call("POST", api("/_test/clock"), { body: { now: later } });
    const photos = [
      { url: "https://img.example.com/new-a.jpg" },
      { url: "https://img.example.com/new-b.jpg", caption: "B" },
    ];
    const patch = (id: string, body: unknown) =>
      t.call("PATCH", api(`/properties/${id}`), { token: a.accessToken, body });
    expect(
      (await patch(p1.id, { title: `${word} renamed`, photos, address: { region: "Norte", postalCode: null } })).status,
    ).toBe(200);
    let { d, body } = await show(p1);
    expect(body).toMatchObject({ title: `${word} renamed`, photos, updatedAt: later, createdAt: AT });
    expect(body.address).toEqual({ line1: "Rua Augusta 10", city: "Lisbon", region: "Norte", country: "PT" });
    expect(JSON.parse(d.card).photos).toEqual([photos[0]]);

    expect((await patch(p1.id, { photos: [], address: { region: null } })).status).toBe(200);
    ({ d, body } = await show(p1));
    expect(d.body).toContain(`"photos":[]`);
    expect(d.card).toBe(d.body);
    expect(Object.keys(body.address)).toEqual(["line1", "city", "country"]);

    const b3 = (await doc(p3.id)).body;
    const avatarUrl = "https://img.example.com/a2.png";
    expect(
      (await t.call("PATCH", api("/users/me"), { token: a.accessToken, body: { name: "Host A Renamed", avatarUrl } }))
        .status,
    ).toBe(200);
    for (const p of [p1, p2])
      expect((await show(p)).body.host).toEqual({ id: a.id, name: "Host A Renamed", avatarUrl });
    expect((await doc(p3.id)).body).toBe(b3); // another host's listing is untouched
    expect((await t.call("PATCH", api("/users/me"), { token: a.accessToken, body: { avatarUrl: null } })).status).toBe(
      200,
    );
    expect((await show(p2)).body.host).toEqual({ id: a.id, name: "Host A Renamed", avatarUrl: null });

    expect((await t.call("DELETE", api(`/properties/${p2.id}`), { token: a.accessToken })).status).toBe(204);
    ({ d, body } = await show(p2, a));
    expect([d.status, body.status, JSON.parse(d.card).status]).toEqual(["unlisted", "unlisted", "unlisted"]);
    const mine = await t.call<{ data: unknown[] }>("GET", api("/hosts/me/properties?limit=100"), {
      token: a.accessToken,
    });
    expect(mine.body.data).toEqual([JSON.parse((await doc(p2.id)).body), JSON.parse((await doc(p1.id)).body)]);
    await t.call("POST", api("/_test/clock"), { body: { now: AT } });
  });
});

describe("empty statements and cascades", () => {
  test("statements matching no rows do not fail or touch documents; no photos → []; a deleted property takes its document", async () => {
    const host = await registerHost(t.call, "Empty Host");
    const p = await createListing(t.call, host, { photos: [] });
    expect((await doc(p.id)).body).toContain(`"photos":[]`);
    expect((await doc(p.id)).card).toBe((await doc(p.id)).body);
    const before = await allDocs();
    for (const s of [
      "update properties set title = 'x' where false",
      "update property_photos set caption = 'x' where false",
      "delete from property_photos where false",
      "insert into property_photos select * from property_photos where false",
      "update users set name = 'x' where false",
      "update users set name = name", // every user, no name changed
      "delete from properties where false",
    ])
      await q(s);
    await q("update users set bio = 'unchanged name' where id = $1", [host.id]);
    expect(await allDocs()).toEqual(before);

    // Photos gone behind the API's back (e.g. by SQL) still re-render.
    const withPhotos = await createListing(t.call, host);
    await q("delete from property_photos where property_id = $1", [withPhotos.id]);
    expect(JSON.parse((await doc(withPhotos.id)).body).photos).toEqual([]);
    await q(
      "insert into property_photos (property_id, position, url) values ($1, 3, 'https://img.example.com/x.jpg')",
      [withPhotos.id],
    );
    await q("update property_photos set property_id = $2 where property_id = $1", [withPhotos.id, p.id]); // moves: both re-render
    expect(JSON.parse((await doc(withPhotos.id)).body).photos).toEqual([]);
    expect(JSON.parse((await doc(p.id)).body).photos).toEqual([{ url: "https://img.example.com/x.jpg" }]);

    // Deleting a property cascades to its photos (whose trigger must not resurrect the document).
    await q("delete from properties where id = $1", [p.id]);
    expect(await q("select 1 from property_documents where property_id = $1", [p.id])).toEqual([]);
  });
});

describe.if(Boolean(databaseUrl))("concurrency (real PostgreSQL, overlapping transactions)", () => {
  test("a title update holding its transaction open while photos come and go and the host is renamed: the document ends fresh", async () => {
    const sql = pg();
    const host = await registerHost(t.call, "Busy Host");
    const p = (await createListing(t.call, host)).id;
    const other = (await createListing(t.call, host)).id;
    const stale = `select property_id from property_documents where property_id in (${[p, other].map((x) => `'${x}'`).join(",")})
      and not (body = stayhub_property_json(property_id, null) and card = stayhub_property_json(property_id, 1))`;
    await Promise.all(Array.from({ length: 10 }, () => sql`select 1`)); // open every connection first
    for (let r = 0; r < 8; r++) {
      let held!: () => void;
      const updated = new Promise<void>((resolve) => (held = resolve));
      // Renders the new title (at its statement's end), then keeps the row a while before committing.
      const title = sql.begin(async (tx) => {
        await tx`update properties set title = ${`Round ${r}`}, updated_at = now() where id = ${p}`;
        held();
        await tx`select pg_sleep(0.05)`;
      });
      await updated;
      // These render while the title is uncommitted, and commit after it.
      const others = [
        ...[0, 1, 2].map((k) =>
          sql.begin(
            (tx) => tx`insert into property_photos (property_id, position, url, caption)
            values (${p}, ${100 + r * 10 + k}, ${`https://img.example.com/r${r}-${k}.jpg`}, ${k === 1 ? null : `round ${r} #${k}`})`,
          ),
        ),
        sql.begin(
          (tx) =>
            tx`delete from property_photos where property_id = ${p} and position = (select min(position) from property_photos where property_id = ${p})`,
        ),
        sql.begin(
          (tx) => tx`update property_photos set caption = ${`edited ${r}`} where property_id = ${p} and position = 1`,
        ),
        sql.begin((tx) => tx`update users set name = ${`Busy Host ${r}`} where id = ${host.id}`),
      ];
      await Promise.all([title, ...others]);
      expect({ round: r, stale: [...(await sql.unsafe(stale))] }).toEqual({ round: r, stale: [] });
    }
    const body = JSON.parse((await doc(p)).body);
    expect([body.title, body.host.name, JSON.parse((await doc(other)).body).host.name]).toEqual([
      "Round 7",
      "Busy Host 7",
      "Busy Host 7",
    ]);
  }, 30_000);

  test("a write under REPEATABLE READ is refused rather than rendered from an old snapshot", async () => {
    const host = await registerHost(t.call, "Strict Host");
    const p = await createListing(t.call, host, listing());
    const attempt = pg().begin(
      "isolation level repeatable read",
      (tx) => tx`update properties set title = 'Renamed' where id = ${p.id}`,
    );
    await expect(attempt).rejects.toThrow(/only under READ COMMITTED/);
    // A write that touches no document is not refused.
    const harmless = pg().begin(
      "isolation level repeatable read",
      (tx) => tx`update users set updated_at = updated_at where false`,
    );
    await expect(harmless).resolves.toBeDefined();
    expect(JSON.parse((await doc(p.id)).body).title).toBe("Sunny loft by the river");
  });

  // The new listing is invisible to the rename's trigger, so without the insert taking its host's
  // row FOR SHARE neither side would wait and the new document would keep the old name.
  test("a host renamed while a new listing of theirs is being created: the new document has the new name", async () => {
    const sql = pg();
    const host = await registerHost(t.call, "Old Name");
    const id = Bun.randomUUIDv7();
    let inserted!: () => void;
    const ready = new Promise<void>((resolve) => (inserted = resolve));
    const create = sql.begin(async (tx) => {
      await tx`insert into properties (id, host_id, title, property_type, address_line1, city, country, lat, lng, price_per_night, currency, max_guests)
        values (${id}, ${host.id}, 'New', 'house', '1 Main St', 'Lisbon', 'PT', 38.7, -9.1, 10000, 'EUR', 2)`;
      inserted();
      await tx`select pg_sleep(0.2)`;
    });
    await ready;
    await sql`update users set name = 'New Name' where id = ${host.id}`;
    await create;
    const stale = [...(await sql.unsafe(STALE))];
    // Leave the database fresh for afterEach whatever the outcome.
    await sql`select stayhub_refresh_property_documents(${sql.array([id])}::uuid[])`;
    expect(stale).toEqual([]);
  });
});
