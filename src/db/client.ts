// One database handle for the service: postgres.js when DATABASE_URL is set, embedded PGlite otherwise.

import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { fifoGate, type Gate } from "../lib/fifo-gate";
import { withAfterCommit } from "./after-commit";
import { pgliteOptions } from "./pglite-assets";
import * as schema from "./schema";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Row = Record<string, unknown>;

/** The few things Drizzle's query builder cannot say (migrations, locks) go through this. */
export interface RawSql {
  /** Runs one or more statements without parameters (simple query protocol). */
  exec(text: string): Promise<void>;
  query<T extends Row = Row>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface Database {
  kind: "postgres" | "embedded";
  db: Db;
  /** Connections of `db` (the embedded database has one session). */
  poolSize: number;
  /**
   * Statements on this handle are planned for each execution's values. Everywhere else PostgreSQL
   * may settle, after five runs of a prepared statement, on one generic plan for all values; that
   * suits the lookups, but not a text search, where a rare word wants the text index and a common
   * one wants to walk the sort order and stop at a page (a generic plan made every common-word
   * search read all its matches: twice the database time per search).
   */
  planEach: Db;
  raw: RawSql;
  /** Runs fn on one connection held for its duration (advisory locks are per session). */
  withSession<T>(fn: (raw: RawSql) => Promise<T>): Promise<T>;
  /** LISTEN on a channel (NOTIFYs are delivered at commit); resolves to the unsubscribe. */
  listen(channel: string, onNotify: (payload: string) => void, onListen?: () => void): Promise<() => Promise<void>>;
  /** Embedded only: the whole data directory as a gzipped tarball (a backup, or a test template). */
  snapshot?(): Promise<Blob>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url?: string;
  dataDir?: string;
  /** Embedded only: keep nothing on disk (tests). */
  inMemory?: boolean;
  /** Embedded only: start from this snapshot instead of an empty cluster. */
  loadDataDir?: Blob;
  poolSize?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options.poolSize ?? 10) : openEmbedded(options);
}

type AnySql = postgres.Sql | postgres.TransactionSql;

/**
 * Drizzle sends its unnamed queries through `unsafe` without `prepare`, and postgres.js then
 * spends an extra round trip describing each one and PostgreSQL parses and plans it anew: an
 * uncached property read ran at a fifth of the raw driver's speed. With `prepare: true` each
 * distinct statement is prepared once per connection (drizzle's SQL text is parameterised, so
 * the set of texts is small). Transactions get the same treatment.
 */
