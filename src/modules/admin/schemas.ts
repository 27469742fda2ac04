// Admin DTOs: the moderation requests, a user as an admin sees it, and an audit entry.
import { t } from "elysia";
import { Page, PageOnlyQuery, PageQuery } from "../../http/pagination";
import { Nullable, strictObject, Timestamp, Uuid } from "../../http/schema";
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
    action: t.Union([t.Literal("user.suspend"), t.Literal("user.unsuspend"), t.Literal("property.unlist")]),
    targetType: t.Union([t.Literal("user"), t.Literal("property")]),
    targetId: Uuid,
    reason: Nullable(t.String()),
    details: t.Record(t.String(), t.Unknown()),
    createdAt: Timestamp,
  },
  { title: "AuditEntry" },
);
export const AuditPage = Page(AuditEntryDto, "AuditPage");
export const AuditQuery = PageOnlyQuery;
