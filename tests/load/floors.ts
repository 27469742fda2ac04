// The raw floors the benchmark compares against, each in its own process:
//   bun tests/load/floors.ts json <port>          Bun.serve answering a small JSON object
//   bun tests/load/floors.ts db <port> <url> <id> Bun.serve doing one postgres.js primary-key select per request
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
      const [row] = await sql`select id, email, name, bio, avatar_url, phone, roles, created_at from users where id = ${id}`;
      return Response.json(row);
    },
  });
} else {
  console.error("usage: floors.ts json <port> | db <port> <url> <id>");
  process.exit(2);
}
console.log("ready");
