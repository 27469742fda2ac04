// Reviews over REST: only completed stays, within 30 days, once per booking (also under
// concurrency), both ways (guests by hosts), one answer by the host, pages with their authors in
// one statement, and aggregates that always equal what the reviews say — in the property's answer,
// in search and its rating sort, with the cache on.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "../../src/db/schema";
import { listPropertyReviews } from "../../src/modules/reviews/service";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { type BookingBody, book, drainJobs, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";
import { databaseUrl } from "../support/services";

const NOW = "2031-06-01T09:00:00.000Z";
let t: TestApp;
let host: Registered;
let stranger: Registered;

beforeAll(async () => {
  t = await startTestApp();
  await setClock(t.call, NOW);
  host = await registerHost(t.call);
  stranger = await registerUser(t.call);
}, 60_000);
afterEach(() => setClock(t.call, NOW));
afterAll(async () => {
  await t?.call("DELETE", "/api/v1/_test/clock");
  await t?.close();
});

interface ReviewBody {
  id: string;
  bookingId: string;
  propertyId: string;
  authorId: string;
  author: { id: string; name: string; avatarUrl: string | null };
  rating: number;
  comment: string;
  response?: { comment: string; createdAt: string };
  createdAt: string;
  code?: string;
  detail?: string;
  errors?: { path: string }[];
}

const api = (path: string) => `/api/v1${path}`;
const query = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  t.deps.database.raw.query(text, params) as Promise<T[]>;
const review = (
  user: Registered,
  bookingId: string,
  body: Record<string, unknown> = { rating: 5, comment: "Lovely." },
) => t.call<ReviewBody>("POST", api(`/bookings/${bookingId}/reviews`), { token: user.accessToken, body });
const guestReview = (
  user: Registered,
  bookingId: string,
  body: Record<string, unknown> = { rating: 4, comment: "A tidy guest." },
) =>
  t.call<Omit<ReviewBody, "propertyId"> & { guestId: string }>("POST", api(`/bookings/${bookingId}/guest-review`), {
    token: user.accessToken,
    body,
  });

/** A confirmed stay of two nights from `checkIn` (paid, as far as reviews care) by a new guest. */
async function stay(
  propertyId: string,
  checkIn = "2031-06-10",
  guest?: Registered,
): Promise<{ guest: Registered; booking: BookingBody }> {
  const g = guest ?? (await registerUser(t.call, { name: "Gina Guest" }));
  const checkOut = new Date(Date.parse(`${checkIn}T00:00:00Z`) + 2 * 86_400_000).toISOString().slice(0, 10);
  const res = await book(t.call, g, { propertyId, checkIn, checkOut });
  if (res.status !== 201) throw new Error(`booking: ${res.status} ${res.text}`);
  await query("update bookings set status = 'confirmed' where id = $1", [res.body.id]);
  return { guest: g, booking: res.body };
}
/** The day after checkout: the stay completes on sight. */
const afterStay = () => setClock(t.call, "2031-06-13T10:00:00.000Z");

describe("a guest reviews a stay", () => {
  test("201 with the author embedded; the property's rating includes it at once, cache on", async () => {
    const p = await createListing(t.call, host);
    const before = await t.call<{ ratingAverage: number | null; reviewCount: number }>(
      "GET",
      api(`/properties/${p.id}`),
    );
    expect(before.body).toMatchObject({ ratingAverage: null, reviewCount: 0 });
    const { guest, booking } = await stay(p.id);
    await afterStay();
    const res = await review(guest, booking.id, { rating: 4, comment: "  Great view, thin walls.  " });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      bookingId: booking.id,
      propertyId: p.id,
      authorId: guest.id,
      author: { id: guest.id, name: "Gina Guest", avatarUrl: null },
      rating: 4,
      comment: "Great view, thin walls.",
      createdAt: "2031-06-13T10:00:00.000Z",
    });
    expect((await t.call("GET", api(`/bookings/${booking.id}`), { token: guest.accessToken })).body.status).toBe(
      "completed",
    );
    const after = await t.call<{ ratingAverage: number | null; reviewCount: number }>(
      "GET",
      api(`/properties/${p.id}`),
    );
    expect(after.body).toMatchObject({ ratingAverage: 4, reviewCount: 1 });
    await drainJobs(t);
    const notes = await query(
      "select 1 from notifications where user_id = $1 and type = 'review_received' and data->>'reviewId' = $2",
      [host.id, res.body.id],
    );
    expect(notes.length).toBe(1);
  });

  test("only a completed stay, within 30 days of its checkout day: else 422 saying why", async () => {
    const p = await createListing(t.call, host);
    const pending = await (async () => {
      const g = await registerUser(t.call);
      return {
        guest: g,
        booking: (await book(t.call, g, { propertyId: p.id, checkIn: "2031-06-20", checkOut: "2031-06-22" })).body,
      };
    })();
    const { guest, booking } = await stay(p.id);
    // The checkout day itself: not completed yet.
    await setClock(t.call, "2031-06-12T23:59:59.000Z");
    const early = await review(guest, booking.id);
    expect(early.status).toBe(422);
    expect(early.body.detail).toContain("Only a completed stay can be reviewed; this booking is confirmed");
    const unpaid = await review(pending.guest, pending.booking.id);
    expect(unpaid.status).toBe(422);
    // The 30th day after the checkout day (2031-06-12) is the last, to the millisecond.
    await setClock(t.call, "2031-07-13T00:00:00.000Z");
    const late = await review(guest, booking.id);
    expect(late.status).toBe(422);
    expect(late.body.detail).toContain("The review window closed at 2031-07-13T00:00:00.000Z");
    await setClock(t.call, "2031-07-12T23:59:59.999Z");
    expect((await review(guest, booking.id)).status).toBe(201);
  });

  test("anyone but the booking's guest gets 404; no token 401", async () => {
    const p = await createListing(t.call, host);
    const { booking } = await stay(p.id);
    await afterStay();
    for (const who of [host, stranger]) expect((await review(who, booking.id)).status).toBe(404);
    expect((await review(stranger, "not-a-uuid")).status).toBe(404);
    expect((await review(stranger, crypto.randomUUID())).status).toBe(404);
    expect(
      (await t.call("POST", api(`/bookings/${booking.id}/reviews`), { body: { rating: 5, comment: "x" } })).status,
    ).toBe(401);
  });

  test("bad input is 422 naming the field, never a 5xx; nothing is stored", async () => {
    const p = await createListing(t.call, host);
    const { guest, booking } = await stay(p.id);
    await afterStay();
    for (const [body, path] of [
      [{ rating: 0, comment: "ok" }, "/rating"],
      [{ rating: 6, comment: "ok" }, "/rating"],
      [{ rating: 3.5, comment: "ok" }, "/rating"],
      [{ rating: "5", comment: "ok" }, "/rating"],
      [{ rating: 5, comment: "" }, "/comment"],
      [{ rating: 5, comment: "   \n\t " }, "/comment"],
      [{ rating: 5, comment: "x".repeat(2001) }, "/comment"],
      [{ rating: 5, comment: ` ${"x".repeat(2001)} ` }, "/comment"],
      [{ rating: 5 }, "/comment"],
      [{ rating: 5, comment: "ok", helpful: 100 }, "/helpful"],
    ] as const) {
      const res = await review(guest, booking.id, body as Record<string, unknown>);
      expect({ body, status: res.status, path: res.body.errors?.[0]?.path }).toEqual({ body, status: 422, path });
    }
    expect(await query("select 1 from reviews where booking_id = $1", [booking.id])).toEqual([]);
    // 2000 characters after trimming, however many spaces around them; emoji count as one each.
    const long = await review(guest, booking.id, { rating: 1, comment: ` ${"😀".repeat(1999)}x  ` });
    expect(long.status).toBe(201);
    expect([...long.body.comment].length).toBe(2000);
  });

  test("10 identical reviews at once → exactly one 201, nine 409 already_reviewed; counted once", async () => {
    const p = await createListing(t.call, host);
    const { guest, booking } = await stay(p.id);
    await afterStay();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => review(guest, booking.id, { rating: 3, comment: "Fine." })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, ...Array(9).fill(409)]);
    for (const a of answers.filter((x) => x.status === 409)) expect(a.body.code).toBe("already_reviewed");
    const [agg] = await query<{ rating_sum: number; review_count: number }>(
      "select rating_sum, review_count from properties where id = $1",
      [p.id],
    );
    expect(agg).toEqual({ rating_sum: 3, review_count: 1 });
  });
});

