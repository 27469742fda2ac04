// /admin: moderation for users with the admin role; to anyone else these routes do not exist (404).
import { Elysia, t } from "elysia";
import type { Deps } from "../../dependencies";
import { adminMacro } from "../../http/auth";
import { errorResponses } from "../../http/errors";
import { DEFAULT_LIMIT } from "../../http/pagination";
import { IdParams } from "../../http/schema";
import { LedgerBalancesDto } from "../ledger/schemas";
import { ledgerBalances } from "../ledger/service";
import { PropertyDto } from "../properties/schemas";
import {
  AdminUserDto,
  AdminUserPage,
  AdminUserQuery,
  AuditPage,
  AuditQuery,
  ReasonBody,
  TaxRuleBody,
  TaxRuleDto,
  TaxRuleList,
} from "./schemas";
import { listAudit, listUsers, moderateProperty, suspendUser, unsuspendUser } from "./service";
import { createTaxRule, deleteTaxRule, listTaxRules } from "./tax-rules";

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
    .get("/ledger/balances", ({ actor }) => ledgerBalances({ actor }, deps), {
      admin: true,
      response: { 200: LedgerBalancesDto, ...errorResponses("not_found") },
      detail: {
        tags,
        summary: "Every ledger account's balance per currency",
        description: `Platform accounts and every host's; totals: each currency's sum, which is 0 (the database refuses a transaction that would make it anything else). ${hidden}`,
      },
    })
    .get("/tax-rules", ({ actor }) => listTaxRules({ actor }, deps), {
      admin: true,
      response: { 200: TaxRuleList, ...errorResponses("not_found") },
      detail: {
        tags,
        summary: "Occupancy-tax rules",
        description: `All of them (no paging: a handful per country), by country, city (country-wide first) and age. ${hidden}`,
      },
    })
    .post(
      "/tax-rules",
      async ({ actor, body, set }) => {
        set.status = 201;
        return createTaxRule({ actor, input: body }, deps);
      },
      {
        admin: true,
        body: TaxRuleBody,
        response: { 201: TaxRuleDto, ...errorResponses("not_found") },
        detail: {
          tags,
          summary: "Add an occupancy-tax rule",
          description:
            "Priced into quotes at once and into bookings made after it, for listings of the country (and city, case-insensitive). " +
            "A booking keeps the tax lines it was priced with. percent above 100 or an unassigned country → 422. Audited. " +
            hidden,
        },
      },
    )
    .delete(
      "/tax-rules/:id",
      async ({ actor, params, set }) => {
        await deleteTaxRule({ actor, id: params.id }, deps);
        set.status = 204;
      },
      {
        admin: true,
        params: IdParams,
        response: { 204: t.Void(), ...errorResponses("not_found") },
        detail: {
          tags,
          summary: "Delete an occupancy-tax rule",
          description: `Bookings made before keep its lines; new quotes and bookings no longer have it. Unknown id → 404. Audited. ${hidden}`,
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
