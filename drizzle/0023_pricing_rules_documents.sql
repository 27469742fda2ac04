-- Pricing rules on the listing (0022 added the columns): the Property document shows them, the
-- terms' version covers them (a booking priced under rules that changed meanwhile is priced
-- again), and stayhub_create_booking stores the whole price (discount, extra-guest fee, taxes,
-- the host's payout). The earlier signatures stay for instances of the previous version during a
-- rolling deploy; a booking inserted without a host_payout (by them, or by hand) earns the host
-- the stay and its cleaning less the default 3 % host fee.
CREATE FUNCTION stayhub_bookings_host_payout() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.host_payout IS NULL THEN
    NEW.host_payout := (NEW.nightly_total - NEW.discount_amount + NEW.extra_guest_fee + NEW.cleaning_fee)
      - (((NEW.nightly_total - NEW.discount_amount + NEW.extra_guest_fee + NEW.cleaning_fee)::bigint * 3 + 50) / 100);
  END IF;
  RETURN NEW;
END;
$$;--> statement-breakpoint
CREATE TRIGGER bookings_host_payout BEFORE INSERT ON bookings FOR EACH ROW
  WHEN (NEW.host_payout IS NULL) EXECUTE FUNCTION stayhub_bookings_host_payout();--> statement-breakpoint
CREATE OR REPLACE FUNCTION stayhub_terms_version(p_property uuid, p_from date, p_to date) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT md5(concat_ws('|', p.status, p.host_id, p.price_per_night, p.cleaning_fee, p.currency, p.max_guests,
    p.min_nights, p.max_nights, p.cancellation_policy, p.weekend_price, p.weekly_discount_percent,
    p.monthly_discount_percent, p.guests_included, p.extra_guest_fee, p.instant_book,
    (SELECT string_agg(concat_ws(':', d.day, d.blocked, d.price), ',' ORDER BY d.day)
       FROM calendar_days d WHERE d.property_id = p.id AND d.day >= p_from AND d.day < p_to)))
  FROM properties p WHERE p.id = p_property);
END;
$$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION stayhub_property_json(pid uuid, photo_limit integer) RETURNS text
LANGUAGE plpgsql STABLE SET extra_float_digits = 1 AS $$
BEGIN
  RETURN (SELECT row_to_json(d)::text FROM (
    SELECT p.id,
      p.host_id AS "hostId",
      (SELECT row_to_json(h) FROM (SELECT u.id, u.name, u.avatar_url AS "avatarUrl") h) AS host,
      p.title,
      p.description,
      p.property_type AS "propertyType",
      json_strip_nulls(json_build_object('line1', p.address_line1, 'city', p.city, 'region', p.region, 'postalCode', p.postal_code, 'country', p.country)) AS address,
      json_strip_nulls(json_build_object('lat', stayhub_json_number(p.lat), 'lng', stayhub_json_number(p.lng))) AS location,
      p.price_per_night AS "pricePerNight",
      p.cleaning_fee AS "cleaningFee",
      p.currency,
      p.max_guests AS "maxGuests",
      p.bedrooms,
      p.beds,
      stayhub_json_number(p.bathrooms) AS bathrooms,
      to_json(p.amenities) AS amenities,
      (SELECT ('[' || coalesce(string_agg(json_strip_nulls(json_build_object('url', ph.url, 'caption', ph.caption))::text, ',' ORDER BY ph.position), '') || ']')::json
         FROM (SELECT * FROM property_photos WHERE property_id = p.id ORDER BY position LIMIT photo_limit) ph) AS photos,
      p.min_nights AS "minNights",
      p.max_nights AS "maxNights",
      p.cancellation_policy AS "cancellationPolicy",
      p.weekend_price AS "weekendPrice",
      p.weekly_discount_percent AS "weeklyDiscountPercent",
      p.monthly_discount_percent AS "monthlyDiscountPercent",
      coalesce(p.guests_included, p.max_guests) AS "guestsIncluded",
      p.extra_guest_fee AS "extraGuestFee",
      p.instant_book AS "instantBook",
      p.status,
      CASE WHEN p.review_count = 0 THEN NULL ELSE round(p.rating_sum * 100.0 / p.review_count)::float8 / 100 END AS "ratingAverage",
      p.review_count AS "reviewCount",
      to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt",
      to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "updatedAt"
    FROM properties p JOIN users u ON u.id = p.host_id
    WHERE p.id = pid
  ) d);
