import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { onChange } from "../../src/cache/invalidation";
import { registerUser, startTestApp, type TestApp } from "../support/app";
import { book } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";

let t: TestApp;
type Item = {
  id: string;
  title: string;
  pricePerNight: number;
  photos: unknown[];
  location: { lat: number; lng: number };
};
type PageBody = { data: Item[]; nextCursor: string | null };
const ids: Record<string, string> = {};

// A small world: Lisbon ×3, Porto, Paris, Fiji (near the antimeridian), with distinct prices.
beforeAll(async () => {
  t = await startTestApp();
  await t.call("POST", "/api/v1/_test/clock", { body: { now: "2031-01-01T10:00:00Z" } });
  const host = await registerHost(t.call, "Search Host");
  const make = async (key: string, o: Record<string, unknown>) => {
    ids[key] = (await createListing(t.call, host, o)).id;
  };
  await make("lisbonLoft", {
    title: "Sea view loft",
    pricePerNight: 10000,
    maxGuests: 2,
    amenities: ["wifi", "kitchen"],
  });
  await make("lisbonHouse", {
    title: "Family house with garden",
    propertyType: "house",
    pricePerNight: 25000,
    maxGuests: 8,
    amenities: ["wifi", "pool", "kitchen"],
    location: { lat: 38.72, lng: -9.15 },
  });
  await make("lisbonRoom", {
    title: "Quiet room",
    propertyType: "room",
    pricePerNight: 4000,
    maxGuests: 1,
    amenities: [],
    minNights: 3,
    location: { lat: 38.75, lng: -9.2 },
  });
  await make("porto", {
    title: "Ribeira flat",
    pricePerNight: 9000,
    address: { line1: "Cais 1", city: "Porto", country: "PT" },
    location: { lat: 41.14, lng: -8.61 },
  });
  await make("paris", {
    title: "Montmartre studio",
    pricePerNight: 15000,
    address: { line1: "Rue 1", city: "Paris", country: "FR" },
    location: { lat: 48.886, lng: 2.343 },
  });
  await make("fiji", {
    title: "Beach bure",
    propertyType: "cabin",
    pricePerNight: 20000,
    address: { line1: "Beach", city: "Taveuni", country: "FJ" },
    location: { lat: -16.8, lng: 179.9 },
  });
}, 60_000);
afterAll(async () => {
  await t?.call("DELETE", "/api/v1/_test/clock");
  await t?.close();
});

const search = async (qs: string) => {
  const res = await t.call<PageBody>("GET", `/api/v1/properties?${qs}`);
  if (res.status !== 200) throw new Error(`${qs}: ${res.status} ${res.text}`);
  return res.body;
};
const found = async (qs: string) => (await search(qs)).data.map((d) => d.id).sort();
const idsOf = (...keys: string[]) => keys.map((k) => ids[k] as string).sort();

