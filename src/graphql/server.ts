// /graphql: graphql-yoga on the schema, mounted as one Elysia route so it shares the HTTP layer
// (request ids, the 1 MiB body cap, the body timeout, access log and metrics). Limits come from
// graphql-armor: depth, cost, aliases and tokens are refused before anything runs.

import { useGraphQlJit } from "@envelop/graphql-jit";
import { blockFieldSuggestionsPlugin } from "@escape.tech/graphql-armor-block-field-suggestions";
import { costLimitPlugin } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import { Elysia } from "elysia";
import { type ExecutionArgs, type GraphQLError, Kind, NoSchemaIntrospectionCustomRule, parse } from "graphql";
import { createYoga, type Plugin } from "graphql-yoga";
import { PUBLIC_GRAPHQL } from "../cache/invalidation";
import type { Deps } from "../dependencies";
import { addAnswerHeaders, answerHeaders } from "../http/answer-headers";
import type { GraphQLLimitCode } from "../http/error-codes";
import { AppError } from "../http/errors";
import { fastRoute, rawBodyOf, readBody, requestIdOf } from "../http/foundation";
import { dayOf } from "../lib/dates";
import { createContext, type GraphQLContext } from "./context";
import { maskError } from "./errors";
import { graphiqlPolicy, renderGraphiQL } from "./graphiql";
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

const isSubscription = (args: ExecutionArgs) =>
  args.document.definitions.some((d) => d.kind === "OperationDefinition" && d.operation === "subscription");

/** An over-limit query's error carries a stable code, like every other error of the API. */
const coded =
  (code: GraphQLLimitCode) =>
  (_ctx: unknown, error: GraphQLError): void => {
    Object.assign(error.extensions, { code });
  };
const limit = (code: GraphQLLimitCode) => ({ onReject: [coded(code)], propagateOnRejection: true });

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
      // Each distinct query compiled once to a function (graphql-jit): plain execution walked the
      // schema for every field of every item, most of a page's time.
      useGraphQlJit({}, { enableIf: (args) => !isSubscription(args) }),
      maxTokensPlugin({ n: LIMITS.tokens, ...limit("query_too_large") }),
      maxDepthPlugin({
        n: LIMITS.depth,
        ignoreIntrospection: true,
        flattenFragments: true,
        ...limit("query_too_deep"),
      }),
      costLimitPlugin({ maxCost: LIMITS.cost, ignoreIntrospection: true, ...limit("query_too_costly") }),
      maxAliasesPlugin({ n: LIMITS.aliases, ...limit("too_many_aliases") }),
      ...(introspection ? [] : [blockFieldSuggestionsPlugin(), noIntrospection]),
    ],
  });
}

/** How long an anonymous search's answer is served from the cache at most (as REST's search pages). */
const PUBLIC_TTL_SECONDS = 60;

/**
 * An anonymous query whose every root field is `properties`: its answer is the same for anyone
 * (listed properties, public profiles, reviews) — cached like REST's search pages.
 */
function isPublicSearch(body: Uint8Array): boolean {
  try {
    const { query, operationName } = JSON.parse(utf8.decode(body)) as { query?: unknown; operationName?: unknown };
    if (typeof query !== "string") return false;
    const operations = parse(query, { noLocation: true }).definitions.filter(
      (d) => d.kind === Kind.OPERATION_DEFINITION,
    );
    const op =
      typeof operationName === "string"
        ? operations.find((o) => o.name?.value === operationName)
        : operations.length === 1
          ? operations[0]
          : undefined;
    return (
      op?.operation === "query" &&
      op.selectionSet.selections.length > 0 &&
      op.selectionSet.selections.every(
        (f) => f.kind === Kind.FIELD && f.name.value === "properties" && !f.directives?.length,
      )
    );
  } catch {
    return false;
  }
}

/**
 * A POST's answer from its body's bytes. Anonymous searches are answered from the cache (the
 * namespace every listing, booking, review and host change bumps); the key is the exact request,
 * its Accept, and today (dated filters).
 */
const posters = new WeakMap<Deps, ReturnType<typeof makePoster>>();

