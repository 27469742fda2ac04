import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import type { AppError } from "../../src/http/errors";
import { actorForToken } from "../../src/modules/auth/actor";
import { login } from "../../src/modules/auth/service";
import { startSession } from "../../src/modules/auth/sessions";
import { AUDIENCE, hashRefreshToken, ISSUER } from "../../src/modules/auth/tokens";
import { registerUser, startTestApp, TEST_JWT_SECRET, type TestApp } from "../support/app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ LOGIN_RATE_LIMIT: "3", TRUST_PROXY: "1" });
}, 60_000);
afterAll(() => t?.close());

const post = (path: string, body: unknown, token?: string) => t.call("POST", `/api/v1${path}`, { body, token });

describe("POST /auth/register", () => {
  test("creates the user and answers with a session", async () => {
    const res = await post("/auth/register", { email: "Alice@Example.COM", password: "0123456789", name: " Alice " });
    expect(res.status).toBe(201);
    const body = res.body as {
      user: Record<string, unknown>;
      accessToken: string;
      refreshToken: string;
      tokenType: string;
      expiresIn: number;
    };
    expect(body.user).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      email: "alice@example.com",
      name: "Alice",
      bio: null,
      avatarUrl: null,
      phone: null,
      roles: ["guest"],
      emailVerified: false,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(body.accessToken.split(".")).toHaveLength(3);
    expect(body.refreshToken.length).toBeGreaterThanOrEqual(40);
    expect(body.tokenType).toBe("Bearer");
    expect(body.expiresIn).toBeLessThanOrEqual(900);
    const [row] = await t.deps.database.raw.query<{ password_hash: string }>(
      "select password_hash from users where email = $1",
      ["alice@example.com"],
    );
    expect(row?.password_hash.startsWith("$argon2id$")).toBe(true);
  });

  test("e-mail is unique regardless of case", async () => {
    await registerUser(t.call, { email: "bob@example.com" });
    const res = await post("/auth/register", { email: "BOB@example.com", password: "0123456789", name: "Bob" });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("email_taken");
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  test("concurrent registrations of one e-mail: exactly one wins (the database decides)", async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        post("/auth/register", {
          email: `race${i % 2 ? "@EXAMPLE.com" : "@example.com"}`.replace(/^/, "race"),
          password: "0123456789",
          name: "R",
        }),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(9);
  });

  const bad: [string, unknown, string][] = [
    ["password too short", { email: "c@example.com", password: "012345678", name: "C" }, "/password"],
    ["password too long", { email: "c@example.com", password: "x".repeat(129), name: "C" }, "/password"],
    ["not an e-mail", { email: "nope", password: "0123456789", name: "C" }, "/email"],
    ["missing name", { email: "c@example.com", password: "0123456789" }, "/name"],
    ["blank name", { email: "c@example.com", password: "0123456789", name: "   " }, "/name"],
    [
      "unknown field (no mass assignment)",
      { email: "c@example.com", password: "0123456789", name: "C", roles: ["admin"] },
      "/roles",
    ],
    ["wrong type", { email: "c@example.com", password: 1234567890, name: "C" }, "/password"],
  ];
  for (const [what, body, path] of bad) {
    test(`422 for ${what}`, async () => {
      const res = await post("/auth/register", body);
      expect(res.status).toBe(422);
      expect(res.body.code).toBe("validation_failed");
      expect((res.body.errors as { path: string }[]).map((e) => e.path)).toContain(path);
    });
  }

  test("400 invalid_json for a broken body and for a non-JSON content type", async () => {
    const broken = await t.call("POST", "/api/v1/auth/register", {
      rawBody: '{"email": ',
      headers: { "content-type": "application/json" },
    });
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe("invalid_json");
    const form = await t.call("POST", "/api/v1/auth/register", {
      rawBody: "email=a@b.c",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.status).toBe(400);
    expect(form.body.code).toBe("invalid_json");
  });

  test("413 for a body over 1 MiB", async () => {
    const res = await t.call("POST", "/api/v1/auth/register", {
      rawBody: JSON.stringify({ email: "d@example.com", password: "0123456789", name: "x".repeat(1024 * 1024) }),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe("payload_too_large");
  });
});

describe("POST /auth/login", () => {
  test("logs in with any case of the e-mail", async () => {
    const u = await registerUser(t.call);
    const res = await post("/auth/login", { email: u.email.toUpperCase(), password: u.password });
    expect(res.status).toBe(200);
    expect((res.body.user as { id: string }).id).toBe(u.id);
    expect(res.headers.get("ratelimit-limit")).toBe("3");
  });

  test("unknown e-mail and wrong password get the same answer", async () => {
    const u = await registerUser(t.call);
    const wrong = await post("/auth/login", { email: u.email, password: "not the password" });
    const unknown = await post("/auth/login", { email: "nobody@example.com", password: "not the password" });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined });
    expect(strip(wrong.body)).toEqual(strip(unknown.body));
    expect(wrong.body.code).toBe("invalid_credentials");
  });

  test("repeated failures per IP and e-mail → 429 with Retry-After; other e-mails are unaffected", async () => {
    const u = await registerUser(t.call);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await post("/auth/login", { email: u.email, password: "wrong password!" })).status);
    expect(statuses).toEqual([401, 401, 401]);
    const limited = await post("/auth/login", { email: u.email, password: u.password });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited.headers.get("ratelimit-remaining")).toBe("0");
    const other = await registerUser(t.call);
    expect((await post("/auth/login", { email: other.email, password: other.password })).status).toBe(200);
  });

  test("parallel guesses cannot slip under the limit: attempts are counted before the password is checked", async () => {
    const u = await registerUser(t.call);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => post("/auth/login", { email: u.email, password: "wrong password!" })),
    );
    expect(answers.filter((a) => a.status === 401).length).toBeLessThanOrEqual(3);
    expect(answers.filter((a) => a.status === 429).length).toBeGreaterThanOrEqual(17);
  });

  test("one IP spreading guesses over many e-mails is limited too", async () => {
    const answers: number[] = [];
    for (let i = 0; i < 3 * 20 + 1; i++) {
      const res = await t.call("POST", "/api/v1/auth/login", {
        body: { email: `spray${i}@example.com`, password: "whatever123" },
        headers: { "x-forwarded-for": "203.0.113.7" },
      });
      answers.push(res.status);
    }
    expect(answers.slice(0, 60).every((s) => s === 401)).toBe(true);
    expect(answers[60]).toBe(429);
  });

  test("behind a proxy, a forged leftmost X-Forwarded-For does not reset the limit", async () => {
    const u = await registerUser(t.call);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await t.call("POST", "/api/v1/auth/login", {
        body: { email: u.email, password: "wrong password!" },
        headers: { "x-forwarded-for": `198.51.100.${i}, 192.0.2.1` },
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });

  test("a success clears the failure count", async () => {
    const u = await registerUser(t.call);
    await post("/auth/login", { email: u.email, password: "wrong password!" });
    await post("/auth/login", { email: u.email, password: "wrong password!" });
    expect((await post("/auth/login", { email: u.email, password: u.password })).status).toBe(200);
    await post("/auth/login", { email: u.email, password: "wrong password!" });
    await post("/auth/login", { email: u.email, password: "wrong password!" });
    expect((await post("/auth/login", { email: u.email, password: u.password })).status).toBe(200);
  });

  test("a suspended user is refused", async () => {
    const u = await registerUser(t.call);
    await t.deps.database.raw.query("update users set status = 'suspended' where id = $1", [u.id]);
    const res = await post("/auth/login", { email: u.email, password: u.password });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("forbidden");
    const me = await t.call("GET", "/api/v1/users/me", { token: u.accessToken });
    expect(me.status).toBe(403);
  });

  test("422 for missing fields", async () => {
    const res = await post("/auth/login", { email: "a@b.co" });
    expect(res.status).toBe(422);
  });

  test("validation errors never quote the submitted value", async () => {
    const res = await post("/auth/register", { email: "v@example.com", password: 98765432101234, name: "V" });
    expect(res.status).toBe(422);
    expect(res.text).not.toContain("98765432101234");
  });
});

