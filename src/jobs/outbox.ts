// Enqueue through the transactional outbox: the job row commits with the state change that needs
// it, or not at all.

import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { and, eq, isNull, sql } from "drizzle-orm";
import { afterCommit } from "../db/after-commit";
import type { Db } from "../db/client";
import { outbox } from "../db/schema";
import type { Clock } from "../lib/clock";
import type { JobPayloads, JobType } from "./registry";
import type { Job } from "./types";

export interface EnqueueOptions {
  /** When the job may run (default now). */
  runAt?: Date;
  /** At most one job per key while its row is kept (until a week after it ran): a second enqueue with it is a no-op. */
  dedupeKey?: string;
}

/**
 * Writes the job in `tx` (pass the transaction of the change it follows from). Returns the job id,
 * or null when `dedupeKey` was already used.
 */
export async function enqueue<T extends JobType>(
  tx: Db,
  clock: Clock,
  type: T,
  payload: JobPayloads[T],
  options: EnqueueOptions = {},
): Promise<string | null> {
  // Due-ness is judged by the service's clock (the test clock in tests), like every business rule.
  const [row] = await tx
    .insert(outbox)
    .values({ type, payload, runAt: options.runAt ?? clock.now(), dedupeKey: options.dedupeKey ?? null })
    .onConflictDoNothing({ target: outbox.dedupeKey })
    .returning({ id: outbox.id });
  if (row) afterCommit(tx, wakeRelays);
  return row ? String(row.id) : null;
}

/** One job for `enqueueMany`: its type decides its payload's type. */
export type JobSpec = {
  [T in JobType]: { type: T; payload: JobPayloads[T]; runAt?: Date; dedupeKey?: string };
}[JobType];

/**
 * Jobs as the JSON array an SQL function enqueues from (`jsonb_to_recordset` with columns type,
 * payload, run_at, dedupe_key), for a change made in one statement. Whoever commits them calls
 * `afterCommit(db, wakeRelays)`.
 */
export function outboxRowsJson(clock: Clock, jobs: JobSpec[]): string {
  const now = clock.now();
  return JSON.stringify(
    jobs.map((j) => ({
      type: j.type,
      payload: j.payload,
      run_at: (j.runAt ?? now).toISOString(),
      dedupe_key: j.dedupeKey ?? null,
    })),
  );
}

/** Many jobs in one statement (the outbox's addBulk), for a change that fans out. Returns their ids. */
export async function enqueueMany(tx: Db, clock: Clock, jobs: JobSpec[]): Promise<string[]> {
  if (jobs.length === 0) return [];
  const now = clock.now();
  const rows = await tx
    .insert(outbox)
    .values(
      jobs.map((j) => ({ type: j.type, payload: j.payload, runAt: j.runAt ?? now, dedupeKey: j.dedupeKey ?? null })),
    )
    .onConflictDoNothing({ target: outbox.dedupeKey })
    .returning({ id: outbox.id });
  // A job for later (a backstop) wakes no one: the relays' polls find it when it is due.
  if (rows.length && jobs.some((j) => !j.runAt || j.runAt <= now)) afterCommit(tx, wakeRelays);
  return rows.map((r) => String(r.id));
}

/**
 * The job under `dedupeKey`, not yet handed on, recorded as done in `tx`: its work was done in
 * this transaction by other means (a backstop no longer needed). A job already handed on runs,
 * and its handler finds the work done.
 */
export function markDone(tx: Db, dedupeKey: string) {
  return tx
    .update(outbox)
    .set({ sentAt: sql`now()`, lastError: null })
    .where(and(eq(outbox.dedupeKey, dedupeKey), isNull(outbox.sentAt), isNull(outbox.deadAt)));
}

/** The job under `dedupeKey`, recorded done by `markDone` but whose work failed after all: due again now. */
export async function reopen(db: Db, clock: Clock, dedupeKey: string): Promise<void> {
  const moved = await db
    .update(outbox)
    .set({ sentAt: null, runAt: clock.now() })
    .where(and(eq(outbox.dedupeKey, dedupeKey), isNull(outbox.deadAt)))
    .returning({ id: outbox.id });
  if (moved.length) afterCommit(db, wakeRelays);
}

/** The job under `dedupeKey`, if it waits for a later time, made due now (and the relays woken). */
export async function runNow(db: Db, clock: Clock, dedupeKey: string): Promise<void> {
  const moved = await db
    .update(outbox)
    .set({ runAt: clock.now() })
    .where(and(eq(outbox.dedupeKey, dedupeKey), isNull(outbox.sentAt), isNull(outbox.deadAt)))
    .returning({ id: outbox.id });
  if (moved.length) afterCommit(db, wakeRelays);
}

