// The raw floors the benchmark compares against, each in its own process:
//   bun tests/load/floors.ts json <port>          Bun.serve answering a small JSON object
//   bun tests/load/floors.ts db <port> <url> <id> Bun.serve doing one postgres.js primary-key select per request
//   bun tests/load/floors.ts body <port>          Bun.serve answering the JSON text in $FLOOR_BODY (the same
//                                                 bytes a cached read sends, held in memory)
//   bun tests/load/floors.ts query <port> <url>   Bun.serve running the SQL statement in $FLOOR_SQL with the
//                                                 request path's last segment as $1 (the service's own read,
//                                                 raw: what the database alone costs)
//   bun tests/load/floors.ts page <port> <url>    like query, answering every row (a page of a list)
//   bun tests/load/floors.ts insert <port> <url>  Bun.serve doing one INSERT … RETURNING in its own
//                                                 transaction per request (the floor of a booking)
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
  const sql = postgres(url, { max: 10 });
  await sql`create table if not exists floor_inserts (id uuid primary key default gen_random_uuid(), property_id uuid not null, check_in date not null, check_out date not null, created_at timestamptz not null default now())`;
  Bun.serve({
    port,
    async fetch() {
      const [row] = await sql.begin(
        (tx) =>
          tx`insert into floor_inserts (property_id, check_in, check_out) values (gen_random_uuid(), current_date, current_date + 2) returning id, created_at`,
      );
      return Response.json(row, { status: 201 });
    },
  });
} else {
  console.error(
    "usage: floors.ts json <port> | db <port> <url> <id> | body <port> (with FLOOR_BODY) | query <port> <url> (with FLOOR_SQL)",
  );
  process.exit(2);
}
console.log("ready");
