// Input rules as callers meet them: query text turned into the numbers and booleans the route's
// schema declares (so every bound is checked on the value, in JSON bodies numbers must already be
// numbers), and each broken rule worded from the declared schema: field and rule, never the value.
import type { Static, TSchema } from "@sinclair/typebox";
import { ValueErrorType } from "@sinclair/typebox/errors";
import { Value } from "@sinclair/typebox/value";
import type { AnyElysia } from "elysia";
import { AppError, type FieldError } from "./errors";
import { UNSTORABLE_TEXT, unstorableTextAt } from "./text-guard";

type Schema = { [key: string]: unknown };

export interface RouteRules {
  body?: Schema;
  query?: Schema;
  /** Query keys declared as numbers or booleans: the only ones turned from text. */
  typed: [key: string, type: "integer" | "number" | "boolean"][];
}

const isObject = (v: unknown): v is Schema => typeof v === "object" && v !== null && !Array.isArray(v);

/** The schemas of every route, read once from the finished route table. */
export class RouteRuleBook {
  private rules?: Map<string, RouteRules>;

  constructor(private readonly app?: () => AnyElysia) {}

  of(method: string, route: string): RouteRules | undefined {
    if (!this.app) return undefined;
    // Elysia answers HEAD with the GET route: same query, same rules.
    if (method === "HEAD") method = "GET";
    if (!this.rules) {
      this.rules = new Map();
      for (const r of this.app().routes) {
        const hooks = (r.hooks ?? {}) as { body?: Schema; query?: Schema };
        const typed: RouteRules["typed"] = [];
        for (const [key, s] of Object.entries((hooks.query?.properties ?? {}) as Record<string, Schema>)) {
          if (s.type === "integer" || s.type === "number" || s.type === "boolean") typed.push([key, s.type]);
        }
        this.rules.set(`${r.method} ${r.path}`, { body: hooks.body, query: hooks.query, typed });
      }
    }
    return this.rules.get(`${method} ${route}`);
  }
}

const NUMBER_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Query values are text; the schema says which are numbers or booleans. Only canonical numeric text
 * becomes a number ("1e3" yes; " 5", "0x10", "" no), so the validator sees what the caller meant
 * and what cannot be a number fails as "must be an integer", naming the field.
 */
export function coerceQuery(query: Record<string, unknown>, rules: RouteRules | undefined): void {
  if (!rules || rules.typed.length === 0) return;
  for (const [key, type] of rules.typed) {
    const value = query[key];
    if (typeof value !== "string") continue;
    if (type === "boolean") {
      if (value === "true" || value === "false") query[key] = value === "true";
    } else if (NUMBER_TEXT.test(value)) {
      const n = Number(value);
      if (Number.isFinite(n)) query[key] = n;
    }
  }
}

/** The declared schema at a JSON pointer below `root` (through properties, items and unions). */
export function schemaAt(root: Schema | undefined, pointer: string): Schema | undefined {
  let node: Schema | undefined = root;
  for (const raw of pointer.split("/").slice(1)) {
    if (!node) return undefined;
    const part = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    node = step(node, part);
  }
  return node;
}

function step(node: Schema, part: string): Schema | undefined {
  if (isObject(node.properties) && isObject(node.properties[part])) return node.properties[part] as Schema;
  if (isObject(node.items) && /^\d+$/.test(part)) return node.items as Schema;
  for (const branch of (node.anyOf as Schema[] | undefined) ?? []) {
    const found = step(branch, part);
    if (found) return found;
  }
  return undefined;
}

const range = (min: unknown, max: unknown, unit: string) => {
  if (typeof min === "number" && typeof max === "number") return ` from ${min} to ${max}${unit}`;
  if (typeof min === "number") return ` of at least ${min}${unit}`;
  if (typeof max === "number") return ` of at most ${max}${unit}`;
  return "";
};

const FORMATS: Record<string, string> = {
  email: "an e-mail address",
  uuid: "a UUID",
  date: "a calendar date, YYYY-MM-DD",
  "date-time": "an RFC 3339 timestamp",
  uri: "an absolute URL",
};

