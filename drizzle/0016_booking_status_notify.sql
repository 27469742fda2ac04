-- Live booking status (GraphQL's bookingUpdated): every change of a booking's status NOTIFYs
-- "<id> <status>" on stayhub_booking. PostgreSQL delivers it when the change commits (never for
-- one rolled back), to every instance listening, whichever process or job made the change.
CREATE OR REPLACE FUNCTION stayhub_booking_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('stayhub_booking', NEW.id::text || ' ' || NEW.status);
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER bookings_status_notify AFTER UPDATE OF status ON bookings FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION stayhub_booking_notify();
