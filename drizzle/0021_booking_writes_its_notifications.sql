-- A booking costs one commit: stayhub_create_booking also writes the guest's and the host's
-- in-app notifications (no notify job, no relay, no worker per booking) and checks the guest's
-- credential version under the guest's row lock (a token revoked between the request's read and
-- its turn books nothing). The hold's expiry is the bookings sweep's (and every read's) work: no
-- job row per booking. The former signature stays for instances of the previous version during
-- a rolling deploy.
CREATE OR REPLACE FUNCTION stayhub_create_booking(
  p_lock_space int4, p_id uuid, p_property uuid, p_guest uuid, p_check_in date, p_check_out date,
  p_guests int, p_nightly_total int, p_cleaning_fee int, p_service_fee int, p_total int,
  p_currency text, p_policy text, p_expires_at timestamptz, p_now timestamptz,
  p_terms text, p_max_holds int, p_jobs jsonb, p_notifications jsonb, p_credential_version int
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
    cleaning_fee, service_fee, total, currency, cancellation_policy, expires_at, created_at, updated_at)
  VALUES (p_id, p_property, p_guest, p_check_in, p_check_out, p_guests, 'pending_payment', p_check_out - p_check_in,
    p_nightly_total, p_cleaning_fee, p_service_fee, p_total, p_currency, p_policy, p_expires_at, p_now, p_now);
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
