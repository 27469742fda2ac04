// GET /properties: every filter, sort and keyset page in one SQL statement (the cards come rendered).
import { and, arrayContains, eq, gte, lte, type Placeholder, type SQL, sql } from "drizzle-orm";
import type { Static } from "elysia";
import { DATED_SEARCH, nightsTag, SEARCH } from "../../cache/invalidation";
import type { Database, Db } from "../../db/client";
import { perDatabase } from "../../db/prepared";
import { properties, propertyDocuments } from "../../db/schema";
import type { Deps } from "../../dependencies";
import { invalid } from "../../http/errors";
import { DEFAULT_LIMIT, decodeCursor, encodeCursor, isInt4, isIsoInstant } from "../../http/pagination";
import { dayOf, daysBetween, isIsoDay } from "../../lib/dates";
import { fifoGate, type Gate } from "../../lib/fifo-gate";
import { isUuid } from "../../lib/ids";
import { bookingsAs, inHoldingStatus, stillHolding } from "../bookings/holds";
import type { SearchQuery, Sort } from "./schemas";

export type SearchParams = Static<typeof SearchQuery>;

const KM_PER_MILE = 1.609344;
const KM_PER_DEGREE_LAT = 111.045;
export const DEFAULT_RADIUS_KM = 25;
const SEARCH_TTL_SECONDS = 60;

const p = properties;
const point = sql`point(${p.lng}, ${p.lat})`;
const stay = bookingsAs("b");

/**
 * Collects a search's values as placeholders, and the choices that shape its statement as a key:
 * searches of one shape share one prepared statement, so drizzle builds its text once (building
 * it cost ~85 µs per search, as much as PostgreSQL's own work on a city search).
 */
class Binder {
  readonly values: Record<string, unknown> = {};
  private count = 0;
  private readonly shape: string[] = [];
  /** A value: a placeholder in the statement, the value beside it. */
  v(value: unknown): Placeholder<string> {
    const name = `v${this.count++}`;
    this.values[name] = value;
    return sql.placeholder(name);
  }
  /** A choice that changes the statement's text (every one must be marked, in the order made). */
  mark(choice: string): void {
    this.shape.push(choice);
  }
  get key(): string {
    return this.shape.join(" ");
  }
}

// Each sort is a key (with id as tie-breaker) that both the ORDER BY and the cursor use.
interface SortSpec {
  key: (b: Binder, distanceFrom?: { lat: number; lng: number }) => SQL;
  /** How the key is read out for the cursor, when that differs from the key itself. */
  cursorValue?: SQL;
  descending: boolean;
  /** Reads the key back from a cursor, checking its type. */
  parse: (v: unknown) => unknown;
}

const int = (v: unknown) => (isInt4(v) ? v : undefined);
// Distances in km: half the Earth's circumference bounds any real one.
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && Math.abs(v) <= 20_100 ? v : undefined);
const iso = (v: unknown) => (isIsoInstant(v) ? v : undefined);

// recommended: the rating shrunk toward 3.5 by five phantom reviews (few reviews weigh little), ×100.
const recommendedScore = sql<number>`((${p.ratingSum} * 100 + 1750) / (${p.reviewCount} + 5))::int`;
const ratingScore = sql<number>`(case when ${p.reviewCount} = 0 then -1 else ${p.ratingSum} * 100 / ${p.reviewCount} end)::int`;

