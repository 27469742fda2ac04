// First come, first served: at most N pieces of work at once, the rest waiting in arrival order.

export type Gate = <R>(run: () => PromiseLike<R>) => Promise<R>;

/**
 * At most `permits` pieces of work at once; the rest wait in arrival order and each starts as soon
 * as one ends. A failure, thrown or rejected, gives its place back. Used in front of database
 * connections (src/db/client.ts) and searches (src/modules/properties/search.ts).
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
