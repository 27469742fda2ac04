// Notifications written in the transaction of the change they tell of (a booking made, confirmed,
// cancelled, expired; a payment settled): the rows commit with the change or not at all, each at
// most once by its key, with no job and no second commit per change. The e-mails they ask for
// leave through the outbox: one `notify.email` job per change, which claims each row's e-mail
// before handing it to the mailer (exactly once, like the `notify` job's).
import type { Db } from "../../db/client";
import { notifications } from "../../db/schema";
import { together } from "../../db/together";
import { enqueueMany, type JobSpec } from "../../jobs/outbox";
import type { NotifyPayload } from "../../jobs/registry";
import type { Clock } from "../../lib/clock";

/** One notification of a change, under the key that makes it once (e.g. `booking:<id>:confirmed:guest`). */
export interface Notice {
  dedupeKey: string;
  p: NotifyPayload;
}

/** The e-mail job of these notices (those that ask for one), or none; `runAt`: not before then (a backstop). */
export function emailJobOf(notices: Notice[], runAt?: Date): JobSpec[] {
  const dedupeKeys = notices.filter((n) => n.p.email).map((n) => n.dedupeKey);
  const [first] = dedupeKeys;
  if (first === undefined) return [];
  return [{ type: "notify.email", payload: { dedupeKeys }, dedupeKey: `${first}:email`, runAt }];
}

/**
 * The notices as the JSON array an SQL function inserts from (`jsonb_to_recordset` with columns
 * id, user_id, type, title, body, data, dedupe_key, created_at), for a change made in one
 * statement; `emailJobOf` gives its e-mail job.
 */
export function noticesJson(clock: Clock, notices: Notice[]): string {
  const createdAt = clock.now().toISOString();
  return JSON.stringify(
    notices.map(({ dedupeKey, p }) => ({
      id: Bun.randomUUIDv7(),
      user_id: p.userId,
      type: p.type,
      title: p.title,
      body: p.body,
      data: p.data ?? {},
      dedupe_key: dedupeKey,
      created_at: createdAt,
    })),
  );
}

/** A notice's row of `notifications`, made at `now` (its e-mail not yet claimed). */
export function noticeRow({ dedupeKey, p }: Notice, now: Date) {
  return {
    id: Bun.randomUUIDv7(),
    userId: p.userId,
    type: p.type,
    title: p.title,
    body: p.body,
    data: p.data ?? {},
    dedupeKey,
    createdAt: now,
  };
}

/** The notices' rows, written in `tx` (a deleted account's are dropped by the database's trigger); no e-mail job. */
export async function insertNotices(tx: Db, clock: Clock, notices: Notice[]): Promise<void> {
  if (notices.length === 0) return;
  const now = clock.now();
  await tx
    .insert(notifications)
    .values(notices.map((n) => noticeRow(n, now)))
    .onConflictDoNothing({ target: notifications.dedupeKey });
}

/**
 * Writes the notices in `tx` (pass the transaction of the change) with their e-mails' job, sent
 * together; `emailsAt`: the job's time when the caller sends them itself after the commit
 * (`sendEmailsNow`), the job only its backstop.
 */
export async function notifyWithin(tx: Db, clock: Clock, notices: Notice[], emailsAt?: Date): Promise<void> {
  await together(insertNotices(tx, clock, notices), enqueueMany(tx, clock, emailJobOf(notices, emailsAt)));
}
