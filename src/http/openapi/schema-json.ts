// TypeBox schemas → the JSON Schema (2020-12, as OpenAPI 3.1 uses it) that the document shows:
// literal unions as enums, X | null as type [X, "null"], titled schemas hoisted into
// components.schemas and referenced by name.

export type JsonSchema = { [key: string]: unknown };

const isObject = (v: unknown): v is JsonSchema => typeof v === "object" && v !== null && !Array.isArray(v);

export class SchemaRegistry {
  readonly schemas: Record<string, JsonSchema> = {};
  private readonly seen = new Map<string, string>();

  /** The schema as the document shows it; titled object schemas become references. */
  convert(schema: unknown, hoist = true): JsonSchema {
    const plain = JSON.parse(JSON.stringify(schema ?? {})) as JsonSchema;
    return this.walk(plain, hoist);
  }

  private walk(node: JsonSchema, hoist: boolean): JsonSchema {
    // $id: TypeBox's internal names, meaningless to a client.
    let { $id: _id, ...s } = node;
    if (Array.isArray(s.anyOf)) s = this.reduceUnion(s, hoist);
    for (const key of ["properties", "patternProperties", "$defs"] as const) {
      if (isObject(s[key]))
        s[key] = Object.fromEntries(
          Object.entries(s[key] as JsonSchema).map(([k, v]) => [k, this.walk(v as JsonSchema, true)]),
        );
    }
    if (isObject(s.items)) s.items = this.walk(s.items as JsonSchema, true);
    if (isObject(s.additionalProperties))
      s.additionalProperties = this.walk(s.additionalProperties as JsonSchema, true);
    // t.Record(t.String(), X) is a map: say so the way every generator understands.
    if (
      isObject(s.patternProperties) &&
      Object.keys(s.patternProperties).length === 1 &&
      "^(.*)$" in (s.patternProperties as JsonSchema)
    ) {
      s.additionalProperties = (s.patternProperties as JsonSchema)["^(.*)$"];
      delete s.patternProperties;
    }
    if (hoist && typeof s.title === "string" && (s.type === "object" || Array.isArray(s.anyOf)))
      return this.reference(s.title, s);
    return s;
  }

  private reduceUnion(s: JsonSchema, hoist: boolean): JsonSchema {
    const { anyOf, ...rest } = s as { anyOf: JsonSchema[] } & JsonSchema;
    const branches = anyOf.map((b) => this.walk(b, hoist));
    const nullable = branches.some((b) => b.type === "null");
    const others = branches.filter((b) => b.type !== "null");
    // A union of literals of one type is an enum (generators turn it into a literal union type).
    if (
      others.length > 0 &&
      others.every(
        (b) => "const" in b && b.type === others[0]?.type && Object.keys(b).every((k) => k === "const" || k === "type"),
      )
    ) {
      const values: unknown[] = others.map((b) => b.const);
      return nullable
        ? { ...rest, type: [others[0]?.type, "null"], enum: [...values, null] }
        : { ...rest, type: others[0]?.type, enum: values };
    }
    // X | null for a plain type reads better as type: [X, "null"].
    const only = others[0];
    if (nullable && others.length === 1 && only && typeof only.type === "string" && !("$ref" in only)) {
      return { ...rest, ...only, type: [only.type, "null"] };
    }
    return { ...rest, anyOf: branches };
  }

  private reference(name: string, schema: JsonSchema): JsonSchema {
    const json = JSON.stringify(schema);
    const known = this.seen.get(name);
    if (known !== undefined && known !== json)
      throw new Error(`Two different schemas are titled "${name}": give one another title`);
    if (known === undefined) {
      this.seen.set(name, json);
      this.schemas[name] = schema;
    }
    return { $ref: `#/components/schemas/${name}` };
  }
}
