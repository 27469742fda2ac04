// Registration, login, token refresh and logout.
import { eq, sql } from "drizzle-orm";
import { sqlState, UNIQUE_VIOLATION } from "../../db/errors";
import { users } from "../../db/schema";
import type { Deps } from "../../dependencies";
import { AppError, unauthenticated } from "../../http/errors";
import { enqueueMany } from "../../jobs/outbox";
import type { UserRow } from "../users/dto";
import { type Actor, requireActive } from "./actor";
import { verificationMailJob } from "./email-verification";
import { countRegistration, type Limited, loginKeys, withAttemptLimit } from "./login-limit";
import { revokeAllSessions, revokeFamilyOf, spendRefreshToken, startSessionAt } from "./sessions";

export interface Session {
  user: UserRow;
  accessToken: string;
  refreshToken: string;
}

export const invalidCredentials = () => new AppError(401, "invalid_credentials", "The e-mail or password is wrong");

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/**
 * A new pair for the user as read: `stale` is thrown when their sessions were revoked since (a
 * password change, suspension, deletion or logout-everywhere that committed meanwhile).
 */
async function issue(user: UserRow, deps: Deps, stale: () => AppError, familyId?: string): Promise<Session> {
  const [accessToken, refreshToken] = await Promise.all([
    deps.tokens.sign(user.id, user.credentialVersion),
    startSessionAt(deps.db, user, deps.config.refreshTokenTtlDays, familyId),
  ]);
  if (refreshToken === null) throw stale();
  return { user, accessToken, refreshToken };
}

/** A new account and its first session; registrations are limited per client address. */
export async function register(
  input: { email: string; password: string; name: string; ip: string },
  deps: Deps,
): Promise<Limited<Session>> {
  const headers = await countRegistration(deps, input.ip);
  return { value: await createAccount(input, deps), headers };
}

async function createAccount(input: { email: string; password: string; name: string }, deps: Deps): Promise<Session> {
  const passwordHash = await deps.passwords.hash(input.password);
  const now = deps.clock.now();
  let user: UserRow | undefined;
  try {
    user = await deps.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(users)
        .values({
          id: Bun.randomUUIDv7(),
          email: normalizeEmail(input.email),
          passwordHash,
          name: input.name.trim(),
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      if (!row) throw new Error("insert returned no row");
      // The welcome and verification e-mails leave through the outbox: only if the account really exists.
      await enqueueMany(tx, deps.clock, [
        {
          type: "notify",
          payload: {
            userId: row.id,
            type: "welcome",
            title: "Welcome to stayhub",
            body: `Hi ${row.name}, your account is ready. Find a stay, or become a host and list your place.`,
            email: true,
          },
        },
        verificationMailJob(row.id),
      ]);
      return row;
    });
  } catch (err) {
    if (sqlState(err) === UNIQUE_VIOLATION)
      throw new AppError(409, "email_taken", "An account with this e-mail already exists");
    throw err;
  }
  if (!user) throw new Error("insert returned no row");
  return issue(user, deps, () => unauthenticated("The account's sessions were revoked meanwhile; log in"));
}

/**
 * Unknown e-mail and wrong password answer alike, in about the same time. Attempts are limited per
 * client address and e-mail (the `headers` say how many are left), whoever calls the verb.
 */
export async function login(
  input: { email: string; password: string; ip: string },
  deps: Deps,
): Promise<Limited<Session>> {
  return withAttemptLimit(deps, loginKeys(input.ip, input.email), () => checkCredentials(input, deps));
}

async function checkCredentials(input: { email: string; password: string }, deps: Deps): Promise<Session> {
  const [user] = await deps.db
    .select()
    .from(users)
    .where(eq(sql`lower(${users.email})`, normalizeEmail(input.email)))
    .limit(1);
  // A deleted account has no password (and its placeholder address is no one's): it is nobody.
  const known = user?.status === "deleted" ? undefined : user;
  const ok = known
    ? await deps.passwords.verify(input.password, known.passwordHash)
    : await deps.passwords.verifyNobody(input.password);
  if (!known || !ok) throw invalidCredentials();
  // A revocation that committed since the row was read (the password may have changed): no session.
  return issue(requireActive(known), deps, invalidCredentials);
}

export async function refresh(refreshToken: string, deps: Deps): Promise<Session> {
  const outcome = await spendRefreshToken(deps.db, refreshToken);
  if (!outcome.ok) {
    if (outcome.reason === "expired") throw new AppError(401, "token_expired", "The refresh token has expired");
    throw unauthenticated(
      outcome.reason === "reused"
        ? "This refresh token was already used; its session has been revoked"
        : "The refresh token is not valid",
    );
  }
  const [user] = await deps.db.select().from(users).where(eq(users.id, outcome.userId)).limit(1);
  const invalid = () => unauthenticated("The refresh token is not valid");
  // Revoked after the token was spent, before this read: the token was good, the session is not.
  if (!user || user.credentialVersion !== outcome.credentialVersion) throw invalid();
  return issue(requireActive(user), deps, invalid, outcome.familyId);
}

export async function logout(
  { actor, refreshToken }: { actor: Actor; refreshToken: string },
  deps: Deps,
): Promise<void> {
  await revokeFamilyOf(deps.db, actor.id, refreshToken);
}

/** Log out everywhere: every refresh-token family of the actor and every access token issued so far. */
export async function logoutEverywhere({ actor }: { actor: Actor }, deps: Deps): Promise<void> {
  await deps.db.transaction((tx) => revokeAllSessions(tx, actor.id));
}
