// Password reset over REST: the same 202 for known and unknown addresses, the e-mailed token
// once, within 30 minutes (test clock), for its purpose only; the new password works, the old one
// and every session do not.
import { beforeAll, describe, expect, test } from "bun:test";
import { hashToken } from "../../src/modules/auth/account-tokens";
import type { Mail } from "../../src/modules/notifications/mailer";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { captureMail, drainJobs, onTestClock, setClock } from "../support/bookings";

const NOW = "2031-06-01T09:00:00.000Z";
let t: TestApp;
const sent: Mail[] = [];

beforeAll(async () => {
  t = await startTestApp();
  captureMail(t, sent);
}, 60_000);
onTestClock(() => t, NOW);

const api = (path: string) => `/api/v1${path}`;
const ask = (email: string) => t.call("POST", api("/auth/password-reset"), { body: { email } });
const confirm = (token: string, newPassword = "a brand new password") =>
  t.call<{ code?: string }>("POST", api("/auth/password-reset/confirm"), { body: { token, newPassword } });
const login = (email: string, password: string) => t.call("POST", api("/auth/login"), { body: { email, password } });
const mailsTo = (email: string) => sent.filter((m) => m.to === email && m.subject === "Reset your stayhub password");
const tokenIn = (m: Mail | undefined) => /\n\n([A-Za-z0-9_-]{40,})\n\n/.exec(m?.text ?? "")?.[1] as string;

async function resetMail(u: Registered): Promise<string> {
  expect((await ask(u.email)).status).toBe(202);
  await drainJobs(t);
  const token = tokenIn(mailsTo(u.email).at(-1));
  expect(token).toBeString();
  return token;
}

describe("asking", () => {
  test("a known and an unknown address get the same answer; only the known one gets an e-mail", async () => {
    const u = await registerUser(t.call);
    const known = await ask(u.email.toUpperCase());
    const unknown = await ask(`nobody.${Math.random()}@example.com`);
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(known.text).toBe(unknown.text);
    await drainJobs(t);
    expect(mailsTo(u.email).length).toBe(1);
    expect(sent.some((m) => m.to.startsWith("nobody."))).toBe(false); // not even a welcome: there is no such account
    // Only its hash is stored.
    const token = tokenIn(mailsTo(u.email)[0]);
    const rows = await t.deps.database.raw.query(
      "select token_hash from account_tokens where user_id = $1 and purpose = 'password_reset'",
      [u.id],
    );
    expect(rows.map((r) => r.token_hash)).toEqual([hashToken(token)]);
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  test("at most one e-mail per address per minute; a suspended account gets none", async () => {
    const u = await registerUser(t.call);
    await Promise.all([ask(u.email), ask(u.email), ask(u.email)]);
    await drainJobs(t);
    expect(mailsTo(u.email).length).toBe(1);
    await setClock(t.call, "2031-06-01T09:01:00.000Z");
    await ask(u.email);
    await drainJobs(t);
    expect(mailsTo(u.email).length).toBe(2);
    const s = await registerUser(t.call);
    await t.deps.database.raw.query("update users set status = 'suspended' where id = $1", [s.id]);
    await ask(s.email);
    await drainJobs(t);
    expect(mailsTo(s.email).length).toBe(0);
  });

  test("bad input is 422, not a hint", async () => {
    expect((await ask("not-an-address")).status).toBe(422);
    expect(
      (await t.call("POST", api("/auth/password-reset"), { body: { email: "a@example.com", extra: 1 } })).status,
    ).toBe(422);
  });
});

describe("the per-client limit", () => {
  test("past it, 429 rate_limited; its headers are the same for known and unknown addresses", async () => {
    const limited = await startTestApp({ PASSWORD_RESET_RATE_LIMIT: "3" });
    try {
      const u = await registerUser(limited.call);
      const answers = [];
      for (const email of [u.email, "nobody@example.com", u.email, "nobody2@example.com"])
        answers.push(await limited.call("POST", api("/auth/password-reset"), { body: { email } }));
      expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 429]);
      const limits = answers.slice(0, 2).map((a) => a.headers.get("ratelimit-limit"));
      expect(limits).toEqual(["3", "3"]);
      expect(answers[3]?.headers.get("retry-after")).toBeString();
    } finally {
      await limited.close();
    }
  });

  test("its own settings: the registration limit's numbers neither tighten nor loosen it", async () => {
    const limited = await startTestApp({
      REGISTER_RATE_LIMIT: "2",
      REGISTER_RATE_WINDOW_SECONDS: "3600",
      PASSWORD_RESET_RATE_LIMIT: "4",
      PASSWORD_RESET_RATE_WINDOW_SECONDS: "600",
    });
    try {
      const resets = [];
      for (let i = 0; i < 5; i++)
        resets.push(await limited.call("POST", api("/auth/password-reset"), { body: { email: `r${i}@example.com` } }));
      expect(resets.map((a) => a.status)).toEqual([202, 202, 202, 202, 429]);
      expect(resets[0]?.headers.get("ratelimit-limit")).toBe("4");
      expect(Number(resets[0]?.headers.get("ratelimit-reset"))).toBeLessThanOrEqual(600);
      expect(Number(resets[4]?.headers.get("retry-after"))).toBeLessThanOrEqual(600);
      // Registrations keep theirs.
      const registrations = [];
      for (let i = 0; i < 3; i++)
        registrations.push(
          await limited.call("POST", api("/auth/register"), {
            body: { email: `reg${i}.${Date.now()}@example.com`, password: "correct horse battery", name: "R" },
          }),
        );
      expect(registrations.map((a) => a.status)).toEqual([201, 201, 429]);
      expect(registrations[0]?.headers.get("ratelimit-limit")).toBe("2");
    } finally {
      await limited.close();
    }
  });
});

