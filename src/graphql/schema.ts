// The GraphQL schema, built in TypeScript with Pothos: every object type is the REST answer's own
// type (the DTOs the services return), so the compiler checks each field against the services.
// Resolvers call the same verbs as REST — who may do what is decided there, once.
import SchemaBuilder, { type ObjectRef, type SchemaTypes } from "@pothos/core";
import type { TLiteral, TUnion } from "@sinclair/typebox";
import type { Static } from "elysia";
import { AppError } from "../http/errors";
import { answerValue, checkKey } from "../http/idempotency";
import { DEFAULT_LIMIT, encodeCursor, PageOnlyQuery } from "../http/pagination";
import { checkInput } from "../http/validation";
import type { BookingDtoValue } from "../modules/bookings/dto";
import { type QuoteValue, quoteStay } from "../modules/bookings/quote";
import { createBookingOnce } from "../modules/bookings/routes";
import {
  BookingRoleSchema,
  BookingStatusSchema,
  CancelBookingBody,
  CreateBookingBody,
  DeclineBookingBody,
  QuoteQuery,
} from "../modules/bookings/schemas";
import { cancelBooking, getBooking, listBookings } from "../modules/bookings/service";
import { type BalanceDtoValue, type PayoutDtoValue, PayoutStatusSchema } from "../modules/ledger/schemas";
import { myBalances, myPayouts } from "../modules/ledger/service";
import type { PaymentDtoValue } from "../modules/payments/dto";
import { acceptBooking, declineBooking } from "../modules/payments/requests";
import { payBookingOnce } from "../modules/payments/routes";
import { PayBody, PaymentStatusSchema } from "../modules/payments/schemas";
import { listBookingPayments } from "../modules/payments/service";
import type { PropertyDtoValue } from "../modules/properties/dto";
import {
  CancellationPolicySchema,
  PropertyStatusSchema,
  PropertyTypeSchema,
  SearchQuery,
  SortSchema,
} from "../modules/properties/schemas";
import { searchPage } from "../modules/properties/search";
import { readProperty } from "../modules/properties/service";
import { ReviewBody } from "../modules/reviews/schemas";
import { createReview, listPropertyReviews } from "../modules/reviews/service";
import { toUserDto } from "../modules/users/dto";
import { Role as RoleSchema, type UserDto } from "../modules/users/schemas";
import { createAlert, listAlerts } from "../modules/wishlists/alerts";
import {
  AlertBody,
  type AlertDtoValue,
  AlertStatusSchema,
  WishlistBody,
  type WishlistDtoValue,
  WishlistPropertyParams,
} from "../modules/wishlists/schemas";
import { createWishlist, listWishlists, saveProperty, unsaveProperty } from "../modules/wishlists/service";
import type { GraphQLContext } from "./context";
import { bookingFeed, type StatusQueue } from "./live";
import { createLoaders, MAX_NESTED_REVIEWS, type PublicUser, type ReviewValue } from "./loaders";

const builder = new SchemaBuilder<{ Context: GraphQLContext; DefaultFieldNullability: false }>({
  defaultFieldNullability: false,
});

/** A GraphQL enum's values: the REST schema's literals, in their order (one list, two APIs). */
function literalsOf<T extends string>(union: TUnion<TLiteral<T>[]>): readonly T[] {
  return union.anyOf.map((literal) => literal.const);
}

// ---- pages: Relay connections whose cursors are the REST cursors ----

interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const PageInfo = builder.objectRef<Page<unknown>["pageInfo"]>("PageInfo").implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean("hasNextPage"),
    endCursor: t.exposeString("endCursor", {
      nullable: true,
      description: "the REST nextCursor of this page: pass it as `after`",
    }),
  }),
});

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer S extends SchemaTypes> ? S : never;

function connection<T>(name: string, node: ObjectRef<Types, T>) {
  const Edge = builder.objectRef<Page<T>["edges"][number]>(`${name}Edge`).implement({
    fields: (t) => ({
      cursor: t.exposeString("cursor", { description: "the REST cursor of the page after this item" }),
      // Pothos's result type cannot be worked out for a generic T; `node` is a T by construction.
      node: t.field({ type: node, resolve: (e) => e.node as never }),
    }),
  });
  return builder.objectRef<Page<T>>(`${name}Connection`).implement({
    fields: (t) => ({
      edges: t.field({ type: [Edge], resolve: (c) => c.edges }),
      pageInfo: t.field({ type: PageInfo, resolve: (c) => c.pageInfo }),
    }),
  });
}

