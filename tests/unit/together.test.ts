// Statements sent together: the error thrown is the one that failed the transaction, whichever
// promise rejected first (a later statement's "current transaction is aborted" can arrive first).
import { expect, test } from "bun:test";
import { IN_FAILED_SQL_TRANSACTION, together } from "../../src/db/together";

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });
const rejectAfter = (ms: number, err: Error) => new Promise((_, reject) => setTimeout(() => reject(err), ms));

test("the answers come back in the order the statements were given", async () => {
  expect(await together(Promise.resolve(1), new Promise((r) => setTimeout(() => r("two"), 5)), undefined)).toEqual([
    1,
    "two",
    undefined,
  ]);
});

test("a unique violation is thrown even when another statement's 25P02 rejected first", async () => {
  const unique = pgError("23505");
  const thrown = await together(rejectAfter(1, pgError(IN_FAILED_SQL_TRANSACTION)), rejectAfter(10, unique)).catch(
    (e) => e,
  );
  expect(thrown).toBe(unique);
});

test("wrapped errors are seen through (Drizzle puts the driver's error in cause), and 25P02 alone is thrown as it is", async () => {
  const deadlock = Object.assign(new Error("Failed query"), { cause: pgError("40P01") });
  expect(
    await together(
      rejectAfter(1, pgError(IN_FAILED_SQL_TRANSACTION)),
      rejectAfter(5, deadlock),
      Promise.resolve(3),
    ).catch((e) => e),
  ).toBe(deadlock);
  const aborted = pgError(IN_FAILED_SQL_TRANSACTION);
  expect(await together(rejectAfter(1, aborted)).catch((e) => e)).toBe(aborted);
});