END;
$$;--> statement-breakpoint
SELECT stayhub_refresh_property_documents(ARRAY(SELECT id FROM properties));--> statement-breakpoint
CREATE OR REPLACE FUNCTION stayhub_create_booking(
  p_lock_space int4, p_id uuid, p_property uuid, p_guest uuid, p_check_in date, p_check_out date,
  p_guests int, p_nightly_total int, p_cleaning_fee int, p_service_fee int, p_total int,
  p_currency text, p_policy text, p_expires_at timestamptz, p_now timestamptz,
  p_terms text, p_max_holds int, p_jobs jsonb, p_notifications jsonb, p_credential_version int,
  p_discount_kind text, p_discount_percent int, p_discount_amount int, p_extra_guest_fee int,
  p_taxes jsonb, p_tax_total int, p_host_payout int
) RETURNS TABLE (outcome text, held int, first_ends timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_status text;
  v_version int;
  v_held int;
  v_first timestamptz;
BEGIN
  -- The property's booking turn (the same key as lockBookingsOf): overlapping inserts never wait
  -- on each other's exclusion check, and a listing change taking the turn waits for this booking.
  PERFORM pg_advisory_xact_lock(p_lock_space, hashtext(p_property::text));
  -- The guest's row, held to the end: a guest's concurrent bookings queue here, so no burst gets
  -- past the holds limit, and an account deleted, suspended or logged out everywhere meanwhile
  -- books nothing.
  SELECT u.status, u.credential_version INTO v_status, v_version FROM users u WHERE u.id = p_guest FOR NO KEY UPDATE;
  IF NOT FOUND THEN RETURN QUERY SELECT 'no_guest'::text, 0, NULL::timestamptz; RETURN; END IF;
  IF v_status <> 'active' THEN RETURN QUERY SELECT v_status, 0, NULL::timestamptz; RETURN; END IF;
  IF p_credential_version IS NOT NULL AND v_version IS DISTINCT FROM p_credential_version THEN
    RETURN QUERY SELECT 'revoked'::text, 0, NULL::timestamptz; RETURN;
  END IF;
  SELECT count(*)::int, min(b.expires_at) INTO v_held, v_first FROM bookings b
    WHERE b.guest_id = p_guest AND b.status = 'pending_payment' AND b.expires_at > p_now;
  IF v_held >= p_max_holds THEN RETURN QUERY SELECT 'too_many_holds'::text, v_held, v_first; RETURN; END IF;
  -- A host's listing or calendar change (which takes the row for update) waits for this booking.
  PERFORM 1 FROM properties p WHERE p.id = p_property FOR KEY SHARE;
  IF stayhub_terms_version(p_property, p_check_in, p_check_out) IS DISTINCT FROM p_terms THEN
    RETURN QUERY SELECT 'terms_changed'::text, v_held, v_first; RETURN;
  END IF;
  INSERT INTO bookings (id, property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total,
    cleaning_fee, service_fee, discount_kind, discount_percent, discount_amount, extra_guest_fee, taxes, tax_total,
    host_payout, total, currency, cancellation_policy, expires_at, created_at, updated_at)
  VALUES (p_id, p_property, p_guest, p_check_in, p_check_out, p_guests, 'pending_payment', p_check_out - p_check_in,
    p_nightly_total, p_cleaning_fee, p_service_fee, p_discount_kind, p_discount_percent, p_discount_amount,
    p_extra_guest_fee, p_taxes, p_tax_total, p_host_payout, p_total, p_currency, p_policy, p_expires_at, p_now, p_now);
  IF jsonb_array_length(p_notifications) > 0 THEN
    INSERT INTO notifications (id, user_id, type, title, body, data, dedupe_key, created_at)
      SELECT n.id, n.user_id, n.type, n.title, n.body, n.data, n.dedupe_key, n.created_at
      FROM jsonb_to_recordset(p_notifications)
        AS n(id uuid, user_id uuid, type text, title text, body text, data jsonb, dedupe_key text, created_at timestamptz)
      ON CONFLICT (dedupe_key) DO NOTHING;
  END IF;
  IF jsonb_array_length(p_jobs) > 0 THEN
    INSERT INTO outbox (type, payload, run_at, dedupe_key)
      SELECT j.type, j.payload, j.run_at, j.dedupe_key
      FROM jsonb_to_recordset(p_jobs) AS j(type text, payload jsonb, run_at timestamptz, dedupe_key text)
      ON CONFLICT (dedupe_key) DO NOTHING;
  END IF;
  RETURN QUERY SELECT 'booked'::text, v_held, v_first;
END;
$$;
