// One error family for the whole service, rendered once as application/problem+json (RFC 9457).
import { t } from "elysia";
import { Int } from "./schema";

export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
  }
}

const titles: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Payload Too Large",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export const notFound = (what = "Resource") => new AppError(404, "not_found", `${what} not found`);
export const forbidden = (detail = "You are not allowed to do this") => new AppError(403, "forbidden", detail);
export const unauthenticated = (detail = "Authentication required") => new AppError(401, "unauthenticated", detail);
export const conflict = (code: string, detail: string) => new AppError(409, code, detail);
export const invalid = (path: string, message: string) =>
  new AppError(422, "validation_failed", "The request breaks a rule", [{ path, message }]);

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
  requestId?: string;
}

export function problem(
  status: number,
  code: string,
  detail: string,
  errors?: FieldError[],
  requestId?: string,
): Problem {
  return {
    type: `https://stayhub.dev/problems/${code.replaceAll("_", "-")}`,
    title: titles[status] ?? "Error",
    status,
    detail,
    code,
    ...(errors ? { errors } : {}),
    ...(requestId ? { requestId } : {}),
  };
}

export function problemResponse(p: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(p), {
    status: p.status,
    headers: { "content-type": "application/problem+json", ...headers },
  });
}

/** The OpenAPI shape of every error answer. */
export const ProblemSchema = t.Object(
  {
    type: t.String(),
    title: t.String(),
    status: Int(),
    detail: t.String(),
    code: t.String({ description: "stable machine-readable error code" }),
    errors: t.Optional(t.Array(t.Object({ path: t.String(), message: t.String() }))),
    requestId: t.Optional(t.String()),
  },
  { title: "Problem" },
);

/** Response map entries for the error statuses a route can answer with. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, ProblemSchema])) as Record<number, typeof ProblemSchema>;
}
