// Listing verbs: create, read (cached), update, unlist, list a host's own. Each verb's first
// lines decide who may do it; what a caller may not see is answered like what does not exist.
import { and, eq, getTableColumns, gt, sql } from "drizzle-orm";
import type { Static } from "elysia";
import { DATED_SEARCH, onChange, propertyNamespace, SEARCH } from "../../cache/invalidation";
import type { Db } from "../../db/client";
import { newestFirst } from "../../db/newest-first";
import { perDatabase } from "../../db/prepared";
import { bookings, properties, propertyDocuments, propertyPhotos, users } from "../../db/schema";
import type { Deps } from "../../dependencies";
import { AppError, forbidden, invalid, notFound } from "../../http/errors";
import { dayOf } from "../../lib/dates";
import { isUuid } from "../../lib/ids";
import { isCountryCode, isCurrencyCode } from "../../lib/iso";
import type { Actor } from "../auth/actor";
import { requireVerifiedEmail } from "../auth/email-verification";
import { requireActive } from "../users/active";
import type { PropertyDtoValue, PropertyRow } from "./dto";
import type { CreatePropertyBody, UpdatePropertyBody } from "./schemas";

type CreateInput = Static<typeof CreatePropertyBody>;
type UpdateInput = Static<typeof UpdatePropertyBody>;

// Every column but the search vector, which only search reads.
const { searchText: _searchText, ...propertyColumns } = getTableColumns(properties);

export { propertyColumns };

/** A property's answer as PostgreSQL rendered it (see property_documents), with who may see it. */
export interface PropertyDocument {
  status: string;
  hostId: string;
  json: string;
}

/** The statement behind a property read (exported for the benchmark's same-statement floor). */
export function documentByIdQuery(db: Db) {
  const d = propertyDocuments;
  return db
    .select({ status: d.status, hostId: d.hostId, json: d.body })
    .from(d)
    .where(eq(d.propertyId, sql.placeholder("id")));
}
// Built once per database handle and prepared by name: drizzle's query building would otherwise
// cost more than the primary-key lookup itself.
const documentById = perDatabase((db) => documentByIdQuery(db).prepare("property_document_by_id"));

/** One property's rendered answer (the hot path of GET /properties/:id on a cache miss). */
export async function loadProperty(db: Db, id: string): Promise<PropertyDocument | undefined> {
  const [row] = await documentById(db).execute({ id });
  return row;
}

/** The same as an object, for the routes that answer through Elysia's response schema. */
async function propertyDto(db: Db, id: string): Promise<PropertyDtoValue> {
  const doc = await loadProperty(db, id);
  if (!doc) throw notFound("Property");
  return JSON.parse(doc.json) as PropertyDtoValue;
}

/** The caller, resolved only when needed (public reads of listed properties never touch auth). */
export type Viewer = () => Promise<Actor | null>;

/**
 * Who may see a property at all: anyone while it is listed, only its host once unlisted; to
 * everyone else it is answered exactly like one that does not exist.
 */
export async function visibleTo<P extends { status: string; hostId: string }>(
  viewer: Viewer,
  property: P | undefined,
): Promise<P> {
  if (!property) throw notFound("Property");
  if (property.status !== "listed" && (await viewer())?.id !== property.hostId) throw notFound("Property");
  return property;
}

// The cache's namespaces live with what invalidates them (cache/invalidation.ts); re-exported for
// the readers that import them from here.
export { DATED_SEARCH, SEARCH };

function checkCodes(input: { country?: string; currency?: string }) {
  if (input.country !== undefined && !isCountryCode(input.country))
    throw invalid("/address/country", "not an ISO 3166-1 alpha-2 country code");
  if (input.currency !== undefined && !isCurrencyCode(input.currency))
    throw invalid("/currency", "not an ISO 4217 currency code");
}

function checkNights(minNights: number, maxNights: number) {
  if (minNights > maxNights) throw invalid("/minNights", "must not exceed maxNights");
}

