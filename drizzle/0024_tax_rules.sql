CREATE TABLE "tax_rules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"country" text NOT NULL,
	"city" text,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"value" integer NOT NULL,
	"base" text DEFAULT 'nights' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tax_rules_country_check" CHECK ("tax_rules"."country" ~ '^[A-Z]{2}$'),
	CONSTRAINT "tax_rules_kind_check" CHECK ("tax_rules"."kind" in ('percent', 'per_night', 'per_guest_per_night', 'per_stay')),
	CONSTRAINT "tax_rules_base_check" CHECK ("tax_rules"."base" in ('nights', 'nights_and_cleaning')),
	CONSTRAINT "tax_rules_value_check" CHECK ("tax_rules"."value" >= 0 and ("tax_rules"."kind" <> 'percent' or "tax_rules"."value" <= 100))
);
--> statement-breakpoint
ALTER TABLE "admin_audit" DROP CONSTRAINT "admin_audit_action_check";--> statement-breakpoint
ALTER TABLE "admin_audit" DROP CONSTRAINT "admin_audit_target_check";--> statement-breakpoint
CREATE INDEX "tax_rules_place_idx" ON "tax_rules" USING btree ("country",lower("city"));--> statement-breakpoint
ALTER TABLE "admin_audit" ADD CONSTRAINT "admin_audit_action_check" CHECK ("admin_audit"."action" in ('user.suspend', 'user.unsuspend', 'property.unlist', 'tax_rule.create', 'tax_rule.delete'));--> statement-breakpoint
ALTER TABLE "admin_audit" ADD CONSTRAINT "admin_audit_target_check" CHECK ("admin_audit"."target_type" in ('user', 'property', 'tax_rule'));