/** `first`/`after` checked by the REST page rules (1–100; a cursor of at most 512 characters), under their GraphQL names. */
function pageArgs(
  first: number | null | undefined,
  after: string | null | undefined,
): { limit: number; cursor?: string } {
  const page = { limit: first ?? DEFAULT_LIMIT, ...(after != null ? { cursor: after } : {}) };
  try {
    checkInput(PageOnlyQuery, page, "query");
  } catch (err) {
    if (err instanceof AppError) throw renamed(err, { "/limit": "/first", "/cursor": "/after" });
    throw err;
  }
  return page;
}

function renamed(err: AppError, names: Record<string, string>): AppError {
  const rename = (path: string) => names[path] ?? path;
  const errors = err.errors?.map((e) => ({ ...e, path: rename(e.path) }));
  let detail = err.detail;
  for (const [from, to] of Object.entries(names)) detail = detail.replace(from, to);
  return new AppError(err.status, err.code, detail, errors, err.headers);
}

/** A REST newest-first page as a connection: each edge's cursor is the one REST issues after it. */
function newestFirstPage<T extends { id: string; createdAt: string }>(page: {
  data: T[];
  nextCursor: string | null;
}): Page<T> {
  return {
    edges: page.data.map((node) => ({ node, cursor: encodeCursor([node.createdAt, node.id]) })),
    pageInfo: { hasNextPage: page.nextCursor !== null, endCursor: page.nextCursor },
  };
}

/** A list verb run with `first`/`after`: the REST names in its errors become the GraphQL ones. */
async function paged<T>(
  first: number | null | undefined,
  after: string | null | undefined,
  list: (page: { limit: number; cursor?: string }) => Promise<T>,
): Promise<T> {
  const page = pageArgs(first, after);
  try {
    return await list(page);
  } catch (err) {
    if (err instanceof AppError && err.code === "invalid_cursor") throw renamed(err, { "/cursor": "/after" });
    throw err;
  }
}

// ---- users ----

type UserValue = Static<typeof UserDto>;

const Role = builder.enumType("Role", { values: literalsOf(RoleSchema) });

const User = builder.objectRef<UserValue>("User").implement({
  description: "The caller's full profile",
  fields: (t) => ({
    id: t.exposeID("id"),
    email: t.exposeString("email"),
    name: t.exposeString("name"),
    bio: t.exposeString("bio", { nullable: true }),
    avatarUrl: t.exposeString("avatarUrl", { nullable: true }),
    phone: t.exposeString("phone", { nullable: true }),
    roles: t.field({ type: [Role], resolve: (u) => u.roles }),
    emailVerified: t.exposeBoolean("emailVerified"),
    createdAt: t.exposeString("createdAt"),
  }),
});

const PublicUserRef = builder.objectRef<PublicUser>("PublicUser").implement({
  description: "A public profile: never e-mail or phone",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    bio: t.exposeString("bio", { nullable: true }),
    avatarUrl: t.exposeString("avatarUrl", { nullable: true }),
    isHost: t.exposeBoolean("isHost"),
    guestRatingAverage: t.exposeFloat("guestRatingAverage", { nullable: true }),
    guestReviewCount: t.exposeInt("guestReviewCount"),
    createdAt: t.exposeString("createdAt"),
  }),
});

// ---- reviews ----

const ReviewAuthor = builder.objectRef<ReviewValue["author"]>("ReviewAuthor").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    avatarUrl: t.exposeString("avatarUrl", { nullable: true }),
  }),
});

const ReviewResponse = builder.objectRef<NonNullable<ReviewValue["response"]>>("ReviewResponse").implement({
  fields: (t) => ({ comment: t.exposeString("comment"), createdAt: t.exposeString("createdAt") }),
});

const Review = builder.objectRef<ReviewValue>("Review").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    bookingId: t.exposeID("bookingId"),
    propertyId: t.exposeID("propertyId"),
    authorId: t.exposeID("authorId"),
    author: t.field({
      type: ReviewAuthor,
      description: "read with the review (one statement for a page)",
      resolve: (r) => r.author,
    }),
    rating: t.exposeInt("rating"),
    comment: t.exposeString("comment"),
    response: t.field({ type: ReviewResponse, nullable: true, resolve: (r) => r.response ?? null }),
    createdAt: t.exposeString("createdAt"),
  }),
});
const ReviewConnection = connection("Review", Review);

// ---- properties ----

