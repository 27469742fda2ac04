// Assets imported `with { type: "file" }` resolve to a path (in the compiled binary, inside /$bunfs).
// The files that import them reference this file (`/// <reference path>`), so a program that reaches
// them from elsewhere (a client package type-checking the App type, see client.ts) needs nothing of its own.
declare module "@electric-sql/pglite/*.wasm" {
  const path: string;
  export default path;
}
declare module "@electric-sql/pglite/*.data" {
  const path: string;
  export default path;
}
// PGlite's extension bundles, imported by a relative path into node_modules (not in its exports).
declare module "*.tar.gz" {
  const path: string;
  export default path;
}
declare module "swagger-ui-dist/*" {
  const path: string;
  export default path;
}
