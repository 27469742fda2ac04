// The whole data model: every table of the contract, with the invariants a row can state about itself.
import { type SQL, sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigserial,
  boolean,
  check,
  customType,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

const id = () => uuid("id").primaryKey().default(sql`gen_random_uuid()`);
const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();
const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const users = pgTable(
  "users",
  {
    id: id(),
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    name: text("name").notNull(),
    bio: text("bio"),
    avatarUrl: text("avatar_url"),
    phone: text("phone"),
    roles: text("roles").array().notNull().default(sql`'{guest}'::text[]`),
    status: text("status").notNull().default("active"),
    // Set by POST /auth/verify-email; with EMAIL_VERIFICATION=required, listing and booking need it.
    emailVerifiedAt: tstz("email_verified_at"),
    // Set when the user deleted the account (DELETE /users/me): the row stays, anonymized, so the
    // other party of each booking, payment and review keeps its record.
    deletedAt: tstz("deleted_at"),
    // Reviews received as a guest (from hosts), kept by the guest-review verb in its transaction.
    guestRatingSum: integer("guest_rating_sum").notNull().default(0),
    guestReviewCount: integer("guest_review_count").notNull().default(0),
    // Carried in every access token (claim `cv`) and compared with this row at each request: a
    // password reset or change, a suspension, a deletion or "log out everywhere" bumps it in its
    // transaction, and every access token issued before is refused at once, on every instance.
    credentialVersion: integer("credential_version").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("users_email_lower_key").on(sql`lower(${t.email})`),
    check(
      "users_guest_rating_check",
      sql`${t.guestReviewCount} >= 0 and ${t.guestRatingSum} between ${t.guestReviewCount} and 5 * ${t.guestReviewCount}`,
    ),
    check("users_status_check", sql`${t.status} in ('active', 'suspended', 'deleted')`),
    check("users_deleted_check", sql`(${t.status} = 'deleted') = (${t.deletedAt} is not null)`),
    check(
      "users_roles_check",
      sql`${t.roles} <@ array['guest', 'host', 'admin']::text[] and cardinality(${t.roles}) >= 1`,
    ),
    check("users_email_check", sql`${t.email} = lower(${t.email}) and length(${t.email}) between 3 and 254`),
    check("users_name_check", sql`length(${t.name}) between 1 and 100`),
  ],
);

export const refreshTokens = pgTable(
  "refresh_tokens",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    familyId: uuid("family_id").notNull(),
    tokenHash: text("token_hash").notNull(),
    expiresAt: tstz("expires_at").notNull(),
    spentAt: tstz("spent_at"),
    revokedAt: tstz("revoked_at"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("refresh_tokens_hash_key").on(t.tokenHash),
    index("refresh_tokens_family_idx").on(t.familyId),
    index("refresh_tokens_user_idx").on(t.userId),
  ],
);

export const properties = pgTable(
  "properties",
  {
    id: id(),
    hostId: uuid("host_id")
      .notNull()
      .references(() => users.id),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    propertyType: text("property_type").notNull(),
    addressLine1: text("address_line1").notNull(),
    city: text("city").notNull(),
    region: text("region"),
    postalCode: text("postal_code"),
    country: text("country").notNull(),
    lat: doublePrecision("lat").notNull(),
    lng: doublePrecision("lng").notNull(),
    pricePerNight: integer("price_per_night").notNull(),
    cleaningFee: integer("cleaning_fee").notNull().default(0),
    currency: text("currency").notNull(),
    maxGuests: smallint("max_guests").notNull(),
    bedrooms: smallint("bedrooms").notNull().default(0),
    beds: smallint("beds").notNull().default(1),
    bathrooms: doublePrecision("bathrooms").notNull().default(1),
    amenities: text("amenities").array().notNull().default(sql`'{}'::text[]`),
    minNights: smallint("min_nights").notNull().default(1),
    maxNights: smallint("max_nights").notNull().default(365),
    cancellationPolicy: text("cancellation_policy").notNull().default("moderate"),
    // Pricing rules (contract: "Pricing rules, quotes and request-to-book"); the defaults are "no rule".
    weekendPrice: integer("weekend_price"),
    weeklyDiscountPercent: smallint("weekly_discount_percent").notNull().default(0),
    monthlyDiscountPercent: smallint("monthly_discount_percent").notNull().default(0),
    // Null: every guest the listing takes (maxGuests, whatever it is changed to).
    guestsIncluded: smallint("guests_included"),
    extraGuestFee: integer("extra_guest_fee").notNull().default(0),
    instantBook: boolean("instant_book").notNull().default(true),
    status: text("status").notNull().default("listed"),
    // Unlisted by an admin (moderation): the host cannot list it again. Unlisted because its host
    // was suspended: listed again when the host is unsuspended.
    moderatedAt: tstz("moderated_at"),
    hiddenBySuspension: boolean("hidden_by_suspension").notNull().default(false),
    // Aggregates kept by the review verbs in the same transaction; the average is derived on read.
    ratingSum: integer("rating_sum").notNull().default(0),
    reviewCount: integer("review_count").notNull().default(0),
    // Text search over title, city and description ('simple': no stemming, any language).
    searchText: tsvector("search_text").generatedAlwaysAs(
      (): SQL =>
        sql`setweight(to_tsvector('simple', coalesce(${properties.title}, '')), 'A') || setweight(to_tsvector('simple', coalesce(${properties.city}, '')), 'A') || setweight(to_tsvector('simple', coalesce(${properties.description}, '')), 'B')`,
    ),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("properties_host_idx").on(t.hostId, t.createdAt, t.id),
    // Search shapes (proven by tests/integration/search-plans.test.ts): city, price range, geo/map, text.
    index("properties_city_idx").on(sql`lower(${t.city})`, t.pricePerNight).where(sql`${t.status} = 'listed'`),
    // A city in the default order: a dated search walks it and stops at the first page of free ones.
    index("properties_city_recommended_idx")
      .on(sql`lower(${t.city})`, sql`(((${t.ratingSum} * 100 + 1750) / (${t.reviewCount} + 5))::int)`, t.id)
      .where(sql`${t.status} = 'listed'`),
    index("properties_price_idx").on(t.pricePerNight, t.id).where(sql`${t.status} = 'listed'`),
    index("properties_location_idx").using("gist", sql`point(${t.lng}, ${t.lat})`).where(sql`${t.status} = 'listed'`),
    // fastupdate off: listings change rarely, and a long GIN pending list (after a bulk load) makes
    // the planner shun the index until the next vacuum.
    index("properties_search_idx")
      .using("gin", t.searchText)
      .with({ fastupdate: false })
      .where(sql`${t.status} = 'listed'`),
    // Expression indexes for the sorts that are not columns (must match search.ts's expressions).
    index("properties_recommended_idx")
      .on(sql`(((${t.ratingSum} * 100 + 1750) / (${t.reviewCount} + 5))::int)`, t.id)
      .where(sql`${t.status} = 'listed'`),
    index("properties_rating_idx")
      .on(sql`((case when ${t.reviewCount} = 0 then -1 else ${t.ratingSum} * 100 / ${t.reviewCount} end)::int)`, t.id)
      .where(sql`${t.status} = 'listed'`),
    index("properties_newest_idx").on(t.createdAt, t.id).where(sql`${t.status} = 'listed'`),
    check("properties_type_check", sql`${t.propertyType} in ('apartment', 'house', 'room', 'cabin', 'villa', 'other')`),
    check("properties_status_check", sql`${t.status} in ('listed', 'unlisted')`),
    check("properties_policy_check", sql`${t.cancellationPolicy} in ('flexible', 'moderate', 'strict')`),
    check("properties_country_check", sql`${t.country} ~ '^[A-Z]{2}$'`),
    check("properties_currency_check", sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check("properties_lat_check", sql`${t.lat} between -90 and 90`),
    check("properties_lng_check", sql`${t.lng} between -180 and 180`),
    check("properties_prices_check", sql`${t.pricePerNight} >= 0 and ${t.cleaningFee} >= 0`),
    check("properties_guests_check", sql`${t.maxGuests} >= 1`),
    check(
      "properties_rules_check",
      sql`coalesce(${t.weekendPrice}, 0) >= 0 and ${t.extraGuestFee} >= 0 and ${t.weeklyDiscountPercent} between 0 and 90 and ${t.monthlyDiscountPercent} between 0 and 90 and coalesce(${t.guestsIncluded}, 1) between 1 and ${t.maxGuests}`,
    ),
    check("properties_rooms_check", sql`${t.bedrooms} >= 0 and ${t.beds} >= 0 and ${t.bathrooms} >= 0`),
    check("properties_nights_check", sql`${t.minNights} >= 1 and ${t.maxNights} >= ${t.minNights}`),
    check(
      "properties_rating_check",
      sql`${t.reviewCount} >= 0 and ${t.ratingSum} between ${t.reviewCount} and 5 * ${t.reviewCount}`,
    ),
  ],
);

export const propertyPhotos = pgTable(
  "property_photos",
  {
    propertyId: uuid("property_id")
      .notNull()
      .references(() => properties.id, { onDelete: "cascade" }),
    position: smallint("position").notNull(),
    url: text("url").notNull(),
    caption: text("caption"),
  },
  (t) => [
    primaryKey({ columns: [t.propertyId, t.position] }),
    check("property_photos_url_check", sql`${t.url} like 'https://%'`),
    check("property_photos_position_check", sql`${t.position} >= 0`),
  ],
);

// Each property's answer as JSON text, rendered by PostgreSQL in the transaction of every change
// to the property, its photos or its host (triggers in drizzle/0007_property_documents.sql), so a
// read is one primary-key lookup of ready text and a search page is its cards joined by commas.
export const propertyDocuments = pgTable("property_documents", {
  propertyId: uuid("property_id")
    .primaryKey()
    .references(() => properties.id, { onDelete: "cascade" }),
  hostId: uuid("host_id").notNull(),
  status: text("status").notNull(),
  /** The Property of the contract. */
  body: text("body").notNull(),
  /** The same with only its first photo: a search result. */
  card: text("card").notNull(),
});

// One row per night that differs from the listing's defaults: blocked, or priced differently.
export const calendarDays = pgTable(
  "calendar_days",
  {
    propertyId: uuid("property_id")
      .notNull()
      .references(() => properties.id, { onDelete: "cascade" }),
    day: date("day", { mode: "string" }).notNull(),
    blocked: boolean("blocked").notNull().default(false),
    price: integer("price"),
  },
  (t) => [
    primaryKey({ columns: [t.propertyId, t.day] }),
    check("calendar_days_price_check", sql`${t.price} is null or ${t.price} >= 0`),
  ],
);

export const bookings = pgTable(
  "bookings",
  {
    id: id(),
    propertyId: uuid("property_id")
      .notNull()
      .references(() => properties.id),
    guestId: uuid("guest_id")
      .notNull()
      .references(() => users.id),
    checkIn: date("check_in", { mode: "string" }).notNull(),
    checkOut: date("check_out", { mode: "string" }).notNull(),
    guests: smallint("guests").notNull(),
    status: text("status").notNull().default("pending_payment"),
    nights: smallint("nights").notNull(),
    nightlyTotal: integer("nightly_total").notNull(),
    cleaningFee: integer("cleaning_fee").notNull(),
    serviceFee: integer("service_fee").notNull(),
    // The price's other lines, as priced when booked (a snapshot, like the rest of the price).
    discountKind: text("discount_kind"),
    discountPercent: smallint("discount_percent"),
    discountAmount: integer("discount_amount").notNull().default(0),
    extraGuestFee: integer("extra_guest_fee").notNull().default(0),
    taxes: jsonb("taxes").$type<{ name: string; amount: number }[]>().notNull().default(sql`'[]'::jsonb`),
    taxTotal: integer("tax_total").notNull().default(0),
    // What the host earns of it (the stay less the discount, fees and cleaning, less the host fee).
    hostPayout: integer("host_payout").notNull(),
    total: integer("total").notNull(),
    currency: text("currency").notNull(),
    // The listing's policy when the stay was booked: a later change of the listing's policy does
    // not change what this guest agreed to (like the price).
    cancellationPolicy: text("cancellation_policy").notNull().default("moderate"),
    expiresAt: tstz("expires_at").notNull(),
    // A request to book its host accepted: the capture is under way (nothing else may end the request).
    acceptedAt: tstz("accepted_at"),
    cancelledAt: tstz("cancelled_at"),
    cancelledBy: text("cancelled_by"),
    cancelReason: text("cancel_reason"),
    refundAmount: integer("refund_amount"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // The no-overlap exclusion constraint lives in a custom migration (drizzle cannot express EXCLUDE).
    index("bookings_guest_idx").on(t.guestId, t.createdAt),
    index("bookings_property_idx").on(t.propertyId, t.checkIn),
    // Search's availability probe: a property's stays that still hold nights, by when they end.
    index("bookings_active_idx")
      .on(t.propertyId, t.checkOut)
      .where(sql`${t.status} in ('pending_payment', 'requested', 'confirmed')`),
    index("bookings_pending_expiry_idx").on(t.expiresAt).where(sql`${t.status} = 'pending_payment'`),
    // Requests to book whose host has not answered, by when they expire (the sweep's second walk).
    index("bookings_requested_expiry_idx").on(t.expiresAt).where(sql`${t.status} = 'requested'`),
    // A guest's live holds, counted by every booking (the holds limit): without it the planner
    // intersected the guest's bookings with every pending hold's expiry (a scan of all holds).
    index("bookings_guest_holds_idx").on(t.guestId, t.expiresAt).where(sql`${t.status} = 'pending_payment'`),
    index("bookings_confirmed_checkout_idx").on(t.checkOut).where(sql`${t.status} = 'confirmed'`),
    check("bookings_dates_check", sql`${t.checkOut} > ${t.checkIn}`),
    check("bookings_nights_check", sql`${t.nights} = ${t.checkOut} - ${t.checkIn}`),
    check("bookings_guests_check", sql`${t.guests} >= 1`),
    check(
      "bookings_status_check",
      sql`${t.status} in ('pending_payment', 'requested', 'confirmed', 'completed', 'expired', 'cancelled', 'declined')`,
    ),
    check(
      "bookings_money_check",
      sql`${t.nightlyTotal} >= 0 and ${t.cleaningFee} >= 0 and ${t.serviceFee} >= 0 and ${t.extraGuestFee} >= 0 and ${t.taxTotal} >= 0 and ${t.discountAmount} between 0 and ${t.nightlyTotal} and ${t.hostPayout} between 0 and ${t.nightlyTotal} - ${t.discountAmount} + ${t.extraGuestFee} + ${t.cleaningFee} and ${t.total} = ${t.nightlyTotal} - ${t.discountAmount} + ${t.extraGuestFee} + ${t.cleaningFee} + ${t.serviceFee} + ${t.taxTotal}`,
    ),
    check(
      "bookings_discount_check",
      sql`(${t.discountKind} is null and ${t.discountPercent} is null and ${t.discountAmount} = 0) or (${t.discountKind} in ('weekly', 'monthly') and ${t.discountPercent} between 1 and 90)`,
    ),
    check("bookings_currency_check", sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check(
      "bookings_cancellation_check",
      sql`(${t.status} = 'cancelled') = (${t.cancelledAt} is not null) and (${t.cancelledAt} is null or ${t.cancelledBy} in ('guest', 'host'))`,
    ),
    check(
      "bookings_accepted_check",
      sql`${t.acceptedAt} is null or ${t.status} in ('requested', 'confirmed', 'completed', 'cancelled', 'expired')`,
    ),
    check("bookings_refund_check", sql`${t.refundAmount} is null or ${t.refundAmount} between 0 and ${t.total}`),
    check("bookings_policy_check", sql`${t.cancellationPolicy} in ('flexible', 'moderate', 'strict')`),
  ],
);

export const payments = pgTable(
  "payments",
  {
    id: id(),
    bookingId: uuid("booking_id")
      .notNull()
      .references(() => bookings.id),
    payerId: uuid("payer_id")
      .notNull()
      .references(() => users.id),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    status: text("status").notNull().default("processing"),
    paymentMethod: text("payment_method").notNull(),
    // "automatic": charged at once (instant book); "manual": authorized, captured when the host accepts.
    captureMethod: text("capture_method").notNull().default("automatic"),
    failureCode: text("failure_code"),
    refundedAmount: integer("refunded_amount").notNull().default(0),
    providerRef: text("provider_ref"),
    attempts: smallint("attempts").notNull().default(0),
    // A charge.dispute_created event: the cardholder disputes the charge with their bank.
    disputedAt: tstz("disputed_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("payments_booking_idx").on(t.bookingId, t.createdAt),
    // A guest's payments of the last hour (the card-testing limits count them on every payment).
    index("payments_payer_idx").on(t.payerId, t.createdAt),
    // At most one live (processing, authorized or settled) payment per booking: a second charge cannot exist.
    uniqueIndex("payments_one_live_per_booking_key")
      .on(t.bookingId)
      .where(sql`${t.status} in ('processing', 'authorized', 'succeeded', 'refunded', 'partially_refunded')`),
    uniqueIndex("payments_provider_ref_key").on(t.providerRef),
    check(
      "payments_status_check",
      sql`${t.status} in ('processing', 'authorized', 'succeeded', 'failed', 'voided', 'refunded', 'partially_refunded')`,
    ),
    check("payments_capture_method_check", sql`${t.captureMethod} in ('automatic', 'manual')`),
    check("payments_amount_check", sql`${t.amount} > 0`),
    check("payments_refunded_check", sql`${t.refundedAmount} between 0 and ${t.amount}`),
    check("payments_failure_check", sql`(${t.status} = 'failed') = (${t.failureCode} is not null)`),
    check("payments_currency_check", sql`${t.currency} ~ '^[A-Z]{3}$'`),
  ],
);

export const refunds = pgTable(
  "refunds",
  {
    id: id(),
    paymentId: uuid("payment_id")
      .notNull()
      .references(() => payments.id),
    bookingId: uuid("booking_id")
      .notNull()
      .references(() => bookings.id),
    amount: integer("amount").notNull(),
    status: text("status").notNull().default("pending"),
    reason: text("reason"),
    providerRef: text("provider_ref"),
    // One row per reason a refund is owed (a cancellation, a charge that landed for nights no
    // longer held), so a rerun never refunds twice.
    key: text("key").notNull(),
    // The idempotency key of the provider call: the row's key, or a new one when the provider
    // refused the first amount (the charge was partly refunded elsewhere) and the rest is asked.
    providerKey: text("provider_key").notNull(),
    failureCode: text("failure_code"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("refunds_payment_idx").on(t.paymentId),
    uniqueIndex("refunds_key").on(t.key),
    check("refunds_amount_check", sql`${t.amount} > 0`),
    check("refunds_status_check", sql`${t.status} in ('pending', 'succeeded', 'failed')`),
    check("refunds_reason_check", sql`${t.reason} in ('cancellation', 'not_held')`),
  ],
);

export const reviews = pgTable(
  "reviews",
  {
    id: id(),
    bookingId: uuid("booking_id")
      .notNull()
      .references(() => bookings.id),
    propertyId: uuid("property_id")
      .notNull()
      .references(() => properties.id),
    authorId: uuid("author_id")
      .notNull()
      .references(() => users.id),
    rating: smallint("rating").notNull(),
    comment: text("comment").notNull(),
    responseComment: text("response_comment"),
    respondedAt: tstz("responded_at"),
    // Milliseconds, as the service writes them and page cursors carry them: a cursor must name a row exactly.
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date", precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("reviews_booking_key").on(t.bookingId),
    // Pages newest first by (created_at, id): one index range per page.
    index("reviews_property_page_idx").on(t.propertyId, t.createdAt, t.id),
    check("reviews_rating_check", sql`${t.rating} between 1 and 5`),
    check("reviews_comment_check", sql`length(${t.comment}) between 1 and 2000`),
    check(
      "reviews_response_check",
      sql`(${t.responseComment} is null) = (${t.respondedAt} is null) and (${t.responseComment} is null or length(${t.responseComment}) between 1 and 2000)`,
    ),
  ],
);

// Reviews of guests by the hosts they stayed with (two-sided reviews); users keep the aggregates.
export const guestReviews = pgTable(
  "guest_reviews",
  {
    id: id(),
    bookingId: uuid("booking_id")
      .notNull()
      .references(() => bookings.id),
    guestId: uuid("guest_id")
      .notNull()
      .references(() => users.id),
    authorId: uuid("author_id")
      .notNull()
      .references(() => users.id),
    rating: smallint("rating").notNull(),
    comment: text("comment").notNull(),
    // Milliseconds, as the service writes them and page cursors carry them: a cursor must name a row exactly.
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date", precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("guest_reviews_booking_key").on(t.bookingId),
    index("guest_reviews_guest_page_idx").on(t.guestId, t.createdAt, t.id),
    check("guest_reviews_rating_check", sql`${t.rating} between 1 and 5`),
    check("guest_reviews_comment_check", sql`length(${t.comment}) between 1 and 2000`),
  ],
);

export const notifications = pgTable(
  "notifications",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    title: text("title").notNull(),
    body: text("body").notNull(),
    data: jsonb("data").notNull().default(sql`'{}'::jsonb`),
    // The job that made it: a retried job finds its notification already there.
    dedupeKey: text("dedupe_key"),
    readAt: tstz("read_at"),
    // Set once the e-mail was handed to the mailer: a retried job does not send it again.
    emailedAt: tstz("emailed_at"),
    createdAt: createdAt(),
  },
  (t) => [
    index("notifications_user_idx").on(t.userId, t.createdAt, t.id),
    uniqueIndex("notifications_dedupe_key").on(t.dedupeKey),
  ],
);

// Transactional outbox: follow-up work committed with the state change that needs it.
export const outbox = pgTable(
  "outbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    type: text("type").notNull(),
    payload: jsonb("payload").notNull(),
    runAt: tstz("run_at").notNull().defaultNow(),
    dedupeKey: text("dedupe_key"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    // Handed to Redis (stream transport), or handled (in-process transport).
    sentAt: tstz("sent_at"),
    // In-process transport only: given up after the last attempt (the stream transport keeps its
    // dead letters in a dead-letter stream).
    deadAt: tstz("dead_at"),
    // In-process transport: leases and retry backoff, on the database's (wall) clock — apart from
    // run_at, which is business time (the test clock's, in tests).
    lockedUntil: tstz("locked_until"),
    createdAt: createdAt(),
  },
  (t) => [
    index("outbox_unsent_idx").on(t.runAt, t.id).where(sql`${t.sentAt} is null and ${t.deadAt} is null`),
    uniqueIndex("outbox_dedupe_key").on(t.dedupeKey),
    check("outbox_attempts_check", sql`${t.attempts} >= 0`),
  ],
);

export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    route: text("route").notNull(),
    requestHash: text("request_hash").notNull(),
    responseStatus: smallint("response_status"),
    // The answer as it was sent (text, not jsonb: a replay is byte for byte the first answer).
    responseBody: text("response_body"),
    // While the first request runs: who holds the key, and until when (wall clock) before a
    // crashed holder's key may be taken over.
    leaseToken: uuid("lease_token"),
    leaseUntil: tstz("lease_until"),
    createdAt: createdAt(),
    expiresAt: tstz("expires_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.key] }),
    index("idempotency_keys_expiry_idx").on(t.expiresAt),
    check("idempotency_keys_key_check", sql`length(${t.key}) between 1 and 255`),
    check("idempotency_keys_response_check", sql`(${t.responseStatus} is null) = (${t.responseBody} is null)`),
    check("idempotency_keys_lease_check", sql`(${t.responseStatus} is null) = (${t.leaseToken} is not null)`),
  ],
);

export const webhookEvents = pgTable(
  "webhook_events",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    payload: jsonb("payload").notNull(),
    receivedAt: tstz("received_at").notNull().defaultNow(),
    // What the event did: applied, or why not (unknown payment, nothing to change).
    outcome: text("outcome").notNull().default("applied"),
  },
  (t) => [index("webhook_events_received_idx").on(t.receivedAt)],
);

// Each run of `stayhub payments reconcile` (the recurring job's too): /metrics reports the last.
export const paymentReconciliations = pgTable("payment_reconciliations", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  ranAt: tstz("ran_at").notNull().defaultNow(),
  mismatches: integer("mismatches").notNull(),
  report: jsonb("report").notNull(),
});

// The simulated payment provider's own books — what a real gateway keeps on its side. Only the
// simulated provider reads or writes them, in its own transactions, never in ours: our commit
// failing after its charge leaves exactly what a real gateway would (a charge we must not repeat).
export const simCharges = pgTable(
  "sim_charges",
  {
    // The idempotency key we sent: the same key never charges twice.
    key: text("key").primaryKey(),
    chargeId: text("charge_id").notNull(),
    // Our payment id, as metadata (a real gateway keeps it the same way).
    reference: text("reference").notNull(),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    paymentMethod: text("payment_method").notNull(),
    status: text("status").notNull(),
    failureCode: text("failure_code"),
    refunded: integer("refunded").notNull().default(0),
    // An authorization's time by the service clock: it lapses AUTHORIZATION_LAPSE_MS after it.
    authorizedAt: timestamp("authorized_at", { withTimezone: true, mode: "date" }),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("sim_charges_charge_id_key").on(t.chargeId),
    index("sim_charges_created_idx").on(t.createdAt),
    check("sim_charges_status_check", sql`${t.status} in ('authorized', 'succeeded', 'failed', 'voided')`),
    // Never more refunded than charged, and nothing refunded of a failed charge.
    check(
      "sim_charges_refunded_check",
      sql`${t.refunded} between 0 and (case when ${t.status} = 'succeeded' then ${t.amount} else 0 end)`,
    ),
  ],
);

export const simRefunds = pgTable(
  "sim_refunds",
  {
    key: text("key").primaryKey(),
    refundId: text("refund_id").notNull(),
    chargeId: text("charge_id")
      .notNull()
      .references(() => simCharges.chargeId),
    amount: integer("amount").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("sim_refunds_charge_idx").on(t.chargeId), check("sim_refunds_amount_check", sql`${t.amount} > 0`)],
);

// Every admin action, for the record: who did what to whom, why, and when.
// Occupancy taxes (contract: "Pricing rules, quotes and request-to-book"), managed by admins: a rule
// of a country, or of one city of it (matched case-insensitively), priced into every quote at once
// and every booking made after it; the booking keeps its lines (a snapshot).
export const taxRules = pgTable(
  "tax_rules",
  {
    id: id(),
    country: text("country").notNull(),
    city: text("city"),
    name: text("name").notNull(),
    kind: text("kind").notNull(),
    // A whole percent for "percent", minor units of the listing's currency otherwise.
    value: integer("value").notNull(),
    base: text("base").notNull().default("nights"),
    createdAt: createdAt(),
  },
  (t) => [
    index("tax_rules_place_idx").on(t.country, sql`lower(${t.city})`),
    check("tax_rules_country_check", sql`${t.country} ~ '^[A-Z]{2}$'`),
    check("tax_rules_kind_check", sql`${t.kind} in ('percent', 'per_night', 'per_guest_per_night', 'per_stay')`),
    check("tax_rules_base_check", sql`${t.base} in ('nights', 'nights_and_cleaning')`),
    check("tax_rules_value_check", sql`${t.value} >= 0 and (${t.kind} <> 'percent' or ${t.value} <= 100)`),
  ],
);

export const adminAudit = pgTable(
  "admin_audit",
  {
    id: uuid("id").primaryKey(),
    actorId: uuid("actor_id")
      .notNull()
      .references(() => users.id),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: uuid("target_id").notNull(),
    reason: text("reason"),
    // What the action changed beyond its target (e.g. the listings a suspension hid).
    details: jsonb("details").notNull().default(sql`'{}'::jsonb`),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date", precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index("admin_audit_target_idx").on(t.targetType, t.targetId),
    check(
      "admin_audit_action_check",
      sql`${t.action} in ('user.suspend', 'user.unsuspend', 'property.unlist', 'tax_rule.create', 'tax_rule.delete')`,
    ),
    check("admin_audit_target_check", sql`${t.targetType} in ('user', 'property', 'tax_rule')`),
  ],
);

// Single-use tokens e-mailed to a user (a password reset, an e-mail verification). Only the
// SHA-256 of a token is kept: the database never holds one that could be used.
export const accountTokens = pgTable(
  "account_tokens",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    purpose: text("purpose").notNull(),
    tokenHash: text("token_hash").notNull(),
    expiresAt: tstz("expires_at").notNull(),
    usedAt: tstz("used_at"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("account_tokens_hash_key").on(t.tokenHash),
    index("account_tokens_user_idx").on(t.userId),
    check("account_tokens_purpose_check", sql`${t.purpose} in ('password_reset', 'email_verification')`),
  ],
);

// ---- the ledger (src/modules/ledger/) ----

/**
 * One movement of money, made once per source event (`source_key`: capture:<paymentId>,
 * refund:<refundId>, release:<bookingId>, payout:<payoutId>, payout_paid:<payoutId>,
 * payout_failed:<payoutId>), in the transaction of the state change it records. Append-only:
 * its entries sum to zero per currency (trigger ledger_entries_balanced), and neither a
 * transaction nor an entry is ever updated or deleted (triggers ledger_*_append_only).
 */
export const ledgerTransactions = pgTable(
  "ledger_transactions",
  {
    id: id(),
    sourceKey: text("source_key").notNull(),
    kind: text("kind").notNull(),
    bookingId: uuid("booking_id").references(() => bookings.id),
    paymentId: uuid("payment_id").references(() => payments.id),
    payoutId: uuid("payout_id").references((): AnyPgColumn => payouts.id),
    // Business time (the service clock), as every other row's.
    createdAt: tstz("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("ledger_transactions_source_key").on(t.sourceKey),
    index("ledger_transactions_booking_idx").on(t.bookingId),
    check(
      "ledger_transactions_kind_check",
      sql`${t.kind} in ('capture', 'refund', 'clawback', 'release', 'payout', 'payout_failed')`,
    ),
  ],
);

/**
 * A signed amount on one account: `platform:clearing` (what the provider holds for us; negative
 * while it holds guests' money), `platform:fees`, `platform:taxes_payable`, and per host
 * `host:<id>:pending`, `host:<id>:available`, `host:<id>:payout_in_transit` (positive: what we owe
 * the host). An account's balance is the sum of its entries.
 */
export const ledgerEntries = pgTable(
  "ledger_entries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    transactionId: uuid("transaction_id")
      .notNull()
      .references(() => ledgerTransactions.id),
    account: text("account").notNull(),
    // The host of a host:<id>:… account (null for the platform's), for the host's reads.
    hostId: uuid("host_id").references(() => users.id),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    createdAt: tstz("created_at").notNull(),
  },
  (t) => [
    index("ledger_entries_transaction_idx").on(t.transactionId),
    index("ledger_entries_host_idx").on(t.hostId, t.currency, t.account),
    index("ledger_entries_account_idx").on(t.account, t.currency),
    check("ledger_entries_amount_check", sql`${t.amount} <> 0`),
    check("ledger_entries_currency_check", sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check(
      "ledger_entries_account_check",
      sql`(${t.hostId} is null and ${t.account} in ('platform:clearing', 'platform:fees', 'platform:taxes_payable')) or (${t.hostId} is not null and ${t.account} in ('host:' || ${t.hostId} || ':pending', 'host:' || ${t.hostId} || ':available', 'host:' || ${t.hostId} || ':payout_in_transit'))`,
    ),
  ],
);

/** Where a host's payouts go: a provider token (ba_…), never an account number. */
export const payoutMethods = pgTable(
  "payout_methods",
  {
    hostId: uuid("host_id")
      .primaryKey()
      .references(() => users.id),
    token: text("token").notNull(),
    updatedAt: tstz("updated_at").notNull(),
  },
  (t) => [check("payout_methods_token_check", sql`${t.token} ~ '^ba_[A-Za-z0-9_]{1,100}$'`)],
);

export const payouts = pgTable(
  "payouts",
  {
    id: id(),
    hostId: uuid("host_id")
      .notNull()
      .references(() => users.id),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    status: text("status").notNull().default("pending"),
    token: text("token").notNull(),
    failureCode: text("failure_code"),
    providerRef: text("provider_ref"),
    createdAt: tstz("created_at").notNull(),
    updatedAt: tstz("updated_at").notNull(),
  },
  (t) => [
    index("payouts_host_idx").on(t.hostId, t.createdAt),
    // One payout of a host's money in flight per currency: a balance is never sent twice.
    uniqueIndex("payouts_one_in_flight_key")
      .on(t.hostId, t.currency)
      .where(sql`${t.status} in ('pending', 'in_transit')`),
    check("payouts_status_check", sql`${t.status} in ('pending', 'in_transit', 'paid', 'failed')`),
    check("payouts_amount_check", sql`${t.amount} > 0`),
    check("payouts_failure_check", sql`(${t.status} = 'failed') = (${t.failureCode} is not null)`),
  ],
);

/** The simulated provider's payouts (its own books, like sim_charges). */
export const simPayouts = pgTable("sim_payouts", {
  key: text("key").primaryKey(),
  payoutRef: text("payout_ref").notNull(),
  reference: text("reference").notNull(),
  amount: integer("amount").notNull(),
  currency: text("currency").notNull(),
  token: text("token").notNull(),
  status: text("status").notNull(),
  failureCode: text("failure_code"),
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

// A user's named lists of saved listings (src/modules/saved/).
export const wishlists = pgTable(
  "wishlists",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    createdAt: tstz("created_at").notNull(),
    updatedAt: tstz("updated_at").notNull(),
  },
  (t) => [index("wishlists_user_idx").on(t.userId, t.createdAt, t.id)],
);

export const wishlistProperties = pgTable(
  "wishlist_properties",
  {
    wishlistId: uuid("wishlist_id")
      .notNull()
      .references(() => wishlists.id, { onDelete: "cascade" }),
    propertyId: uuid("property_id")
      .notNull()
      .references(() => properties.id, { onDelete: "cascade" }),
    savedAt: tstz("saved_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.wishlistId, t.propertyId] }),
    // A list's page, newest saved first.
    index("wishlist_properties_page_idx").on(t.wishlistId, t.savedAt, t.propertyId),
  ],
);

// A user waiting for a stay that cannot be booked now (src/modules/saved/alerts.ts).
export const alerts = pgTable(
  "alerts",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    propertyId: uuid("property_id")
      .notNull()
      .references(() => properties.id, { onDelete: "cascade" }),
    checkIn: date("check_in", { mode: "string" }).notNull(),
    checkOut: date("check_out", { mode: "string" }).notNull(),
    guests: integer("guests").notNull(),
    status: text("status").notNull().default("waiting"),
    notifiedAt: tstz("notified_at"),
    createdAt: tstz("created_at").notNull(),
  },
  (t) => [
    index("alerts_user_idx").on(t.userId, t.createdAt, t.id),
    // What a change at a property frees: the waiting alerts of that property whose stay overlaps
    // the nights freed (btree_gist: the property by equality, the stay by overlap).
    index("alerts_waiting_idx")
      .using("gist", t.propertyId, sql`daterange(${t.checkIn}, ${t.checkOut})`)
      .where(sql`${t.status} = 'waiting'`),
    // The expiry sweep: waiting alerts by check-in.
    index("alerts_waiting_check_in_idx").on(t.checkIn).where(sql`${t.status} = 'waiting'`),
    check("alerts_status_check", sql`${t.status} in ('waiting', 'notified', 'expired')`),
    check("alerts_stay_check", sql`${t.checkOut} > ${t.checkIn}`),
    check("alerts_guests_check", sql`${t.guests} >= 1`),
    check("alerts_notified_check", sql`(${t.status} = 'notified') = (${t.notifiedAt} is not null)`),
  ],
);
