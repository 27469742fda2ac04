// Admin moderation over REST: hidden from everyone but admins (404), suspending a host takes their
// sessions, profile and listings (out of a cached search at once) and unsuspending gives the
// listings back, an admin's unlisting sticks, and every action is in the audit log.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AppError } from "../../src/http/errors";
import { listAudit, listUsers, moderateProperty, suspendUser, unsuspendUser } from "../../src/modules/admin/service";
import { createTaxRule, deleteTaxRule, listTaxRules } from "../../src/modules/admin/tax-rules";
import type { Actor } from "../../src/modules/auth/actor";
import { BOOKING_LOCK_SPACE } from "../../src/modules/bookings/service";
import { ledgerBalances } from "../../src/modules/ledger/service";
import { createAdmin } from "../../src/modules/users/admin-cli";
import { findUser } from "../../src/modules/users/service";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { createListing, registerHost } from "../support/properties";

let t: TestApp;
let admin: { id: string; accessToken: string };
let guest: Registered;

beforeAll(async () => {
  t = await startTestApp();
  await createAdmin({ email: "root@example.com", password: "admin password 1" }, t.deps);
  const login = await t.call<{ user: { id: string }; accessToken: string }>("POST", "/api/v1/auth/login", {
    body: { email: "root@example.com", password: "admin password 1" },
  });
  admin = { id: login.body.user.id, accessToken: login.body.accessToken };
  guest = await registerUser(t.call, { name: "Gus Guest" });
}, 60_000);
afterAll(() => t?.close());

const api = (path: string) => `/api/v1${path}`;
const as = (token: string | undefined) => ({ ...(token ? { token } : {}) });

