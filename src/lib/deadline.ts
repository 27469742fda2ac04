// Bounded waits: nothing the service depends on (Redis, the database, a draining server, a worker
// thread) may hold a request or a shutdown for ever.

export class TimeoutError extends Error {}

/** `p`, or a TimeoutError after `ms` (the timer is cleared either way). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `p` settled before `ms` passed (a rejection counts as settled). */
export async function settlesWithin(p: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  return within(
    Promise.resolve(p).catch(() => {}),
    ms,
    "wait",
  ).then(
    () => true,
    () => false,
  );
}
