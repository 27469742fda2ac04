// The raw floors the benchmark compares against, each in its own process:
//   bun tests/load/floors.ts json <port>          Bun.serve answering a small JSON object
//   bun tests/load/floors.ts db <port> <url> <id> Bun.serve doing one postgres.js primary-key select per request
//   bun tests/load/floors.ts body <port>          Bun.serve answering the JSON text in $FLOOR_BODY (the same
//                                                 bytes a cached read sends, held in memory)
//   bun tests/load/floors.ts query <port> <url>   Bun.serve running the SQL statement in $FLOOR_SQL with the
//                                                 request path's last segment as $1 (the service's own read,
//                                                 raw: what the database alone costs)
//   bun tests/load/floors.ts page <port> <url>    like query, answering every row (a page of a list)
//   bun tests/load/floors.ts insert <port> <url>  Bun.serve doing one INSERT … RETURNING into `bookings`
//                                                 in its own transaction per POSTed booking request
//                                                 (the floor of a booking; see below)
import postgres from "postgres";

const [kind, portArg, url, id] = process.argv.slice(2);
const port = Number(portArg);

if (kind === "json") {
  Bun.serve({ port, fetch: () => Response.json({ status: "ok" }) });
} else if (kind === "db" && url && id) {
  const sql = postgres(url, { max: 10 });
  Bun.serve({
    port,
    async fetch() {
      const [row] =
        await sql`select id, email, name, bio, avatar_url, phone, roles, created_at from users where id = ${id}`;
      return Response.json(row);
    },
  });
} else if (kind === "body" && process.env.FLOOR_BODY) {
  const body = process.env.FLOOR_BODY;
  Bun.serve({
    port,
    fetch: () => new Response(body, { headers: { "content-type": "application/json;charset=utf-8" } }),
  });
} else if ((kind === "query" || kind === "page") && url && process.env.FLOOR_SQL) {
  const sql = postgres(url, { max: 10 });
  const text = process.env.FLOOR_SQL;
  Bun.serve({
    port,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      const id = path.slice(path.lastIndexOf("/") + 1);
      if (!id) return new Response("ready");
      const rows = await sql.unsafe(text, [id], { prepare: true });
      // A page answers every row; a read, its one row.
      if (kind === "page") return Response.json({ data: rows, nextCursor: null });
      return rows[0] ? Response.json(rows[0]) : new Response("not found", { status: 404 });
    },
  });
} else if (kind === "insert" && url) {
  // A booking as the scenarios ask for one (the same wrk script's body: propertyId, checkIn,
  // checkOut, guests), written raw into the real `bookings` table — its foreign keys, checks,
  // indexes and no-overlap exclusion constraint — in its own transaction: BEGIN, INSERT …
  // RETURNING, COMMIT. A guest picked at random; the price from the listing as the service prices
  // it. A clash with a stay already there is answered 409, as the service answers it. Its rows
  // carry cancel_reason FLOOR_MARK, so that the bench deletes them after the floor's run.
  const sql = postgres(url, { max: 10, onnotice: () => {}, connection: { application_name: "stayhub-floor" } });
  const props = new Map<string, { price: number; cleaning: number; currency: string; policy: string }>();
  for (const r of await sql`select id, price_per_night, cleaning_fee, currency, cancellation_policy from properties where status = 'listed'`)
    props.set(r.id, {
      price: r.price_per_night,
      cleaning: r.cleaning_fee,
      currency: r.currency,
      policy: r.cancellation_policy,
    });
  const guests = (await sql`select id from users where not ('host' = any(roles)) limit 1000`).map(
    (r) => r.id as string,
  );
  const mark = process.env.FLOOR_MARK ?? "bench floor";
  Bun.serve({
    port,
    async fetch(req) {
      if (req.method !== "POST") return new Response("ready");
      const b = (await req.json()) as { propertyId: string; checkIn: string; checkOut: string; guests: number };
      const p = props.get(b.propertyId);
      if (!p) return Response.json({ code: "NOT_FOUND" }, { status: 404 });
      const nights = Math.round((Date.parse(b.checkOut) - Date.parse(b.checkIn)) / 86_400_000);
      const nightly = p.price * nights;
      const fee = Math.floor((nightly + p.cleaning + 5) / 10);
      // The host's part less the default 3 % host fee: given, as the service gives it (no trigger fills it).
      const hostPayout = nightly + p.cleaning - Math.floor(((nightly + p.cleaning) * 3 + 50) / 100);
      const guest = guests[Math.floor(Math.random() * guests.length)] as string;
      try {
        const [row] = await sql.begin(
          (tx) =>
            tx`insert into bookings (property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total, cleaning_fee, service_fee, host_payout, total, currency, cancellation_policy, expires_at, cancel_reason)
            values (${b.propertyId}, ${guest}, ${b.checkIn}, ${b.checkOut}, ${b.guests}, 'pending_payment', ${nights}, ${nightly}, ${p.cleaning}, ${fee}, ${hostPayout}, ${nightly + p.cleaning + fee}, ${p.currency}, ${p.policy}, now() + interval '15 minutes', ${mark})
            returning id, status, total, created_at`,
        );
        return Response.json(row, { status: 201 });
      } catch (e) {
        if ((e as { code?: string }).code === "23P01")
          return Response.json({ code: "DATES_UNAVAILABLE" }, { status: 409 });
        return Response.json({ code: (e as { code?: string }).code ?? "ERROR" }, { status: 500 });
      }
    },
  });
} else {
  console.error(
    "usage: floors.ts json <port> | db <port> <url> <id> | body <port> (with FLOOR_BODY) | query <port> <url> (with FLOOR_SQL)",
  );
  process.exit(2);
}
console.log("ready");
