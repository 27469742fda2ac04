// GET /properties/:id/quote and GraphQL's quote: what a booking of this stay would cost now, by the
// booking's own rules (stay-rules.ts) from the same read of the terms (stayTerms), never cached (it
// moves with every booking and calendar change, as availability does).
import type { Static } from "elysia";
import type { Db } from "../../db/client";
import type { Deps } from "../../dependencies";
import { notFound } from "../../http/errors";
import { dayOf, daysBetween } from "../../lib/dates";
import { isUuid } from "../../lib/ids";
import { type StayTerms, stayTerms } from "../properties/calendar";
import type { Viewer } from "../properties/service";
import { priceDto } from "./dto";
import type { QuoteDto } from "./schemas";
import { checkListingTerms, checkNotBlocked, checkStayDates, priceOfStay } from "./stay-rules";

export type QuoteValue = Static<typeof QuoteDto>;

/** A stay judged by the listing's rules (its dates, visibility, guests and nights): what its terms are. */
export interface JudgedStay {
  terms: StayTerms;
  guests: number;
  nights: number;
}

/**
 * The quote's 422s and 404s for a stay (the booking's own rules, stay-rules.ts), from one read of
 * its terms on `db` (a transaction's, for a caller that must read after its locks): the terms
 * when the stay passes them. Whether its nights are free is the caller's to judge.
 */
export async function judgeStay(
  q: { propertyId: string; checkIn: string; checkOut: string; guests?: number; viewer: Viewer },
  deps: Deps,
  db: Db = deps.db,
): Promise<JudgedStay> {
  const { checkIn, checkOut } = q;
  const guests = q.guests ?? 1;
  const now = deps.clock.now();
  if (!isUuid(q.propertyId)) throw notFound("Property");
  const nights = daysBetween(checkIn, checkOut);
  checkStayDates({ checkIn, nights, today: dayOf(now) });
  const terms = await stayTerms(db, q.propertyId.toLowerCase(), checkIn, checkOut, now);
  if (!terms) throw notFound("Property");
  const viewer = await q.viewer();
  // An unlisted listing is its host's alone to see (and a 422 to them, as booking it would be).
  if (terms.status !== "listed" && viewer?.id !== terms.hostId) throw notFound("Property");
  checkListingTerms(terms, { nights, guests, callerId: viewer?.id ?? null });
  return { terms, guests, nights };
}

export async function quoteStay(
  q: { propertyId: string; checkIn: string; checkOut: string; guests?: number; viewer: Viewer },
  deps: Deps,
): Promise<QuoteValue> {
  const { terms, guests } = await judgeStay(q, deps);
  // Held by a stay still running: the booking's 409, here `available: false`. Holds whose time is
  // up do not count (a booking expires them first).
  const available = terms.stays !== "live";
  if (available) checkNotBlocked(terms);
  const price = priceOfStay(terms, guests, deps.config.hostFeePercent);
  return {
    checkIn: q.checkIn,
    checkOut: q.checkOut,
    guests,
    nights: terms.nights.map((n) => ({ date: n.date, price: n.price })),
    price: priceDto(price),
    available,
    instantBook: terms.instantBook,
  };
}
