// Admin DTOs: the moderation requests, a user as an admin sees it, and an audit entry.
import { t } from "elysia";
import { Page, PageOnlyQuery, PageQuery } from "../../http/pagination";
import { Int, Nullable, strictObject, Timestamp, Uuid } from "../../http/schema";
import { UserDto } from "../users/schemas";

export const ReasonBody = strictObject(
  {
    reason: t.String({
      minLength: 1,
      maxLength: 500,
      pattern: "\\S",
      description: "why, for the audit log (and the user)",
    }),
  },
  { title: "ModerationReason", examples: [{ reason: "Fraudulent listings reported by three guests" }] },
);

export const AdminUserDto = t.Object(
  { ...UserDto.properties, status: t.Union([t.Literal("active"), t.Literal("suspended"), t.Literal("deleted")]) },
  { title: "AdminUser" },
);
export const AdminUserPage = Page(AdminUserDto, "AdminUserPage");
export const AdminUserQuery = t.Object({
  q: t.Optional(
    t.String({
      minLength: 1,
      maxLength: 254,
      pattern: "\\S",
      description: "matches the start of the e-mail or of any word of the name, case-insensitive",
    }),
  ),
  ...PageQuery,
});

export const AuditEntryDto = t.Object(
  {
    id: Uuid,
    actorId: Uuid,
    action: t.Union([
      t.Literal("user.suspend"),
      t.Literal("user.unsuspend"),
      t.Literal("property.unlist"),
      t.Literal("tax_rule.create"),
      t.Literal("tax_rule.delete"),
    ]),
    targetType: t.Union([t.Literal("user"), t.Literal("property"), t.Literal("tax_rule")]),
    targetId: Uuid,
    reason: Nullable(t.String()),
    details: t.Record(t.String(), t.Unknown()),
    createdAt: Timestamp,
  },
  { title: "AuditEntry" },
);
export const AuditPage = Page(AuditEntryDto, "AuditPage");
export const AuditQuery = PageOnlyQuery;

const TaxKind = t.Union([
  t.Literal("percent"),
  t.Literal("per_night"),
  t.Literal("per_guest_per_night"),
  t.Literal("per_stay"),
]);
const TaxBase = t.Union([t.Literal("nights"), t.Literal("nights_and_cleaning")]);

export const TaxRuleBody = strictObject(
  {
    country: t.String({ pattern: "^[A-Z]{2}$", description: "an ISO 3166-1 alpha-2 code, e.g. PT" }),
    city: t.Optional(
      t.String({
        minLength: 1,
        maxLength: 100,
        pattern: "\\S",
        description: "only listings in this city (matched case-insensitively); absent: the whole country",
      }),
    ),
    name: t.String({ minLength: 1, maxLength: 100, pattern: "\\S", description: "the line's name on the price" }),
    kind: TaxKind,
    value: Int({
      minimum: 0,
      maximum: 100_000_000,
      description: "a whole percent (0–100) for percent; minor units of the listing's currency otherwise",
    }),
    base: t.Optional(
      t.Union([t.Literal("nights"), t.Literal("nights_and_cleaning")], {
        description:
          "percent only: nights (nightlyTotal − discount + extraGuestFee) or nights_and_cleaning (that and cleaningFee); default nights",
      }),
    ),
  },
  {
    title: "TaxRuleInput",
    examples: [{ country: "PT", city: "Lisbon", name: "Lisbon tourist tax", kind: "per_guest_per_night", value: 400 }],
  },
);

export const TaxRuleDto = t.Object(
  {
    id: Uuid,
    country: t.String(),
    city: Nullable(t.String()),
    name: t.String(),
    kind: TaxKind,
    value: Int(),
    base: TaxBase,
    createdAt: Timestamp,
  },
  { title: "TaxRule" },
);
export const TaxRuleList = t.Object({ data: t.Array(TaxRuleDto) }, { title: "TaxRuleList" });
