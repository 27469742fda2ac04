// /hosts/me/payout-method, /hosts/me/balance, /hosts/me/ledger, /hosts/me/payouts, /payouts/:id.
import { Elysia } from "elysia";
import type { Deps } from "../../dependencies";
import { authMacro } from "../../http/auth";
import { errorResponses } from "../../http/errors";
import { DEFAULT_LIMIT, PageOnlyQuery } from "../../http/pagination";
import { IdParams } from "../../http/schema";
import {
  BalancesDto,
  LedgerPage,
  LedgerQuery,
  PayoutDto,
  PayoutMethodBody,
  PayoutMethodDto,
  PayoutPage,
} from "./schemas";
import { getPayout, myBalances, myLedger, myPayouts, setPayoutMethod } from "./service";

const hostsOnly = "Hosts only (anyone else: 403 forbidden).";

export function ledgerRoutes(deps: Deps) {
  const tags = ["payouts"];
  return new Elysia()
    .use(authMacro(deps))
    .put("/hosts/me/payout-method", ({ actor, body }) => setPayoutMethod({ actor, token: body.token }, deps), {
      auth: true,
      body: PayoutMethodBody,
      response: { 200: PayoutMethodDto, ...errorResponses("forbidden") },
      detail: {
        tags,
        summary: "Set where your payouts go (a provider token)",
        description: `Replaces the previous one; answered with the token's last 4 characters only. ${hostsOnly}`,
      },
    })
    .get("/hosts/me/balance", ({ actor }) => myBalances({ actor }, deps), {
      auth: true,
      response: { 200: BalancesDto, ...errorResponses("forbidden") },
      detail: {
        tags,
        summary: "Your balances per currency",
        description:
          "pending (captured, not yet released: PAYOUT_RELEASE_HOURS after check-in), available (paid out by the daily run at or above PAYOUT_MINIMUM), " +
          `inTransit, paidOut, and clawback (what you owe back after a refund came once the money had left; available is negative by as much). ${hostsOnly}`,
      },
    })
    .get(
      "/hosts/me/ledger",
      ({ actor, query }) => myLedger({ actor, limit: query.limit ?? DEFAULT_LIMIT, cursor: query.cursor }, deps),
      {
        auth: true,
        query: LedgerQuery,
        response: { 200: LedgerPage, ...errorResponses("forbidden", "invalid_cursor") },
        detail: {
          tags,
          summary: "Your ledger entries, newest first",
          description: `Each capture, refund and release names its booking; each payout step its payout. ${hostsOnly}`,
        },
      },
    )
    .get(
      "/hosts/me/payouts",
      ({ actor, query }) => myPayouts({ actor, limit: query.limit ?? DEFAULT_LIMIT, cursor: query.cursor }, deps),
      {
        auth: true,
        query: PageOnlyQuery,
        response: { 200: PayoutPage, ...errorResponses("forbidden", "invalid_cursor") },
        detail: { tags, summary: "Your payouts, newest first", description: hostsOnly },
      },
    )
    .get("/payouts/:id", ({ actor, params }) => getPayout({ actor, id: params.id }, deps), {
      auth: true,
      params: IdParams,
      response: { 200: PayoutDto, ...errorResponses("not_found") },
      detail: {
        tags,
        summary: "A payout (its host)",
        description: "Anyone else gets 404, as for an id that does not exist.",
      },
    });
}