describe("POST /auth/refresh", () => {
  test("rotates: a new pair, the old refresh token is spent", async () => {
    const u = await registerUser(t.call);
    const first = await post("/auth/refresh", { refreshToken: u.refreshToken });
    expect(first.status).toBe(200);
    const next = first.body.refreshToken as string;
    expect(next).not.toBe(u.refreshToken);
    const me = await t.call("GET", "/api/v1/users/me", { token: first.body.accessToken as string });
    expect(me.status).toBe(200);
    expect((await post("/auth/refresh", { refreshToken: next })).status).toBe(200);
  });

  test("reuse of a spent token revokes the whole family", async () => {
    const u = await registerUser(t.call);
    const rotated = await post("/auth/refresh", { refreshToken: u.refreshToken });
    const live = rotated.body.refreshToken as string;
    const replay = await post("/auth/refresh", { refreshToken: u.refreshToken });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe("unauthenticated");
    // The thief's replay also kills the legitimate holder's newer token.
    const after = await post("/auth/refresh", { refreshToken: live });
    expect(after.status).toBe(401);
  });

  test("concurrent use of one token: exactly one succeeds", async () => {
    const u = await registerUser(t.call);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => post("/auth/refresh", { refreshToken: u.refreshToken })),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(7);
  });

  test("a token issued into a family after it was revoked is dead (refresh racing logout)", async () => {
    const u = await registerUser(t.call);
    const [row] = await t.deps.database.raw.query<{ family_id: string }>(
      "select family_id from refresh_tokens where token_hash = $1",
      [hashRefreshToken(u.refreshToken)],
    );
    await post("/auth/logout", { refreshToken: u.refreshToken }, u.accessToken);
    // What a refresh that was already past its spend step would do: issue the next token of the family.
    const late = await startSession(t.deps.db, u.id, 30, row?.family_id);
    const res = await post("/auth/refresh", { refreshToken: late });
    expect(res.status).toBe(401);
  });

  test("expired and unknown refresh tokens are refused", async () => {
    const u = await registerUser(t.call);
    await t.deps.database.raw.query(
      "update refresh_tokens set expires_at = now() - interval '1 second' where token_hash = $1",
      [hashRefreshToken(u.refreshToken)],
    );
    const expired = await post("/auth/refresh", { refreshToken: u.refreshToken });
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe("token_expired");
    const unknown = await post("/auth/refresh", { refreshToken: "not-a-real-token" });
    expect(unknown.status).toBe(401);
    expect(unknown.body.code).toBe("unauthenticated");
  });

  test("422 without a token", async () => {
    expect((await post("/auth/refresh", {})).status).toBe(422);
  });
});

