// In-app notifications: read by their owner, written by the `notify` job.
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Static } from "elysia";
import { newestFirst } from "../../db/newest-first";
import { rowsOf } from "../../db/rows";
import { notifications, users } from "../../db/schema";
import { together } from "../../db/together";
import type { Deps } from "../../dependencies";
import { notFound } from "../../http/errors";
import { type JobSpec, markDone, reopen } from "../../jobs/outbox";
import type { Handlers, JobOf, NotifyPayload } from "../../jobs/registry";
import type { JobDeps } from "../../jobs/types";
import type { Actor } from "../auth/actor";
import type { NotificationDto } from "./schemas";
import { noticeRow } from "./within";

type Row = typeof notifications.$inferSelect;

export function toNotificationDto(n: Row): Static<typeof NotificationDto> {
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

export async function listNotifications(
  { actor, limit, cursor }: { actor: Actor; limit: number; cursor?: string },
  deps: Deps,
) {
  const keyset = newestFirst(notifications, limit, cursor);
  const rows = await deps.db
    .select()
    .from(notifications)
    .where(and(eq(notifications.userId, actor.id), keyset.after))
    .orderBy(...keyset.orderBy)
    .limit(limit + 1);
  const page = keyset.page(rows);
  return { data: page.rows.map(toNotificationDto), nextCursor: page.nextCursor };
}

/** Marks one of the caller's notifications read; someone else's is answered like a missing one. */
export async function markRead({ actor, id }: { actor: Actor; id: string }, deps: Deps) {
  const [row] = await deps.db
    .update(notifications)
    .set({ readAt: sql`coalesce(${notifications.readAt}, ${deps.clock.now().toISOString()}::timestamptz)` })
    .where(and(eq(notifications.id, id), eq(notifications.userId, actor.id)))
    .returning();
  if (!row) throw notFound("Notification");
  return toNotificationDto(row);
}

/**
 * Stores each notification once, keyed by its job (and place in it), and sends the e-mails asked
 * for. Exactly-once effects under at-least-once delivery: a redelivered job finds its
 * notifications there, and each e-mail is claimed (emailed_at set) before it is handed to the
 * mailer, so two concurrent runs cannot both send it. A crash right after the claim loses that
 * e-mail rather than sending it twice; a mailer error gives the claim back for the retry.
 */
async function deliver(items: { dedupeKey: string; p: NotifyPayload }[], deps: JobDeps): Promise<void> {
  if (items.length === 0) return;
  const now = deps.clock.now();
  // The first run inserts the rows with their e-mails already claimed (a row is inserted once, so
  // only one run gets it back) and reads the addresses in the same statement: one round trip.
  const insert = deps.db
    .insert(notifications)
    .values(items.map((item) => ({ ...noticeRow(item, now), emailedAt: item.p.email ? sql`now()` : null })))
    .onConflictDoNothing({ target: notifications.dedupeKey })
    .returning({
      id: notifications.id,
      userId: notifications.userId,
      dedupeKey: notifications.dedupeKey,
      title: notifications.title,
      body: notifications.body,
      emailedAt: notifications.emailedAt,
    });
  const inserted = rowsOf<Claimed & { dedupeKey: string; emailed: boolean }>(
    await deps.db.execute(sql`with ins as ${insert}
      select ins.id, ins.user_id as "userId", ins.dedupe_key as "dedupeKey", ins.title, ins.body, ins.emailed_at is not null as emailed, u.email
      from ins left join ${users} u on u.id = ins.user_id and u.status <> 'deleted'`),
  );
  const claimed: Claimed[] = inserted.filter((r) => r.emailed);
  // A redelivery (or a row the deleted-account trigger dropped): claim what is still unsent.
  const stored = new Set(inserted.map((r) => r.dedupeKey));
  const earlier = items.filter((i) => i.p.email && !stored.has(i.dedupeKey));
  if (earlier.length) claimed.push(...(await claimUnsent(earlier, deps)));
  await sendClaimed(claimed, deps);
}

/** Hands the claimed e-mails to the mailer; on a failure gives back the claims not sent, and throws (the job retries them). */
async function sendClaimed(claimed: Claimed[], deps: JobDeps): Promise<void> {
  for (const [i, c] of claimed.entries()) {
    if (!c.email) continue;
    try {
      await deps.mailer.send({ to: c.email, subject: c.title, text: c.body });
    } catch (err) {
      // Not sent: give the claims of this and the unsent ones back so the retry sends them.
      await deps.db
        .update(notifications)
        .set({ emailedAt: null })
        .where(
          inArray(
            notifications.id,
            claimed.slice(i).map((x) => x.id),
          ),
        );
      throw err;
    }
  }
}

interface Claimed {
  id: string;
  userId: string;
  title: string;
  body: string;
  /** null when the account was deleted: its address is gone (and its placeholder is no one's). */
  email: string | null;
}

/**
 * Claims the e-mails of rows stored but not sent (by an earlier run, or by the change's own
 * transaction): of two runs only one gets each row back. One statement, the addresses with them.
 */
async function claimUnsent(items: { dedupeKey: string }[], deps: JobDeps): Promise<Claimed[]> {
  const claim = deps.db
    .update(notifications)
    .set({ emailedAt: sql`now()` })
    .where(
      and(
        inArray(
          notifications.dedupeKey,
          items.map((i) => i.dedupeKey),
        ),
        isNull(notifications.emailedAt),
      ),
    )
    .returning({
      id: notifications.id,
      userId: notifications.userId,
      title: notifications.title,
      body: notifications.body,
    });
  return rowsOf<Claimed>(
    await deps.db.execute(sql`with c as ${claim}
      select c.id, c.user_id as "userId", c.title, c.body, u.email
      from c left join ${users} u on u.id = c.user_id and u.status <> 'deleted'`),
  );
}

/** The `notify` job: one notification (and its e-mail when asked). */
export async function handleNotify(job: JobOf<"notify">, deps: JobDeps): Promise<void> {
  await deliver([{ dedupeKey: `job:${job.id}`, p: job.payload }], deps);
}

/** The `notify.many` job: the notifications of one event (a booking's guest and host), in one go. */
export async function handleNotifyMany(job: JobOf<"notify.many">, deps: JobDeps): Promise<void> {
  await deliver(
    job.payload.notifications.map((p, i) => ({ dedupeKey: `job:${job.id}:${i}`, p })),
    deps,
  );
}

/**
 * The `notify.email` job: the e-mails of notifications written in a change's own transaction
 * (notifications/within.ts), each claimed before it is sent, so a redelivery sends none twice.
 */
export async function handleNotifyEmail(job: JobOf<"notify.email">, deps: JobDeps): Promise<void> {
  await sendClaimed(
    await claimUnsent(
      job.payload.dedupeKeys.map((dedupeKey) => ({ dedupeKey })),
      deps,
    ),
    deps,
  );
}

/**
 * The e-mails of an `emailsAt` job (notifyWithin), sent by the caller after the change's commit
 * instead of by the job: their claims and the job's mark as done commit together, so of this and
 * the job only one sends each. A mailer error gives the unsent claims back and makes the job due
 * at once (it retries with backoff).
 */
export async function sendEmailsNow(job: JobSpec | undefined, deps: Deps): Promise<void> {
  if (job?.type !== "notify.email" || !job.dedupeKey) return;
  const jobKey = job.dedupeKey;
  const claimed = await deps.db.transaction(async (tx) => {
    const [rows] = await together(
      claimUnsent(
        job.payload.dedupeKeys.map((dedupeKey) => ({ dedupeKey })),
        { ...deps, db: tx },
      ),
      markDone(tx, jobKey),
    );
    return rows;
  });
  try {
    await sendClaimed(claimed, deps);
  } catch (err) {
    await reopen(deps.db, deps.clock, jobKey).catch(() => {});
    throw err;
  }
}

export const notificationHandlers: Handlers = {
  notify: handleNotify,
  "notify.many": handleNotifyMany,
  "notify.email": handleNotifyEmail,
};