type Property = PropertyDtoValue;
const PropertyType = builder.enumType("PropertyType", { values: literalsOf(PropertyTypeSchema) });
const CancellationPolicy = builder.enumType("CancellationPolicy", { values: literalsOf(CancellationPolicySchema) });
const PropertyStatus = builder.enumType("PropertyStatus", { values: literalsOf(PropertyStatusSchema) });
const PropertySort = builder.enumType("PropertySort", { values: literalsOf(SortSchema) });

const Address = builder.objectRef<Property["address"]>("Address").implement({
  fields: (t) => ({
    line1: t.exposeString("line1"),
    city: t.exposeString("city"),
    region: t.exposeString("region", { nullable: true }),
    postalCode: t.exposeString("postalCode", { nullable: true }),
    country: t.exposeString("country"),
  }),
});
const Location = builder
  .objectRef<Property["location"]>("Location")
  .implement({ fields: (t) => ({ lat: t.exposeFloat("lat"), lng: t.exposeFloat("lng") }) });
const Photo = builder.objectRef<Property["photos"][number]>("Photo").implement({
  fields: (t) => ({ url: t.exposeString("url"), caption: t.exposeString("caption", { nullable: true }) }),
});

const PropertyRef = builder.objectRef<Property>("Property").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    hostId: t.exposeID("hostId"),
    host: t.field({
      type: PublicUserRef,
      nullable: true,
      description: "the host's public profile (batched: one statement for a page)",
      resolve: (p, _args, ctx) => ctx.loaders.publicUsers.load(p.hostId),
    }),
    title: t.exposeString("title"),
    description: t.exposeString("description"),
    propertyType: t.field({ type: PropertyType, resolve: (p) => p.propertyType }),
    address: t.field({ type: Address, resolve: (p) => p.address }),
    location: t.field({ type: Location, resolve: (p) => p.location }),
    pricePerNight: t.exposeInt("pricePerNight"),
    cleaningFee: t.exposeInt("cleaningFee"),
    currency: t.exposeString("currency"),
    maxGuests: t.exposeInt("maxGuests"),
    bedrooms: t.exposeInt("bedrooms"),
    beds: t.exposeInt("beds"),
    bathrooms: t.exposeFloat("bathrooms"),
    amenities: t.exposeStringList("amenities"),
    photos: t.field({
      type: [Photo],
      description: "in a search result, its first photo only (as REST's cards)",
      resolve: (p) => p.photos,
    }),
    minNights: t.exposeInt("minNights"),
    maxNights: t.exposeInt("maxNights"),
    cancellationPolicy: t.field({ type: CancellationPolicy, resolve: (p) => p.cancellationPolicy }),
    weekendPrice: t.exposeInt("weekendPrice", {
      nullable: true,
      description: "Friday and Saturday nights (local dates)",
    }),
    weeklyDiscountPercent: t.exposeInt("weeklyDiscountPercent"),
    monthlyDiscountPercent: t.exposeInt("monthlyDiscountPercent"),
    guestsIncluded: t.exposeInt("guestsIncluded"),
    extraGuestFee: t.exposeInt("extraGuestFee"),
    instantBook: t.exposeBoolean("instantBook"),
    status: t.field({ type: PropertyStatus, resolve: (p) => p.status }),
    ratingAverage: t.exposeFloat("ratingAverage", { nullable: true }),
    reviewCount: t.exposeInt("reviewCount"),
    reviews: t.field({
      type: [Review],
      description: `its newest reviews (first: 1–${MAX_NESTED_REVIEWS}, default 3; batched: one statement for a page)`,
      args: { first: t.arg.int({ defaultValue: 3 }) },
      resolve: (p, { first }, ctx) => {
        const n = first ?? 3;
        if (!Number.isInteger(n) || n < 1 || n > MAX_NESTED_REVIEWS)
          throw new AppError(422, "validation_failed", `Field /first must be between 1 and ${MAX_NESTED_REVIEWS}`, [
            { path: "/first", message: `must be between 1 and ${MAX_NESTED_REVIEWS}` },
          ]);
        return ctx.loaders.reviews.load(`${p.id} ${n}`);
      },
    }),
    createdAt: t.exposeString("createdAt"),
    updatedAt: t.exposeString("updatedAt"),
  }),
});
const PropertyConnection = connection("Property", PropertyRef);

const PropertyFilter = builder.inputType("PropertyFilter", {
  description: "The REST search's filters, by the same names and rules",
  fields: (t) => ({
    city: t.string(),
    country: t.string({ description: "ISO 3166-1 alpha-2" }),
    checkIn: t.string({ description: "YYYY-MM-DD; with checkOut: only properties free for those nights" }),
    checkOut: t.string(),
    guests: t.int(),
    minPrice: t.int(),
    maxPrice: t.int(),
    amenities: t.stringList({ description: "all are required" }),
    propertyType: t.field({ type: PropertyType }),
    near: t.string({ description: "lat,lng" }),
    radiusKm: t.float(),
    bbox: t.string({ description: "minLng,minLat,maxLng,maxLat" }),
    q: t.string({ description: "text search over title, city and description" }),
  }),
});