describe("aggregates", () => {
  test("200 concurrent reviews across 50 properties: every aggregate equals a fresh avg() and count()", async () => {
    const props = await Promise.all(Array.from({ length: 50 }, () => createListing(t.call, host, { minNights: 1 })));
    const guests = await Promise.all(Array.from({ length: 10 }, () => registerUser(t.call)));
    // 4 completed stays a property, by 10 guests, written straight to the database.
    const stays: { guest: Registered; bookingId: string; rating: number }[] = [];
    for (const [i, p] of props.entries()) {
      for (let k = 0; k < 4; k++) {
        const guest = guests[(i * 4 + k) % guests.length] as Registered;
        const checkIn = `2031-05-${String(1 + k * 3).padStart(2, "0")}`;
        const checkOut = `2031-05-${String(3 + k * 3).padStart(2, "0")}`;
        const [b] = await query<{ id: string }>(
          `insert into bookings (property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total, cleaning_fee, service_fee, total, currency, expires_at)
           values ($1, $2, $3, $4, 1, 'completed', 2, 20000, 0, 2000, 22000, 'EUR', now()) returning id`,
          [p.id, guest.id, checkIn, checkOut],
        );
        stays.push({ guest, bookingId: b?.id as string, rating: 1 + ((i + k * 7) % 5) });
      }
    }
    const answers = await Promise.all(
      stays.map((s) => review(s.guest, s.bookingId, { rating: s.rating, comment: "Concurrent." })),
    );
    expect(answers.filter((a) => a.status !== 201).map((a) => `${a.status} ${a.body.detail}`)).toEqual([]);
    const rows = await query<{ id: string; rating_sum: number; review_count: number; sum: number; count: number }>(
      `select p.id, p.rating_sum, p.review_count, coalesce(sum(r.rating), 0)::int as sum, count(r.id)::int as count
       from properties p left join reviews r on r.property_id = p.id where p.id = any($1::uuid[]) group by p.id`,
      [props.map((p) => p.id)],
    );
    expect(rows.length).toBe(50);
    for (const r of rows)
      expect({ id: r.id, sum: r.rating_sum, count: r.review_count }).toEqual({ id: r.id, sum: r.sum, count: r.count });
    // And each property's answer says the same, rounded to 2 decimals.
    for (const p of props.slice(0, 10)) {
      const row = rows.find((r) => r.id === p.id) as (typeof rows)[number];
      const shown = await t.call<{ ratingAverage: number; reviewCount: number }>("GET", api(`/properties/${p.id}`));
      expect(shown.body).toMatchObject({
        ratingAverage: Math.round((row.sum * 100) / row.count) / 100,
        reviewCount: row.count,
      });
    }
  }, 60_000);

  test("search and sort=rating reflect a new review at once, with the cache on", async () => {
    const city = `Reviewtown${Math.random().toString(36).slice(2, 7)}`;
    const [a, b] = await Promise.all(
      [0, 1].map(() =>
        createListing(t.call, host, {
          address: { line1: "Main St 1", city, country: "PT" },
          location: { lat: 38.7, lng: -9.1 },
        }),
      ),
    );
    const search = async () =>
      (
        await t.call<{ data: { id: string; ratingAverage: number | null }[] }>(
          "GET",
          api(`/properties?city=${city}&sort=rating`),
        )
      ).body.data;
    const first = await search();
    expect(first.every((p) => p.ratingAverage === null)).toBe(true);
    const target = first[1]?.id === a?.id ? (a as { id: string }) : (b as { id: string });
    const { guest, booking } = await stay(target.id);
    await afterStay();
    expect((await review(guest, booking.id, { rating: 5, comment: "Best." })).status).toBe(201);
    const next = await search();
    expect(next[0]).toMatchObject({ id: target.id, ratingAverage: 5 });
  });
});

