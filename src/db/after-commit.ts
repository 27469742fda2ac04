// Work that must wait until a transaction has committed (waking the outbox relay): registered in
// the transaction, run once COMMIT has succeeded, dropped on rollback.
import type { Db } from "./client";

const pending = new WeakMap<object, { root: Db; callbacks: Set<(root: Db) => void> }>();
const roots = new WeakSet<object>();

/** Makes `db.transaction` run the after-commit callbacks its transactions registered. */
export function withAfterCommit(db: Db): Db {
  roots.add(db);
  const begin = db.transaction.bind(db);
  const transaction: typeof db.transaction = async (fn, config) => {
    const callbacks = new Set<(root: Db) => void>();
    const result = await begin((tx) => {
      pending.set(tx, { root: db, callbacks });
      return fn(tx);
    }, config);
    for (const callback of callbacks) callback(db);
    return result;
  };
  Object.defineProperty(db, "transaction", { value: transaction, configurable: true, writable: true });
  return db;
}

/**
 * Runs `callback` with the root handle once `db`'s work is committed: after COMMIT inside a
 * transaction, at once on the root handle (autocommit). A callback registered twice runs once.
 * In a nested transaction (a savepoint) it does not run: what it would wake finds the work on
 * its own poll.
 */
export function afterCommit(db: Db, callback: (root: Db) => void): void {
  const tx = pending.get(db);
  if (tx) tx.callbacks.add(callback);
  else if (roots.has(db)) callback(db);
}
