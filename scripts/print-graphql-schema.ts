// bun run graphql:schema: writes schema.graphql, the GraphQL schema as the server builds it.
// CI (tests/integration/graphql.test.ts) fails when the file and the running server differ.
import { printSchema } from "graphql";
import { schema } from "../src/graphql/schema";

const path = `${import.meta.dir}/../schema.graphql`;
await Bun.write(path, `${printSchema(schema)}\n`);
console.log(`wrote ${path}`);
