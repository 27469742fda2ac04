// The Elysia-native typed client (Eden Treaty) from the same app type: paths, bodies and answers
// are checked by the compiler, with no generated file in between.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { treaty } from "@elysiajs/eden";
import type { App } from "../../src/app";
import { registerUser, startTestApp, type TestApp } from "../support/app";
import { createListing, registerHost } from "../support/properties";

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

test("per-call headers: a bearer token beside Idempotency-Key on POST /bookings, and on GETs", async () => {
  const client = treaty<App>(t.app);
  const host = await registerHost(t.call);
  const property = await createListing(t.call, host);
  const guest = await registerUser(t.call);
  const authorization = `Bearer ${guest.accessToken}`;
  const headers = { authorization, "idempotency-key": `eden-${crypto.randomUUID()}` };
  const body = { propertyId: property.id, checkIn: "2030-06-01", checkOut: "2030-06-04", guests: 2 };

  const booked = await client.api.v1.bookings.post(body, { headers });
  expect(booked.status).toBe(201);
  if (!booked.data || booked.data instanceof Response) throw new Error("no booking");
  expect(booked.data.guestId).toBe(guest.id);
  // The same key again: the stored answer, parsed by Eden like the first.
  const replayed = await client.api.v1.bookings.post(body, { headers });
  expect(replayed.status).toBe(201);
  expect(replayed.response.headers.get("idempotent-replayed")).toBe("true");
  expect(replayed.data).toEqual(booked.data);

  const read = await client.api.v1.bookings({ id: booked.data.id }).get({ headers: { authorization } });
  expect(read.data?.status).toBe("pending_payment");
  const mine = await client.api.v1.bookings.get({ headers: { authorization }, query: { limit: 10 } });
  expect(mine.data?.data.map((b) => b.id)).toEqual([booked.data.id]);
  // Without the token the declared header is just absent: 401, as for any client.
  const anonymous = await client.api.v1.bookings.post(body, { headers: { "idempotency-key": "eden-anonymous" } });
  expect(anonymous.status).toBe(401);
});

test("every route that takes a bearer token and declares headers declares Authorization too; the document does not list it", async () => {
  type Hooks = { detail?: { security?: unknown[] }; headers?: { properties?: object } };
  const declaring = t.app.routes.filter((r) => {
    const hooks = r.hooks as Hooks;
    return (hooks.detail?.security?.length ?? 0) > 0 && hooks.headers?.properties !== undefined;
  });
  const name = (r: (typeof declaring)[number]) => `${r.method} ${r.path}`;
  expect(declaring.map(name)).toEqual(
    expect.arrayContaining(["POST /api/v1/bookings", "POST /api/v1/bookings/:id/payments"]),
  );
  const missing = declaring.filter(
    (r) => !Object.hasOwn((r.hooks as Hooks).headers?.properties ?? {}, "authorization"),
  );
  expect(missing.map(name)).toEqual([]);

  const document = (await (await t.app.handle(new Request("http://localhost/swagger/json"))).json()) as {
    paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; security?: unknown[] }>>;
  };
  const parameters = Object.values(document.paths).flatMap((operations) =>
    Object.values(operations).flatMap((op) => op.parameters ?? []),
  );
  expect(parameters.filter((p) => p.name.toLowerCase() === "authorization")).toEqual([]);
  const createBooking = document.paths["/api/v1/bookings"]?.post;
  expect(createBooking?.parameters?.map((p) => `${p.in} ${p.name}`)).toEqual(["header idempotency-key"]);
  expect(createBooking?.security).toEqual([{ bearerAuth: [] }]);
});
