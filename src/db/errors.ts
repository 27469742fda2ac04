// SQLSTATE of a database error, whichever driver raised it and however Drizzle wrapped it.

export const UNIQUE_VIOLATION = "23505";
export const EXCLUSION_VIOLATION = "23P01";
export const CHECK_VIOLATION = "23514";
export const FOREIGN_KEY_VIOLATION = "23503";

interface PgErrorLike {
  code?: unknown;
  constraint?: unknown;
  constraint_name?: unknown;
  cause?: unknown;
}

function pgError(err: unknown): PgErrorLike | undefined {
  for (let e = err as PgErrorLike | undefined, depth = 0; e && depth < 4; e = e.cause as PgErrorLike | undefined, depth++) {
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
export function ruleViolation(err: unknown): { status: 409 | 422; code: string; detail: string } | undefined {
  const state = sqlState(err);
  if (!state) return undefined;
  const rule = violatedConstraint(err);
  const named = rule ? ` (${rule})` : "";
  switch (state) {
    case CHECK_VIOLATION:
      return { status: 422, code: "validation_failed", detail: `The request breaks a rule the stored data must keep${named}` };
    case UNIQUE_VIOLATION:
      return { status: 409, code: "conflict", detail: `That already exists${named}` };
    case EXCLUSION_VIOLATION:
      return { status: 409, code: "conflict", detail: `That overlaps something that already exists${named}` };
    case FOREIGN_KEY_VIOLATION:
      return { status: 409, code: "conflict", detail: `That refers to something missing, or is still referred to${named}` };
  }
  // Class 22, data exceptions: a value the column cannot hold (out of range, bad text, bad date).
  if (state.startsWith("22")) return { status: 422, code: "validation_failed", detail: "A value is outside what can be stored" };
  return undefined;
}
