// Property DTOs: what hosts may write (allow-listed per operation) and what everyone reads.
import type { TOptional, TSchema } from "@sinclair/typebox";
import { type Static, t } from "elysia";
import { Page, PageOnlyQuery, PageQuery } from "../../http/pagination";
import { Int, Nullable, Num, strictObject, Timestamp, Uuid } from "../../http/schema";

export const MAX_PRICE = 100_000_000; // a million in major units, per night
export const MAX_PHOTOS = 50;
export const MAX_AMENITIES = 50;

export const PropertyTypeSchema = t.Union([
  t.Literal("apartment"),
  t.Literal("house"),
  t.Literal("room"),
  t.Literal("cabin"),
  t.Literal("villa"),
  t.Literal("other"),
]);
export const CancellationPolicySchema = t.Union([t.Literal("flexible"), t.Literal("moderate"), t.Literal("strict")]);
export const PropertyStatusSchema = t.Union([t.Literal("listed"), t.Literal("unlisted")]);
const Day = t.String({ format: "date", description: "a calendar date, YYYY-MM-DD" });

const Text = (min: number, max: number) =>
  t.String({ minLength: min, maxLength: max, ...(min > 0 ? { pattern: "\\S" } : {}) });
const Money = Int({ minimum: 0, maximum: MAX_PRICE, description: "minor units (cents)" });
const Amenity = t.String({
  minLength: 1,
  maxLength: 50,
  pattern: "^[a-z0-9][a-z0-9_-]*$",
  description: "a lower-case slug, e.g. wifi, free_parking",
});
const Photo = strictObject({
  url: t.String({ pattern: "^https://[^\\s]+$", maxLength: 2048, description: "an https:// URL" }),
  caption: t.Optional(t.String({ maxLength: 200 })),
});

const AddressFields = {
  line1: Text(1, 200),
  city: Text(1, 100),
  region: t.Optional(t.String({ maxLength: 100 })),
  postalCode: t.Optional(t.String({ maxLength: 20 })),
  country: t.String({ pattern: "^[A-Z]{2}$", description: "an ISO 3166-1 alpha-2 code, e.g. DE" }),
};
const Location = strictObject({ lat: Num({ minimum: -90, maximum: 90 }), lng: Num({ minimum: -180, maximum: 180 }) });

const writable = {
  title: Text(1, 200),
  description: t.String({ maxLength: 5000 }),
  propertyType: PropertyTypeSchema,
  pricePerNight: Money,
  cleaningFee: Money,
  currency: t.String({ pattern: "^[A-Z]{3}$", description: "an ISO 4217 code, e.g. EUR" }),
  maxGuests: Int({ minimum: 1, maximum: 50 }),
  bedrooms: Int({ minimum: 0, maximum: 50 }),
  beds: Int({ minimum: 0, maximum: 100 }),
  bathrooms: Num({ minimum: 0, maximum: 50, multipleOf: 0.5 }),
  amenities: t.Array(Amenity, { maxItems: MAX_AMENITIES, uniqueItems: true }),
  photos: t.Array(Photo, { maxItems: MAX_PHOTOS }),
  minNights: Int({ minimum: 1, maximum: 365 }),
  maxNights: Int({ minimum: 1, maximum: 365 }),
  cancellationPolicy: CancellationPolicySchema,
  weekendPrice: Nullable(
    Int({
      minimum: 0,
      maximum: MAX_PRICE,
      description: "minor units: Friday and Saturday nights (local dates); null: none",
    }),
  ),
  weeklyDiscountPercent: Int({
    minimum: 0,
    maximum: 90,
    description: "a whole percent off nightlyTotal for 7+ nights",
  }),
  monthlyDiscountPercent: Int({
    minimum: 0,
    maximum: 90,
    description: "a whole percent off nightlyTotal for 28+ nights; replaces the weekly one",
  }),
  guestsIncluded: Nullable(
    Int({ minimum: 1, maximum: 50, description: "guests the nightly price covers (≤ maxGuests); null: maxGuests" }),
  ),
  extraGuestFee: Int({
    minimum: 0,
    maximum: MAX_PRICE,
    description: "minor units per night per guest above guestsIncluded; never discounted",
  }),
  instantBook: t.Boolean({
    description:
      "true (default): a paid booking is confirmed at once; false: request-to-book — the payment is authorized and the host accepts or declines",
  }),
};