const sortSpecs: Record<Sort, SortSpec> = {
  recommended: { key: () => recommendedScore, descending: true, parse: int },
  price_asc: { key: () => sql`${p.pricePerNight}`, descending: false, parse: int },
  price_desc: { key: () => sql`${p.pricePerNight}`, descending: true, parse: int },
  rating: { key: () => ratingScore, descending: true, parse: int },
  newest: {
    key: () => sql`${p.createdAt}`,
    // Text with microseconds, identical on both drivers, exact when cast back.
    cursorValue: sql`to_char(${p.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    descending: true,
    parse: iso,
  },
  distance: {
    key: (b, from) => sql`((${point} <@> point(${b.v(from?.lng ?? 0)}, ${b.v(from?.lat ?? 0)})) * ${b.v(KM_PER_MILE)})`,
    descending: false,
    parse: num,
  },
};

function parseNumbers(value: string, count: number, path: string): number[] {
  const raw = value.split(",").map((s) => s.trim());
  const parts = raw.map(Number);
  if (parts.length !== count || raw.some((s) => s === "") || parts.some((n) => !Number.isFinite(n))) {
    throw invalid(path, `expected ${count} comma-separated numbers`);
  }
  return parts;
}

/** Point-in-box over one or two boxes (a box crossing the antimeridian is split in two). */
function inLngLatBox(b: Binder, minLng: number, minLat: number, maxLng: number, maxLat: number): SQL {
  const box = (w: number, s: number, e: number, n: number) =>
    sql`${point} <@ box(point(${b.v(w)}, ${b.v(s)}), point(${b.v(e)}, ${b.v(n)}))`;
  if (minLng <= maxLng) {
    b.mark("box");
    return box(minLng, minLat, maxLng, maxLat);
  }
  b.mark("box2");
  return sql`(${box(minLng, minLat, 180, maxLat)} or ${box(-180, minLat, maxLng, maxLat)})`;
}

/** Word prefixes joined with AND: "sea vie" finds "Sea view loft". */
function prefixQuery(q: string): string {
  const words = q.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  if (words.length === 0) throw invalid("/q", "needs at least one letter or digit");
  return words
    .slice(0, 10)
    .map((w) => `${w}:*`)
    .join(" & ");
}

function buildFilters(b: Binder, q: SearchParams, now: Date): { where: SQL[]; near?: { lat: number; lng: number } } {
  const today = dayOf(now);
  // A literal, not a parameter: the partial indexes' predicate must be provable from the query
  // even in a generic (re-used) plan.
  const where: SQL[] = [sql`${p.status} = 'listed'`];
  const when = (choice: string, condition: () => SQL) => {
    b.mark(choice);
    where.push(condition());
  };
  if (q.city) when("city", () => sql`lower(${p.city}) = ${b.v(q.city?.trim().toLowerCase())}`);
  if (q.country) when("country", () => eq(p.country, b.v(q.country?.toUpperCase())));
  if (q.guests) when("guests", () => gte(p.maxGuests, b.v(q.guests)));
  if (q.minPrice !== undefined && q.maxPrice !== undefined && q.minPrice > q.maxPrice)
    throw invalid("/minPrice", "must not exceed maxPrice");
  if (q.minPrice !== undefined) when("minPrice", () => gte(p.pricePerNight, b.v(q.minPrice)));
  if (q.maxPrice !== undefined) when("maxPrice", () => lte(p.pricePerNight, b.v(q.maxPrice)));
  if (q.propertyType) when("propertyType", () => eq(p.propertyType, b.v(q.propertyType)));
  if (q.amenities) {
    const list = [
      ...new Set(
        q.amenities
          .split(",")
          .map((a) => a.trim().toLowerCase())
          .filter(Boolean),
      ),
    ];
    if (list.length > 50) throw invalid("/amenities", "at most 50 amenities");
    if (list.length) when("amenities", () => arrayContains(p.amenities, b.v(p.amenities.mapToDriverValue(list))));
  }
  if ((q.checkIn === undefined) !== (q.checkOut === undefined))
    throw invalid(q.checkIn ? "/checkOut" : "/checkIn", "checkIn and checkOut go together");
  if (q.checkIn && q.checkOut) {
    if (!isIsoDay(q.checkIn)) throw invalid("/checkIn", "not a calendar date");
    if (!isIsoDay(q.checkOut)) throw invalid("/checkOut", "not a calendar date");
    const nights = daysBetween(q.checkIn, q.checkOut);
    if (nights < 1) throw invalid("/checkOut", "must be after checkIn");
    if (nights > 365) throw invalid("/checkOut", "a stay is at most 365 nights");
    if (q.checkIn < today) throw invalid("/checkIn", "is in the past");
    b.mark("dates");
    const [from, to] = [b.v(q.checkIn), b.v(q.checkOut)];
    const n = b.v(nights);
    where.push(lte(p.minNights, n), gte(p.maxNights, n));
    // Free for every night of [checkIn, checkOut): no stay holding a night, no blocked night.
    // Written as two comparisons, not a range overlap: the planner then probes the few stays ahead
    // of each candidate (bookings_active_idx) instead of gathering every stay in those dates.
    // A hold past its expiresAt frees its nights at once, even before the sweep has marked it.
    where.push(sql`not exists (select 1 from bookings b where b.property_id = ${p.id}
      and ${inHoldingStatus(stay)}
      and b.check_out > ${from}::date and b.check_in < ${to}::date
      and ${stillHolding(stay, b.v(now.toISOString()))})`);
    where.push(sql`not exists (select 1 from calendar_days c where c.property_id = ${p.id}
      and c.blocked and c.day >= ${from}::date and c.day < ${to}::date)`);
  }
  let near: { lat: number; lng: number } | undefined;
  if (q.near) {
    const [lat = 0, lng = 0] = parseNumbers(q.near, 2, "/near");
    if (Math.abs(lat) > 90 || Math.abs(lng) > 180) throw invalid("/near", "lat must be within ±90 and lng within ±180");
    near = { lat, lng };
    const r = q.radiusKm ?? DEFAULT_RADIUS_KM;
    // A box around the circle lets the GiST index find candidates; the exact distance then decides.
    const dLat = r / KM_PER_DEGREE_LAT;
    const cos = Math.cos((lat * Math.PI) / 180);
    const dLng = cos > 1e-6 ? Math.min(180, r / (KM_PER_DEGREE_LAT * cos)) : 180;
    const minLat = Math.max(-90, lat - dLat);
    const maxLat = Math.min(90, lat + dLat);
    const wraps = dLng >= 180 || minLat === -90 || maxLat === 90;
    const wrap = (x: number) => (x > 180 ? x - 360 : x < -180 ? x + 360 : x);
    b.mark("near");
    where.push(
      wraps
        ? inLngLatBox(b, -180, minLat, 180, maxLat)
        : inLngLatBox(b, wrap(lng - dLng), minLat, wrap(lng + dLng), maxLat),
    );
    where.push(sql`(${point} <@> point(${b.v(lng)}, ${b.v(lat)})) * ${b.v(KM_PER_MILE)} <= ${b.v(r)}`);
  } else if (q.radiusKm !== undefined) {
    throw invalid("/radiusKm", "goes with near=lat,lng");
  }
  if (q.bbox) {
    const [minLng = 0, minLat = 0, maxLng = 0, maxLat = 0] = parseNumbers(q.bbox, 4, "/bbox");
    if (
      [minLng, maxLng].some((x) => Math.abs(x) > 180) ||
      [minLat, maxLat].some((y) => Math.abs(y) > 90) ||
      minLat > maxLat
    ) {
      throw invalid("/bbox", "expected minLng,minLat,maxLng,maxLat within ±180/±90 and minLat ≤ maxLat");
    }
    b.mark("bbox");
    where.push(inLngLatBox(b, minLng, minLat, maxLng, maxLat));
  }
  if (q.q) {
    const words = prefixQuery(q.q);
    when("q", () => sql`${p.searchText} @@ to_tsquery('simple', ${b.v(words)})`);
  }
  return { where, near };
}

/** A stable cache key: the same search asked twice, in any parameter order, is one entry. */
function cacheKey(q: SearchParams, today: string): string {
  const entries = Object.entries(q)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => a.localeCompare(b));
  // Date filters depend on "today" (past check-ins are refused), so the key carries it. "v2": the
  // entry holds the edges' cursors before the page; an instance of the version before (a rolling
  // deploy shares Redis) reads its own keys, never these.
  return JSON.stringify(["v2", today, entries]);
}

/**
 * The one SELECT a search runs, with placeholders, the values that fill them and the key of its
 * shape (exported so tests can EXPLAIN exactly what is executed).
 */
export function searchQuery(db: Db, q: SearchParams, now: Date) {
  const b = new Binder();
  const sort: Sort = q.sort ?? "recommended";
  const limit = q.limit ?? DEFAULT_LIMIT;
  const { where, near } = buildFilters(b, q, now);
  if (sort === "distance" && !near) throw invalid("/sort", "sort=distance needs near=lat,lng");
  b.mark(sort);
  const spec = sortSpecs[sort];
  const sortKey = spec.key(b, near);
  if (q.cursor) {
    const [cursorSort, value, id] = decodeCursor(
      q.cursor,
      (c) => c.length === 3 && c[0] === sort && spec.parse(c[1]) !== undefined && isUuid(c[2]),
    ) as [Sort, unknown, string];
    void cursorSort;
    b.mark("cursor");
    const keyValue = sort === "newest" ? sql`${b.v(value)}::timestamptz` : sql`${b.v(value)}`;
    const after = sql`(${sortKey}, ${p.id}) ${spec.descending ? sql`<` : sql`>`} (${keyValue}, ${b.v(id)}::uuid)`;
    where.push(after);
  }
  const direction = spec.descending ? sql`desc` : sql`asc`;
  // The page's ids first, then their cards: the planner weighs the plans of the search alone
  // (not of fetching a card for every candidate), and only the page's cards are read.
  const hits = db
    .select({
      id: p.id,
      key: sql<unknown>`${sortKey}`.as("key"),
      cursorKey: sql<unknown>`${spec.cursorValue ?? sortKey}`.as("cursor_key"),
    })
    .from(p)
    .where(and(...where))
    .orderBy(sql`${sortKey} ${direction}`, sql`${p.id} ${direction}`)
    .limit(b.v(limit + 1))
    .as("hits");
  const query = db
    .select({ id: hits.id, card: propertyDocuments.card, sortKey: hits.cursorKey })
    .from(hits)
    .leftJoin(propertyDocuments, eq(propertyDocuments.propertyId, hits.id))
    .orderBy(sql`${hits.key} ${direction}`, sql`${hits.id} ${direction}`);
  return { query, values: b.values, shape: b.key, sort, limit };
}

// Searches are heavy next to lookups: about twice the cores of them run at once, and always
// fewer than the pool's connections, the rest waiting in arrival order. Lookups keep the rest of
// the pool, and searches do not crowd PostgreSQL, which runs as many queries at once as it has
// cores and is not first come, first served beyond that (on 2 cores, ten concurrent geo searches
// had twice the p99 of four). Text searches have their own connections (Database.planEach).
const slots = new WeakMap<Database, Gate>();
function searchSlots(database: Database): Gate {
  let gate = slots.get(database);
  if (!gate) {
    gate = fifoGate(Math.max(1, Math.min(2 * (navigator.hardwareConcurrency || 2), database.poolSize - 2)));
    slots.set(database, gate);
  }
  return gate;
}

type SearchStatement = ReturnType<ReturnType<typeof searchQuery>["query"]["prepare"]>;
const MAX_SHAPES = 1000;
/** Prepared search statements by shape, per database handle. */
const searchStatements = perDatabase(() => new Map<string, SearchStatement>());

/** The page as its JSON answer (cached as text: a hit is served without parsing or re-encoding). */
export async function searchProperties(q: SearchParams, deps: Deps): Promise<string> {
  return (await searchPage(q, deps)).json;
}

/**
 * The page as its JSON answer and the cursor after each of its cards (GraphQL's edges), cached as
 * one text: the cursors' line, then the answer.
 */
export async function searchPage(q: SearchParams, deps: Deps): Promise<{ json: string; cursors: () => string[] }> {
  const now = deps.clock.now();
  const key = cacheKey(q, dayOf(now));
  // Dated searches depend on bookings too: nights freed invalidate them all, nights taken only
  // those that listed the property (tagged below).
  const namespace = q.checkIn ? DATED_SEARCH : SEARCH;
  const cached = await deps.cache.get(namespace, key);
  deps.metrics.search(Boolean(q.checkIn), cached.value !== null);
  if (cached.value !== null) return unpackPage(cached.value);

  // A text search's best plan depends on how common its words are: planned for each search.
  const db = q.q ? deps.database.planEach : deps.db;
  const { query, values, shape, sort, limit } = searchQuery(db, q, now);
  const statements = searchStatements(db);
  let statement = statements.get(shape);
  if (!statement) {
    if (statements.size >= MAX_SHAPES) statements.clear();
    statement = query.prepare(`search_${Bun.hash(shape).toString(36)}`);
    statements.set(shape, statement);
  }
  const prepared = statement;
  const rows = q.q ? await prepared.execute(values) : await searchSlots(deps.database)(() => prepared.execute(values));

  const page = rows.slice(0, limit);
  // The cursor after a row names its sort key and id: the REST page's nextCursor is its last row's.
  const cursorAfter = (r: (typeof rows)[number]) =>
    encodeCursor([sort, sort === "newest" ? r.sortKey : Number(r.sortKey), r.id]);
  const last = page[page.length - 1];
  const nextCursor = rows.length > limit && last ? cursorAfter(last) : null;
  // The cards are JSON already (PostgreSQL rendered them): the page is only joined, never re-encoded.
  // Triggers keep a document for every property; a missing one is a fault to surface, not a
  // shorter page that would end pagination early.
  const cards = page.map((r) => {
    if (r.card === null) throw new Error(`property ${r.id} has no document`);
    return r.card;
  });
  const json = `{"data":[${cards.join(",")}],"nextCursor":${JSON.stringify(nextCursor)}}`;
  const packed = `${page.map(cursorAfter).join(",")}\n${json}`;
  // Every row read, the one past the page too (its booking would end the pagination here).
  const tags = q.checkIn ? rows.map((r) => nightsTag(r.id)) : undefined;
  await deps.cache.set(namespace, key, cached.generation, packed, SEARCH_TTL_SECONDS, tags);
  return unpackPage(packed);
}

/** Cursors are base64url: neither commas nor newlines. Split only when asked (REST never asks). */
function unpackPage(packed: string): { json: string; cursors: () => string[] } {
  const at = packed.indexOf("\n");
  if (at < 0) throw new Error("a search cache entry without its cursors' line");
  return { json: packed.slice(at + 1), cursors: () => (at === 0 ? [] : packed.slice(0, at).split(",")) };
}
