// The ledger's job handlers (registered by src/job-handlers.ts): releases, the payout run, payouts.
import type { Handlers } from "../../jobs/registry";
import { runPayouts, sendPayout } from "./payouts";
import { bookingMoney, postRelease } from "./postings";

export const ledgerHandlers: Handlers = {
  // PAYOUT_RELEASE_HOURS after check-in: what the booking still has pending becomes available
  // (a booking cancelled with part of its money kept releases that part; one refunded in full, nothing).
  "ledger.release": async (job, deps) => {
    await deps.db.transaction(async (tx) => {
      const money = await bookingMoney(tx, job.payload.bookingId);
      if (money) await postRelease(tx, deps.clock, money);
    });
  },
  "payouts.run": async (_job, deps) => {
    await runPayouts(deps);
  },
  // Under the payout's own key: a redelivered job gets the provider's first answer back.
  "payout.send": async (job, deps) => {
    await sendPayout(deps, job.payload.payoutId);
  },
};