export const CreatePropertyBody = strictObject(
  {
    title: writable.title,
    description: t.Optional(writable.description),
    propertyType: writable.propertyType,
    address: strictObject(AddressFields),
    location: Location,
    pricePerNight: writable.pricePerNight,
    cleaningFee: t.Optional(writable.cleaningFee),
    currency: writable.currency,
    maxGuests: writable.maxGuests,
    bedrooms: t.Optional(writable.bedrooms),
    beds: t.Optional(writable.beds),
    bathrooms: t.Optional(writable.bathrooms),
    amenities: t.Optional(writable.amenities),
    photos: t.Optional(writable.photos),
    minNights: t.Optional(writable.minNights),
    maxNights: t.Optional(writable.maxNights),
    cancellationPolicy: t.Optional(writable.cancellationPolicy),
    weekendPrice: t.Optional(writable.weekendPrice),
    weeklyDiscountPercent: t.Optional(writable.weeklyDiscountPercent),
    monthlyDiscountPercent: t.Optional(writable.monthlyDiscountPercent),
    guestsIncluded: t.Optional(writable.guestsIncluded),
    extraGuestFee: t.Optional(writable.extraGuestFee),
    instantBook: t.Optional(writable.instantBook),
  },
  {
    title: "CreateProperty",
    examples: [
      {
        title: "Sunny loft by the canal",
        description: "Two rooms, a balcony and a bakery downstairs.",
        propertyType: "apartment",
        address: { line1: "Paul-Lincke-Ufer 20", city: "Berlin", postalCode: "10999", country: "DE" },
        location: { lat: 52.4946, lng: 13.4302 },
        pricePerNight: 12000,
        cleaningFee: 3000,
        currency: "EUR",
        maxGuests: 4,
        bedrooms: 2,
        beds: 2,
        bathrooms: 1,
        amenities: ["wifi", "kitchen", "washer"],
        photos: [{ url: "https://images.example.com/loft-1.jpg", caption: "Living room" }],
        minNights: 2,
        maxNights: 30,
        cancellationPolicy: "moderate",
        weekendPrice: 14500,
        weeklyDiscountPercent: 10,
        guestsIncluded: 2,
        extraGuestFee: 1500,
      },
    ],
  },
);

/** Every field of `fields`, optional. */
function allOptional<T extends Record<string, TSchema>>(fields: T): { [K in keyof T]: TOptional<T[K]> } {
  return Object.fromEntries(Object.entries(fields).map(([k, schema]) => [k, t.Optional(schema)])) as {
    [K in keyof T]: TOptional<T[K]>;
  };
}

export const UpdatePropertyBody = strictObject(
  {
    ...allOptional(writable),
    // region and postalCode may also be null: that clears them.
    address: t.Optional(
      strictObject({
        line1: t.Optional(AddressFields.line1),
        city: t.Optional(AddressFields.city),
        region: t.Optional(Nullable(t.String({ maxLength: 100 }))),
        postalCode: t.Optional(Nullable(t.String({ maxLength: 20 }))),
        country: t.Optional(AddressFields.country),
      }),
    ),
    location: t.Optional(Location),
    status: t.Optional(PropertyStatusSchema),
  },
  {
    title: "UpdateProperty",
    description: "Every field optional; address fields merge; photos and amenities replace the lists.",
    examples: [
      { pricePerNight: 13500, amenities: ["wifi", "kitchen", "washer", "balcony"], address: { region: null } },
    ],
  },
);

