// One error family for the whole service, rendered once as application/problem+json (RFC 9457).
import { t } from "elysia";
import { type CodeOf, type ErrorCode, type ErrorStatus, type StatusOf, statusesOf } from "./error-codes";
import { Int } from "./schema";

export type { ErrorCode, ErrorStatus } from "./error-codes";

export interface FieldError {
  path: string;
  message: string;
}

/** `new AppError(409, "dates_unavailable", …)`: the code is one of the catalog's, the status its own. */
export class AppError<C extends ErrorCode = ErrorCode> extends Error {
  constructor(
    readonly status: StatusOf<C>,
    readonly code: C,
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
export const conflict = (code: CodeOf<409>, detail: string) => new AppError(409, code, detail);
export const invalid = (path: string, message: string) =>
  new AppError(422, "validation_failed", "The request breaks a rule", [{ path, message }]);

export interface Problem {
  type: string;
  title: string;
  status: ErrorStatus;
  detail: string;
  code: ErrorCode;
  errors?: FieldError[];
  requestId?: string;
}

export function problem<C extends ErrorCode>(
  status: StatusOf<C>,
  code: C,
  detail: string,
  errors?: FieldError[],
  requestId?: string,
): Problem {
  return {
    type: `https://stayhub.dev/problems/${code.replaceAll("_", "-")}`,
    title: titles[status] ?? "Error",
    status: status as ErrorStatus,
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

/** The Problem schema of one status's answers, whose `code` is one of `codes`. */
const problemWith = (codes: ErrorCode[]) =>
  t.Object({ ...ProblemSchema.properties, code: t.Union(codes.map((c) => t.Literal(c))) });

/**
 * Response map entries for the error codes a route answers (besides those the HTTP layer adds
 * itself: see the OpenAPI document's builder): `errorResponses("not_found", "invalid_state")` is
 * a 404 and a 409 answer, each listing its codes. The document lists them per status, and the
 * tests fail when a route answers a status/code pair it does not list.
 */
export function errorResponses<const C extends ErrorCode[]>(...codes: C) {
  const byStatus = new Map<ErrorStatus, ErrorCode[]>();
  for (const code of codes)
    for (const status of statusesOf(code)) {
      const list = byStatus.get(status) ?? [];
      if (!list.includes(code)) list.push(code);
      byStatus.set(status, list);
    }
  return Object.fromEntries([...byStatus].map(([status, list]) => [status, problemWith(list)])) as unknown as Record<
    StatusOf<C[number]>,
    typeof ProblemSchema
  >;
}

/** The codes a response map entry made by `errorResponses` lists; undefined for any other schema. */
export function codesOf(schema: unknown): ErrorCode[] | undefined {
  const code = (schema as { properties?: { code?: { anyOf?: { const?: unknown }[]; const?: unknown } } })?.properties
    ?.code;
  if (!code) return undefined;
  const branches = code.anyOf ?? (code.const !== undefined ? [code] : []);
  const codes = branches.map((b) => b.const).filter((c): c is ErrorCode => typeof c === "string");
  return codes.length ? codes : undefined;
}
