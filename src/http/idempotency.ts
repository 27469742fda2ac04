// Idempotency-Key (contract: POST /bookings, POST /bookings/:id/payments): a retried request with
// the same key and body gets the first answer again instead of doing the work twice.
//
// A key is claimed by inserting its row (the primary key (user, key) lets one request win), held
// by a lease while the work runs, and completed with the answer *in the work's own transaction*:
// the booking and the answer that reports it commit together or not at all. A refusal the work
// answers (a 4xx of its rules: 404, 409, 422) is the first answer too, stored and replayed; what
// is worth retrying (a 429, a 5xx, a lost connection) gives the key back. A holder that crashed
// loses the key when its lease runs out.
import { and, eq, isNull, lt, sql } from "drizzle-orm";
import { t } from "elysia";
import type { Db } from "../db/client";
import { idempotencyKeys } from "../db/schema";
import type { Deps } from "../dependencies";
import type { Handlers } from "../jobs/registry";
import type { Clock } from "../lib/clock";
import { AppError, type Problem, problem } from "./errors";
import { BearerHeader } from "./schema";

/** Keys are kept this long after their first use (the contract says at least 24 h). */
export const RETENTION_MS = 24 * 3_600_000;
/** How long a request may hold a key before another may take it over (wall clock). */
export const LEASE_SECONDS = 60;

/** The key's rule, once: 1–255 characters (the headers' schemas and GraphQL's idempotencyKey argument). */
export const KEY_LENGTH = { minLength: 1, maxLength: 255 } as const;

/** An Idempotency-Key header's schema: the key's rule, with what the operation says of it. */
export const idempotencyKeySchema = (description: string) => t.String({ ...KEY_LENGTH, description });

/** The key's rule for a key given elsewhere than the header (a GraphQL argument): 422 naming `path`. */
export function checkKey(key: string, path: string): void {
  const { minLength: min, maxLength: max } = KEY_LENGTH;
  if (key.length < min || key.length > max)
    throw new AppError(422, "validation_failed", `Field ${path} must be ${min}–${max} characters`, [
      { path, message: `must be ${min}–${max} characters` },
    ]);
}

export const IdempotencyHeaders = t.Object({
  ...BearerHeader,
  "idempotency-key": t.Optional(
    idempotencyKeySchema(
      "Makes the request safe to retry: the same key with the same body replays the first answer, a refusal (404, 409, 422) included (header Idempotent-Replayed: true); " +
        "with another body → 422 idempotency_key_reused; while the first is still running → 409 idempotency_in_progress. Scoped to the caller, kept 24 h.",
    ),
  ),
});

/** Held by the work while it runs: records the answer in the work's transaction. */
export interface IdempotencyClaim {
  /**
   * A claim made `within` the work's transaction: takes the key as that transaction's first
   * statement (the work calls it before anything else), so the key, the work and its answer
   * commit together — one commit where a claim of its own took two more. Throws the 422 of a
   * reused key, the 409 of a key another holds, or a `Replayed` (the first answer; the work's
   * transaction rolls back and the caller gets that answer). A no-op for a claim taken before.
   */
  take(tx: Db): Promise<void>;
  complete(tx: Db, body: unknown): Promise<void>;
}

/** Thrown by `take` when the key holds an answer already: the work stops, the answer is replayed. */
export class Replayed extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super("replayed");
  }
}

/** An operation run under Idempotency-Keys: REST's route and GraphQL's mutation for it share them. */
export interface IdempotentOperation {
  /** Its name, e.g. "POST /bookings" (stored with each key): a key used for another one is a reused key. */
  readonly route: string;
  /** The status of the answer the work's result is sent with (and stored with). */
  readonly status: number;
}

export interface IdempotentRequest {
  userId: string;
  operation: IdempotentOperation;
  /** The Idempotency-Key; without one the work simply runs. */
  key: string | undefined;
  /** What the caller asked (path parameters and body): the same key with another request is refused. */
  request: unknown;
  /** The first request's id: a stored refusal carries it, as its answer did. */
  requestId?: string;
}

/** What an idempotent operation answers: the work's own result, or the first answer stored under the key. */
export type IdempotentAnswer<T> =
  | { replayed: false; status: number; body: T }
  | { replayed: true; status: number; json: string };

