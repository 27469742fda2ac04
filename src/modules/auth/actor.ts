// Who is acting: the user an access token names, refused when the account may not act. REST's auth
// macro, GraphQL and jobs resolve actors here, so the suspended-account rule is written once.
import type { Deps } from "../../dependencies";
import { AppError, unauthenticated } from "../../http/errors";
import type { UserRow } from "../users/dto";
import { findUser } from "../users/service";

export type Actor = UserRow;

/** The user, when the account may act; a suspended one is 403 whatever it tries, a deleted one 401. */
export function requireActive(user: UserRow): Actor {
  if (user.status === "deleted") throw unauthenticated("The account was deleted");
  if (user.status !== "active") throw new AppError(403, "forbidden", "This account is suspended");
  return user;
}

/** The actor an access token names: 401 for a bad, expired or orphaned token, 403 when suspended. */
export async function actorForToken(token: string, deps: Deps): Promise<Actor> {
  const check = await deps.tokens.verify(token);
  if (!check.ok) {
    throw check.reason === "expired" ? new AppError(401, "token_expired", "The access token has expired; refresh it") : unauthenticated("The access token is not valid");
  }
  const user = await findUser(check.userId, deps);
  if (!user) throw unauthenticated("The access token is not valid");
  return requireActive(user);
}
