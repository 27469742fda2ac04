// The refund policy table of the contract, at and around every boundary.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { type CancellationPolicy, checkInInstant, refundFor } from "../../src/modules/bookings/refunds";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const checkIn = "2031-07-10"; // check-in at 2031-07-10T15:00:00Z
const at = (msBefore: number) => new Date(checkInInstant(checkIn) - msBefore);

describe("refundFor", () => {
  test("check-in is 15:00 UTC on its day", () => {
    expect(new Date(checkInInstant(checkIn)).toISOString()).toBe("2031-07-10T15:00:00.000Z");
  });

  test("the table, on each side of each boundary (to the millisecond)", () => {
    const paid = 10_001;
    const half = 5_001; // an odd cent goes to the guest
    const cases: [CancellationPolicy, number, number][] = [
      ["flexible", DAY, paid],
      ["flexible", DAY - 1, 0],
      ["moderate", 5 * DAY, paid],
      ["moderate", 5 * DAY - 1, half],
      ["moderate", 0, half],
      ["strict", 7 * DAY, half],
      ["strict", 7 * DAY - 1, 0],
      ["flexible", -DAY, 0], // after check-in
    ];
    for (const [policy, before, expected] of cases)
      expect({ policy, before, refund: refundFor(policy, paid, "guest", at(before), checkIn) }).toEqual({
        policy,
        before,
        refund: expected,
      });
  });

  const policy = fc.constantFrom<CancellationPolicy>("flexible", "moderate", "strict");
  const paid = fc.integer({ min: 0, max: 2_147_483_647 });
  // Instants clustered around the boundaries (24 h, 5 and 7 days before), and anywhere in ±30 days.
  const boundary = fc.constantFrom(0, DAY, 5 * DAY, 7 * DAY);
  const instant = fc.oneof(
    fc.tuple(boundary, fc.integer({ min: -2 * HOUR, max: 2 * HOUR })).map(([b, d]) => b + d),
    fc.integer({ min: -30 * DAY, max: 30 * DAY }),
  );

  test("a host's cancellation refunds everything paid; an unpaid booking refunds nothing", () => {
    fc.assert(
      fc.property(policy, paid, instant, (p, amount, before) => {
        expect(refundFor(p, amount, "host", at(before), checkIn)).toBe(amount);
        expect(refundFor(p, 0, "guest", at(before), checkIn)).toBe(0);
        expect(refundFor(p, 0, "host", at(before), checkIn)).toBe(0);
      }),
    );
  });

  test("a guest's refund is 0, half (rounded up) or all of it, never more, and never grows as check-in nears", () => {
    fc.assert(
      fc.property(policy, paid, instant, instant, (p, amount, a, b) => {
        const [earlier, later] = a >= b ? [a, b] : [b, a]; // ms before check-in: earlier cancels sooner
        const r1 = refundFor(p, amount, "guest", at(earlier), checkIn);
        const r2 = refundFor(p, amount, "guest", at(later), checkIn);
        for (const r of [r1, r2]) expect([0, Math.ceil(amount / 2), amount]).toContain(r);
        expect(r2).toBeLessThanOrEqual(r1);
      }),
    );
  });

  test("each policy's rule, anywhere in time", () => {
    fc.assert(
      fc.property(
        policy,
        paid.filter((n) => n > 0),
        instant,
        (p, amount, before) => {
          const r = refundFor(p, amount, "guest", at(before), checkIn);
          const expected =
            p === "flexible"
              ? before >= DAY
                ? amount
                : 0
              : p === "moderate"
                ? before >= 5 * DAY
                  ? amount
                  : Math.ceil(amount / 2)
                : before >= 7 * DAY
                  ? Math.ceil(amount / 2)
                  : 0;
          expect(r).toBe(expected);
        },
      ),
    );
  });
});
