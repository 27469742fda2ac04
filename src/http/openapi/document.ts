// The OpenAPI 3.1 document, built from Elysia's route table and the routes' own TypeBox schemas, so
// it cannot drift from what the server validates: JSON bodies as application/json, every error as
// application/problem+json with the Problem schema, named schemas in components, the headers and
// statuses the HTTP layer really adds (413 for bodies, 401 for tokens, 503, rate limits, ETag).
import { OptionalKind } from "@sinclair/typebox";
import type { AnyElysia } from "elysia";
import type { ErrorCode } from "../error-codes";
import { codesOf, ProblemSchema } from "../errors";
import { type JsonSchema, SchemaRegistry } from "./schema-json";

export interface DocumentOptions {
  version: string;
}

interface RouteDetail {
  hide?: boolean;
  tags?: string[];
  summary?: string;
  description?: string;
  operationId?: string;
  security?: Record<string, string[]>[];
  /** false: the route's 429 is another limit than the request rate (no RateLimit-* headers). */
  "x-rate-limit-headers"?: boolean;
}

interface RouteHooks {
  detail?: RouteDetail;
  body?: unknown;
  query?: unknown;
  params?: unknown;
  headers?: unknown;
  response?: Record<string, unknown>;
}

export const TAGS = [
  { name: "auth", description: "Accounts and tokens" },
  { name: "users", description: "Profiles" },
  { name: "properties", description: "Listings, search, availability and calendars" },
  { name: "bookings", description: "Stays: holds, prices, cancellations and refunds" },
  { name: "payments", description: "Paying for bookings, refunds, and the payment provider's webhooks" },
  { name: "payouts", description: "Hosts' balances, ledger entries, payout method and payouts" },
  { name: "reviews", description: "Reviews of stays by guests, of guests by hosts, and hosts' responses" },
  { name: "notifications", description: "In-app notifications" },
  { name: "wishlists", description: "Named lists of saved listings" },
  { name: "alerts", description: "Waiting for a stay that cannot be booked now: told once when it can" },
  { name: "admin", description: "Moderation (admins only; the routes answer 404 to everyone else)" },
  { name: "operations", description: "Health, readiness and metrics" },
  { name: "testing", description: "The test clock (only with TEST_CLOCK=1)" },
];

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  304: "Not Modified: the caller's copy (If-None-Match) is current",
  // An error status answered with the route's own body (/ready's), not a Problem.
  503: "A dependency is unreachable: the checks say which",
};

/** What an error status means; the document adds the codes the operation answers it with. */
const ERROR_TEXT: Record<number, string> = {
  400: "The request is malformed: a body that is not (valid) JSON, a token or signature that is not valid",
  401: "Missing, invalid or expired token, or bad credentials",
  403: "Authenticated but not allowed",
  404: "No such resource, or one the caller may not see",
  408: "The body did not arrive within BODY_TIMEOUT_MS",
  409: "Conflicts with the current state",
  413: "The body is over 1 MiB",
  422: "Well-formed input that breaks a rule (a cursor this query did not issue included); `errors` names each field",
  429: "Too many requests; retry after `Retry-After` seconds",
  503: "A dependency is unreachable; retry after `Retry-After` seconds",
};

const header = (description: string, schema: JsonSchema) => ({ description, schema });
const HEADERS = {
  "X-Request-Id": header(
    "The request's id (the caller's X-Request-Id when well-formed); quote it when reporting a problem",
    { type: "string" },
  ),
  ETag: header("Strong validator of the representation; send it back in If-None-Match", { type: "string" }),
  "Cache-Control": header("Caching directives", { type: "string" }),
  "RateLimit-Limit": header("Requests allowed in the window", { type: "integer", minimum: 0 }),
  "RateLimit-Remaining": header("Requests left in the window", { type: "integer", minimum: 0 }),
  "RateLimit-Reset": header("Seconds until the window resets", { type: "integer", minimum: 0 }),
  "Retry-After": header("Seconds to wait before retrying", { type: "integer", minimum: 0 }),
  "Idempotent-Replayed": header(
    "`true` when this is the stored answer to an earlier request with the same Idempotency-Key",
    { type: "string", enum: ["true"] },
  ),
};
type HeaderName = keyof typeof HEADERS;
const headerRefs = (...names: HeaderName[]) =>
  Object.fromEntries(names.map((n) => [n, { $ref: `#/components/headers/${n}` }]));
const RATE_HEADERS: HeaderName[] = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"];

/** "/api/v1/users/:id" → "/api/v1/users/{id}". */
const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

/** "GET /api/v1/properties/{id}/calendar.ics" → "getPropertiesByIdCalendarIcs". */
function operationIdOf(method: string, path: string): string {
  const words = path
    .replace(/^\/api\/v1/, "")
    .split(/[/.]/)
    .filter(Boolean)
    .map((part) => (part.startsWith(":") ? `by-${part.slice(1)}` : part.replace(/^_/, "")))
    .flatMap((part) => part.split(/[-_]/));
  return method.toLowerCase() + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
}