describe("POST /auth/logout", () => {
  test("revokes the family: the refresh token no longer works", async () => {
    const u = await registerUser(t.call);
    const res = await post("/auth/logout", { refreshToken: u.refreshToken }, u.accessToken);
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expect((await post("/auth/refresh", { refreshToken: u.refreshToken })).status).toBe(401);
  });

  test("cannot revoke someone else's session", async () => {
    const a = await registerUser(t.call);
    const b = await registerUser(t.call);
    expect((await post("/auth/logout", { refreshToken: b.refreshToken }, a.accessToken)).status).toBe(204);
    expect((await post("/auth/refresh", { refreshToken: b.refreshToken })).status).toBe(200);
  });
});

describe("access tokens", () => {
  const key = new TextEncoder().encode(TEST_JWT_SECRET);
  const sign = (claims: Record<string, unknown>, alg = "HS256", secret = key) =>
    new SignJWT(claims).setProtectedHeader({ alg, typ: "JWT" }).sign(secret);
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const me = (token: string) => t.call("GET", "/api/v1/users/me", { token });

  test("expired → 401 token_expired", async () => {
    const u = await registerUser(t.call);
    const now = Math.floor(Date.now() / 1000);
    const token = await sign({ sub: u.id, iss: ISSUER, aud: AUDIENCE, iat: now - 1000, exp: now - 10 });
    const res = await me(token);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("token_expired");
  });

  test("forged ones → 401 unauthenticated", async () => {
    const u = await registerUser(t.call);
    const now = Math.floor(Date.now() / 1000);
    const good = { sub: u.id, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600 };
    const [h, p] = u.accessToken.split(".");
    const forged = [
      `${b64({ alg: "none", typ: "JWT" })}.${b64(good)}.`, // alg: none
      `${h}.${b64({ ...good, sub: "01a21001-1cb3-775a-ba4d-59603dabccf5" })}.${u.accessToken.split(".")[2]}`, // payload swapped
      await sign(good, "HS256", new TextEncoder().encode("another secret, another secret, 123")), // wrong key
      await sign(good, "HS512"), // right key, algorithm not pinned
      await sign({ ...good, iss: "someone-else" }),
      await sign({ ...good, aud: "another-api" }),
      await sign({ iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600 }), // no subject
      `${h}.${p}`,
      "garbage",
    ];
    for (const token of forged) {
      const res = await me(token);
      expect({ token, status: res.status, code: res.body.code }).toEqual({
        token,
        status: 401,
        code: "unauthenticated",
      });
    }
  });

  test("a token for a user that no longer exists → 401", async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await sign({
      sub: "01a21001-1cb3-775a-ba4d-59603dabccf5",
      iss: ISSUER,
      aud: AUDIENCE,
      iat: now,
      exp: now + 600,
    });
    expect((await me(token)).status).toBe(401);
  });

  test("malformed Authorization header → 401", async () => {
    const res = await t.call("GET", "/api/v1/users/me", { headers: { authorization: "Basic abc" } });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("unauthenticated");
  });
});

