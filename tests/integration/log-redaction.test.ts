// Logs never carry secrets or personal data: each error path that used to put them there is
// provoked, and every line written is searched for them.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { Elysia } from "elysia";
import { httpFoundation } from "../../src/http/foundation";
import { createLogger } from "../../src/lib/log";
import { createMailer } from "../../src/modules/notifications/mailer";
import { startTestApp, type TestApp } from "../support/app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
}, 60_000);
afterAll(() => t?.close());

const EMAIL = "secret.person@example.com";
const HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl";

test("a failed statement's parameters, hashes, tokens, e-mails and passwords never reach the log", async () => {
  const lines: string[] = [];
  const log = createLogger("debug", (line) => void lines.push(line));
  // The path that leaked before: an unexpected database error, whose message and stack carry the
  // statement's parameters (for a registration: the e-mail, the argon2id hash and the name).
  const app = new Elysia({ normalize: false })
    .use(httpFoundation(log))
    .get("/leak", async () => t.deps.db.execute(sql`select ${EMAIL}::int, ${HASH}::int, ${JWT}::int`));
  const res = await app.handle(new Request("http://localhost/leak", { headers: { authorization: `Bearer ${JWT}` } }));
  expect(res.status).toBe(500);
  const text = await res.text();
  // Fields and messages of every kind a verb or a job might log.
  log.error("job failed", {
    error: `could not mail ${EMAIL}: token ${JWT}`,
    stack: `Error: x\nparams: ${EMAIL},${HASH}\n    at y`,
  });
  log.warn("login", {
    email: EMAIL,
    password: "correct horse battery",
    authorization: `Bearer ${JWT}`,
    nested: { refreshToken: "opaque-refresh-token-value" },
  });
  log.info(`connecting to postgres://stayhub:db-password-123@db.internal:5432/stayhub for ${EMAIL}`);
  await createMailer(undefined, log).send({ to: EMAIL, subject: "Welcome", text: "Hi" });
  log.warn("config", {
    apiKey: "api-key-value-1",
    "x-api-key": "api-key-value-2",
    paymentWebhookSecret: "webhook-secret-value",
    url: "redis://default:p/ss-word@cache:6379",
  });
  log.info("connected", { url: "postgres://app@db.internal.example.com:5432/stayhub" });

  const all = lines.join("\n");
  expect(lines.length).toBeGreaterThanOrEqual(5);
  for (const secret of [
    EMAIL,
    HASH,
    JWT,
    "correct horse battery",
    "opaque-refresh-token-value",
    "db-password-123",
    "argon2id",
    "api-key-value",
    "webhook-secret-value",
    "p/ss-word",
  ]) {
    expect(all.includes(secret), secret).toBe(false);
    expect(text.includes(secret), secret).toBe(false);
  }
  // Redacted, not dropped: whoever investigates still sees what happened and where.
  const unhandled = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "unhandled error");
  expect(unhandled.error).toContain("Failed query");
  expect(all).toContain("params: [redacted]");
  expect(all).toContain("[redacted e-mail]");
  expect(all).toContain("postgres://stayhub:[redacted]@db.internal");
  // What is not a secret stays: a URL's user and host are where to look.
  expect(all).toContain("postgres://app@db.internal.example.com:5432/stayhub");
});

test("without SMTP_URL, production logs an e-mail's recipient and subject but never its text (a reset token)", async () => {
  const lines: string[] = [];
  const log = createLogger("debug", (line) => void lines.push(line));
  const token = "reset-token-0123456789abcdefghijklmnopqrstuvwx";
  await createMailer(undefined, log, { logBodies: false }).send({
    to: "a@example.com",
    subject: "Reset your stayhub password",
    text: `token: ${token}`,
  });
  await createMailer(undefined, log).send({
    to: "a@example.com",
    subject: "Reset your stayhub password",
    text: `token: ${token}`,
  });
  expect(lines.length).toBe(2);
  expect(lines[0]).toContain("Reset your stayhub password");
  expect(lines[0]).not.toContain(token);
  // In development the text is there: that is how one reads a token without a mail server.
  expect(lines[1]).toContain(token);
});
