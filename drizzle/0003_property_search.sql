DROP INDEX "properties_host_idx";--> statement-breakpoint
DROP INDEX "properties_city_idx";--> statement-breakpoint
DROP INDEX "properties_price_idx";--> statement-breakpoint
ALTER TABLE "properties" ADD COLUMN "search_text" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector('simple', coalesce("properties"."title", '')), 'A') || setweight(to_tsvector('simple', coalesce("properties"."city", '')), 'A') || setweight(to_tsvector('simple', coalesce("properties"."description", '')), 'B')) STORED;--> statement-breakpoint
CREATE INDEX "properties_location_idx" ON "properties" USING gist (point("lng", "lat")) WHERE "properties"."status" = 'listed';--> statement-breakpoint
CREATE INDEX "properties_search_idx" ON "properties" USING gin ("search_text") WITH (fastupdate=false) WHERE "properties"."status" = 'listed';--> statement-breakpoint
CREATE INDEX "properties_recommended_idx" ON "properties" USING btree (((("rating_sum" * 100 + 1750) / ("review_count" + 5))::int),"id") WHERE "properties"."status" = 'listed';--> statement-breakpoint
CREATE INDEX "properties_rating_idx" ON "properties" USING btree (((case when "review_count" = 0 then -1 else "rating_sum" * 100 / "review_count" end)::int),"id") WHERE "properties"."status" = 'listed';--> statement-breakpoint
CREATE INDEX "properties_newest_idx" ON "properties" USING btree ("created_at","id") WHERE "properties"."status" = 'listed';--> statement-breakpoint
CREATE INDEX "properties_host_idx" ON "properties" USING btree ("host_id","created_at","id");--> statement-breakpoint
CREATE INDEX "properties_city_idx" ON "properties" USING btree (lower("city"),"price_per_night") WHERE "properties"."status" = 'listed';--> statement-breakpoint
CREATE INDEX "properties_price_idx" ON "properties" USING btree ("price_per_night","id") WHERE "properties"."status" = 'listed';