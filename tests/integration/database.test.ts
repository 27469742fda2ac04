// The invariants that live in the database, proven against it — concurrently where it matters.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { openDatabase } from "../../src/db/client";
import { EXCLUSION_VIOLATION, sqlState } from "../../src/db/errors";
import { migrate, migrationTags } from "../../src/db/migrate";
import { createTestDatabase, databaseUrl, type TestDatabase } from "../support/services";

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
}, 60_000);
afterAll(() => tdb?.drop());

const q = (text: string, params: unknown[] = []) => tdb.database.raw.query(text, params);
const uuid = () => Bun.randomUUIDv7();

async function fixture() {
  const host = uuid();
  const guest = uuid();
  const property = uuid();
  await q(
    "insert into users (id, email, password_hash, name, roles) values ($1, $2, 'x', 'Host', '{guest,host}'), ($3, $4, 'x', 'Guest', '{guest}')",
    [host, `h-${host}@example.com`, guest, `g-${guest}@example.com`],
  );
  await q(
    `insert into properties (id, host_id, title, property_type, address_line1, city, country, lat, lng, price_per_night, currency, max_guests)
     values ($1, $2, 'Flat', 'apartment', '1 Main St', 'Lisbon', 'PT', 38.7, -9.1, 10000, 'EUR', 2)`,
    [property, host],
  );
  return { host, guest, property };
}

const book = (
  f: { guest: string; property: string },
  checkIn: string,
  checkOut: string,
  status = "pending_payment",
) => {
  const nights = (Date.parse(checkOut) - Date.parse(checkIn)) / 86_400_000;
  return q(
    `insert into bookings (id, property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total, cleaning_fee, service_fee, total, currency, expires_at${status === "cancelled" ? ", cancelled_at, cancelled_by" : ""})
     values ($1, $2, $3, $4, $5, 1, $6, $7, 100, 0, 10, 110, 'EUR', now()${status === "cancelled" ? ", now(), 'guest'" : ""})`,
    [uuid(), f.property, f.guest, checkIn, checkOut, status, nights],
  );
};

describe("booking exclusion constraint", () => {
  test("50 concurrent overlapping bookings: exactly one is stored, the rest fail with 23P01", async () => {
    const f = await fixture();
    const attempts = Array.from({ length: 50 }, (_, i) => {
      const start = 10 + (i % 5);
      // Every range holds the night of the 14th, so any two overlap.
      return book(f, `2031-03-${start}`, `2031-03-${start + 5}`).then(
        () => "ok",
        (err) => sqlState(err),
      );
    });
    const outcomes = await Promise.all(attempts);
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(1);
    expect(outcomes.filter((o) => o === EXCLUSION_VIOLATION)).toHaveLength(49);
    const [row] = await q("select count(*)::int as n from bookings where property_id = $1", [f.property]);
    expect(row?.n).toBe(1);
  });

  test("back-to-back stays fit (checkOut is exclusive); cancelled and expired ones hold no nights", async () => {
    const f = await fixture();
    await book(f, "2031-05-01", "2031-05-04", "confirmed");
    await book(f, "2031-05-04", "2031-05-06");
    await book(f, "2031-05-02", "2031-05-03", "cancelled");
    await book(f, "2031-05-02", "2031-05-03", "expired");
    await book(f, "2031-05-02", "2031-05-03", "completed");
    for (const [from, to, status] of [
      ["2031-05-03", "2031-05-05", "confirmed"],
      ["2031-05-05", "2031-05-07", "pending_payment"],
    ] as const) {
      const err = await book(f, from, to, status).then(
        () => null,
        (e) => e,
      );
      expect(sqlState(err)).toBe(EXCLUSION_VIOLATION);
    }
  });

  test("other properties are independent", async () => {
    const a = await fixture();
    const b = await fixture();
    await book(a, "2031-07-01", "2031-07-05");
    await book(b, "2031-07-01", "2031-07-05");
    const [row] = await q(
      "select count(*)::int as n from bookings where property_id in ($1, $2) and check_in = '2031-07-01'",
      [a.property, b.property],
    );
    expect(row?.n).toBe(2);
  });
});

