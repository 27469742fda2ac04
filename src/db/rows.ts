// The rows of a raw `db.execute`, whichever driver ran it.

/** postgres.js answers an array, PGlite an object with `rows`. */
export const rowsOf = <T>(result: unknown): T[] =>
  Array.isArray(result) ? (result as T[]) : ((result as { rows?: T[] }).rows ?? []);
