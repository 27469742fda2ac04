// The stay price of the contract: nightly prices summed, cleaning fee, 10 % service fee half up.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  isWeekendNight,
  nightPrices,
  type PricingRules,
  priceStay,
  priceWithRules,
  serviceFeeOf,
  type TaxRule,
} from "../../src/modules/bookings/pricing";

describe("priceStay", () => {
  test("nightly overrides, cleaning fee and the service fee", () => {
    // 3 nights: 12000, an override of 15000, 12000; cleaning 3000 → 42000; fee 4200.
    expect(priceStay([12_000, 15_000, 12_000], 3_000, "EUR")).toEqual({
      nights: 3,
      nightlyTotal: 39_000,
      cleaningFee: 3_000,
      serviceFee: 4_200,
      total: 46_200,
      currency: "EUR",
    });
  });

  test("the service fee rounds half up, and only half up", () => {
    expect(serviceFeeOf(15)).toBe(2); // 1.5 → 2
    expect(serviceFeeOf(14)).toBe(1); // 1.4 → 1
    expect(serviceFeeOf(25)).toBe(3); // 2.5 → 3 (not banker's 2)
    expect(serviceFeeOf(4)).toBe(0);
    expect(serviceFeeOf(5)).toBe(1);
    expect(serviceFeeOf(0)).toBe(0);
    expect(priceStay([1_005], 0, "USD")).toMatchObject({ serviceFee: 101, total: 1_106 }); // 100.5 → 101
  });

  test("for any stay: integers, total = parts, fee is 10 % within half a cent, rounding up on exact halves", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 100_000_000 }), { minLength: 1, maxLength: 365 }),
        fc.integer({ min: 0, max: 100_000_000 }),
        (nights, cleaning) => {
          const p = priceStay(nights, cleaning, "EUR");
          const base = nights.reduce((a, b) => a + b, 0) + cleaning;
          expect(Number.isInteger(p.serviceFee)).toBe(true);
          expect(p.total).toBe(p.nightlyTotal + p.cleaningFee + p.serviceFee);
          expect(p.nights).toBe(nights.length);
          // |fee − base/10| ≤ 0.5, and exactly 0.5 only upwards.
          const diff = p.serviceFee * 10 - base;
          expect(diff).toBeGreaterThan(-5);
          expect(diff).toBeLessThanOrEqual(5);
        },
      ),
    );
  });
});

// The price with pricing rules and taxes (contract: "Pricing rules, quotes and request-to-book").
const ANCHOR_FRIDAY = Date.UTC(2026, 0, 2); // 2026-01-02 was a Friday
const dateOf = (dayNumber: number) => new Date(ANCHOR_FRIDAY + dayNumber * 86_400_000).toISOString().slice(0, 10);
/** Fridays and Saturdays counted from the anchor, not from the function's own weekday rule. */
const isFriOrSat = (dayNumber: number) => ((dayNumber % 7) + 7) % 7 <= 1;
const NONE: Omit<PricingRules, "pricePerNight" | "cleaningFee"> = {
  weekendPrice: null,
  weeklyDiscountPercent: 0,
  monthlyDiscountPercent: 0,
  guestsIncluded: 16,
  extraGuestFee: 0,
  currency: "EUR",
};
/** Half up, by integer division: |q × d − n × p| < d/2, or = d/2 upwards. */
const halfUp = (n: number, percent: number) => {
  const x = n * percent;
  return Math.trunc(x / 100) + (x % 100 >= 50 ? 1 : 0);
};

const amount = fc.integer({ min: 0, max: 500_000 });
const arbitraryStay = fc.record({
  start: fc.integer({ min: 0, max: 2_000 }),
  overrides: fc.array(fc.option(amount, { nil: null, freq: 3 }), { minLength: 1, maxLength: 60 }),
  guests: fc.integer({ min: 1, max: 16 }),
});
const arbitraryRules = fc.record({
  pricePerNight: amount,
  cleaningFee: amount,
  weekendPrice: fc.option(amount, { nil: null }),
  weeklyDiscountPercent: fc.integer({ min: 0, max: 90 }),
  monthlyDiscountPercent: fc.integer({ min: 0, max: 90 }),
  guestsIncluded: fc.integer({ min: 1, max: 16 }),
  extraGuestFee: amount,
  currency: fc.constant("EUR"),
});
const arbitraryTaxes = fc.array(
  fc.record({
    name: fc.string({ minLength: 1, maxLength: 8 }),
    kind: fc.constantFrom("percent", "per_night", "per_guest_per_night", "per_stay" as const),
    value: fc.integer({ min: 0, max: 5_000 }),
    base: fc.constantFrom("nights", "nights_and_cleaning" as const),
  }),
  { maxLength: 3 },
) as fc.Arbitrary<TaxRule[]>;
const nightsOf = (s: { start: number; overrides: (number | null)[] }) =>
  s.overrides.map((override, i) => ({ date: dateOf(s.start + i), override }));

