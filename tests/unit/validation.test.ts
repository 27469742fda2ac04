import { describe, expect, test } from "bun:test";
import { Type } from "@sinclair/typebox";
import { t } from "elysia";
import { ruleViolation } from "../../src/db/errors";
import { Int, Num, strictObject } from "../../src/http/schema";
import { coerceQuery, describeRule, fieldErrors, schemaAt } from "../../src/http/validation";
import { isIsoDay } from "../../src/lib/dates";

const plain = (s: unknown) => JSON.parse(JSON.stringify(s));

describe("describeRule: the field's rule in words", () => {
  test("numbers, text, enums, lists, formats", () => {
    expect(describeRule(plain(Int({ minimum: 1, maximum: 100 })))).toBe("must be an integer from 1 to 100");
    expect(describeRule(plain(Int({ minimum: 0 })))).toBe("must be an integer of at least 0");
    expect(describeRule(plain(Num({ exclusiveMinimum: 0, maximum: 500 })))).toBe(
      "must be a number greater than 0 and at most 500",
    );
    expect(describeRule(plain(Num({ minimum: 0, maximum: 50, multipleOf: 0.5 })))).toBe(
      "must be a number from 0 to 50, a multiple of 0.5",
    );
    expect(describeRule(plain(t.String({ minLength: 1, maxLength: 100, pattern: "\\S" })))).toBe(
      "must be text from 1 to 100 characters, not only spaces",
    );
    expect(describeRule(plain(t.String({ format: "email", maxLength: 254 })))).toBe(
      "must be an e-mail address of at most 254 characters",
    );
    expect(describeRule(plain(t.Union([t.Literal("a"), t.Literal("b")])))).toBe('must be one of: "a", "b"');
    expect(describeRule(plain(t.Union([t.String({ maxLength: 5 }), t.Null()])))).toBe(
      "must be text of at most 5 characters (or null)",
    );
    expect(describeRule(plain(t.Boolean()))).toBe("must be true or false");
    expect(describeRule(plain(t.Array(t.String(), { maxItems: 3 })))).toStartWith("must be a list of at most 3 items");
  });

  test("schemaAt walks properties, items and unions", () => {
    const schema = plain(
      strictObject({
        a: t.Array(strictObject({ b: Int({ maximum: 3 }) })),
        c: t.Optional(t.Union([strictObject({ d: t.Boolean() }), t.Null()])),
      }),
    );
    expect(schemaAt(schema, "/a/0/b")).toEqual({ type: "integer", maximum: 3 });
    expect(schemaAt(schema, "/c/d")).toEqual({ type: "boolean" });
    expect(schemaAt(schema, "/nope")).toBeUndefined();
  });

  test("fieldErrors cuts a long field name: an error never echoes a whole payload", () => {
    const [error] = fieldErrors(
      [{ type: 42, path: `/${"k".repeat(5000)}`, message: "Unexpected property" }],
      plain(strictObject({})),
    );
    expect(error?.path.length).toBeLessThanOrEqual(101);
    expect(error?.message).toBe("is not a known field");
  });

  test("fieldErrors: unknown fields, missing fields, one error per field, never the value", () => {
    const schema = plain(strictObject({ n: Int({ minimum: 1, maximum: 50 }), s: t.String() }));
    const errors = fieldErrors(
      [
        { type: 42, path: "/extra", message: "Unexpected property", schema: {} },
        { type: 45, path: "/s", message: "Expected required property" },
        { type: 24, path: "/n", message: "Expected integer to be less or equal to 50 (got 999)" },
        { type: 62, path: "/n", message: "Expected union value" },
      ],
      schema,
    );
    expect(errors).toEqual([
      { path: "/extra", message: "is not a known field" },
      { path: "/s", message: "is required; it must be text" },
      { path: "/n", message: "must be an integer from 1 to 50" },
    ]);
  });
});

describe("coerceQuery: text to the declared type, canonical text only", () => {
  const rules = {
    typed: [
      ["limit", "integer"],
      ["radius", "number"],
      ["flag", "boolean"],
    ] as [string, "integer" | "number" | "boolean"][],
  };
  test.each([
    ["5", 5],
    ["-1", -1],
    ["1.5", 1.5],
    ["1e3", 1000],
    [" 5", " 5"],
    ["0x10", "0x10"],
    ["", ""],
    ["5abc", "5abc"],
    ["1e999", "1e999"],
    ["007", "007"],
  ])("%p → %p", (text, value) => {
    const query: Record<string, unknown> = { limit: text, q: "123" };
    coerceQuery(query, rules);
    expect(query.limit).toBe(value);
    expect(query.q).toBe("123"); // an undeclared key stays text
  });
  test("booleans", () => {
    const query: Record<string, unknown> = { flag: "true" };
    coerceQuery(query, rules);
    expect(query.flag).toBe(true);
    const other: Record<string, unknown> = { flag: "yes" };
    coerceQuery(other, rules);
    expect(other.flag).toBe("yes");
  });
  test("src/ declares numbers with Int and Num only: Elysia's t.Integer/t.Numeric take numeric strings", async () => {
    const offenders: string[] = [];
    for await (const file of new Bun.Glob("src/**/*.ts").scan(`${import.meta.dir}/../..`)) {
      const text = await Bun.file(`${import.meta.dir}/../../${file}`).text();
      if (/\bt\.(Integer|Numeric|Number|BooleanString)\(/.test(text)) offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });

  test("TypeBox's Integer is plain JSON Schema: a numeric string is not an integer", () => {
    expect(plain(Int({ minimum: 1 }))).toEqual({ type: "integer", minimum: 1 });
    expect(plain(Type.Number())).toEqual({ type: "number" });
  });
});

describe("ruleViolation: database rules that fire map to 409/422", () => {
  test.each([
    [{ code: "23514", constraint_name: "properties_prices_check" }, 422, "validation_failed"],
    [{ code: "23505", constraint: "users_email_idx" }, 409, "conflict"],
    [{ code: "23P01" }, 409, "conflict"],
    [{ code: "23503" }, 409, "conflict"],
    [{ code: "22003" }, 422, "validation_failed"],
    // A deadlock victim or a serialization failure: undone, to be retried — never a 500.
    [{ code: "40P01" }, 409, "conflict"],
    [{ code: "40001" }, 409, "conflict"],
  ])("%p → %p", (error, status, code) => {
    // Wrapped as Drizzle wraps the driver's error.
    expect(ruleViolation(Object.assign(new Error("Failed query"), { cause: error }))).toMatchObject({ status, code });
  });
  test("anything else is not a rule: our own bad casts and divisions stay 500s", () => {
    expect(ruleViolation(new Error("boom"))).toBeUndefined();
    expect(ruleViolation({ code: "22P02" })).toBeUndefined();
    expect(ruleViolation({ code: "22012" })).toBeUndefined();
    expect(ruleViolation({ code: "57P01" })).toBeUndefined();
  });
});

describe("isIsoDay: strict YYYY-MM-DD, real days, years 1 to 9999", () => {
  test.each([
    ["2027-02-28", true],
    ["2028-02-29", true],
    ["2027-02-30", false],
    ["2100-02-29", false],
    ["0050-01-01", true], // Date.UTC would have read 1950
    ["0001-01-01", true],
    ["0000-01-01", false], // PostgreSQL has no year 0
    ["9999-12-31", true],
    ["2027-1-01", false],
    ["+10000-01-01", false],
    ["2027-01-01T00:00:00Z", false],
  ])("%p → %p", (day, ok) => expect(isIsoDay(day)).toBe(ok));
});