// ---- bookings and payments ----

const BookingStatus = builder.enumType("BookingStatus", { values: literalsOf(BookingStatusSchema) });
const BookingRole = builder.enumType("BookingRole", { values: literalsOf(BookingRoleSchema) });
const PaymentStatus = builder.enumType("PaymentStatus", { values: literalsOf(PaymentStatusSchema) });

const Payment = builder.objectRef<PaymentDtoValue>("Payment").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    bookingId: t.exposeID("bookingId"),
    amount: t.exposeInt("amount", { description: "minor units (cents)" }),
    currency: t.exposeString("currency"),
    status: t.field({ type: PaymentStatus, resolve: (p) => p.status }),
    failureCode: t.exposeString("failureCode", { nullable: true }),
    refundedAmount: t.exposeInt("refundedAmount"),
    disputedAt: t.exposeString("disputedAt", { nullable: true }),
    createdAt: t.exposeString("createdAt"),
    updatedAt: t.exposeString("updatedAt"),
  }),
});
const PaymentConnection = connection("Payment", Payment);

const PayoutStatus = builder.enumType("PayoutStatus", { values: literalsOf(PayoutStatusSchema) });
const Payout = builder.objectRef<PayoutDtoValue>("Payout").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    hostId: t.exposeID("hostId"),
    amount: t.exposeInt("amount", { description: "minor units" }),
    currency: t.exposeString("currency"),
    status: t.field({ type: PayoutStatus, resolve: (p) => p.status }),
    failureCode: t.exposeString("failureCode", { nullable: true }),
    createdAt: t.exposeString("createdAt"),
    updatedAt: t.exposeString("updatedAt"),
  }),
});
const PayoutConnection = connection("Payout", Payout);

// ---- wishlists and alerts ----

const Wishlist = builder.objectRef<WishlistDtoValue>("Wishlist").implement({
  description: "GET /wishlists: a named list of saved listings",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    propertyCount: t.exposeInt("propertyCount", { description: "the listings on it still visible" }),
    createdAt: t.exposeString("createdAt"),
  }),
});
const WishlistConnection = connection("Wishlist", Wishlist);
const AlertStatus = builder.enumType("AlertStatus", { values: literalsOf(AlertStatusSchema) });
const Alert = builder.objectRef<AlertDtoValue>("Alert").implement({
  description: "POST /alerts: a stay its owner waits for",
  fields: (t) => ({
    id: t.exposeID("id"),
    propertyId: t.exposeID("propertyId"),
    checkIn: t.exposeString("checkIn"),
    checkOut: t.exposeString("checkOut"),
    guests: t.exposeInt("guests"),
    status: t.field({ type: AlertStatus, resolve: (a) => a.status }),
    createdAt: t.exposeString("createdAt"),
  }),
});
const AlertConnection = connection("Alert", Alert);
const Balance = builder.objectRef<BalanceDtoValue>("Balance").implement({
  fields: (t) => ({
    currency: t.exposeString("currency"),
    pending: t.exposeInt("pending"),
    available: t.exposeInt("available"),
    inTransit: t.exposeInt("inTransit"),
    paidOut: t.exposeInt("paidOut"),
    clawback: t.exposeInt("clawback"),
  }),
});

type PriceValue = BookingDtoValue["price"];
const DiscountKind = builder.enumType("DiscountKind", { values: ["weekly", "monthly"] as const });
const Discount = builder.objectRef<NonNullable<PriceValue["discount"]>>("Discount").implement({
  fields: (t) => ({
    kind: t.field({ type: DiscountKind, resolve: (d) => d.kind }),
    percent: t.exposeInt("percent"),
    amount: t.exposeInt("amount"),
  }),
});
const Tax = builder.objectRef<PriceValue["taxes"][number]>("TaxLine").implement({
  fields: (t) => ({ name: t.exposeString("name"), amount: t.exposeInt("amount") }),
});
const Price = builder.objectRef<PriceValue>("BookingPrice").implement({
  fields: (t) => ({
    nights: t.exposeInt("nights"),
    nightlyTotal: t.exposeInt("nightlyTotal"),
    discount: t.field({ type: Discount, nullable: true, resolve: (p) => p.discount }),
    extraGuestFee: t.exposeInt("extraGuestFee"),
    cleaningFee: t.exposeInt("cleaningFee"),
    serviceFee: t.exposeInt("serviceFee"),
    taxes: t.field({ type: [Tax], resolve: (p) => p.taxes }),
    total: t.exposeInt("total"),
    hostPayout: t.exposeInt("hostPayout"),
    currency: t.exposeString("currency"),
  }),
});
const Cancellation = builder.objectRef<NonNullable<BookingDtoValue["cancellation"]>>("Cancellation").implement({
  fields: (t) => ({
    cancelledAt: t.exposeString("cancelledAt"),
    by: t.field({ type: BookingRole, resolve: (c) => c.by }),
    reason: t.exposeString("reason", { nullable: true }),
    refundAmount: t.exposeInt("refundAmount"),
  }),
});

