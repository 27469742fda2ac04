// The typed client's entry: the App type for Eden Treaty (`treaty<App>(url)`), importable from
// another package without it declaring anything (the asset modules the app imports reference their
// own declarations). The consumer's @elysiajs/eden must see the elysia this app is built with: one
// copy of elysia 1.4.30 (see the README).
export type { App } from "./app";
