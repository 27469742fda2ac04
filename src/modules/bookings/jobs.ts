// The bookings module's job handlers (registered by src/job-handlers.ts); a cancellation's refund
// (booking.refund) is the payments module's.
import { onChange } from "../../cache/invalidation";
import type { Handlers } from "../../jobs/registry";
import { settleDue } from "./lifecycle";

export const bookingHandlers: Handlers = {
  // A hold's own expiry, due at its expiresAt: a no-op when it was paid or cancelled meanwhile.
  "booking.expire": async (job, deps) => {
    const { expired } = await deps.db.transaction((tx) => settleDue(tx, deps.clock, { ids: [job.payload.bookingId] }));
    if (expired.length) await onChange(deps, { kind: "nights.freed" });
  },
  // The backstop: whatever the per-booking jobs missed, and every stay whose checkout day passed.
  "bookings.sweep": async (_job, deps) => {
    for (;;) {
      const { expired, completed } = await deps.db.transaction((tx) => settleDue(tx, deps.clock, "all", 500));
      if (expired.length) await onChange(deps, { kind: "nights.freed" });
      if (expired.length + completed.length)
        deps.log.info("bookings settled", { expired: expired.length, completed: completed.length });
      if (expired.length < 500 && completed.length < 500) return;
    }
  },
};