const Booking = builder.objectRef<BookingDtoValue>("Booking").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    propertyId: t.exposeID("propertyId"),
    guestId: t.exposeID("guestId"),
    checkIn: t.exposeString("checkIn"),
    checkOut: t.exposeString("checkOut"),
    guests: t.exposeInt("guests"),
    status: t.field({ type: BookingStatus, resolve: (b) => b.status }),
    price: t.field({ type: Price, resolve: (b) => b.price }),
    expiresAt: t.exposeString("expiresAt"),
    cancellation: t.field({ type: Cancellation, nullable: true, resolve: (b) => b.cancellation ?? null }),
    declineReason: t.string({
      nullable: true,
      description: "a declined request: the host's reason, when one was given",
      resolve: (b) => b.declineReason ?? null,
    }),
    createdAt: t.exposeString("createdAt"),
    updatedAt: t.exposeString("updatedAt"),
    property: t.field({
      type: PropertyRef,
      nullable: true,
      description: "null when the caller may not see it (an unlisted property is its host's only, as in REST)",
      resolve: (b, _args, ctx) => ctx.loaders.properties.load(b.propertyId),
    }),
    payments: t.field({
      type: [Payment],
      description: "newest first (batched: one statement for a page)",
      // The booking itself was answered to this caller, its guest or host: REST lets both list its payments.
      resolve: (b, _args, ctx) => ctx.loaders.bookingPayments.load(b.id),
    }),
  }),
});
const BookingConnection = connection("Booking", Booking);

const CreateBookingInput = builder.inputType("CreateBookingInput", {
  fields: (t) => ({
    propertyId: t.id({ required: true }),
    checkIn: t.string({ required: true, description: "YYYY-MM-DD, today or later" }),
    checkOut: t.string({ required: true, description: "YYYY-MM-DD, exclusive" }),
    guests: t.int({ required: true }),
  }),
});

// ---- queries ----

const QuoteNight = builder.objectRef<QuoteValue["nights"][number]>("QuoteNight").implement({
  fields: (t) => ({ date: t.exposeString("date"), price: t.exposeInt("price") }),
});
const Quote = builder.objectRef<QuoteValue>("Quote").implement({
  description: "GET /properties/:id/quote: what a booking of this stay would cost now, by the booking's own rules",
  fields: (t) => ({
    checkIn: t.exposeString("checkIn"),
    checkOut: t.exposeString("checkOut"),
    guests: t.exposeInt("guests"),
    nights: t.field({ type: [QuoteNight], resolve: (q) => q.nights }),
    price: t.field({ type: Price, resolve: (q) => q.price }),
    available: t.exposeBoolean("available"),
    instantBook: t.exposeBoolean("instantBook"),
  }),
});