/** One yoga (and its parse, validation and JIT caches) per app, shared by both routes. */
function poster(deps: Deps) {
  let post = posters.get(deps);
  if (!post) {
    post = makePoster(deps, createGraphQL(deps));
    posters.set(deps, post);
  }
  return post;
}

function makePoster(deps: Deps, yoga: ReturnType<typeof createGraphQL>) {
  const post = async (
    request: Request,
    body: Uint8Array,
    requestId: string | undefined,
    check?: (body: Uint8Array) => void,
  ): Promise<Response> => {
    const key = request.headers.has("authorization")
      ? null
      : `gql:${new Bun.CryptoHasher("sha256").update(body).digest("base64url")}:${request.headers.get("accept") ?? ""}:${dayOf(deps.clock.now())}`;
    const cached = key ? await deps.cache.get(PUBLIC_GRAPHQL, key) : null;
    if (cached?.value) {
      const at = cached.value.indexOf("\n");
      return new Response(cached.value.slice(at + 1), {
        headers: {
          "content-type": cached.value.slice(0, at),
          ...answerHeaders(request),
          ...(requestId ? { "x-request-id": requestId } : {}),
        },
      });
    }
    // Checked only when not answered from the cache (only valid bodies are ever cached).
    check?.(body);
    const answer = await yoga.fetch(
      new Request(request.url, {
        method: "POST",
        headers: request.headers,
        body: body as BodyInit,
        signal: request.signal,
      }),
      { requestId },
    );
    addAnswerHeaders(request, answer);
    if (requestId) answer.headers.set("x-request-id", requestId);
    if (!key || !cached || answer.status !== 200 || !isPublicSearch(body)) return answer;
    const text = await answer.text();
    const type = answer.headers.get("content-type") ?? "application/json";
    if (!text.includes('"errors"'))
      await deps.cache.set(PUBLIC_GRAPHQL, key, cached.generation, `${type}\n${text}`, PUBLIC_TTL_SECONDS);
    return new Response(text, { status: answer.status, headers: answer.headers });
  };
  return { yoga, post };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** What the HTTP layer says of a body that is not JSON (yoga's own answer is not problem+json). */
function checkJson(body: Uint8Array): void {
  try {
    JSON.parse(utf8.decode(body));
  } catch {
    throw new AppError(400, "invalid_json", "The body is not valid JSON");
  }
}

const isJson = (request: Request) =>
  /^application\/(json|[\w.-]+\+json)\b/i.test(request.headers.get("content-type") ?? "");

/**
 * POST /graphql as a Bun-native route in front of Elysia's (its hooks cost more than a cached
 * answer): the body is read with the HTTP layer's own rules (1 MiB, depth, deadline; problem+json
 * when broken). Anything not JSON goes to the Elysia route, which answers it as every route does.
 */
export function graphqlFastRoutes(deps: Deps, fallback: (request: Request) => Promise<Response>) {
  const { post } = poster(deps);
  return {
    "/graphql": {
      POST: fastRoute(
        deps.log,
        deps.metrics,
        "/graphql",
        (request, requestId) => {
          if (!isJson(request)) return undefined;
          return readBody(request, deps.config.bodyTimeoutMs).then((body) => post(request, body, requestId, checkJson));
        },
        fallback,
      ),
    },
  };
}

/** /graphql through Elysia: GET (GraphiQL, queries and SSE subscriptions by URL), and POST for app.handle(). */
export function graphqlRoutes(deps: Deps) {
  const { yoga, post } = poster(deps);
  return new Elysia()
    .get(
      "/graphql",
      async ({ request }) => {
        const answer = addAnswerHeaders(request, await yoga.fetch(request, { requestId: requestIdOf(request) }));
        const policy = answer.headers.get("content-type")?.startsWith("text/html") ? graphiqlPolicy() : undefined;
        if (policy) answer.headers.set("content-security-policy", policy);
        return answer;
      },
      { detail: { hide: true } },
    )
    .post("/graphql", ({ request }) => post(request, rawBodyOf(request), requestIdOf(request)), {
      detail: { hide: true },
    });
}
