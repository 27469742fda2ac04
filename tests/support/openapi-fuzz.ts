// Requests generated from an OpenAPI document with fast-check: for every operation, values that
// follow its schemas and values that break them on purpose (boundaries, wrong types, numeric
// strings, huge and empty values, unknown and missing fields, malformed ids).
import fc from "fast-check";

// biome-ignore lint/suspicious/noExplicitAny: a parsed OpenAPI document, walked by path; its shape is what the checks are about
export type Json = Record<string, any>;

export interface FuzzRequest {
  operation: string;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: string;
}

export interface FuzzContext {
  /** Ids that exist, so path parameters sometimes reach the service's rules. */
  ids: string[];
  /** A token for operations that need one (sometimes left out on purpose). */
  token: string;
  /** A suspended account's token (403 wherever a token is needed). */
  suspendedToken: string;
}

const HOSTILE: unknown[] = [
  null,
  "",
  " ",
  "999",
  "-5",
  "1e309",
  "NaN",
  -1,
  0,
  1.5,
  2 ** 31,
  2 ** 53,
  1e21,
  -1e300,
  true,
  [],
  {},
  [1, "a", null],
  { nested: { deeper: [1] } },
  "x".repeat(10_000),
  "🏠".repeat(300),
  "' or 1=1 --",
  "<script>alert(1)</script>",
  "../../etc/passwd",
  "a\u0000b",
  "\ud800 lone surrogate",
];
// Query text stays short enough that a whole URL fits Bun's 16 KiB request-line limit (past it Bun
// itself answers 431, before any route).
const HOSTILE_TEXT = [
  "",
  " ",
  "0",
  "-1",
  "1.5",
  "1e309",
  "abc",
  "null",
  "true",
  "x".repeat(1_000),
  "%",
  "\u0000",
  "a\u0000b",
  "' or 1=1 --",
  "2024-02-30",
  "9999-99-99",
  ",",
  "1,2,3,4,5",
];

function resolve(schema: Json, doc: Json): Json {
  let s = schema;
  for (let i = 0; s && typeof s.$ref === "string" && i < 10; i++)
    s = s.$ref
      .split("/")
      .slice(1)
      .reduce((node: Json, key: string) => node?.[key], doc);
  return s ?? {};
}

const withinLength = (min: number, max: number) => (s: string) => [...s].length >= min && [...s].length <= max;

/** Values that satisfy `schema` (as far as a generator can: patterns are honoured, formats too). */
export function valid(schemaIn: Json, doc: Json, depth = 0): fc.Arbitrary<unknown> {
  const schema = resolve(schemaIn, doc);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  if ("const" in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.anyOf)) return fc.oneof(...schema.anyOf.map((s: Json) => valid(s, doc, depth + 1)));
  const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type ?? "string"];
  if (types.length > 1) return fc.oneof(...types.map((type) => valid({ ...schema, type }, doc, depth + 1)));
  const min = schema.minimum ?? (typeof schema.exclusiveMinimum === "number" ? schema.exclusiveMinimum + 1e-6 : -1e6);
  const max = schema.maximum ?? (typeof schema.exclusiveMaximum === "number" ? schema.exclusiveMaximum - 1e-6 : 1e6);
  switch (types[0]) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
      return fc.integer({ min: Math.ceil(min), max: Math.floor(max) });
    case "number":
      if (typeof schema.multipleOf === "number")
        return fc
          .integer({ min: Math.ceil(min / schema.multipleOf), max: Math.floor(max / schema.multipleOf) })
          .map((n) => n * schema.multipleOf);
      return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
    case "array": {
      const items = schema.items ? valid(schema.items, doc, depth + 1) : fc.anything();
      const arr = fc.array(items, {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 5, depth > 2 ? 1 : 5),
      });
      return schema.uniqueItems ? arr.map((a) => [...new Map(a.map((v) => [JSON.stringify(v), v])).values()]) : arr;
    }
    case "object": {
      const properties = (schema.properties ?? {}) as Record<string, Json>;
      const required = new Set<string>(schema.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, s] of Object.entries(properties)) record[key] = valid(s, doc, depth + 1);
      return fc.record(record, { requiredKeys: [...required].filter((k) => k in record) });
    }
    default: {
      const minLength = schema.minLength ?? 0;
      const maxLength = Math.min(schema.maxLength ?? 40, 300);
      if (schema.format === "uuid") return fc.uuid();
      if (schema.format === "email") return fc.emailAddress().filter(withinLength(minLength, Math.min(maxLength, 254)));
      if (schema.format === "date-time")
        return fc
          .date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
          .map((d) => d.toISOString());
      if (schema.format === "uri")
        return fc.webUrl({ validSchemes: ["https"] }).filter((u) => u.startsWith("https://") && u.length <= maxLength);
      if (typeof schema.pattern === "string" && schema.pattern !== "\\S") {
        return fc.stringMatching(new RegExp(schema.pattern)).filter(withinLength(minLength, maxLength));
      }
      return fc
        .string({ minLength: Math.max(minLength, schema.pattern === "\\S" ? 1 : 0), maxLength })
        .map((s) => (schema.pattern === "\\S" && !/\S/.test(s) ? `x${s}`.slice(0, maxLength) : s));
    }
  }
}

