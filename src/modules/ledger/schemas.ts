// The ledger's DTOs: balances, entries, payouts, the payout method (contract "Payouts and the ledger").
import { type Static, t } from "elysia";
import { Page, PageOnlyQuery } from "../../http/pagination";
import { Int, strictObject, Timestamp, Uuid } from "../../http/schema";

const Currency = t.String({ pattern: "^[A-Z]{3}$", description: "ISO 4217" });
const Signed = Int({ description: "minor units; signed" });

export const PayoutMethodBody = strictObject(
  {
    token: t.String({
      pattern: "^ba_[A-Za-z0-9_]{1,100}$",
      description:
        "a payout-method token (ba_…), never an account number. The simulated provider's: ba_test_ok (paid), ba_test_fail (fails account_closed), ba_test_pending (in transit until a payout.paid or payout.failed webhook)",
    }),
  },
  { title: "PayoutMethodInput", examples: [{ token: "ba_test_ok" }] },
);

export const PayoutMethodDto = t.Object(
  {
    token: t.String({ description: "ba_… and the token's last 4 characters only" }),
    updatedAt: Timestamp,
  },
  { title: "PayoutMethod" },
);

export const BalanceDto = t.Object(
  {
    currency: Currency,
    pending: Signed,
    available: Int({ description: "minor units; negative by `clawback` when a refund came after the money left" }),
    inTransit: Signed,
    paidOut: Signed,
    clawback: Int({ minimum: 0, description: "what the host owes back (0 when nothing)" }),
  },
  { title: "Balance" },
);
export const BalancesDto = t.Object({ balances: t.Array(BalanceDto) }, { title: "Balances" });

export const LedgerKindSchema = t.Union([
  t.Literal("capture"),
  t.Literal("refund"),
  t.Literal("release"),
  t.Literal("payout"),
  t.Literal("payout_failed"),
  t.Literal("clawback"),
]);

export const LedgerEntryDto = t.Object(
  {
    id: t.String({ description: "the entry's id" }),
    transactionId: Uuid,
    account: t.String({ description: "host:<id>:pending | available | payout_in_transit" }),
    amount: Signed,
    currency: Currency,
    kind: LedgerKindSchema,
    bookingId: t.Optional(Uuid),
    payoutId: t.Optional(Uuid),
    createdAt: Timestamp,
  },
  { title: "LedgerEntry" },
);
export const LedgerPage = Page(LedgerEntryDto, "LedgerEntryPage");
export const LedgerQuery = PageOnlyQuery;

export const PayoutStatusSchema = t.Union([
  t.Literal("pending"),
  t.Literal("in_transit"),
  t.Literal("paid"),
  t.Literal("failed"),
]);
export const PayoutDto = t.Object(
  {
    id: Uuid,
    hostId: Uuid,
    amount: Int({ minimum: 1 }),
    currency: Currency,
    status: PayoutStatusSchema,
    failureCode: t.Optional(t.String()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: "Payout" },
);
export const PayoutPage = Page(PayoutDto, "PayoutPage");

export const AccountBalanceDto = t.Object(
  { account: t.String(), currency: Currency, balance: Signed },
  { title: "AccountBalance" },
);
export const LedgerBalancesDto = t.Object(
  {
    accounts: t.Array(AccountBalanceDto),
    totals: t.Array(t.Object({ currency: Currency, sum: Int({ description: "always 0" }) })),
  },
  { title: "LedgerBalances" },
);

export type PayoutDtoValue = Static<typeof PayoutDto>;
export type LedgerEntryDtoValue = Static<typeof LedgerEntryDto>;
export type BalanceDtoValue = Static<typeof BalanceDto>;
