-- The ledger's own rules, kept by the database whatever writes to it.
-- Every transaction balances: its entries sum to zero per currency, checked at commit (deferred),
-- so a transaction's entries may be inserted in any order and number of statements.
CREATE OR REPLACE FUNCTION stayhub_ledger_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_currency text;
  v_sum bigint;
BEGIN
  SELECT e.currency, sum(e.amount) INTO v_currency, v_sum FROM ledger_entries e
    WHERE e.transaction_id = NEW.transaction_id GROUP BY e.currency HAVING sum(e.amount) <> 0 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger transaction % does not balance: % % left over', NEW.transaction_id, v_sum, v_currency
      USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entries_balanced';
  END IF;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION stayhub_ledger_balanced();--> statement-breakpoint
-- Append-only: a posted transaction or entry is never changed or removed (corrections are new transactions).
CREATE OR REPLACE FUNCTION stayhub_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_append_only';
END;
$$;--> statement-breakpoint
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION stayhub_ledger_append_only();--> statement-breakpoint
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
  FOR EACH ROW EXECUTE FUNCTION stayhub_ledger_append_only();--> statement-breakpoint
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION stayhub_ledger_append_only();--> statement-breakpoint
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION stayhub_ledger_append_only();
