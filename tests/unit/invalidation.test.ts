// What each kind of change invalidates (src/cache/invalidation.ts): written out here, so a change
// to the mapping is a visible change to this table.
import { describe, expect, test } from "bun:test";
import {
  type Change,
  type ChangeKind,
  DATED_SEARCH,
  invalidatedBy,
  nightsTag,
  onChange,
  propertyNamespace,
  SEARCH,
  touchedBy,
} from "../../src/cache/invalidation";

const A = "0190a1b2-0000-7000-8000-00000000000a";
const B = "0190a1b2-0000-7000-8000-00000000000b";
const listings = [`property:${A}`, `property:${B}`];

// One example of every kind (the record type makes a new kind without a row a compile error).
const table: { [K in ChangeKind]: [Change & { kind: K }, string[]] } = {
  "listing.created": [
    { kind: "listing.created", propertyId: A },
    [`property:${A}`, "search", "search:dated", "graphql:public"],
  ],
  "listing.edited": [
    { kind: "listing.edited", propertyId: A },
    [`property:${A}`, "search", "search:dated", "graphql:public"],
  ],
  "listing.unlisted": [
    { kind: "listing.unlisted", propertyId: A },
    [`property:${A}`, "search", "search:dated", "graphql:public"],
  ],
  "listing.moderated": [
    { kind: "listing.moderated", propertyId: A },
    [`property:${A}`, "search", "search:dated", "graphql:public"],
  ],
  "calendar.changed": [
    { kind: "calendar.changed", propertyId: A },
    [`property:${A}`, "search", "search:dated", "graphql:public"],
  ],
  "review.added": [
    { kind: "review.added", propertyId: A },
    [`property:${A}`, "search", "search:dated", "graphql:public"],
  ],
  "review.answered": [{ kind: "review.answered" }, ["search:dated", "graphql:public"]],
  "host.profile.changed": [
    { kind: "host.profile.changed", propertyIds: [A, B] },
    [...listings, "search", "search:dated", "graphql:public"],
  ],
  "host.suspended": [
    { kind: "host.suspended", propertyIds: [A, B] },
    [...listings, "search", "search:dated", "graphql:public"],
  ],
  "host.unsuspended": [
    { kind: "host.unsuspended", propertyIds: [A, B] },
    [...listings, "search", "search:dated", "graphql:public"],
  ],
  "account.deleted": [
    { kind: "account.deleted", propertyIds: [A, B] },
    [...listings, "search", "search:dated", "graphql:public"],
  ],
  // Nights taken touch the property's tag instead (below): dated searches not listing it stay.
  "nights.taken": [{ kind: "nights.taken", propertyId: A }, ["graphql:public"]],
  "nights.freed": [{ kind: "nights.freed" }, ["search:dated", "graphql:public"]],
  "catalog.seeded": [{ kind: "catalog.seeded" }, ["search", "search:dated", "graphql:public"]],
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
    expect(invalidatedBy({ kind: "host.profile.changed", propertyIds: [] })).toEqual([
      "search",
      "search:dated",
      "graphql:public",
    ]);
  });

  test("only nights taken touch a tag: the property's, as the dated searches listing it are tagged", () => {
    expect(touchedBy({ kind: "nights.taken", propertyId: A.toUpperCase() })).toEqual([nightsTag(A)]);
    expect(nightsTag(A)).toBe(`n:${A}`);
    for (const [change] of Object.values(table))
      if (change.kind !== "nights.taken") expect(touchedBy(change)).toEqual([]);
  });

  test("onChange bumps exactly those namespaces and touches those tags, once", async () => {
    const bumps: string[][] = [];
    const touches: string[][] = [];
    const cache = {
      bump: async (...ns: string[]) => void bumps.push(ns),
      touch: async (...tags: string[]) => void touches.push(tags),
    } as never;
    await onChange({ cache }, { kind: "calendar.changed", propertyId: B });
    await onChange({ cache }, { kind: "nights.freed" });
    await onChange({ cache }, { kind: "nights.taken", propertyId: B });
    expect(bumps).toEqual([
      [`property:${B}`, "search", "search:dated", "graphql:public"],
      ["search:dated", "graphql:public"],
      ["graphql:public"],
    ]);
    expect(touches).toEqual([[`n:${B}`]]);
  });
});
