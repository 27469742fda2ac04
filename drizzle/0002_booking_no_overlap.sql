-- No two bookings that hold nights (pending_payment, confirmed) of one property may overlap, under any
-- concurrency: the database refuses the second one with SQLSTATE 23P01. checkOut is exclusive, so
-- daterange's default '[)' bounds let one stay end on the day the next begins.
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_no_overlap"
  EXCLUDE USING gist ("property_id" WITH =, daterange("check_in", "check_out") WITH &&)
  WHERE ("status" IN ('pending_payment', 'confirmed'));
