// Wishlists (named lists, idempotent saves, only visible listings, at most 50 — also when made at
// once) and date alerts: made only for a stay that cannot be booked now, told exactly once when
// every night is free again (a cancellation, a block removed, the rules eased), not when freed in
// part, expired once check-in passes; the change's probe of the waiting alerts is one indexed query.
import { beforeAll, describe, expect, test } from "bun:test";
import { checkFreed } from "../../src/modules/wishlists/alerts";
import { type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { book, captureMail, drainJobs, onTestClock, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";

const NOW = "2031-05-01T09:00:00.000Z";
let t: TestApp;
const mails = [] as { to: string; subject: string; text: string }[];

beforeAll(async () => {
  t = await startTestApp({ PAYMENT_PROVIDER_LATENCY_MS: "0" });
  captureMail(t, mails);
}, 60_000);
onTestClock(() => t, NOW);

const api = (path: string) => `/api/v1${path}`;
const query = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  t.deps.database.raw.query(text, params) as Promise<T[]>;

async function paidStay(guest: Registered, propertyId: string, checkIn: string, checkOut: string) {
  const made = await book(t.call, guest, { propertyId, checkIn, checkOut });
  expect(made.status).toBe(201);
  await t.call("POST", api(`/bookings/${made.body.id}/payments`), {
    token: guest.accessToken,
    body: { paymentMethod: "pm_card_visa" },
    headers: { "idempotency-key": crypto.randomUUID() },
  });
  await drainJobs(t);
  return made.body.id;
}

const alertsOf = async (u: Registered) =>
  (await t.call<{ data: { id: string; status: string }[] }>("GET", api("/alerts"), { token: u.accessToken })).body.data;
const toldOf = async (u: Registered) =>
  (
    await query<{ n: number }>(
      "select count(*)::int as n from notifications where user_id = $1 and type = 'alert_available'",
      [u.id],
    )
  )[0]?.n;

describe("wishlists", () => {
  test("made, renamed, saved to idempotently, newest saved first, only visible listings", async () => {
    const host = await registerHost(t.call);
    const a = await createListing(t.call, host);
    const b = await createListing(t.call, host);
    const user = await registerUser(t.call);
    const made = await t.call<{ id: string; name: string; propertyCount: number }>("POST", api("/wishlists"), {
      token: user.accessToken,
      body: { name: "  Summer  " },
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ name: "Summer", propertyCount: 0 });
    const blank = await t.call("POST", api("/wishlists"), { token: user.accessToken, body: { name: "   " } });
    expect(blank.status).toBe(422);
    const id = made.body.id;
    for (const p of [a.id, b.id, a.id]) {
      const put = await t.call("PUT", api(`/wishlists/${id}/properties/${p}`), { token: user.accessToken });
      expect(put.status).toBe(204);
    }
    const page = await t.call<{ data: { id: string }[] }>("GET", api(`/wishlists/${id}/properties`), {
      token: user.accessToken,
    });
    // a was saved first and saving it again kept its place.
    expect(page.body.data.map((p) => p.id)).toEqual([b.id, a.id]);
    const renamed = await t.call("PATCH", api(`/wishlists/${id}`), {
      token: user.accessToken,
      body: { name: "Winter" },
    });
    expect(renamed.body).toMatchObject({ name: "Winter", propertyCount: 2 });
    // Unlisted: gone from the list and its count, back once listed again.
    expect((await t.call("DELETE", api(`/properties/${b.id}`), { token: host.accessToken })).status).toBe(204);
    const after = await t.call<{ data: { id: string; propertyCount: number }[] }>("GET", api("/wishlists"), {
      token: user.accessToken,
    });
    expect(after.body.data[0]).toMatchObject({ id, propertyCount: 1 });
    const visible = await t.call<{ data: { id: string }[] }>("GET", api(`/wishlists/${id}/properties`), {
      token: user.accessToken,
    });
    expect(visible.body.data.map((p) => p.id)).toEqual([a.id]);
    // Someone else's list is a 404, whatever the verb; a listing that does not exist too.
    const other = await registerUser(t.call);
    for (const [method, path] of [
      ["GET", `/wishlists/${id}/properties`],
      ["PUT", `/wishlists/${id}/properties/${a.id}`],
      ["DELETE", `/wishlists/${id}/properties/${a.id}`],
      ["PATCH", `/wishlists/${id}`],
      ["DELETE", `/wishlists/${id}`],
    ] as const) {
      const r = await t.call(method, api(path), {
        token: other.accessToken,
        body: method === "PATCH" ? { name: "x" } : undefined,
      });
      expect(r.status).toBe(404);
    }
    const missing = await t.call("PUT", api(`/wishlists/${id}/properties/${crypto.randomUUID()}`), {
      token: user.accessToken,
    });
    expect(missing.status).toBe(404);
    // Removing is idempotent.
    for (let i = 0; i < 2; i++)
      expect(
        (await t.call("DELETE", api(`/wishlists/${id}/properties/${a.id}`), { token: user.accessToken })).status,
      ).toBe(204);
    // In the account export, gone with the list.
    const exported = await t.call<{ wishlists: { id: string; propertyIds: string[] }[] }>(
      "GET",
      api("/users/me/export"),
      {
        token: user.accessToken,
      },
    );
    expect(exported.body.wishlists).toEqual([expect.objectContaining({ id, propertyIds: [b.id] })]);
    expect((await t.call("DELETE", api(`/wishlists/${id}`), { token: user.accessToken })).status).toBe(204);
    expect((await t.call("GET", api(`/wishlists/${id}`), { token: user.accessToken })).status).toBe(404);
  });

  test("at most 50 a user, also when 60 are asked for at once", async () => {
    const user = await registerUser(t.call);
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        t.call<{ code?: string }>("POST", api("/wishlists"), { token: user.accessToken, body: { name: `list ${i}` } }),
      ),
    );
    expect(answers.filter((a) => a.status === 201).length).toBe(50);
    expect(answers.filter((a) => a.status === 409).every((a) => a.body.code === "limit_reached")).toBe(true);
    expect(answers.filter((a) => a.status === 409).length).toBe(10);
    const [row] = await query<{ n: number }>("select count(*)::int as n from wishlists where user_id = $1", [user.id]);
    expect(row?.n).toBe(50);
  });
});

