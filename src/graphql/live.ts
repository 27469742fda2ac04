// Live booking status: the bookings_status_notify trigger NOTIFYs "<id> <status>" on
// stayhub_booking when a status change commits; each instance LISTENs once (from its first
// subscriber on) and hands each booking's changes to that booking's subscribers. The database is
// the bus: every instance hears every change, whichever process made it (an API, a worker, a
// sweep), and a change rolled back is never heard. It also LISTENs on stayhub_credentials: when a
// user's sessions are revoked (password, suspension, deletion, logout everywhere), that user's
// subscriptions are told to re-check their token at once, which ends them.
import type { Database } from "../db/client";
import { AppError } from "../http/errors";
import type { Logger } from "../lib/log";
import { CREDENTIALS_CHANNEL } from "../modules/auth/sessions";

export const BOOKING_CHANNEL = "stayhub_booking";
/** Live subscriptions one user may hold on one instance, and the instance in all. */
export const MAX_SUBSCRIPTIONS_PER_USER = 20;
export const MAX_SUBSCRIPTIONS = 10_000;
/**
 * Pushed to every subscriber after the LISTEN connection came back, and to a user's subscribers
 * when their credentials changed: check the token and read the booking again.
 */
export const RESYNC = "?";

/** Changes of one booking, in the order they committed, until `close`. */
export interface StatusQueue extends AsyncIterable<string> {
  close(): void;
}

const unavailable = () =>
  new AppError(503, "unavailable", "Live updates are not available right now (the server is stopping); retry shortly");

export class BookingFeed {
  private readonly subscribers = new Map<string, Set<(status: string | null) => void>>();
  private readonly perUser = new Map<string, number>();
  private readonly byUser = new Map<string, Set<(status: string | null) => void>>();
  private total = 0;
  private listening: Promise<unknown> | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private closed = false;

  constructor(
    private readonly database: Database,
    private readonly log: Logger,
  ) {}

  /** Starts listening (once); resolves when changes are being heard. */
  private listen(): Promise<unknown> {
    // After a reconnect, what was notified in between is lost: every subscriber reads again.
    const resyncAfterReconnect = (channel: string) => {
      let listens = 0;
      return () => {
        if (listens++ === 0) return;
        this.log.warn("booking feed listening again after a reconnect; subscribers resync", { channel });
        for (const subs of this.subscribers.values()) for (const push of subs) push(RESYNC);
      };
    };
    this.listening ??= Promise.allSettled([
      this.database.listen(BOOKING_CHANNEL, (payload) => this.dispatch(payload), resyncAfterReconnect(BOOKING_CHANNEL)),
      this.database.listen(
        CREDENTIALS_CHANNEL,
        (userId) => {
          for (const push of this.byUser.get(userId) ?? []) push(RESYNC);
        },
        resyncAfterReconnect(CREDENTIALS_CHANNEL),
      ),
    ]).then(async (outcomes) => {
      const unlistens = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
      const failed = outcomes.find((o) => o.status === "rejected");
      if (failed) {
        // Both or neither: the next subscriber tries both again.
        this.listening = null;
        await Promise.allSettled(unlistens.map((unlisten) => unlisten()));
        throw failed.reason;
      }
      this.unlisten = async () => {
        await Promise.all(unlistens.map((unlisten) => unlisten()));
      };
    });
    return this.listening;
  }

  private dispatch(payload: string): void {
    const at = payload.indexOf(" ");
    const id = payload.slice(0, at);
    const status = payload.slice(at + 1);
    for (const push of this.subscribers.get(id) ?? []) push(status);
  }

  /** Subscribes `userId` to one booking's changes; resolves once the subscription hears them. */
  async subscribe(bookingId: string, userId: string): Promise<StatusQueue> {
    if (this.closed) throw unavailable();
    const mine = this.perUser.get(userId) ?? 0;
    if (mine >= MAX_SUBSCRIPTIONS_PER_USER)
      throw new AppError(
        429,
        "rate_limited",
        `At most ${MAX_SUBSCRIPTIONS_PER_USER} live subscriptions per user; close one first`,
      );
    if (this.total >= MAX_SUBSCRIPTIONS)
      throw new AppError(503, "unavailable", "Too many live subscriptions on this server; retry shortly");
    // Counted before the wait, so a burst cannot pass the limits.
    this.perUser.set(userId, mine + 1);
    this.total++;
    let counted = true;
    const uncount = () => {
      if (!counted) return;
      counted = false;
      this.total--;
      const n = (this.perUser.get(userId) ?? 1) - 1;
      if (n > 0) this.perUser.set(userId, n);
      else this.perUser.delete(userId);
    };
    try {
      await this.listen();
    } catch (err) {
      uncount();
      throw err;
    }
    if (this.closed) {
      uncount();
      throw unavailable();
    }
    const pending: string[] = [];
    let wake: (() => void) | null = null;
    let done = false;
    const push = (status: string | null) => {
      if (status === null) done = true;
      else pending.push(status);
      wake?.();
    };
    let set = this.subscribers.get(bookingId);
    if (!set) {
      set = new Set();
      this.subscribers.set(bookingId, set);
    }
    set.add(push);
    let mineNow = this.byUser.get(userId);
    if (!mineNow) {
      mineNow = new Set();
      this.byUser.set(userId, mineNow);
    }
    mineNow.add(push);
    const close = () => {
      done = true;
      wake?.();
      const subs = this.subscribers.get(bookingId);
      subs?.delete(push);
      if (subs?.size === 0) this.subscribers.delete(bookingId);
      const users = this.byUser.get(userId);
      users?.delete(push);
      if (users?.size === 0) this.byUser.delete(userId);
      uncount();
    };
    return {
      close,
      async *[Symbol.asyncIterator]() {
        try {
          while (true) {
            const next = pending.shift();
            if (next !== undefined) {
              yield next;
              continue;
            }
            if (done) return;
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = null;
          }
        } finally {
          close();
        }
      },
    };
  }

  /** How many subscriptions this instance holds for the booking (metrics, tests). */
  watching(bookingId: string): number {
    return this.subscribers.get(bookingId)?.size ?? 0;
  }

  /** Pretends the LISTEN connection came back (tests): every subscriber reads again. */
  resync(): void {
    for (const subs of this.subscribers.values()) for (const push of subs) push(RESYNC);
  }

  /** Ends every subscription (their streams complete) and stops listening: shutdown. */
  async close(): Promise<void> {
    this.closed = true;
    for (const subs of this.subscribers.values()) for (const push of subs) push(null);
    this.subscribers.clear();
    this.byUser.clear();
    await this.unlisten?.().catch((err) => this.log.warn("unlisten failed", { error: (err as Error).message }));
  }
}

const feeds = new WeakMap<Database, BookingFeed>();

/** The instance's feed on this database (one LISTEN however many subscribers). */
export function bookingFeed(database: Database, log: Logger): BookingFeed {
  let feed = feeds.get(database);
  if (!feed) {
    feed = new BookingFeed(database, log);
    feeds.set(database, feed);
  }
  return feed;
}

/**
 * Shutdown: live subscriptions end, so no open stream holds the server. The closed feed stays in
 * place: a subscription arriving meanwhile is refused (503), not given a new LISTEN.
 */
export async function closeBookingFeed(database: Database, log: Logger): Promise<void> {
  await bookingFeed(database, log).close();
}
