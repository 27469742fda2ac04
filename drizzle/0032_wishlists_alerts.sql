CREATE TABLE "alerts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"property_id" uuid NOT NULL,
	"check_in" date NOT NULL,
	"check_out" date NOT NULL,
	"guests" integer NOT NULL,
	"status" text DEFAULT 'waiting' NOT NULL,
	"notified_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "alerts_status_check" CHECK ("alerts"."status" in ('waiting', 'notified', 'expired')),
	CONSTRAINT "alerts_stay_check" CHECK ("alerts"."check_out" > "alerts"."check_in"),
	CONSTRAINT "alerts_guests_check" CHECK ("alerts"."guests" >= 1),
	CONSTRAINT "alerts_notified_check" CHECK (("alerts"."status" = 'notified') = ("alerts"."notified_at" is not null))
);
--> statement-breakpoint
CREATE TABLE "wishlist_properties" (
	"wishlist_id" uuid NOT NULL,
	"property_id" uuid NOT NULL,
	"saved_at" timestamp with time zone NOT NULL,
	CONSTRAINT "wishlist_properties_wishlist_id_property_id_pk" PRIMARY KEY("wishlist_id","property_id")
);
--> statement-breakpoint
CREATE TABLE "wishlists" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_property_id_properties_id_fk" FOREIGN KEY ("property_id") REFERENCES "public"."properties"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wishlist_properties" ADD CONSTRAINT "wishlist_properties_wishlist_id_wishlists_id_fk" FOREIGN KEY ("wishlist_id") REFERENCES "public"."wishlists"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wishlist_properties" ADD CONSTRAINT "wishlist_properties_property_id_properties_id_fk" FOREIGN KEY ("property_id") REFERENCES "public"."properties"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wishlists" ADD CONSTRAINT "wishlists_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alerts_user_idx" ON "alerts" USING btree ("user_id","created_at","id");--> statement-breakpoint
CREATE INDEX "alerts_waiting_idx" ON "alerts" USING gist ("property_id",daterange("check_in", "check_out")) WHERE "alerts"."status" = 'waiting';--> statement-breakpoint
CREATE INDEX "alerts_waiting_check_in_idx" ON "alerts" USING btree ("check_in") WHERE "alerts"."status" = 'waiting';--> statement-breakpoint
CREATE INDEX "wishlist_properties_page_idx" ON "wishlist_properties" USING btree ("wishlist_id","saved_at","property_id");--> statement-breakpoint
CREATE INDEX "wishlists_user_idx" ON "wishlists" USING btree ("user_id","created_at","id");--> statement-breakpoint
-- Nights freed at a property (or its terms eased) while alerts wait for some of them: an
-- alerts.check job, in the transaction of the change, for the property and the nights freed
-- (null bounds: every night). Nothing is written when no alert waits there, so the write paths
-- pay one index probe. The job (src/modules/wishlists/alerts.ts) judges the alerts afterwards,
-- outside the change's transaction. `p_key`: the job's dedupe key (a booking leaves a holding
-- status once), or null.
CREATE OR REPLACE FUNCTION stayhub_alerts_freed(p_property uuid, p_from date, p_to date, p_at timestamptz, p_key text)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO outbox (type, payload, run_at, dedupe_key)
    SELECT 'alerts.check', jsonb_build_object('propertyId', p_property, 'from', p_from, 'to', p_to), p_at, p_key
    WHERE EXISTS (
      SELECT 1 FROM alerts a
      WHERE a.property_id = p_property AND a.status = 'waiting'
        AND daterange(a.check_in, a.check_out) && daterange(p_from, p_to)
    )
    ON CONFLICT (dedupe_key) DO NOTHING;
$$;--> statement-breakpoint
-- A booking that stops holding its nights (cancelled, declined, expired — by whichever path: a
-- verb, the sweep, a payment that failed, a suspension, an account deletion). A stay completed
-- frees nights that are past.
CREATE OR REPLACE FUNCTION stayhub_booking_nights_freed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM stayhub_alerts_freed(NEW.property_id, NEW.check_in, NEW.check_out, NEW.updated_at,
    'alerts:booking:' || NEW.id || ':' || NEW.status);
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER bookings_nights_freed AFTER UPDATE OF status ON bookings FOR EACH ROW
  WHEN (OLD.status IN ('pending_payment', 'requested', 'confirmed')
    AND NEW.status NOT IN ('pending_payment', 'requested', 'confirmed', 'completed'))
  EXECUTE FUNCTION stayhub_booking_nights_freed();--> statement-breakpoint
-- A listing listed again (by its host, or by its host's unsuspension), or its rules eased: fewer
-- minimum nights, more maximum nights, more guests.
CREATE OR REPLACE FUNCTION stayhub_listing_eased() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM stayhub_alerts_freed(NEW.id, NULL, NULL, NEW.updated_at, NULL);
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER properties_listing_eased AFTER UPDATE ON properties FOR EACH ROW
  WHEN ((NEW.status = 'listed' AND OLD.status <> 'listed')
    OR NEW.min_nights < OLD.min_nights OR NEW.max_nights > OLD.max_nights OR NEW.max_guests > OLD.max_guests)
  EXECUTE FUNCTION stayhub_listing_eased();
