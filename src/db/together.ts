// Statements of one transaction sent at once: postgres.js pipelines what is issued together on a
// transaction's connection (one round trip instead of one each), and PGlite queues them in turn.
import { sqlState } from "./errors";

/** "current transaction is aborted": what every statement after the one that failed answers. */
export const IN_FAILED_SQL_TRANSACTION = "25P02";

/**
 * Awaits statements sent together. Only for statements that do not depend on each other's
 * effects or order: an async helper among them sends its statement a microtask or more after a
 * plain query builder, so the order they run in is not the order written (locks that must be
 * taken in an order, to keep clear of deadlocks, are awaited in turn). When the transaction
 * fails, the error thrown is the statement's that failed it, not a later one's 25P02 (whichever
 * reached this first), so callers can still tell a unique violation from a deadlock.
 */
export async function together<T extends readonly unknown[]>(
  ...statements: T
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(statements);
  const failed = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
  const cause = failed.find((f) => sqlState(f.reason) !== IN_FAILED_SQL_TRANSACTION) ?? failed[0];
  if (cause) throw cause.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}
