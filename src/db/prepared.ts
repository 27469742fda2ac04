// Statements built once per database handle and prepared by name: drizzle's query building costs
// tens of microseconds per call, which dominates a hot primary-key read.
import type { Db } from "./client";

export function perDatabase<T>(build: (db: Db) => T): (db: Db) => T {
  const built = new WeakMap<Db, T>();
  return (db) => {
    let value = built.get(db);
    if (value === undefined) {
      value = build(db);
      built.set(db, value);
    }
    return value;
  };
}
