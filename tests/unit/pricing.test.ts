// The stay price of the contract: nightly prices summed, cleaning fee, 10 % service fee half up.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { priceStay, serviceFeeOf } from "../../src/modules/bookings/pricing";

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
