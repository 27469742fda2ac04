// First come, first served: at most N pieces of work at once, the rest waiting in arrival order.

export type Gate = <R>(run: () => PromiseLike<R>) => Promise<R>;

/**
 * At most `permits` connections in use (a query, a transaction or a reserved session each take
 * one), the rest waiting in arrival order for the first to free. With every connection busy,
 * postgres.js pipelines the next query onto one of them round-robin, where it waits behind
 * whatever runs there even when another connection frees first: under 32 concurrent searches that
 * made p99 ten times p50. (Its `max_pipeline: 0` would stop that but also stops `begin` from
 * reserving its connection.)
 */
export function fifoGate(permits: number): Gate {
  let free = permits;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  const done = <R>(value: R): R => {
    release();
    return value;
  };
  const failed = (error: unknown): never => {
    release();
    throw error;
  };
  const start = <R>(run: () => PromiseLike<R>): Promise<R> => {
    try {
      // postgres.js runs a query when its then() is called: no extra turn of the event loop.
      return Promise.resolve(run().then(done, failed));
    } catch (error) {
      release();
      return Promise.reject(error);
    }
  };
  // A free permit starts the work at once (no extra turn of the event loop).
  return (run) => {
    if (free > 0) {
      free--;
      return start(run);
    }
    return new Promise<void>((resolve) => waiting.push(resolve)).then(() => start(run));
  };
}
