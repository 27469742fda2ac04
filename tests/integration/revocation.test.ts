// Access tokens die with the password: after a reset, a password change, a suspension, a deletion
// and "log out everywhere", every access token issued before is 401 at once, on REST and GraphQL,
// on this instance and on a second one sharing the database; the refresh tokens are revoked; a
// token issued after works; and the user's open bookingUpdated subscriptions end without waiting
// for a change of the booking.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Mail } from "../../src/modules/notifications/mailer";
import { createAdmin } from "../../src/modules/users/admin-cli";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { book, captureMail, drainJobs, onTestClock, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";
import { events } from "../support/sse";

const NOW = "2031-06-01T09:00:00.000Z";
let t: TestApp;
let other: TestApp;
let admin: string;
let host: Registered;
let property: { id: string };
const sent: Mail[] = [];

beforeAll(async () => {
  t = await startTestApp({ MAX_PENDING_BOOKINGS: "1000" });
  other = await startTestApp({ MAX_PENDING_BOOKINGS: "1000" }, { shareWith: t });
  captureMail(t, sent);
  await createAdmin({ email: "root@example.com", password: "admin password 1" }, t.deps);
  admin = (await login(t, "root@example.com", "admin password 1")).accessToken;
  host = await registerHost(t.call, "Hilda Host");
  property = await createListing(t.call, host, { title: "Revocation loft" });
}, 60_000);
onTestClock(() => t, NOW);
afterAll(() => other?.close());

const api = (path: string) => `/api/v1${path}`;

async function login(app: TestApp, email: string, password: string) {
  const res = await app.call<{ accessToken: string; refreshToken: string }>("POST", api("/auth/login"), {
    body: { email, password },
  });
  expect(res.status).toBe(200);
  return res.body;
}

/** What GET /users/me and GraphQL `me` answer with this token on this instance: "ok" or the error code. */
async function me(app: TestApp, token: string): Promise<{ rest: string; graphql: string }> {
  const rest = await app.call<{ code?: string }>("GET", api("/users/me"), { token });
  const gql = await app.call<{ data?: { me?: { id: string } }; errors?: { extensions?: { code?: string } }[] }>(
    "POST",
    "/graphql",
    { token, body: { query: "{ me { id } }" } },
  );
  return {
    rest: rest.status === 200 ? "ok" : `${rest.status} ${rest.body.code}`,
    graphql: gql.body.data?.me?.id ? "ok" : String(gql.body.errors?.[0]?.extensions?.code),
  };
}

const OK = { rest: "ok", graphql: "ok" };
const REVOKED = { rest: "401 unauthenticated", graphql: "unauthenticated" };

/**
 * A user with three earlier access tokens: the registration's (from this instance), one from a
 * login on the other instance, and one more from here; each already used on both instances (so
 * any per-instance memory of it is warm).
 */
async function userWithTokens() {
  const u = await registerUser(t.call);
  const second = await login(other, u.email, u.password);
  const third = await login(t, u.email, u.password);
  const tokens = [u.accessToken, second.accessToken, third.accessToken];
  for (const app of [t, other]) for (const token of tokens) expect(await me(app, token)).toEqual(OK);
  return { u, tokens, refreshTokens: [u.refreshToken, second.refreshToken, third.refreshToken] };
}

async function expectRevoked(tokens: string[], refreshTokens: string[]) {
  for (const app of [t, other]) for (const token of tokens) expect(await me(app, token)).toEqual(REVOKED);
  for (const refreshToken of refreshTokens)
    expect((await other.call("POST", api("/auth/refresh"), { body: { refreshToken } })).status).toBe(401);
}

async function resetPassword(u: Registered, newPassword: string) {
  expect((await t.call("POST", api("/auth/password-reset"), { body: { email: u.email } })).status).toBe(202);
  await drainJobs(t);
  const mail = sent.filter((m) => m.to === u.email && m.subject === "Reset your stayhub password").at(-1);
  const token = /\n\n([A-Za-z0-9_-]{40,})\n\n/.exec(mail?.text ?? "")?.[1] as string;
  expect(token).toBeString();
  const res = await other.call("POST", api("/auth/password-reset/confirm"), { body: { token, newPassword } });
  expect(res.status).toBe(204);
}

describe("every earlier access token is 401 at once, on both instances, REST and GraphQL", () => {
  test("after a password reset; a token from the new password works", async () => {
    const { u, tokens, refreshTokens } = await userWithTokens();
    await resetPassword(u, "a brand new password");
    await expectRevoked(tokens, refreshTokens);
    const fresh = await login(other, u.email, "a brand new password");
    for (const app of [t, other]) expect(await me(app, fresh.accessToken)).toEqual(OK);
  });

  test("after a password change (the token that changed it too); a token from the new password works", async () => {
    const { u, tokens, refreshTokens } = await userWithTokens();
    const res = await other.call("POST", api("/users/me/password"), {
      token: tokens[0],
      body: { currentPassword: u.password, newPassword: "another long passphrase" },
    });
    expect(res.status).toBe(204);
    await expectRevoked(tokens, refreshTokens);
    const fresh = await login(t, u.email, "another long passphrase");
    for (const app of [t, other]) expect(await me(app, fresh.accessToken)).toEqual(OK);
  });

  test("after a suspension, and still after the unsuspension; a token from a login after it works", async () => {
    const { u, tokens, refreshTokens } = await userWithTokens();
    const res = await t.call("POST", api(`/admin/users/${u.id}/suspend`), { token: admin, body: { reason: "Spam" } });
    expect(res.status).toBe(200);
    await expectRevoked(tokens, refreshTokens);
    expect((await t.call("POST", api("/auth/login"), { body: { email: u.email, password: u.password } })).status).toBe(
      403,
    );
    expect((await t.call("POST", api(`/admin/users/${u.id}/unsuspend`), { token: admin })).status).toBe(200);
    await expectRevoked(tokens, []);
    const fresh = await login(other, u.email, u.password);
    for (const app of [t, other]) expect(await me(app, fresh.accessToken)).toEqual(OK);
  });

  test("after an account deletion", async () => {
    const { u, tokens, refreshTokens } = await userWithTokens();
    const res = await other.call("DELETE", api("/users/me"), { token: tokens[1], body: { password: u.password } });
    expect(res.status).toBe(204);
    await expectRevoked(tokens, refreshTokens);
    expect((await t.call("POST", api("/auth/login"), { body: { email: u.email, password: u.password } })).status).toBe(
      401,
    );
  });

  test("after POST /auth/logout-all (204, every session of the caller only); a token from a new login works", async () => {
    const { u, tokens, refreshTokens } = await userWithTokens();
    const bystander = await registerUser(t.call);
    expect((await t.call("POST", api("/auth/logout-all"))).status).toBe(401);
    const res = await other.call("POST", api("/auth/logout-all"), { token: tokens[2] });
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    await expectRevoked(tokens, refreshTokens);
    // Logging out everywhere again with the revoked token: 401, nothing else changes.
    expect((await t.call("POST", api("/auth/logout-all"), { token: tokens[2] })).status).toBe(401);
    const fresh = await login(t, u.email, u.password);
    for (const app of [t, other]) expect(await me(app, fresh.accessToken)).toEqual(OK);
    // Another user's sessions are untouched.
    for (const app of [t, other]) expect(await me(app, bystander.accessToken)).toEqual(OK);
    expect(
      (await t.call("POST", api("/auth/refresh"), { body: { refreshToken: bystander.refreshToken } })).status,
    ).toBe(200);
  });
});

let nextWeek = 0;
/** Books a stay of `on`'s listing as `u`, and opens a subscription to it on `app` (which shares `on`'s database). */
async function watchOwnBooking(app: TestApp, u: Registered, on = { app: t, property }) {
  const start = Date.parse("2031-07-01T00:00:00Z") + nextWeek++ * 7 * 86_400_000;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const booked = await book(on.app.call, u, {
    propertyId: on.property.id,
    checkIn: day(start),
    checkOut: day(start + 2 * 86_400_000),
  });
  expect(booked.status).toBe(201);
  const res = await app.app.handle(
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
  const first = await events(res, (d) => d.length >= 1, 5_000);
  expect(first.data.map(answerOf)).toEqual(["pending_payment"]);
  return res;
}

const answerOf = (e: unknown) => {
  const { data, errors } = e as {
    data?: { bookingUpdated?: { status: string } };
    errors?: { extensions?: { code?: string } }[];
  };
  return errors?.[0]?.extensions?.code ?? data?.bookingUpdated?.status;
};

describe("open bookingUpdated subscriptions of the user end at once (the booking unchanged)", () => {
  test("after a suspension: on this instance and on the other", async () => {
    const u = await registerUser(t.call);
    const here = await watchOwnBooking(t, u);
    const there = await watchOwnBooking(other, u);
    expect(
      (await t.call("POST", api(`/admin/users/${u.id}/suspend`), { token: admin, body: { reason: "Spam" } })).status,
    ).toBe(200);
    for (const res of [here, there]) {
      const got = await events(res, () => false, 5_000);
      expect(got.data.map(answerOf)).toEqual(["unauthenticated"]);
      expect(got.completed).toBe(true);
    }
  });

  test("after a password change on the other instance; another user's subscription stays open", async () => {
    const u = await registerUser(t.call);
    const bystander = await registerUser(t.call);
    const mine = await watchOwnBooking(t, u);
    const theirs = await watchOwnBooking(t, bystander);
    const changed = await other.call("POST", api("/users/me/password"), {
      token: u.accessToken,
      body: { currentPassword: u.password, newPassword: "another long passphrase" },
    });
    expect(changed.status).toBe(204);
    const got = await events(mine, () => false, 5_000);
    expect(got.data.map(answerOf)).toEqual(["unauthenticated"]);
    expect(got.completed).toBe(true);
    const still = await events(theirs, () => false, 500);
    expect(still).toEqual({ data: [], completed: false });
    await theirs.body?.cancel().catch(() => {});
  });

  test("after logout-all", async () => {
    const u = await registerUser(t.call);
    const res = await watchOwnBooking(other, u);
    expect((await t.call("POST", api("/auth/logout-all"), { token: u.accessToken })).status).toBe(204);
    const got = await events(res, () => false, 5_000);
    expect(got.data.map(answerOf)).toEqual(["unauthenticated"]);
    expect(got.completed).toBe(true);
  });

  test("on the embedded database (PGlite, one process): the token is 401 and the subscription ends", async () => {
    const embedded = await startTestApp({}, { embedded: true });
    try {
      await setClock(embedded.call, NOW);
      const owner = await registerHost(embedded.call, "Embedded Host");
      const loft = await createListing(embedded.call, owner, { title: "Embedded loft" });
      const u = await registerUser(embedded.call);
      const res = await watchOwnBooking(embedded, u, { app: embedded, property: loft });
      const changed = await embedded.call("POST", api("/users/me/password"), {
        token: u.accessToken,
        body: { currentPassword: u.password, newPassword: "another long passphrase" },
      });
      expect(changed.status).toBe(204);
      const got = await events(res, () => false, 5_000);
      expect(got.data.map(answerOf)).toEqual(["unauthenticated"]);
      expect(got.completed).toBe(true);
      expect(await me(embedded, u.accessToken)).toEqual(REVOKED);
      expect(await me(embedded, (await login(embedded, u.email, "another long passphrase")).accessToken)).toEqual(OK);
    } finally {
      await embedded.call("DELETE", "/api/v1/_test/clock");
      await embedded.close();
    }
  }, 120_000); // the first embedded database of a process is migrated (half a minute on a busy machine)
});
