// The embedded database's assets, embedded in the compiled binary (`with { type: "file" }` turns each
// into a path that works both from node_modules and from the binary's /$bunfs).
/// <reference path="../types.d.ts" />
import { renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Extension, PGliteOptions } from "@electric-sql/pglite";
import initdbWasm from "@electric-sql/pglite/initdb.wasm" with { type: "file" };
import pgliteData from "@electric-sql/pglite/pglite.data" with { type: "file" };
import pgliteWasm from "@electric-sql/pglite/pglite.wasm" with { type: "file" };
import btreeGist from "../../node_modules/@electric-sql/pglite/dist/btree_gist.tar.gz" with { type: "file" };
import cube from "../../node_modules/@electric-sql/pglite/dist/cube.tar.gz" with { type: "file" };
import earthdistance from "../../node_modules/@electric-sql/pglite/dist/earthdistance.tar.gz" with { type: "file" };
import pgTrgm from "../../node_modules/@electric-sql/pglite/dist/pg_trgm.tar.gz" with { type: "file" };

const extensionFiles: Record<string, string> = {
  btree_gist: btreeGist,
  pg_trgm: pgTrgm,
  cube,
  earthdistance,
};

let compiled: Promise<{ pglite: WebAssembly.Module; initdb: WebAssembly.Module }> | undefined;

/** Compiled once per process: every embedded database (tests make many) reuses the modules. */
function wasmModules() {
  compiled ??= (async () => ({
    pglite: await WebAssembly.compile(await Bun.file(pgliteWasm).arrayBuffer()),
    initdb: await WebAssembly.compile(await Bun.file(initdbWasm).arrayBuffer()),
  }))();
  return compiled;
}

/**
 * PGlite reads extension bundles from a real file; a path inside the binary is copied out once,
 * named by its content hash so runs and versions share or separate copies as they should.
 */
async function realFile(path: string, name: string): Promise<string> {
  if (!path.startsWith("/$bunfs/") && !path.startsWith("B:/~BUN/")) return path;
  const bytes = await Bun.file(path).bytes();
  const hash = new Bun.CryptoHasher("sha256").update(bytes).digest("hex").slice(0, 16);
  const out = join(tmpdir(), `stayhub-${name}-${hash}.tar.gz`);
  if (Bun.file(out).size !== bytes.byteLength) {
    const partial = `${out}.${process.pid}.part`;
    await Bun.write(partial, bytes);
    renameSync(partial, out);
  }
  return out;
}

export async function pgliteOptions(): Promise<PGliteOptions> {
  const modules = await wasmModules();
  const extensions: Record<string, Extension> = {};
  for (const [name, path] of Object.entries(extensionFiles)) {
    const url = pathToFileURL(await realFile(path, name));
    extensions[name] = { name, setup: async () => ({ bundlePath: url }) };
  }
  return {
    pgliteWasmModule: modules.pglite,
    initdbWasmModule: modules.initdb,
    fsBundle: Bun.file(pgliteData),
    extensions,
  };
}
