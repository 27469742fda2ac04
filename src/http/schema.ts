// TypeBox building blocks shared by the modules' DTOs.
import { FormatRegistry, type IntegerOptions, type NumberOptions, type TProperties, Type } from "@sinclair/typebox";
import { t } from "elysia";
import { isIsoDay } from "../lib/dates";

// `format: "date"` means a real calendar day in strict YYYY-MM-DD form. Elysia registers a loose
// check (anything `new Date()` parses: 2027-02-30 passed); ours replaces it, for every schema.
FormatRegistry.Set("date", isIsoDay);
// `format: "date-time"`: RFC 3339 with a real day, a real time and an offset; Elysia's accepted
// whatever `new Date()` parses, so 2027-02-30T00:00:00Z rolled over to March.
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/i;
/** An RFC 3339 instant of a real day and time (years 1–9999): `format: "date-time"`, and cursor instants. */
export function isRfc3339Instant(value: unknown): value is string {
  if (typeof value !== "string") return false;
  const day = DATE_TIME.exec(value)?.[1];
  return day !== undefined && isIsoDay(day);
}
FormatRegistry.Set("date-time", isRfc3339Instant);

/**
 * Numbers are JSON numbers: TypeBox's own Integer and Number, not Elysia's `t.Integer`, which also
 * takes numeric strings (and, with the binary's identifiers minified, skipped their bounds). Query
 * text is turned into numbers by `coerceQuery` before validation, so the same schemas serve there.
 */
export const Int = (options: IntegerOptions = {}) => Type.Integer(options);
export const Num = (options: NumberOptions = {}) => Type.Number(options);

/** A request body object: unknown fields are refused (no mass assignment). */
/** `examples[0]` is the example request the OpenAPI document shows. */
export const strictObject = <P extends TProperties>(
  props: P,
  options: { description?: string; title?: string; examples?: unknown[] } = {},
) => t.Object(props, { ...options, additionalProperties: false });

export const Uuid = t.String({ format: "uuid", description: "UUID (v7)" });
export const Timestamp = t.String({ format: "date-time", description: "RFC 3339 UTC timestamp" });
export const Nullable = <S extends Parameters<typeof t.Union>[0][number]>(schema: S) => t.Union([schema, t.Null()]);
export const IdParams = t.Object({ id: Uuid });

/**
 * The bearer token, declared by every route that takes one and declares other headers: typed
 * clients (Eden Treaty) take per-call headers from the schema, so it must be listed there. The
 * document describes it as the bearerAuth scheme, not as a parameter.
 */
export const BearerHeader = {
  authorization: t.Optional(t.String({ description: "Bearer <access token>" })),
};