builder.queryType({
  fields: (t) => ({
    quote: t.field({
      type: Quote,
      nullable: true,
      description: "GET /properties/:id/quote (the same 422s; available: false where booking would be 409)",
      args: {
        propertyId: t.arg.id({ required: true }),
        checkIn: t.arg.string({ required: true }),
        checkOut: t.arg.string({ required: true }),
        guests: t.arg.int(),
      },
      resolve: async (_root, args, ctx) => {
        const query = checkInput(
          QuoteQuery,
          { checkIn: args.checkIn, checkOut: args.checkOut, ...(args.guests != null && { guests: args.guests }) },
          "query",
        );
        return quoteStay({ propertyId: String(args.propertyId), ...query, viewer: () => ctx.viewer() }, ctx.deps);
      },
    }),
    me: t.field({
      type: User,
      nullable: true,
      resolve: async (_root, _args, ctx) => toUserDto(await ctx.actor()),
    }),
    property: t.field({
      type: PropertyRef,
      nullable: true,
      args: { id: t.arg.id({ required: true }) },
      resolve: async (_root, { id }, ctx) =>
        JSON.parse((await readProperty({ id: String(id), viewer: () => ctx.viewer() }, ctx.deps)).json) as Property,
    }),
    properties: t.field({
      type: PropertyConnection,
      nullable: true,
      description: "GET /properties: the same filters, sorts, pages and cursors",
      args: {
        filter: t.arg({ type: PropertyFilter }),
        sort: t.arg({ type: PropertySort }),
        first: t.arg.int(),
        after: t.arg.string(),
      },
      resolve: (_root, { filter, sort, first, after }, ctx) =>
        paged(first, after, async ({ limit, cursor }) => {
          const query: Record<string, unknown> = { limit, ...(cursor ? { cursor } : {}), ...(sort ? { sort } : {}) };
          for (const [key, value] of Object.entries(filter ?? {})) {
            if (value === null || value === undefined) continue;
            query[key] = key === "amenities" && Array.isArray(value) ? value.join(",") : value;
          }
          const q = checkInput(SearchQuery, query, "query");
          const page = await searchPage(q, ctx.deps);
          const { data, nextCursor } = JSON.parse(page.json) as { data: Property[]; nextCursor: string | null };
          const cursors = page.cursors();
          return {
            edges: data.map((node, i) => ({ node, cursor: cursors[i] ?? "" })),
            pageInfo: { hasNextPage: nextCursor !== null, endCursor: nextCursor },
          };
        }),
    }),
    booking: t.field({
      type: Booking,
      nullable: true,
      args: { id: t.arg.id({ required: true }) },
      resolve: async (_root, { id }, ctx) => getBooking({ actor: await ctx.actor(), id: String(id) }, ctx.deps),
    }),
    myBookings: t.field({
      type: BookingConnection,
      nullable: true,
      description: "GET /bookings: as guest (default) or as host, newest first",
      args: {
        as: t.arg({ type: BookingRole }),
        status: t.arg({ type: BookingStatus }),
        first: t.arg.int(),
        after: t.arg.string(),
      },
      resolve: async (_root, args, ctx) => {
        const actor = await ctx.actor();
        return newestFirstPage(
          await paged(args.first, args.after, (page) =>
            listBookings({ actor, as: args.as ?? "guest", status: args.status ?? undefined, ...page }, ctx.deps),
          ),
        );
      },
    }),
    hostBalance: t.field({
      type: [Balance],
      nullable: true,
      description: "GET /hosts/me/balance: the caller's balances per currency (hosts only)",
      resolve: async (_root, _args, ctx) => (await myBalances({ actor: await ctx.actor() }, ctx.deps)).balances,
    }),
    payouts: t.field({
      type: PayoutConnection,
      nullable: true,
      description: "GET /hosts/me/payouts: the caller's payouts, newest first (hosts only)",
      args: { first: t.arg.int(), after: t.arg.string() },
      resolve: async (_root, args, ctx) => {
        const actor = await ctx.actor();
        return newestFirstPage(await paged(args.first, args.after, (page) => myPayouts({ actor, ...page }, ctx.deps)));
      },
    }),
    wishlists: t.field({
      type: WishlistConnection,
      nullable: true,
      description: "GET /wishlists: the caller's wishlists, newest first",
      args: { first: t.arg.int(), after: t.arg.string() },
      resolve: async (_root, args, ctx) => {
        const actor = await ctx.actor();
        return newestFirstPage(
          await paged(args.first, args.after, (page) => listWishlists({ actor, ...page }, ctx.deps)),
        );
      },
    }),
    alerts: t.field({
      type: AlertConnection,
      nullable: true,
      description: "GET /alerts: the caller's alerts, newest first",
      args: { first: t.arg.int(), after: t.arg.string() },
      resolve: async (_root, args, ctx) => {
        const actor = await ctx.actor();
        return newestFirstPage(await paged(args.first, args.after, (page) => listAlerts({ actor, ...page }, ctx.deps)));
      },
    }),
    bookingPayments: t.field({
      type: PaymentConnection,
      nullable: true,
      description: "GET /bookings/:id/payments: its guest or host",
      args: { bookingId: t.arg.id({ required: true }), first: t.arg.int(), after: t.arg.string() },
      resolve: async (_root, args, ctx) => {
        const actor = await ctx.actor();
        return newestFirstPage(
          await paged(args.first, args.after, (page) =>
            listBookingPayments({ actor, bookingId: String(args.bookingId), ...page }, ctx.deps),
          ),
        );
      },
    }),
    reviews: t.field({
      type: ReviewConnection,
      nullable: true,
      description: "GET /properties/:id/reviews, newest first",
      args: { propertyId: t.arg.id({ required: true }), first: t.arg.int(), after: t.arg.string() },
      resolve: async (_root, args, ctx) =>
        newestFirstPage(
          await paged(args.first, args.after, (page) =>
            listPropertyReviews({ propertyId: String(args.propertyId), viewer: () => ctx.viewer(), ...page }, ctx.deps),
          ),
        ),
    }),
  }),
});

