// Occupancy-tax rules: admins add and delete them; a quote has them at once, a booking made after
// a rule has its line (and keeps it when the rule goes), each kind on its base, by country and by
// city (case-insensitive). (That a rule added between a booking's read and its commit gets the
// booking priced again is the terms' version's: tests/integration/terms-version.test.ts.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createAdmin } from "../../src/modules/users/admin-cli";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { type BookingBody, book, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";

let t: TestApp;
let admin: string;
let host: Registered;
const NOW = "2031-06-01T09:00:00.000Z";
const api = (path: string) => `/api/v1${path}`;

beforeAll(async () => {
  t = await startTestApp();
  await setClock(t.call, NOW);
  await createAdmin({ email: "taxes@example.com", password: "admin password 1" }, t.deps);
  const login = await t.call<{ accessToken: string }>("POST", api("/auth/login"), {
    body: { email: "taxes@example.com", password: "admin password 1" },
  });
  admin = login.body.accessToken;
  host = await registerHost(t.call);
}, 60_000);
afterAll(async () => {
  await t?.call("DELETE", "/api/v1/_test/clock");
  await t?.close();
});

type Rule = {
  id: string;
  country: string;
  city: string | null;
  name: string;
  kind: string;
  value: number;
  base: string;
};
const addRule = (body: Record<string, unknown>) =>
  t.call<Rule & { code?: string; errors?: { path: string }[] }>("POST", api("/admin/tax-rules"), {
    token: admin,
    body,
  });
const quoteOf = (id: string, qs: string) =>
  t.call<{ price: BookingBody["price"] }>("GET", api(`/properties/${id}/quote?${qs}`));

describe("occupancy taxes", () => {
  test("each kind on its base, by country and city; the booking keeps its lines when a rule goes", async () => {
    // Iceland: no other test adds rules there. Two nights, 3 guests, 20000 a night, cleaning 5000.
    const place = { line1: "Laugavegur 1", city: "Reykjavik", country: "IS" };
    const p = await createListing(t.call, host, {
      address: place,
      currency: "ISK",
      pricePerNight: 20_000,
      cleaningFee: 5_000,
      maxGuests: 4,
    });
    const other = await createListing(t.call, host, { address: { ...place, city: "Akureyri" }, currency: "ISK" });
    const made = [
      await addRule({ country: "IS", name: "VAT", kind: "percent", value: 11, base: "nights_and_cleaning" }),
      await addRule({ country: "IS", name: "Levy", kind: "percent", value: 3 }), // base: nights
      await addRule({ country: "IS", city: "reykjavik", name: "City tax", kind: "per_guest_per_night", value: 300 }),
      await addRule({ country: "IS", city: "Reykjavik", name: "Night tax", kind: "per_night", value: 600 }),
      await addRule({ country: "IS", city: "Reykjavik", name: "Stay fee", kind: "per_stay", value: 999 }),
    ];
    for (const r of made) expect(r.status).toBe(201);
    expect(made[1]?.body).toMatchObject({ base: "nights", city: null });
    const qs = "checkIn=2031-07-01&checkOut=2031-07-03&guests=3";
    const taxes = [
      { name: "VAT", amount: 4_950 }, // 11 % of 40000 + 5000
      { name: "Levy", amount: 1_200 }, // 3 % of 40000
      { name: "City tax", amount: 1_800 }, // 300 × 3 guests × 2 nights
      { name: "Night tax", amount: 1_200 }, // 600 × 2 nights
      { name: "Stay fee", amount: 999 },
    ];
    const quoted = await quoteOf(p.id, qs);
    expect(quoted.status).toBe(200);
    expect(quoted.body.price.taxes).toEqual(taxes);
    expect(quoted.body.price.total).toBe(45_000 + 4_500 + 10_149);
    // Another city of the country: only the country's rules.
    expect((await quoteOf(other.id, qs)).body.price.taxes.map((x) => x.name)).toEqual(["VAT", "Levy"]);
    const guest = await registerUser(t.call);
    const booked = await book(t.call, guest, {
      propertyId: p.id,
      checkIn: "2031-07-01",
      checkOut: "2031-07-03",
      guests: 3,
    });
    expect(booked.status).toBe(201);
    expect(booked.body.price).toEqual(quoted.body.price);
    // Deleted: new quotes lose the line, the booking keeps it.
    const gone = await t.call("DELETE", api(`/admin/tax-rules/${made[0]?.body.id}`), { token: admin });
    expect(gone.status).toBe(204);
    expect((await t.call("DELETE", api(`/admin/tax-rules/${made[0]?.body.id}`), { token: admin })).status).toBe(404);
    expect((await quoteOf(p.id, qs)).body.price.taxes.map((x) => x.name)).toEqual([
      "Levy",
      "City tax",
      "Night tax",
      "Stay fee",
    ]);
    const read = await t.call<BookingBody>("GET", api(`/bookings/${booked.body.id}`), { token: guest.accessToken });
    expect(read.body.price.taxes).toEqual(taxes);
    // The list, and the audit log of both changes.
    const list = await t.call<{ data: Rule[] }>("GET", api("/admin/tax-rules"), { token: admin });
    expect(list.body.data.filter((r) => r.country === "IS").map((r) => r.name)).toEqual([
      "Levy",
      "City tax",
      "Night tax",
      "Stay fee",
    ]);
    const audit = await t.call<{ data: { action: string; targetId: string }[] }>("GET", api("/admin/audit?limit=100"), {
      token: admin,
    });
    const actions = audit.body.data.filter((a) => a.targetId === made[0]?.body.id).map((a) => a.action);
    expect(actions).toEqual(["tax_rule.delete", "tax_rule.create"]);
  });

  test("bad rules are 422 naming the field", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ country: "PT", name: "VAT", kind: "percent", value: 101 }, "/value"],
      [{ country: "XX", name: "VAT", kind: "percent", value: 5 }, "/country"],
      [{ country: "pt", name: "VAT", kind: "percent", value: 5 }, "/country"],
      [{ country: "PT", name: " ", kind: "percent", value: 5 }, "/name"],
      [{ country: "PT", name: "VAT", kind: "per_week", value: 5 }, "/kind"],
      [{ country: "PT", name: "VAT", kind: "per_stay", value: -1 }, "/value"],
      [{ country: "PT", name: "VAT", kind: "percent", value: 5, base: "everything" }, "/base"],
      [{ country: "PT", name: "VAT", kind: "percent", value: 5, surprise: true }, "/surprise"],
    ];
    for (const [body, path] of cases) {
      const res = await addRule(body);
      expect({ body, status: res.status, paths: res.body.errors?.map((e) => e.path) }).toEqual({
        body,
        status: 422,
        paths: expect.arrayContaining([path]),
      });
    }
  });
});
