// `bun tests/load/raw-bookings.ts` after `BENCH_ONLY=bookings bun run bench` (its seeded stayhub_bench):
// the statements of a booking sent raw by postgres.js, 32 clients for 5 s, to see the database's share.
// V=full (with outbox rows) | nooutbox | insertonly | fn (the terms' version, then one call of
// stayhub_create_booking, as the service makes a booking). Writes to stayhub_bench only.
import postgres from "postgres";

const sql = postgres(process.env.BENCH_DB ?? "postgres://postgres@127.0.0.1:5432/stayhub_bench", {
  max: 10,
  onnotice: () => {},
});
const props = await sql`select id, min_nights from properties where status='listed' order by random() limit 2000`;
const guests = (await sql`select id from users where not ('host' = any(roles)) limit 500`).map((r) => r.id);
const day = (n: number) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
const variant = process.env.V ?? "full";
let done = 0;
const st: Record<string, number> = {};
const until = Date.now() + 5000;
const c0 = process.cpuUsage();
await Promise.all(
  Array.from({ length: 32 }, async () => {
    while (Date.now() < until) {
      const p = props[Math.floor(Math.random() * props.length)] as { id: string; min_nights: number };
      const g = guests[Math.floor(Math.random() * guests.length)];
      const i = 2 + Math.floor(Math.random() * 380);
      const ci = day(i),
        co = day(i + p.min_nights);
      const now = new Date();
      try {
        if (variant === "fn") {
          const id = Bun.randomUUIDv7();
          const [v] = await sql`select stayhub_terms_version(${p.id}, ${ci}, ${co}) as v`;
          const at = now.toISOString();
          const jobs = JSON.stringify(
            ["a", "b"].map((k) => ({ type: "jobs.noop", payload: {}, run_at: at, dedupe_key: `${k}${id}` })),
          );
          const [r] =
            await sql`select outcome from stayhub_create_booking(7411338, ${id}, ${p.id}, ${g}, ${ci}, ${co}, 1, 100, 0, 10, 110, 'EUR', 'moderate',
            ${new Date(now.getTime() + 900000).toISOString()}, ${at}, ${v?.v}, 1000, ${jobs}::text::jsonb)`;
          if (r?.outcome !== "booked") throw Object.assign(new Error(String(r?.outcome)), { code: String(r?.outcome) });
        } else
          await sql.begin(async (tx) => {
            if (variant !== "insertonly") {
              await Promise.all([
                tx`select id from users where id = ${g} for no key update`,
                tx`select count(*) from bookings where guest_id = ${g} and status = 'pending_payment' and expires_at > ${now}`,
                tx`select id, host_id, status, price_per_night from properties where id = ${p.id} for key share`,
                tx`select * from calendar_days where property_id = ${p.id} and day >= ${ci} and day < ${co}`,
              ]);
            }
            const id = Bun.randomUUIDv7();
            await Promise.all([
              tx`insert into bookings (id, property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total, cleaning_fee, service_fee, total, currency, cancellation_policy, expires_at, created_at, updated_at)
             values (${id}, ${p.id}, ${g}, ${ci}, ${co}, 1, 'pending_payment', ${p.min_nights}, 100, 0, 10, 110, 'EUR', 'moderate', ${new Date(now.getTime() + 900000)}, ${now}, ${now})`,
              ...(variant === "nooutbox"
                ? []
                : [
                    tx`insert into outbox (type, payload, run_at, dedupe_key) values ('jobs.noop', '{}', ${now}, ${`a${id}`}), ('jobs.noop', '{}', ${now}, ${`b${id}`}), ('jobs.noop', '{}', ${now}, ${`c${id}`}) on conflict (dedupe_key) do nothing returning id`,
                  ]),
            ]);
          });
        st.ok = (st.ok ?? 0) + 1;
      } catch (e) {
        const k = (e as { code?: string }).code ?? String(e);
        st[k] = (st[k] ?? 0) + 1;
      }
      done++;
    }
  }),
);
const c = process.cpuUsage(c0);
console.log(variant, { rps: done / 5, cpuUsPerOp: Math.round((c.user + c.system) / done), st });
await sql.end();
