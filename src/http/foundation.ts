// Cross-cutting HTTP behaviour for every route: request ids, body limits, JSON-only bodies,
// problem+json errors, and one structured log line per request.
import { type AnyElysia, Elysia, type ValidationError } from "elysia";
import { isUnavailable, ruleViolation, sqlState, violatedConstraint } from "../db/errors";
import { TimeoutError, within } from "../lib/deadline";
import type { Logger } from "../lib/log";
import { answerHeaders } from "./answer-headers";
import { AppError, type Problem, problem, problemResponse } from "./errors";
import { DepthScanner, MAX_JSON_DEPTH } from "./json-depth";
import type { Metrics } from "./metrics";
import { UNSTORABLE_TEXT, unstorableTextAt } from "./text-guard";
import { coerceQuery, fieldErrors, RouteRuleBook, type RouteRules, shortPath } from "./validation";

export const MAX_BODY_BYTES = 1024 * 1024;

interface RequestMeta {
  id: string;
  start: number;
  /** Set when the answer is an error rendered by onError. */
  status?: number;
}

const meta = new WeakMap<Request, RequestMeta>();
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdOf(request: Request): string | undefined {
  return meta.get(request)?.id;
}

const rawBodies = new WeakMap<Request, Uint8Array>();

/** The body's bytes as they came (for signatures over the raw body: webhooks). */
export function rawBodyOf(request: Request): Uint8Array {
  return rawBodies.get(request) ?? new Uint8Array(0);
}

/** The problem an AppError stands for: the service layer's own words, as they are. */
const expected = (error: AppError, requestId: string | undefined): Problem =>
  problem(error.status, error.code, error.detail, error.errors, requestId);

/**
 * Logs an error nobody expected (without query parameters) and words the answer: a database rule
 * that fired becomes its 409/422 (logged as a warning: a check is missing before it), anything
 * else the 500 the caller gets.
 */
function unexpected(log: Logger, error: unknown, requestId: string | undefined, code = "UNKNOWN"): Problem {
  if (isUnavailable(error)) {
    log.warn("a dependency is unavailable", {
      requestId,
      code: (error as { code?: unknown })?.code ?? (error as Error)?.name,
    });
    return problem(
      503,
      "unavailable",
      "A service this request needs is unreachable right now; retry shortly",
      undefined,
      requestId,
    );
  }
  const violation = ruleViolation(error);
  if (violation) {
    log.warn("database rule fired before any check", {
      requestId,
      sqlState: sqlState(error),
      constraint: violatedConstraint(error),
    });
    return problem(violation.status, violation.code, violation.detail, undefined, requestId);
  }
  const err = error as Error;
  // Drizzle's messages append the query's parameters (e-mails, hashes): keep them out of logs.
  const message = String(err?.message ?? err).split("\nparams:")[0];
  log.error("unhandled error", {
    requestId,
    code,
    error: message,
    cause: (err?.cause as Error | undefined)?.message,
    stack: err?.stack?.split("\n").slice(1, 8).join("\n"),
  });
  return problem(500, "internal", `Something went wrong on our side (request ${requestId})`, undefined, requestId);
}

/** How long a 503 asks the caller to wait: reconnects are retried within about that. */
const RETRY_AFTER_SECONDS = "2";

const unexpectedResponse = (p: Problem, headers: Record<string, string>) =>
  problemResponse(p, p.status === 503 ? { ...headers, "retry-after": RETRY_AFTER_SECONDS } : headers);

/** The caller's X-Request-Id when it is well-formed, else a new one. */
function newRequestId(request: Request): string {
  const given = request.headers.get("x-request-id");
  return given && REQUEST_ID.test(given) ? given : Bun.randomUUIDv7();
}

/** One metrics sample and one access-log line per answered request, whichever path answered it. */
function recordRequest(
  log: Logger,
  metrics: Metrics | undefined,
  method: string,
  route: string,
  status: number,
  ms: number,
  requestId: string | undefined,
) {
  metrics?.request(method, route, status, ms / 1000);
  if (!log.isEnabled("info")) return;
  // Formatted by hand (a JSON.stringify per request showed in profiles): request ids match
  // REQUEST_ID or are UUIDs and methods are HTTP tokens, so neither needs escaping.
  log.formatted(
    "info",
    "request",
    `,"requestId":${requestId ? `"${requestId}"` : "null"},"method":"${method}","route":${routeJson(route)},"status":${status},"durationMs":${Math.round(ms * 1000) / 1000}`,
  );
}

const routeJsonCache = new Map<string, string>();
function routeJson(route: string): string {
  let json = routeJsonCache.get(route);
  if (json === undefined) {
    json = JSON.stringify(route);
    if (routeJsonCache.size < 1000) routeJsonCache.set(route, json);
  }
  return json;
}

/**
 * A Bun-native route in front of Elysia's for one hot read, skipping Elysia's lifecycle (its hooks
 * cost more than the read itself when the answer is cached). `fast` answers what it can (what it
 * throws or rejects with is answered as problem+json, like onError does), and puts the request id in its
 * answer's X-Request-Id header (set in the constructor: changing a built Response's headers showed
 * in profiles); returning undefined hands the
 * request to `fallback` (the Elysia app), which answers it like any other route. Whatever `fast`
 * answers gets the same request id header, access-log line and metrics as Elysia's answers.
 */