describe("who may", () => {
  test("every admin route is 404 without a token, with a bad one, for a guest and for a host", async () => {
    const host = await registerHost(t.call);
    const routes: [string, string, unknown][] = [
      ["GET", "/admin/users", undefined],
      ["POST", `/admin/users/${guest.id}/suspend`, { reason: "x" }],
      ["POST", `/admin/users/${guest.id}/unsuspend`, undefined],
      ["POST", `/admin/properties/${crypto.randomUUID()}/unlist`, { reason: "x" }],
      ["GET", "/admin/audit", undefined],
      ["GET", "/admin/tax-rules", undefined],
      ["POST", "/admin/tax-rules", { country: "PT", name: "VAT", kind: "percent", value: 6 }],
      ["DELETE", `/admin/tax-rules/${crypto.randomUUID()}`, undefined],
      ["GET", "/admin/ledger/balances", undefined],
    ];
    for (const [method, path, body] of routes) {
      for (const [who, headers] of [
        ["nobody", {}],
        ["a bad token", { authorization: "Bearer not.a.token" }],
        ["a guest", { authorization: `Bearer ${guest.accessToken}` }],
        ["a host", { authorization: `Bearer ${host.accessToken}` }],
      ] as const) {
        const res = await t.call(method, api(path), { headers, body });
        expect({ route: `${method} ${path}`, who, status: res.status, code: res.body.code }).toEqual({
          route: `${method} ${path}`,
          who,
          status: 404,
          code: "not_found",
        });
      }
    }
    // Nothing happened to the guest.
    expect((await t.call("GET", api("/users/me"), { token: guest.accessToken })).status).toBe(200);
  });

  test("every admin verb called directly (as GraphQL and jobs would) refuses a non-admin actor: 404, nothing done", async () => {
    const host = await registerHost(t.call);
    const listing = await createListing(t.call, host);
    const [hostActor, guestActor, adminActor] = await Promise.all(
      [host.id, guest.id, admin.id].map(async (id) => {
        const user = await findUser(id, t.deps);
        if (!user) throw new Error(`no user ${id}`);
        return user;
      }),
    );
    const auditBefore = await listAudit({ actor: adminActor as Actor, limit: 100 }, t.deps);
    const verbs: [string, (actor: Actor) => Promise<unknown>][] = [
      ["listUsers", (actor) => listUsers({ actor, limit: 10 }, t.deps)],
      ["listAudit", (actor) => listAudit({ actor, limit: 10 }, t.deps)],
      ["ledgerBalances", (actor) => ledgerBalances({ actor }, t.deps)],
      ["suspendUser", (actor) => suspendUser({ actor, userId: guest.id, reason: "x" }, t.deps)],
      ["unsuspendUser", (actor) => unsuspendUser({ actor, userId: guest.id }, t.deps)],
      ["moderateProperty", (actor) => moderateProperty({ actor, propertyId: listing.id, reason: "x" }, t.deps)],
      ["listTaxRules", (actor) => listTaxRules({ actor }, t.deps)],
      [
        "createTaxRule",
        (actor) => createTaxRule({ actor, input: { country: "PT", name: "VAT", kind: "percent", value: 6 } }, t.deps),
      ],
      ["deleteTaxRule", (actor) => deleteTaxRule({ actor, id: crypto.randomUUID() }, t.deps)],
    ];
    for (const [verb, call] of verbs)
      for (const [who, actor] of [
        ["a guest", guestActor],
        ["a host", hostActor],
        ["no one", null],
      ] as const) {
        const refusal = await call(actor as Actor).then(
          () => "answered",
          (e: unknown) => (e instanceof AppError ? `${e.status} ${e.code} ${e.detail}` : String(e)),
        );
        expect({ verb, who, refusal }).toEqual({ verb, who, refusal: "404 not_found No such route" });
      }
    // Nothing happened: the guest acts, the listing is listed, the audit log is as it was.
    expect((await t.call("GET", api("/users/me"), { token: guest.accessToken })).status).toBe(200);
    const shown = await t.call<{ status: string }>("GET", api(`/properties/${listing.id}`));
    expect(shown.body.status).toBe("listed");
    expect(await listAudit({ actor: adminActor as Actor, limit: 100 }, t.deps)).toEqual(auditBefore);
    // An admin is answered by the same verbs.
    expect((await listUsers({ actor: adminActor as Actor, limit: 1 }, t.deps)).data).toHaveLength(1);
  });

  test("to a non-admin an admin route is word for word a route that does not exist, whatever the body", async () => {
    const unknown = await t.call("POST", api("/no/such/route"), {
      token: guest.accessToken,
      rawBody: "{",
      headers: { "content-type": "application/json" },
    });
    for (const [rawBody, type] of [
      ["{", "application/json"],
      ["reason=x", "application/x-www-form-urlencoded"],
      [JSON.stringify({ surprise: true }), "application/json"],
    ] as const) {
      const res = await t.call("POST", api(`/admin/users/${guest.id}/suspend`), {
        token: guest.accessToken,
        rawBody,
        headers: { "content-type": type },
      });
      const { requestId: _a, ...body } = res.body;
      const { requestId: _b, ...expected } = unknown.body;
      expect({ status: res.status, body }).toEqual({ status: 404, body: expected });
    }
    // An admin with the same broken body gets the real answer.
    expect(
      (
        await t.call("POST", api(`/admin/users/${guest.id}/suspend`), {
          token: admin.accessToken,
          rawBody: "{",
          headers: { "content-type": "application/json" },
        })
      ).status,
    ).toBe(400);
  });
});

