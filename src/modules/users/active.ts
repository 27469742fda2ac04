// The one rule of who may act: an active account. A suspended one is 403 whatever it tries, a
// deleted one 401 (its tokens name no one any more). Imported by auth and by the profile verbs.
import { AppError, unauthenticated } from "../../http/errors";
import type { UserRow } from "./dto";

export function requireActive<U extends Pick<UserRow, "status">>(user: U): U {
  if (user.status === "deleted") throw unauthenticated("The account was deleted");
  if (user.status !== "active") throw new AppError(403, "forbidden", "This account is suspended");
  return user;
}
