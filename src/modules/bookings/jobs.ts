// The bookings module's job handlers (registered by src/job-handlers.ts).
import { eq } from "drizzle-orm";
import { bookings } from "../../db/schema";
import type { Handlers } from "../../jobs/registry";
import { invalidateAvailability } from "../properties/service";
import { settleDue } from "./lifecycle";

export const bookingHandlers: Handlers = {
  // A hold's own expiry, due at its expiresAt: a no-op when it was paid or cancelled meanwhile.
  "booking.expire": async (job, deps) => {
    const { expired } = await deps.db.transaction((tx) => settleDue(tx, deps.clock, { ids: [job.payload.bookingId] }));
    if (expired.length) await invalidateAvailability(deps);
  },
  // The backstop: whatever the per-booking jobs missed, and every stay whose checkout day passed.
  "bookings.sweep": async (_job, deps) => {
    for (;;) {
      const { expired, completed } = await deps.db.transaction((tx) => settleDue(tx, deps.clock, "all", 500));
      if (expired.length) await invalidateAvailability(deps);
      if (expired.length + completed.length) deps.log.info("bookings settled", { expired: expired.length, completed: completed.length });
      if (expired.length < 500 && completed.length < 500) return;
    }
  },
  // The refund owed by a cancellation. Executing it belongs to the payments module; until it
  // lands, this records that the amount stored with the booking is owed, once.
  "booking.refund": async (job, deps) => {
    const [b] = await deps.db.select({ status: bookings.status, refundAmount: bookings.refundAmount }).from(bookings).where(eq(bookings.id, job.payload.bookingId));
    if (b?.status !== "cancelled" || b.refundAmount !== job.payload.amount) {
      deps.log.warn("refund job does not match its booking; nothing recorded", { bookingId: job.payload.bookingId });
      return;
    }
    deps.log.info("refund owed", { bookingId: job.payload.bookingId, amount: job.payload.amount, currency: job.payload.currency });
  },
};