describe("suspension", () => {
  test("a suspended host: sessions revoked, tokens refused, profile gone, listings out of a cached search at once; unsuspended: all back", async () => {
    const host = await registerHost(t.call, "Sam Suspect");
    const city = `Modville${Math.random().toString(36).slice(2, 7)}`;
    const listed = await createListing(t.call, host, { address: { line1: "Main 1", city, country: "PT" } });
    const unlisted = await createListing(t.call, host, { address: { line1: "Main 2", city, country: "PT" } });
    await t.call("DELETE", api(`/properties/${unlisted.id}`), { token: host.accessToken });
    const search = async () =>
      (await t.call<{ data: { id: string }[] }>("GET", api(`/properties?city=${city}`))).body.data.map((p) => p.id);
    expect(await search()).toEqual([listed.id]); // now cached

    const res = await t.call<{ id: string; status: string; email: string }>(
      "POST",
      api(`/admin/users/${host.id}/suspend`),
      {
        ...as(admin.accessToken),
        body: { reason: "  Fake listings  " },
      },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: host.id, status: "suspended", email: host.email });
    expect(await search()).toEqual([]);
    expect((await t.call("GET", api(`/properties/${listed.id}`))).status).toBe(404);
    // Every token issued before the suspension is revoked (revocation.test.ts).
    expect((await t.call("GET", api("/users/me"), { token: host.accessToken })).status).toBe(401);
    expect((await t.call("POST", api("/auth/refresh"), { body: { refreshToken: host.refreshToken } })).status).toBe(
      401,
    );
    expect((await t.call("GET", api(`/users/${host.id}`))).status).toBe(404);
    // Twice is no change and no second entry.
    expect(
      (
        await t.call("POST", api(`/admin/users/${host.id}/suspend`), {
          ...as(admin.accessToken),
          body: { reason: "again" },
        })
      ).body.status,
    ).toBe("suspended");

    const back = await t.call<{ status: string }>(
      "POST",
      api(`/admin/users/${host.id}/unsuspend`),
      as(admin.accessToken),
    );
    expect(back.body.status).toBe("active");
    // The listing the suspension hid is back; the one its host had unlisted stays unlisted.
    expect(await search()).toEqual([listed.id]);
    expect(
      (
        await t.call<{ status: string }>("GET", api(`/properties/${unlisted.id}`), {
          token: (await login(host)).accessToken,
        })
      ).body.status,
    ).toBe("unlisted");

    const entries = await t.call<{
      data: {
        action: string;
        targetId: string;
        reason: string | null;
        actorId: string;
        details: Record<string, unknown>;
      }[];
    }>("GET", api("/admin/audit?limit=100"), as(admin.accessToken));
    const mine = entries.body.data.filter((e) => e.targetId === host.id);
    expect(mine.map((e) => [e.action, e.reason, e.actorId])).toEqual([
      ["user.unsuspend", null, admin.id],
      ["user.suspend", "Fake listings", admin.id],
    ]);
    expect(mine[1]?.details).toEqual({ hiddenListings: [listed.id] });
  });

  test("an admin cannot be suspended (two could lock everyone out)", async () => {
    await createAdmin({ email: "second-admin@example.com", password: "admin password 2" }, t.deps);
    const other = (
      await t.call<{ data: { id: string }[] }>("GET", api("/admin/users?q=second-admin"), as(admin.accessToken))
    ).body.data[0];
    const res = await t.call<{ code: string; detail: string }>("POST", api(`/admin/users/${other?.id}/suspend`), {
      ...as(admin.accessToken),
      body: { reason: "x" },
    });
    expect(res.status).toBe(409);
    expect(res.body.detail).toBe("Admins cannot be suspended");
  });

  test("suspending oneself is 409; an unknown user 404; a reason is required", async () => {
    expect(
      (
        await t.call<{ code: string }>("POST", api(`/admin/users/${admin.id}/suspend`), {
          ...as(admin.accessToken),
          body: { reason: "x" },
        })
      ).body.code,
    ).toBe("invalid_state");
    expect(
      (
        await t.call("POST", api(`/admin/users/${crypto.randomUUID()}/suspend`), {
          ...as(admin.accessToken),
          body: { reason: "x" },
        })
      ).status,
    ).toBe(404);
    expect(
      (await t.call("POST", api(`/admin/users/${guest.id}/suspend`), { ...as(admin.accessToken), body: {} })).status,
    ).toBe(422);
    expect(
      (
        await t.call("POST", api(`/admin/users/${guest.id}/suspend`), {
          ...as(admin.accessToken),
          body: { reason: "   " },
        })
      ).status,
    ).toBe(422);
  });
});

async function login(u: Registered) {
  return (
    await t.call<{ accessToken: string }>("POST", api("/auth/login"), {
      body: { email: u.email, password: u.password },
    })
  ).body;
}