describe("filters", () => {
  test("city (any case), country, guests, price range, type, amenities (all required)", async () => {
    expect(await found("city=lisbon")).toEqual(idsOf("lisbonLoft", "lisbonHouse", "lisbonRoom"));
    expect(await found("country=fr")).toEqual(idsOf("paris"));
    expect(await found("city=Lisbon&guests=3")).toEqual(idsOf("lisbonHouse"));
    expect(await found("minPrice=9000&maxPrice=15000")).toEqual(idsOf("lisbonLoft", "porto", "paris"));
    expect(await found("propertyType=cabin")).toEqual(idsOf("fiji"));
    expect(await found("amenities=wifi,pool")).toEqual(idsOf("lisbonHouse"));
    expect(await found("city=Lisbon&amenities=kitchen&maxPrice=20000")).toEqual(idsOf("lisbonLoft"));
  });

  test("text: word prefixes over title, city and description", async () => {
    expect(await found("q=sea vie")).toEqual(idsOf("lisbonLoft"));
    expect(await found("q=montmar")).toEqual(idsOf("paris"));
    expect(await found("q=taveuni")).toEqual(idsOf("fiji"));
    expect(await found("q=nothing-like-this")).toEqual([]);
  });

  test("near + radiusKm, sorted by distance", async () => {
    const near = await search("near=38.7107,-9.1366&radiusKm=10&sort=distance");
    expect(near.data.map((d) => d.id)).toEqual([ids.lisbonLoft, ids.lisbonHouse, ids.lisbonRoom] as string[]);
    expect(await found("near=38.7107,-9.1366&radiusKm=2")).toEqual(idsOf("lisbonLoft", "lisbonHouse"));
    expect(await found("near=41.15,-8.6&radiusKm=5")).toEqual(idsOf("porto"));
    // Across the antimeridian: a circle around 180° finds the property at 179.9°.
    expect(await found("near=-16.8,-179.95&radiusKm=30")).toEqual(idsOf("fiji"));
  });

  test("bbox (map view), including one that crosses the antimeridian", async () => {
    expect(await found("bbox=-9.5,38.6,-8.0,41.5")).toEqual(idsOf("lisbonLoft", "lisbonHouse", "lisbonRoom", "porto"));
    expect(await found("bbox=179,-17,-179,-16")).toEqual(idsOf("fiji"));
  });

  test("dates: only properties free for every night, within min/max nights", async () => {
    const guest = await registerUser(t.call);
    await t.deps.database.raw.query(
      `insert into bookings (id, property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total, cleaning_fee, service_fee, total, currency, expires_at, cancelled_at, cancelled_by)
       values ($1, $2, $3, '2031-03-10', '2031-03-12', 1, 'confirmed', 2, 20000, 0, 2000, 22000, 'EUR', now(), null, null),
              ($4, $5, $3, '2031-03-10', '2031-03-12', 1, 'cancelled', 2, 20000, 0, 2000, 22000, 'EUR', now(), now(), 'guest')`,
      [Bun.randomUUIDv7(), ids.lisbonLoft, guest.id, Bun.randomUUIDv7(), ids.lisbonHouse],
    );
    await onChange(t.deps, { kind: "nights.taken", propertyId: ids.lisbonLoft as string });
    // The loft is booked on the 10th and 11th; the room needs 3 nights; the house's booking was cancelled.
    expect(await found("city=Lisbon&checkIn=2031-03-11&checkOut=2031-03-13")).toEqual(idsOf("lisbonHouse"));
    expect(await found("city=Lisbon&checkIn=2031-03-12&checkOut=2031-03-15")).toEqual(
      idsOf("lisbonLoft", "lisbonHouse", "lisbonRoom"),
    );
    expect(await found("city=Lisbon&checkIn=2031-03-08&checkOut=2031-03-10")).toEqual(
      idsOf("lisbonLoft", "lisbonHouse"),
    );
  });

  test("a booking invalidates only the dated searches that listed its property; a cancellation all of them", async () => {
    const stay = "checkIn=2031-05-10&checkOut=2031-05-12";
    const lisbon = `city=Lisbon&${stay}`;
    const porto = `city=Porto&${stay}`;
    expect(await found(lisbon)).toEqual(idsOf("lisbonLoft", "lisbonHouse"));
    expect(await found(porto)).toEqual(idsOf("porto"));
    // A booking written behind the service's back (no invalidation): the cached Porto search still
    // lists the flat, which is how the test sees that that entry is served from the cache.
    const guest = await registerUser(t.call);
    await t.deps.database.raw.query(
      `insert into bookings (id, property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total, cleaning_fee, service_fee, total, currency, expires_at)
       values ($1, $2, $3, '2031-05-10', '2031-05-12', 1, 'confirmed', 2, 18000, 0, 1800, 19800, 'EUR', now())`,
      [Bun.randomUUIDv7(), ids.porto, guest.id],
    );
    expect(await found(porto)).toEqual(idsOf("porto"));
    // A booking through the service, in Lisbon: the Lisbon search is read again, the Porto one is not.
    const made = await book(t.call, guest, {
      propertyId: ids.lisbonLoft,
      checkIn: "2031-05-10",
      checkOut: "2031-05-12",
    });
    expect(made.status).toBe(201);
    expect(await found(lisbon)).toEqual(idsOf("lisbonHouse"));
    const hits = async () =>
      Number(
        (await t.deps.metrics.render()).match(/stayhub_search_cache_total\{kind="dated",result="hit"\} (\d+)/)?.[1],
      );
    const before = await hits();
    expect(await found(porto)).toEqual(idsOf("porto")); // still the cached answer
    expect(await hits()).toBe(before + 1);
    // Freed nights may add a listing to any dated search: every one of them is read again.
    const cancelled = await t.call("POST", `/api/v1/bookings/${made.body.id}/cancel`, { token: guest.accessToken });
    expect(cancelled.status).toBe(200);
    expect(await found(lisbon)).toEqual(idsOf("lisbonLoft", "lisbonHouse"));
    expect(await found(porto)).toEqual([]);
  });

  test("a blocked night hides the property for those dates, and the search cache is invalidated by it", async () => {
    const before = await found("city=Porto&checkIn=2031-04-01&checkOut=2031-04-03");
    expect(before).toEqual(idsOf("porto"));
    const hostLogin = await t.call<{ accessToken: string }>("POST", "/api/v1/auth/login", {
      body: {
        email: (
          await t.deps.database.raw.query<{ email: string }>("select email from users where name = 'Search Host'")
        )[0]?.email,
        password: "correct horse battery",
      },
    });
    const block = await t.call("PUT", `/api/v1/properties/${ids.porto}/calendar`, {
      token: hostLogin.body.accessToken,
      body: { from: "2031-04-02", to: "2031-04-03", blocked: true },
    });
    expect(block.status).toBe(200);
    expect(await found("city=Porto&checkIn=2031-04-01&checkOut=2031-04-03")).toEqual([]);
    expect(await found("city=Porto&checkIn=2031-04-03&checkOut=2031-04-05")).toEqual(idsOf("porto"));
  });

  test("only listed properties appear; items carry only the cover photo", async () => {
    const page = await search("city=Paris");
    expect(page.data[0]?.photos).toHaveLength(1);
  });
});

