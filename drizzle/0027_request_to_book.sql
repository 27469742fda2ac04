ALTER TABLE "bookings" DROP CONSTRAINT "bookings_status_check";--> statement-breakpoint
ALTER TABLE "payments" DROP CONSTRAINT "payments_status_check";--> statement-breakpoint
ALTER TABLE "sim_charges" DROP CONSTRAINT "sim_charges_status_check";--> statement-breakpoint
DROP INDEX "bookings_active_idx";--> statement-breakpoint
DROP INDEX "payments_one_live_per_booking_key";--> statement-breakpoint
ALTER TABLE "bookings" ADD COLUMN "accepted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "capture_method" text DEFAULT 'automatic' NOT NULL;--> statement-breakpoint
ALTER TABLE "sim_charges" ADD COLUMN "authorized_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "bookings_requested_expiry_idx" ON "bookings" USING btree ("expires_at") WHERE "bookings"."status" = 'requested';--> statement-breakpoint
CREATE INDEX "bookings_active_idx" ON "bookings" USING btree ("property_id","check_out") WHERE "bookings"."status" in ('pending_payment', 'requested', 'confirmed');--> statement-breakpoint
CREATE UNIQUE INDEX "payments_one_live_per_booking_key" ON "payments" USING btree ("booking_id") WHERE "payments"."status" in ('processing', 'authorized', 'succeeded', 'refunded', 'partially_refunded');--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_accepted_check" CHECK ("bookings"."accepted_at" is null or "bookings"."status" in ('requested', 'confirmed', 'completed', 'cancelled', 'expired'));--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_status_check" CHECK ("bookings"."status" in ('pending_payment', 'requested', 'confirmed', 'completed', 'expired', 'cancelled', 'declined'));--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_capture_method_check" CHECK ("payments"."capture_method" in ('automatic', 'manual'));--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_status_check" CHECK ("payments"."status" in ('processing', 'authorized', 'succeeded', 'failed', 'voided', 'refunded', 'partially_refunded'));--> statement-breakpoint
ALTER TABLE "sim_charges" ADD CONSTRAINT "sim_charges_status_check" CHECK ("sim_charges"."status" in ('authorized', 'succeeded', 'failed', 'voided'));