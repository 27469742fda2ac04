// The Idempotency-Key mechanism on its own (src/http/idempotency.ts), with a counted piece of work
// in place of a booking: at most one run per (caller, key), the first answer replayed, leases.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { AppError } from "../../src/http/errors";
import {
  canonicalJson,
  fingerprint,
  forgetExpiredKeys,
  type IdempotencyClaim,
  type IdempotentRequest,
  idempotent,
  restAnswer,
} from "../../src/http/idempotency";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { setClock } from "../support/bookings";
import { databaseUrl } from "../support/services";

let t: TestApp;
let alice: Registered;
let bob: Registered;
beforeAll(async () => {
  t = await startTestApp();
  await setClock(t.call, "2031-06-01T09:00:00Z");
  [alice, bob] = await Promise.all([registerUser(t.call), registerUser(t.call)]);
}, 60_000);
afterAll(() => t?.close());

let runs = 0;
/** Work that counts its runs and records its answer in its own transaction, like a verb. */
const work =
  (options: { ms?: number; fail?: boolean } = {}) =>
  async (claim: IdempotencyClaim | null) =>
    t.deps.db.transaction(async (tx) => {
      await tx.execute(sql`select 1`);
      if (options.ms) await Bun.sleep(options.ms);
      if (options.fail) throw new AppError(409, "dates_unavailable", "taken");
      const answer = { run: ++runs, at: "x" };
      await claim?.complete(tx, answer);
      return answer;
    });
const THINGS = { route: "POST /things", status: 201 };
const request = (user: Registered, key: string | undefined, body: unknown = { a: 1 }): IdempotentRequest => ({
  userId: user.id,
  operation: THINGS,
  key,
  request: body,
});
/** As a REST route answers: the work's result, or the stored answer as a Response. */
const idempotently = async <T>(
  deps: TestApp["deps"],
  r: IdempotentRequest,
  w: (claim: IdempotencyClaim | null) => Promise<T>,
): Promise<T | Response> => restAnswer(await idempotent(deps, r, w));
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: unknown) => (e instanceof AppError ? e.code : String(e)),
  );

