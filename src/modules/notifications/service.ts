// In-app notifications: read by their owner, written by the `notify` job.
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Static } from "elysia";
import { notifications, users } from "../../db/schema";
import type { Deps } from "../../dependencies";
import { notFound } from "../../http/errors";
import { newestFirst } from "../../db/newest-first";
import type { Handlers, JobOf, NotifyPayload } from "../../jobs/registry";
import type { JobDeps } from "../../jobs/types";
import type { Actor } from "../auth/actor";
import type { NotificationDto } from "./schemas";

type Row = typeof notifications.$inferSelect;

function toDto(n: Row): Static<typeof NotificationDto> {
  return {
    id: n.id,
    type: n.type,
    title: n.title,
    body: n.body,
    data: n.data as Record<string, unknown>,
    readAt: n.readAt?.toISOString() ?? null,
    createdAt: n.createdAt.toISOString(),
  };
}

export async function listNotifications({ actor, limit, cursor }: { actor: Actor; limit: number; cursor?: string }, deps: Deps) {
  const keyset = newestFirst(notifications, limit, cursor);
  const rows = await deps.db
    .select()
    .from(notifications)
    .where(and(eq(notifications.userId, actor.id), keyset.after))
    .orderBy(...keyset.orderBy)
    .limit(limit + 1);
  const page = keyset.page(rows);
  return { data: page.rows.map(toDto), nextCursor: page.nextCursor };
}

/** Marks one of the caller's notifications read; someone else's is answered like a missing one. */
export async function markRead({ actor, id }: { actor: Actor; id: string }, deps: Deps) {
  const [row] = await deps.db
    .update(notifications)
    .set({ readAt: sql`coalesce(${notifications.readAt}, ${deps.clock.now().toISOString()}::timestamptz)` })
    .where(and(eq(notifications.id, id), eq(notifications.userId, actor.id)))
    .returning();
  if (!row) throw notFound("Notification");
  return toDto(row);
}

/**
 * The `notify` job. Exactly-once effects under at-least-once delivery: the notification is keyed
 * by the job id, and the e-mail is claimed (emailed_at set) before it is handed to the mailer, so
 * two concurrent runs cannot both send it. A crash right after the claim loses that one e-mail
 * rather than sending it twice; a mailer error gives the claim back for the retry.
 */
export async function handleNotify(job: JobOf<"notify">, deps: JobDeps): Promise<void> {
  const p: NotifyPayload = job.payload;
  const dedupeKey = `job:${job.id}`;
  await deps.db
    .insert(notifications)
    .values({
      id: Bun.randomUUIDv7(),
      userId: p.userId,
      type: p.type,
      title: p.title,
      body: p.body,
      data: p.data ?? {},
      dedupeKey,
      createdAt: deps.clock.now(),
    })
    .onConflictDoNothing({ target: notifications.dedupeKey });
  if (!p.email) return;
  // Claim the e-mail before sending it: of two concurrent runs only one gets the row back.
  const [claimed] = await deps.db
    .update(notifications)
    .set({ emailedAt: sql`now()` })
    .where(and(eq(notifications.dedupeKey, dedupeKey), isNull(notifications.emailedAt)))
    .returning({ id: notifications.id, userId: notifications.userId });
  if (!claimed) return;
  const [user] = await deps.db.select({ email: users.email }).from(users).where(eq(users.id, claimed.userId));
  if (!user) return;
  try {
    await deps.mailer.send({ to: user.email, subject: p.title, text: p.body });
  } catch (err) {
    // Not sent: give the claim back so the retry sends it.
    await deps.db.update(notifications).set({ emailedAt: null }).where(eq(notifications.id, claimed.id));
    throw err;
  }
}

export const notificationHandlers: Handlers = { notify: handleNotify };
