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

/** A whole `percent` (0–100) of `amount` (integer minor units ≥ 0), rounded half up. */
export const percentOf = (amount: number, percent: number): number => Math.floor((amount * percent + 50) / 100);

/** 10 % of `amount` (integer minor units ≥ 0), rounded half up: 15 → 2, 14 → 1. */
export const serviceFeeOf = (amount: number): number => percentOf(amount, 10);

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

// The price with the listing's pricing rules and the occupancy taxes (contract: "Pricing rules,
// quotes and request-to-book"), in the contract's order, each line rounded half up once. With no
// rule set and no tax it is `priceStay`'s price to the minor unit (a property test holds them equal).

/** A listing's pricing rules (the Property fields of the contract; defaults are "no rule"). */
export interface PricingRules {
  pricePerNight: number;
  /** The price of Friday and Saturday nights (local dates), when set. */
  weekendPrice: number | null;
  /** 0–90: stays of ≥ 7 nights. */
  weeklyDiscountPercent: number;
  /** 0–90: stays of ≥ 28 nights; replaces the weekly one. */
  monthlyDiscountPercent: number;
  /** Guests the nightly price covers; each one more pays `extraGuestFee` per night. */
  guestsIncluded: number;
  extraGuestFee: number;
  cleaningFee: number;
  currency: string;
}

/** An occupancy-tax rule of the listing's country (and city). */
export interface TaxRule {
  name: string;
  kind: "percent" | "per_night" | "per_guest_per_night" | "per_stay";
  /** A whole percent for `percent`, minor units otherwise. */
  value: number;
  /** `percent` only: the nights after discount plus extra-guest fees, or that and cleaning. */
  base: "nights" | "nights_and_cleaning";
}

/** One night of the stay: its local date (YYYY-MM-DD) and the host's override for it, if any. */
export interface StayNight {
  date: string;
  override: number | null;
}

export interface RuledPrice extends StayPrice {
  discount: { kind: "weekly" | "monthly"; percent: number; amount: number } | null;
  extraGuestFee: number;
  taxes: { name: string; amount: number }[];
  /** What the host earns: the stay less the discount, with fees and cleaning, less the host fee. */
  hostPayout: number;
}

export const WEEKLY_NIGHTS = 7;
export const MONTHLY_NIGHTS = 28;

/** Friday (5) or Saturday (6): the weekend nights, by the night's own local date. */
export const isWeekendNight = (date: string): boolean => {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 5 || day === 6;
};

/** A night's price: its override, else the weekend price on a Friday/Saturday night, else the base price. */
export const nightPrice = (
  rules: Pick<PricingRules, "pricePerNight" | "weekendPrice">,
  date: string,
  override: number | null,
): number =>
  override ?? (rules.weekendPrice !== null && isWeekendNight(date) ? rules.weekendPrice : rules.pricePerNight);

/** Each night's price (`nightPrice`). */
export function nightPrices(rules: Pick<PricingRules, "pricePerNight" | "weekendPrice">, nights: StayNight[]) {
  return nights.map((n) => ({ date: n.date, price: nightPrice(rules, n.date, n.override) }));
}

/** The stay's price in the contract's order; `hostFeePercent` is HOST_FEE_PERCENT (default 3). */
export function priceWithRules(
  rules: PricingRules,
  stay: { nights: StayNight[]; guests: number },
  taxRules: TaxRule[] = [],
  hostFeePercent = 3,
): RuledPrice {
  const count = stay.nights.length;
  const nightlyTotal = nightPrices(rules, stay.nights).reduce((sum, n) => sum + n.price, 0);
  const [kind, percent] =
    count >= MONTHLY_NIGHTS && rules.monthlyDiscountPercent > 0
      ? (["monthly", rules.monthlyDiscountPercent] as const)
      : count >= WEEKLY_NIGHTS && rules.weeklyDiscountPercent > 0
        ? (["weekly", rules.weeklyDiscountPercent] as const)
        : [null, 0];
  const discount = kind ? { kind, percent, amount: percentOf(nightlyTotal, percent) } : null;
  const extraGuests = Math.max(0, stay.guests - rules.guestsIncluded);
  const extraGuestFee = rules.extraGuestFee * extraGuests * count;
  const nights = nightlyTotal - (discount?.amount ?? 0) + extraGuestFee;
  const hostPart = nights + rules.cleaningFee;
  const serviceFee = serviceFeeOf(hostPart);
  const taxes = taxRules.map((r) => ({
    name: r.name,
    amount:
      r.kind === "percent"
        ? percentOf(r.base === "nights" ? nights : hostPart, r.value)
        : r.kind === "per_night"
          ? r.value * count
          : r.kind === "per_guest_per_night"
            ? r.value * stay.guests * count
            : r.value,
  }));
  return {
    nights: count,
    nightlyTotal,
    discount,
    extraGuestFee,
    cleaningFee: rules.cleaningFee,
    serviceFee,
    taxes,
    total: hostPart + serviceFee + taxes.reduce((sum, t) => sum + t.amount, 0),
    currency: rules.currency,
    hostPayout: hostPart - percentOf(hostPart, hostFeePercent),
  };
}
