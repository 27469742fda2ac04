// GraphQL at /graphql: the same verbs and rules as REST (the authorization matrix run through both),
// REST's error codes and validation paths in `extensions`, connections whose cursors are REST's,
// nested fields batched (statements counted), limits that answer fast, the schema file in sync,
// and bookingUpdated over server-sent events across two instances.
import { beforeAll, describe, expect, test } from "bun:test";
import { drizzle } from "drizzle-orm/postgres-js";
import { buildClientSchema, buildSchema, getIntrospectionQuery, printSchema } from "graphql";
import postgres from "postgres";
import * as schema from "../../src/db/schema";
import { bookingFeed } from "../../src/graphql/live";
import { createGraphQL, LIMITS } from "../../src/graphql/server";
import { type Call, type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { type BookingBody, book, drainJobs, onTestClock, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";
import { databaseUrl } from "../support/services";
import { events, statusOf, subscribeBooking } from "../support/sse";

const NOW = "2031-06-01T09:00:00.000Z";
let t: TestApp;
let host: Registered;
let guest: Registered;
let stranger: Registered;
let property: { id: string };

type GqlError = {
  message: string;
  path?: string[];
  extensions?: { code?: string; status?: number; errors?: { path: string; message: string }[] };
};
type GqlAnswer<D = Record<string, unknown>> = { status: number; data?: D; errors?: GqlError[]; text: string };

async function gql<D = Record<string, unknown>>(
  query: string,
  variables: Record<string, unknown> = {},
  as?: Registered,
  call: Call = t.call,
): Promise<GqlAnswer<D>> {
  const res = await call<{ data?: D; errors?: GqlError[] }>("POST", "/graphql", {
    body: { query, variables },
    ...(as ? { token: as.accessToken } : {}),
  });
  return { status: res.status, data: res.body.data, errors: res.body.errors, text: res.text };
}
const codeOf = (a: GqlAnswer) => a.errors?.[0]?.extensions?.code ?? "ok";
/** The holds limits lifted: their own tests are in bookings.test.ts. */
const MANY_HOLDS = {
  MAX_PENDING_BOOKINGS: "1000",
  BOOKING_HOLDS_PER_HOUR: "100000",
  BOOKING_HOLDS_PER_LISTING_PER_DAY: "100000",
};

beforeAll(async () => {
  // Many unpaid bookings of one guest across the tests.
  t = await startTestApp(MANY_HOLDS);
  await setClock(t.call, NOW);
  host = await registerHost(t.call, "Gina Host");
  guest = await registerUser(t.call, { name: "Gabe Guest" });
  stranger = await registerUser(t.call, { name: "Stan Stranger" });
  property = await createListing(t.call, host, { title: "GraphQL loft" });
}, 60_000);
onTestClock(() => t, NOW);

const api = (path: string) => `/api/v1${path}`;
let nextWeek = 0;
/** A booking of the shared listing on nights nobody else uses. */
async function newBooking(by: Registered = guest): Promise<BookingBody> {
  const start = Date.parse("2031-07-01T00:00:00Z") + nextWeek++ * 7 * 86_400_000;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const res = await book(t.call, by, {
    propertyId: property.id,
    checkIn: day(start),
    checkOut: day(start + 2 * 86_400_000),
  });
  expect(res.status).toBe(201);
  return res.body;
}

const BOOKING =
  "query($id: ID!) { booking(id: $id) { id status guestId price { total currency } property { id title host { name } } payments { id status } } }";

describe("queries and mutations, the happy paths", () => {
  test("me, property (with host and reviews), booking (with property and payments)", async () => {
    const me = await gql<{ me: { id: string; email: string; roles: string[]; emailVerified: boolean } }>(
      "{ me { id email roles emailVerified } }",
      {},
      host,
    );
    expect(me.data?.me).toEqual({ id: host.id, email: host.email, roles: ["guest", "host"], emailVerified: false });
    const p = await gql<{
      property: {
        id: string;
        title: string;
        host: { name: string; isHost: boolean };
        reviews: unknown[];
        address: { city: string };
      };
    }>(
      "query($id: ID!) { property(id: $id) { id title host { name isHost } reviews(first: 3) { id } address { city } } }",
      { id: property.id },
    );
    expect(p.data?.property).toEqual({
      id: property.id,
      title: "GraphQL loft",
      host: { name: "Gina Host", isHost: true },
      reviews: [],
      address: { city: "Lisbon" },
    });
    const b = await newBooking();
    const read = await gql<{ booking: Record<string, unknown> }>(BOOKING, { id: b.id }, guest);
    expect(read.data?.booking).toEqual({
      id: b.id,
      status: "pending_payment",
      guestId: guest.id,
      price: { total: b.price.total, currency: "EUR" },
      property: { id: property.id, title: "GraphQL loft", host: { name: "Gina Host" } },
      payments: [],
    });
    // The same booking the REST answer gives, field for field.
    const rest = await t.call<BookingBody>("GET", api(`/bookings/${b.id}`), { token: guest.accessToken });
    const all = await gql<{ booking: Record<string, unknown> }>(
      "query($id: ID!) { booking(id: $id) { id propertyId guestId checkIn checkOut guests status price { nights nightlyTotal discount { kind percent amount } extraGuestFee cleaningFee serviceFee taxes { name amount } total hostPayout currency } expiresAt createdAt updatedAt } }",
      { id: b.id },
      guest,
    );
    expect(all.data?.booking).toEqual(rest.body as never);
  });

  test("createBooking, payBooking (then confirmed), bookingPayments, cancelBooking", async () => {
    const created = await gql<{ createBooking: { id: string; status: string; price: { total: number } } }>(
      "mutation($i: CreateBookingInput!) { createBooking(input: $i) { id status price { total } } }",
      { i: { propertyId: property.id, checkIn: "2031-12-01", checkOut: "2031-12-04", guests: 2 } },
      guest,
    );
    expect(created.errors).toBeUndefined();
    const id = created.data?.createBooking.id as string;
    expect(created.data?.createBooking.status).toBe("pending_payment");
    const paid = await gql<{ payBooking: { status: string; amount: number } }>(
      'mutation($id: ID!) { payBooking(bookingId: $id, paymentMethod: "pm_card_visa", idempotencyKey: "gql-pay-1") { status amount } }',
      { id },
      guest,
    );
    expect(paid.data?.payBooking).toEqual({
      status: "processing",
      amount: created.data?.createBooking.price.total as number,
    });
    await drainJobs(t);
    const after = await gql<{ booking: { status: string; payments: { status: string }[] } }>(BOOKING, { id }, guest);
    expect(after.data?.booking.status).toBe("confirmed");
    expect(after.data?.booking.payments.map((p) => p.status)).toEqual(["succeeded"]);
    const list = await gql<{
      bookingPayments: { edges: { cursor: string; node: { status: string } }[]; pageInfo: { hasNextPage: boolean } };
    }>(
      "query($id: ID!) { bookingPayments(bookingId: $id) { edges { cursor node { status } } pageInfo { hasNextPage } } }",
      { id },
      host,
    );
    expect(list.data?.bookingPayments.edges.map((e) => e.node.status)).toEqual(["succeeded"]);
    const cancelled = await gql<{ cancelBooking: { status: string; cancellation: { by: string; reason: string } } }>(
      'mutation($id: ID!) { cancelBooking(id: $id, reason: "Plans changed") { status cancellation { by reason } } }',
      { id },
      guest,
    );
    expect(cancelled.data?.cancelBooking).toEqual({
      status: "cancelled",
      cancellation: { by: "guest", reason: "Plans changed" },
    });
  });

  test("an idempotency key is shared with REST: the same key and body replay the first answer", async () => {
    const input = { propertyId: property.id, checkIn: "2032-01-10", checkOut: "2032-01-12", guests: 1 };
    const rest = await t.call<BookingBody>("POST", api("/bookings"), {
      token: guest.accessToken,
      body: input,
      headers: { "idempotency-key": "shared-1" },
    });
    expect(rest.status).toBe(201);
    const again = await gql<{ createBooking: { id: string } }>(
      'mutation($i: CreateBookingInput!) { createBooking(input: $i, idempotencyKey: "shared-1") { id } }',
      { i: input },
      guest,
    );
    expect(again.data?.createBooking.id).toBe(rest.body.id);
    const other = await gql(
      'mutation($i: CreateBookingInput!) { createBooking(input: $i, idempotencyKey: "shared-1") { id } }',
      { i: { ...input, guests: 2 } },
      guest,
    );
    expect(codeOf(other)).toBe("idempotency_key_reused");
    await t.call("POST", api(`/bookings/${rest.body.id}/cancel`), { token: guest.accessToken, body: {} });
  });

  test("a refusal stored under a key is the answer on either protocol, replayed", async () => {
    const nights = { propertyId: property.id, checkIn: "2032-02-10", checkOut: "2032-02-12", guests: 1 };
    const held = await t.call<BookingBody>("POST", api("/bookings"), { token: guest.accessToken, body: nights });
    expect(held.status).toBe(201);
    const create = 'mutation($i: CreateBookingInput!) { createBooking(input: $i, idempotencyKey: "refused-1") { id } }';
    expect(codeOf(await gql(create, { i: nights }, stranger))).toBe("dates_unavailable");
    // The nights are free again, but the key keeps its first answer: on REST, marked as replayed.
    await t.call("POST", api(`/bookings/${held.body.id}/cancel`), { token: guest.accessToken, body: {} });
    const rest = await t.call<{ code: string }>("POST", api("/bookings"), {
      token: stranger.accessToken,
      body: nights,
      headers: { "idempotency-key": "refused-1" },
    });
    expect([rest.status, rest.body.code, rest.headers.get("idempotent-replayed")]).toEqual([
      409,
      "dates_unavailable",
      "true",
    ]);
    expect(codeOf(await gql(create, { i: nights }, stranger))).toBe("dates_unavailable");
  });

  test("createReview and the reviews connection; the nested reviews and their authors", async () => {
    const b = await newBooking();
    await t.deps.database.raw.query(
      "update bookings set status = 'completed', check_in = '2031-05-20', check_out = '2031-05-22' where id = $1",
      [b.id],
    );
    const created = await gql<{ createReview: { rating: number; author: { name: string } } }>(
      'mutation($id: ID!) { createReview(bookingId: $id, rating: 5, comment: "  Lovely.  ") { rating comment author { name } } }',
      { id: b.id },
      guest,
    );
    expect(created.data?.createReview).toEqual({
      rating: 5,
      comment: "Lovely.",
      author: { name: "Gabe Guest" },
    } as never);
    const twice = await gql(
      'mutation($id: ID!) { createReview(bookingId: $id, rating: 4, comment: "Again") { id } }',
      { id: b.id },
      guest,
    );
    expect(codeOf(twice)).toBe("already_reviewed");
    const page = await gql<{ reviews: { edges: { node: { comment: string } }[] } }>(
      "query($id: ID!) { reviews(propertyId: $id, first: 5) { edges { node { comment } } } }",
      {
        id: property.id,
      },
    );
    expect(page.data?.reviews.edges.map((e) => e.node.comment)).toContain("Lovely.");
    const nested = await gql<{ property: { reviews: { comment: string; author: { name: string } }[] } }>(
      "query($id: ID!) { property(id: $id) { reviews(first: 1) { comment author { name } } } }",
      { id: property.id },
    );
    expect(nested.data?.property.reviews).toEqual([{ comment: "Lovely.", author: { name: "Gabe Guest" } }]);
  });

  test("myBookings as guest and as host; connection cursors are the REST cursors", async () => {
    const mine = await gql<{
      myBookings: {
        edges: { cursor: string; node: { id: string } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
    }>("{ myBookings(first: 2) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }", {}, guest);
    const rest = await t.call<{ data: { id: string }[]; nextCursor: string | null }>("GET", api("/bookings?limit=2"), {
      token: guest.accessToken,
    });
    expect(mine.data?.myBookings.edges.map((e) => e.node.id)).toEqual(rest.body.data.map((b) => b.id));
    expect(mine.data?.myBookings.pageInfo).toEqual({
      hasNextPage: rest.body.nextCursor !== null,
      endCursor: rest.body.nextCursor,
    });
    expect(mine.data?.myBookings.edges.at(-1)?.cursor).toBe(rest.body.nextCursor as string);
    // The next page through REST's cursor, and through the first edge's.
    const next = await t.call<{ data: { id: string }[] }>(
      "GET",
      api(`/bookings?limit=2&cursor=${rest.body.nextCursor}`),
      { token: guest.accessToken },
    );
    const gnext = await gql<{ myBookings: { edges: { node: { id: string } }[] } }>(
      "query($after: String) { myBookings(first: 2, after: $after) { edges { node { id } } } }",
      { after: mine.data?.myBookings.pageInfo.endCursor },
      guest,
    );
    expect(gnext.data?.myBookings.edges.map((e) => e.node.id)).toEqual(next.body.data.map((b) => b.id));
    const hosted = await gql<{ myBookings: { edges: unknown[] } }>(
      "{ myBookings(as: host, first: 100) { edges { node { id } } } }",
      {},
      host,
    );
    expect(hosted.data?.myBookings.edges.length).toBeGreaterThan(0);
  });

  test("properties: the REST search's filters, sort and pages, edge by edge", async () => {
    for (let i = 0; i < 4; i++)
      await createListing(t.call, host, {
        title: `Search ${i}`,
        address: { line1: "Rua 1", city: "Porto", country: "PT" },
        pricePerNight: 5_000 + i * 1_000,
      });
    const q =
      'query($after: String) { properties(filter: { city: "Porto", maxPrice: 7500 }, sort: price_asc, first: 2, after: $after) { edges { cursor node { title pricePerNight } } pageInfo { hasNextPage endCursor } } }';
    const first = await gql<{
      properties: {
        edges: { cursor: string; node: { title: string } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string };
      };
    }>(q, {});
    const rest = await t.call<{ data: { title: string }[]; nextCursor: string }>(
      "GET",
      api("/properties?city=Porto&maxPrice=7500&sort=price_asc&limit=2"),
    );
    expect(first.data?.properties.edges.map((e) => e.node.title)).toEqual(rest.body.data.map((p) => p.title));
    expect(first.data?.properties.pageInfo).toEqual({ hasNextPage: true, endCursor: rest.body.nextCursor });
    // Resuming after the first edge gives the REST page that starts at the second item.
    const fromSecond = await gql<{ properties: { edges: { node: { title: string } }[] } }>(q, {
      after: first.data?.properties.edges[0]?.cursor,
    });
    expect(fromSecond.data?.properties.edges.map((e) => e.node.title)).toEqual(["Search 1", "Search 2"]);
    const last = await gql<{
      properties: { edges: { node: { title: string } }[]; pageInfo: { hasNextPage: boolean } };
    }>(q, { after: first.data?.properties.pageInfo.endCursor });
    expect(last.data?.properties.edges.map((e) => e.node.title)).toEqual(["Search 2"]);
    expect(last.data?.properties.pageInfo.hasNextPage).toBe(false);
  });
});

describe("anonymous searches are cached like REST's search pages", () => {
  test("served again from the cache, and never stale after a listing, review or host change", async () => {
    const q = `query($city: String) { properties(filter: { city: $city }) { edges { node { title host { bio } reviews(first: 1) { response { comment } } } } } }`;
    const owner = await registerHost(t.call, "Cache Host");
    const listing = await createListing(t.call, owner, {
      title: "Cached cabin",
      address: { line1: "Via 1", city: "Bologna", country: "IT" },
    });
    const read = async () =>
      (
        await gql<{
          properties: {
            edges: {
              node: {
                title: string;
                host: { bio: string | null };
                reviews: { response: { comment: string } | null }[];
              };
            }[];
          };
        }>(q, {
          city: "Bologna",
        })
      ).data?.properties.edges[0]?.node;
    expect((await read())?.title).toBe("Cached cabin");
    // The same request again: the same answer, from the cache.
    const spy = t.deps.cache.get.bind(t.deps.cache);
    let hits = 0;
    t.deps.cache.get = async (ns, key) => {
      const r = await spy(ns, key);
      if (key.startsWith("gql:") && r.value) hits++;
      return r;
    };
    try {
      expect((await read())?.title).toBe("Cached cabin");
      expect(hits).toBe(1);
      await t.call("PATCH", api(`/properties/${listing.id}`), {
        token: owner.accessToken,
        body: { title: "Renamed cabin" },
      });
      expect((await read())?.title).toBe("Renamed cabin");
      await t.call("PATCH", api("/users/me"), { token: owner.accessToken, body: { bio: "Hosting since 2031" } });
      expect((await read())?.host.bio).toBe("Hosting since 2031");
      const b = await book(t.call, guest, { propertyId: listing.id, checkIn: "2031-06-10", checkOut: "2031-06-12" });
      await t.deps.database.raw.query(
        "update bookings set status = 'completed', check_in = '2031-05-01', check_out = '2031-05-03' where id = $1",
        [b.body.id],
      );
      const review = await t.call<{ id: string }>("POST", api(`/bookings/${b.body.id}/reviews`), {
        token: guest.accessToken,
        body: { rating: 5, comment: "Nice" },
      });
      expect((await read())?.reviews).toEqual([{ response: null }]);
      await t.call("POST", api(`/reviews/${review.body.id}/response`), {
        token: owner.accessToken,
        body: { comment: "Thank you" },
      });
      expect((await read())?.reviews).toEqual([{ response: { comment: "Thank you" } }]);
      // With a token nothing is taken from (or put in) the cache.
      hits = 0;
      await gql(q, { city: "Bologna" }, guest);
      expect(hits).toBe(0);
    } finally {
      t.deps.cache.get = spy;
    }
  });
});

describe("errors carry the REST codes", () => {
  test("validation_failed with the REST paths and words", async () => {
    const bad = { propertyId: property.id, checkIn: "2031-13-01", checkOut: "2031-07-03", guests: 0 };
    const rest = await t.call<{ code: string; errors: { path: string; message: string }[] }>("POST", api("/bookings"), {
      token: guest.accessToken,
      body: bad,
    });
    const g = await gql("mutation($i: CreateBookingInput!) { createBooking(input: $i) { id } }", { i: bad }, guest);
    expect(rest.status).toBe(422);
    expect(g.errors?.[0]?.extensions).toEqual({ code: "validation_failed", status: 422, errors: rest.body.errors });
    const search = await gql('{ properties(filter: { near: "north" }) { edges { cursor } } }');
    const restSearch = await t.call<{ errors: unknown[] }>("GET", api("/properties?near=north"));
    expect(search.errors?.[0]?.extensions?.errors).toEqual(restSearch.body.errors as never);
    const page = await gql("{ properties(first: 500) { edges { cursor } } }");
    expect(page.errors?.[0]?.extensions?.errors).toEqual([
      { path: "/first", message: expect.stringContaining("1 to 100") },
    ] as never);
    for (const q of [
      '{ properties(after: "not-a-cursor") { edges { cursor } } }',
      '{ myBookings(after: "not-a-cursor") { edges { cursor } } }',
    ]) {
      const bad = await gql(q, {}, guest);
      expect(codeOf(bad)).toBe("invalid_cursor");
      expect(bad.errors?.[0]?.extensions?.errors?.map((e) => e.path)).toEqual(["/after"]);
    }
    const emptyKey = await gql(
      'mutation($i: CreateBookingInput!) { createBooking(input: $i, idempotencyKey: "") { id } }',
      { i: { propertyId: property.id, checkIn: "2032-05-01", checkOut: "2032-05-02", guests: 1 } },
      guest,
    );
    expect(emptyKey.errors?.[0]?.extensions?.errors).toEqual([
      { path: "/idempotencyKey", message: "must be 1–255 characters" },
    ] as never);
  });

  test("a malformed or upper-case id anywhere is not_found (or found), never internal", async () => {
    for (const id of ["nope", "01A234F0-87B5-772D-A937-5181AD7A655E", "'; drop table users; --"]) {
      const queries = [
        ["query($id: ID!) { property(id: $id) { id } }", undefined],
        ["query($id: ID!) { booking(id: $id) { id } }", guest],
        ["query($id: ID!) { bookingPayments(bookingId: $id) { edges { cursor } } }", guest],
        ["query($id: ID!) { reviews(propertyId: $id) { edges { cursor } } }", undefined],
        ["mutation($id: ID!) { cancelBooking(id: $id) { id } }", guest],
        [
          `mutation($id: ID!) { payBooking(bookingId: $id, paymentMethod: "pm_card_visa", idempotencyKey: "${encodeURIComponent(id)}") { id } }`,
          guest,
        ],
        ['mutation($id: ID!) { createReview(bookingId: $id, rating: 5, comment: "x") { id } }', guest],
        [
          'mutation($id: ID!) { createBooking(input: { propertyId: $id, checkIn: "2032-03-01", checkOut: "2032-03-02", guests: 1 }) { id } }',
          guest,
        ],
      ] as [string, Registered | undefined][];
      for (const [q, as] of queries)
        expect({ q, id, code: codeOf(await gql(q, { id }, as)) }).toEqual({ q, id, code: "not_found" });
    }
    const upper = await gql<{ property: { id: string } }>("query($id: ID!) { property(id: $id) { id } }", {
      id: property.id.toUpperCase(),
    });
    expect(upper.data?.property.id).toBe(property.id);
  });

  test("not_found is null with the code; dates_unavailable; unauthenticated; never a stack", async () => {
    const b = await newBooking();
    const hidden = await gql<{ booking: null }>(BOOKING, { id: b.id }, stranger);
    expect(hidden.data?.booking).toBeNull();
    expect(hidden.errors?.[0]?.extensions).toEqual({ code: "not_found", status: 404 });
    const clash = await gql(
      "mutation($i: CreateBookingInput!) { createBooking(input: $i) { id } }",
      { i: { propertyId: property.id, checkIn: b.checkIn, checkOut: b.checkOut, guests: 1 } },
      stranger,
    );
    expect(codeOf(clash)).toBe("dates_unavailable");
    expect(codeOf(await gql("{ me { id } }"))).toBe("unauthenticated");
    const broken = await t.call<{ errors: GqlError[] }>("POST", "/graphql", {
      body: { query: "{ me { id } }" },
      headers: { authorization: "Bearer not.a.jwt" },
    });
    expect(broken.body.errors[0]?.extensions?.code).toBe("unauthenticated");
    expect(JSON.stringify(hidden)).not.toMatch(/at .*\.ts|stack|select /i);
  });
});

describe("one authorization, two protocols", () => {
  test("every case of the matrix answers the same code through REST and GraphQL", async () => {
    const b = await newBooking();
    const unlisted = await createListing(t.call, host, { title: "Hidden" });
    await t.call("DELETE", api(`/properties/${unlisted.id}`), { token: host.accessToken });
    const who: Record<string, Registered | undefined> = { guest, host, stranger, anonymous: undefined };
    type Case = {
      name: string;
      rest: (u?: Registered) => Promise<{ status: number; body: { code?: string } }>;
      gql: (u?: Registered) => Promise<GqlAnswer>;
    };
    const as = (u?: Registered) => (u ? { token: u.accessToken } : {});
    const cases: Case[] = [
      {
        name: "read a booking",
        rest: (u) => t.call("GET", api(`/bookings/${b.id}`), as(u)),
        gql: (u) => gql("query($id: ID!) { booking(id: $id) { id } }", { id: b.id }, u),
      },
      {
        name: "list a booking's payments",
        rest: (u) => t.call("GET", api(`/bookings/${b.id}/payments`), as(u)),
        gql: (u) => gql("query($id: ID!) { bookingPayments(bookingId: $id) { edges { cursor } } }", { id: b.id }, u),
      },
      {
        name: "review a stay that is not over",
        rest: (u) => t.call("POST", api(`/bookings/${b.id}/reviews`), { ...as(u), body: { rating: 5, comment: "x" } }),
        gql: (u) =>
          gql('mutation($id: ID!) { createReview(bookingId: $id, rating: 5, comment: "x") { id } }', { id: b.id }, u),
      },
      {
        name: "read an unlisted property",
        rest: (u) => t.call("GET", api(`/properties/${unlisted.id}`), as(u)),
        gql: (u) => gql("query($id: ID!) { property(id: $id) { id } }", { id: unlisted.id }, u),
      },
      {
        name: "book one's own listing (or anyone's)",
        rest: (u) =>
          t.call("POST", api("/bookings"), {
            ...as(u),
            body: { propertyId: property.id, checkIn: "2033-01-01", checkOut: "2033-01-02", guests: 1 },
          }),
        gql: (u) =>
          gql(
            "mutation($i: CreateBookingInput!) { createBooking(input: $i) { id } }",
            { i: { propertyId: property.id, checkIn: "2033-01-01", checkOut: "2033-01-02", guests: 1 } },
            u,
          ),
      },
      { name: "read me", rest: (u) => t.call("GET", api("/users/me"), as(u)), gql: (u) => gql("{ me { id } }", {}, u) },
    ];
    const forget = async (id: string) => {
      await t.deps.database.raw.query("delete from outbox where sent_at is null");
      await t.deps.database.raw.query("delete from bookings where id = $1", [id]);
    };
    const codes: string[] = [];
    for (const c of cases) {
      for (const [name, u] of Object.entries(who)) {
        const r = await c.rest(u);
        // Anything REST made (a booking) is undone before GraphQL tries the same.
        const made = c.name.startsWith("book") && r.status < 300 ? (r.body as { id: string }).id : null;
        if (made) await forget(made);
        const g = await c.gql(u);
        const made2 = (g.data as { createBooking?: { id: string } } | undefined)?.createBooking?.id;
        if (made2) await forget(made2);
        const restCode = r.status < 300 ? "ok" : (r.body.code as string);
        expect({ case: c.name, who: name, graphql: codeOf(g) }).toEqual({ case: c.name, who: name, graphql: restCode });
        codes.push(restCode);
      }
    }
    // The matrix says yes and no: ok, 401, 404 and 422 all occur.
    expect(new Set(codes)).toEqual(new Set(["ok", "unauthenticated", "not_found", "validation_failed"]));
    // Paying: only the guest, once.
    const pay = (u?: Registered, key = "m-1") =>
      gql(
        'mutation($id: ID!, $k: String!) { payBooking(bookingId: $id, paymentMethod: "pm_card_visa", idempotencyKey: $k) { status } }',
        { id: b.id, k: key },
        u,
      );
    const restPay = (u?: Registered, key = "m-r") =>
      t.call("POST", api(`/bookings/${b.id}/payments`), {
        ...as(u),
        body: { paymentMethod: "pm_card_visa" },
        headers: { "idempotency-key": key },
      });
    for (const u of [host, stranger, undefined])
      expect(codeOf(await pay(u))).toBe(((await restPay(u)).body as { code: string }).code);
    expect(codeOf(await pay(guest))).toBe("ok");
    expect(codeOf(await pay(guest, "m-2"))).toBe(((await restPay(guest, "m-r2")).body as { code: string }).code);
  });
});

describe("nested fields follow REST's visibility rules", () => {
  test("an unlisted property is null to its guest, not to its host; a host without a public profile is null", async () => {
    const other = await registerHost(t.call, "Una Lister");
    const listing = await createListing(t.call, other, { title: "Soon unlisted" });
    const res = await book(t.call, guest, { propertyId: listing.id, checkIn: "2031-09-01", checkOut: "2031-09-03" });
    expect(res.status).toBe(201);
    const nested = "query($id: ID!) { booking(id: $id) { property { title host { name } } } }";
    const seenBy = async (who: Registered) =>
      (await gql<{ booking: { property: unknown } }>(nested, { id: res.body.id }, who)).data?.booking.property;
    expect(await seenBy(guest)).toEqual({ title: "Soon unlisted", host: { name: "Una Lister" } });
    expect((await t.call("DELETE", api(`/properties/${listing.id}`), { token: other.accessToken })).status).toBe(204);
    expect(await seenBy(guest)).toBeNull();
    expect(await seenBy(other)).toEqual({ title: "Soon unlisted", host: { name: "Una Lister" } });
    // GET /users/:id is 404 for a profile that is not public: the nested host is null.
    const gone = await registerHost(t.call, "Sue Spended");
    const shown = await createListing(t.call, gone, { title: "Still listed" });
    await t.deps.database.raw.query("update users set status = 'suspended' where id = $1", [gone.id]);
    expect((await t.call("GET", api(`/users/${gone.id}`))).status).toBe(404);
    const read = await gql<{ property: unknown }>("query($id: ID!) { property(id: $id) { title host { name } } }", {
      id: shown.id,
    });
    expect(read.data?.property).toEqual({ title: "Still listed", host: null });
  });
});

describe("batching", () => {
  test.if(Boolean(databaseUrl))(
    "properties(first: 5 | 50) with host and 3 reviews each: the same few statements",
    async () => {
      const app = await startTestApp({ CACHE: "0" });
      try {
        await setClock(app.call, NOW);
        for (let h = 0; h < 10; h++) {
          const owner = await registerHost(app.call, `Host ${h}`);
          for (let i = 0; i < 5; i++) await createListing(app.call, owner, { title: `Batch ${h}-${i}` });
        }
        const reviewer = await registerUser(app.call);
        const ids = (await app.deps.database.raw.query("select id from properties")) as { id: string }[];
        for (const [i, p] of ids.entries()) {
          for (let r = 0; r < 4; r++) {
            const [bk] = (await app.deps.database.raw.query(
              `insert into bookings (id, property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total, cleaning_fee, service_fee, total, currency, cancellation_policy, expires_at)
             values (gen_random_uuid(), $1, $2, $3::date, $3::date + 1, 1, 'completed', 1, 100, 0, 10, 110, 'EUR', 'moderate', now()) returning id`,
              [p.id, reviewer.id, `2030-0${1 + (r % 9)}-${String(10 + (i % 18)).padStart(2, "0")}`],
            )) as { id: string }[];
            await app.deps.database.raw.query(
              "insert into reviews (booking_id, property_id, author_id, rating, comment) values ($1, $2, $3, 4, 'ok')",
              [bk?.id, p.id, reviewer.id],
            );
          }
        }
        const counted = postgres(app.deps.config.databaseUrl as string, { max: 1, onnotice: () => {} });
        let statements = 0;
        const db = drizzle(counted, { schema, logger: { logQuery: () => void statements++ } });
        try {
          const yoga = createGraphQL({ ...app.deps, db: db as unknown as typeof app.deps.db });
          const per: Record<number, number> = {};
          for (const first of [5, 50]) {
            statements = 0;
            const res = await yoga.fetch(
              new Request("http://localhost/graphql", {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({
                  query: `{ properties(first: ${first}) { edges { node { id host { name } reviews(first: 3) { rating author { name } } } } } }`,
                }),
              }),
            );
            const body = (await res.json()) as {
              data: { properties: { edges: { node: { host: { name: string }; reviews: unknown[] } }[] } };
            };
            expect(body.data.properties.edges.length).toBe(first);
            expect(
              body.data.properties.edges.every(
                (e) => e.node.host.name.startsWith("Host ") && e.node.reviews.length === 3,
              ),
            ).toBe(true);
            per[first] = statements;
          }
          // The search, the hosts, the reviews (with their authors): three, whatever the page's length.
          expect(per).toEqual({ 5: 3, 50: 3 });
        } finally {
          await counted.end();
        }
      } finally {
        await app.close();
      }
    },
    60_000,
  );
});

describe("limits", () => {
  test("too deep, too many aliases, too costly, too long: a GraphQL error with a code, fast, never a 500", async () => {
    // The deepest legal query (7 levels) passes.
    expect(
      codeOf(await gql("{ myBookings { edges { node { property { reviews { author { id } } } } } } }", {}, guest)),
    ).toBe("ok");
    // The schema has no cycles, so only a query naming fields that do not exist goes deeper; the
    // depth rule still refuses it (among the unknown-field errors).
    let deep = "id";
    for (let i = 0; i < LIMITS.depth + 2; i++) deep = `f${i} { ${deep} }`;
    const d = await gql(`{ me { ${deep} } }`, {}, guest);
    expect(d.status).toBeLessThan(500);
    expect(d.errors?.map((e) => e.extensions?.code)).toContain("query_too_deep");
    const aliases = `{ ${Array.from({ length: LIMITS.aliases + 1 }, (_, i) => `a${i}: me { id }`).join(" ")} }`;
    const a = await gql(aliases, {}, guest);
    expect(a.status).toBeLessThan(500);
    expect(codeOf(a)).toBe("too_many_aliases");
    const page =
      "properties(first: 100) { edges { node { host { name bio } reviews(first: 20) { author { name } comment response { comment } } } } }";
    const costly = `{ ${Array.from({ length: 12 }, (_, i) => `p${i}: ${page}`).join(" ")} }`;
    const c = await gql(costly);
    expect(c.status).toBeLessThan(500);
    expect(c.errors?.map((e) => e.extensions?.code)).toContain("query_too_costly");
    const started = performance.now();
    const tk = await gql(`{ me { ${"id ".repeat(LIMITS.tokens)} } }`, {}, guest);
    expect(tk.status).toBeLessThan(500);
    expect(codeOf(tk)).toBe("query_too_large");
    expect(performance.now() - started).toBeLessThan(2_000);
    const over = await t.call("POST", "/graphql", {
      rawBody: JSON.stringify({ query: `{ me { id } } #${"x".repeat(1024 * 1024)}` }),
      headers: { "content-type": "application/json" },
    });
    expect(over.status).toBe(413);
    const notJson = await t.call("POST", "/graphql", { rawBody: "{", headers: { "content-type": "application/json" } });
    expect(notJson.status).toBe(400);
    // Nested reviews are bounded too.
    const many = await gql("query($id: ID!) { property(id: $id) { reviews(first: 1000) { id } } }", {
      id: property.id,
    });
    expect(many.errors?.[0]?.extensions?.errors).toEqual([{ path: "/first", message: expect.any(String) }] as never);
  });

  test("introspection and GraphiQL on outside production; GRAPHQL_INTROSPECTION=0 turns them off", async () => {
    expect(codeOf(await gql("{ __schema { queryType { name } } }"))).toBe("ok");
    const page = await t.call("GET", "/graphql", { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.text).toContain("stayhub GraphQL");
    expect(page.text).not.toMatch(/unpkg\.com|cdn\.jsdelivr/);
    const closed = await startTestApp({ GRAPHQL_INTROSPECTION: "0" });
    try {
      const refused = await gql("{ __schema { queryType { name } } }", {}, undefined, closed.call);
      expect(refused.errors?.[0]?.message).toContain("introspection");
      expect((await closed.call("GET", "/graphql", { headers: { accept: "text/html" } })).text).not.toContain(
        "stayhub GraphQL",
      );
      // Without introspection, a misspelt field gets no suggestion of the real one.
      const typo = await gql("{ mee { id } }", {}, undefined, closed.call);
      expect(typo.errors?.[0]?.message).not.toContain("Did you mean");
    } finally {
      await closed.close();
    }
  });

  test("schema.graphql is the running server's schema (else: bun run graphql:schema)", async () => {
    const res = await gql<Parameters<typeof buildClientSchema>[0]>(getIntrospectionQuery({ descriptions: true }));
    const running = printSchema(buildClientSchema(res.data as Parameters<typeof buildClientSchema>[0]));
    const file = printSchema(buildSchema(await Bun.file(`${import.meta.dir}/../../schema.graphql`).text()));
    expect(running).toBe(file);
  });
});

const subscribe = (app: TestApp, bookingId: string, as: Registered) => subscribeBooking(app, bookingId, as);

describe("bookingUpdated over server-sent events", () => {
  test("paid on one instance, the guest watching on another sees confirmed, then cancelled, and the stream ends", async () => {
    const other = await startTestApp(MANY_HOLDS, { shareWith: t });
    try {
      const b = await newBooking();
      const res = await subscribe(other, b.id, guest);
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      const stream = events(res, (d) => d.length >= 3, 10_000);
      // The subscription's first event is the booking as it is.
      await Bun.sleep(100);
      const paid = await t.call("POST", api(`/bookings/${b.id}/payments`), {
        token: guest.accessToken,
        body: { paymentMethod: "pm_card_visa" },
        headers: { "idempotency-key": `sse-${b.id}` },
      });
      expect(paid.status).toBe(202);
      await drainJobs(t);
      await Bun.sleep(100);
      expect(
        (await t.call("POST", api(`/bookings/${b.id}/cancel`), { token: host.accessToken, body: { reason: "Sorry" } }))
          .status,
      ).toBe(200);
      const got = await stream;
      expect(got.data.map(statusOf)).toEqual(["pending_payment", "confirmed", "cancelled"]);
      // Each push's nested fields are read for that push (not kept from the first).
      const paymentsOf = (e: unknown) =>
        (e as { data: { bookingUpdated: { payments: { status: string }[] } } }).data.bookingUpdated.payments.map(
          (p) => p.status,
        );
      expect(paymentsOf(got.data[0])).toEqual([]);
      expect(paymentsOf(got.data[1])).toEqual(["succeeded"]);
      const rest = await events(res, () => false, 2_000).catch(() => ({ completed: true, data: [] }));
      expect(got.completed || rest.completed).toBe(true);
    } finally {
      await other.close();
    }
  }, 30_000);

  test("the host may watch too; a stranger gets not_found; a client that leaves is unsubscribed", async () => {
    const b = await newBooking();
    const strangers = await events(await subscribe(t, b.id, stranger), () => false, 2_000);
    expect(strangers.data.map((e) => (e as { errors?: GqlError[] }).errors?.[0]?.extensions?.code)).toEqual([
      "not_found",
    ]);
    const res = await subscribe(t, b.id, host);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let first = "";
    while (!first.includes("pending_payment")) first += new TextDecoder().decode((await reader.read()).value);
    const feed = bookingFeed(t.deps.database, t.deps.log);
    expect(feed.watching(b.id)).toBe(1);
    // The client goes away (the server cancels the body of a closed connection).
    await reader.cancel();
    for (let i = 0; i < 50 && feed.watching(b.id) > 0; i++) await Bun.sleep(20);
    expect(feed.watching(b.id)).toBe(0);
  }, 20_000);

  test("a change whose NOTIFY was lost (the LISTEN connection dropped) is pushed at the resync", async () => {
    const b = await newBooking();
    const res = await subscribe(t, b.id, guest);
    const stream = events(res, (d) => d.length >= 2, 5_000);
    await Bun.sleep(100);
    // The change commits with triggers off: no NOTIFY, as if it happened while disconnected.
    await t.deps.database.withSession(async (raw) => {
      await raw.exec("set session_replication_role = replica");
      await raw.query("update bookings set status = 'confirmed' where id = $1", [b.id]);
      await raw.exec("set session_replication_role = origin");
    });
    await Bun.sleep(100);
    bookingFeed(t.deps.database, t.deps.log).resync();
    expect((await stream).data.map(statusOf)).toEqual(["pending_payment", "confirmed"]);
    await res.body?.cancel().catch(() => {});
  });

  test("an account suspended meanwhile gets its 403 at the next push, and the stream ends", async () => {
    const watcher = await registerUser(t.call);
    const b = await newBooking(watcher);
    const res = await subscribe(t, b.id, watcher);
    const stream = events(res, (d) => d.length >= 2, 5_000);
    await Bun.sleep(100);
    await t.deps.database.raw.query("update users set status = 'suspended' where id = $1", [watcher.id]);
    await t.call("POST", api(`/bookings/${b.id}/cancel`), { token: host.accessToken, body: {} });
    const got = await stream;
    expect(got.data.map((e) => (e as { errors?: GqlError[] }).errors?.[0]?.extensions?.code ?? statusOf(e))).toEqual([
      "pending_payment",
      "forbidden",
    ]);
  });

  test("at most 20 live subscriptions per user: the 21st is rate_limited", async () => {
    const b = await newBooking();
    const open: Response[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await subscribe(t, b.id, host);
      await events(res, (d) => d.length >= 1, 3_000);
      open.push(res);
    }
    const refused = await events(await subscribe(t, b.id, host), () => false, 2_000);
    expect(refused.data.map((e) => (e as { errors?: GqlError[] }).errors?.[0]?.extensions?.code)).toEqual([
      "rate_limited",
    ]);
    for (const r of open) await r.body?.cancel().catch(() => {});
    const feed = bookingFeed(t.deps.database, t.deps.log);
    for (let i = 0; i < 50 && feed.watching(b.id) > 0; i++) await Bun.sleep(20);
    expect(feed.watching(b.id)).toBe(0);
    // Closed, they count no more.
    expect((await events(await subscribe(t, b.id, host), (d) => d.length >= 1, 3_000)).data.map(statusOf)).toEqual([
      "pending_payment",
    ]);
  });

  test("a booking already final is pushed once and the stream completes", async () => {
    const b = await newBooking();
    await t.call("POST", api(`/bookings/${b.id}/cancel`), { token: guest.accessToken, body: {} });
    const got = await events(await subscribe(t, b.id, guest), () => false, 3_000);
    expect(got.data.map(statusOf)).toEqual(["cancelled"]);
    expect(got.completed).toBe(true);
  });
});
