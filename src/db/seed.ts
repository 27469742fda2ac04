// `stayhub seed --properties N`: demo hosts, guests, properties across many cities, photos,
// calendars, bookings and reviews — consistent with every constraint, reproducible (seeded
// random), in bulk inserts so 10,000 properties take seconds, with a progress line.
import { sql } from "drizzle-orm";
import { addDays, dayOf, eachDay } from "../lib/dates";
import { priceColumns } from "../modules/bookings/dto";
import { type PricingRules, priceWithRules } from "../modules/bookings/pricing";
import type { Db } from "./client";
import { bookings, calendarDays, properties, propertyPhotos, reviews, users } from "./schema";

export const DEMO_PASSWORD = "stayhub-demo-password";

const CITIES: [city: string, country: string, currency: string, lat: number, lng: number, basePrice: number][] = [
  ["Lisbon", "PT", "EUR", 38.7223, -9.1393, 9000],
  ["Porto", "PT", "EUR", 41.1579, -8.6291, 8000],
  ["Madrid", "ES", "EUR", 40.4168, -3.7038, 9500],
  ["Barcelona", "ES", "EUR", 41.3874, 2.1686, 12000],
  ["Paris", "FR", "EUR", 48.8566, 2.3522, 15000],
  ["Nice", "FR", "EUR", 43.7102, 7.262, 13000],
  ["Rome", "IT", "EUR", 41.9028, 12.4964, 11000],
  ["Florence", "IT", "EUR", 43.7696, 11.2558, 12000],
  ["Berlin", "DE", "EUR", 52.52, 13.405, 9000],
  ["Munich", "DE", "EUR", 48.1351, 11.582, 11000],
  ["Amsterdam", "NL", "EUR", 52.3676, 4.9041, 16000],
  ["Vienna", "AT", "EUR", 48.2082, 16.3738, 10000],
  ["Prague", "CZ", "CZK", 50.0755, 14.4378, 180000],
  ["London", "GB", "GBP", 51.5074, -0.1278, 14000],
  ["Edinburgh", "GB", "GBP", 55.9533, -3.1883, 11000],
  ["Dublin", "IE", "EUR", 53.3498, -6.2603, 13000],
  ["Copenhagen", "DK", "DKK", 55.6761, 12.5683, 110000],
  ["Stockholm", "SE", "SEK", 59.3293, 18.0686, 120000],
  ["Oslo", "NO", "NOK", 59.9139, 10.7522, 130000],
  ["Reykjavik", "IS", "ISK", 64.1466, -21.9426, 2500000],
  ["New York", "US", "USD", 40.7128, -74.006, 22000],
  ["San Francisco", "US", "USD", 37.7749, -122.4194, 20000],
  ["Los Angeles", "US", "USD", 34.0522, -118.2437, 17000],
  ["Chicago", "US", "USD", 41.8781, -87.6298, 13000],
  ["Miami", "US", "USD", 25.7617, -80.1918, 16000],
  ["Austin", "US", "USD", 30.2672, -97.7431, 12000],
  ["Toronto", "CA", "CAD", 43.6532, -79.3832, 15000],
  ["Vancouver", "CA", "CAD", 49.2827, -123.1207, 16000],
  ["Mexico City", "MX", "MXN", 19.4326, -99.1332, 150000],
  ["Buenos Aires", "AR", "USD", -34.6037, -58.3816, 7000],
  ["Rio de Janeiro", "BR", "BRL", -22.9068, -43.1729, 45000],
  ["Lima", "PE", "USD", -12.0464, -77.0428, 6000],
  ["Cape Town", "ZA", "ZAR", -33.9249, 18.4241, 150000],
  ["Marrakesh", "MA", "EUR", 31.6295, -7.9811, 7000],
  ["Cairo", "EG", "USD", 30.0444, 31.2357, 5000],
  ["Istanbul", "TR", "EUR", 41.0082, 28.9784, 7000],
  ["Athens", "GR", "EUR", 37.9838, 23.7275, 8000],
  ["Dubai", "AE", "AED", 25.2048, 55.2708, 60000],
  ["Mumbai", "IN", "INR", 19.076, 72.8777, 700000],
  ["Bangkok", "TH", "THB", 13.7563, 100.5018, 250000],
  ["Bali", "ID", "USD", -8.3405, 115.092, 8000],
  ["Singapore", "SG", "SGD", 1.3521, 103.8198, 20000],
  ["Hong Kong", "HK", "HKD", 22.3193, 114.1694, 120000],
  ["Tokyo", "JP", "JPY", 35.6762, 139.6503, 18000],
  ["Kyoto", "JP", "JPY", 35.0116, 135.7681, 16000],
  ["Seoul", "KR", "KRW", 37.5665, 126.978, 13000000],
  ["Sydney", "AU", "AUD", -33.8688, 151.2093, 20000],
  ["Melbourne", "AU", "AUD", -37.8136, 144.9631, 17000],
  ["Auckland", "NZ", "NZD", -36.8485, 174.7633, 16000],
  ["Queenstown", "NZ", "NZD", -45.0312, 168.6626, 19000],
];
const ADJECTIVES = [
  "Sunny",
  "Cosy",
  "Quiet",
  "Bright",
  "Charming",
  "Modern",
  "Rustic",
  "Elegant",
  "Spacious",
  "Hidden",
  "Historic",
  "Airy",
];
const NOUNS: [string, string][] = [
  ["loft", "apartment"],
  ["flat", "apartment"],
  ["studio", "apartment"],
  ["townhouse", "house"],
  ["cottage", "house"],
  ["room", "room"],
  ["cabin", "cabin"],
  ["villa", "villa"],
  ["houseboat", "other"],
];
const VIEWS = [
  "near the old town",
  "with a garden",
  "by the water",
  "with a terrace",
  "close to the station",
  "with a view",
  "in a leafy street",
];
const AMENITIES = [
  "wifi",
  "kitchen",
  "washer",
  "air_conditioning",
  "heating",
  "pool",
  "free_parking",
  "workspace",
  "tv",
  "balcony",
  "pets_allowed",
  "gym",
];
const POLICIES = ["flexible", "moderate", "strict"] as const;

