// What each kind of committed change invalidates, in one place. Verbs say what happened
// (`onChange(deps, { kind: "calendar.changed", propertyId })`), never which cache namespaces to
// bump; the readers (the property's answer, search, GraphQL) name their namespaces from here.
//
// The namespaces: a property's answer (`property:<id>`), undated searches (SEARCH), and answers
// that also depend on bookings or reviews — dated searches and GraphQL's cached answers
// (DATED_SEARCH). Availability and calendar feeds are read fresh, never cached.
import type { Deps } from "../dependencies";

/** Cache namespaces of search answers: all of them, and the dated ones (which bookings change too). */
export const SEARCH = "search";
export const DATED_SEARCH = "search:dated";

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
  // Which nights are held changed: a booking made, cancelled or expired, a hold freed by a payment.
  | { kind: "nights.changed" }
  // Listings written in bulk outside the verbs (the seed): nobody read them before.
  | { kind: "catalog.seeded" };

export type ChangeKind = Change["kind"];

/** The namespaces of the answers that show these listings, and of every search. */
const listingAnswers = (ids: string[]) => [...ids.map(propertyNamespace), SEARCH, DATED_SEARCH];

/** What a change invalidates. */
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
    case "nights.changed":
      return [DATED_SEARCH];
    case "review.answered":
      return [DATED_SEARCH];
    case "catalog.seeded":
      return [SEARCH, DATED_SEARCH];
  }
}

/** After a committed change: the next read of what it invalidates sees it. */
export function onChange(deps: Pick<Deps, "cache">, change: Change): Promise<void> {
  return deps.cache.bump(...invalidatedBy(change));
}