/** JSON with object keys sorted: the same request in any key order has one fingerprint. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** What identifies a request under its key: the operation and what was asked, in canonical form. */
export const fingerprint = (route: string, request: unknown): string =>
  new Bun.CryptoHasher("sha256").update(`${route}\n${canonicalJson(request)}`).digest("base64url");

type Claimed = { kind: "claimed"; token: string } | { kind: "replay"; status: number; body: string };

const reused = () =>
  new AppError(
    422,
    "idempotency_key_reused",
    "This Idempotency-Key was used for a different request; use a new key for a new request",
    [{ path: "/headers/idempotency-key", message: "was used with another request" }],
  );
const inProgress = () =>
  new AppError(
    409,
    "idempotency_in_progress",
    "A request with this Idempotency-Key is still being processed; retry shortly",
    undefined,
    { "retry-after": "1" },
  );

/**
 * Takes the key in `db` (the root handle: a commit of its own; or the work's transaction). In a
 * transaction, an insert racing another transaction's uncommitted claim of the key waits for it:
 * its answer is then replayed (or, rolled back, the key is ours).
 */
async function claim(
  db: Db,
  clock: Clock,
  r: IdempotentRequest & { key: string },
  token = Bun.randomUUIDv7(),
): Promise<Claimed> {
  const { route } = r.operation;
  const hash = fingerprint(route, r.request);
  const now = clock.now();
  const where = and(eq(idempotencyKeys.userId, r.userId), eq(idempotencyKeys.key, r.key));
  // A key released between our insert and our read is simply claimed on the next turn.
  for (let turn = 0; turn < 3; turn++) {
    const lease = sql`now() + make_interval(secs => ${LEASE_SECONDS})`;
    const [inserted] = await db
      .insert(idempotencyKeys)
      .values({
        userId: r.userId,
        key: r.key,
        route,
        requestHash: hash,
        leaseToken: token,
        leaseUntil: lease,
        createdAt: now,
        expiresAt: new Date(now.getTime() + RETENTION_MS),
      })
      .onConflictDoNothing()
      .returning({ token: idempotencyKeys.leaseToken });
    if (inserted) return { kind: "claimed", token };
    const [row] = await db.select().from(idempotencyKeys).where(where);
    if (!row) continue;
    if (row.route !== route || row.requestHash !== hash) throw reused();
    if (row.responseStatus !== null && row.responseBody !== null)
      return { kind: "replay", status: row.responseStatus, body: row.responseBody };
    // Still in flight; unless its holder's lease ran out (it crashed, or runs past LEASE_SECONDS),
    // it is not ours to run.
    const [taken] = await db
      .update(idempotencyKeys)
      .set({ leaseToken: token, leaseUntil: lease })
      .where(and(where, isNull(idempotencyKeys.responseStatus), lt(idempotencyKeys.leaseUntil, sql`now()`)))
      .returning({ token: idempotencyKeys.leaseToken });
    if (taken) return { kind: "claimed", token };
    throw inProgress();
  }
  throw inProgress();
}

/**
 * Runs `work` at most once per (caller, key): the first time its result is the answer (and is
 * stored by the claim's `complete`, which `work` must call in its transaction); a retry gets the
 * stored answer (status and JSON) back instead, a refusal's included. Each transport renders it:
 * `restAnswer`, `answerValue`.
 */
