import { expect, test } from "bun:test";
import { DepthScanner, MAX_JSON_DEPTH, nestsDeeperThan } from "../../src/http/json-depth";

const nested = (n: number) => "[".repeat(n) + "]".repeat(n);

test("depth is counted over arrays and objects, up to the limit and one past it", () => {
  expect(nestsDeeperThan(nested(MAX_JSON_DEPTH))).toBe(false);
  expect(nestsDeeperThan(nested(MAX_JSON_DEPTH + 1))).toBe(true);
  expect(nestsDeeperThan(`${'{"a":'.repeat(33)}1${"}".repeat(33)}`)).toBe(true);
  expect(nestsDeeperThan("[".repeat(10_000))).toBe(true); // unbalanced: still refused, early
  // Siblings do not add up: a long flat list is depth 1.
  expect(nestsDeeperThan(`[${"[],".repeat(10_000)}[]]`)).toBe(false);
});

test("brackets inside strings, escaped quotes included, do not count", () => {
  expect(nestsDeeperThan(JSON.stringify({ text: "[".repeat(1000) }))).toBe(false);
  expect(nestsDeeperThan(JSON.stringify({ text: `\\"${"{".repeat(100)}` }))).toBe(false);
  expect(nestsDeeperThan(JSON.stringify({ a: 'he said "[[[["' }))).toBe(false);
});

test("fed in chunks, a string or an escape split across chunks is still a string", () => {
  const scanner = new DepthScanner(2);
  // {"a":"x\"[[[["}: the quote after the backslash is escaped, so the brackets are text.
  const bytes = new TextEncoder().encode('{"a":"x\\"[[[["}');
  // Split right after the backslash: the escape must carry over to the next chunk.
  expect(scanner.push(bytes.slice(0, 8))).toBe(false);
  expect(scanner.push(bytes.slice(8))).toBe(false);
  expect(new DepthScanner(2).push(new TextEncoder().encode("[[["))).toBe(true);
});
