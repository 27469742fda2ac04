ALTER TABLE "bookings" DROP CONSTRAINT "bookings_money_check";--> statement-breakpoint
ALTER TABLE "bookings" ADD COLUMN "discount_kind" text;--> statement-breakpoint
ALTER TABLE "bookings" ADD COLUMN "discount_percent" smallint;--> statement-breakpoint
ALTER TABLE "bookings" ADD COLUMN "discount_amount" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "bookings" ADD COLUMN "extra_guest_fee" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "bookings" ADD COLUMN "taxes" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "bookings" ADD COLUMN "tax_total" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "bookings" ADD COLUMN "host_payout" integer;--> statement-breakpoint
-- Edited after generation: the bookings made before the rules earn their host the stay and its
-- cleaning less the default host fee (3 %, half up), and only then is the column NOT NULL.
UPDATE "bookings" SET "host_payout" = ("nightly_total" + "cleaning_fee") - ((("nightly_total" + "cleaning_fee")::bigint * 3 + 50) / 100);--> statement-breakpoint
ALTER TABLE "bookings" ALTER COLUMN "host_payout" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "properties" ADD COLUMN "weekend_price" integer;--> statement-breakpoint
ALTER TABLE "properties" ADD COLUMN "weekly_discount_percent" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "properties" ADD COLUMN "monthly_discount_percent" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "properties" ADD COLUMN "guests_included" smallint;--> statement-breakpoint
ALTER TABLE "properties" ADD COLUMN "extra_guest_fee" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "properties" ADD COLUMN "instant_book" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_discount_check" CHECK (("bookings"."discount_kind" is null and "bookings"."discount_percent" is null and "bookings"."discount_amount" = 0) or ("bookings"."discount_kind" in ('weekly', 'monthly') and "bookings"."discount_percent" between 1 and 90));--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_money_check" CHECK ("bookings"."nightly_total" >= 0 and "bookings"."cleaning_fee" >= 0 and "bookings"."service_fee" >= 0 and "bookings"."extra_guest_fee" >= 0 and "bookings"."tax_total" >= 0 and "bookings"."discount_amount" between 0 and "bookings"."nightly_total" and "bookings"."host_payout" between 0 and "bookings"."nightly_total" - "bookings"."discount_amount" + "bookings"."extra_guest_fee" + "bookings"."cleaning_fee" and "bookings"."total" = "bookings"."nightly_total" - "bookings"."discount_amount" + "bookings"."extra_guest_fee" + "bookings"."cleaning_fee" + "bookings"."service_fee" + "bookings"."tax_total");--> statement-breakpoint
ALTER TABLE "properties" ADD CONSTRAINT "properties_rules_check" CHECK (coalesce("properties"."weekend_price", 0) >= 0 and "properties"."extra_guest_fee" >= 0 and "properties"."weekly_discount_percent" between 0 and 90 and "properties"."monthly_discount_percent" between 0 and 90 and coalesce("properties"."guests_included", 1) between 1 and "properties"."max_guests");