describe("alerts", () => {
  test("409 for a stay that can be booked; told once when a cancellation frees it, not when freed in part", async () => {
    const host = await registerHost(t.call);
    const listing = await createListing(t.call, host);
    const free = await registerUser(t.call);
    const open = await t.call<{ code: string }>("POST", api("/alerts"), {
      token: free.accessToken,
      body: { propertyId: listing.id, checkIn: "2031-06-10", checkOut: "2031-06-14", guests: 1 },
    });
    expect(open.status).toBe(409);
    expect(open.body.code).toBe("already_available");

    const g1 = await registerUser(t.call);
    const g2 = await registerUser(t.call);
    const first = await paidStay(g1, listing.id, "2031-06-10", "2031-06-12");
    const second = await paidStay(g2, listing.id, "2031-06-12", "2031-06-14");
    const watcher = await registerUser(t.call);
    const made = await t.call<{ id: string; status: string }>("POST", api("/alerts"), {
      token: watcher.accessToken,
      body: { propertyId: listing.id, checkIn: "2031-06-10", checkOut: "2031-06-14", guests: 1 },
    });
    expect(made.status).toBe(201);
    expect(made.body.status).toBe("waiting");
    // The same stay again answers the alert that waits.
    const again = await t.call<{ id: string }>("POST", api("/alerts"), {
      token: watcher.accessToken,
      body: { propertyId: listing.id, checkIn: "2031-06-10", checkOut: "2031-06-14", guests: 1 },
    });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(made.body.id);
    await drainJobs(t);
    // Freed in part: still waiting.
    expect((await t.call("POST", api(`/bookings/${first}/cancel`), { token: g1.accessToken, body: {} })).status).toBe(
      200,
    );
    await drainJobs(t);
    expect((await alertsOf(watcher))[0]?.status).toBe("waiting");
    expect(await toldOf(watcher)).toBe(0);
    // Every night free: told, once (a redelivered check changes nothing).
    mails.length = 0;
    expect((await t.call("POST", api(`/bookings/${second}/cancel`), { token: g2.accessToken, body: {} })).status).toBe(
      200,
    );
    await drainJobs(t);
    expect((await alertsOf(watcher))[0]?.status).toBe("notified");
    await checkFreed({ propertyId: listing.id, from: null, to: null }, t.deps);
    await drainJobs(t);
    expect(await toldOf(watcher)).toBe(1);
    expect(mails.filter((m) => m.to === watcher.email).length).toBe(1);
  });

  test("a block removed and eased rules free a stay; check-in passed expires it", async () => {
    const host = await registerHost(t.call);
    const listing = await createListing(t.call, host);
    const blocked = await t.call("PUT", api(`/properties/${listing.id}/calendar`), {
      token: host.accessToken,
      body: { from: "2031-07-01", to: "2031-07-05", blocked: true },
    });
    expect(blocked.status).toBe(200);
    const watcher = await registerUser(t.call);
    const body = { propertyId: listing.id, checkIn: "2031-07-02", checkOut: "2031-07-04", guests: 1 };
    expect((await t.call("POST", api("/alerts"), { token: watcher.accessToken, body })).status).toBe(201);
    // Another, on nights that stay blocked, and one that expires.
    const late = { ...body, checkIn: "2031-07-04", checkOut: "2031-07-06" };
    expect((await t.call("POST", api("/alerts"), { token: watcher.accessToken, body: late })).status).toBe(201);
    await drainJobs(t);
    const unblocked = await t.call("PUT", api(`/properties/${listing.id}/calendar`), {
      token: host.accessToken,
      body: { from: "2031-07-01", to: "2031-07-04", blocked: false },
    });
    expect(unblocked.status).toBe(200);
    await drainJobs(t);
    const byStay = async () =>
      Object.fromEntries(
        (await alertsOf(watcher)).map((a) => [(a as unknown as { checkIn: string }).checkIn, a.status]),
      );
    expect(await byStay()).toEqual({ "2031-07-02": "notified", "2031-07-04": "waiting" });
    await setClock(t.call, "2031-07-05T00:00:00.000Z");
    expect(await byStay()).toEqual({ "2031-07-02": "notified", "2031-07-04": "expired" });
  });

  test("rules tightened keep it waiting, eased again tell it; two checks at once tell it once", async () => {
    const host = await registerHost(t.call);
    const listing = await createListing(t.call, host);
    const guest = await registerUser(t.call);
    const stay = await paidStay(guest, listing.id, "2031-06-20", "2031-06-22");
    const watcher = await registerUser(t.call);
    const body = { propertyId: listing.id, checkIn: "2031-06-20", checkOut: "2031-06-22", guests: 1 };
    expect((await t.call("POST", api("/alerts"), { token: watcher.accessToken, body })).status).toBe(201);
    await drainJobs(t);
    const rules = (minNights: number) =>
      t.call("PATCH", api(`/properties/${listing.id}`), { token: host.accessToken, body: { minNights } });
    expect((await rules(5)).status).toBe(200);
    expect((await t.call("POST", api(`/bookings/${stay}/cancel`), { token: guest.accessToken, body: {} })).status).toBe(
      200,
    );
    await drainJobs(t);
    // Free, but two nights are too short a stay now.
    expect((await alertsOf(watcher))[0]?.status).toBe("waiting");
    // Two checks race (the job, and another as if redelivered): one tells.
    expect((await rules(1)).status).toBe(200);
    await Promise.all([
      checkFreed({ propertyId: listing.id, from: null, to: null }, t.deps),
      checkFreed({ propertyId: listing.id, from: "2031-06-20", to: "2031-06-22" }, t.deps),
      drainJobs(t),
    ]);
    await drainJobs(t);
    expect((await alertsOf(watcher))[0]?.status).toBe("notified");
    expect(await toldOf(watcher)).toBe(1);
  });

  test("an owner suspended when the stay frees is told all the same (the alert is not lost)", async () => {
    const host = await registerHost(t.call);
    const listing = await createListing(t.call, host);
    const guest = await registerUser(t.call);
    const stay = await paidStay(guest, listing.id, "2031-06-25", "2031-06-27");
    const watcher = await registerUser(t.call);
    const body = { propertyId: listing.id, checkIn: "2031-06-25", checkOut: "2031-06-27", guests: 1 };
    expect((await t.call("POST", api("/alerts"), { token: watcher.accessToken, body })).status).toBe(201);
    await drainJobs(t);
    await query("update users set status = 'suspended' where id = $1", [watcher.id]);
    expect((await t.call("POST", api(`/bookings/${stay}/cancel`), { token: guest.accessToken, body: {} })).status).toBe(
      200,
    );
    await drainJobs(t);
    const [row] = await query<{ status: string }>("select status from alerts where user_id = $1", [watcher.id]);
    expect(row?.status).toBe("notified");
    expect(await toldOf(watcher)).toBe(1);
  });

  test("at most 20 waiting; 422s as a quote's; someone else's is a 404", async () => {
    const host = await registerHost(t.call);
    const listing = await createListing(t.call, host);
    await t.call("PUT", api(`/properties/${listing.id}/calendar`), {
      token: host.accessToken,
      body: { from: "2031-08-01", to: "2031-09-30", blocked: true },
    });
    const user = await registerUser(t.call);
    const answers = [];
    for (let i = 0; i < 21; i++) {
      const day = String(1 + i).padStart(2, "0");
      answers.push(
        await t.call<{ code?: string }>("POST", api("/alerts"), {
          token: user.accessToken,
          body: {
            propertyId: listing.id,
            checkIn: `2031-08-${day}`,
            checkOut: `2031-08-${String(2 + i).padStart(2, "0")}`,
            guests: 1,
          },
        }),
      );
    }
    expect(answers.slice(0, 20).every((a) => a.status === 201)).toBe(true);
    expect(answers[20]?.status).toBe(429);
    expect(answers[20]?.body.code).toBe("too_many_alerts");
    const past = await t.call("POST", api("/alerts"), {
      token: user.accessToken,
      body: { propertyId: listing.id, checkIn: "2031-01-01", checkOut: "2031-01-03", guests: 1 },
    });
    expect(past.status).toBe(422);
    const own = await t.call("POST", api("/alerts"), {
      token: host.accessToken,
      body: { propertyId: listing.id, checkIn: "2031-08-01", checkOut: "2031-08-03", guests: 1 },
    });
    expect(own.status).toBe(422);
    const mine = (await alertsOf(user))[0];
    const other = await registerUser(t.call);
    expect((await t.call("DELETE", api(`/alerts/${mine?.id}`), { token: other.accessToken })).status).toBe(404);
    expect((await t.call("DELETE", api(`/alerts/${mine?.id}`), { token: user.accessToken })).status).toBe(204);
  });

  test("with 100,000 alerts waiting, a freed stay's probe is one index scan", async () => {
    const host = await registerHost(t.call);
    const listing = await createListing(t.call, host);
    const user = await registerUser(t.call);
    await query(
      `insert into alerts (user_id, property_id, check_in, check_out, guests, created_at)
       select $1, p.id, date '2031-09-01' + (i % 300), date '2031-09-03' + (i % 300), 1, now()
       from generate_series(1, 100000) i, lateral (select id from properties order by id offset (i % 50) limit 1) p`,
      [user.id],
    ).catch(async () => {
      // Fewer listings than 50: all on the one made here.
      await query(
        `insert into alerts (user_id, property_id, check_in, check_out, guests, created_at)
         select $1, $2, date '2031-09-01' + (i % 300), date '2031-09-03' + (i % 300), 1, now() from generate_series(1, 100000) i`,
        [user.id, listing.id],
      );
    });
    await query("analyze alerts");
    const plan = await query<{ "QUERY PLAN": string }>(
      `explain select 1 from alerts a where a.property_id = $1 and a.status = 'waiting'
         and daterange(a.check_in, a.check_out) && daterange($2::date, $3::date)`,
      [listing.id, "2031-09-10", "2031-09-12"],
    );
    const text = plan.map((r) => r["QUERY PLAN"]).join("\n");
    expect(text).toContain("alerts_waiting_idx");
    expect(text).not.toContain("Seq Scan");
    await query("delete from alerts where user_id = $1", [user.id]);
  }, 60_000);
});
