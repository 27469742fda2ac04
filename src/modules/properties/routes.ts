// /properties and /hosts/me/properties.
import { Elysia, t } from "elysia";
import type { Deps } from "../../dependencies";
import { answerHeaders } from "../../http/answer-headers";
import { authMacro, optionalActor } from "../../http/auth";
import { errorResponses } from "../../http/errors";
import { fastRoute } from "../../http/foundation";
import { DEFAULT_LIMIT } from "../../http/pagination";
import { IdParams } from "../../http/schema";
import { isUuid } from "../../lib/ids";
import { quoteStay } from "../bookings/quote";
import { QuoteDto, QuoteQuery } from "../bookings/schemas";
import { availability, changeCalendar, unavailableRanges } from "./calendar";
import { icalFeed } from "./ical";
import {
  AvailabilityDto,
  AvailabilityQuery,
  CalendarBody,
  CreatePropertyBody,
  HostPropertiesQuery,
  PropertyDto,
  PropertyPage,
  SearchQuery,
  UpdatePropertyBody,
} from "./schemas";
import { searchProperties } from "./search";
import {
  type CachedProperty,
  createProperty,
  listedPropertyInMemory,
  listHostProperties,
  readProperty,
  unlistProperty,
  updateProperty,
} from "./service";

/** If-None-Match uses the weak comparison (RFC 9110 §13.1.2): W/"x" matches "x"; * matches any. */
export function etagMatches(header: string | null, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t.replace(/^W\//, "") === etag;
  });
}

const viewerOf = (request: Request, deps: Deps) => () => optionalActor(request.headers.get("authorization"), deps);

/** The answer to GET /properties/:id: the cached JSON as it is, or 304 when the caller has it. */
function propertyResponse(request: Request, entry: CachedProperty, requestId?: string): Response {
  // Revalidated at each use (the ETag makes that cheap); an authenticated caller's copy is kept nowhere.
  const headers = { etag: entry.etag, "cache-control": "no-cache", ...answerHeaders(request) };
  const id = requestId ? { "x-request-id": requestId } : undefined;
  if (etagMatches(request.headers.get("if-none-match"), entry.etag)) {
    return new Response(null, { status: 304, headers: { ...headers, ...id } });
  }
  return new Response(entry.json, {
    headers: { ...headers, "content-type": "application/json;charset=utf-8", ...id },
  });
}

/**
 * GET /api/v1/properties/:id as a Bun-native route (see `fastRoute`): the same service call and
 * the same answers as the Elysia route below, which still serves malformed ids, app.handle() and
 * the OpenAPI document.
 */
export function propertyFastRoutes(deps: Deps, fallback: (request: Request) => Promise<Response>) {
  const route = "/api/v1/properties/:id";
  return {
    [route]: {
      GET: fastRoute<Bun.BunRequest<string>>(
        deps.log,
        deps.metrics,
        route,
        (request, requestId) => {
          const id = request.params.id ?? "";
          if (!isUuid(id)) return undefined;
          const held = listedPropertyInMemory(id, deps);
          if (held) return propertyResponse(request, held, requestId); // no await at all on a hit
          return readProperty({ id, viewer: viewerOf(request, deps) }, deps).then((entry) =>
            propertyResponse(request, entry, requestId),
          );
        },
        fallback,
      ),
    },
  };
}

