// Keyset pages ordered newest first by (created_at, id): the condition after a cursor, the
// ordering, and the next cursor, for any table with those two columns.
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { decodeCursor, encodeCursor, isIsoInstant } from "../http/pagination";
import { isUuid } from "../lib/ids";

export interface NewestFirst {
  /** Rows strictly after the cursor's position (undefined without a cursor). */
  after: SQL | undefined;
  /** The cursor's position itself, for a prepared statement's parameters. */
  position: { at: Date; id: string } | undefined;
  orderBy: SQL[];
  /** Takes the limit+1 rows fetched; answers the page and the next cursor. */
  page<R extends { createdAt: Date; id: string }>(rows: R[]): { rows: R[]; nextCursor: string | null };
}

export function newestFirst(
  columns: { createdAt: PgColumn; id: PgColumn },
  limit: number,
  cursor?: string,
): NewestFirst {
  let after: SQL | undefined;
  let position: { at: Date; id: string } | undefined;
  if (cursor) {
    const [at, id] = decodeCursor(cursor, (p) => p.length === 2 && isIsoInstant(p[0]) && isUuid(p[1])) as [
      string,
      string,
    ];
    const t = new Date(at);
    after = or(lt(columns.createdAt, t), and(eq(columns.createdAt, t), lt(columns.id, id)));
    position = { at: t, id };
  }
  return {
    after,
    position,
    orderBy: [desc(columns.createdAt), desc(columns.id)],
    page(rows) {
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        rows: page,
        nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
      };
    },
  };
}
