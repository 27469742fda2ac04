// GET /properties/:id/quote and GraphQL's quote: what a booking of this stay would cost now, by the
// booking's own rules (stay-rules.ts) from the same read of the terms (stayTerms), never cached (it
// moves with every booking and calendar change, as availability does).
import type { Static } from "elysia";
import type { Deps } from "../../dependencies";
import { notFound } from "../../http/errors";
import { dayOf, daysBetween } from "../../lib/dates";
import { isUuid } from "../../lib/ids";
import { stayTerms } from "../properties/calendar";
import type { Viewer } from "../properties/service";
import { priceDto } from "./dto";
import type { QuoteDto } from "./schemas";
import { checkListingTerms, checkNotBlocked, checkStayDates, priceOfStay } from "./stay-rules";

export type QuoteValue = Static<typeof QuoteDto>;

export async function quoteStay(
  q: { propertyId: string; checkIn: string; checkOut: string; guests?: number; viewer: Viewer },
  deps: Deps,
): Promise<QuoteValue> {
  const { checkIn, checkOut } = q;
  const guests = q.guests ?? 1;
  const now = deps.clock.now();
  if (!isUuid(q.propertyId)) throw notFound("Property");
  const nights = daysBetween(checkIn, checkOut);
  checkStayDates({ checkIn, nights, today: dayOf(now) });
  const terms = await stayTerms(deps.db, q.propertyId.toLowerCase(), checkIn, checkOut, now);
  if (!terms) throw notFound("Property");
  const viewer = await q.viewer();
  // An unlisted listing is its host's alone to see (and a 422 to them, as booking it would be).
  if (terms.status !== "listed" && viewer?.id !== terms.hostId) throw notFound("Property");
  checkListingTerms(terms, { nights, guests, callerId: viewer?.id ?? null });
  // Held by a stay still running: the booking's 409, here `available: false`. Holds whose time is
  // up do not count (a booking expires them first).
  const available = terms.stays !== "live";
  if (available) checkNotBlocked(terms);
  const price = priceOfStay(terms, guests, deps.config.hostFeePercent);
  return {
    checkIn,
    checkOut,
    guests,
    nights: terms.nights.map((n) => ({ date: n.date, price: n.price })),
    price: priceDto(price),
    available,
    instantBook: terms.instantBook,
  };
}
