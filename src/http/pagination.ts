// Cursor pagination: `?limit=` (1–100, default 20) and an opaque `?cursor=`; answers
// `{ data, nextCursor }`. Cursors are keyset positions, never offsets, so pages stay stable
// while rows are inserted.
import type { TSchema } from "@sinclair/typebox";
import { t } from "elysia";
import { Int } from "./schema";
import { isIsoDay } from "../lib/dates";
import { AppError } from "./errors";

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

export const PageQuery = {
  limit: t.Optional(Int({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: "page size, 1–100" })),
  cursor: t.Optional(t.String({ maxLength: 512, description: "opaque; from the previous page's nextCursor" })),
};

export const Page = <S extends TSchema>(item: S, title: string) => t.Object({ data: t.Array(item), nextCursor: t.Union([t.String(), t.Null()]) }, { title });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_INSTANT = /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?Z$/;

/** Cursor parts are checked as strictly as input: a tampered cursor is a 422, never a 500. */
export const isUuid = (v: unknown): v is string => typeof v === "string" && UUID.test(v);
/** A UTC instant as we write them: a real day of years 1–9999 (no 2024-02-30, no year 0), a real time. */
export const isIsoInstant = (v: unknown): v is string => {
  if (typeof v !== "string") return false;
  const day = ISO_INSTANT.exec(v)?.[1];
  return day !== undefined && isIsoDay(day);
};
/** A value a PostgreSQL integer (int4) holds: what the integer sort keys are. */
export const isInt4 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= -2147483648 && (v as number) <= 2147483647;

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