/** mulberry32: small, fast, seeded — the same seed gives the same demo data. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T,
  };
}

export interface SeedOptions {
  properties: number;
  passwordHash: string;
  now: Date;
  seed?: number;
  progress?: (line: string) => void;
}

export interface SeedResult {
  hosts: number;
  guests: number;
  properties: number;
  bookings: number;
  reviews: number;
  ms: number;
}

const BATCH = 1000;

async function insertInBatches<T>(rows: T[], insert: (batch: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH) await insert(rows.slice(i, i + BATCH));
}

type Rng = ReturnType<typeof rng>;
type Person = typeof users.$inferInsert & { id: string };

interface Stays {
  bookings: (typeof bookings.$inferInsert)[];
  reviews: (typeof reviews.$inferInsert)[];
  ratingSum: number;
  /** The day after the last stay: where a host's block may start. */
  end: string;
}

/** One property's stays: some past (completed, often reviewed), some ahead — two on average. */
function staysOf(
  r: Rng,
  p: { id: string; rules: PricingRules; maxGuests: number; minNights: number },
  ctx: { today: string; now: Date; createdAt: Date; guests: Person[] },
): Stays {
  const out: Stays = { bookings: [], reviews: [], ratingSum: 0, end: ctx.today };
  let cursor = addDays(ctx.today, -r.int(20, 60));
  const stays = r.int(1, 3);
  for (let s = 0; s < stays; s++) {
    cursor = addDays(cursor, r.int(1, 20));
    const nights = Math.max(p.minNights, r.int(1, 7));
    const checkIn = cursor;
    const checkOut = addDays(checkIn, nights);
    cursor = checkOut;
    const roll = r.next();
    const status =
      checkOut <= ctx.today
        ? roll < 0.9
          ? "completed"
          : "cancelled"
        : roll < 0.8
          ? "confirmed"
          : roll < 0.9
            ? "pending_payment"
            : "cancelled";
    const bookingId = Bun.randomUUIDv7();
    const guest = r.pick(ctx.guests);
    const guestCount = r.int(1, p.maxGuests);
    const price = priceWithRules(p.rules, {
      nights: eachDay(checkIn, checkOut).map((date) => ({ date, override: null })),
      guests: guestCount,
    });
    out.bookings.push({
      id: bookingId,
      propertyId: p.id,
      guestId: guest.id,
      checkIn,
      checkOut,
      guests: guestCount,
      status,
      ...priceColumns(price),
      expiresAt: new Date(ctx.now.getTime() + 15 * 60_000),
      cancelledAt: status === "cancelled" ? ctx.now : null,
      cancelledBy: status === "cancelled" ? "guest" : null,
      refundAmount: status === "cancelled" ? 0 : null,
      createdAt: ctx.createdAt,
      updatedAt: ctx.createdAt,
    });
    if (status === "completed" && r.next() < 0.7) {
      const rating = r.pick([3, 4, 4, 5, 5, 5]);
      out.ratingSum += rating;
      out.reviews.push({
        id: Bun.randomUUIDv7(),
        bookingId,
        propertyId: p.id,
        authorId: guest.id,
        rating,
        comment: r.pick(REVIEW_COMMENTS),
        createdAt: new Date(`${checkOut}T12:00:00Z`),
      });
    }
  }
  out.end = cursor;
  return out;
}