/** "must be an integer from 1 to 100", "must be one of: a, b", "must be 1 to 100 characters"… */
export function describeRule(schema: Schema | undefined): string {
  if (!schema) return "is not allowed here";
  if (Array.isArray(schema.anyOf)) {
    const branches = schema.anyOf as Schema[];
    const nullable = branches.some((b) => b.type === "null");
    const others = branches.filter((b) => b.type !== "null");
    const orNull = nullable ? " (or null)" : "";
    if (others.length > 0 && others.every((b) => "const" in b))
      return `must be one of: ${others.map((b) => JSON.stringify(b.const)).join(", ")}${orNull}`;
    if (others.length === 1 && others[0])
      return `${describeRule({ ...schema, ...others[0], anyOf: undefined })}${orNull}`;
    return "must match one of the allowed forms";
  }
  const described = typeof schema.description === "string" ? schema.description : undefined;
  switch (schema.type) {
    case "integer":
      return `must be an integer${range(schema.minimum ?? gt(schema.exclusiveMinimum), schema.maximum ?? lt(schema.exclusiveMaximum), "")}`;
    case "number": {
      const step = typeof schema.multipleOf === "number" ? `, a multiple of ${schema.multipleOf}` : "";
      const bounds =
        typeof schema.exclusiveMinimum === "number"
          ? ` greater than ${schema.exclusiveMinimum}${typeof schema.maximum === "number" ? ` and at most ${schema.maximum}` : ""}`
          : range(schema.minimum, schema.maximum, "");
      return `must be a number${bounds}${step}`;
    }
    case "boolean":
      return "must be true or false";
    case "null":
      return "must be null";
    case "array":
      return `must be a list${range(schema.minItems, schema.maxItems, " items")}${schema.uniqueItems ? " without repeats" : ""}${isObject(schema.items) ? `; each item ${describeRule(schema.items as Schema)}` : ""}`;
    case "object":
      return "must be an object with only the documented fields";
    case "string": {
      if (typeof schema.format === "string" && FORMATS[schema.format])
        return `must be ${FORMATS[schema.format]}${range(schema.minLength, schema.maxLength, " characters")}`;
      const length = range(schema.minLength, schema.maxLength, " characters");
      if (typeof schema.pattern === "string" && schema.pattern !== "\\S")
        return described
          ? `must be ${described}${length ? `,${length}` : ""}`
          : `must be text${length}, matching ${schema.pattern}`;
      return `must be text${length}${schema.pattern === "\\S" ? ", not only spaces" : ""}${described ? ` (${described})` : ""}`;
    }
  }
  return "is not valid here";
}

const gt = (v: unknown) => (typeof v === "number" ? v + 1 : undefined);
const lt = (v: unknown) => (typeof v === "number" ? v - 1 : undefined);

interface Issue {
  type?: number;
  path: string;
  schema?: Schema;
  message: string;
}

/** Field names are the caller's text: long ones are cut, so an error never echoes a whole payload. */
export const shortPath = (path: string) => (path.length > 100 ? `${path.slice(0, 100)}…` : path);

/** One error per field (the first rule it breaks), worded from the declared schema. */
export function fieldErrors(issues: Issue[], declared: Schema | undefined): FieldError[] {
  const out = new Map<string, string>();
  for (const issue of issues) {
    const path = shortPath(issue.path || "/");
    if (out.has(path)) continue;
    if (issue.type === ValueErrorType.ObjectAdditionalProperties) out.set(path, "is not a known field");
    else if (issue.type === ValueErrorType.ObjectRequiredProperty)
      out.set(path, `is required; it ${describeRule(schemaAt(declared, issue.path))}`);
    else if (path === "/" && declared?.type === "object")
      out.set(path, issue.type === ValueErrorType.Object ? "must be a JSON object" : describeRule(declared));
    else out.set(path, describeRule(schemaAt(declared, issue.path) ?? issue.schema));
  }
  return [...out].map(([path, message]) => ({ path, message }));
}

/**
 * The same check a route applies to its body or query, for input that did not come through a
 * route (GraphQL arguments): 422 validation_failed with the same paths and words, or the value.
 */
export function checkInput<S extends TSchema>(schema: S, value: unknown, where: "body" | "query" = "body"): Static<S> {
  const label = where === "query" ? "Query parameter" : "Field";
  const unstorable = unstorableTextAt(value);
  if (unstorable) {
    const path = shortPath(unstorable);
    throw new AppError(422, "validation_failed", `${label} ${path} ${UNSTORABLE_TEXT}`, [
      { path, message: UNSTORABLE_TEXT },
    ]);
  }
  if (Value.Check(schema, value)) return value as Static<S>;
  const errors = fieldErrors([...Value.Errors(schema, value)], schema as unknown as Schema);
  const first = errors[0];
  throw new AppError(
    422,
    "validation_failed",
    first ? `${label} ${first.path} ${first.message}` : `The request ${where} breaks a rule`,
    errors,
  );
}
