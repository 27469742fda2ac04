// Access tokens (short-lived HS256 JWTs, algorithm pinned at verification) and opaque refresh tokens.
import { jwt } from "@elysiajs/jwt";
import { systemClock } from "../../lib/clock";
import { isUuid } from "../../lib/ids";

export const ISSUER = "stayhub";
export const AUDIENCE = "stayhub-api";

export type AccessCheck = { ok: true; userId: string } | { ok: false; reason: "expired" | "invalid" };

export interface AccessTokens {
  sign(userId: string): Promise<string>;
  verify(token: string): Promise<AccessCheck>;
}

const VERIFY = { algorithms: ["HS256"], issuer: ISSUER, audience: AUDIENCE, requiredClaims: ["sub", "exp", "iat"] };
// Only used after a failed check, to tell "expired" from "forged": same key, same pins, any age.
const VERIFY_IGNORING_EXPIRY = { ...VERIFY, clockTolerance: 100 * 365 * 86_400 };

const CACHE_SIZE = 10_000;
const SEGMENTS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.([A-Za-z0-9_-]{43})$/;

/**
 * Whether the token is the one canonical text of what it encodes: base64url without padding, and a
 * signature segment that re-encodes to itself. Decoders forgive a trailing "=" or the unused low
 * bits of the last character, so without this one signature had several accepted spellings.
 */
export function isCanonicalToken(token: string): boolean {
  const signature = SEGMENTS.exec(token)?.[1];
  return signature !== undefined && Buffer.from(signature, "base64url").toString("base64url") === signature;
}

export function createAccessTokens(secret: string, ttlSeconds: number): AccessTokens {
  const codec = jwt({
    name: "jwt",
    secret,
    alg: "HS256",
    typ: "JWT",
    iss: ISSUER,
    aud: AUDIENCE,
    exp: `${ttlSeconds}s`,
  }).decorator.jwt;
  // Tokens already verified, by their exact text: a client sends the same token for up to 15
  // minutes, and an HMAC check per request is the largest cost of an authenticated read. Only
  // successes are kept, with their expiry, so nothing unverified is ever trusted from here.
  const verified = new Map<string, { userId: string; exp: number }>();
  return {
    sign: (userId) => codec.sign({ sub: userId }),
    async verify(token) {
      if (!isCanonicalToken(token)) return { ok: false, reason: "invalid" };
      const hit = verified.get(token);
      if (hit) {
        if (hit.exp * 1000 > systemClock.now().getTime()) return { ok: true, userId: hit.userId };
        verified.delete(token);
        return { ok: false, reason: "expired" };
      }
      const claims = await codec.verify(token, VERIFY);
      // A subject that is not a user id names nobody (and must never reach a uuid column).
      if (claims && typeof claims.sub === "string" && isUuid(claims.sub) && typeof claims.exp === "number") {
        if (verified.size >= CACHE_SIZE) verified.delete(verified.keys().next().value as string);
        verified.set(token, { userId: claims.sub, exp: claims.exp });
        return { ok: true, userId: claims.sub };
      }
      const stale = await codec.verify(token, VERIFY_IGNORING_EXPIRY);
      return { ok: false, reason: stale && typeof stale.sub === "string" && isUuid(stale.sub) ? "expired" : "invalid" };
    },
  };
}

/** 256 random bits, URL-safe; only its SHA-256 is stored. */
export function newRefreshToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

export function hashRefreshToken(token: string): string {
  return new Bun.CryptoHasher("sha256").update(token).digest("hex");
}
