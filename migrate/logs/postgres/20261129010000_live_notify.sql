-- Wake the subscriptions of every replica when log entries are committed: one NOTIFY per
-- statement, delivered at commit (hand-written; atlas does not model triggers,
-- so a planned Down leaves them: the statements may run again).
CREATE OR REPLACE FUNCTION "multidb_live_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('multidb_live_' || TG_TABLE_NAME, '');
  RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS "log_entries_live_notify" ON "log_entries";
CREATE TRIGGER "log_entries_live_notify" AFTER INSERT ON "log_entries" FOR EACH STATEMENT EXECUTE FUNCTION "multidb_live_notify"();