describe("check constraints", () => {
  const rejects = async (text: string, params: unknown[]) => {
    const err = await q(text, params).then(
      () => null,
      (e) => e,
    );
    expect(err).not.toBeNull();
    return sqlState(err);
  };

  test("bookings: checkOut after checkIn, guests ≥ 1, total adds up", async () => {
    const f = await fixture();
    expect(
      await rejects(
        "insert into bookings (id, property_id, guest_id, check_in, check_out, guests, nights, nightly_total, cleaning_fee, service_fee, total, currency, expires_at) values ($1, $2, $3, '2031-01-05', '2031-01-05', 1, 0, 0, 0, 0, 0, 'EUR', now())",
        [uuid(), f.property, f.guest],
      ),
    ).toBe("23514");
    expect(
      await rejects(
        "insert into bookings (id, property_id, guest_id, check_in, check_out, guests, nights, nightly_total, cleaning_fee, service_fee, total, currency, expires_at) values ($1, $2, $3, '2031-01-05', '2031-01-06', 0, 1, 100, 0, 10, 110, 'EUR', now())",
        [uuid(), f.property, f.guest],
      ),
    ).toBe("23514");
    expect(
      await rejects(
        "insert into bookings (id, property_id, guest_id, check_in, check_out, guests, nights, nightly_total, cleaning_fee, service_fee, total, currency, expires_at) values ($1, $2, $3, '2031-01-05', '2031-01-06', 1, 1, 100, 0, 10, 999, 'EUR', now())",
        [uuid(), f.property, f.guest],
      ),
    ).toBe("23514");
  });

  test("properties: prices ≥ 0, minNights ≤ maxNights, coordinates in range, ISO country", async () => {
    const f = await fixture();
    const base =
      "insert into properties (id, host_id, title, property_type, address_line1, city, country, lat, lng, price_per_night, currency, max_guests, min_nights, max_nights) values ($1, $2, 'T', 'house', 'a', 'c', $3, $4, 0, $5, 'EUR', 1, $6, $7)";
    expect(await rejects(base, [uuid(), f.host, "PT", 0, -1, 1, 2])).toBe("23514");
    expect(await rejects(base, [uuid(), f.host, "PT", 0, 100, 5, 2])).toBe("23514");
    expect(await rejects(base, [uuid(), f.host, "PT", 91, 100, 1, 2])).toBe("23514");
    expect(await rejects(base, [uuid(), f.host, "pt", 0, 100, 1, 2])).toBe("23514");
  });

  test("reviews: rating 1–5 and one per booking", async () => {
    const f = await fixture();
    const bookingId = uuid();
    await q(
      "insert into bookings (id, property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total, cleaning_fee, service_fee, total, currency, expires_at) values ($1, $2, $3, '2030-01-01', '2030-01-02', 1, 'completed', 1, 100, 0, 10, 110, 'EUR', now())",
      [bookingId, f.property, f.guest],
    );
    const review =
      "insert into reviews (id, booking_id, property_id, author_id, rating, comment) values ($1, $2, $3, $4, $5, 'ok')";
    expect(await rejects(review, [uuid(), bookingId, f.property, f.guest, 6])).toBe("23514");
    expect(await rejects(review, [uuid(), bookingId, f.property, f.guest, 0])).toBe("23514");
    await q(review, [uuid(), bookingId, f.property, f.guest, 5]);
    expect(await rejects(review, [uuid(), bookingId, f.property, f.guest, 4])).toBe("23505");
  });

  test("users: one account per e-mail, stored lower-case; roles from the known set", async () => {
    const id = uuid();
    await q("insert into users (id, email, password_hash, name) values ($1, $2, 'x', 'A')", [id, `${id}@example.com`]);
    expect(
      await rejects("insert into users (id, email, password_hash, name) values ($1, $2, 'x', 'A')", [
        uuid(),
        `${id}@example.com`,
      ]),
    ).toBe("23505");
    expect(
      await rejects("insert into users (id, email, password_hash, name) values ($1, $2, 'x', 'A')", [
        uuid(),
        `${id.toUpperCase()}@EXAMPLE.COM`,
      ]),
    ).toBe("23514");
    expect(
      await rejects("insert into users (id, email, password_hash, name, roles) values ($1, $2, 'x', 'A', '{root}')", [
        uuid(),
        `r-${id}@example.com`,
      ]),
    ).toBe("23514");
  });

  test("payments: one live payment per booking; refunds never exceed the amount", async () => {
    const f = await fixture();
    const bookingId = uuid();
    await q(
      "insert into bookings (id, property_id, guest_id, check_in, check_out, guests, nights, nightly_total, cleaning_fee, service_fee, total, currency, expires_at) values ($1, $2, $3, '2032-01-01', '2032-01-02', 1, 1, 100, 0, 10, 110, 'EUR', now())",
      [bookingId, f.property, f.guest],
    );
    const pay =
      "insert into payments (id, booking_id, payer_id, amount, currency, status, payment_method, failure_code, refunded_amount) values ($1, $2, $3, 110, 'EUR', $4, 'pm_card_visa', $5, $6)";
    await q(pay, [uuid(), bookingId, f.guest, "failed", "card_declined", 0]);
    await q(pay, [uuid(), bookingId, f.guest, "processing", null, 0]);
    expect(await rejects(pay, [uuid(), bookingId, f.guest, "processing", null, 0])).toBe("23505");
    expect(await rejects(pay, [uuid(), bookingId, f.guest, "failed", "card_declined", 111])).toBe("23514");
  });
});

