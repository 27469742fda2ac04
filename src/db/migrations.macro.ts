// Bun macro: runs when the code is bundled or transpiled, so the SQL migrations travel inside the
// compiled binary and no `drizzle/` folder is needed beside it at run time.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface Migration {
  tag: string;
  hash: string;
  sql: string;
}

interface Journal {
  entries: { idx: number; tag: string }[];
}

export function readMigrations(): Migration[] {
  const dir = join(import.meta.dir, "../../drizzle");
  const journal = JSON.parse(readFileSync(join(dir, "meta/_journal.json"), "utf8")) as Journal;
  return journal.entries
    .sort((a, b) => a.idx - b.idx)
    .map(({ tag }) => {
      const sql = readFileSync(join(dir, `${tag}.sql`), "utf8");
      return { tag, sql, hash: new Bun.CryptoHasher("sha256").update(sql).digest("hex") };
    });
}
