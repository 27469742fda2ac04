// Indexes, proven: on a seeded database (10,000 properties, ~20,000 bookings) every search shape's
// plan uses its intended index and never scans properties or bookings sequentially.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { fillPlaceholders } from "drizzle-orm";
import { seed } from "../../src/db/seed";
import { addDays } from "../../src/lib/dates";
import { type SearchParams, searchQuery } from "../../src/modules/properties/search";
import { createTestDatabase, type TestDatabase } from "../support/services";

let tdb: TestDatabase;
const NOW = new Date("2031-01-15T12:00:00Z");
const today = "2031-01-15";

beforeAll(async () => {
  tdb = await createTestDatabase();
  const result = await seed(tdb.database.db, { properties: 10_000, passwordHash: "x", now: NOW });
  expect(result.bookings).toBeGreaterThan(18_000);
}, 180_000);
afterAll(() => tdb?.drop());

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

function walk(node: PlanNode, out: PlanNode[] = []): PlanNode[] {
  out.push(node);
  for (const child of node.Plans ?? []) walk(child, out);
  return out;
}

const literal = (v: unknown) => (typeof v === "number" ? String(v) : `'${String(v).replaceAll("'", "''")}'`);

/**
 * The plan of a search as the service runs it: custom (planned for these values), or generic — the
 * plan PostgreSQL may settle on for a statement prepared once per shape (every search but text).
 */
async function plan(q: SearchParams, mode: "custom" | "generic" = "custom") {
  const { query, values } = searchQuery(tdb.database.db, q, new Date(`${today}T09:00:00Z`));
  const { sql, params } = query.toSQL();
  const filled = fillPlaceholders(params, values);
  const [row] =
    mode === "custom"
      ? await tdb.database.raw.query<{ "QUERY PLAN": unknown }>(`explain (format json) ${sql}`, filled)
      : await tdb.database.withSession(async (raw) => {
          await raw.exec(`prepare generic_probe as ${sql}`);
          try {
            await raw.exec("set plan_cache_mode = force_generic_plan");
            return await raw.query<{ "QUERY PLAN": unknown }>(
              `explain (format json) execute generic_probe(${filled.map(literal).join(", ")})`,
            );
          } finally {
            await raw.exec("reset plan_cache_mode; deallocate generic_probe");
          }
        });
  const raw = row?.["QUERY PLAN"];
  const doc = (typeof raw === "string" ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
  const nodes = walk((doc[0] as { Plan: PlanNode }).Plan);
  return {
    indexes: new Set(nodes.map((n) => n["Index Name"]).filter(Boolean)),
    seqScans: nodes.filter((n) => n["Node Type"] === "Seq Scan").map((n) => n["Relation Name"]),
  };
}

const checkIn = addDays(today, 40);
const checkOut = addDays(today, 43);

const shapes: [string, SearchParams, string[]][] = [
  [
    "city + dates + guests",
    { city: "Lisbon", checkIn, checkOut, guests: 2 },
    ["properties_city_recommended_idx", "bookings_active_idx|bookings_no_overlap"],
  ],
  [
    "geo radius + dates",
    { near: "48.8566,2.3522", radiusKm: 5, checkIn, checkOut },
    ["properties_location_idx", "bookings_active_idx|bookings_no_overlap"],
  ],
  ["map bbox", { bbox: "2.2,48.8,2.4,48.9" }, ["properties_location_idx"]],
  ["text", { q: "charming cottage" }, ["properties_search_idx"]],
  ["price range", { minPrice: 10_000, maxPrice: 10_500, sort: "price_asc" }, ["properties_price_idx"]],
  ["recommended (no filter)", {}, ["properties_recommended_idx"]],
  ["rating", { sort: "rating" }, ["properties_rating_idx"]],
  ["newest", { sort: "newest" }, ["properties_newest_idx"]],
];

describe("search plans at 10k properties / 20k bookings", () => {
  for (const [name, q, expected] of shapes) {
    test(`${name}: uses ${expected.join(" + ")}, no sequential scan of properties, bookings or documents`, async () => {
      const p = await plan(q);
      // "a|b": either index serves (the planner picks by estimated cost).
      for (const index of expected) {
        expect({ name, index, used: index.split("|").some((i) => p.indexes.has(i)) }).toEqual({
          name,
          index,
          used: true,
        });
      }
      expect(p.seqScans.filter((r) => r === "properties" || r === "bookings" || r === "property_documents")).toEqual(
        [],
      );
    });
  }
  // Text searches are always planned for their words (Database.planEach); the others may run on a
  // generic plan once their shape's statement has run five times.
  for (const [name, q, expected] of shapes.filter(([, q]) => !q.q)) {
    test(`${name}, generic plan: uses ${expected.join(" + ")}, no sequential scan`, async () => {
      const p = await plan(q, "generic");
      // "a|b": either index serves (the planner picks by estimated cost).
      for (const index of expected) {
        expect({ name, index, used: index.split("|").some((i) => p.indexes.has(i)) }).toEqual({
          name,
          index,
          used: true,
        });
      }
      expect(p.seqScans.filter((r) => r === "properties" || r === "bookings" || r === "property_documents")).toEqual(
        [],
      );
    });
  }
});
