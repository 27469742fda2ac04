// The payment-attempt limits count from the guest's payments of the last hour only (by payer): a
// guest with a long history (hundreds of old bookings, each with a payment), or with many holds
// in the last hour, costs a payment attempt no more reads than a new one. Proven on the plans
// PostgreSQL runs (EXPLAIN ANALYZE) on a populated table.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { attemptQueries } from "../../src/modules/payments/attempt-limits";
import { createTestDatabase, type TestDatabase } from "../support/services";

let tdb: TestDatabase;
const NOW = new Date("2031-01-15T12:00:00Z");
const user = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const property = (n: number) => `10000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const GUEST = user(7);
const LIVE = "20000000-0000-4000-8000-000000000001";

beforeAll(async () => {
  tdb = await createTestDatabase();
  const db = tdb.database.db;
  const now = NOW.toISOString();
  await db.execute(sql`insert into users (id, email, password_hash, name)
    select ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'u' || g || '@example.com', 'x', 'u'
    from generate_series(1, 501) g`);
  await db.execute(sql`insert into properties (id, host_id, title, property_type, address_line1, city, country, lat, lng, price_per_night, currency, max_guests)
    select ('10000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, ${user(501)}::uuid, 't', 'apartment', 'a', 'Lisbon', 'PT', 0, 0, 100, 'EUR', 2
    from generate_series(1, 50) g`);
  // 100,000 old bookings of 500 guests (200 each, the last a day ago), all cancelled, each with a declined payment.
  await db.execute(sql`insert into bookings (id, property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total,
      cleaning_fee, service_fee, total, currency, expires_at, cancelled_at, cancelled_by, created_at)
    select gen_random_uuid(), ('10000000-0000-4000-8000-' || lpad((1 + g % 50)::text, 12, '0'))::uuid,
      ('00000000-0000-4000-8000-' || lpad((1 + g % 500)::text, 12, '0'))::uuid, date '2030-01-01' + (g % 300), date '2030-01-02' + (g % 300),
      1, 'cancelled', 1, 100, 0, 10, 110, 'EUR', ${now}::timestamptz - interval '1 day' - g * interval '100 seconds' + interval '15 minutes',
      ${now}::timestamptz, 'guest', ${now}::timestamptz - interval '1 day' - g * interval '100 seconds'
    from generate_series(1, 100000) g`);
  await db.execute(sql`insert into payments (id, booking_id, payer_id, amount, currency, status, payment_method, failure_code, created_at)
    select gen_random_uuid(), b.id, b.guest_id, 110, 'EUR', 'failed', 'pm_card_declined', 'card_declined', b.created_at + interval '1 minute'
    from bookings b`);
  // 300 holds the guest made in the last hour and let expire, two of them paid (declined).
  await db.execute(sql`insert into bookings (id, property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total,
      cleaning_fee, service_fee, total, currency, expires_at, created_at)
    select gen_random_uuid(), ('10000000-0000-4000-8000-' || lpad((1 + g % 50)::text, 12, '0'))::uuid, ${GUEST}::uuid,
      date '2031-06-01' + g, date '2031-06-02' + g, 1, 'expired', 1, 100, 0, 10, 110, 'EUR',
      ${now}::timestamptz - g * interval '10 seconds' + interval '15 minutes', ${now}::timestamptz - g * interval '10 seconds'
    from generate_series(1, 300) g`);
  await db.execute(sql`insert into payments (id, booking_id, payer_id, amount, currency, status, payment_method, failure_code, created_at)
    select gen_random_uuid(), b.id, b.guest_id, 110, 'EUR', 'failed', 'pm_card_declined', 'card_declined', b.created_at + interval '1 minute'
    from bookings b where b.guest_id = ${GUEST}::uuid and b.check_in in ('2031-06-02', '2031-06-03')`);
  // The hold being paid now.
  await db.execute(sql`insert into bookings (id, property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total,
      cleaning_fee, service_fee, total, currency, expires_at, created_at)
    values (${LIVE}::uuid, ${property(3)}::uuid, ${GUEST}::uuid, '2031-03-01', '2031-03-03', 1, 'pending_payment', 2, 200, 0, 20, 220, 'EUR',
      ${now}::timestamptz + interval '10 minutes', ${now}::timestamptz - interval '5 minutes')`);
  await db.execute(sql`analyze`);
}, 180_000);
afterAll(() => tdb?.drop());

interface PlanNode {
  "Relation Name"?: string;
  "Index Name"?: string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  Plans?: PlanNode[];
}

const walk = (node: PlanNode, out: PlanNode[] = []): PlanNode[] => {
  out.push(node);
  for (const child of node.Plans ?? []) walk(child, out);
  return out;
};

test("a payment attempt reads the guest's payments of the last hour, not their bookings or older payments", async () => {
  const read: Record<string, number> = {};
  const indexes = new Set<string>();
  for (const query of attemptQueries(tdb.database.db, GUEST, LIVE, NOW)) {
    const { sql: text, params } = query.toSQL();
    const [row] = await tdb.database.raw.query<{ "QUERY PLAN": unknown }>(
      `explain (analyze, format json) ${text}`,
      params,
    );
    const raw = row?.["QUERY PLAN"];
    const doc = (typeof raw === "string" ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
    for (const node of walk((doc[0] as { Plan: PlanNode }).Plan)) {
      const relation = node["Relation Name"];
      if (relation) read[relation] = (read[relation] ?? 0) + (node["Actual Rows"] ?? 0) * (node["Actual Loops"] ?? 1);
      if (node["Index Name"]) indexes.add(node["Index Name"]);
    }
  }
  // No booking is read; of the guest's 202 payments, the 2 of the last hour.
  expect(read.bookings ?? 0).toBe(0);
  expect(read.payments).toBeLessThanOrEqual(2);
  expect(indexes.has("payments_payer_idx")).toBe(true);
}, 60_000);
