// Revocation against requests already in flight: a login or a refresh that began before a password
// change, suspension, deletion or logout-everywhere committed must not come out of it with a
// session that still works, and a subscription being opened meanwhile must end like an open one.
// Each race is forced: a lock held by the test stops the request at the step where it can be
// overtaken, the revocation commits, and the request is let go.
import { beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { bookingFeed } from "../../src/graphql/live";
import { revokeAllSessions } from "../../src/modules/auth/sessions";
import { lockBookingsOf } from "../../src/modules/bookings/service";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { book, onTestClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";

const NOW = "2031-06-01T09:00:00.000Z";
let t: TestApp;
let property: { id: string };

beforeAll(async () => {
  t = await startTestApp({ MAX_PENDING_BOOKINGS: "1000" });
  const host = await registerHost(t.call, "Rita Race");
  property = await createListing(t.call, host, { title: "Race loft" });
}, 60_000);
onTestClock(() => t, NOW);

const api = (path: string) => `/api/v1${path}`;

/** Waits until some other backend of this database waits on a lock (the request is held). */
async function untilSomeoneWaits(): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const [row] = (await t.deps.db.execute(
      sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
    )) as unknown as { n: number }[];
    if ((row?.n ?? 0) > 0) return;
    await Bun.sleep(20);
  }
  throw new Error("no request waited on the lock");
}

/**
 * Runs `request` while `lock` is held in a transaction; once the request waits on it, every
 * session of `userId` is revoked in that same transaction (as a password change does), which then
 * commits and lets the request go on.
 */
async function revokeDuring<T>(lock: string, userId: string, request: () => Promise<T>): Promise<T> {
  let pending: Promise<T> | undefined;
  await t.deps.db.transaction(async (tx) => {
    await tx.execute(sql.raw(lock));
    pending = request();
    await untilSomeoneWaits();
    await revokeAllSessions(tx, userId);
  });
  return pending as Promise<T>;
}

/** Whether this pair still gets anyone in: the access token reads /users/me, or the refresh token refreshes. */
async function stillWorks(pair: { accessToken: string; refreshToken: string }) {
  const me = await t.call("GET", api("/users/me"), { token: pair.accessToken });
  const refreshed = await t.call("POST", api("/auth/refresh"), { body: { refreshToken: pair.refreshToken } });
  return { accessToken: me.status, refreshToken: refreshed.status };
}

const DEAD = { accessToken: 401, refreshToken: 401 };

describe("a request in flight when the sessions are revoked gets no session that outlives it", () => {
  test("a login whose password was checked before the revocation committed", async () => {
    const u = await registerUser(t.call);
    // The login has read the user and checks the password; meanwhile the sessions are revoked.
    const passwords = t.deps.passwords;
    const verify = passwords.verify;
    passwords.verify = async (password, hash) => {
      const ok = await verify.call(passwords, password, hash);
      await t.deps.db.transaction((tx) => revokeAllSessions(tx, u.id));
      return ok;
    };
    let res: Awaited<ReturnType<typeof t.call<{ accessToken: string; refreshToken: string }>>>;
    try {
      res = await t.call<{ accessToken: string; refreshToken: string }>("POST", api("/auth/login"), {
        body: { email: u.email, password: u.password },
      });
    } finally {
      passwords.verify = verify;
    }
    if (res.status === 200) expect(await stillWorks(res.body)).toEqual(DEAD);
    else expect(res.status).toBe(401);
  });

  test("a refresh that spent its token before the revocation and read the user after it", async () => {
    const u = await registerUser(t.call);
    // The refresh spends its token, then waits to read the user row.
    const res = await revokeDuring("lock table users in access exclusive mode", u.id, () =>
      t.call<{ accessToken: string; refreshToken: string }>("POST", api("/auth/refresh"), {
        body: { refreshToken: u.refreshToken },
      }),
    );
    if (res.status === 200) expect(await stillWorks(res.body)).toEqual(DEAD);
    else expect(res.status).toBe(401);
  });
});

describe("a booking whose caller was read before the revocation committed", () => {
  test("is 401 and books nothing: the booking function checks the session under the guest's row lock", async () => {
    const u = await registerUser(t.call);
    let pending: Promise<{ status: number; body: { code?: string } }> | undefined;
    // The property's booking turn is held: the request has read its caller and waits in the
    // booking function; meanwhile every session of the guest is revoked and commits.
    await t.deps.db.transaction(async (tx) => {
      await lockBookingsOf(tx, [property.id]);
      pending = book(t.call, u, { propertyId: property.id, checkIn: "2031-08-01", checkOut: "2031-08-03" });
      await untilSomeoneWaits();
      await revokeAllSessions(tx, u.id);
    });
    const res = await (pending as Promise<{ status: number; body: { code?: string } }>);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("unauthenticated");
    const [row] = (await t.deps.db.execute(
      sql`select count(*)::int as n from bookings where guest_id = ${u.id}`,
    )) as unknown as { n: number }[];
    expect(row?.n).toBe(0);
  });
});

describe("a bookingUpdated subscription being opened when the sessions are revoked", () => {
  test("ends like one already open, not at the booking's next change", async () => {
    const u: Registered = await registerUser(t.call);
    const booked = await book(t.call, u, { propertyId: property.id, checkIn: "2031-07-01", checkOut: "2031-07-03" });
    expect(booked.status).toBe(201);
    // The revocation commits after the token was checked, before the feed knows the subscriber.
    const feed = bookingFeed(t.deps.database, t.deps.log);
    const subscribe = feed.subscribe.bind(feed);
    feed.subscribe = async (bookingId, userId) => {
      await t.deps.db.transaction((tx) => revokeAllSessions(tx, userId));
      await Bun.sleep(200); // its NOTIFY is delivered, to nobody yet
      return subscribe(bookingId, userId);
    };
    let text = "";
    try {
      const res = await t.app.handle(
        new Request("http://localhost/graphql", {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "text/event-stream",
            authorization: `Bearer ${u.accessToken}`,
          },
          body: JSON.stringify({
            query: "subscription($id: ID!) { bookingUpdated(id: $id) { id status } }",
            variables: { id: booked.body.id },
          }),
        }),
      );
      // The stream subscribes as it is read.
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const deadline = Date.now() + 3_000;
      while (!text.includes("event: complete") && Date.now() < deadline) {
        const chunk = await Promise.race([
          reader.read(),
          Bun.sleep(Math.max(1, deadline - Date.now())).then(() => null),
        ]);
        if (!chunk || chunk.done) break;
        text += new TextDecoder().decode(chunk.value);
      }
      await reader.cancel().catch(() => {});
    } finally {
      feed.subscribe = subscribe;
    }
    expect(text).not.toContain('"status":"pending_payment"');
    expect(text).toContain('"code":"unauthenticated"');
    expect(text).toContain("event: complete");
  });
});
