-- A deleted account receives nothing: a notification written after its deletion (a job queued
-- before it, or retried) is dropped, so no personal text comes back after the erasure.
CREATE OR REPLACE FUNCTION stayhub_drop_notification_of_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM users WHERE id = NEW.user_id AND status = 'deleted') THEN
    RETURN NULL;
  END IF;
  RETURN NEW;
END;
$$;--> statement-breakpoint
CREATE TRIGGER notifications_not_for_deleted BEFORE INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION stayhub_drop_notification_of_deleted();