describe("the host's response", () => {
  test("the property's host answers once (201 with the review); again 409; anyone else 404", async () => {
    const p = await createListing(t.call, host);
    const { guest, booking } = await stay(p.id);
    await afterStay();
    const r = await review(guest, booking.id);
    const respond = (who: Registered, comment = "Thank you!") =>
      t.call<ReviewBody>("POST", api(`/reviews/${r.body.id}/response`), { token: who.accessToken, body: { comment } });
    for (const who of [guest, stranger]) expect((await respond(who)).status).toBe(404);
    const ok = await respond(host, "  Thank you, come back!  ");
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({
      ...r.body,
      response: { comment: "Thank you, come back!", createdAt: "2031-06-13T10:00:00.000Z" },
    });
    const again = await respond(host, "Edited");
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("already_reviewed");
    expect(
      (
        await t.call("POST", api(`/reviews/${crypto.randomUUID()}/response`), {
          token: host.accessToken,
          body: { comment: "x" },
        })
      ).status,
    ).toBe(404);
    expect(
      (await t.call("POST", api(`/reviews/${r.body.id}/response`), { token: host.accessToken, body: { comment: " " } }))
        .status,
    ).toBe(422);
  });

  test("a response whose 200th character is an emoji is answered and notified whole (the notice cuts by characters)", async () => {
    const p = await createListing(t.call, host);
    const { guest, booking } = await stay(p.id);
    await afterStay();
    const r = await review(guest, booking.id);
    const comment = `${"a".repeat(199)}😀 thanks`;
    const res = await t.call<ReviewBody>("POST", api(`/reviews/${r.body.id}/response`), {
      token: host.accessToken,
      body: { comment },
    });
    expect(res.status).toBe(201);
    await drainJobs(t);
    const [note] = await query<{ body: string }>(
      "select body from notifications where user_id = $1 and type = 'review_response'",
      [guest.id],
    );
    expect(note?.body).toBe(`${"a".repeat(199)}😀`);
  });
});

