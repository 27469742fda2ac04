CREATE TABLE "payment_reconciliations" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"ran_at" timestamp with time zone DEFAULT now() NOT NULL,
	"mismatches" integer NOT NULL,
	"report" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sim_charges" (
	"key" text PRIMARY KEY NOT NULL,
	"charge_id" text NOT NULL,
	"reference" text NOT NULL,
	"amount" integer NOT NULL,
	"currency" text NOT NULL,
	"payment_method" text NOT NULL,
	"status" text NOT NULL,
	"failure_code" text,
	"refunded" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sim_charges_status_check" CHECK ("sim_charges"."status" in ('succeeded', 'failed')),
	CONSTRAINT "sim_charges_refunded_check" CHECK ("sim_charges"."refunded" between 0 and (case when "sim_charges"."status" = 'succeeded' then "sim_charges"."amount" else 0 end))
);
--> statement-breakpoint
CREATE TABLE "sim_refunds" (
	"key" text PRIMARY KEY NOT NULL,
	"refund_id" text NOT NULL,
	"charge_id" text NOT NULL,
	"amount" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sim_refunds_amount_check" CHECK ("sim_refunds"."amount" > 0)
);
--> statement-breakpoint
DROP INDEX "refunds_booking_key";--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "disputed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "key" text NOT NULL;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "provider_key" text NOT NULL;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "failure_code" text;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD COLUMN "outcome" text DEFAULT 'applied' NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "sim_charges_charge_id_key" ON "sim_charges" USING btree ("charge_id");--> statement-breakpoint
CREATE INDEX "sim_charges_created_idx" ON "sim_charges" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "sim_refunds_charge_idx" ON "sim_refunds" USING btree ("charge_id");--> statement-breakpoint
CREATE UNIQUE INDEX "refunds_key" ON "refunds" USING btree ("key");--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_reason_check" CHECK ("refunds"."reason" in ('cancellation', 'not_held'));--> statement-breakpoint
ALTER TABLE "sim_refunds" ADD CONSTRAINT "sim_refunds_charge_id_sim_charges_charge_id_fk" FOREIGN KEY ("charge_id") REFERENCES "public"."sim_charges"("charge_id") ON DELETE no action ON UPDATE no action;