const isVoid = (schema: unknown) => {
  const s = schema as JsonSchema | undefined;
  return !s || s.type === "void" || (s as { [k: symbol]: unknown })[Symbol.for("TypeBox.Kind")] === "Void";
};

/** Parameters of one location from an object schema: its properties, required as the object says. */
function parametersOf(where: "path" | "query" | "header", schema: unknown, registry: SchemaRegistry) {
  if (!schema) return [];
  const object = registry.convert(schema, false);
  const properties = (object.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((object.required as string[] | undefined) ?? []);
  // A declared Authorization header is the bearerAuth security scheme (OpenAPI ignores such a
  // parameter; generators would make it a second way to send the token).
  const named = Object.entries(properties).filter(([name]) => where !== "header" || name !== "authorization");
  return named.map(([name, propertySchema]) => {
    const { description, examples, ...rest } = propertySchema;
    return {
      name,
      in: where,
      required: where === "path" || required.has(name),
      ...(description ? { description } : {}),
      schema: rest,
      ...(Array.isArray(examples) && examples.length > 0 ? { example: examples[0] } : {}),
    };
  });
}

/** A 2xx answer: JSON, a text type named by the schema's contentMediaType, or nothing. */
function successResponse(status: number, schema: unknown, registry: SchemaRegistry, headers: Record<string, unknown>) {
  const description = STATUS_TEXT[status] ?? `Status ${status}`;
  if (isVoid(schema)) return { description, headers };
  const plain = schema as JsonSchema;
  if (plain.type === "string" && typeof plain.contentMediaType === "string") {
    return {
      description: typeof plain.description === "string" ? plain.description : description,
      headers,
      content: { [plain.contentMediaType]: { schema: { type: "string" } } },
    };
  }
  return { description, headers, content: { "application/json": { schema: registry.convert(schema) } } };
}

/** An error answer: the Problem schema, its `code` one of `codes` (the catalog's, for this operation and status). */
const problemResponse = (status: number, codes: ErrorCode[], headers: Record<string, unknown>) => {
  const named = codes.map((c) => `\`${c}\``).join(", ");
  const text = ERROR_TEXT[status] ?? `Error ${status}`;
  const problem = { $ref: "#/components/schemas/Problem" };
  return {
    description: codes.length ? `${text} (${named})` : text,
    headers,
    content: {
      "application/problem+json": {
        schema: codes.length
          ? {
              allOf: [
                problem,
                { type: "object", required: ["code"], properties: { code: { type: "string", enum: codes } } },
              ],
            }
          : problem,
      },
    },
  };
};

function operationOf(method: string, path: string, hooks: RouteHooks, registry: SchemaRegistry) {
  const detail = hooks.detail ?? {};
  const statuses = new Map<number, unknown>();
  for (const [code, schema] of Object.entries(hooks.response ?? {})) statuses.set(Number(code), schema);
  const isApi = path.startsWith("/api/");
  const hasBody = hooks.body !== undefined;
  const isAuthenticated = (detail.security?.length ?? 0) > 0;
  // What the HTTP layer answers on such a route, whatever its own map lists, and with which codes:
  // 413 for a declared length over the limit (any method), 400 for a body that is not JSON (any
  // method that may carry one), 422 for a broken body or query rule (or a cursor not issued for
  // it), 401/403 for a token (403: a suspended account), 409/422 for an Idempotency-Key in flight
  // or reused, 409/422 for a database rule on a write, 503 when the database or Redis is unreachable. The route's own map lists the codes
  // its verbs answer (`errorResponses("not_found", …)`).
  const isIdempotent = Object.hasOwn(
    ((hooks.headers as JsonSchema | undefined)?.properties ?? {}) as object,
    "idempotency-key",
  );
  const isPaged = Object.hasOwn(((hooks.query as JsonSchema | undefined)?.properties ?? {}) as object, "cursor");
  const added: [number, ErrorCode[]][] = [[413, ["payload_too_large"]]];
  if (method !== "GET") added.push([400, ["invalid_json"]], [408, ["request_timeout"]]);
  if (hasBody || hooks.query) added.push([422, ["validation_failed"]]);
  if (isPaged) added.push([422, ["invalid_cursor"]]);
  if (isIdempotent) added.push([409, ["idempotency_in_progress"]], [422, ["idempotency_key_reused"]]);
  if (isAuthenticated) added.push([401, ["unauthenticated", "token_expired"]], [403, ["forbidden"]]);
  if (isApi) added.push([503, ["unavailable"]]);
  // A database rule that fires anyway (the last line of defence, src/db/errors.ts): 409 for a
  // unique, exclusion or foreign key violation, a deadlock or a serialization failure, 422 for a
  // check. Only writes can meet one.
  if (isApi && method !== "GET") added.push([409, ["conflict"]], [422, ["validation_failed"]]);
  // A malformed id in the path names nothing that exists: 404, on a route that already says 404.
  if (hooks.params && statuses.has(404)) added.push([404, ["not_found"]]);
  const codes = new Map<number, ErrorCode[]>();
  for (const [status, schema] of statuses) if (status >= 400) codes.set(status, codesOf(schema) ?? []);
  for (const [status, layer] of added) {
    if (!statuses.has(status)) statuses.set(status, ProblemSchema);
    const list = codes.get(status) ?? [];
    for (const code of layer) if (!list.includes(code)) list.push(code);
    codes.set(status, list);
  }
  // A 429 is a rate limit (with RateLimit-* headers) unless the route says it is another limit.
  const isRateLimited = statuses.has(429) && detail["x-rate-limit-headers"] !== false;
  const isConditional = statuses.has(304);

  const responses: Record<string, unknown> = {};
  for (const status of [...statuses.keys()].sort((a, b) => a - b)) {
    const schema = statuses.get(status);
    // An error status is a Problem unless the route answers it with its own body (/ready's 503).
    const isProblem = status >= 400 && (schema === ProblemSchema || codesOf(schema) !== undefined);
    const names: HeaderName[] = ["X-Request-Id"];
    if (isRateLimited && status < 300) names.push(...RATE_HEADERS);
    if (isProblem && (status === 429 || status === 503))
      names.push("Retry-After", ...(status === 429 && isRateLimited ? RATE_HEADERS : []));
    if (isConditional && (status === 200 || status === 304)) names.push("ETag", "Cache-Control");
    if (isIdempotent && status < 300) names.push("Idempotent-Replayed");
    const headers = headerRefs(...names);
    responses[String(status)] = isProblem
      ? problemResponse(status, (codes.get(status) ?? []).sort(), headers)
      : successResponse(status, schema, registry, headers);
  }

  const parameters = [
    ...parametersOf("path", hooks.params, registry),
    ...parametersOf("query", hooks.query, registry),
    ...parametersOf("header", hooks.headers, registry),
  ];
  if (isConditional) {
    parameters.push({
      name: "If-None-Match",
      in: "header",
      required: false,
      description: "An ETag from an earlier answer: 304 when it is still current",
      schema: { type: "string" },
    });
  }

  let requestBody: unknown;
  if (hasBody) {
    const raw = JSON.parse(JSON.stringify(hooks.body)) as JsonSchema;
    const examples = raw.examples as unknown[] | undefined;
    requestBody = {
      // t.Optional(body): the request may come without one.
      required: !(typeof hooks.body === "object" && hooks.body !== null && OptionalKind in hooks.body),
      ...(typeof raw.description === "string" ? { description: raw.description } : {}),
      content: {
        "application/json": {
          schema: registry.convert(hooks.body),
          ...(examples?.length ? { example: examples[0] } : {}),
        },
      },
    };
  }

  return {
    operationId: detail.operationId ?? operationIdOf(method, path),
    tags: detail.tags ?? [],
    summary: detail.summary ?? `${method} ${path}`,
    description: detail.description ?? detail.summary ?? "",
    security: detail.security ?? [],
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses,
  };
}

/** The whole document for `app`'s routes (servers are added per request by the docs route). */
export function openApiDocument(app: AnyElysia, options: DocumentOptions) {
  const registry = new SchemaRegistry();
  registry.convert(ProblemSchema);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of app.routes) {
    const hooks = (route.hooks ?? {}) as RouteHooks;
    const method = route.method.toUpperCase();
    if (hooks.detail?.hide || !["GET", "POST", "PUT", "PATCH", "DELETE"].includes(method)) continue;
    const path = openApiPath(route.path);
    paths[path] ??= {};
    (paths[path] as Record<string, unknown>)[method.toLowerCase()] = operationOf(method, route.path, hooks, registry);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "stayhub API",
      version: options.version,
      summary: "Book stays, list properties, take payments, review.",
      description:
        "REST + JSON under /api/v1. Money is integer minor units with an ISO 4217 currency; stay dates are YYYY-MM-DD with checkOut exclusive; " +
        "timestamps are RFC 3339 UTC. Lists are cursor-paginated: `limit` 1–100 and the previous page's `nextCursor`. " +
        "Every error is application/problem+json (RFC 9457) with a stable `code`; validation errors name each field in `errors`.",
      contact: { name: "stayhub", url: "https://stayhub.dev" },
      license: { name: "MIT", identifier: "MIT" },
    },
    tags: TAGS,
    paths,
    components: {
      schemas: registry.schemas,
      headers: HEADERS,
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "An access token from /auth/login or /auth/register",
        },
      },
    },
  };
}