// ---- mutations ----

builder.mutationType({
  fields: (t) => ({
    createBooking: t.field({
      type: Booking,
      nullable: true,
      description: "POST /bookings (idempotencyKey: the Idempotency-Key header's rules, shared with REST)",
      args: { input: t.arg({ type: CreateBookingInput, required: true }), idempotencyKey: t.arg.string() },
      resolve: async (_root, { input, idempotencyKey }, ctx) => {
        const actor = await ctx.actor();
        const body = checkInput(CreateBookingBody, { ...input, propertyId: String(input.propertyId) });
        const key = idempotencyKey ?? undefined;
        if (key !== undefined) checkKey(key, "/idempotencyKey");
        const made = await createBookingOnce(ctx.deps, { caller: actor, key, input: body, requestId: ctx.requestId });
        return answerValue(made.value);
      },
    }),
    cancelBooking: t.field({
      type: Booking,
      nullable: true,
      description: "POST /bookings/:id/cancel (guest or host)",
      args: { id: t.arg.id({ required: true }), reason: t.arg.string() },
      resolve: async (_root, { id, reason }, ctx) => {
        const actor = await ctx.actor();
        const body = checkInput(CancelBookingBody, reason == null ? {} : { reason });
        return cancelBooking({ actor, id: String(id), reason: body.reason }, ctx.deps);
      },
    }),
    acceptBooking: t.field({
      type: Booking,
      nullable: true,
      description:
        "POST /bookings/:id/accept (the property's host): captures a request's authorization; the booking comes back confirmed (requested while the provider has not answered)",
      args: { id: t.arg.id({ required: true }) },
      resolve: async (_root, { id }, ctx) => {
        const actor = await ctx.actor();
        return (await acceptBooking({ actor, id: String(id) }, ctx.deps)).booking;
      },
    }),
    declineBooking: t.field({
      type: Booking,
      nullable: true,
      description: "POST /bookings/:id/decline (the property's host): the request declined, its authorization voided",
      args: { id: t.arg.id({ required: true }), reason: t.arg.string() },
      resolve: async (_root, { id, reason }, ctx) => {
        const actor = await ctx.actor();
        const body = checkInput(DeclineBookingBody, reason == null ? {} : { reason });
        return declineBooking({ actor, id: String(id), reason: body.reason }, ctx.deps);
      },
    }),
    payBooking: t.field({
      type: Payment,
      nullable: true,
      description: "POST /bookings/:id/payments: its guest; idempotencyKey required, shared with REST",
      args: {
        bookingId: t.arg.id({ required: true }),
        paymentMethod: t.arg.string({ required: true }),
        idempotencyKey: t.arg.string({ required: true }),
      },
      resolve: async (_root, args, ctx) => {
        const actor = await ctx.actor();
        const body = checkInput(PayBody, { paymentMethod: args.paymentMethod });
        const { idempotencyKey: key } = args;
        checkKey(key, "/idempotencyKey");
        const bookingId = String(args.bookingId);
        const r = { actor, bookingId, key, input: body, requestId: ctx.requestId };
        return answerValue((await payBookingOnce(ctx.deps, r)).value);
      },
    }),
    createWishlist: t.field({
      type: Wishlist,
      nullable: true,
      description: "POST /wishlists (at most 50: limit_reached)",
      args: { name: t.arg.string({ required: true }) },
      resolve: async (_root, args, ctx) => {
        const actor = await ctx.actor();
        const body = checkInput(WishlistBody, { name: args.name });
        return createWishlist({ actor, name: body.name }, ctx.deps);
      },
    }),
    saveProperty: t.field({
      type: "Boolean",
      nullable: true,
      description:
        "PUT /wishlists/:id/properties/:propertyId (saved: true), or DELETE of it (saved: false); idempotent either way",
      args: {
        wishlistId: t.arg.id({ required: true }),
        propertyId: t.arg.id({ required: true }),
        saved: t.arg.boolean({ description: "default true" }),
      },
      resolve: async (_root, args, ctx) => {
        const actor = await ctx.actor();
        const input = checkInput(WishlistPropertyParams, {
          id: String(args.wishlistId),
          propertyId: String(args.propertyId),
        });
        const r = { actor, id: input.id, propertyId: input.propertyId };
        if (args.saved === false) await unsaveProperty(r, ctx.deps);
        else await saveProperty(r, ctx.deps);
        return args.saved !== false;
      },
    }),
    createAlert: t.field({
      type: Alert,
      nullable: true,
      description: "POST /alerts: wait for a stay that cannot be booked now (already_available, too_many_alerts)",
      args: {
        propertyId: t.arg.id({ required: true }),
        checkIn: t.arg.string({ required: true }),
        checkOut: t.arg.string({ required: true }),
        guests: t.arg.int({ required: true }),
      },
      resolve: async (_root, args, ctx) => {
        const actor = await ctx.actor();
        const input = checkInput(AlertBody, { ...args, propertyId: String(args.propertyId) });
        return (await createAlert({ actor, input }, ctx.deps)).alert;
      },
    }),
    createReview: t.field({
      type: Review,
      nullable: true,
      description: "POST /bookings/:id/reviews: the stay's guest, once, within 30 days after checkout",
      args: {
        bookingId: t.arg.id({ required: true }),
        rating: t.arg.int({ required: true }),
        comment: t.arg.string({ required: true }),
      },
      resolve: async (_root, args, ctx) => {
        const actor = await ctx.actor();
        const body = checkInput(ReviewBody, { rating: args.rating, comment: args.comment });
        return createReview({ actor, bookingId: String(args.bookingId), ...body }, ctx.deps);
      },
    }),
  }),
});

