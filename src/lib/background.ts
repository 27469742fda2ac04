// Work a request starts and does not wait for (a payment's charge, right after its commit): kept
// per owner (the app's Deps) so that shutdown, and tests, can wait for what is still running.
// Whatever it does must be safe to lose: a backstop (a job in the outbox) finishes it otherwise.
const running = new WeakMap<object, Set<Promise<unknown>>>();

/** Runs `work` in the background of `owner`; its failure is `onError`'s, never unhandled. */
export function inBackground(owner: object, work: () => Promise<unknown>, onError: (err: unknown) => void): void {
  let set = running.get(owner);
  if (!set) {
    set = new Set();
    running.set(owner, set);
  }
  const tracked = set;
  const p: Promise<unknown> = work()
    .catch(onError)
    .finally(() => tracked.delete(p));
  tracked.add(p);
}

/** How many pieces of background work `owner` has running. */
export const backgroundCount = (owner: object): number => running.get(owner)?.size ?? 0;

/** Waits for `owner`'s background work (what starts meanwhile too), at most `timeoutMs`. */
export async function backgroundSettled(owner: object, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const set = running.get(owner);
    if (!set || set.size === 0) return;
    const left = deadline - Date.now();
    if (left <= 0) return;
    await Promise.race([Promise.allSettled([...set]), Bun.sleep(left)]);
  }
}