/** Values that break `schema` near its rules: just past each bound, the wrong type, hostile text. */
function broken(schemaIn: Json, doc: Json): fc.Arbitrary<unknown> {
  const schema = resolve(schemaIn, doc);
  const near: unknown[] = [];
  for (const bound of [schema.minimum, schema.maximum, schema.exclusiveMinimum, schema.exclusiveMaximum]) {
    if (typeof bound === "number") near.push(bound - 1, bound, bound + 1, String(bound), bound + 0.5);
  }
  if (typeof schema.maxLength === "number") near.push("x".repeat(schema.maxLength + 1), "y".repeat(schema.maxLength));
  if (typeof schema.minLength === "number" && schema.minLength > 0) near.push("z".repeat(schema.minLength - 1));
  if (typeof schema.maxItems === "number") near.push(Array.from({ length: schema.maxItems + 1 }, () => "a"));
  return fc.constantFrom(...HOSTILE, ...near);
}

/** A valid body with one field, somewhere, replaced, removed or added. */
function mutatedBody(schema: Json, doc: Json): fc.Arbitrary<unknown> {
  const object = resolve(schema, doc);
  const fields = Object.keys(object.properties ?? {});
  return fc.oneof(
    { weight: 3, arbitrary: valid(schema, doc) },
    { weight: 1, arbitrary: fc.constantFrom(...HOSTILE) },
    ...(fields.length
      ? [
          {
            weight: 6,
            arbitrary: fc
              .tuple(valid(schema, doc), fc.constantFrom(...fields))
              .chain(([base, field]) =>
                broken(object.properties[field], doc).map((bad) => ({ ...(base as object), [field]: bad })),
              ),
          },
          {
            weight: 2,
            arbitrary: fc.tuple(valid(schema, doc), fc.constantFrom(...fields)).map(([base, field]) => {
              const copy = { ...(base as Record<string, unknown>) };
              delete copy[field];
              return copy;
            }),
          },
          {
            weight: 1,
            arbitrary: valid(schema, doc).map((base) => ({ ...(base as object), unexpectedField: "mass assignment" })),
          },
        ]
      : []),
  );
}

function parameterValue(param: Json, doc: Json, context: FuzzContext): fc.Arbitrary<string | undefined> {
  const schema = resolve(param.schema ?? {}, doc);
  const text = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  const options: { weight: number; arbitrary: fc.Arbitrary<string | undefined> }[] = [
    { weight: 4, arbitrary: valid(schema, doc).map(text) },
    {
      weight: 2,
      arbitrary: broken(schema, doc)
        .map(text)
        .map((v) => v.slice(0, 1_000)),
    },
    { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_TEXT) },
  ];
  if (param.in === "path" && schema.format === "uuid" && context.ids.length)
    options.push({ weight: 4, arbitrary: fc.constantFrom(...context.ids) });
  if (!param.required) options.push({ weight: 3, arbitrary: fc.constant(undefined) });
  return fc.oneof(...options);
}

/** One arbitrary request per operation of `doc`, all operations equally likely. */
export function requestsFor(doc: Json, context: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const operations: fc.Arbitrary<FuzzRequest>[] = [];
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    for (const method of ["get", "post", "put", "patch", "delete"]) {
      const op = (item as Json)[method] as Json | undefined;
      if (!op) continue;
      const params = (op.parameters ?? []) as Json[];
      const values = fc.tuple(...params.map((p) => parameterValue(p, doc, context)));
      const bodySchema = op.requestBody?.content?.["application/json"]?.schema as Json | undefined;
      const garbage = fc.constantFrom("", "{", "[]", '{"a":', "null", '"text"', "{}", '{"x":"\\u0000"}', '"\\ud800"');
      const body: fc.Arbitrary<string | undefined> = bodySchema
        ? fc.oneof(
            { weight: 12, arbitrary: mutatedBody(bodySchema, doc).map((v) => JSON.stringify(v)) },
            { weight: 1, arbitrary: garbage },
          )
        : method === "get"
          ? fc.constant(undefined)
          : // A body where none is expected: it must be ignored or refused, never trip anything.
            fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: garbage });
      const secured = (op.security ?? []).length > 0;
      const auth: fc.Arbitrary<string | undefined> = secured
        ? fc.oneof(
            { weight: 8, arbitrary: fc.constant(context.token) },
            { weight: 1, arbitrary: fc.constant(context.suspendedToken) },
            { weight: 1, arbitrary: fc.constant(undefined) },
          )
        : fc.constant(undefined);
      // GET operations are also asked with HEAD, which Elysia answers through the GET route.
      const verb =
        method === "get"
          ? fc.oneof({ weight: 7, arbitrary: fc.constant("GET") }, { weight: 1, arbitrary: fc.constant("HEAD") })
          : fc.constant(method.toUpperCase());
      operations.push(
        fc.tuple(values, body, auth, verb).map(([vals, b, token, httpMethod]) => {
          let url = path;
          const query: Record<string, string> = {};
          const headers: Record<string, string> = {};
          params.forEach((p, i) => {
            // A URL carries bytes: a lone surrogate cannot be put in one (it would be U+FFFD).
            const v = vals[i]?.toWellFormed();
            if (p.in === "path") url = url.replace(`{${p.name}}`, encodeURIComponent(v ?? "x"));
            else if (v !== undefined && p.in === "query") query[p.name] = v;
            else if (v !== undefined && p.in === "header" && /^[\t\x20-\x7e]*$/.test(v)) headers[p.name] = v;
          });
          if (token) headers.authorization = `Bearer ${token}`;
          if (b !== undefined) headers["content-type"] = "application/json";
          return {
            operation: `${method.toUpperCase()} ${path}`,
            method: httpMethod,
            path: url,
            query,
            headers,
            body: b,
          };
        }),
      );
    }
  }
  return fc.oneof(...operations);
}
