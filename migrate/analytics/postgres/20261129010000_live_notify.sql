-- Wake the subscriptions of every replica when events are committed: one NOTIFY per
-- statement, delivered at commit (hand-written; atlas does not model triggers,
-- so a planned Down leaves them: the statements may run again).
CREATE OR REPLACE FUNCTION "multidb_live_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('multidb_live_' || TG_TABLE_NAME, '');
  RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS "events_live_notify" ON "events";
CREATE TRIGGER "events_live_notify" AFTER INSERT ON "events" FOR EACH STATEMENT EXECUTE FUNCTION "multidb_live_notify"();
