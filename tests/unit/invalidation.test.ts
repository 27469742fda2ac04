// What each kind of change invalidates (src/cache/invalidation.ts): written out here, so a change
// to the mapping is a visible change to this table.
import { describe, expect, test } from "bun:test";
import {
  type Change,
  type ChangeKind,
  DATED_SEARCH,
  invalidatedBy,
  onChange,
  propertyNamespace,
  SEARCH,
} from "../../src/cache/invalidation";

const A = "0190a1b2-0000-7000-8000-00000000000a";
const B = "0190a1b2-0000-7000-8000-00000000000b";
const listings = [`property:${A}`, `property:${B}`];

// One example of every kind (the record type makes a new kind without a row a compile error).
const table: { [K in ChangeKind]: [Change & { kind: K }, string[]] } = {
  "listing.created": [{ kind: "listing.created", propertyId: A }, [`property:${A}`, "search", "search:dated"]],
  "listing.edited": [{ kind: "listing.edited", propertyId: A }, [`property:${A}`, "search", "search:dated"]],
  "listing.unlisted": [{ kind: "listing.unlisted", propertyId: A }, [`property:${A}`, "search", "search:dated"]],
  "listing.moderated": [{ kind: "listing.moderated", propertyId: A }, [`property:${A}`, "search", "search:dated"]],
  "calendar.changed": [{ kind: "calendar.changed", propertyId: A }, [`property:${A}`, "search", "search:dated"]],
  "review.added": [{ kind: "review.added", propertyId: A }, [`property:${A}`, "search", "search:dated"]],
  "review.answered": [{ kind: "review.answered" }, ["search:dated"]],
  "host.profile.changed": [
    { kind: "host.profile.changed", propertyIds: [A, B] },
    [...listings, "search", "search:dated"],
  ],
  "host.suspended": [{ kind: "host.suspended", propertyIds: [A, B] }, [...listings, "search", "search:dated"]],
  "host.unsuspended": [{ kind: "host.unsuspended", propertyIds: [A, B] }, [...listings, "search", "search:dated"]],
  "account.deleted": [{ kind: "account.deleted", propertyIds: [A, B] }, [...listings, "search", "search:dated"]],
  "nights.changed": [{ kind: "nights.changed" }, ["search:dated"]],
  "catalog.seeded": [{ kind: "catalog.seeded" }, ["search", "search:dated"]],
};

describe("cache invalidation: a change → what it invalidates", () => {
  for (const [kind, [change, expected]] of Object.entries(table))
    test(kind, () => {
      expect(invalidatedBy(change)).toEqual(expected);
    });

  test("the namespaces are the ones the readers use", () => {
    expect([SEARCH, DATED_SEARCH, propertyNamespace(A)]).toEqual(["search", "search:dated", `property:${A}`]);
  });

  test("an id spelled in capitals invalidates the entry of the id as stored (lowercase)", () => {
    expect(invalidatedBy({ kind: "listing.edited", propertyId: A.toUpperCase() })[0]).toBe(`property:${A}`);
  });

  test("a host's change to no listings still invalidates every search, as before", () => {
    expect(invalidatedBy({ kind: "host.profile.changed", propertyIds: [] })).toEqual(["search", "search:dated"]);
  });

  test("onChange bumps exactly those namespaces, once", async () => {
    const bumps: string[][] = [];
    const cache = { bump: async (...ns: string[]) => void bumps.push(ns) } as never;
    await onChange({ cache }, { kind: "calendar.changed", propertyId: B });
    await onChange({ cache }, { kind: "nights.changed" });
    expect(bumps).toEqual([[`property:${B}`, "search", "search:dated"], ["search:dated"]]);
  });
});
