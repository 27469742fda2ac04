-- Wake the relay when outbox rows commit: one NOTIFY per inserting statement (PostgreSQL also
-- folds identical notifications within a transaction), instead of a round trip per enqueued job.
CREATE OR REPLACE FUNCTION stayhub_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('stayhub_outbox', '');
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION stayhub_outbox_notify();