export function fastRoute<R extends Request>(
  log: Logger,
  metrics: Metrics | undefined,
  route: string,
  fast: (request: R, requestId: string) => Response | undefined | Promise<Response | undefined>,
  fallback: (request: Request) => Response | Promise<Response>,
): (request: R) => Response | Promise<Response> {
  return (request) => {
    const start = performance.now();
    const id = newRequestId(request);
    const answered = (response: Response | undefined): Response | Promise<Response> => {
      if (!response) return fallback(request);
      recordRequest(log, metrics, request.method, route, response.status, performance.now() - start, id);
      return response;
    };
    // Errors are answered here as onError would (an AppError as its problem, anything else logged
    // and 500): handing them to Elysia would run the failing work a second time.
    const failed = (error: unknown) =>
      answered(
        error instanceof AppError
          ? problemResponse(expected(error, id), { ...answerHeaders(request), ...error.headers, "x-request-id": id })
          : unexpectedResponse(unexpected(log, error, id), { ...answerHeaders(request), "x-request-id": id }),
      );
    let result: ReturnType<typeof fast>;
    try {
      result = fast(request, id);
    } catch (error) {
      return failed(error);
    }
    // A synchronous answer stays synchronous: no promise, no microtask.
    if (result instanceof Promise) return result.then(answered, failed);
    return answered(result);
  };
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const tooLarge = () =>
  new AppError(413, "payload_too_large", `The body is over ${MAX_BODY_BYTES} bytes`, undefined, {
    connection: "close",
  });

const tooDeep = () => new AppError(400, "invalid_json", `The body nests deeper than ${MAX_JSON_DEPTH} levels`);

/**
 * The body's bytes, read as a stream and given up on at MAX_BODY_BYTES + 1 (a chunked body of any
 * size costs at most 1 MiB of memory and gets our 413, not Bun's bare one) or as soon as it nests
 * deeper than MAX_JSON_DEPTH (nothing below ever walks a deeper structure; the rest is not read).
 */
export async function readBody(request: Request, timeoutMs: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const depth = new DepthScanner();
  const chunks: Uint8Array[] = [];
  let size = 0;
  // The whole body, not each chunk, has a deadline: a body trickled a byte a second must not hold
  // its connection (idle timers restart at every byte).
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let read: Awaited<ReturnType<typeof reader.read>>;
    try {
      read = await within(reader.read(), Math.max(1, deadline - performance.now()), "request body");
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      await reader.cancel().catch(() => {});
      throw new AppError(408, "request_timeout", `The body did not arrive within ${timeoutMs} ms`, undefined, {
        connection: "close",
      });
    }
    const { done, value } = read;
    if (done) break;
    size += value.byteLength;
    const refusal = size > MAX_BODY_BYTES ? tooLarge() : depth.push(value) ? tooDeep() : undefined;
    if (refusal) {
      await reader.cancel().catch(() => {});
      throw refusal;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}

/** `routes` is the finished app: its route table tells which query values are numbers and words errors. */
export function httpFoundation(
  log: Logger,
  metrics?: Metrics,
  routes?: () => AnyElysia,
  options: {
    bodyTimeoutMs?: number;
    /**
     * Routes that do not exist for this request: the webhook without its secret, the admin routes
     * for anyone but an admin. Answered 404 like an unknown route before the body is read.
     */
    switchedOff?: (request: Request) => boolean | Promise<boolean>;
  } = {},
) {
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 10_000;
  const rules = new RouteRuleBook(routes);
  return (
    new Elysia({ name: "stayhub.http" })
      .onRequest(({ request, set }) => {
        const id = newRequestId(request);
        meta.set(request, { id, start: performance.now() });
        Object.assign(set.headers, answerHeaders(request));
        set.headers["x-request-id"] = id;
        const tooLarge = () => {
          const length = Number(request.headers.get("content-length") ?? 0);
          if (length <= MAX_BODY_BYTES) return undefined;
          return problemResponse(
            problem(413, "payload_too_large", `The body is over ${MAX_BODY_BYTES} bytes`, undefined, id),
            {
              ...answerHeaders(request),
              "x-request-id": id,
              connection: "close",
            },
          );
        };
        const noRoute = () =>
          problemResponse(problem(404, "not_found", "No such route", undefined, id), {
            ...answerHeaders(request),
            "x-request-id": id,
          });
        const off = options.switchedOff?.(request);
        // Synchronous for every request the predicate answers at once (all but the admin routes').
        if (off instanceof Promise) return off.then((yes) => (yes ? noRoute() : tooLarge()));
        return off ? noRoute() : tooLarge();
      })
      // Bodies are JSON or nothing, at most MAX_BODY_BYTES, parsed here so that every failure is ours to word.
      .onParse({ as: "global" }, async ({ request, contentType: given }) => {
        const bytes = await readBody(request, bodyTimeoutMs);
        rawBodies.set(request, bytes);
        const contentType = given.toLowerCase();
        const isJson = contentType.startsWith("application/json") || /^application\/[\w.-]+\+json\b/.test(contentType);
        // No body: null (not undefined, which would hand the spent stream to Elysia's own parser).
        if (bytes.byteLength === 0) return null;
        if (!isJson)
          throw new AppError(
            400,
            "invalid_json",
            `Expected an application/json body, got "${contentType || "no content type"}"`,
          );
        let text: string;
        try {
          text = decoder.decode(bytes);
        } catch {
          throw new AppError(400, "invalid_json", "The body is not valid UTF-8");
        }
        try {
          return JSON.parse(text);
        } catch {
          throw new AppError(400, "invalid_json", "The body is not valid JSON");
        }
      })
      .onTransform({ as: "global" }, ({ request, route, query }) => {
        coerceQuery(query as Record<string, unknown>, rules.of(request.method, route));
      })
      // After authentication (a caller without a valid token learns no rule) and before the handler.
      // Only what a route declares reaches anything that stores it; the rest is never read.
      .onBeforeHandle({ as: "global" }, ({ body, query, request, route }) => {
        const declared = rules.of(request.method, route);
        for (const [where, value] of [
          ["query", declared?.query ? query : undefined],
          ["body", declared?.body ? body : undefined],
        ] as const) {
          const found = unstorableTextAt(value);
          const path = found && shortPath(found);
          if (path)
            throw new AppError(
              422,
              "validation_failed",
              `${where === "query" ? "Query parameter" : "Field"} ${path} ${UNSTORABLE_TEXT}`,
              [{ path, message: UNSTORABLE_TEXT }],
            );
        }
      })
      .onError({ as: "global" }, ({ code, error, request, route }) => {
        const m = meta.get(request);
        const id = m?.id;
        const answer = (p: Problem, h: Record<string, string>) => {
          if (m) m.status = p.status;
          return problemResponse(p, h);
        };
        const headers: Record<string, string> = { ...answerHeaders(request), ...(id ? { "x-request-id": id } : {}) };
        // Elysia wraps what a parser throws in a ParseError; ours carry the real answer.
        const appError =
          error instanceof AppError ? error : code === "PARSE" && error.cause instanceof AppError ? error.cause : null;
        if (appError) {
          const error = appError;
          return answer(expected(error, id), { ...headers, ...error.headers });
        }
        switch (code) {
          case "VALIDATION": {
            const p = validationProblem(error, rules.of(request.method, route), id);
            if (p) return answer(p, headers);
            break; // we built a wrong answer: that is a bug, not the caller's fault
          }
          case "PARSE":
            return answer(problem(400, "invalid_json", "The body is not valid JSON", undefined, id), headers);
          case "NOT_FOUND":
            return answer(problem(404, "not_found", "No such route", undefined, id), headers);
          case "INVALID_COOKIE_SIGNATURE":
          case "INVALID_FILE_TYPE":
            return answer(problem(400, "bad_request", "The request is malformed", undefined, id), headers);
        }
        const p = unexpected(log, error, id, String(code));
        return answer(p, p.status === 503 ? { ...headers, "retry-after": RETRY_AFTER_SECONDS } : headers);
      })
      .onAfterResponse({ as: "global" }, ({ request, route, set, responseValue }) => {
        const m = meta.get(request);
        const status =
          m?.status ?? (responseValue instanceof Response ? responseValue.status : Number(set.status ?? 200));
        recordRequest(
          log,
          metrics,
          request.method,
          route || "unmatched",
          status,
          m ? performance.now() - m.start : 0,
          m?.id,
        );
      })
  );
}

/** The answer to input that failed its schema; undefined when it is our own answer that did (a bug). */
function validationProblem(
  error: Readonly<ValidationError>,
  declared: RouteRules | undefined,
  id?: string,
): Problem | undefined {
  if (error.type === "response") return undefined;
  // A malformed id names nothing that exists.
  if (error.type === "params") return problem(404, "not_found", "No such resource", undefined, id);
  const all = error.all as Parameters<typeof fieldErrors>[0];
  if (error.type === "headers") {
    // Paths name the header (/headers/idempotency-key), as the OpenAPI document does.
    const schema = (error.validator as { schema?: unknown }).schema as Parameters<typeof fieldErrors>[1];
    const errors = fieldErrors(all, schema).map((e) => ({ ...e, path: `/headers${e.path}` }));
    const first = errors[0];
    const detail = first
      ? `Header ${first.path.slice("/headers/".length)} ${first.message}`
      : "A request header breaks a rule";
    return problem(422, "validation_failed", detail, errors, id);
  }
  const where = error.type === "query" ? "query" : "body";
  const errors = fieldErrors(all, where === "query" ? declared?.query : declared?.body);
  const first = errors[0];
  const detail = first
    ? `${where === "query" ? "Query parameter" : "Field"} ${first.path} ${first.message}`
    : `The request ${where} breaks a rule`;
  return problem(422, "validation_failed", detail, errors, id);
}
