import { describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { SettableClock } from "../../src/lib/clock";
import { createAccessTokens, hashRefreshToken, isCanonicalToken, newRefreshToken } from "../../src/modules/auth/tokens";

describe("access tokens", () => {
  const tokens = createAccessTokens("k".repeat(40), 900);

  const USER = "01a21001-1cb3-775a-ba4d-59603dabccf5";

  test("round trip", async () => {
    const token = await tokens.sign(USER, 3);
    expect(await tokens.verify(token)).toEqual({ ok: true, userId: USER, credentialVersion: 3 });
    const [header, payload] = token
      .split(".")
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p ?? "", "base64url").toString()));
    expect(header.alg).toBe("HS256");
    expect(payload.exp - payload.iat).toBe(900);
    expect(payload).toMatchObject({ iss: "stayhub", aud: "stayhub-api", sub: USER, cv: 3 });
  });

  test("only the canonical spelling of a signature is accepted: no padding, no sibling last character", async () => {
    const token = await tokens.sign(USER, 3);
    expect(isCanonicalToken(token)).toBe(true);
    const last = token.at(-1) as string;
    // The last of 43 characters carries 4 bits of the signature and 2 unused ones: its siblings decode alike.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const index = alphabet.indexOf(last);
    const siblings = [0, 1, 2, 3].map((low) => alphabet[(index & ~3) | low] as string).filter((c) => c !== last);
    for (const forged of [`${token}=`, `${token}==`, ...siblings.map((c) => token.slice(0, -1) + c)]) {
      expect(await tokens.verify(forged), forged.slice(-3)).toEqual({ ok: false, reason: "invalid" });
    }
    expect(await tokens.verify(token)).toEqual({ ok: true, userId: USER, credentialVersion: 3 }); // the real one still works
  });

  test("a subject that is not a user id is invalid (never a query with it)", async () => {
    expect(await tokens.verify(await tokens.sign("user-1", 0))).toEqual({ ok: false, reason: "invalid" });
    expect(await tokens.verify(await tokens.sign("'; drop table users; --", 0))).toEqual({
      ok: false,
      reason: "invalid",
    });
  });

  test("the credential version: absent (a token signed before the claim) is 0; anything but a count is invalid", async () => {
    // Signed with the same key, as a release before the claim (or a holder of the key) would.
    const signed = (claims: Record<string, unknown>) =>
      new SignJWT({ sub: USER, ...claims })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setIssuer("stayhub")
        .setAudience("stayhub-api")
        .setIssuedAt()
        .setExpirationTime("900s")
        .sign(new TextEncoder().encode("k".repeat(40)));
    expect(await tokens.verify(await signed({}))).toEqual({ ok: true, userId: USER, credentialVersion: 0 });
    for (const cv of ["1", -1, 1.5, null]) {
      expect(await tokens.verify(await signed({ cv })), String(cv)).toEqual({ ok: false, reason: "invalid" });
    }
  });

  test("another key's token is invalid, not expired", async () => {
    const other = createAccessTokens("o".repeat(40), 900);
    expect(await tokens.verify(await other.sign(USER, 0))).toEqual({ ok: false, reason: "invalid" });
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
