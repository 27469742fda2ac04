// What each kind of committed change invalidates, in one place. Verbs say what happened
// (`onChange(deps, { kind: "calendar.changed", propertyId })`), never which cache namespaces to
// bump; the readers (the property's answer, search, GraphQL) name their namespaces from here.
//
// The namespaces: a property's answer (`property:<id>`), undated searches (SEARCH), dated
// searches (DATED_SEARCH), which also depend on bookings, and GraphQL's cached public answers
// (PUBLIC_GRAPHQL), which depend on all of it. Availability and calendar feeds are read fresh,
// never cached.
//
// Nights taken at a property (a booking made) can only drop that property from a dated search, so
// they invalidate just the dated searches whose page listed it: each such entry is stored with the
// tag `nightsTag(id)` of every listing on it, and the booking touches its property's tag. Nights
// freed (a hold expired, a booking cancelled, a payment failed) can add the property to searches
// that did not list it: those bump every dated search.
import type { Deps } from "../dependencies";

/** Cache namespaces of search answers: undated, dated (which bookings change too), and GraphQL's. */
export const SEARCH = "search";
export const DATED_SEARCH = "search:dated";
export const PUBLIC_GRAPHQL = "graphql:public";

/** The tag of a dated search entry that lists this property. */
export const nightsTag = (id: string) => `n:${id.toLowerCase()}`;

// Ids are lowercase in the database; an uppercase spelling of the same id must not get an entry
// of its own that no write would ever invalidate.
export const propertyNamespace = (id: string) => `property:${id.toLowerCase()}`;

/** A committed change that cached answers may depend on. */
export type Change =
  // A listing's own fields, photos or status, by its host or an admin.
  | { kind: "listing.created" | "listing.edited" | "listing.unlisted" | "listing.moderated"; propertyId: string }
  // A host's blocks or price overrides (a listing's answer and every search that filters by them).
  | { kind: "calendar.changed"; propertyId: string }
  // A review's rating: the listing's rating and every search that sorts or shows by it.
  | { kind: "review.added"; propertyId: string }
  // A host's answer to a review: GraphQL's cached searches show each listing's newest reviews.
  | { kind: "review.answered" }
  // A host's name, avatar or bio: part of each of their listings' answers (and GraphQL's searches
  // show the host's public profile).
  | { kind: "host.profile.changed"; propertyIds: string[] }
  // Listings hidden by a suspension, listed again by an unsuspension, or gone with their host's
  // account (every listing's answer names its host).
  | { kind: "host.suspended" | "host.unsuspended" | "account.deleted"; propertyIds: string[] }
  // Nights held at a property: a booking made (a hold, or a request).
  | { kind: "nights.taken"; propertyId: string }
  // Nights held no more: a booking cancelled, declined or expired, a hold freed by a failed payment.
  | { kind: "nights.freed" }
  // Listings written in bulk outside the verbs (the seed): nobody read them before.
  | { kind: "catalog.seeded" };

export type ChangeKind = Change["kind"];

/** Every answer that depends on bookings. */
const DATED = [DATED_SEARCH, PUBLIC_GRAPHQL];

/** The namespaces of the answers that show these listings, and of every search. */
const listingAnswers = (ids: string[]) => [...ids.map(propertyNamespace), SEARCH, ...DATED];

/** The namespaces a change invalidates (whole). */
export function invalidatedBy(change: Change): string[] {
  switch (change.kind) {
    case "listing.created":
    case "listing.edited":
    case "listing.unlisted":
    case "listing.moderated":
    case "calendar.changed":
    case "review.added":
      return listingAnswers([change.propertyId]);
    case "host.profile.changed":
    case "host.suspended":
    case "host.unsuspended":
    case "account.deleted":
      return listingAnswers(change.propertyIds);
    // Undated searches and the property itself do not depend on stays: their cached answers stay.
    // GraphQL's answers are not tagged by listing: any booking invalidates them.
    case "nights.taken":
      return [PUBLIC_GRAPHQL];
    case "nights.freed":
    case "review.answered":
      return DATED;
    case "catalog.seeded":
      return [SEARCH, ...DATED];
  }
}

/** The tags a change touches: the entries stored with them, in any namespace, are invalidated. */
export function touchedBy(change: Change): string[] {
  return change.kind === "nights.taken" ? [nightsTag(change.propertyId)] : [];
}

/** After a committed change: the next read of what it invalidates sees it. */
export async function onChange(deps: Pick<Deps, "cache">, change: Change): Promise<void> {
  const tags = touchedBy(change);
  await Promise.all([deps.cache.bump(...invalidatedBy(change)), tags.length ? deps.cache.touch(...tags) : undefined]);
}