describe("migrations", () => {
  test("re-running applies nothing", async () => {
    expect((await migrate(tdb.database)).applied).toEqual([]);
  });

  test.if(Boolean(databaseUrl))(
    "instances starting together do not race: the advisory lock serialises them",
    async () => {
      const postgres = (await import("postgres")).default;
      const name = `stayhub_mig_${Math.random().toString(36).slice(2, 8)}`;
      const admin = postgres(databaseUrl as string, { max: 1, onnotice: () => {} });
      await admin.unsafe(`create database "${name}"`);
      const url = new URL(databaseUrl as string);
      url.pathname = `/${name}`;
      const instances = await Promise.all(
        Array.from({ length: 4 }, () => openDatabase({ url: url.toString(), poolSize: 2 })),
      );
      try {
        const results = await Promise.all(instances.map((db) => migrate(db)));
        const applied = results.flatMap((r) => r.applied);
        expect(applied.sort()).toEqual(migrationTags().sort());
      } finally {
        await Promise.all(instances.map((db) => db.close()));
        await admin.unsafe(`drop database "${name}" with (force)`);
        await admin.end();
      }
    },
  );
});

describe("connection pool", () => {
  test.if(Boolean(databaseUrl))(
    "a query goes to the first free connection, never queued behind a slow one",
    async () => {
      const db = await openDatabase({ url: tdb.url as string, poolSize: 2 });
      try {
        await Promise.all([db.db.execute(sql`select 1`), db.db.execute(sql`select 1`)]); // both connections open
        const finished: string[] = [];
        const slow = db.db.execute(sql`select pg_sleep(0.5)`).then(() => finished.push("slow"));
        await Promise.all(
          Array.from({ length: 6 }, () => db.db.execute(sql`select 1`).then(() => finished.push("fast"))),
        );
        await slow;
        expect(finished).toEqual([...Array(6).fill("fast"), "slow"]);
      } finally {
        await db.close();
      }
    },
  );

  test.if(Boolean(databaseUrl))(
    "an open transaction holds its connection: a query waits for it rather than queue behind a slow one",
    async () => {
      const db = await openDatabase({ url: tdb.url as string, poolSize: 2 });
      try {
        await Promise.all([db.db.execute(sql`select 1`), db.db.execute(sql`select 1`)]); // both connections open
        const finished: string[] = [];
        const tx = db.db
          .transaction(async (t) => void (await t.execute(sql`select pg_sleep(0.2)`)))
          .then(() => finished.push("transaction"));
        const slow = db.db.execute(sql`select pg_sleep(1)`).then(() => finished.push("slow"));
        const fast = db.db.execute(sql`select 1`).then(() => finished.push("fast"));
        await Promise.all([tx, slow, fast]);
        expect(finished).toEqual(["transaction", "fast", "slow"]);
      } finally {
        await db.close();
      }
    },
  );

  test.if(Boolean(databaseUrl))(
    "planEach plans every execution for its values; the main handle may settle on a generic plan",
    async () => {
      const mode = async (db: typeof tdb.database.db) =>
        ((await db.execute(sql`select current_setting('plan_cache_mode') as mode`)) as unknown as { mode: string }[])[0]
          ?.mode;
      expect(await mode(tdb.database.planEach)).toBe("force_custom_plan");
      expect(await mode(tdb.database.db)).toBe("auto");
    },
  );

  test.if(Boolean(databaseUrl))("transactions still begin while every connection is busy", async () => {
    const db = await openDatabase({ url: tdb.url as string, poolSize: 2 });
    try {
      const busy = Array.from({ length: 4 }, () => db.db.execute(sql`select pg_sleep(0.2)`));
      const results = await Promise.all(
        Array.from({ length: 3 }, (_, i) =>
          db.db.transaction(
            async (tx) => ((await tx.execute(sql`select ${i}::int as n`)) as unknown as { n: number }[])[0]?.n,
          ),
        ),
      );
      expect(results).toEqual([0, 1, 2]);
      await Promise.all(busy);
    } finally {
      await db.close();
    }
  });
});