describe("priceWithRules", () => {
  test("a week with a weekend price, a weekly discount, an extra guest and three kinds of tax", () => {
    // Thu 2026-01-01 .. Thu 2026-01-08: 7 nights, Fri and Sat at 15000, one override of 9000.
    const nights = [0, 1, 2, 3, 4, 5, 6].map((i) => ({ date: dateOf(i - 1), override: i === 3 ? 9_000 : null }));
    const price = priceWithRules(
      {
        ...NONE,
        pricePerNight: 10_000,
        weekendPrice: 15_000,
        weeklyDiscountPercent: 15,
        guestsIncluded: 2,
        extraGuestFee: 1_000,
        cleaningFee: 5_000,
      },
      { nights, guests: 3 },
      [
        { name: "City tax", kind: "per_guest_per_night", value: 150, base: "nights" },
        { name: "VAT", kind: "percent", value: 6, base: "nights_and_cleaning" },
        { name: "Booking levy", kind: "per_stay", value: 99, base: "nights" },
      ],
    );
    // Nights: Thu 10000, Fri 15000, Sat 15000, Sun 9000 (override), Mon–Wed 10000 → 79000.
    expect(price).toEqual({
      nights: 7,
      nightlyTotal: 79_000,
      discount: { kind: "weekly", percent: 15, amount: 11_850 },
      extraGuestFee: 7_000, // 1 extra guest × 7 nights, not discounted
      cleaningFee: 5_000,
      serviceFee: 7_915, // 10 % of 79000 − 11850 + 7000 + 5000 = 79150
      taxes: [
        { name: "City tax", amount: 3_150 }, // 150 × 3 guests × 7 nights
        { name: "VAT", amount: 4_749 }, // 6 % of 79150
        { name: "Booking levy", amount: 99 },
      ],
      total: 79_150 + 7_915 + 3_150 + 4_749 + 99,
      currency: "EUR",
      hostPayout: 79_150 - 2_375, // less the 3 % host fee of 79150 (2374.5 → 2375)
    });
  });

  test("for any listing, rules, calendar and stay: the lines sum to the total, each rounded half up once", () => {
    fc.assert(
      fc.property(arbitraryRules, arbitraryStay, arbitraryTaxes, (rules, stay, taxes) => {
        const p = priceWithRules(rules, { nights: nightsOf(stay), guests: stay.guests }, taxes);
        const discount = p.discount?.amount ?? 0;
        const hostPart = p.nightlyTotal - discount + p.extraGuestFee + p.cleaningFee;
        expect(p.total).toBe(hostPart + p.serviceFee + p.taxes.reduce((s, t) => s + t.amount, 0));
        expect(p.serviceFee).toBe(halfUp(hostPart, 10));
        if (p.discount) expect(discount).toBe(halfUp(p.nightlyTotal, p.discount.percent));
        for (const [i, t] of taxes.entries())
          if (t.kind === "percent")
            expect(p.taxes[i]?.amount).toBe(halfUp(t.base === "nights" ? hostPart - p.cleaningFee : hostPart, t.value));
        expect(p.hostPayout).toBe(hostPart - halfUp(hostPart, 3));
        for (const v of [
          p.total,
          p.serviceFee,
          discount,
          p.extraGuestFee,
          p.hostPayout,
          ...p.taxes.map((t) => t.amount),
        ]) {
          expect(Number.isInteger(v)).toBe(true);
          expect(v).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });

  test("with no rule set and no tax, the price is today's formula exactly", () => {
    fc.assert(
      fc.property(amount, amount, arbitraryStay, (pricePerNight, cleaningFee, stay) => {
        const p = priceWithRules(
          { ...NONE, pricePerNight, cleaningFee },
          { nights: nightsOf(stay), guests: stay.guests },
        );
        const prices = stay.overrides.map((o) => o ?? pricePerNight);
        const nightlyTotal = prices.reduce((a, b) => a + b, 0);
        const serviceFee = halfUp(nightlyTotal + cleaningFee, 10);
        expect(p).toMatchObject({
          nightlyTotal,
          cleaningFee,
          serviceFee,
          total: nightlyTotal + cleaningFee + serviceFee,
        });
        expect(p).toMatchObject(priceStay(prices, cleaningFee, "EUR"));
        expect(p.discount).toBeNull();
        expect(p.extraGuestFee).toBe(0);
        expect(p.taxes).toEqual([]);
      }),
    );
  });

  test("the discount is of the nights alone: cleaning and extra-guest fees never change it", () => {
    fc.assert(
      fc.property(arbitraryRules, arbitraryStay, amount, amount, (rules, stay, cleaning, extra) => {
        const stayed = { nights: nightsOf(stay), guests: stay.guests };
        const a = priceWithRules(rules, stayed);
        const b = priceWithRules({ ...rules, cleaningFee: cleaning, extraGuestFee: extra }, stayed);
        expect(b.discount).toEqual(a.discount);
        expect(b.nightlyTotal).toBe(a.nightlyTotal);
      }),
    );
  });

  test("monthly replaces weekly (never both); neither below a week", () => {
    fc.assert(
      fc.property(arbitraryRules, arbitraryStay, (rules, stay) => {
        const p = priceWithRules(rules, { nights: nightsOf(stay), guests: stay.guests });
        const n = stay.overrides.length;
        const expected =
          n >= 28 && rules.monthlyDiscountPercent > 0
            ? { kind: "monthly", percent: rules.monthlyDiscountPercent }
            : n >= 7 && rules.weeklyDiscountPercent > 0
              ? { kind: "weekly", percent: rules.weeklyDiscountPercent }
              : null;
        if (expected === null) expect(p.discount).toBeNull();
        else expect(p.discount).toMatchObject(expected);
      }),
    );
  });

  test("the weekend price is for Friday and Saturday nights by local date, below any override", () => {
    fc.assert(
      fc.property(arbitraryRules, arbitraryStay, (rules, stay) => {
        const priced = nightPrices(rules, nightsOf(stay));
        for (const [i, night] of priced.entries()) {
          const override = stay.overrides[i] ?? null;
          const weekend = isFriOrSat(stay.start + i);
          expect(isWeekendNight(night.date)).toBe(weekend);
          expect(night.price).toBe(
            override ?? (weekend && rules.weekendPrice !== null ? rules.weekendPrice : rules.pricePerNight),
          );
        }
      }),
    );
  });
});
