-- Extensions the schema relies on: btree_gist for the booking exclusion constraint (uuid with =),
-- pg_trgm for text search, cube + earthdistance for geo search. All ship with PostgreSQL and PGlite.
CREATE EXTENSION IF NOT EXISTS btree_gist;--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS cube;--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS earthdistance;
