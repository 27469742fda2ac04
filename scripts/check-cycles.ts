// `bun run check:cycles`: fails when modules of src/ and workers/ import each other in a circle.
// Only imports that exist at run time count (type-only imports are erased, as the bundler erases
// them); a circle of those makes load order decide what is still undefined.

import { dirname, join, relative, resolve } from "node:path";
import { Glob } from "bun";

const ROOT = resolve(import.meta.dir, "..");
const ts = new Bun.Transpiler({ loader: "ts", trimUnusedImports: true });
// Macro imports run at build time, not at load time: they are no edge (and the transpiler would run them).
const MACRO_IMPORT = /^import .* with \{ type: "macro" \};$/gm;
const js = new Bun.Transpiler({ loader: "js" });

async function sourceFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const dir of ["src", "workers"])
    for await (const f of new Glob(`${dir}/**/*.ts`).scan(ROOT)) if (!f.endsWith(".d.ts")) files.push(join(ROOT, f));
  return files.sort();
}

function resolveImport(from: string, spec: string, known: Set<string>): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = resolve(dirname(from), spec);
  return [base, `${base}.ts`, join(base, "index.ts")].find((p) => known.has(p));
}

/** Every module's run-time imports of other modules of the project. */
export async function importGraph(): Promise<Map<string, string[]>> {
  const files = await sourceFiles();
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const code = ts.transformSync((await Bun.file(file).text()).replace(MACRO_IMPORT, ""));
    const targets = js
      .scanImports(code)
      .map((i) => resolveImport(file, i.path, known))
      .filter((p): p is string => !!p);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components with more than one module, or a module importing itself (Tarjan). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const on = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v) as number, idx.get(w) as number));
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop() as string;
        on.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.includes(v)) out.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

if (import.meta.main) {
  const graph = await importGraph();
  const found = cycles(graph);
  for (const c of found) console.error(`import cycle: ${c.map((f) => relative(ROOT, f)).join(" ⇄ ")}`);
  console.log(`${graph.size} modules, ${found.length} import cycle${found.length === 1 ? "" : "s"}`);
  process.exit(found.length ? 1 : 0);
}
