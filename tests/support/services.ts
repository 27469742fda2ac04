// Test infrastructure: a database per test file (cloned from a migrated template) and a Redis key
// prefix per file. With DATABASE_URL/REDIS_URL unset the same tests run on embedded PGlite and the
// in-process transports; REQUIRE_SERVICES=1 makes a missing service a failure, never a skip.
import Redis from "ioredis";
import postgres from "postgres";
import { type Database, openDatabase } from "../../src/db/client";
import { migrate, migrationFingerprint } from "../../src/db/migrate";

export const requireServices = process.env.REQUIRE_SERVICES === "1";
export const databaseUrl = process.env.DATABASE_URL || undefined;
export const redisUrl = process.env.REDIS_URL || undefined;

if (requireServices && (!databaseUrl || !redisUrl)) {
  throw new Error("REQUIRE_SERVICES=1 needs DATABASE_URL and REDIS_URL to be set (see README)");
}

const rand = () => Math.random().toString(36).slice(2, 10);

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates (once per migration set) a migrated template database on the real server. */
async function postgresTemplate(admin: postgres.Sql): Promise<string> {
  const name = `stayhub_tpl_${migrationFingerprint()}`;
  await admin`select pg_advisory_lock(7411337002)`;
  try {
    const [exists] = await admin`select 1 from pg_database where datname = ${name}`;
    if (!exists) {
      await admin.unsafe(`create database "${name}_build"`).catch(() => {});
      const db = await openDatabase({ url: withDatabase(databaseUrl as string, `${name}_build`), poolSize: 1 });
      try {
        await migrate(db);
      } finally {
        await db.close();
      }
      await admin.unsafe(`alter database "${name}_build" rename to "${name}"`);
      // Templates of older migration sets are dead weight now, but the few newest stay: checkouts
      // of branches with other migration sets may share this server, and each would otherwise
      // drop the other's template in turn (rebuilt under the lock while their tests wait).
      const stale = await admin`select datname from pg_database
        where datname like 'stayhub_tpl_%' and datname <> ${name} and datname not like '%_build'
        order by oid::text::bigint desc offset 3`;
      for (const { datname } of stale) await admin.unsafe(`drop database if exists "${datname}"`).catch(() => {});
    }
  } finally {
    await admin`select pg_advisory_unlock(7411337002)`;
  }
  return name;
}

let embeddedImage: Promise<Blob> | undefined;

/** A migrated embedded database, snapshotted once so each test file loads it instead of migrating. */
function embeddedTemplate(): Promise<Blob> {
  embeddedImage ??= (async () => {
    const db = await openDatabase({ inMemory: true });
    try {
      await migrate(db);
      return await (db.snapshot as () => Promise<Blob>)();
    } finally {
      await db.close();
    }
  })();
  return embeddedImage;
}

export interface TestDatabase {
  database: Database;
  /** Set on PostgreSQL: other connections (worker threads) can open the same database. */
  url?: string;
  drop(): Promise<void>;
}

/** `embedded`: on PGlite even when DATABASE_URL is set (the tests that must hold on both). */
export async function createTestDatabase(options: { embedded?: boolean } = {}): Promise<TestDatabase> {
  if (!databaseUrl || options.embedded) {
    const database = await openDatabase({ inMemory: true, loadDataDir: await embeddedTemplate() });
    return { database, drop: () => database.close() };
  }
  const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const tpl = await postgresTemplate(admin);
    const name = `stayhub_t_${rand()}`;
    await admin.unsafe(`create database "${name}" template "${tpl}"`);
    const url = withDatabase(databaseUrl, name);
    const database = await openDatabase({ url, poolSize: 10 });
    return {
      database,
      url,
      async drop() {
        await database.close();
        const a = postgres(databaseUrl, { max: 1, onnotice: () => {} });
        await a.unsafe(`drop database if exists "${name}" with (force)`);
        await a.end();
      },
    };
  } finally {
    await admin.end();
  }
}

export interface TestRedis {
  redis: Redis | null;
  prefix: string;
  cleanup(): Promise<void>;
}

/** `prefix`: share another TestRedis's keys (a second instance of the service); its owner cleans up. */
export async function createTestRedis(url = redisUrl, shared?: { prefix: string }): Promise<TestRedis> {
  const prefix = shared?.prefix ?? `test:${rand()}:`;
  if (!url) return { redis: null, prefix, cleanup: async () => {} };
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    retryStrategy: (n) => Math.min(n * 50, 500),
  });
  redis.on("error", () => {});
  await redis.connect();
  await redis.ping();
  return {
    redis,
    prefix,
    async cleanup() {
      if (shared) return void (await redis.quit().catch(() => redis.disconnect()));
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== "0");
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