export const PropertyDto = t.Object(
  {
    id: Uuid,
    hostId: Uuid,
    host: t.Object({ id: Uuid, name: t.String(), avatarUrl: Nullable(t.String()) }),
    title: t.String(),
    description: t.String(),
    propertyType: PropertyTypeSchema,
    address: t.Object({
      line1: t.String(),
      city: t.String(),
      region: t.Optional(t.String()),
      postalCode: t.Optional(t.String()),
      country: t.String(),
    }),
    location: t.Object({ lat: Num(), lng: Num() }),
    pricePerNight: Int(),
    cleaningFee: Int(),
    currency: t.String(),
    maxGuests: Int(),
    bedrooms: Int(),
    beds: Int(),
    bathrooms: Num(),
    amenities: t.Array(t.String()),
    photos: t.Array(t.Object({ url: t.String(), caption: t.Optional(t.String()) })),
    minNights: Int(),
    maxNights: Int(),
    cancellationPolicy: CancellationPolicySchema,
    weekendPrice: Nullable(Int()),
    weeklyDiscountPercent: Int(),
    monthlyDiscountPercent: Int(),
    guestsIncluded: Int({ description: "maxGuests unless the host set fewer" }),
    extraGuestFee: Int(),
    instantBook: t.Boolean({ description: "false: request-to-book (the host accepts or declines each paid request)" }),
    status: PropertyStatusSchema,
    ratingAverage: Nullable(Num()),
    reviewCount: Int(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: "Property" },
);

export const PropertyPage = Page(PropertyDto, "PropertyPage");

export const SortSchema = t.Union([
  t.Literal("recommended"),
  t.Literal("price_asc"),
  t.Literal("price_desc"),
  t.Literal("rating"),
  t.Literal("newest"),
  t.Literal("distance"),
]);
export type Sort = Static<typeof SortSchema>;

export const SearchQuery = t.Object({
  city: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
  country: t.Optional(t.String({ pattern: "^[A-Za-z]{2}$", description: "an ISO 3166-1 alpha-2 code, e.g. DE" })),
  checkIn: t.Optional(Day),
  checkOut: t.Optional(Day),
  guests: t.Optional(Int({ minimum: 1, maximum: 50 })),
  minPrice: t.Optional(Int({ minimum: 0, maximum: MAX_PRICE })),
  maxPrice: t.Optional(Int({ minimum: 0, maximum: MAX_PRICE })),
  amenities: t.Optional(t.String({ maxLength: 1000, description: "comma list; all are required" })),
  propertyType: t.Optional(PropertyTypeSchema),
  near: t.Optional(
    t.String({
      pattern: "^\\s*-?\\d+(\\.\\d+)?\\s*,\\s*-?\\d+(\\.\\d+)?\\s*$",
      description: "lat,lng, e.g. 52.52,13.40",
    }),
  ),
  radiusKm: t.Optional(Num({ exclusiveMinimum: 0, maximum: 500, description: "with near; default 25" })),
  bbox: t.Optional(t.String({ description: "minLng,minLat,maxLng,maxLat (map view)" })),
  q: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
  sort: t.Optional(SortSchema),
  ...PageQuery,
});

export const AvailabilityQuery = t.Object({
  from: t.Optional(Day),
  to: t.Optional(Day),
});

export const AvailabilityDto = t.Object(
  {
    days: t.Array(t.Object({ date: Day, available: t.Boolean(), price: Int() })),
  },
  { title: "Availability" },
);

export const CalendarBody = strictObject(
  {
    from: Day,
    to: Day,
    blocked: t.Optional(t.Boolean()),
    price: t.Optional(Nullable(Money)),
  },
  {
    title: "CalendarChange",
    description: "Applies to [from, to). `price: null` removes the override.",
    examples: [{ from: "2027-07-01", to: "2027-07-08", price: 15000 }],
  },
);

export const HostPropertiesQuery = PageOnlyQuery;
