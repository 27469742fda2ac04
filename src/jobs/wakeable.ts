// The loop both job transports run: do a pass; go again at once if it was busy or a NOTIFY came
// in meanwhile; otherwise sleep until the next NOTIFY or the poll interval; back off on errors.
import type { Database } from "../db/client";
import type { Logger } from "../lib/log";

export interface WakeableLoop {
  stop(): Promise<void>;
}

export async function startWakeableLoop(o: {
  database: Database;
  channel: string;
  pollMs: number;
  log: Logger;
  what: string;
  /** One pass; true when there may be more work right away. */
  pass: () => Promise<boolean>;
}): Promise<WakeableLoop> {
  let stopped = false;
  let wake: (() => void) | null = null;
  // A NOTIFY that lands while a pass runs must not wait for the next poll.
  let pending = false;
  const nudge = () => {
    pending = true;
    wake?.();
  };
  const unlisten = await o.database.listen(o.channel, nudge).catch(() => null);
  let failures = 0;
  const loop = (async () => {
    while (!stopped) {
      pending = false;
      let busy = false;
      try {
        busy = await o.pass();
        failures = 0;
      } catch (err) {
        if (failures++ % 20 === 0) o.log.warn(`${o.what}: unavailable; retrying`, { error: (err as Error).message });
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
      await unlisten?.().catch(() => {});
    },
  };
}
