CREATE TABLE "property_documents" (
	"property_id" uuid PRIMARY KEY NOT NULL,
	"host_id" uuid NOT NULL,
	"status" text NOT NULL,
	"body" text NOT NULL,
	"card" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "property_documents" ADD CONSTRAINT "property_documents_property_id_properties_id_fk" FOREIGN KEY ("property_id") REFERENCES "public"."properties"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- A float as JavaScript's JSON.stringify prints it, exactly for |x| < 2^54 (above, the two may
-- choose a different last digit). PostgreSQL's shortest-exact text agrees except in exponent form:
-- it switches to it below 1e-4 (JavaScript below 1e-6) and pads the exponent to two digits; -0 is
-- 0 in JSON, and NaN and the infinities are null, as in JavaScript.
CREATE FUNCTION stayhub_json_number(x float8) RETURNS json
LANGUAGE plpgsql STABLE SET extra_float_digits = 1 AS $$
DECLARE
  t text := x::text;
  sign text := '';
  mantissa text;
  digits text;
  n integer; -- x = 0.digits × 10^n
BEGIN
  IF x = 0 THEN RETURN '0'::json; END IF;
  IF x = 'NaN'::float8 OR x = 'Infinity'::float8 OR x = '-Infinity'::float8 THEN RETURN 'null'::json; END IF;
  IF position('e' IN t) = 0 THEN RETURN t::json; END IF;
  IF left(t, 1) = '-' THEN sign := '-'; t := substr(t, 2); END IF;
  mantissa := split_part(t, 'e', 1);
  digits := replace(mantissa, '.', '');
  n := split_part(t, 'e', 2)::integer + 1;
  IF n > -6 AND n <= 0 THEN RETURN (sign || '0.' || repeat('0', -n) || digits)::json; END IF;
  IF n > 0 AND n <= 21 AND n >= length(digits) THEN RETURN (sign || digits || repeat('0', n - length(digits)))::json; END IF;
  IF n > 0 AND n <= 21 THEN RETURN (sign || left(digits, n) || '.' || substr(digits, n + 1))::json; END IF;
  RETURN (sign || mantissa || 'e' || CASE WHEN n < 1 THEN '-' ELSE '+' END || abs(n - 1)::text)::json;
END;
$$;
--> statement-breakpoint
-- The Property of the contract as compact JSON: row_to_json keeps the column order and adds no
-- spaces; json_strip_nulls drops only the optional keys (region, postalCode, caption). Floats
-- print as JavaScript prints them, timestamps too (UTC, milliseconds, "Z"). photo_limit NULL:
-- every photo.
-- (plpgsql, not sql: its statement is then planned once per session, not on every call.)
CREATE FUNCTION stayhub_property_json(pid uuid, photo_limit integer) RETURNS text
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
      p.status,
      CASE WHEN p.review_count = 0 THEN NULL ELSE round(p.rating_sum * 100.0 / p.review_count)::float8 / 100 END AS "ratingAverage",
      p.review_count AS "reviewCount",
      to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt",
      to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "updatedAt"
    FROM properties p JOIN users u ON u.id = p.host_id
    WHERE p.id = pid
  ) d);
END;
$$;
--> statement-breakpoint
-- Renders these properties' documents. Writers of one property's document take turns on its row
-- and render only once they hold it (plpgsql takes a new snapshot per statement), so whoever
-- commits last has seen every change committed before it: no document is left behind a change.
CREATE FUNCTION stayhub_refresh_property_documents(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(ids) = 0 THEN RETURN; END IF;
  -- That takes a new snapshot per statement: under REPEATABLE READ or SERIALIZABLE a render could
  -- miss a change committed while this transaction waited for the row.
  IF current_setting('transaction_isolation') NOT IN ('read committed', 'read uncommitted') THEN
    RAISE EXCEPTION 'property documents are rendered only under READ COMMITTED (this transaction is %)', current_setting('transaction_isolation');
  END IF;
  PERFORM 1 FROM properties WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
  INSERT INTO property_documents (property_id, host_id, status, body, card)
    SELECT id, host_id, status, stayhub_property_json(id, NULL), stayhub_property_json(id, 1)
    FROM properties WHERE id = ANY(ids)
  ON CONFLICT (property_id) DO UPDATE
    SET host_id = excluded.host_id, status = excluded.status, body = excluded.body, card = excluded.card;
END;
$$;
--> statement-breakpoint
-- A listing that a concurrent rename of its host cannot see (a new one, or one moved to that host)
-- first takes the host's row FOR SHARE: a rename in progress finishes before it renders, and a
-- rename that comes later waits for it and then sees it. (Listings the rename can see, it locks.)
CREATE FUNCTION stayhub_property_documents_from_properties() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM 1 FROM users WHERE id IN (SELECT host_id FROM new_rows) ORDER BY id FOR SHARE;
  ELSE
    PERFORM 1 FROM users WHERE id IN (
      SELECT n.host_id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.host_id <> o.host_id
    ) ORDER BY id FOR SHARE;
  END IF;
  PERFORM stayhub_refresh_property_documents(ARRAY(SELECT id FROM new_rows));
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER property_documents_on_insert AFTER INSERT ON properties
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stayhub_property_documents_from_properties();
--> statement-breakpoint
CREATE TRIGGER property_documents_on_update AFTER UPDATE ON properties
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stayhub_property_documents_from_properties();
--> statement-breakpoint
CREATE FUNCTION stayhub_property_documents_from_photos() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM stayhub_refresh_property_documents(ARRAY(SELECT DISTINCT property_id FROM new_rows));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM stayhub_refresh_property_documents(ARRAY(SELECT DISTINCT property_id FROM old_rows));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM stayhub_refresh_property_documents(ARRAY(SELECT property_id FROM new_rows UNION SELECT property_id FROM old_rows));
  ELSE -- TRUNCATE
    PERFORM stayhub_refresh_property_documents(ARRAY(SELECT id FROM properties));
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER property_documents_on_photo_insert AFTER INSERT ON property_photos
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stayhub_property_documents_from_photos();
--> statement-breakpoint
CREATE TRIGGER property_documents_on_photo_update AFTER UPDATE ON property_photos
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stayhub_property_documents_from_photos();
--> statement-breakpoint
CREATE TRIGGER property_documents_on_photo_delete AFTER DELETE ON property_photos
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stayhub_property_documents_from_photos();
--> statement-breakpoint
CREATE TRIGGER property_documents_on_photo_truncate AFTER TRUNCATE ON property_photos
  FOR EACH STATEMENT EXECUTE FUNCTION stayhub_property_documents_from_photos();
--> statement-breakpoint
-- A host's name and avatar are in each of their listings.
CREATE FUNCTION stayhub_property_documents_from_hosts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM stayhub_refresh_property_documents(ARRAY(
    SELECT p.id FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN properties p ON p.host_id = n.id
    WHERE (n.name, n.avatar_url) IS DISTINCT FROM (o.name, o.avatar_url)));
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER property_documents_on_host_update AFTER UPDATE ON users
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stayhub_property_documents_from_hosts();
--> statement-breakpoint
SELECT stayhub_refresh_property_documents(ARRAY(SELECT id FROM properties));
