// /admin: moderation for users with the admin role; to anyone else these routes do not exist (404).
import { Elysia } from "elysia";
import type { Deps } from "../../dependencies";
import { adminMacro } from "../../http/auth";
import { errorResponses } from "../../http/errors";
import { DEFAULT_LIMIT } from "../../http/pagination";
import { IdParams } from "../../http/schema";
import { PropertyDto } from "../properties/schemas";
import { AdminUserDto, AdminUserPage, AdminUserQuery, AuditPage, AuditQuery, ReasonBody } from "./schemas";
import { listAudit, listUsers, moderateProperty, suspendUser, unsuspendUser } from "./service";

const hidden = "Admins only; to anyone else (no token, another role) 404, as for a route that does not exist.";

export function adminRoutes(deps: Deps) {
  const tags = ["admin"];
  return new Elysia({ prefix: "/admin" })
    .use(adminMacro(deps))
    .get(
      "/users",
      ({ actor, query }) =>
        listUsers({ actor, q: query.q, limit: query.limit ?? DEFAULT_LIMIT, cursor: query.cursor }, deps),
      {
        admin: true,
        query: AdminUserQuery,
        response: { 200: AdminUserPage, ...errorResponses("not_found") },
        detail: {
          tags,
          summary: "Users, newest first",
          description: `q matches the start of the e-mail or of a word of the name. ${hidden}`,
        },
      },
    )
    .post(
      "/users/:id/suspend",
      ({ actor, params, body }) => suspendUser({ actor, userId: params.id, reason: body.reason }, deps),
      {
        admin: true,
        params: IdParams,
        body: ReasonBody,
        response: { 200: AdminUserDto, ...errorResponses("not_found", "invalid_state") },
        detail: {
          tags,
          summary: "Suspend a user",
          description:
            "Their sessions are revoked and every token of theirs refused (403), their public profile is gone, and their listed properties leave search at once " +
            `(listed again when unsuspended). Suspending oneself → 409 invalid_state. Audited. ${hidden}`,
        },
      },
    )
    .post("/users/:id/unsuspend", ({ actor, params }) => unsuspendUser({ actor, userId: params.id }, deps), {
      admin: true,
      params: IdParams,
      response: { 200: AdminUserDto, ...errorResponses("not_found") },
      detail: {
        tags,
        summary: "Unsuspend a user",
        description: `The listings their suspension hid are listed again. Audited. ${hidden}`,
      },
    })
    .post(
      "/properties/:id/unlist",
      ({ actor, params, body }) => moderateProperty({ actor, propertyId: params.id, reason: body.reason }, deps),
      {
        admin: true,
        params: IdParams,
        body: ReasonBody,
        response: { 200: PropertyDto, ...errorResponses("not_found") },
        detail: {
          tags,
          summary: "Unlist a property (moderation)",
          description: `It leaves search at once and its host cannot list it again. Audited. ${hidden}`,
        },
      },
    )
    .get(
      "/audit",
      ({ actor, query }) => listAudit({ actor, limit: query.limit ?? DEFAULT_LIMIT, cursor: query.cursor }, deps),
      {
        admin: true,
        query: AuditQuery,
        response: { 200: AuditPage, ...errorResponses("not_found") },
        detail: {
          tags,
          summary: "Every admin action, newest first",
          description: `Actor, action, target, reason and time. ${hidden}`,
        },
      },
    );
}
