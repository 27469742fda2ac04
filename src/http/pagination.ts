// Cursor pagination: `?limit=` (1–100, default 20) and an opaque `?cursor=`; answers
// `{ data, nextCursor }`. Cursors are keyset positions, never offsets, so pages stay stable
// while rows are inserted.
import type { TSchema } from "@sinclair/typebox";
import { t } from "elysia";
import { AppError } from "./errors";
import { Int, isRfc3339Instant } from "./schema";

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

export const PageQuery = {
  limit: t.Optional(Int({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: "page size, 1–100" })),
  cursor: t.Optional(t.String({ maxLength: 512, description: "opaque; from the previous page's nextCursor" })),
};

/** The query of a list that takes nothing but its page. */
export const PageOnlyQuery = t.Object({ ...PageQuery });

export const Page = <S extends TSchema>(item: S, title: string) =>
  t.Object({ data: t.Array(item), nextCursor: t.Union([t.String(), t.Null()]) }, { title });

/** A real instant (cursors carry the ones we wrote: RFC 3339, UTC). */
export const isIsoInstant = isRfc3339Instant;
/** A value a PostgreSQL integer (int4) holds: what the integer sort keys are. */
export const isInt4 = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= -2147483648 && (v as number) <= 2147483647;

export function encodeCursor(position: unknown[]): string {
  return Buffer.from(JSON.stringify(position)).toString("base64url");
}

/** The keyset position inside a cursor; a cursor that was not made by us is a 422. */
export function decodeCursor(cursor: string, check: (position: unknown[]) => boolean): unknown[] {
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    position = null;
  }
  if (!Array.isArray(position) || !check(position)) {
    throw new AppError(422, "invalid_cursor", "The cursor was not issued for this query; start again without it", [
      { path: "/cursor", message: "must be a nextCursor this query returned" },
    ]);
  }
  return position;
}
