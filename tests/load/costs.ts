// What a write scenario costs per operation, read around its measured run: transactions committed
// in the bench database (pg_stat_database), top-level statements (pg_stat_statements, where the
// server preloads it), and CPU time (/proc) of the process under test by thread class and of the
// PostgreSQL backends serving it. An idle interval of the same instance afterwards gives the
// background rates (polling, sweeps), subtracted from the window.
import { readdirSync, readFileSync } from "node:fs";
import postgres from "postgres";

const CLOCK_TICKS = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;
/**
 * PostgreSQL 15 backends flush their counters at most once a second while busy and, once idle,
 * after 10 s (PGSTAT_IDLE_INTERVAL): a reading waits that long after the activity it must include.
 */
export const STATS_FLUSH_MS = 10_500;
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 5);

/** utime + stime of /proc/<path>/stat, in ticks (0 when it is gone). */
function ticks(path: string): number {
  try {
    const stat = readFileSync(`/proc/${path}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/**
 * A Bun process's threads by class: the main thread (the API's event loop), the job worker
 * threads (`Worker`), Bun's JIT compiler threads (`JITWorker`); the rest (GC helpers, the
 * allocator's scavenger, threads that exited) is the process total less these.
 */
function threadTicks(pid: number): Record<string, number> {
  const out: Record<string, number> = { total: ticks(String(pid)), main: 0, workers: 0, jit: 0 };
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    let comm = "";
    try {
      comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
    } catch {
      continue;
    }
    const t = ticks(`${pid}/task/${tid}`);
    if (tid === String(pid)) out.main = (out.main ?? 0) + t;
    else if (comm === "Worker") out.workers = (out.workers ?? 0) + t;
    else if (comm === "JITWorker") out.jit = (out.jit ?? 0) + t;
  }
  return out;
}

/** Until the process idles (under 5 % of a core over half a second), at most 20 s: its jobs ran. */
async function quiesce(pid: number): Promise<void> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    const t0 = ticks(String(pid));
    await Bun.sleep(500);
    if ((ticks(String(pid)) - t0) / CLOCK_TICKS < 0.025 || performance.now() > deadline) return;
  }
}

export interface Snapshot {
  at: number;
  commits: number;
  rollbacks: number;
  statements: number | null;
  proc: Record<string, number>;
  /** Ticks of each PostgreSQL backend serving the process under test, by pid. */
  backends: Map<number, number>;
}

export interface Costs {
  ops: number;
  commits: number;
  /** Transactions rolled back (a raw insert that hits the exclusion constraint is one). */
  rollbacks: number;
  statements: number | null;
  /** CPU ms per operation by class: api, workers, jit, other (of the process), postgres. */
  cpu: Record<string, number>;
}

/**
 * A probe of one process under test (`pid`) and its backends in database `db` (those whose
 * application_name is `app`), read through a connection to `adminUrl` (another database, so the
 * probe's own statements are not counted).
 */
export async function costProbe(adminUrl: string, db: string, pid: number, app: string) {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  // pg_stat_statements answers only where the server preloads it (shared_preload_libraries).
  let statementsAvailable = false;
  try {
    await sql`create extension if not exists pg_stat_statements`;
    await sql`select 1 from pg_stat_statements limit 1`;
    statementsAvailable = true;
  } catch {
    statementsAvailable = false;
  }
  const snapshot = async (): Promise<Snapshot> => {
    const [c] =
      await sql`select xact_commit::bigint as n, xact_rollback::bigint as r from pg_stat_database where datname = ${db}`;
    let statements: number | null = null;
    if (statementsAvailable) {
      const [s] = await sql`select coalesce(sum(calls), 0)::bigint as n from pg_stat_statements
        where toplevel and dbid = (select oid from pg_database where datname = ${db})`;
      statements = Number(s?.n ?? 0);
    }
    const pids = await sql`select pid from pg_stat_activity where datname = ${db} and application_name = ${app}`;
    const backends = new Map<number, number>();
    for (const r of pids) backends.set(r.pid as number, ticks(String(r.pid)));
    return {
      at: performance.now(),
      commits: Number(c?.n ?? 0),
      rollbacks: Number(c?.r ?? 0),
      statements,
      proc: threadTicks(pid),
      backends,
    };
  };
  const pgTicks = (a: Snapshot, b: Snapshot) => {
    // Backends opened during the window count whole; those closed during it are lost (rare: pools).
    let t = 0;
    for (const [p, n] of b.backends) t += n - (a.backends.get(p) ?? 0);
    return t;
  };
  const diff = (a: Snapshot, b: Snapshot) => {
    const d = (k: string) => (b.proc[k] ?? 0) - (a.proc[k] ?? 0);
    const total = d("total");
    const main = d("main");
    const workers = d("workers");
    const jit = d("jit");
    return {
      seconds: (b.at - a.at) / 1000,
      commits: b.commits - a.commits,
      rollbacks: b.rollbacks - a.rollbacks,
      statements: a.statements === null || b.statements === null ? null : b.statements - a.statements,
      cpu: { api: main, workers, jit, other: Math.max(0, total - main - workers - jit), postgres: pgTicks(a, b) },
    };
  };
  const idle = async () => {
    const a = await snapshot();
    await Bun.sleep(IDLE_SECONDS * 1000);
    return diff(a, await snapshot());
  };
  const charge = (w: ReturnType<typeof diff>, i: ReturnType<typeof diff>, ops: number): Costs => {
    const scale = i.seconds > 0 ? w.seconds / i.seconds : 0;
    const per = (x: number) => (ops > 0 ? x / ops : Number.NaN);
    const cpu: Record<string, number> = {};
    for (const k of Object.keys(w.cpu) as (keyof typeof w.cpu)[])
      cpu[k] = per(((w.cpu[k] - i.cpu[k] * scale) / CLOCK_TICKS) * 1000);
    return {
      ops,
      commits: per(w.commits - i.commits * scale),
      rollbacks: per(w.rollbacks - i.rollbacks * scale),
      statements: w.statements === null || i.statements === null ? null : per(w.statements - i.statements * scale),
      cpu,
    };
  };
  return {
    statementsAvailable,
    /** Before the run (after its warm-up): waits for the warm-up's work and counters, then reads. */
    async start(): Promise<Snapshot> {
      await quiesce(pid);
      await Bun.sleep(STATS_FLUSH_MS);
      return snapshot();
    },
    snapshot,
    /**
     * After a run that stopped: waits for the work it left (jobs) and for the counters to be
     * flushed, reads, then charges the window with what it did beyond an idle interval.
     */
    async finish(before: Snapshot, ops: number): Promise<Costs> {
      await quiesce(pid);
      await Bun.sleep(STATS_FLUSH_MS);
      const after = await snapshot();
      return charge(diff(before, after), await idle(), ops);
    },
    /**
     * A window read mid-load at both ends (steady state: as much unflushed at either end), then
     * charged as `finish` does.
     */
    async finishSteady(before: Snapshot, after: Snapshot, ops: number): Promise<Costs> {
      await quiesce(pid);
      await Bun.sleep(STATS_FLUSH_MS);
      return charge(diff(before, after), await idle(), ops);
    },
    end: () => sql.end(),
  };
}

const f = (n: number | null, d: number) => (n === null ? "n/a" : Number.isFinite(n) ? n.toFixed(d) : "n/a");

/** One line: commits, statements and CPU ms per operation. */
export function costLine(c: Costs, label = "op"): string {
  const cpu = c.cpu;
  const all = Object.values(cpu).reduce((a, b) => a + b, 0);
  return (
    `per ${label}: ${f(c.commits, 2)} commits + ${f(c.rollbacks, 2)} rollbacks, ${f(c.statements, 2)} statements` +
    `${c.statements === null ? " (pg_stat_statements not preloaded)" : ""}; CPU ms: API thread ${f(cpu.api ?? 0, 2)}, ` +
    `job workers ${f(cpu.workers ?? 0, 2)}, Bun JIT ${f(cpu.jit ?? 0, 2)}, other threads ${f(cpu.other ?? 0, 2)}, ` +
    `PostgreSQL ${f(cpu.postgres ?? 0, 2)}, all ${f(all, 2)}`
  );
}
