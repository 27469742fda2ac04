-- The relay is woken by the application after each commit that enqueued jobs (src/db/after-commit.ts,
-- src/jobs/outbox.ts), no longer by a NOTIFY inside the enqueuing transaction: a transaction that
-- NOTIFYs takes a database-wide lock from its commit until it ends, so every booking (which
-- enqueues its jobs) queued behind every other one's commit. One coalesced NOTIFY per process in
-- flight at a time wakes the relays just the same.
DROP TRIGGER IF EXISTS outbox_notify ON outbox;--> statement-breakpoint
DROP FUNCTION IF EXISTS stayhub_outbox_notify();
