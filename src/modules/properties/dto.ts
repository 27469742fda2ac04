// The types of a property as stored and as answered. The answer itself is rendered by PostgreSQL
// (stayhub_property_json in drizzle/0007_property_documents.sql) and kept in property_documents.
import type { Static } from "elysia";
import type { properties } from "../../db/schema";
import type { PropertyDto } from "./schemas";

export type PropertyRow = Omit<typeof properties.$inferSelect, "searchText">;
export type PropertyDtoValue = Static<typeof PropertyDto>;
