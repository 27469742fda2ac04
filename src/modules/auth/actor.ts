// Who is acting: the user an access token names, refused when the account may not act. REST's auth
// macro and GraphQL's context resolve actors here (through http/auth.ts), so the rule is written once.
import type { Deps } from "../../dependencies";
import { AppError, unauthenticated } from "../../http/errors";
import { requireActive } from "../users/active";
import type { UserRow } from "../users/dto";
import { findUser } from "../users/service";

export type Actor = UserRow;

export { requireActive };

/** The actor an access token names: 401 for a bad, expired, revoked or orphaned token, 403 when suspended. */
export async function actorForToken(token: string, deps: Deps): Promise<Actor> {
  const check = await deps.tokens.verify(token);
  if (!check.ok) {
    throw check.reason === "expired"
      ? new AppError(401, "token_expired", "The access token has expired; refresh it")
      : unauthenticated("The access token is not valid");
  }
  // The row read here anyway (status, roles) carries the credential version: a token issued
  // before the last password change, suspension, deletion or logout-everywhere names a version
  // the row no longer has, on every instance, without a cache to keep coherent.
  const user = await findUser(check.userId, deps);
  if (!user) throw unauthenticated("The access token is not valid");
  if (user.credentialVersion !== check.credentialVersion && user.status !== "deleted")
    throw unauthenticated(
      "The access token was revoked (password changed, account suspended or logged out everywhere)",
    );
  return requireActive(user);
}
