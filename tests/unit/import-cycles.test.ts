import { expect, test } from "bun:test";
import { cycles, importGraph } from "../../scripts/check-cycles";

test("cycles() finds circles of any length and self-imports, and nothing else", () => {
  const graph = new Map<string, string[]>([
    ["a", ["b"]],
    ["b", ["c"]],
    ["c", ["a", "d"]],
    ["d", []],
    ["e", ["e"]],
    ["f", ["d"]],
  ]);
  expect(cycles(graph)).toEqual([["a", "b", "c"], ["e"]]);
});

test("src/ and workers/ have no run-time import cycle; type-only imports do not count", async () => {
  const graph = await importGraph();
  expect(graph.size).toBeGreaterThan(50);
  expect(cycles(graph)).toEqual([]);
  // The dependency bundle's type is imported without importing how it is built.
  const routes = [...graph].find(([file]) => file.endsWith("src/modules/users/routes.ts"));
  expect(routes?.[1].some((f) => f.endsWith("src/compose.ts"))).toBe(false);
});