describe("listing a property's reviews", () => {
  test("newest first, paginated by cursor, authors and responses embedded; unlisted: its host only", async () => {
    const p = await createListing(t.call, host);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { guest, booking } = await stay(p.id, `2031-06-0${1 + i}`);
      await setClock(t.call, `2031-06-${String(10 + i).padStart(2, "0")}T10:00:00.000Z`);
      ids.push((await review(guest, booking.id, { rating: 1 + i, comment: `Review ${i}` })).body.id);
      await setClock(t.call, NOW);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { data: ReviewBody[]; nextCursor: string | null } } = await t.call(
        "GET",
        api(`/properties/${p.id}/reviews?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`),
      );
      expect(page.status).toBe(200);
      for (const r of page.body.data) expect(r.author.name).toBe("Gina Guest");
      seen.push(...page.body.data.map((r) => r.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expect((await t.call("GET", api(`/properties/${p.id}/reviews?cursor=forged`))).status).toBe(422);
    expect((await t.call("GET", api(`/properties/${crypto.randomUUID()}/reviews`))).status).toBe(404);
    await t.call("DELETE", api(`/properties/${p.id}`), { token: host.accessToken });
    expect((await t.call("GET", api(`/properties/${p.id}/reviews`))).status).toBe(404);
    expect((await t.call("GET", api(`/properties/${p.id}/reviews`), { token: stranger.accessToken })).status).toBe(404);
    expect((await t.call("GET", api(`/properties/${p.id}/reviews`), { token: host.accessToken })).status).toBe(200);
  });

  test.if(Boolean(databaseUrl))("one SQL statement per page, whatever its length", async () => {
    const p = await createListing(t.call, host);
    for (let i = 0; i < 30; i++) {
      const { guest, booking } = await stay(
        p.id,
        new Date(Date.parse("2031-07-01T00:00:00Z") + i * 3 * 86_400_000).toISOString().slice(0, 10),
      );
      await query("update bookings set status = 'completed' where id = $1", [booking.id]);
      await query(
        "insert into reviews (booking_id, property_id, author_id, rating, comment) values ($1, $2, $3, 4, 'ok')",
        [booking.id, p.id, guest.id],
      );
    }
    const counted = postgres(t.deps.config.databaseUrl as string, { max: 1, onnotice: () => {} });
    let statements = 0;
    const db = drizzle(counted, { schema, logger: { logQuery: () => void statements++ } });
    try {
      const viewer = async () => null;
      const deps = { ...t.deps, db: db as unknown as typeof t.deps.db };
      // The property's answer is cached after the first read: a page costs its one statement.
      await listPropertyReviews({ propertyId: p.id, viewer, limit: 1 }, deps);
      const per: number[] = [];
      for (const limit of [1, 5, 20, 30]) {
        statements = 0;
        const page = await listPropertyReviews({ propertyId: p.id, viewer, limit }, deps);
        expect(page.data.length).toBe(limit);
        per.push(statements);
      }
      expect(per).toEqual([1, 1, 1, 1]);
    } finally {
      await counted.end();
    }
  });
});

describe("guests reviewed by hosts", () => {
  test("the host reviews the guest once; the guest's public profile and review list say so; others 404", async () => {
    const p = await createListing(t.call, host);
    const { guest, booking } = await stay(p.id);
    await setClock(t.call, "2031-06-12T12:00:00.000Z");
    expect((await guestReview(host, booking.id)).status).toBe(422);
    await afterStay();
    for (const who of [guest, stranger]) expect((await guestReview(who, booking.id)).status).toBe(404);
    const res = await guestReview(host, booking.id, { rating: 4, comment: " Left the flat spotless. " });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      bookingId: booking.id,
      guestId: guest.id,
      authorId: host.id,
      author: { id: host.id, name: "Hannah Host", avatarUrl: null },
      rating: 4,
      comment: "Left the flat spotless.",
      createdAt: "2031-06-13T10:00:00.000Z",
    });
    const again = await guestReview(host, booking.id);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("already_reviewed");
    // A second stay of the same guest, rated 5: the average is 4.5.
    const second = await stay(p.id, "2031-06-20", guest);
    await setClock(t.call, "2031-06-23T10:00:00.000Z");
    expect((await guestReview(host, second.booking.id, { rating: 5, comment: "Again great." })).status).toBe(201);
    const profile = await t.call<{ guestRatingAverage: number | null; guestReviewCount: number }>(
      "GET",
      api(`/users/${guest.id}`),
    );
    expect(profile.body).toMatchObject({ guestRatingAverage: 4.5, guestReviewCount: 2 });
    expect(
      (await t.call<{ guestRatingAverage: number | null }>("GET", api(`/users/${stranger.id}`))).body,
    ).toMatchObject({ guestRatingAverage: null, guestReviewCount: 0 });
    const list = await t.call<{ data: { id: string; rating: number }[]; nextCursor: string | null }>(
      "GET",
      api(`/users/${guest.id}/reviews?limit=1`),
    );
    expect(list.body.data.map((r) => r.rating)).toEqual([5]);
    const rest = await t.call<{ data: { id: string; rating: number }[]; nextCursor: string | null }>(
      "GET",
      api(`/users/${guest.id}/reviews?limit=1&cursor=${encodeURIComponent(list.body.nextCursor as string)}`),
    );
    expect(rest.body.data.map((r) => r.id)).toEqual([res.body.id]);
    expect((await t.call("GET", api(`/users/${crypto.randomUUID()}/reviews`))).status).toBe(404);
    // The guest's own review of the stay is independent of the host's.
    expect((await review(guest, second.booking.id)).status).toBe(201);
    await drainJobs(t);
    const notes = await query("select 1 from notifications where user_id = $1 and type = 'guest_review_received'", [
      guest.id,
    ]);
    expect(notes.length).toBe(2);
  });
});
