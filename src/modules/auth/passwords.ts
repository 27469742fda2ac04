// argon2id through Bun.password: hashing runs on Bun's thread pool, never on the event loop.

export interface Passwords {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
  /** Spends the same time as a real verification, for unknown e-mails (no user enumeration by timing). */
  verifyNobody(password: string): Promise<false>;
}

// OWASP's argon2id recommendation (m = 19 MiB, t = 2, p = 1).
const PARAMS = { algorithm: "argon2id", memoryCost: 19_456, timeCost: 2 } as const;

export function createPasswords(params: { memoryCost: number; timeCost: number } = PARAMS): Passwords {
  const options = { algorithm: "argon2id" as const, memoryCost: params.memoryCost, timeCost: params.timeCost };
  let dummy: Promise<string> | undefined;
  return {
    hash: (password) => Bun.password.hash(password, options),
    verify: (password, hash) => Bun.password.verify(password, hash),
    async verifyNobody(password) {
      dummy ??= Bun.password.hash("stayhub-no-such-user", options);
      await Bun.password.verify(password, await dummy);
      return false;
    },
  };
}
