// `bun tests/load/alerts-bench.ts`: with 100,000 alerts waiting (ALERTS_WAITING), how long from a
// cancellation's request to the e-mail job of the alert it frees (the alerts.check job run by the
// in-process runner, on the test clock), and what the waiting alerts cost a cancellation that
// frees none. Uses DATABASE_URL/REDIS_URL when set (the embedded database otherwise).
import { randomUUID } from "node:crypto";
import { registerUser, startTestApp } from "../support/app";
import { book, drainJobs, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";

const WAITING = Number(process.env.ALERTS_WAITING ?? 100_000);
const ROUNDS = Number(process.env.ALERTS_ROUNDS ?? 100);
const t = await startTestApp({ PAYMENT_PROVIDER_LATENCY_MS: "0", BOOKING_HOLDS_PER_HOUR: "100000" });
await setClock(t.call, "2031-05-01T09:00:00.000Z");
const q = <T>(text: string, params: unknown[] = []) => t.deps.database.raw.query(text, params) as Promise<T[]>;
const api = (p: string) => `/api/v1${p}`;
const day = (n: number) => new Date(Date.UTC(2031, 5, 1) + n * 86_400_000).toISOString().slice(0, 10);

const host = await registerHost(t.call);
const listing = await createListing(t.call, host, { maxNights: 365 });
const other = await createListing(t.call, host, { maxNights: 365 });
const crowd = await registerUser(t.call);
// The crowd waits on the same listing (other nights, far ahead) and on another one: the probe
// must find a stay's few alerts among them.
await q(
  `insert into alerts (user_id, property_id, check_in, check_out, guests, created_at)
   select $1, case when i % 2 = 0 then $2::uuid else $3::uuid end,
          date '2032-01-01' + (i % 300), date '2032-01-03' + (i % 300), 1, now()
   from generate_series(1, $4::int) i`,
  [crowd.id, listing.id, other.id, WAITING],
);
await q("analyze alerts");
console.log(`${WAITING} alerts waiting`);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

async function paidStay(n: number) {
  const guest = await registerUser(t.call);
  const made = await book(t.call, guest, { propertyId: listing.id, checkIn: day(n), checkOut: day(n + 1) });
  if (made.status !== 201) throw new Error(`book ${made.status} ${made.text}`);
  await t.call("POST", api(`/bookings/${made.body.id}/payments`), {
    token: guest.accessToken,
    body: { paymentMethod: "pm_card_visa" },
    headers: { "idempotency-key": randomUUID() },
  });
  return { guest, id: made.body.id };
}

async function cancel(s: { guest: { accessToken: string }; id: string }) {
  const r = await t.call("POST", api(`/bookings/${s.id}/cancel`), { token: s.guest.accessToken, body: {} });
  if (r.status !== 200) throw new Error(`cancel ${r.status}`);
}

const told: number[] = [];
const cancelWith: number[] = [];
const cancelWithout: number[] = [];
const watcher = await registerUser(t.call);
for (let i = 0; i < ROUNDS; i++) {
  // One stay with an alert waiting for it, one without.
  const [a, b] = [await paidStay(2 * i), await paidStay(2 * i + 1)];
  const made = await t.call<{ id: string }>("POST", api("/alerts"), {
    token: watcher.accessToken,
    body: { propertyId: listing.id, checkIn: day(2 * i), checkOut: day(2 * i + 1), guests: 1 },
  });
  if (made.status !== 201) throw new Error(`alert ${made.status} ${made.text}`);
  await drainJobs(t);
  let t0 = performance.now();
  await cancel(b);
  cancelWithout.push(performance.now() - t0);
  await drainJobs(t);
  t0 = performance.now();
  await cancel(a);
  cancelWith.push(performance.now() - t0);
  await drainJobs(t);
  const [job] = await q<{ n: number }>(
    "select count(*)::int as n from outbox where type = 'notify.email' and dedupe_key = $1",
    [`alert:${made.body.id}:notified:email`],
  );
  told.push(performance.now() - t0);
  if (job?.n !== 1) throw new Error("the alert's e-mail job is missing");
  // Keep the watcher under the 20-waiting limit: this one is notified now.
}
const ms = (x: number) => x.toFixed(2);
console.log(
  `cancellation → alert e-mail job enqueued (request, commit, alerts.check, notify), ${ROUNDS} rounds: p50 ${ms(pct(told, 50))} ms, p99 ${ms(pct(told, 99))} ms`,
);
console.log(
  `cancellation request alone: freeing a stay with an alert p50 ${ms(pct(cancelWith, 50))} / p99 ${ms(pct(cancelWith, 99))} ms; with none waiting for it p50 ${ms(pct(cancelWithout, 50))} / p99 ${ms(pct(cancelWithout, 99))} ms`,
);
const [plan] = await q<{ "QUERY PLAN": string }>(
  `explain (analyze, format text) select 1 from alerts a where a.property_id = $1 and a.status = 'waiting'
     and daterange(a.check_in, a.check_out) && daterange($2::date, $3::date)`,
  [listing.id, day(0), day(1)],
);
console.log(`the probe: ${plan?.["QUERY PLAN"]}`);
await q("delete from alerts where user_id = $1", [crowd.id]);
await t.call("DELETE", api("/_test/clock"));
await t.close();
process.exit(0);