/** guestsIncluded (null: every guest) fits maxGuests, whichever of the two changed. */
function checkGuestsIncluded(
  guestsIncluded: number | null,
  maxGuests: number,
  changed: "guestsIncluded" | "maxGuests",
) {
  if (guestsIncluded !== null && guestsIncluded > maxGuests)
    throw changed === "guestsIncluded"
      ? invalid("/guestsIncluded", `must not exceed maxGuests (${maxGuests})`)
      : invalid(
          "/maxGuests",
          `must not be below guestsIncluded (${guestsIncluded}); lower or clear guestsIncluded too`,
        );
}

async function replacePhotos(db: Db, propertyId: string, photos: { url: string; caption?: string }[]) {
  await db.delete(propertyPhotos).where(eq(propertyPhotos.propertyId, propertyId));
  if (photos.length) {
    await db
      .insert(propertyPhotos)
      .values(photos.map((p, position) => ({ propertyId, position, url: p.url, caption: p.caption ?? null })));
  }
}

export async function createProperty(
  { actor, input }: { actor: Actor; input: CreateInput },
  deps: Deps,
): Promise<PropertyDtoValue> {
  if (!actor.roles.includes("host"))
    throw forbidden("Only hosts can list properties; become one with POST /users/me/host");
  requireVerifiedEmail(actor, deps, "list a property");
  checkCodes({ country: input.address.country, currency: input.currency });
  const minNights = input.minNights ?? 1;
  const maxNights = input.maxNights ?? 365;
  checkNights(minNights, maxNights);
  checkGuestsIncluded(input.guestsIncluded ?? null, input.maxGuests, "guestsIncluded");
  const id = Bun.randomUUIDv7();
  const now = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    // The host's row, shared: a deletion or suspension under way finishes first, and then this
    // listing is refused rather than made for an account that is gone.
    await activeHost(tx, actor);
    await tx.insert(properties).values({
      id,
      hostId: actor.id,
      title: input.title.trim(),
      description: input.description ?? "",
      propertyType: input.propertyType,
      addressLine1: input.address.line1,
      city: input.address.city.trim(),
      region: input.address.region ?? null,
      postalCode: input.address.postalCode ?? null,
      country: input.address.country,
      lat: input.location.lat,
      lng: input.location.lng,
      pricePerNight: input.pricePerNight,
      cleaningFee: input.cleaningFee ?? 0,
      currency: input.currency,
      maxGuests: input.maxGuests,
      bedrooms: input.bedrooms ?? 0,
      beds: input.beds ?? 1,
      bathrooms: input.bathrooms ?? 1,
      amenities: input.amenities ?? [],
      minNights,
      maxNights,
      cancellationPolicy: input.cancellationPolicy ?? "moderate",
      weekendPrice: input.weekendPrice ?? null,
      weeklyDiscountPercent: input.weeklyDiscountPercent ?? 0,
      monthlyDiscountPercent: input.monthlyDiscountPercent ?? 0,
      guestsIncluded: input.guestsIncluded ?? null,
      extraGuestFee: input.extraGuestFee ?? 0,
      instantBook: input.instantBook ?? true,
      createdAt: now,
      updatedAt: now,
    });
    await replacePhotos(tx, id, input.photos ?? []);
  });
  await onChange(deps, { kind: "listing.created", propertyId: id });
  return propertyDto(deps.db, id);
}

/** Locks the acting host's row (shared) and refuses an account suspended (403) or deleted (401) meanwhile. */
async function activeHost(db: Db, actor: Actor): Promise<void> {
  const [host] = await db.select({ status: users.status }).from(users).where(eq(users.id, actor.id)).for("share");
  if (!host) throw notFound("User");
  requireActive(host);
}

/**
 * The property a host may change: unknown → 404; someone else's → 403 when it is listed (it is
 * public anyway) and 404 when it is not (its existence is not theirs to learn). Locks the row.
 */