const REVIEW_COMMENTS = [
  "Lovely stay.",
  "Great location, would come back.",
  "Clean and quiet.",
  "Host was very helpful.",
  "As described.",
];
const FIRST_NAMES = [
  "Ana",
  "Ben",
  "Chloé",
  "Dmitri",
  "Eva",
  "Farid",
  "Grace",
  "Hiro",
  "Inés",
  "Jonas",
  "Kemi",
  "Lars",
  "Mei",
  "Noah",
];

export async function seed(db: Db, o: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const r = rng(o.seed ?? 42);
  const say = o.progress ?? (() => {});
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  const tag = o.now.getTime().toString(36);
  const today = dayOf(o.now);
  const hostsN = Math.max(1, Math.ceil(o.properties / 10));
  const guestsN = Math.max(1, Math.ceil(o.properties / 5));
  const person = (role: "host" | "guest", i: number): Person => ({
    id: Bun.randomUUIDv7(),
    email: `${role}${i}.${tag}@demo.stayhub.dev`,
    passwordHash: o.passwordHash,
    name: `${r.pick(FIRST_NAMES)} ${String.fromCharCode(65 + (i % 26))}.`,
    roles: role === "host" ? ["guest", "host"] : ["guest"],
    // Demo accounts have no inbox: verified, so they can book and list under EMAIL_VERIFICATION=required.
    emailVerifiedAt: o.now,
    createdAt: o.now,
    updatedAt: o.now,
  });
  const hosts = Array.from({ length: hostsN }, (_, i) => person("host", i));
  const guests = Array.from({ length: guestsN }, (_, i) => person("guest", i));
  await insertInBatches([...hosts, ...guests], (b) => db.insert(users).values(b));
  say(`seed: ${hostsN} hosts and ${guestsN} guests (demo password: ${DEMO_PASSWORD})`);

  const propertyRows: (typeof properties.$inferInsert)[] = [];
  const photoRows: (typeof propertyPhotos.$inferInsert)[] = [];
  const calendarRows: (typeof calendarDays.$inferInsert)[] = [];
  const bookingRows: (typeof bookings.$inferInsert)[] = [];
  const reviewRows: (typeof reviews.$inferInsert)[] = [];

  for (let i = 0; i < o.properties; i++) {
    const [city, country, currency, lat, lng, base] = r.pick(CITIES);
    const [noun, propertyType] = r.pick(NOUNS);
    const id = Bun.randomUUIDv7();
    const price = Math.round((base * (0.5 + r.next() * 1.5)) / 100) * 100;
    const cleaningFee = Math.round((price * r.int(0, 30)) / 100 / 100) * 100;
    const maxGuests = propertyType === "room" ? r.int(1, 2) : r.int(2, 10);
    const minNights = r.pick([1, 1, 1, 2, 2, 3, 5]);
    const createdAt = new Date(o.now.getTime() - r.int(0, 720) * 3_600_000 - i);
    // Some listings with each pricing rule (each about one in four, independently).
    const rules: PricingRules = {
      pricePerNight: price,
      cleaningFee,
      currency,
      weekendPrice: r.next() < 0.25 ? Math.round((price * 1.25) / 100) * 100 : null,
      weeklyDiscountPercent: r.next() < 0.25 ? r.pick([5, 10, 15]) : 0,
      monthlyDiscountPercent: r.next() < 0.25 ? r.pick([20, 25, 30]) : 0,
      guestsIncluded: maxGuests > 2 && r.next() < 0.25 ? maxGuests - 2 : maxGuests,
      extraGuestFee: 0,
    };
    if (rules.guestsIncluded < maxGuests) rules.extraGuestFee = Math.round((price * 0.15) / 100) * 100;
    const stays = staysOf(r, { id, rules, maxGuests, minNights }, { today, now: o.now, createdAt, guests });
    bookingRows.push(...stays.bookings);
    reviewRows.push(...stays.reviews);
    // Some hosts block a week ahead, after their last booked stay.
    if (r.next() < 0.1) {
      const start = addDays(stays.end, r.int(3, 30));
      for (let d = 0; d < r.int(3, 7); d++)
        calendarRows.push({ propertyId: id, day: addDays(start, d), blocked: true, price: null });
    }

    propertyRows.push({
      id,
      hostId: r.pick(hosts).id,
      title: `${r.pick(ADJECTIVES)} ${noun} ${r.pick(VIEWS)}`,
      description: `A ${noun} in ${city} for up to ${maxGuests} guests. ${r.pick(VIEWS)[0]?.toUpperCase()}${r.pick(VIEWS).slice(1)}.`,
      propertyType,
      addressLine1: `${r.int(1, 200)} ${r.pick(["Main", "Harbour", "Park", "Market", "Station", "River"])} Street`,
      city,
      country,
      lat: Math.max(-90, Math.min(90, lat + (r.next() - 0.5) * 0.2)),
      lng: Math.max(-180, Math.min(180, lng + (r.next() - 0.5) * 0.2)),
      pricePerNight: price,
      cleaningFee,
      currency,
      maxGuests,
      bedrooms: propertyType === "room" ? 1 : r.int(1, 5),
      beds: r.int(1, maxGuests),
      bathrooms: r.int(2, 6) / 2,
      amenities: AMENITIES.filter(() => r.next() < 0.4),
      minNights,
      maxNights: r.pick([14, 30, 90, 365]),
      cancellationPolicy: r.pick(POLICIES),
      weekendPrice: rules.weekendPrice,
      weeklyDiscountPercent: rules.weeklyDiscountPercent,
      monthlyDiscountPercent: rules.monthlyDiscountPercent,
      guestsIncluded: rules.guestsIncluded < maxGuests ? rules.guestsIncluded : null,
      extraGuestFee: rules.extraGuestFee,
      // One listing in ten takes requests to book (by its index: the random draws stay as they were).
      instantBook: i % 10 !== 7,
      ratingSum: stays.ratingSum,
      reviewCount: stays.reviews.length,
      createdAt,
      updatedAt: createdAt,
    });
    for (let k = 0; k < 3; k++)
      photoRows.push({
        propertyId: id,
        position: k,
        url: `https://picsum.photos/seed/${id}-${k}/1200/800`,
        caption: k === 0 ? "Cover" : null,
      });
  }

  for (let i = 0; i < propertyRows.length; i += BATCH) {
    await db.insert(properties).values(propertyRows.slice(i, i + BATCH));
    say(`seed: ${Math.min(i + BATCH, propertyRows.length)}/${propertyRows.length} properties (${elapsed()})`);
  }
  await insertInBatches(photoRows, (b) => db.insert(propertyPhotos).values(b));
  await insertInBatches(calendarRows, (b) => db.insert(calendarDays).values(b));
  await insertInBatches(bookingRows, (b) => db.insert(bookings).values(b));
  say(`seed: ${bookingRows.length} bookings (${elapsed()})`);
  await insertInBatches(reviewRows, (b) => db.insert(reviews).values(b));
  // Fresh statistics (and visibility maps) so the planner picks the search indexes at once.
  await db.execute(sql`vacuum analyze`);
  const ms = performance.now() - started;
  say(
    `seed: done — ${propertyRows.length} properties, ${bookingRows.length} bookings, ${reviewRows.length} reviews in ${(ms / 1000).toFixed(1)} s`,
  );
  return {
    hosts: hostsN,
    guests: guestsN,
    properties: propertyRows.length,
    bookings: bookingRows.length,
    reviews: reviewRows.length,
    ms,
  };
}
