import { describe, expect, test } from "bun:test";
import { SettableClock } from "../../src/lib/clock";
import { createAccessTokens, hashRefreshToken, newRefreshToken } from "../../src/modules/auth/tokens";

describe("access tokens", () => {
  const tokens = createAccessTokens("k".repeat(40), 900);

  test("round trip", async () => {
    const token = await tokens.sign("user-1");
    expect(await tokens.verify(token)).toEqual({ ok: true, userId: "user-1" });
    const [header, payload] = token
      .split(".")
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p ?? "", "base64url").toString()));
    expect(header.alg).toBe("HS256");
    expect(payload.exp - payload.iat).toBe(900);
    expect(payload).toMatchObject({ iss: "stayhub", aud: "stayhub-api", sub: "user-1" });
  });

  test("another key's token is invalid, not expired", async () => {
    const other = createAccessTokens("o".repeat(40), 900);
    expect(await tokens.verify(await other.sign("u"))).toEqual({ ok: false, reason: "invalid" });
  });
});

describe("refresh tokens", () => {
  test("random, URL-safe, stored as a hash", () => {
    const a = newRefreshToken();
    const b = newRefreshToken();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hashRefreshToken(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRefreshToken(a)).toBe(hashRefreshToken(a));
  });
});

describe("SettableClock", () => {
  test("frozen while set, real after reset", () => {
    const clock = new SettableClock();
    clock.set(new Date("2030-01-01T00:00:00Z"));
    expect(clock.now().toISOString()).toBe("2030-01-01T00:00:00.000Z");
    clock.now().setFullYear(1999); // callers cannot move it by mutating what they got
    expect(clock.now().toISOString()).toBe("2030-01-01T00:00:00.000Z");
    clock.reset();
    expect(Math.abs(clock.now().getTime() - Date.now())).toBeLessThan(1000);
  });
});
