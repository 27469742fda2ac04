// Ids: what a UUID looks like, for parameters, cursors and tokens checked before they reach SQL.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID string (checked as strictly as input: a tampered id or cursor is a 404/422, never a 500). */
export const isUuid = (v: unknown): v is string => typeof v === "string" && UUID.test(v);