// ---- subscriptions ----

const FINAL: ReadonlySet<string> = new Set(["completed", "expired", "cancelled", "declined"]);

builder.subscriptionType({
  fields: (t) => ({
    bookingUpdated: t.field({
      type: Booking,
      description:
        "The booking now, then again at each change of its status, until a final one (completed, expired, cancelled, declined) or until the client leaves. Its guest and host only (anyone else: not_found).",
      args: { id: t.arg.id({ required: true }) },
      subscribe: (_root, { id }, ctx) => bookingUpdates(String(id), ctx),
      // One context serves every push of a stream: each push gets fresh loaders, so its nested
      // fields (payments, property) are read now, not at the first push.
      resolve: (booking: BookingDtoValue, _args, ctx) => {
        ctx.loaders = createLoaders(ctx.deps, () => ctx.viewer());
        return booking;
      },
    }),
  }),
});

/**
 * The subscription's stream. A client that leaves calls `return` while the stream waits for the
 * next change (an async generator would only see that at its next yield, i.e. never, if nothing
 * changes): closing the queue there wakes it, and it ends.
 */
function bookingUpdates(id: string, ctx: GraphQLContext): AsyncIterableIterator<BookingDtoValue> {
  let changes: StatusQueue | null = null;
  let left = false;
  async function* run(): AsyncGenerator<BookingDtoValue> {
    const actor = await ctx.actor();
    // Subscribed before the first read: a change committed in between is heard, not missed.
    changes = await bookingFeed(ctx.deps.database, ctx.deps.log).subscribe(id.toLowerCase(), actor.id);
    try {
      if (left) return;
      // The token checked again now that the feed knows this subscriber: a revocation that
      // committed after the first check, before the subscription was counted, told nobody.
      let booking = await getBooking({ actor: await ctx.reauthenticate(), id }, ctx.deps);
      yield booking;
      if (FINAL.has(booking.status)) return;
      for await (const _status of changes) {
        // The token is checked again (it may have expired, the account been suspended or deleted:
        // the stream then ends with that error), and the booking read and authorized again
        // through the verb: what is pushed is what GET /bookings/:id says now.
        const now = await getBooking({ actor: await ctx.reauthenticate(), id }, ctx.deps);
        if (now.status === booking.status) continue;
        booking = now;
        yield booking;
        if (FINAL.has(booking.status)) return;
      }
    } finally {
      changes.close();
    }
  }
  const inner = run();
  const stream: AsyncIterableIterator<BookingDtoValue> = {
    next: () => inner.next(),
    return: (value?: unknown) => {
      left = true;
      changes?.close();
      return inner.return(value as BookingDtoValue);
    },
    throw: (err?: unknown) => inner.throw(err),
    [Symbol.asyncIterator]: () => stream,
  };
  return stream;
}

export const schema = builder.toSchema({ sortSchema: false });
