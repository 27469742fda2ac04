import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { registerUser, startTestApp, type TestApp } from "../support/app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
}, 60_000);
afterAll(() => t?.close());

describe("GET /users/me", () => {
  test("the full profile with e-mail and roles", async () => {
    const u = await registerUser(t.call, { name: "Mia" });
    const res = await t.call("GET", "/api/v1/users/me", { token: u.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: u.id, email: u.email, name: "Mia", roles: ["guest"], phone: null });
    expect(res.body).not.toHaveProperty("passwordHash");
  });
});

describe("PATCH /users/me", () => {
  test("updates the given fields and clears with null", async () => {
    const u = await registerUser(t.call);
    const res = await t.call("PATCH", "/api/v1/users/me", {
      token: u.accessToken,
      body: {
        name: "New Name",
        bio: "Traveller",
        avatarUrl: "https://cdn.example.com/a.png",
        phone: "+44 20 7946 0958",
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: "New Name",
      bio: "Traveller",
      avatarUrl: "https://cdn.example.com/a.png",
      phone: "+44 20 7946 0958",
    });
    const cleared = await t.call("PATCH", "/api/v1/users/me", { token: u.accessToken, body: { bio: null } });
    expect(cleared.body).toMatchObject({ name: "New Name", bio: null, phone: "+44 20 7946 0958" });
  });

  const bad: [string, Record<string, unknown>, string][] = [
    ["roles (mass assignment)", { roles: ["admin"] }, "/roles"],
    ["email (not editable here)", { email: "x@example.com" }, "/email"],
    ["http avatar", { avatarUrl: "http://cdn.example.com/a.png" }, "/avatarUrl"],
    ["empty name", { name: "" }, "/name"],
    ["long bio", { bio: "x".repeat(2001) }, "/bio"],
    ["letters in phone", { phone: "call me maybe" }, "/phone"],
  ];
  for (const [what, body, path] of bad) {
    test(`422 for ${what}`, async () => {
      const u = await registerUser(t.call);
      const res = await t.call("PATCH", "/api/v1/users/me", { token: u.accessToken, body });
      expect(res.status).toBe(422);
      expect((res.body.errors as { path: string }[]).map((e) => e.path)).toContain(path);
      const me = await t.call("GET", "/api/v1/users/me", { token: u.accessToken });
      expect(me.body.roles).toEqual(["guest"]);
      expect(me.body.email).toBe(u.email);
      expect(me.body.name).toBe("Test User");
    });
  }
});

describe("POST /users/me/password", () => {
  test("changes the password and revokes every refresh token", async () => {
    const u = await registerUser(t.call);
    const second = await t.call("POST", "/api/v1/auth/login", { body: { email: u.email, password: u.password } });
    const res = await t.call("POST", "/api/v1/users/me/password", {
      token: u.accessToken,
      body: { currentPassword: u.password, newPassword: "a brand new password" },
    });
    expect(res.status).toBe(204);
    for (const refreshToken of [u.refreshToken, second.body.refreshToken]) {
      expect((await t.call("POST", "/api/v1/auth/refresh", { body: { refreshToken } })).status).toBe(401);
    }
    expect(
      (await t.call("POST", "/api/v1/auth/login", { body: { email: u.email, password: u.password } })).status,
    ).toBe(401);
    expect(
      (await t.call("POST", "/api/v1/auth/login", { body: { email: u.email, password: "a brand new password" } }))
        .status,
    ).toBe(200);
  });

  test("a wrong current password changes nothing", async () => {
    const u = await registerUser(t.call);
    const res = await t.call("POST", "/api/v1/users/me/password", {
      token: u.accessToken,
      body: { currentPassword: "not my password", newPassword: "a brand new password" },
    });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("invalid_credentials");
    expect((await t.call("POST", "/api/v1/auth/refresh", { body: { refreshToken: u.refreshToken } })).status).toBe(200);
  });

  test("guessing the current password with a stolen token is rate limited", async () => {
    const u = await registerUser(t.call);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await t.call("POST", "/api/v1/users/me/password", {
        token: u.accessToken,
        body: { currentPassword: `guess ${i}`, newPassword: "a brand new password" },
      });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses[5]).toBe(429);
  });

  test("422 for a short new password", async () => {
    const u = await registerUser(t.call);
    const res = await t.call("POST", "/api/v1/users/me/password", {
      token: u.accessToken,
      body: { currentPassword: u.password, newPassword: "short" },
    });
    expect(res.status).toBe(422);
  });
});

describe("POST /users/me/host", () => {
  test("adds the host role once", async () => {
    const u = await registerUser(t.call);
    const first = await t.call("POST", "/api/v1/users/me/host", { token: u.accessToken });
    expect(first.status).toBe(200);
    expect(first.body.roles).toEqual(["guest", "host"]);
    const again = await t.call("POST", "/api/v1/users/me/host", { token: u.accessToken });
    expect(again.body.roles).toEqual(["guest", "host"]);
  });
});

describe("GET /users/:id", () => {
  test("the public profile only: never e-mail or phone", async () => {
    const u = await registerUser(t.call, { name: "Pia" });
    await t.call("PATCH", "/api/v1/users/me", { token: u.accessToken, body: { phone: "+1 555 0100", bio: "Hi" } });
    const res = await t.call("GET", `/api/v1/users/${u.id}`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual([
      "avatarUrl",
      "bio",
      "createdAt",
      "guestRatingAverage",
      "guestReviewCount",
      "id",
      "isHost",
      "name",
    ]);
    expect(res.body).toMatchObject({
      id: u.id,
      name: "Pia",
      bio: "Hi",
      isHost: false,
      guestRatingAverage: null,
      guestReviewCount: 0,
    });
    expect(res.text).not.toContain(u.email);
  });

  test("404 for an unknown id, a malformed id and a suspended user", async () => {
    expect((await t.call("GET", "/api/v1/users/01a21001-1cb3-775a-ba4d-59603dabccf5")).status).toBe(404);
    const malformed = await t.call("GET", "/api/v1/users/not-a-uuid");
    expect(malformed.status).toBe(404);
    expect(malformed.body.code).toBe("not_found");
    const u = await registerUser(t.call);
    await t.deps.database.raw.query("update users set status = 'suspended' where id = $1", [u.id]);
    expect((await t.call("GET", `/api/v1/users/${u.id}`)).status).toBe(404);
  });
});
