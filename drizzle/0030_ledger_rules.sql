-- The ledger's own rules, kept by the database whatever writes to it.
-- Every transaction balances: its entries sum to zero per currency. Checked once per statement
-- that writes entries (a posting writes all of its entries in one), over every transaction the
-- statement touched, whole: an unbalanced posting is refused, and so is a later write that would
-- unbalance a transaction posted before (SQLSTATE 23514).
CREATE OR REPLACE FUNCTION stayhub_ledger_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_transaction uuid;
  v_currency text;
  v_sum bigint;
BEGIN
  SELECT e.transaction_id, e.currency, sum(e.amount) INTO v_transaction, v_currency, v_sum FROM ledger_entries e
    WHERE e.transaction_id IN (SELECT DISTINCT n.transaction_id FROM new_entries n)
    GROUP BY e.transaction_id, e.currency HAVING sum(e.amount) <> 0 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger transaction % does not balance: % % left over', v_transaction, v_sum, v_currency
      USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entries_balanced';
  END IF;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION stayhub_ledger_balanced();--> statement-breakpoint
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
