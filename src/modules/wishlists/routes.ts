// /wishlists and /alerts: a user's saved listings and the stays they wait for.
import { Elysia, t } from "elysia";
import type { Deps } from "../../dependencies";
import { authMacro } from "../../http/auth";
import { errorResponses } from "../../http/errors";
import { DEFAULT_LIMIT } from "../../http/pagination";
import { IdParams } from "../../http/schema";
import { PropertyPage } from "../properties/schemas";
import { createAlert, deleteAlert, listAlerts } from "./alerts";
import {
  AlertBody,
  AlertDto,
  AlertPage,
  ListQuery,
  MAX_WAITING_ALERTS,
  MAX_WISHLISTS,
  WishlistBody,
  WishlistDto,
  WishlistPage,
  WishlistPropertyParams,
} from "./schemas";
import {
  createWishlist,
  deleteWishlist,
  getWishlist,
  listWishlistProperties,
  listWishlists,
  renameWishlist,
  saveProperty,
  unsaveProperty,
} from "./service";

const notOwn = "Someone else's list answers 404, as one that does not exist.";

export function wishlistRoutes(deps: Deps) {
  const tags = ["wishlists"];
  return new Elysia()
    .use(authMacro(deps))
    .post(
      "/wishlists",
      async ({ actor, body, set }) => {
        set.status = 201;
        return createWishlist({ actor, name: body.name }, deps);
      },
      {
        auth: true,
        body: WishlistBody,
        response: { 201: WishlistDto, ...errorResponses("limit_reached") },
        detail: {
          tags,
          summary: "Make a wishlist",
          description: `At most ${MAX_WISHLISTS} per user: the next one is 409 limit_reached.`,
        },
      },
    )
    .get(
      "/wishlists",
      ({ actor, query }) => listWishlists({ actor, limit: query.limit ?? DEFAULT_LIMIT, cursor: query.cursor }, deps),
      {
        auth: true,
        query: ListQuery,
        response: { 200: WishlistPage, ...errorResponses("invalid_cursor") },
        detail: {
          tags,
          summary: "Your wishlists, newest first",
          description: "propertyCount counts the listings still visible.",
        },
      },
    )
    .get("/wishlists/:id", ({ actor, params }) => getWishlist({ actor, id: params.id }, deps), {
      auth: true,
      params: IdParams,
      response: { 200: WishlistDto, ...errorResponses("not_found") },
      detail: { tags, summary: "One of your wishlists", description: notOwn },
    })
    .patch(
      "/wishlists/:id",
      ({ actor, params, body }) => renameWishlist({ actor, id: params.id, name: body.name }, deps),
      {
        auth: true,
        params: IdParams,
        body: WishlistBody,
        response: { 200: WishlistDto, ...errorResponses("not_found") },
        detail: { tags, summary: "Rename a wishlist", description: notOwn },
      },
    )
    .delete(
      "/wishlists/:id",
      async ({ actor, params, set }) => {
        await deleteWishlist({ actor, id: params.id }, deps);
        set.status = 204;
      },
      {
        auth: true,
        params: IdParams,
        response: { 204: t.Void(), ...errorResponses("not_found") },
        detail: { tags, summary: "Delete a wishlist and what it holds", description: notOwn },
      },
    )
    .put(
      "/wishlists/:id/properties/:propertyId",
      async ({ actor, params, set }) => {
        await saveProperty({ actor, id: params.id, propertyId: params.propertyId }, deps);
        set.status = 204;
      },
      {
        auth: true,
        params: WishlistPropertyParams,
        response: { 204: t.Void(), ...errorResponses("not_found") },
        detail: {
          tags,
          summary: "Save a listing to a wishlist (idempotent)",
          description: `Saved again, it keeps its place. A listing you may not see → 404. ${notOwn}`,
        },
      },
    )
    .delete(
      "/wishlists/:id/properties/:propertyId",
      async ({ actor, params, set }) => {
        await unsaveProperty({ actor, id: params.id, propertyId: params.propertyId }, deps);
        set.status = 204;
      },
      {
        auth: true,
        params: WishlistPropertyParams,
        response: { 204: t.Void(), ...errorResponses("not_found") },
        detail: { tags, summary: "Remove a listing from a wishlist (idempotent)", description: notOwn },
      },
    )
    .get(
      "/wishlists/:id/properties",
      ({ actor, params, query }) =>
        listWishlistProperties(
          { actor, id: params.id, limit: query.limit ?? DEFAULT_LIMIT, cursor: query.cursor },
          deps,
        ),
      {
        auth: true,
        params: IdParams,
        query: ListQuery,
        response: { 200: PropertyPage, ...errorResponses("not_found", "invalid_cursor") },
        detail: {
          tags,
          summary: "A wishlist's listings, newest saved first",
          description: `Only those still visible: an unlisted listing, or one hidden by its host's suspension, is left out (and back when listed again). ${notOwn}`,
        },
      },
    )
    .post(
      "/alerts",
      async ({ actor, body, set }) => {
        const { alert, created } = await createAlert({ actor, input: body }, deps);
        set.status = created ? 201 : 200;
        return alert;
      },
      {
        auth: true,
        body: AlertBody,
        response: {
          200: AlertDto,
          201: AlertDto,
          ...errorResponses("not_found", "already_available", "too_many_alerts"),
        },
        detail: {
          tags: ["alerts"],
          summary: "Wait for a stay that cannot be booked now",
          description:
            "The quote's 422s (dates, guests, min/max nights, your own listing) and 404s; 409 already_available when the stay can be booked now. " +
            `At most ${MAX_WAITING_ALERTS} waiting per user (429 too_many_alerts). ` +
            "When every night of the stay is free and bookable again (a booking cancelled, expired or declined, a block removed, the listing's rules eased) " +
            "you get one notification and one e-mail and the alert is notified; once its check-in day has passed it is expired. " +
            "The same stay asked again while its alert waits answers that alert (200).",
        },
      },
    )
    .get(
      "/alerts",
      ({ actor, query }) => listAlerts({ actor, limit: query.limit ?? DEFAULT_LIMIT, cursor: query.cursor }, deps),
      {
        auth: true,
        query: ListQuery,
        response: { 200: AlertPage, ...errorResponses("invalid_cursor") },
        detail: { tags: ["alerts"], summary: "Your alerts, newest first" },
      },
    )
    .delete(
      "/alerts/:id",
      async ({ actor, params, set }) => {
        await deleteAlert({ actor, id: params.id }, deps);
        set.status = 204;
      },
      {
        auth: true,
        params: IdParams,
        response: { 204: t.Void(), ...errorResponses("not_found") },
        detail: { tags: ["alerts"], summary: "Remove an alert", description: "Someone else's answers 404." },
      },
    );
}