export async function propertyForHost(db: Db, actor: Actor, id: string): Promise<PropertyRow> {
  // The host's own row too, shared, and first (a suspension and a deletion lock it before the
  // listings: the same order, so neither waits on the other in a circle): they wait for this
  // change, or this change sees them — a write that started before them cannot undo them. Awaited
  // before the listing is locked: sent together, the order they ran in would rest on microtask
  // timing (see together()), and the listing locked first deadlocks with a suspension.
  await activeHost(db, actor);
  const [row] = await db.select(propertyColumns).from(properties).where(eq(properties.id, id)).for("update");
  if (!row) throw notFound("Property");
  if (row.hostId !== actor.id) {
    if (row.status !== "listed") throw notFound("Property");
    throw forbidden("Only the property's host can change it");
  }
  return row;
}

const SAME_NAME_COLUMNS = [
  "description",
  "propertyType",
  "pricePerNight",
  "cleaningFee",
  "currency",
  "maxGuests",
  "bedrooms",
  "beds",
  "bathrooms",
  "amenities",
  "minNights",
  "maxNights",
  "cancellationPolicy",
  "weekendPrice",
  "weeklyDiscountPercent",
  "monthlyDiscountPercent",
  "guestsIncluded",
  "extraGuestFee",
  "instantBook",
  "status",
] as const satisfies readonly (keyof UpdateInput & keyof typeof properties.$inferInsert)[];

export async function updateProperty(
  { actor, id, input }: { actor: Actor; id: string; input: UpdateInput },
  deps: Deps,
): Promise<PropertyDtoValue> {
  await deps.db.transaction(async (tx) => {
    const current = await propertyForHost(tx, actor, id);
    if (input.status === "unlisted" && current.status !== "unlisted") await refuseIfStaysAhead(tx, id, deps);
    if (input.status === "listed" && current.moderatedAt)
      throw new AppError(403, "forbidden", "An admin unlisted this property; it cannot be listed again");
    if (input.status === "listed" && current.status !== "listed") requireVerifiedEmail(actor, deps, "list a property");
    checkCodes({ country: input.address?.country, currency: input.currency });
    checkNights(input.minNights ?? current.minNights, input.maxNights ?? current.maxNights);
    checkGuestsIncluded(
      input.guestsIncluded !== undefined ? input.guestsIncluded : current.guestsIncluded,
      input.maxGuests ?? current.maxGuests,
      input.guestsIncluded !== undefined ? "guestsIncluded" : "maxGuests",
    );
    const a = input.address;
    const set: Partial<typeof properties.$inferInsert> = {
      ...(input.title !== undefined && { title: input.title.trim() }),
      ...(a?.line1 !== undefined && { addressLine1: a.line1 }),
      ...(a?.city !== undefined && { city: a.city.trim() }),
      ...(a?.region !== undefined && { region: a.region }),
      ...(a?.postalCode !== undefined && { postalCode: a.postalCode }),
      ...(a?.country !== undefined && { country: a.country }),
      ...(input.location !== undefined && { lat: input.location.lat, lng: input.location.lng }),
      updatedAt: deps.clock.now(),
    };
    // The rest are columns of the same name, stored as given.
    for (const key of SAME_NAME_COLUMNS) if (input[key] !== undefined) Object.assign(set, { [key]: input[key] });
    // The host decided the status: an unsuspension must not overrule it.
    if (input.status !== undefined) set.hiddenBySuspension = false;
    await tx.update(properties).set(set).where(eq(properties.id, id));
    if (input.photos !== undefined) await replacePhotos(tx, id, input.photos);
  });
  await onChange(deps, { kind: "listing.edited", propertyId: id });
  return propertyDto(deps.db, id);
}

/** Unlisting (by DELETE or by PATCH status) is refused while confirmed stays lie ahead. */
async function refuseIfStaysAhead(tx: Db, id: string, deps: Deps): Promise<void> {
  const today = dayOf(deps.clock.now());
  const [ahead] = await tx
    .select({ id: bookings.id })
    .from(bookings)
    .where(and(eq(bookings.propertyId, id), eq(bookings.status, "confirmed"), gt(bookings.checkOut, today)))
    .limit(1);
  if (ahead)
    throw new AppError(409, "invalid_state", "The property has confirmed bookings ahead; cancel them before unlisting");
}

