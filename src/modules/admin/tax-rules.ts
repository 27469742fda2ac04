// Occupancy-tax rules, managed by admins (contract: "Pricing rules, quotes and request-to-book"):
// each is priced into every quote at once and into every booking made after it (the terms' version
// covers the rules, so a booking priced before a change is priced again); bookings keep their lines.
// Each change is audited in its own transaction.
import { asc, eq, sql } from "drizzle-orm";
import type { Static } from "elysia";
import { adminAudit, taxRules } from "../../db/schema";
import type { Deps } from "../../dependencies";
import { invalid, notFound } from "../../http/errors";
import { isUuid } from "../../lib/ids";
import { isCountryCode } from "../../lib/iso";
import type { Actor } from "../auth/actor";
import type { TaxRuleBody, TaxRuleDto } from "./schemas";
import { audit, requireAdmin } from "./service";

type TaxRuleValue = Static<typeof TaxRuleDto>;
type Row = typeof taxRules.$inferSelect;

const toDto = (r: Row): TaxRuleValue => ({
  id: r.id,
  country: r.country,
  city: r.city,
  name: r.name,
  kind: r.kind as TaxRuleValue["kind"],
  value: r.value,
  base: r.base as TaxRuleValue["base"],
  createdAt: r.createdAt.toISOString(),
});

/** Every rule, by country, then city (the country-wide ones first), then age. */
export async function listTaxRules({ actor }: { actor: Actor }, deps: Deps): Promise<{ data: TaxRuleValue[] }> {
  requireAdmin(actor);
  const rows = await deps.db
    .select()
    .from(taxRules)
    .orderBy(
      asc(taxRules.country),
      sql`lower(${taxRules.city}) asc nulls first`,
      asc(taxRules.createdAt),
      asc(taxRules.id),
    );
  return { data: rows.map(toDto) };
}

export async function createTaxRule(
  { actor, input }: { actor: Actor; input: Static<typeof TaxRuleBody> },
  deps: Deps,
): Promise<TaxRuleValue> {
  requireAdmin(actor);
  if (!isCountryCode(input.country)) throw invalid("/country", "not an ISO 3166-1 alpha-2 country code");
  if (input.kind === "percent" && input.value > 100) throw invalid("/value", "a percent is at most 100");
  const now = deps.clock.now();
  const row: Row = {
    id: Bun.randomUUIDv7(),
    country: input.country,
    city: input.city?.trim() ?? null,
    name: input.name.trim(),
    kind: input.kind,
    value: input.value,
    base: input.base ?? "nights",
    createdAt: now,
  };
  await deps.db.transaction(async (tx) => {
    await tx.insert(taxRules).values(row);
    await tx.insert(adminAudit).values(audit(actor, "tax_rule.create", "tax_rule", row.id, null, now, toDto(row)));
  });
  return toDto(row);
}

export async function deleteTaxRule({ actor, id }: { actor: Actor; id: string }, deps: Deps): Promise<void> {
  requireAdmin(actor);
  if (!isUuid(id)) throw notFound("Tax rule");
  const now = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    const [gone] = await tx.delete(taxRules).where(eq(taxRules.id, id)).returning();
    if (!gone) throw notFound("Tax rule");
    await tx.insert(adminAudit).values(audit(actor, "tax_rule.delete", "tax_rule", gone.id, null, now, toDto(gone)));
  });
}