const signals = new WeakMap<Db, { inFlight: boolean; again: boolean }>();

/** Relays or in-process job loops of this process (any of its threads) that its wake reaches. */
let localRelays = 0;

/**
 * Counts a relay or job loop of this process, one its in-process wake reaches (this thread's, or
 * a thread of the same pool), until the function it returns is called: while there is one, a
 * commit that enqueued jobs sends no NOTIFY.
 */
export function relayInProcess(): () => void {
  localRelays++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    localRelays--;
  };
}

/**
 * Which process sent a NOTIFY (the same in all its threads): its own relays were woken through the
 * channel already and let it pass. Host, pid and the process's start (containers all run as pid 1,
 * and may share a host name); two processes alike in all three at worst wait for a poll.
 */
export const PROCESS_TAG = `${hostname()}:${process.pid}:${processStart()}`;

/** When this process started, in clock ticks since boot (Linux; "" elsewhere): the same in all its threads. */
function processStart(): string {
  try {
    // The fields after the command's closing parenthesis; starttime is the 22nd field of the line.
    const stat = readFileSync("/proc/self/stat", "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
  } catch {
    return "";
  }
}

/** The in-process wake: every thread of this process (the relay's included) hears it at once. */
export const WAKE_CHANNEL = "stayhub:outbox";
let waker: BroadcastChannel | null = null;
/** A channel of the wake that keeps no process alive (Bun's BroadcastChannel has Node's unref). */
const wakeChannel = (): BroadcastChannel => {
  const channel = new BroadcastChannel(WAKE_CHANNEL);
  (channel as BroadcastChannel & { unref(): void }).unref();
  return channel;
};

/**
 * Calls `onWake` whenever a thread of this process committed jobs (its own thread included).
 * Returns the function that stops listening. Neither end keeps a process alive.
 */
export function onLocalWake(onWake: () => void): () => void {
  const channel = wakeChannel();
  channel.onmessage = onWake;
  return () => channel.close();
}

/**
 * Wakes every relay after a commit that enqueued jobs, without waiting for their poll: this
 * process's through a BroadcastChannel, every other process's by NOTIFY (they LISTEN on
 * 'stayhub_outbox'). The NOTIFYs are coalesced per process: one in flight at a time, and one more
 * after it for all the commits that came meanwhile (drizzle/0010 says why it is not a trigger).
 */
export function wakeRelays(root: Db): void {
  // The relay of this process, woken without a statement: under load the NOTIFY below waits for a
  // free connection of the pool behind the requests' queries (a charge's start was delayed ~100 ms
  // at 32 clients by it), while this reaches the relay's thread at once.
  try {
    waker ??= wakeChannel();
    waker.postMessage(0);
    // A process with a relay (or job loop) of its own moves its own jobs: no other needs waking
    // (theirs move their instances' jobs, and share these only by their polls). One without (a
    // CLI command, a consumer-only thread pool elsewhere) NOTIFYs.
    if (localRelays > 0) return;
  } catch {
    // Their polls still find the rows (they let this process's NOTIFY pass), and other processes' NOTIFY wakes theirs.
  }
  const state = signals.get(root) ?? { inFlight: false, again: false };
  signals.set(root, state);
  if (state.inFlight) {
    state.again = true;
    return;
  }
  state.inFlight = true;
  const send = (): void => {
    root
      .execute(sql`select pg_notify('stayhub_outbox', ${PROCESS_TAG})`)
      .catch(() => {}) // the relay's poll is the safety net
      .finally(() => {
        if (!state.again) {
          state.inFlight = false;
          return;
        }
        state.again = false;
        send();
      });
  };
  send();
}

/** Every ten minutes at most: sent rows are history after a week (recurring jobs' dedupe keys are per slot). */
export function outboxCleanup(deps: { db: Db }): () => Promise<void> {
  let last = 0;
  return async () => {
    if (Date.now() - last < 600_000) return;
    last = Date.now();
    await deps.db.delete(outbox).where(sql`${outbox.sentAt} < now() - interval '7 days'`);
  };
}

/** An outbox row as raw SQL returns it (both transports lease rows with raw statements). */
export interface OutboxRow extends Record<string, unknown> {
  id: string | number;
  type: string;
  payload: Record<string, unknown> | string;
  created_at: string | Date;
}

/** The job an outbox row stands for, at this attempt. */
export function jobOf(row: OutboxRow, attempt: number): Job {
  return {
    id: String(row.id),
    type: row.type,
    payload: typeof row.payload === "string" ? (JSON.parse(row.payload) as Record<string, unknown>) : row.payload,
    attempt,
    enqueuedAt: new Date(row.created_at).getTime(),
  };
}
