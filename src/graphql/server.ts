// /graphql: graphql-yoga on the schema, mounted as one Elysia route so it shares the HTTP layer
// (request ids, the 1 MiB body cap, the body timeout, access log and metrics). Limits come from
// graphql-armor: depth, cost, aliases and tokens are refused before anything runs.
import { blockFieldSuggestionsPlugin } from "@escape.tech/graphql-armor-block-field-suggestions";
import { costLimitPlugin } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import { Elysia } from "elysia";
import { type GraphQLError, NoSchemaIntrospectionCustomRule } from "graphql";
import { createYoga, type Plugin } from "graphql-yoga";
import type { Deps } from "../dependencies";
import { rawBodyOf, requestIdOf } from "../http/foundation";
import { createContext, type GraphQLContext } from "./context";
import { maskError } from "./errors";
import { schema } from "./schema";

/** The limits (exported for the tests and the README). */
export const LIMITS = { depth: 10, cost: 25_000, aliases: 15, tokens: 3000 } as const;

interface ServerContext {
  requestId?: string;
}

/** Introspection off (GRAPHQL_INTROSPECTION=0, the default in production): `__schema` and `__type` are refused. */
const noIntrospection: Plugin = {
  onValidate({ addValidationRule }) {
    addValidationRule(NoSchemaIntrospectionCustomRule);
  },
};

/** An over-limit query's error carries a stable code, like every other error of the API. */
const coded =
  (code: string) =>
  (_ctx: unknown, error: GraphQLError): void => {
    Object.assign(error.extensions, { code });
  };
const limit = (code: string) => ({ onReject: [coded(code)], propagateOnRejection: true });

export function createGraphQL(deps: Deps) {
  const introspection = deps.config.graphqlIntrospection;
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: "/graphql",
    context: ({ request, requestId }) => createContext(deps, request, requestId),
    maskedErrors: { maskError: maskError(deps.log) },
    // GraphiQL from the package itself (no CDN: the docs work offline), with introspection.
    graphiql: introspection ? { title: "stayhub GraphQL" } : false,
    renderGraphiQL,
    landingPage: false,
    logging: false,
    batching: false,
    plugins: [
      maxTokensPlugin({ n: LIMITS.tokens, ...limit("query_too_large") }),
      maxDepthPlugin({ n: LIMITS.depth, ignoreIntrospection: true, flattenFragments: true, ...limit("query_too_deep") }),
      costLimitPlugin({ maxCost: LIMITS.cost, ignoreIntrospection: true, ...limit("query_too_costly") }),
      maxAliasesPlugin({ n: LIMITS.aliases, ...limit("too_many_aliases") }),
      ...(introspection ? [] : [blockFieldSuggestionsPlugin(), noIntrospection]),
    ],
  });
}

export function graphqlRoutes(deps: Deps) {
  const yoga = createGraphQL(deps);
  const forward = (request: Request) => {
    const requestId = requestIdOf(request);
    // A POST's body was read (and capped) by the HTTP layer: yoga gets the same bytes.
    if (request.method !== "POST") return yoga.fetch(request, { requestId });
    const again = new Request(request.url, { method: "POST", headers: request.headers, body: rawBodyOf(request) as BodyInit, signal: request.signal });
    return yoga.fetch(again, { requestId });
  };
  return new Elysia()
    .get("/graphql", ({ request }) => forward(request), { detail: { hide: true } })
    .post("/graphql", ({ request }) => forward(request), { detail: { hide: true } });
}
