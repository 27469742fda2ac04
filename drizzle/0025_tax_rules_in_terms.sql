-- Occupancy-tax rules (0024) are terms of a stay: a booking priced before a rule of its listing's
-- country or city was added or deleted is priced again (a rule applies to bookings made after it).
CREATE OR REPLACE FUNCTION stayhub_terms_version(p_property uuid, p_from date, p_to date) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT md5(concat_ws('|', p.status, p.host_id, p.price_per_night, p.cleaning_fee, p.currency, p.max_guests,
    p.min_nights, p.max_nights, p.cancellation_policy, p.weekend_price, p.weekly_discount_percent,
    p.monthly_discount_percent, p.guests_included, p.extra_guest_fee, p.instant_book,
    (SELECT string_agg(concat_ws(':', d.day, d.blocked, d.price), ',' ORDER BY d.day)
       FROM calendar_days d WHERE d.property_id = p.id AND d.day >= p_from AND d.day < p_to),
    (SELECT string_agg(concat_ws(':', r.id, r.name, r.kind, r.value, r.base), ',' ORDER BY r.created_at, r.id)
       FROM tax_rules r WHERE r.country = p.country AND (r.city IS NULL OR lower(r.city) = lower(p.city)))))
  FROM properties p WHERE p.id = p_property);
END;
$$;