describe("sorting and keyset pagination", () => {
  const walk = async (qs: string, limit: number) => {
    const seen: Item[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: PageBody = await search(
        `${qs}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      seen.push(...page.data);
      cursor = page.nextCursor;
      if (++pages > 20) throw new Error("too many pages");
    } while (cursor);
    return seen;
  };

  for (const sort of ["recommended", "price_asc", "price_desc", "rating", "newest"]) {
    test(`sort=${sort}: pages of 2 cover every result once, in order`, async () => {
      const all = await walk(`sort=${sort}`, 2);
      const one = (await search(`sort=${sort}&limit=100`)).data;
      expect(all.map((d) => d.id)).toEqual(one.map((d) => d.id));
      expect(new Set(all.map((d) => d.id)).size).toBe(all.length);
      if (sort === "price_asc")
        expect(all.map((d) => d.pricePerNight)).toEqual([...all.map((d) => d.pricePerNight)].sort((a, b) => a - b));
      if (sort === "price_desc")
        expect(all.map((d) => d.pricePerNight)).toEqual([...all.map((d) => d.pricePerNight)].sort((a, b) => b - a));
    });
  }

  test("stable under inserts: a listing created mid-walk does not shift or repeat what follows", async () => {
    const first: PageBody = await search("sort=price_asc&limit=2");
    const host = await registerHost(t.call);
    await createListing(t.call, host, { title: "Cheap newcomer", pricePerNight: 1 });
    const rest: PageBody = await search(
      `sort=price_asc&limit=100&cursor=${encodeURIComponent(first.nextCursor as string)}`,
    );
    const overlap = rest.data.filter((d) => first.data.some((f) => f.id === d.id));
    expect(overlap).toEqual([]);
    expect(rest.data.some((d) => d.title === "Cheap newcomer")).toBe(false);
  });

  test("bad input → 422", async () => {
    for (const qs of [
      "sort=distance",
      "checkIn=2031-05-01",
      "checkIn=2031-05-03&checkOut=2031-05-01",
      "checkIn=2030-12-01&checkOut=2030-12-03",
      "checkIn=2031-02-30&checkOut=2031-03-02",
      "near=100,0",
      "radiusKm=5",
      "bbox=1,2,3",
      "bbox=0,10,1,5",
      "minPrice=500&maxPrice=100",
      "limit=0",
      "limit=101",
      "sort=cheapest",
      "cursor=not-a-cursor",
      "q=%20%20",
      "bbox=,,,",
      `sort=newest&cursor=${Buffer.from(JSON.stringify(["newest", "2024", "01a21001-1cb3-775a-ba4d-59603dabccf5"])).toString("base64url")}`,
      `sort=newest&cursor=${Buffer.from(JSON.stringify(["newest", "Mon, 01 Jan 2024 00:00:00 GMT+0200", "01a21001-1cb3-775a-ba4d-59603dabccf5"])).toString("base64url")}`,
      `sort=price_asc&cursor=${Buffer.from(JSON.stringify(["price_asc", 100, "not-a-uuid"])).toString("base64url")}`,
    ]) {
      const res = await t.call("GET", `/api/v1/properties?${qs}`);
      expect({ qs, status: res.status }).toEqual({ qs, status: 422 });
    }
    const page = await search("sort=price_asc&limit=1");
    const wrongSort = await t.call("GET", `/api/v1/properties?sort=newest&cursor=${page.nextCursor}`);
    expect(wrongSort.status).toBe(422);
  });
});
