// CLI: serve | worker | migrate | seed | admin | jobs | payments | webhook — parses argv and hands over; nothing else.

import { parseArgs } from "node:util";
import { createApp, VERSION } from "./app";
import { onChange } from "./cache/invalidation";
import { closeDeps, createDeps, type Deps } from "./compose";
import { type Config, ConfigError, loadConfig } from "./config";
import { migrate } from "./db/migrate";
import { DEMO_PASSWORD, seed } from "./db/seed";
import { closeBookingFeed } from "./graphql/live";
import { isRfc3339Instant } from "./http/schema";
import { listDeadJobs, retryDeadJob } from "./jobs/dead-letters";
import { startJobs } from "./jobs/runner";
import { systemClock } from "./lib/clock";
import { isIsoDay } from "./lib/dates";
import { settlesWithin } from "./lib/deadline";
import { checkLedger } from "./modules/ledger/check";
import { runPayouts, sendPayout } from "./modules/ledger/payouts";
import { payoutsById, toPayoutDto } from "./modules/ledger/service";
import { signWebhook } from "./modules/payments/provider";
import { reconcileAndRecord } from "./modules/payments/reconcile";
import { createAdmin } from "./modules/users/admin-cli";

const HELP = `stayhub ${VERSION} — the backend of a stays marketplace

Usage: stayhub [command] [options]

Commands:
  serve                      API + job workers (the default command)
  worker                     job workers only (to scale them on other machines)
  migrate                    apply database migrations and exit
  seed [--properties N]      demo data
  admin create --email E     make E an admin (creates the account if needed;
           [--name N] [--password P]   prints a generated password once)
  jobs [dead]                list dead-letter jobs (JSON lines)
  jobs retry <id>            send a dead-letter job back for another round of attempts
  payments reconcile [--since DATE]
                             compare our payments with the provider's ledger: each mismatch
                             as a JSON line; exit 0 when clean, 1 otherwise
  ledger check               every ledger transaction balanced, every capture, refund and payout
                             in it once, clearing against the provider's books: each problem
                             as a JSON line; exit 0 when clean, 1 otherwise
  payouts run                pay every host's available balance (at or above PAYOUT_MINIMUM)
                             now; prints each payout made as a JSON line
  webhook sign [--secret S] [--timestamp T] < event.json
                             print the Payment-Signature header for a webhook body (the secret
                             defaults to PAYMENT_WEBHOOK_SECRET, the timestamp to now)
  healthcheck                exit 0 if the service on PORT answers /health (for HEALTHCHECK)
  help, --help               this text
  version, --version         the version

Configuration is read from the environment (PORT, DATABASE_URL, REDIS_URL, DATA_DIR,
JWT_SECRET, WORKER_THREADS, PAYMENT_WEBHOOK_SECRET, LOG_LEVEL, SMTP_URL, TEST_CLOCK …).
Without DATABASE_URL an embedded PostgreSQL keeps its data in DATA_DIR (default ./data);
without REDIS_URL jobs and cache run in-process. See README.md for the full table.`;

function fail(message: string, code = 1): never {
  process.stderr.write(`stayhub: ${message}\n`);
  process.exit(code);
}

async function withDeps<T>(config: Config, fn: (deps: Deps) => Promise<T>): Promise<T> {
  const deps = await createDeps(config);
  try {
    await migrate(deps.database, (m) => deps.log.info(m));
    return await fn(deps);
  } finally {
    await closeDeps(deps);
  }
}

async function serve(config: Config): Promise<void> {
  const started = performance.now();
  const deps = await createDeps(config);
  await migrate(deps.database, (m) => deps.log.info(m));
  // The jobs first: /ready (and the test clock's route) answer only once every worker thread runs
  // and listens for the test clock.
  const jobs = await startJobs(deps);
  const app = createApp(deps).listen({ port: config.port, hostname: config.host });
  deps.log.info("listening", {
    url: `http://${config.host}:${config.port}`,
    database: deps.database.kind,
    redis: deps.redis ? "redis" : "in-process",
    jobs: jobs.transport,
    startupMs: Math.round(performance.now() - started),
  });

  onShutdown(deps, async (phase, remainingMs) => {
    // Stop accepting; in-flight requests finish before the promise settles — within half the
    // shutdown budget, after which the stragglers are cut off so a stuck client cannot hold us.
    phase("finishing in-flight requests");
    // Live subscriptions never finish on their own: their streams are completed first.
    await closeBookingFeed(deps.database, deps.log);
    const grace = Math.min(10_000, config.shutdownTimeoutMs / 2);
    if (!(await settlesWithin(app.server?.stop(false), grace))) {
      deps.log.warn(`in-flight requests still open after ${grace} ms; closing them`);
      await app.server?.stop(true);
    }
    // Then the jobs: the relay stops, each worker finishes (or hands back) the job in hand.
    phase("stopping the job workers");
    // What is left of the budget, less a margin for closing the connections after.
    await jobs.stop(Math.max(100, remainingMs() - 1_000));
  });
}

