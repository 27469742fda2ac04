// SQLSTATE of a database error, whichever driver raised it and however Drizzle wrapped it.

export const UNIQUE_VIOLATION = "23505";
export const EXCLUSION_VIOLATION = "23P01";
export const CHECK_VIOLATION = "23514";
export const FOREIGN_KEY_VIOLATION = "23503";
/** The transaction was chosen to break a deadlock: nothing of it happened, and it may run again. */
export const DEADLOCK_DETECTED = "40P01";
export const SERIALIZATION_FAILURE = "40001";

interface PgErrorLike {
  code?: unknown;
  constraint?: unknown;
  constraint_name?: unknown;
  cause?: unknown;
}

function pgError(err: unknown): PgErrorLike | undefined {
  for (
    let e = err as PgErrorLike | undefined, depth = 0;
    e && depth < 4;
    e = e.cause as PgErrorLike | undefined, depth++
  ) {
    if (typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) return e;
  }
  return undefined;
}

export function sqlState(err: unknown): string | undefined {
  return pgError(err)?.code as string | undefined;
}

export function violatedConstraint(err: unknown): string | undefined {
  const e = pgError(err);
  const name = e?.constraint_name ?? e?.constraint;
  return typeof name === "string" ? name : undefined;
}

/**
 * The answer for a database rule that fired although the service should have checked it first
 * (constraints are the last line of defence): a 409 or 422 the caller can act on, never a 500.
 * The constraint's name, not its SQL, says which rule; undefined when the error is no such thing.
 */
export function ruleViolation(
  err: unknown,
):
  | { status: 409; code: "conflict"; detail: string }
  | { status: 422; code: "validation_failed"; detail: string }
  | undefined {
  const state = sqlState(err);
  if (!state) return undefined;
  const rule = violatedConstraint(err);
  const named = rule ? ` (${rule})` : "";
  switch (state) {
    case DEADLOCK_DETECTED:
    case SERIALIZATION_FAILURE:
      return {
        status: 409,
        code: "conflict",
        detail: "The request ran into a concurrent one and was undone; retry it",
      };
    case CHECK_VIOLATION:
      return {
        status: 422,
        code: "validation_failed",
        detail: `The request breaks a rule the stored data must keep${named}`,
      };
    case UNIQUE_VIOLATION:
      return { status: 409, code: "conflict", detail: `That already exists${named}` };
    case EXCLUSION_VIOLATION:
      return { status: 409, code: "conflict", detail: `That overlaps something that already exists${named}` };
    case FOREIGN_KEY_VIOLATION:
      return {
        status: 409,
        code: "conflict",
        detail: `That refers to something missing, or is still referred to${named}`,
      };
  }
  // Data exceptions a caller's value can cause: too long, out of range, a character the encoding
  // refuses. Others of class 22 (a bad cast, a division by zero) are our bugs and stay 500s.
  if (VALUE_STATES.has(state))
    return { status: 422, code: "validation_failed", detail: "A value is outside what can be stored" };
  return undefined;
}

const VALUE_STATES = new Set(["22001", "22003", "22021"]);

// SQLSTATEs of a database that is going away or cannot take us now: class 08 (connection
// exception), 57P01–57P03 (shutting down, crashed, starting up), 53300 (too many connections).
const UNAVAILABLE_STATES = /^(08...|57P0[123]|53300)$/;
// What the drivers and the OS call a connection that failed or broke (postgres.js, ioredis, Node).
const UNAVAILABLE_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * Whether `err` says a dependency (the database, Redis) cannot be reached or dropped us: the
 * caller gets 503 with Retry-After, not a 500 for a bug we do not have.
 */
export function isUnavailable(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 4;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e.code === "string" && (UNAVAILABLE_CODES.has(e.code) || UNAVAILABLE_STATES.test(e.code))) return true;
    // ioredis: a command refused because the connection is down, or retried until it gave up.
    if (
      e.name === "MaxRetriesPerRequestError" ||
      (typeof e.message === "string" && e.message === "Connection is closed.")
    )
      return true;
  }
  return false;
}