describe("moderating a property", () => {
  test("an admin's unlisting takes it out of search and its host cannot list it again", async () => {
    const host = await registerHost(t.call);
    const p = await createListing(t.call, host);
    const res = await t.call<{ id: string; status: string }>("POST", api(`/admin/properties/${p.id}/unlist`), {
      ...as(admin.accessToken),
      body: { reason: "Not a real address" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: p.id, status: "unlisted" });
    expect((await t.call("GET", api(`/properties/${p.id}`))).status).toBe(404);
    const relist = await t.call<{ code: string }>("PATCH", api(`/properties/${p.id}`), {
      token: host.accessToken,
      body: { status: "listed" },
    });
    expect(relist.status).toBe(403);
    expect(
      (
        await t.call("POST", api(`/admin/properties/${crypto.randomUUID()}/unlist`), {
          ...as(admin.accessToken),
          body: { reason: "x" },
        })
      ).status,
    ).toBe(404);
    const entries = await t.call<{ data: { action: string; targetId: string }[] }>(
      "GET",
      api("/admin/audit?limit=100"),
      as(admin.accessToken),
    );
    expect(entries.body.data.filter((e) => e.targetId === p.id).map((e) => e.action)).toEqual(["property.unlist"]);
  });
});

// Two sessions race only on a PostgreSQL server (the embedded database has one connection).
test.skipIf(!process.env.DATABASE_URL)(
  "an admin's unlisting waits for a booking of the property being made (its booking turn), so none is accepted after it",
  async () => {
    const host = await registerHost(t.call);
    const p = await createListing(t.call, host);
    let settledWhileHeld = false;
    let unlisting: Promise<{ status: number }> | undefined;
    await t.deps.database.withSession(async (raw) => {
      await raw.exec("begin");
      await raw.query("select pg_advisory_xact_lock($1::int4, hashtext($2::text))", [BOOKING_LOCK_SPACE, p.id]);
      unlisting = t.call("POST", api(`/admin/properties/${p.id}/unlist`), {
        ...as(admin.accessToken),
        body: { reason: "Fake" },
      });
      unlisting.then(() => {
        settledWhileHeld = true;
      });
      await Bun.sleep(300);
      const held = settledWhileHeld;
      await raw.exec("commit");
      expect(held).toBe(false);
    });
    expect((await unlisting)?.status).toBe(200);
  },
);

describe("finding users", () => {
  test("q matches the start of the e-mail or of a word of the name; pages by cursor, newest first", async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    const made: string[] = [];
    for (let i = 0; i < 3; i++)
      made.push((await registerUser(t.call, { email: `${tag}${i}@example.com`, name: `Zed ${tag}son` })).id);
    const byEmail = await t.call<{ data: { id: string }[]; nextCursor: string | null }>(
      "GET",
      api(`/admin/users?q=${tag}&limit=2`),
      as(admin.accessToken),
    );
    expect(byEmail.body.data.map((u) => u.id)).toEqual(made.slice(1).reverse());
    const rest = await t.call<{ data: { id: string }[]; nextCursor: string | null }>(
      "GET",
      api(`/admin/users?q=${tag}&limit=2&cursor=${encodeURIComponent(byEmail.body.nextCursor as string)}`),
      as(admin.accessToken),
    );
    expect(rest.body.data.map((u) => u.id)).toEqual(made.slice(0, 1));
    expect(rest.body.nextCursor).toBeNull();
    const byName = await t.call<{ data: { id: string }[] }>(
      "GET",
      api(`/admin/users?q=${tag.toUpperCase()}SON`),
      as(admin.accessToken),
    );
    expect(byName.body.data.length).toBe(3);
    expect(
      (await t.call<{ data: unknown[] }>("GET", api("/admin/users?q=%25"), as(admin.accessToken))).body.data,
    ).toEqual([]);
    expect((await t.call("GET", api("/admin/users?cursor=forged"), as(admin.accessToken))).status).toBe(422);
  });
});
