// The Elysia-native typed client (Eden Treaty) from the same app type: paths, bodies and answers
// are checked by the compiler, with no generated file in between.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { treaty } from "@elysiajs/eden";
import type { App } from "../../src/app";
import { startTestApp, type TestApp } from "../support/app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
}, 60_000);
afterAll(() => t?.close());

test("register, read the profile and a public profile through Eden Treaty", async () => {
  const client = treaty<App>(t.app);
  const email = `eden-${Date.now()}@example.com`;
  const registered = await client.api.v1.auth.register.post({
    email,
    password: "a long enough password",
    name: "Eden",
  });
  expect(registered.status).toBe(201);
  if (!registered.data) throw new Error("no session");
  const token: string = registered.data.accessToken;
  const me = await client.api.v1.users.me.get({ headers: { authorization: `Bearer ${token}` } });
  expect(me.data?.email).toBe(email);
  const profile = await client.api.v1.users({ id: registered.data.user.id }).get();
  expect(profile.data?.name).toBe("Eden");
  // Rules hold for typed clients too: the server, not the type, is the last word.
  const invalid = await client.api.v1.properties.get({ query: { limit: 0 } });
  expect(invalid.status).toBe(422);
});
