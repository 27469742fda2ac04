// Who is acting: the user an access token names, refused when the account may not act. REST's auth
// macro and GraphQL's context resolve actors here (through http/auth.ts), so the rule is written once.
import type { Deps } from "../../dependencies";
import { AppError, unauthenticated } from "../../http/errors";
import { requireActive } from "../users/active";
import type { UserRow } from "../users/dto";
import { findUser } from "../users/service";

export type Actor = UserRow;

export { requireActive };

/** What a verified access token says, before any database read: whose it is, and under which credential version. */
export interface Caller {
  id: string;
  credentialVersion: number;
}

/** The caller an access token names, from the token alone: 401 for a bad or expired one. */
export async function callerOfToken(token: string, deps: Deps): Promise<Caller> {
  const check = await deps.tokens.verify(token);
  if (!check.ok) {
    throw check.reason === "expired"
      ? new AppError(401, "token_expired", "The access token has expired; refresh it")
      : unauthenticated("The access token is not valid");
  }
  return { id: check.userId, credentialVersion: check.credentialVersion };
}

/**
 * The caller's account as read (undefined: there is none), if it may act: 401 for a token of an
 * orphaned or revoked session, 403 when suspended. The rule every actor is resolved by.
 */
export function actingAs<U extends Pick<UserRow, "status" | "credentialVersion">>(
  user: U | undefined,
  caller: Caller,
): U {
  if (!user) throw unauthenticated("The access token is not valid");
  // The row read anyway (status, roles) carries the credential version: a token issued before
  // the last password change, suspension, deletion or logout-everywhere names a version the row
  // no longer has, on every instance, without a cache to keep coherent.
  if (user.credentialVersion !== caller.credentialVersion && user.status !== "deleted") throw revoked();
  return requireActive(user);
}

export const revoked = () =>
  unauthenticated("The access token was revoked (password changed, account suspended or logged out everywhere)");

/** The actor an access token names: 401 for a bad, expired, revoked or orphaned token, 403 when suspended. */
export async function actorForToken(token: string, deps: Deps): Promise<Actor> {
  const caller = await callerOfToken(token, deps);
  return actingAs(await findUser(caller.id, deps), caller);
}
