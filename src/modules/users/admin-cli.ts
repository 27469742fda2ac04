// `stayhub admin create --email E`: the only way an admin comes to exist.
import { eq, sql } from "drizzle-orm";
import { users } from "../../db/schema";
import type { Deps } from "../../dependencies";
import { normalizeEmail } from "../auth/service";

export interface AdminResult {
  email: string;
  created: boolean;
  password?: string;
}

/** Grants `admin` to the user with this e-mail, creating the account when there is none. */
export async function createAdmin(
  input: { email: string; name?: string; password?: string },
  deps: Deps,
): Promise<AdminResult> {
  const email = normalizeEmail(input.email);
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254)
    throw new Error(`--email must be an e-mail address, got "${input.email}"`);
  if (input.password !== undefined && (input.password.length < 10 || input.password.length > 128)) {
    throw new Error("--password must be 10–128 characters");
  }
  const [existing] = await deps.db
    .select({ id: users.id })
    .from(users)
    .where(eq(sql`lower(${users.email})`, email))
    .limit(1);
  if (existing) {
    await deps.db
      .update(users)
      .set({
        roles: sql`case when 'admin' = any(${users.roles}) then ${users.roles} else array_append(${users.roles}, 'admin') end`,
      })
      .where(eq(users.id, existing.id));
    return { email, created: false };
  }
  const password = input.password ?? Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64url");
  const now = deps.clock.now();
  await deps.db.insert(users).values({
    id: Bun.randomUUIDv7(),
    email,
    name: input.name ?? "Administrator",
    passwordHash: await deps.passwords.hash(password),
    roles: ["guest", "admin"],
    // Made by the operator at the console: the address is theirs to vouch for.
    emailVerifiedAt: now,
    createdAt: now,
    updatedAt: now,
  });
  return { email, created: true, password: input.password ? undefined : password };
}