export function propertyRoutes(deps: Deps) {
  const tags = ["properties"];

  const properties = new Elysia({ prefix: "/properties" })
    .use(authMacro(deps))
    .post(
      "",
      async ({ actor, body, set }) => {
        set.status = 201;
        return createProperty({ actor, input: body }, deps);
      },
      {
        auth: true,
        body: CreatePropertyBody,
        response: { 201: PropertyDto, ...errorResponses("forbidden", "email_unverified") },
        detail: { tags, summary: "List a property (hosts only)" },
      },
    )
    .get(
      "",
      async ({ query }) =>
        new Response(await searchProperties(query, deps), {
          headers: { "content-type": "application/json;charset=utf-8" },
        }),
      {
        query: SearchQuery,
        response: { 200: PropertyPage, ...errorResponses() },
        detail: {
          tags,
          summary: "Search listed properties",
          description:
            "All filters combine. checkIn+checkOut return only properties free for every night (no stay, no blocked night, within min/max nights). " +
            "near=lat,lng with radiusKm (default 25, max 500); bbox=minLng,minLat,maxLng,maxLat for map views; q searches title, city and description by word prefix. " +
            "Items carry only the cover photo.",
        },
      },
    )
    .get(
      "/:id",
      async ({ params, request }) =>
        propertyResponse(request, await readProperty({ id: params.id, viewer: viewerOf(request, deps) }, deps)),
      {
        params: IdParams,
        response: { 200: PropertyDto, 304: t.Void(), ...errorResponses("not_found") },
        detail: {
          tags,
          summary: "A property",
          description: "Unlisted ones only for their host. Strong ETag; If-None-Match → 304.",
        },
      },
    )
    .patch("/:id", ({ actor, params, body }) => updateProperty({ actor, id: params.id, input: body }, deps), {
      auth: true,
      params: IdParams,
      body: UpdatePropertyBody,
      response: { 200: PropertyDto, ...errorResponses("not_found", "forbidden", "email_unverified", "invalid_state") },
      detail: {
        tags,
        summary: "Change a property (its host)",
        description:
          "status: listed/unlisted relists or unlists; unlisting is 409 invalid_state while confirmed stays lie ahead.",
      },
    })
    .delete(
      "/:id",
      async ({ actor, params, set }) => {
        await unlistProperty({ actor, id: params.id }, deps);
        set.status = 204;
      },
      {
        auth: true,
        params: IdParams,
        response: { 204: t.Void(), ...errorResponses("not_found", "forbidden", "invalid_state") },
        detail: {
          tags,
          summary: "Unlist a property (its host)",
          description: "History stays. 409 invalid_state while confirmed stays lie ahead.",
        },
      },
    )
    .get(
      "/:id/availability",
      async ({ params, query, request }) => ({
        days: await availability(
          { id: params.id, from: query.from, to: query.to, viewer: viewerOf(request, deps) },
          deps,
        ),
      }),
      {
        params: IdParams,
        query: AvailabilityQuery,
        response: { 200: AvailabilityDto, ...errorResponses("not_found") },
        detail: {
          tags,
          summary: "Per-day availability and price for [from, to)",
          description: "Defaults: from today, 90 days; at most 366 days.",
        },
      },
    )
    .get(
      "/:id/quote",
      ({ params, query, request }) =>
        quoteStay(
          {
            propertyId: params.id,
            checkIn: query.checkIn,
            checkOut: query.checkOut,
            guests: query.guests,
            viewer: viewerOf(request, deps),
          },
          deps,
        ),
      {
        params: IdParams,
        query: QuoteQuery,
        response: { 200: QuoteDto, ...errorResponses("not_found", "validation_failed") },
        detail: {
          tags,
          summary: "What booking this stay would cost now (anyone)",
          description:
            "The same rules as POST /bookings, in the same order (422 naming the field: dates, nights outside min/max, guests above maxGuests, " +
            "a night the host blocked, one's own or an unlisted property), and the same price: a booking made right after it costs this. " +
            "Nights another stay holds are `available: false` (POST /bookings would answer 409 dates_unavailable). Read fresh, never cached.",
        },
      },
    )
    .put(
      "/:id/calendar",
      async ({ actor, params, body }) => ({ days: await changeCalendar({ actor, id: params.id, change: body }, deps) }),
      {
        auth: true,
        params: IdParams,
        body: CalendarBody,
        response: { 200: AvailabilityDto, ...errorResponses("not_found", "forbidden", "dates_unavailable") },
        detail: {
          tags,
          summary: "Block/unblock nights or set price overrides for [from, to) (its host)",
          description: "Blocking a booked night → 409 dates_unavailable.",
        },
      },
    )
    .get(
      "/:id/calendar.ics",
      async ({ params, request }) => {
        const { property, ranges } = await unavailableRanges({ id: params.id, viewer: viewerOf(request, deps) }, deps);
        return new Response(icalFeed(property, ranges, deps.clock.now()), {
          headers: {
            "content-type": "text/calendar; charset=utf-8",
            "content-disposition": `inline; filename="stayhub-${property.id}.ics"`,
          },
        });
      },
      {
        params: IdParams,
        response: {
          200: t.String({
            description: "iCalendar (RFC 5545): one all-day VEVENT per unavailable range",
            contentMediaType: "text/calendar",
          }),
          ...errorResponses("not_found"),
        },
        detail: { tags, summary: "iCalendar feed of unavailable nights (for calendar sync)" },
      },
    );

  const hosts = new Elysia({ prefix: "/hosts" })
    .use(authMacro(deps))
    .get(
      "/me/properties",
      ({ actor, query }) =>
        listHostProperties({ actor, limit: query.limit ?? DEFAULT_LIMIT, cursor: query.cursor }, deps),
      {
        auth: true,
        query: HostPropertiesQuery,
        response: { 200: PropertyPage, ...errorResponses("forbidden") },
        detail: { tags, summary: "The caller's own properties, listed or not, newest first (hosts)" },
      },
    );

  return new Elysia().use(properties).use(hosts);
}
