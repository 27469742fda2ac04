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