/**
 * On SIGTERM/SIGINT (once): run `stop`, close the dependencies, exit 0 — all within
 * SHUTDOWN_TIMEOUT_MS whatever the dependencies do (a dropped database, a Redis that never
 * answers): past it the process logs what it was waiting for and exits 1.
 */
function onShutdown(
  deps: Deps,
  stop: (phase: (what: string) => void, remainingMs: () => number) => Promise<void>,
): void {
  let stopping = false;
  let current = "starting to stop";
  const phase = (what: string) => {
    current = what;
  };
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const timeout = deps.config.shutdownTimeoutMs;
    const deadline = performance.now() + timeout;
    deps.log.info("shutting down", { signal, timeoutMs: timeout });
    setTimeout(() => {
      deps.log.error("shutdown did not finish in time; exiting anyway", { timeoutMs: timeout, gaveUpOn: current });
      deps.log.flush();
      process.exit(1);
    }, timeout);
    try {
      await stop(phase, () => deadline - performance.now());
      phase("closing the database and Redis connections");
      await closeDeps(deps);
    } catch (err) {
      deps.log.error("shutdown failed", { error: (err as Error).message, during: current });
      deps.log.flush();
      process.exit(1);
    }
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

/** `stayhub worker`: job workers (and the relay and scheduler) without the HTTP API. */
async function worker(config: Config): Promise<void> {
  const deps = await createDeps(config);
  await migrate(deps.database, (m) => deps.log.info(m));
  const jobs = await startJobs(deps);
  deps.log.info("worker running", { jobs: jobs.transport, threads: jobs.pool?.threads.length ?? 0 });
  onShutdown(deps, async (phase, remainingMs) => {
    phase("stopping the job workers");
    await jobs.stop(Math.max(100, remainingMs() - 1_000));
  });
}

/** `stayhub jobs dead` lists dead letters; `stayhub jobs retry <id>` sends one back. */
async function jobsCommand(config: Config, sub: string | undefined, id: string | undefined): Promise<void> {
  await withDeps(config, async (deps) => {
    if (sub === "dead" || sub === undefined) {
      const dead = await listDeadJobs(deps);
      for (const d of dead) console.log(JSON.stringify(d));
      if (dead.length === 0) console.error("no dead letters");
      return;
    }
    if (sub === "retry" && id) {
      if (!(await retryDeadJob(deps, id))) fail(`no dead letter with id ${id}`);
      console.log(`job ${id} sent back for another round of attempts`);
      return;
    }
    fail("usage: stayhub jobs [dead] | stayhub jobs retry <id>", 2);
  });
}

/** `stayhub payments reconcile [--since DATE]`: mismatches as JSON lines; exit 1 when there are any. */
async function paymentsCommand(config: Config, sub: string | undefined, since: string | undefined): Promise<void> {
  if (sub !== "reconcile") fail("usage: stayhub payments reconcile [--since DATE]", 2);
  const from =
    since === undefined
      ? undefined
      : isIsoDay(since)
        ? new Date(`${since}T00:00:00Z`)
        : isRfc3339Instant(since)
          ? new Date(since)
          : null;
  if (from === null) fail(`--since must be a date (YYYY-MM-DD) or an RFC 3339 instant, got "${since}"`, 2);
  const found = await withDeps(config, (deps) => reconcileAndRecord(deps.db, deps.payments, { since: from }));
  for (const m of found) console.log(JSON.stringify(m));
  console.error(
    found.length
      ? `${found.length} mismatch(es) between our payments and the provider's ledger`
      : "payments reconcile: clean",
  );
  if (found.length) process.exit(1);
}

/** `stayhub ledger check`: problems as JSON lines; exit 1 when there are any. */
async function ledgerCommand(config: Config, sub: string | undefined): Promise<void> {
  if (sub !== "check") fail("usage: stayhub ledger check", 2);
  const t0 = performance.now();
  const found = await withDeps(config, (deps) => checkLedger(deps.db, deps.payments));
  for (const p of found) console.log(JSON.stringify(p));
  const ms = Math.round(performance.now() - t0);
  console.error(found.length ? `${found.length} ledger problem(s) (${ms} ms)` : `ledger check: clean (${ms} ms)`);
  if (found.length) process.exit(1);
}

/** `stayhub payouts run`: the payout run now; each payout made is sent before the command ends. */
async function payoutsCommand(config: Config, sub: string | undefined): Promise<void> {
  if (sub !== "run") fail("usage: stayhub payouts run", 2);
  await withDeps(config, async (deps) => {
    const t0 = performance.now();
    const made = await runPayouts(deps);
    const madeMs = performance.now() - t0;
    // Sent from here, 16 at a time (each payout's job sends it too, with the same key: whichever
    // asks first, the provider pays once).
    let next = 0;
    const sender = async () => {
      while (next < made.length) {
        const p = made[next++] as (typeof made)[number];
        await sendPayout(deps, p.id).catch((err: Error) =>
          deps.log.warn("payout left to its job", { payoutId: p.id, error: err.message }),
        );
        const [now] = await payoutsById(deps.db, [p.id]);
        console.log(JSON.stringify(toPayoutDto(now ?? p)));
      }
    };
    await Promise.all(Array.from({ length: 16 }, sender));
    console.error(
      `payouts run: ${made.length} payout(s) made in ${Math.round(madeMs)} ms, sent in ${Math.round(performance.now() - t0 - madeMs)} ms`,
    );
  });
}

/** `stayhub webhook sign`: the Payment-Signature header of the body on stdin. */
async function webhookCommand(sub: string | undefined, values: { secret?: string; timestamp?: string }): Promise<void> {
  if (sub !== "sign") fail("usage: stayhub webhook sign [--secret S] [--timestamp T] < event.json", 2);
  const secret = values.secret ?? process.env.PAYMENT_WEBHOOK_SECRET;
  if (!secret) fail("webhook sign needs --secret S (or PAYMENT_WEBHOOK_SECRET)", 2);
  const t = values.timestamp === undefined ? Math.floor(systemClock.now().getTime() / 1000) : Number(values.timestamp);
  if (!Number.isInteger(t) || t < 0) fail(`--timestamp must be unix seconds, got "${values.timestamp}"`, 2);
  const body = new Uint8Array(await Bun.stdin.arrayBuffer());
  if (body.byteLength === 0) fail("webhook sign reads the event's JSON body on stdin; got nothing", 2);
  console.log(signWebhook(secret, body, t));
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
      email: { type: "string" },
      name: { type: "string" },
      password: { type: "string" },
      properties: { type: "string" },
      since: { type: "string" },
      secret: { type: "string" },
      timestamp: { type: "string" },
    },
  });
  const [command = "serve", sub] = positionals;
  if (values.help || command === "help") return void console.log(HELP);
  if (values.version || command === "version") return void console.log(VERSION);

  // Needs no configuration (nor a database): an operator's or a test's tool.
  if (command === "webhook") return webhookCommand(sub, values);

  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }

  switch (command) {
    case "healthcheck": {
      const ok = await fetch(`http://127.0.0.1:${config.port}/health`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      return process.exit(ok ? 0 : 1);
    }
    case "serve":
      return serve(config);
    case "migrate":
      return withDeps(config, async (deps) => deps.log.info("migrations are up to date"));
    case "admin": {
      if (sub !== "create" || !values.email) fail("usage: stayhub admin create --email E [--name N] [--password P]", 2);
      const result = await withDeps(config, (deps) =>
        createAdmin({ email: values.email as string, name: values.name, password: values.password }, deps),
      );
      console.log(result.created ? `created admin ${result.email}` : `${result.email} is now an admin`);
      if (result.password) console.log(`password (shown once): ${result.password}`);
      return;
    }
    case "seed": {
      const count = Number(values.properties ?? 1000);
      if (!Number.isInteger(count) || count < 1 || count > 1_000_000)
        fail(`--properties must be an integer 1–1000000, got "${values.properties}"`, 2);
      await withDeps(config, async (deps) => {
        const result = await seed(deps.db, {
          properties: count,
          passwordHash: await deps.passwords.hash(DEMO_PASSWORD),
          now: deps.clock.now(),
          progress: (line) => process.stderr.write(`${line}\n`),
        });
        await onChange(deps, { kind: "catalog.seeded" });
        console.log(JSON.stringify(result));
      });
      return;
    }
    case "worker":
      return worker(config);
    case "jobs":
      return jobsCommand(config, sub, positionals[2]);
    case "payments":
      return paymentsCommand(config, sub, values.since);
    case "ledger":
      return ledgerCommand(config, sub);
    case "payouts":
      return payoutsCommand(config, sub);
    default:
      fail(`unknown command "${command}"\n\n${HELP}`, 2);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof Error && (err as NodeJS.ErrnoException).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION")
    fail(err.message, 2);
  fail(err instanceof Error ? err.message : String(err));
});
