// Access tokens (short-lived HS256 JWTs, algorithm pinned at verification) and opaque refresh tokens.
import { jwt } from "@elysiajs/jwt";
import { systemClock } from "../../lib/clock";
import { isUuid } from "../../lib/ids";

export const ISSUER = "stayhub";
export const AUDIENCE = "stayhub-api";

/**
 * `credentialVersion` is the user's credential version when the token was issued (claim `cv`; a
 * token without it was issued before the claim existed and counts as version 0): the caller
 * compares it with the user's row, so a token outlives no password change, suspension or logout.
 */
export type AccessCheck =
  | { ok: true; userId: string; credentialVersion: number }
  | { ok: false; reason: "expired" | "invalid" };

export interface AccessTokens {
  sign(userId: string, credentialVersion: number): Promise<string>;
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
  // successes are kept, with their expiry, so nothing unverified is ever trusted from here; what
  // is kept is what the token says (its signature checked), never whether it is still honoured:
  // the credential version it carries is compared with the user's row at every request.
  const verified = new Map<string, { userId: string; exp: number; credentialVersion: number }>();
  return {
    sign: (userId, credentialVersion) => codec.sign({ sub: userId, cv: credentialVersion }),
    async verify(token) {
      if (!isCanonicalToken(token)) return { ok: false, reason: "invalid" };
      const hit = verified.get(token);
      if (hit) {
        if (hit.exp * 1000 > systemClock.now().getTime())
          return { ok: true, userId: hit.userId, credentialVersion: hit.credentialVersion };
        verified.delete(token);
        return { ok: false, reason: "expired" };
      }
      const claims = await codec.verify(token, VERIFY);
      // A subject that is not a user id names nobody (and must never reach a uuid column).
      const credentialVersion = claims ? versionClaim(claims.cv) : null;
      if (
        claims &&
        typeof claims.sub === "string" &&
        isUuid(claims.sub) &&
        typeof claims.exp === "number" &&
        credentialVersion !== null
      ) {
        if (verified.size >= CACHE_SIZE) verified.delete(verified.keys().next().value as string);
        verified.set(token, { userId: claims.sub, exp: claims.exp, credentialVersion });
        return { ok: true, userId: claims.sub, credentialVersion };
      }
      const stale = await codec.verify(token, VERIFY_IGNORING_EXPIRY);
      const wasValid = stale && typeof stale.sub === "string" && isUuid(stale.sub) && versionClaim(stale.cv) !== null;
      return { ok: false, reason: wasValid ? "expired" : "invalid" };
    },
  };
}

/** The `cv` claim: absent (a token signed before it existed) is version 0; anything but a count is no version. */
function versionClaim(cv: unknown): number | null {
  if (cv === undefined) return 0;
  return typeof cv === "number" && Number.isSafeInteger(cv) && cv >= 0 ? cv : null;
}

/** 256 random bits, URL-safe; only its SHA-256 is stored. */
export function newRefreshToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

export function hashRefreshToken(token: string): string {
  return new Bun.CryptoHasher("sha256").update(token).digest("hex");
}
