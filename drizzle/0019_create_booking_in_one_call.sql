-- A booking is made in one round trip. The service reads the stay's terms (no lock), applies the
-- rules and prices the stay, then calls stayhub_create_booking, which in one statement takes the
-- property's booking turn, takes the guest's row and counts their holds, checks that the terms it
-- was priced by are still the terms (stayhub_terms_version), and inserts the booking and its jobs.
-- The exclusion constraint still decides overlaps (23P01 leaves the function as the error it is).
-- A PL/pgSQL function takes a fresh snapshot for each statement (it is VOLATILE), so what it reads
-- after the turn includes every booking committed before the turn was given.

-- What a stay's price and rules are computed from: the listing's fields and the nights' overrides.
-- The service reads it beside the terms (one statement, one snapshot) and the booking compares it
-- under the turn. Keep it in step with what stayTerms reads.
-- PL/pgSQL rather than SQL: a non-inlinable SQL function is planned again on every call (that
-- was a third of the terms read); PL/pgSQL keeps its plan for the session. STABLE: it reads with
-- the snapshot of the statement that calls it.
CREATE OR REPLACE FUNCTION stayhub_terms_version(p_property uuid, p_from date, p_to date) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT md5(concat_ws('|', p.status, p.host_id, p.price_per_night, p.cleaning_fee, p.currency, p.max_guests,
    p.min_nights, p.max_nights, p.cancellation_policy,
    (SELECT string_agg(concat_ws(':', d.day, d.blocked, d.price), ',' ORDER BY d.day)
       FROM calendar_days d WHERE d.property_id = p.id AND d.day >= p_from AND d.day < p_to)))
  FROM properties p WHERE p.id = p_property);
END;
$$;--> statement-breakpoint

-- outcome: 'booked'; 'no_guest' (no such user); the guest's status when it is not 'active';
-- 'too_many_holds' (held, first_ends say how many and when the first ends); 'terms_changed'
-- (the listing or its nights changed since they were read: read and judge them again).
CREATE OR REPLACE FUNCTION stayhub_create_booking(
  p_lock_space int4, p_id uuid, p_property uuid, p_guest uuid, p_check_in date, p_check_out date,
  p_guests int, p_nightly_total int, p_cleaning_fee int, p_service_fee int, p_total int,
  p_currency text, p_policy text, p_expires_at timestamptz, p_now timestamptz,
  p_terms text, p_max_holds int, p_jobs jsonb
) RETURNS TABLE (outcome text, held int, first_ends timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_status text;
  v_held int;
  v_first timestamptz;
BEGIN
  -- The property's booking turn (the same key as lockBookingsOf): overlapping inserts never wait
  -- on each other's exclusion check, and a listing change taking the turn waits for this booking.
  PERFORM pg_advisory_xact_lock(p_lock_space, hashtext(p_property::text));
  -- The guest's row, held to the end: a guest's concurrent bookings queue here, so no burst gets
  -- past the holds limit, and an account deleted or suspended meanwhile books nothing.
  SELECT u.status INTO v_status FROM users u WHERE u.id = p_guest FOR NO KEY UPDATE;
  IF NOT FOUND THEN RETURN QUERY SELECT 'no_guest'::text, 0, NULL::timestamptz; RETURN; END IF;
  IF v_status <> 'active' THEN RETURN QUERY SELECT v_status, 0, NULL::timestamptz; RETURN; END IF;
  SELECT count(*)::int, min(b.expires_at) INTO v_held, v_first FROM bookings b
    WHERE b.guest_id = p_guest AND b.status = 'pending_payment' AND b.expires_at > p_now;
  IF v_held >= p_max_holds THEN RETURN QUERY SELECT 'too_many_holds'::text, v_held, v_first; RETURN; END IF;
  -- A host's listing or calendar change (which takes the row for update) waits for this booking.
  PERFORM 1 FROM properties p WHERE p.id = p_property FOR KEY SHARE;
  IF stayhub_terms_version(p_property, p_check_in, p_check_out) IS DISTINCT FROM p_terms THEN
    RETURN QUERY SELECT 'terms_changed'::text, v_held, v_first; RETURN;
  END IF;
  INSERT INTO bookings (id, property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total,
    cleaning_fee, service_fee, total, currency, cancellation_policy, expires_at, created_at, updated_at)
  VALUES (p_id, p_property, p_guest, p_check_in, p_check_out, p_guests, 'pending_payment', p_check_out - p_check_in,
    p_nightly_total, p_cleaning_fee, p_service_fee, p_total, p_currency, p_policy, p_expires_at, p_now, p_now);
  INSERT INTO outbox (type, payload, run_at, dedupe_key)
    SELECT j.type, j.payload, j.run_at, j.dedupe_key
    FROM jsonb_to_recordset(p_jobs) AS j(type text, payload jsonb, run_at timestamptz, dedupe_key text)
    ON CONFLICT (dedupe_key) DO NOTHING;
  RETURN QUERY SELECT 'booked'::text, v_held, v_first;
END;
$$;
