-- A request to book holds its nights like an unpaid hold does: the exclusion constraint names it.
ALTER TABLE "bookings" DROP CONSTRAINT "bookings_no_overlap";--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_no_overlap"
  EXCLUDE USING gist ("property_id" WITH =, daterange("check_in", "check_out") WITH &&)
  WHERE ("status" IN ('pending_payment', 'requested', 'confirmed'));--> statement-breakpoint
-- A payment's status only moves forward: an authorization voided is never captured, a capture is
-- never voided, money taken never goes back to processing. The service moves a payment only from
-- the state it expects; this is the last line of defence (SQLSTATE 23514).
CREATE OR REPLACE FUNCTION stayhub_payment_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT (
    (OLD.status = 'processing' AND NEW.status IN ('authorized', 'succeeded', 'failed', 'voided'))
    OR (OLD.status = 'authorized' AND NEW.status IN ('succeeded', 'voided'))
    OR (OLD.status IN ('succeeded', 'partially_refunded') AND NEW.status IN ('partially_refunded', 'refunded'))
  ) THEN
    RAISE EXCEPTION 'payment % may not go from % to %', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation', CONSTRAINT = 'payments_status_transition';
  END IF;
  RETURN NEW;
END;
$$;--> statement-breakpoint
CREATE TRIGGER payments_status_transition BEFORE UPDATE OF status ON payments
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION stayhub_payment_transition();--> statement-breakpoint
-- A request that ends otherwise than confirmed (declined, expired, cancelled, by whichever path:
-- a verb, the sweep, a suspension, an account deletion) releases its authorization in the same
-- transaction: the payment is voided, and the provider told by a payment.void job.
CREATE OR REPLACE FUNCTION stayhub_request_ended() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  WITH voided AS (
    UPDATE payments SET status = 'voided', updated_at = NEW.updated_at
      WHERE booking_id = NEW.id AND status = 'authorized'
      RETURNING id
  )
  INSERT INTO outbox (type, payload, run_at, dedupe_key)
    SELECT 'payment.void', jsonb_build_object('paymentId', v.id), NEW.updated_at, 'payment:' || v.id || ':void'
    FROM voided v
    ON CONFLICT (dedupe_key) DO NOTHING;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER bookings_request_ended AFTER UPDATE OF status ON bookings FOR EACH ROW
  WHEN (OLD.status = 'requested' AND NEW.status NOT IN ('requested', 'confirmed'))
  EXECUTE FUNCTION stayhub_request_ended();