export async function idempotent<T>(
  deps: Deps,
  r: IdempotentRequest,
  work: (claim: IdempotencyClaim | null) => Promise<T>,
  options: { within?: boolean } = {},
): Promise<IdempotentAnswer<T>> {
  const { status } = r.operation;
  if (r.key === undefined) return { replayed: false, status, body: await work(null) };
  const request = { ...r, key: r.key };
  // `within`: the key is taken by the work's transaction (`take`), not by a commit of its own first.
  const token = Bun.randomUUIDv7();
  let taken = false;
  if (!options.within) {
    const claimed = await claim(deps.db, deps.clock, request, token);
    if (claimed.kind === "replay") return { replayed: true, status: claimed.status, json: claimed.body };
    taken = true;
  }
  const where = and(
    eq(idempotencyKeys.userId, r.userId),
    eq(idempotencyKeys.key, request.key),
    eq(idempotencyKeys.leaseToken, token),
  );
  let completed = false;
  const handle: IdempotencyClaim = {
    async take(tx) {
      if (taken) return;
      const claimed = await claim(tx, deps.clock, request, token);
      if (claimed.kind === "replay") throw new Replayed(claimed.status, claimed.body);
      taken = true;
    },
    async complete(tx, body) {
      const [done] = await tx
        .update(idempotencyKeys)
        .set({ responseStatus: status, responseBody: JSON.stringify(body), leaseToken: null, leaseUntil: null })
        .where(where)
        .returning({ key: idempotencyKeys.key });
      // The lease ran out and another request took the key over: this work must not commit.
      if (!done) throw inProgress();
      completed = true;
    },
  };
  try {
    const result = await work(handle);
    if (!completed) throw new Error("idempotent work finished without recording its answer");
    return { replayed: false, status, body: result };
  } catch (err) {
    if (err instanceof Replayed) return { replayed: true, status: err.status, json: err.body };
    // Refused before the key was ours (reused, held by another): nothing of ours to record.
    if (!taken) throw err;
    if (isFinalRefusal(err)) {
      // The rules said no: that is the answer this key gets from now on.
      const body = problem(err.status, err.code, err.detail, err.errors, r.requestId);
      const answer = {
        responseStatus: err.status,
        responseBody: JSON.stringify(body),
        leaseToken: null,
        leaseUntil: null,
      };
      if (options.within) {
        // The key was taken in the work's transaction: kept if it committed, gone if it rolled back.
        const now = deps.clock.now();
        await deps.db
          .insert(idempotencyKeys)
          .values({
            userId: r.userId,
            key: request.key,
            route: r.operation.route,
            requestHash: fingerprint(r.operation.route, r.request),
            ...answer,
            createdAt: now,
            expiresAt: new Date(now.getTime() + RETENTION_MS),
          })
          .onConflictDoUpdate({
            target: [idempotencyKeys.userId, idempotencyKeys.key],
            set: answer,
            setWhere: eq(idempotencyKeys.leaseToken, token),
          })
          .catch(() => {});
      } else
        await deps.db
          .update(idempotencyKeys)
          .set(answer)
          .where(where)
          .catch(() => {});
    } else {
      // Nothing was done: the key is free again for a retry (a failure to say so ends with the lease).
      await deps.db
        .delete(idempotencyKeys)
        .where(where)
        .catch(() => {});
    }
    throw err;
  }
}

/**
 * REST's rendering: the work's result (the route answers it with the operation's status), or the
 * stored answer's bytes as first sent, marked `Idempotent-Replayed: true`.
 */
export function restAnswer<T>(answer: IdempotentAnswer<T>): T | Response {
  if (!answer.replayed) return answer.body;
  const type = answer.status >= 400 ? "application/problem+json" : "application/json;charset=utf-8";
  return new Response(answer.json, {
    status: answer.status,
    headers: { "content-type": type, "idempotent-replayed": "true" },
  });
}

/** The answer as a value (GraphQL's): the result, the stored one, or a stored refusal thrown again as its AppError. */
export function answerValue<T>(answer: IdempotentAnswer<T>): T {
  if (!answer.replayed) return answer.body;
  // A stored refusal is a Problem this service rendered: its status and code are the catalog's.
  const body = JSON.parse(answer.json) as T & Partial<Pick<Problem, "code" | "detail" | "errors">>;
  if (answer.status >= 400)
    throw new AppError(answer.status as Problem["status"], body.code ?? "internal", body.detail ?? "", body.errors);
  return body;
}

/** Refusals that the caller can lift without changing the request: a retry with the same key must be tried again. */
const LIFTABLE = new Set(["idempotency_in_progress", "email_unverified"]);

/** A refusal by the work's own rules, which a retry of the same request would meet again. */
function isFinalRefusal(err: unknown): err is AppError {
  return (
    err instanceof AppError && err.status >= 400 && err.status < 500 && err.status !== 429 && !LIFTABLE.has(err.code)
  );
}

/** The recurring cleanup: keys past their retention (by the service clock) are forgotten. */
export async function forgetExpiredKeys(deps: { db: Db; clock: Clock }): Promise<number> {
  const gone = await deps.db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.expiresAt, deps.clock.now()))
    .returning({ key: idempotencyKeys.key });
  return gone.length;
}

export const idempotencyHandlers: Handlers = {
  "idempotency.cleanup": async (_job, deps) => {
    const n = await forgetExpiredKeys(deps);
    if (n) deps.log.info("idempotency keys past retention forgotten", { count: n });
  },
};