describe("confirming", () => {
  test("the token sets the new password and revokes every session; the old password no longer works", async () => {
    const u = await registerUser(t.call);
    const token = await resetMail(u);
    expect((await confirm(token)).status).toBe(204);
    expect((await login(u.email, "a brand new password")).status).toBe(200);
    expect((await login(u.email, u.password)).status).toBe(401);
    expect((await t.call("POST", api("/auth/refresh"), { body: { refreshToken: u.refreshToken } })).status).toBe(401);
  });

  test("used, expired, unknown or of another purpose → 400 invalid_token, and nothing changes", async () => {
    const u = await registerUser(t.call);
    const token = await resetMail(u);
    expect((await confirm(token)).status).toBe(204);
    const reused = await confirm(token, "yet another password");
    expect(reused.status).toBe(400);
    expect(reused.body.code).toBe("invalid_token");
    expect((await login(u.email, "a brand new password")).status).toBe(200);

    const late = await resetMail(u);
    await setClock(t.call, "2031-06-01T09:30:00.000Z"); // exactly 30 minutes after it was made
    expect((await confirm(late)).body.code).toBe("invalid_token");
    await setClock(t.call, NOW);
    expect((await confirm("garbage-token")).body.code).toBe("invalid_token");

    const other = "token-of-another-purpose-0123456789abcdef0123456789";
    await t.deps.database.raw.query(
      "insert into account_tokens (id, user_id, purpose, token_hash, expires_at) values ($1, $2, 'email_verification', $3, now() + interval '1 day')",
      [Bun.randomUUIDv7(), u.id, hashToken(other)],
    );
    expect((await confirm(other)).body.code).toBe("invalid_token");
    expect((await login(u.email, "a brand new password")).status).toBe(200);
  });

  test("two confirmations of one token at once: one sets the password, the other is 400", async () => {
    const u = await registerUser(t.call);
    const token = await resetMail(u);
    const answers = await Promise.all([confirm(token, "first new password"), confirm(token, "second new password")]);
    expect(answers.map((a) => a.status).sort()).toEqual([204, 400]);
    const won = answers[0]?.status === 204 ? "first new password" : "second new password";
    expect((await login(u.email, won)).status).toBe(200);
  });

  test("a reset, a password change or a suspension spends every other reset token of the account", async () => {
    const u = await registerUser(t.call);
    const older = await resetMail(u);
    await setClock(t.call, "2031-06-01T09:02:00.000Z");
    const newer = await resetMail(u);
    expect(newer).not.toBe(older);
    expect((await confirm(newer)).status).toBe(204);
    expect((await confirm(older, "taken back by an attacker")).body.code).toBe("invalid_token");

    const v = await registerUser(t.call);
    const pending = await resetMail(v);
    const changed = await t.call("POST", api("/users/me/password"), {
      token: v.accessToken,
      body: { currentPassword: v.password, newPassword: "changed by its owner" },
    });
    expect(changed.status).toBe(204);
    expect((await confirm(pending)).body.code).toBe("invalid_token");
  });

  test("a weak new password is 422 and spends nothing", async () => {
    const u = await registerUser(t.call);
    const token = await resetMail(u);
    expect((await confirm(token, "short")).status).toBe(422);
    expect((await confirm(token)).status).toBe(204);
  });
});
