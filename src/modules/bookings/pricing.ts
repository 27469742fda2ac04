// What a stay costs, computed by the server only (contract: Bookings → Price). Integer minor units.

export interface StayPrice {
  nights: number;
  nightlyTotal: number;
  cleaningFee: number;
  serviceFee: number;
  total: number;
  currency: string;
}

/** The largest amount a booking may carry: what its integer (int4) columns hold. */
export const MAX_AMOUNT = 2_147_483_647;

/** 10 % of `amount` (integer minor units ≥ 0), rounded half up: 15 → 2, 14 → 1. */
export const serviceFeeOf = (amount: number): number => Math.floor((amount + 5) / 10);

/** `nightPrices`: each night's price (its override, else the listing's pricePerNight). */
export function priceStay(nightPrices: number[], cleaningFee: number, currency: string): StayPrice {
  const nightlyTotal = nightPrices.reduce((sum, p) => sum + p, 0);
  const serviceFee = serviceFeeOf(nightlyTotal + cleaningFee);
  return {
    nights: nightPrices.length,
    nightlyTotal,
    cleaningFee,
    serviceFee,
    total: nightlyTotal + cleaningFee + serviceFee,
    currency,
  };
}
