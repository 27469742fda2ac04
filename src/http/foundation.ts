// Cross-cutting HTTP behaviour for every route: request ids, body limits, JSON-only bodies,
// problem+json errors, and one structured log line per request.
import { Elysia } from "elysia";
import type { Logger } from "../lib/log";
import { AppError, type FieldError, problem, problemResponse } from "./errors";

export const MAX_BODY_BYTES = 1024 * 1024;

interface RequestMeta {
  id: string;
  start: number;
}

const meta = new WeakMap<Request, RequestMeta>();
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdOf(request: Request): string | undefined {
  return meta.get(request)?.id;
}

function hasBody(request: Request): boolean {
  const length = request.headers.get("content-length");
  if (length !== null) return length !== "0";
  return request.headers.has("transfer-encoding");
}

interface ValidationIssue {
  path: string;
  message: string;
  summary?: string;
}

function validationErrors(all: ValidationIssue[]): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const issue of all) {
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path: issue.path || "/", message: issue.summary ?? issue.message });
  }
  return out;
}

export function httpFoundation(log: Logger) {
  return new Elysia({ name: "stayhub.http" })
    .onRequest(({ request, set }) => {
      const given = request.headers.get("x-request-id");
      const id = given && REQUEST_ID.test(given) ? given : Bun.randomUUIDv7();
      meta.set(request, { id, start: performance.now() });
      set.headers["x-request-id"] = id;
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > MAX_BODY_BYTES) {
        return problemResponse(problem(413, "payload_too_large", `The body is over ${MAX_BODY_BYTES} bytes`, undefined, id), {
          "x-request-id": id,
          connection: "close",
        });
      }
    })
    // Bodies are JSON or nothing: any other content type is refused before a handler sees it.
    .onParse({ as: "global" }, ({ request, contentType }) => {
      if (contentType.startsWith("application/json") || contentType.endsWith("+json")) return;
      if (!hasBody(request)) return {};
      throw new AppError(400, "invalid_json", `Expected an application/json body, got "${contentType || "none"}"`);
    })
    .onError({ as: "global" }, ({ code, error, request }) => {
      const id = requestIdOf(request);
      const headers: Record<string, string> = id ? { "x-request-id": id } : {};
      if (error instanceof AppError) {
        return problemResponse(problem(error.status, error.code, error.detail, error.errors, id), { ...headers, ...error.headers });
      }
      switch (code) {
        case "VALIDATION":
          if (error.type === "response") break; // we built a wrong answer: that is a bug, not the caller's fault
          // A malformed id names nothing that exists.
          if (error.type === "params") return problemResponse(problem(404, "not_found", "No such resource", undefined, id), headers);
          return problemResponse(
            problem(422, "validation_failed", `The request ${error.type} breaks a rule`, validationErrors(error.all as ValidationIssue[]), id),
            headers,
          );
        case "PARSE":
          return problemResponse(problem(400, "invalid_json", "The body is not valid JSON", undefined, id), headers);
        case "NOT_FOUND":
          return problemResponse(problem(404, "not_found", "No such route", undefined, id), headers);
        case "INVALID_COOKIE_SIGNATURE":
        case "INVALID_FILE_TYPE":
          return problemResponse(problem(400, "bad_request", "The request is malformed", undefined, id), headers);
      }
      const err = error as Error;
      log.error("unhandled error", { requestId: id, code, error: err?.message, stack: err?.stack });
      return problemResponse(problem(500, "internal", `Something went wrong on our side (request ${id})`, undefined, id), headers);
    })
    .onAfterResponse({ as: "global" }, ({ request, route, set, responseValue }) => {
      if (!log.isEnabled("info")) return;
      const m = meta.get(request);
      const status = responseValue instanceof Response ? responseValue.status : Number(set.status ?? 200);
      log.info("request", {
        requestId: m?.id,
        method: request.method,
        route: route || "unmatched",
        status,
        durationMs: m ? Math.round((performance.now() - m.start) * 1000) / 1000 : undefined,
      });
    });
}
