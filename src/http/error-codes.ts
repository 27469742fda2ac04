// Every error `code` the service answers, with the HTTP status(es) it comes with: AppError, the
// problem renderer and the routes' documented error answers take their codes from here, so a typo
// or a code answered with another status than its own is a compile error. A code answered with
// more than one status lists them all (`[409, 422]`); today each has exactly one.

export const errorCodes = {
  // 400: the request itself is malformed
  invalid_json: 400,
  bad_request: 400,
  invalid_signature: 400,
  invalid_token: 400,
  // 401: who is calling is not known
  unauthenticated: 401,
  token_expired: 401,
  invalid_credentials: 401,
  // 403: known, not allowed
  forbidden: 403,
  email_unverified: 403,
  // 404
  not_found: 404,
  // 408
  request_timeout: 408,
  // 409: the current state says no
  conflict: 409,
  dates_unavailable: 409,
  email_taken: 409,
  invalid_state: 409,
  already_reviewed: 409,
  idempotency_in_progress: 409,
  already_available: 409,
  limit_reached: 409,
  // 413
  payload_too_large: 413,
  // 422: well-formed, breaks a rule
  validation_failed: 422,
  invalid_cursor: 422,
  idempotency_key_reused: 422,
  // 429: a limit
  rate_limited: 429,
  too_many_holds: 429,
  too_many_alerts: 429,
  // 5xx
  internal: 500,
  unavailable: 503,
} as const satisfies Record<string, number | readonly number[]>;

export type ErrorCode = keyof typeof errorCodes;

/** The status(es) `C` is answered with. */
export type StatusOf<C extends ErrorCode> = Extract<
  (typeof errorCodes)[C] extends infer S ? (S extends readonly (infer N)[] ? N : S) : never,
  number
>;

/** Every status an error answer can have. */
export type ErrorStatus = StatusOf<ErrorCode>;

/** The codes answered with status `S`. */
export type CodeOf<S extends ErrorStatus> = { [C in ErrorCode]: S extends StatusOf<C> ? C : never }[ErrorCode];

/** The statuses of `code`, as a list. */
export function statusesOf(code: ErrorCode): readonly ErrorStatus[] {
  if (!isErrorCode(code)) throw new Error(`${JSON.stringify(code)} is not in the error-code catalog`);
  const status: number | readonly number[] = errorCodes[code];
  return (typeof status === "number" ? [status] : status) as readonly ErrorStatus[];
}

export const isErrorCode = (value: unknown): value is ErrorCode =>
  typeof value === "string" && Object.hasOwn(errorCodes, value);

/**
 * GraphQL's own codes, in `extensions.code` only (never a REST answer): a query refused by the
 * limits before it runs. Every other GraphQL error carries one of `errorCodes` and its status.
 */
export const graphqlLimitCodes = ["query_too_large", "query_too_deep", "query_too_costly", "too_many_aliases"] as const;
export type GraphQLLimitCode = (typeof graphqlLimitCodes)[number];