describe("rules live in the verbs, not the routes", () => {
  test("login() itself limits attempts: a caller other than REST (GraphQL, a job) meets the same 429", async () => {
    const u = await registerUser(t.call);
    const attempt = () =>
      login({ email: u.email, password: "wrong password!", ip: "198.51.100.7" }, t.deps).then(
        () => 200,
        (e: AppError) => e.status,
      );
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push(await attempt());
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    // Another address is not locked out by that one.
    expect((await login({ email: u.email, password: u.password, ip: "198.51.100.8" }, t.deps)).value.user.id).toBe(
      u.id,
    );
  });

  test("actorForToken() refuses a suspended account with 403, whoever asks", async () => {
    const u = await registerUser(t.call);
    expect((await actorForToken(u.accessToken, t.deps)).id).toBe(u.id);
    await t.deps.database.raw.query("update users set status = 'suspended' where id = $1", [u.id]);
    const refused = await actorForToken(u.accessToken, t.deps).catch((e: AppError) => e);
    expect(refused).toMatchObject({ status: 403, code: "forbidden" });
  });
});

describe("strict tokens", () => {
  test("a padded or re-spelled signature is 401; a token whose sub is not a uuid is 401, never 500", async () => {
    const u = await registerUser(t.call);
    const me = (token: string) => t.call("GET", "/api/v1/users/me", { token });
    expect((await me(u.accessToken)).status).toBe(200);
    expect((await me(`${u.accessToken}=`)).status).toBe(401);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const i = alphabet.indexOf(u.accessToken.at(-1) as string);
    const sibling = alphabet[i ^ 1] as string;
    expect((await me(u.accessToken.slice(0, -1) + sibling)).status).toBe(401);
    const key = new TextEncoder().encode(TEST_JWT_SECRET);
    const notUuid = await new SignJWT({ sub: "1 or 1=1" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(key);
    const res = await me(notUuid);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("unauthenticated");
  });
});

describe("per-address limits", () => {
  test("successful logins never count toward the address's limit: a shared NAT address is not locked out", async () => {
    // LOGIN_RATE_LIMIT=3 here, so the loose per-address limit is 3 × 20 = 60 attempts.
    const u = await registerUser(t.call);
    const headers = { "x-forwarded-for": "203.0.113.77" };
    for (let i = 0; i < 70; i++) {
      const res = await t.call("POST", "/api/v1/auth/login", {
        body: { email: u.email, password: u.password },
        headers,
      });
      expect(res.status, `login ${i + 1}`).toBe(200);
    }
  });

  test("registrations are limited per address (REGISTER_RATE_LIMIT), with RateLimit-* and Retry-After", async () => {
    const limited = await startTestApp({ REGISTER_RATE_LIMIT: "3", TRUST_PROXY: "1" });
    try {
      const register = (i: number, ip: string) =>
        limited.call("POST", "/api/v1/auth/register", {
          body: { email: `reg${i}-${ip}@example.com`, password: "a long enough password", name: "R" },
          headers: { "x-forwarded-for": ip },
        });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await register(i, "198.51.100.20")).status);
      expect(statuses).toEqual([201, 201, 201, 429, 429]);
      const refused = await register(9, "198.51.100.20");
      expect(refused.body.code).toBe("rate_limited");
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(refused.headers.get("ratelimit-limit")).toBe("3");
      // Another address is not affected.
      expect((await register(0, "198.51.100.21")).status).toBe(201);
    } finally {
      await limited.close();
    }
  });
});
