// The rules a stay is judged by, shared by the booking (POST /bookings, GraphQL createBooking) and
// the quote (GET /properties/:id/quote, GraphQL quote): the same 422s from the same terms, and the
// same price from the same function, so a booking made right after a quote costs what it quoted.
import { invalid } from "../../http/errors";
import type { StayTerms } from "../properties/calendar";
import { MAX_AMOUNT, priceWithRules, type RuledPrice } from "./pricing";

/** The longest stay one booking may hold. */
export const MAX_NIGHTS = 365;

/** The stay's dates, before any listing is read: checkOut after checkIn, not in the past, ≤ 365 nights. */
export function checkStayDates(stay: { checkIn: string; nights: number; today: string }): void {
  if (stay.nights < 1) throw invalid("/checkOut", "must be after checkIn");
  if (stay.checkIn < stay.today) throw invalid("/checkIn", "is in the past");
  if (stay.nights > MAX_NIGHTS) throw invalid("/checkOut", `a stay is at most ${MAX_NIGHTS} nights`);
}

/** The listing's own rules for this stay: listed, not the caller's own, guests and nights within its bounds. */
export function checkListingTerms(
  terms: StayTerms,
  stay: { nights: number; guests: number; callerId: string | null },
): void {
  if (terms.status !== "listed") throw invalid("/propertyId", "the property is not listed");
  if (stay.callerId !== null && terms.hostId === stay.callerId)
    throw invalid("/propertyId", "you cannot book your own property");
  if (stay.guests > terms.maxGuests) throw invalid("/guests", `the property takes at most ${terms.maxGuests} guests`);
  if (stay.nights < terms.minNights)
    throw invalid("/checkOut", `the property's stays are at least ${terms.minNights} nights`);
  if (stay.nights > terms.maxNights)
    throw invalid("/checkOut", `the property's stays are at most ${terms.maxNights} nights`);
}

/** No night the host blocked (422: not a clash with another stay, which is a 409). */
export function checkNotBlocked(terms: StayTerms): void {
  const blocked = terms.nights.find((n) => n.blocked);
  if (blocked) throw invalid("/checkIn", `the night of ${blocked.date} is not available (the host blocked it)`);
}

/** The stay's price by the listing's rules and its place's taxes; one a booking cannot carry is 422. */
export function priceOfStay(terms: StayTerms, guests: number, hostFeePercent: number): RuledPrice {
  const price = priceWithRules(terms, { nights: terms.nights, guests }, terms.taxes, hostFeePercent);
  if (price.total > MAX_AMOUNT)
    throw invalid("/checkOut", "the stay costs more than one booking can charge; book fewer nights");
  return price;
}
