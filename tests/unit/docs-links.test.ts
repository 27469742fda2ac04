// The docs point at things that exist: every relative link of README.md and docs/*.md names a file
// of the repository (and its #anchor a heading of that file), and every repository path written in
// backticks (`src/…`, `tests/…`, …) is a file or folder that is there. A rename that forgets the docs fails here.
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

/** The text outside fenced code blocks (links there are examples, not links). */
function prose(markdown: string): string {
  let fenced = false;
  return markdown
    .split("\n")
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fenced = !fenced;
        return "";
      }
      return fenced ? "" : line;
    })
    .join("\n");
}

/** GitHub's heading anchors: lower case, punctuation dropped (but - and _), spaces to -, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of prose(markdown).split("\n")) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m?.[1]) continue;
    const text = m[1].replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Repository paths this check vouches for, when written in backticks. */
const REPO_PATH =
  /(?:^|[\s(=])((?:src|tests|scripts|workers|docs|drizzle|\.github|\.ci)\/[\w.\-/]*\.[a-z]+)(?=$|[\s),:])/g;

/** Every broken reference of one markdown file, as "file: what" lines. */
function brokenReferences(file: string, root: string): string[] {
  const text = prose(readFileSync(file, "utf8"));
  const name = relative(root, file);
  const problems: string[] = [];
  const anchorsCache = new Map<string, Set<string>>();
  const anchorsIn = (path: string) => {
    const known = anchorsCache.get(path);
    if (known) return known;
    const found = anchorsOf(readFileSync(path, "utf8"));
    anchorsCache.set(path, found);
    return found;
  };

  for (const m of text.matchAll(/\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1] ?? "";
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: …
    const [pathPart = "", anchor] = target.split("#", 2);
    const path = pathPart === "" ? file : resolve(dirname(file), decodeURIComponent(pathPart));
    if (path !== root && !path.startsWith(root + sep)) {
      problems.push(`${name}: ${target} leaves the repository (a clone does not have it)`);
      continue;
    }
    if (!existsSync(path)) {
      problems.push(`${name}: ${target} points at a file that does not exist`);
      continue;
    }
    if (anchor !== undefined && anchor !== "") {
      if (!path.endsWith(".md")) problems.push(`${name}: ${target} has an anchor but is not markdown`);
      else if (!anchorsIn(path).has(anchor.toLowerCase()))
        problems.push(`${name}: ${target}: no heading of ${relative(root, path)} makes #${anchor}`);
    }
  }

  for (const span of text.matchAll(/`([^`\n]+)`/g)) {
    for (const m of (span[1] ?? "").matchAll(REPO_PATH)) {
      const path = m[1] ?? "";
      if (!existsSync(join(root, path))) problems.push(`${name}: \`${path}\` does not exist`);
    }
  }
  return problems;
}

const docsFiles = (root: string) => [
  join(root, "README.md"),
  ...(existsSync(join(root, "docs"))
    ? readdirSync(join(root, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => join(root, "docs", f))
    : []),
];

test("every relative link and backticked repository path in README.md and docs/ exists", () => {
  const files = docsFiles(ROOT);
  expect(files.length).toBeGreaterThan(1);
  for (const f of files) expect(statSync(f).isFile()).toBe(true);
  expect(files.flatMap((f) => brokenReferences(f, ROOT))).toEqual([]);
});

test("GitHub's anchors: punctuation dropped, spaces to hyphens, repeated headings numbered", () => {
  const a = anchorsOf(
    "# One request, end to end: `POST /bookings`\n## Data model\n## Data model\n```\n# not a heading\n```\n",
  );
  expect([...a]).toEqual(["one-request-end-to-end-post-bookings", "data-model", "data-model-1"]);
});

test("the check finds a missing file, a missing anchor, a link out of the repository and a stale path", () => {
  const root = mkdtempSync(join(tmpdir(), "stayhub-docs-links-"));
  mkdirSync(join(root, "docs"));
  mkdirSync(join(root, "src"));
  writeFileSync(join(root, "src", "here.ts"), "");
  writeFileSync(join(root, "docs", "A.md"), "# A\n\n## Second part\n");
  writeFileSync(
    join(root, "README.md"),
    [
      "# R",
      "[ok](docs/A.md) [ok](docs/A.md#second-part) [ok](#r) [web](https://example.com/x.md) `src/here.ts`",
      "[gone](docs/B.md) [bad anchor](docs/A.md#third-part) [out](../elsewhere/API.md) `src/gone.ts`",
      "```",
      "[in a code block](nowhere.md) `src/also-gone.ts`",
      "```",
    ].join("\n"),
  );
  expect(brokenReferences(join(root, "README.md"), root)).toEqual([
    "README.md: docs/B.md points at a file that does not exist",
    "README.md: docs/A.md#third-part: no heading of docs/A.md makes #third-part",
    "README.md: ../elsewhere/API.md leaves the repository (a clone does not have it)",
    "README.md: `src/gone.ts` does not exist",
  ]);
  expect(brokenReferences(join(root, "docs", "A.md"), root)).toEqual([]);
});