describe("idempotently", () => {
  test("without a key the work simply runs, each time", async () => {
    const before = runs;
    await idempotently(t.deps, request(alice, undefined), work());
    await idempotently(t.deps, request(alice, undefined), work());
    expect(runs - before).toBe(2);
  });

  test("same key, same request: one run; the retry gets the stored answer as a replayed Response", async () => {
    const first = await idempotently(t.deps, request(alice, "k-replay", { a: 1, b: [1, 2] }), work());
    expect(first).toEqual({ run: runs, at: "x" });
    const again = await idempotently(t.deps, request(alice, "k-replay", { b: [1, 2], a: 1 }), work());
    expect(again).toBeInstanceOf(Response);
    const res = again as Response;
    expect(res.status).toBe(201);
    expect(res.headers.get("idempotent-replayed")).toBe("true");
    expect(await res.text()).toBe(JSON.stringify(first));
  });

  test("same key, another request or another route → 422 idempotency_key_reused; another caller's key is theirs", async () => {
    await idempotently(t.deps, request(alice, "k-reuse"), work());
    expect(await codeOf(idempotently(t.deps, request(alice, "k-reuse", { a: 2 }), work()))).toBe(
      "idempotency_key_reused",
    );
    expect(
      await codeOf(
        idempotently(t.deps, { ...request(alice, "k-reuse"), operation: { ...THINGS, route: "POST /other" } }, work()),
      ),
    ).toBe("idempotency_key_reused");
    const before = runs;
    expect(await idempotently(t.deps, request(bob, "k-reuse"), work())).toEqual({ run: before + 1, at: "x" });
  });

  test("concurrent requests with one key: one run; the others get 409 idempotency_in_progress or the replay", async () => {
    const before = runs;
    const outcomes = await Promise.all(
      [0, 1, 2, 3].map(() =>
        idempotently(t.deps, request(alice, "k-race"), work({ ms: 150 })).then(
          (v) => (v instanceof Response ? "replay" : "ran"),
          (e: AppError) => e.code,
        ),
      ),
    );
    expect(runs - before).toBe(1);
    expect(outcomes.filter((o) => o === "ran")).toHaveLength(1);
    for (const o of outcomes.filter((x) => x !== "ran")) expect(["idempotency_in_progress", "replay"]).toContain(o);
  });

  test("a refusal by the work's rules is stored and replayed; a failure worth retrying frees the key", async () => {
    expect(await codeOf(idempotently(t.deps, request(alice, "k-fail"), work({ fail: true })))).toBe(
      "dates_unavailable",
    );
    const replay = (await idempotently(t.deps, request(alice, "k-fail"), work())) as Response;
    expect({
      status: replay.status,
      type: replay.headers.get("content-type"),
      replayed: replay.headers.get("idempotent-replayed"),
    }).toEqual({
      status: 409,
      type: "application/problem+json",
      replayed: "true",
    });
    expect(await replay.json()).toMatchObject({ status: 409, code: "dates_unavailable", detail: "taken" });
    // A crash of the work (a 500) and a 429 are worth retrying: the key is free again.
    for (const [key, error] of [
      ["k-500", new Error("boom")],
      ["k-429", new AppError(429, "too_many_holds", "later")],
    ] as const) {
      const failing = () =>
        t.deps.db.transaction(async () => {
          throw error;
        });
      expect(await codeOf(idempotently(t.deps, request(alice, key), failing))).not.toBe("ok");
      const before = runs;
      expect(await idempotently(t.deps, request(alice, key), work())).toEqual({ run: before + 1, at: "x" });
    }
  });

  test("a holder that crashed (its lease ran out) loses the key", async () => {
    // A crash: the row is there, in flight — first with its lease still running, then over.
    await t.deps.database.raw.query(
      `insert into idempotency_keys (user_id, key, route, request_hash, lease_token, lease_until, created_at, expires_at)
       values ($1, 'k-crash', 'POST /things', $2, gen_random_uuid(), now() + interval '30 seconds', now(), now() + interval '1 day')`,
      [alice.id, fingerprint("POST /things", { a: 1 })],
    );
    expect(await codeOf(idempotently(t.deps, request(alice, "k-crash"), work()))).toBe("idempotency_in_progress");
    await t.deps.database.raw.query(
      "update idempotency_keys set lease_until = now() - interval '1 second' where key = 'k-crash'",
    );
    const taken = runs;
    expect(await idempotently(t.deps, request(alice, "k-crash"), work())).toEqual({ run: taken + 1, at: "x" });
    expect(await idempotently(t.deps, request(alice, "k-crash"), work())).toBeInstanceOf(Response);
  });

  // Needs two connections at once (the embedded database has one session).
  const onPostgres = databaseUrl ? test : () => {};
  onPostgres("a holder whose lease was taken over cannot commit: of the two, one answer is stored", async () => {
    const before = runs;
    const slow = idempotently(t.deps, request(alice, "k-taken"), work({ ms: 300 }));
    await Bun.sleep(50);
    await t.deps.database.raw.query(
      "update idempotency_keys set lease_until = now() - interval '1 second' where key = 'k-taken'",
    );
    const second = await idempotently(t.deps, request(alice, "k-taken"), work());
    expect(second).toEqual({ run: expect.any(Number), at: "x" });
    expect(await codeOf(slow)).toBe("idempotency_in_progress");
    // The slow one's run rolled back with its transaction: only the second's answer is stored.
    const [row] = await t.deps.database.raw.query("select response_body from idempotency_keys where key = 'k-taken'");
    expect(JSON.parse(row?.response_body as string)).toEqual(second);
    expect(runs - before).toBe(2);
  });

  test("keys are kept 24 h by the service clock, then the cleanup job forgets them", async () => {
    await setClock(t.call, "2031-07-01T00:00:00Z");
    await idempotently(t.deps, request(alice, "k-old"), work());
    await setClock(t.call, "2031-07-01T23:59:59Z");
    await forgetExpiredKeys(t.deps);
    expect(await t.deps.database.raw.query("select 1 from idempotency_keys where key = 'k-old'")).toHaveLength(1);
    await setClock(t.call, "2031-07-02T00:00:01Z");
    const cleanup = t.deps.handlers["idempotency.cleanup"];
    await cleanup?.(
      { id: "c", type: "idempotency.cleanup", attempt: 1, enqueuedAt: Date.now(), payload: { slot: 1 } },
      t.deps,
    );
    expect(await t.deps.database.raw.query("select 1 from idempotency_keys where key = 'k-old'")).toHaveLength(0);
    await setClock(t.call, "2031-06-01T09:00:00Z");
  });

  test("canonicalJson: key order does not matter, values do", () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: null }] })).toBe('{"a":[{"c":null,"d":2}],"b":1}');
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson({ a: "1" })).not.toBe(canonicalJson({ a: 1 }));
  });
});
