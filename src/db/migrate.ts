// Applies the embedded migrations in order, once, under an advisory lock so instances starting
// together do not race; refuses to start if a migration that already ran was edited since.
import type { Database, RawSql } from "./client";
import { readMigrations } from "./migrations.macro" with { type: "macro" };

const MIGRATIONS = readMigrations();
// An arbitrary constant: "stayhub migrations" for pg_advisory_lock.
const LOCK_KEY = 7_411_337_001;

export interface MigrateResult {
  applied: string[];
}

export async function migrate(database: Database, log: (msg: string) => void = () => {}): Promise<MigrateResult> {
  return database.withSession(async (raw) => {
    await raw.query("select pg_advisory_lock($1)", [LOCK_KEY]);
    try {
      return await applyPending(raw, log);
    } finally {
      await raw.query("select pg_advisory_unlock($1)", [LOCK_KEY]);
    }
  });
}

async function applyPending(raw: RawSql, log: (msg: string) => void): Promise<MigrateResult> {
  await raw.exec(`create table if not exists stayhub_migrations (
    tag text primary key, hash text not null, applied_at timestamptz not null default now())`);
  const done = new Map(
    (await raw.query<{ tag: string; hash: string }>("select tag, hash from stayhub_migrations")).map((r) => [
      r.tag,
      r.hash,
    ]),
  );
  const applied: string[] = [];
  for (const m of MIGRATIONS) {
    const hash = done.get(m.tag);
    if (hash !== undefined) {
      if (hash !== m.hash)
        throw new Error(`migration ${m.tag} was changed after it was applied (hash ${hash} ≠ ${m.hash})`);
      continue;
    }
    await raw.exec("begin");
    try {
      await raw.exec(m.sql.replaceAll("--> statement-breakpoint", ""));
      await raw.query("insert into stayhub_migrations (tag, hash) values ($1, $2)", [m.tag, m.hash]);
      await raw.exec("commit");
    } catch (err) {
      await raw.exec("rollback");
      throw new Error(`migration ${m.tag} failed: ${(err as Error).message}`);
    }
    applied.push(m.tag);
    log(`applied migration ${m.tag}`);
  }
  return { applied };
}

export const migrationTags = (): string[] => MIGRATIONS.map((m) => m.tag);

/** Changes whenever any migration's content does (names test template databases). */
export const migrationFingerprint = (): string =>
  new Bun.CryptoHasher("sha256")
    .update(MIGRATIONS.map((m) => `${m.tag}:${m.hash}`).join(","))
    .digest("hex")
    .slice(0, 12);
