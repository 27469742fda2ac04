// The loop both job transports run over the outbox: do a pass; go again at once if it was busy or
// a NOTIFY came in meanwhile; otherwise sleep until the next NOTIFY or the poll interval; back off
// on errors; now and then delete old sent rows.
import type { Deps } from "../dependencies";
import { onLocalWake, outboxCleanup, PROCESS_TAG, relayInProcess } from "./outbox";

export interface OutboxLoop {
  stop(): Promise<void>;
}

export async function startOutboxLoop(o: {
  deps: Pick<Deps, "database" | "db" | "log">;
  pollMs: number;
  what: string;
  /** One pass; true when there may be more work right away. */
  pass: () => Promise<boolean>;
}): Promise<OutboxLoop> {
  const cleanup = outboxCleanup(o.deps);
  let stopped = false;
  let wake: (() => void) | null = null;
  // A NOTIFY that lands while a pass runs must not wait for the next poll.
  let pending = false;
  const nudge = () => {
    pending = true;
    wake?.();
  };
  // A commit that enqueued jobs NOTIFYs this channel right after (wakeRelays in outbox.ts): another
  // process's wakes this loop; this process's own came through the channel already.
  const unlisten = await o.deps.database
    .listen("stayhub_outbox", (from) => from !== PROCESS_TAG && nudge())
    .catch(() => null);
  // This process's commits wake it without the NOTIFY's round trips (and send none while it runs).
  const unwake = onLocalWake(nudge);
  const released = relayInProcess();
  let failures = 0;
  const loop = (async () => {
    while (!stopped) {
      pending = false;
      let busy = false;
      try {
        busy = await o.pass();
        await cleanup();
        failures = 0;
      } catch (err) {
        if (failures++ % 20 === 0)
          o.deps.log.warn(`${o.what}: unavailable; retrying`, { error: (err as Error).message });
        await Bun.sleep(Math.min(2000, 100 * failures));
        continue;
      }
      if (busy || pending) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, o.pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  })();
  return {
    async stop() {
      stopped = true;
      nudge();
      await loop; // the pass in hand finishes first
      unwake();
      released();
      await unlisten?.().catch(() => {});
    },
  };
}
