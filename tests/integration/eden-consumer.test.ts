// The typed client from outside the repository: separate packages (tests/fixtures/eden-consumer*,
// each with its own package.json and tsconfig) import the App type as the README shows and use
// per-call headers (a bearer token beside Idempotency-Key). They must compile with the compiler
// this project type-checks with (TypeScript 7) and with TypeScript 5, what most consumers still run.
import { beforeAll, expect, test } from "bun:test";
import { cpSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const FIXTURES = join(ROOT, "tests/fixtures");
const TSC7 = join(ROOT, "node_modules/typescript/bin/tsc");
const TSC5 = join(ROOT, "node_modules/typescript5/bin/tsc");

/** node_modules of a fixture: stayhub linked to the repository, and optionally own copies of elysia and Eden. */
function install(name: string, ownCopies: string[]): string {
  const dir = join(FIXTURES, name);
  const modules = join(dir, "node_modules");
  rmSync(modules, { recursive: true, force: true });
  mkdirSync(join(modules, "@elysiajs"), { recursive: true });
  symlinkSync("../../../..", join(modules, "stayhub"));
  for (const p of ownCopies) cpSync(join(ROOT, "node_modules", p), join(modules, p), { recursive: true });
  return dir;
}

async function compile(tsc: string, dir: string): Promise<{ exitCode: number; output: string }> {
  const run = Bun.spawn([process.execPath, tsc, "-p", dir], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  const [out, err, exitCode] = await Promise.all([
    new Response(run.stdout).text(),
    new Response(run.stderr).text(),
    run.exited,
  ]);
  return { exitCode, output: (out + err).trim() };
}

let readme7: Promise<{ exitCode: number; output: string }>;
let readme5: Promise<{ exitCode: number; output: string }>;
let ownElysia: Promise<{ exitCode: number; output: string }>;
beforeAll(() => {
  // elysia and Eden resolve from the repository's node_modules: one copy of each.
  const readme = install("eden-consumer", []);
  // A second install of both, as `bun add elysia @elysiajs/eden` in another package makes it.
  const own = install("eden-consumer-own-elysia", ["elysia", "@elysiajs/eden"]);
  // Started together: the compilations take seconds each.
  readme7 = compile(TSC7, readme);
  readme5 = compile(TSC5, readme);
  ownElysia = compile(TSC7, own);
});

test("a package using treaty<App> from stayhub/src/client with per-call headers compiles (TypeScript 7)", async () => {
  expect(await readme7).toEqual({ exitCode: 0, output: "" });
}, 300_000);

test("the same package compiles with TypeScript 5", async () => {
  expect(await readme5).toEqual({ exitCode: 0, output: "" });
}, 300_000);

test("a package with its own elysia compiles when its tsconfig maps elysia to that one copy", async () => {
  expect(await ownElysia).toEqual({ exitCode: 0, output: "" });
}, 300_000);
