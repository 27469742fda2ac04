import { defineConfig } from "drizzle-kit";

// Used only by `bun run db:generate`: migrations are generated from src/db/schema.ts, never by hand,
// except the custom ones (extensions, the booking exclusion constraint) made with `--custom`.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: "./drizzle",
});