/** DELETE unlists: the listing and its history stay; refused while confirmed stays lie ahead. */
export async function unlistProperty({ actor, id }: { actor: Actor; id: string }, deps: Deps): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await propertyForHost(tx, actor, id);
    await refuseIfStaysAhead(tx, id, deps);
    await tx
      .update(properties)
      .set({ status: "unlisted", hiddenBySuspension: false, updatedAt: deps.clock.now() })
      .where(eq(properties.id, id));
  });
  await onChange(deps, { kind: "listing.unlisted", propertyId: id });
}

export interface CachedProperty extends PropertyDocument {
  etag: string;
}

const PROPERTY_TTL_SECONDS = 300;

function pack(p: CachedProperty): string {
  return `${p.status}\n${p.hostId}\n${p.etag}\n${p.json}`;
}

function unpack(s: string): CachedProperty {
  const a = s.indexOf("\n");
  const b = s.indexOf("\n", a + 1);
  const c = s.indexOf("\n", b + 1);
  return { status: s.slice(0, a), hostId: s.slice(a + 1, b), etag: s.slice(b + 1, c), json: s.slice(c + 1) };
}

export const etagOf = (json: string) => `"${Bun.hash(json).toString(36)}"`;

/**
 * The property as its JSON answer, read through the cache. Visibility is decided by the caller
 * (`viewer` is resolved only when the listing is unlisted, so public reads never touch auth).
 */
export async function readProperty(
  { id: given, viewer }: { id: string; viewer: Viewer },
  deps: Deps,
): Promise<CachedProperty> {
  // Malformed or unknown, an id that names no property is the same 404 (whoever calls: REST
  // checks its params first, GraphQL's arguments arrive as they were sent).
  if (!isUuid(given)) throw notFound("Property");
  const id = given.toLowerCase();
  const ns = propertyNamespace(id);
  const cached = await deps.cache.get(ns, "dto");
  let entry: CachedProperty;
  if (cached.value !== null) {
    entry = unpack(cached.value);
  } else {
    const doc = await loadProperty(deps.db, id);
    if (!doc) throw notFound("Property");
    entry = { ...doc, etag: etagOf(doc.json) };
    await deps.cache.set(ns, "dto", cached.generation, pack(entry), PROPERTY_TTL_SECONDS);
  }
  return visibleTo(viewer, entry);
}

/**
 * A listed property's cached answer if this process holds it in memory, without waiting: the
 * hot path of GET /properties/:id. Anything else (not held, or not listed) is readProperty's.
 */
export function listedPropertyInMemory(id: string, deps: Deps): CachedProperty | undefined {
  const held = deps.cache.peek?.(propertyNamespace(id), "dto");
  if (held == null) return undefined;
  const entry = unpack(held);
  return entry.status === "listed" ? entry : undefined;
}

/** The caller's own listings, listed or not, newest first. */
export async function listHostProperties(
  { actor, limit, cursor }: { actor: Actor; limit: number; cursor?: string },
  deps: Deps,
): Promise<{ data: PropertyDtoValue[]; nextCursor: string | null }> {
  if (!actor.roles.includes("host")) throw forbidden("Only hosts have properties; become one with POST /users/me/host");
  const keyset = newestFirst(properties, limit, cursor);
  const rows = await deps.db
    .select({ id: properties.id, createdAt: properties.createdAt, json: propertyDocuments.body })
    .from(properties)
    .innerJoin(propertyDocuments, eq(propertyDocuments.propertyId, properties.id))
    .where(and(eq(properties.hostId, actor.id), keyset.after))
    .orderBy(...keyset.orderBy)
    .limit(limit + 1);
  const page = keyset.page(rows);
  return { data: page.rows.map((r) => JSON.parse(r.json) as PropertyDtoValue), nextCursor: page.nextCursor };
}