function preparing<T extends AnySql>(sql: T, gate?: Gate): T {
  return new Proxy(sql, {
    get(target, prop, receiver) {
      if (prop === "unsafe") {
        return (query: string, args: unknown[] = [], options: Record<string, unknown> = {}) => {
          const pending = () =>
            target.unsafe(query, args as postgres.ParameterOrJSON<never>[], {
              ...options,
              prepare: args.length > 0 || options.prepare === true,
            });
          return gate ? new GatedQuery(gate, pending) : pending();
        };
      }
      if (prop === "begin" || prop === "savepoint") {
        return (...args: unknown[]) => {
          const fn = args[args.length - 1] as (tx: AnySql) => unknown;
          args[args.length - 1] = (tx: AnySql) => fn(preparing(tx));
          const begin = () => (Reflect.get(target, prop) as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          // A transaction holds a connection for its whole life, so it holds a permit as long
          // (so its body must use its own handle, never wait on the root one).
          return gate ? gate(begin) : begin();
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

type Pending = PromiseLike<unknown> & { values(): PromiseLike<unknown> };

// Why a gate at all: with every connection busy, postgres.js pipelines the next query onto one of
// them round-robin, where it waits behind whatever runs there even when another connection frees
// first; under 32 concurrent searches that made p99 ten times p50. (Its `max_pipeline: 0` would
// stop that but also stops `begin` from reserving its connection.) So queries, transactions and
// reserved sessions together take at most the pool's size of places in a first-come gate.

const unsupported = (method: string) => () => {
  throw new Error(
    `postgres.js query method "${method}" is not available through the connection gate (src/db/client.ts)`,
  );
};

/**
 * A query that waits for the gate before it runs, and runs once however often it is awaited.
 * Drizzle only awaits a query or calls its `.values()`; the other postgres.js query methods throw
 * here rather than run ungated.
 */
class GatedQuery {
  private result: Promise<unknown> | undefined;
  constructor(
    private gate: Gate,
    private pending: () => Pending,
  ) {}
  private run(): Promise<unknown> {
    this.result ??= this.gate(this.pending);
    return this.result;
  }
  // biome-ignore lint/suspicious/noThenProperty: a gated query is awaited like the query it stands for
  then(resolve?: (v: unknown) => unknown, reject?: (e: unknown) => unknown) {
    return this.run().then(resolve, reject);
  }
  catch(reject: (e: unknown) => unknown) {
    return this.run().catch(reject);
  }
  finally(after: () => void) {
    return this.run().finally(after);
  }
  values() {
    this.result ??= this.gate(() => this.pending().values());
    return this.result;
  }
  raw = unsupported("raw");
  cursor = unsupported("cursor");
  forEach = unsupported("forEach");
  describe = unsupported("describe");
  execute = unsupported("execute");
  simple = unsupported("simple");
  readable = unsupported("readable");
  writable = unsupported("writable");
  cancel = unsupported("cancel");
}

function openPostgres(url: string, max: number): Database {
  const options = (connections: number, settings: Record<string, string> = {}) => ({
    max: connections,
    onnotice: () => {},
    // A database that refuses or drops connections answers 503 within seconds, not after
    // postgres.js's default 30 s.
    connect_timeout: 2,
    // Reconnects back off, but at most a second: postgres.js's own backoff (shared by the pool,
    // 3^failures / 100 s up to 20 s) made a query sent just after the database came back wait on a
    // connection's 15-20 s pause (the fault suite's unanswered registration).
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1) * (0.5 + Math.random() / 2),
    // Dates stay strings ("YYYY-MM-DD"): a calendar day has no time zone to shift it.
    types: { date: { to: 1082, from: [1082], serialize: (v: string) => v, parse: (v: string) => v } },
    // READ COMMITTED whatever the server's default: the property documents' triggers need it.
    connection: { application_name: "stayhub", default_transaction_isolation: "read committed" as const, ...settings },
  });
  const client = postgres(url, options(max));
  const planEachMax = Math.max(2, Math.ceil(max / 4));
  const planEachClient = postgres(url, options(planEachMax, { plan_cache_mode: "force_custom_plan" }));
  const runner = (sql: postgres.Sql | postgres.ReservedSql): RawSql => ({
    async exec(text) {
      await sql.unsafe(text);
    },
    async query<T extends Row>(text: string, params: unknown[] = []) {
      return (await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as T[];
    },
  });
  const gate = fifoGate(max);
  return {
    kind: "postgres",
    db: withAfterCommit(drizzlePostgres({ client: preparing(client, gate), schema }) as unknown as Db),
    poolSize: max,
    planEach: drizzlePostgres({ client: preparing(planEachClient, fifoGate(planEachMax)), schema }) as unknown as Db,
    raw: runner(client),
    withSession: (fn) =>
      gate(async () => {
        const reserved = await client.reserve();
        try {
          return await fn(runner(reserved));
        } finally {
          reserved.release();
        }
      }),
    async listen(channel, onNotify, onListen) {
      // onListen runs at every LISTEN: the first, and each after postgres.js reconnected (what was
      // notified in between is lost; the listener can catch up).
      const { unlisten } = await client.listen(channel, onNotify, onListen);
      return unlisten;
    },
    close: async () => {
      await Promise.all([client.end({ timeout: 5 }), planEachClient.end({ timeout: 5 })]);
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * PGlite does not lock its data directory, and two processes writing one cluster lose data.
 * A pid file makes the second one stop with a clear message; a stale file (its process is gone)
 * is taken over.
 */
function lockDataDir(dir: string): () => void {
  const file = join(dir, "stayhub.pid");
  const mine = String(process.pid);
  try {
    writeFileSync(file, mine, { flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const holder = Number(readFileSync(file, "utf8").trim());
    if (holder && holder !== process.pid && isAlive(holder)) {
      throw new Error(
        `the embedded database in ${dir} is in use by process ${holder}; stop it first (or set DATABASE_URL to share a PostgreSQL server)`,
      );
    }
    writeFileSync(file, mine);
  }
  return () => {
    try {
      if (readFileSync(file, "utf8") === mine) unlinkSync(file);
    } catch {
      // already gone
    }
  };
}

async function openEmbedded(options: DatabaseOptions): Promise<Database> {
  let dataDir: string | undefined;
  let unlock = () => {};
  if (!options.inMemory) {
    dataDir = `${options.dataDir ?? "./data"}/pg`;
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
    process.once("exit", unlock);
  }
  const pg = await PGlite.create({
    ...(await pgliteOptions()),
    dataDir,
    loadDataDir: options.loadDataDir,
    // Same shape as postgres.js above: a calendar day stays a "YYYY-MM-DD" string.
    parsers: { 1082: (v: string) => v },
  });
  const raw: RawSql = {
    async exec(text) {
      await pg.exec(text);
    },
    async query<T extends Row>(text: string, params: unknown[] = []) {
      return (await pg.query<T>(text, params)).rows;
    },
  };
  const db = withAfterCommit(drizzlePglite({ client: pg, schema }) as unknown as Db);
  return {
    kind: "embedded",
    db,
    poolSize: 1,
    // One session serves everything on the embedded database.
    planEach: db,
    raw,
    // PGlite is one session already; queries queue on it.
    withSession: (fn) => fn(raw),
    async listen(channel, onNotify, onListen) {
      const unsubscribe = await pg.listen(channel, onNotify);
      onListen?.();
      return unsubscribe;
    },
    snapshot: () => pg.dumpDataDir("gzip"),
    async close() {
      await pg.close();
      unlock();
    },
  };
}
