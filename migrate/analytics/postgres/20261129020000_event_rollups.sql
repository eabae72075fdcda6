-- Per-hour rollups of the events, kept current by statement-level triggers (hand-written;
-- atlas does not model triggers, so a planned Down drops the tables and leaves the functions
-- and triggers, which then do nothing; migrate/analytics/unmapped.txt keeps the tables out of
-- generated diffs). event_hour_counts holds the events per UTC hour and name, for counts;
-- event_hour_users the events per UTC hour, name and user, for exact unique users.
CREATE TABLE "event_hour_counts" ("hour" timestamptz NOT NULL, "name" character varying NOT NULL, "count" bigint NOT NULL, PRIMARY KEY ("hour", "name"));
CREATE TABLE "event_hour_users" ("hour" timestamptz NOT NULL, "name" character varying NOT NULL, "user_id" uuid NOT NULL, "count" bigint NOT NULL, PRIMARY KEY ("hour", "name", "user_id"));
-- One function for the three triggers: each statement's rows (its transition tables) are
-- grouped by hour, name (and user), and added to the rollups with +1 per inserted row and -1
-- per deleted one. Rows are upserted in key order, users first, so that concurrent writers
-- lock the rows they share in the same order and cannot deadlock on them; the few rows of
-- event_hour_counts that every writer of the hour updates come last, so that each writer
-- holds them only from there to its commit. A group whose count drops to zero is removed,
-- so that every row of event_hour_users is a user with events that hour.
CREATE OR REPLACE FUNCTION "multidb_event_rollup"() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  delta text := CASE TG_OP
    WHEN 'INSERT' THEN 'SELECT occurred_at, name, user_id, 1 AS n FROM rollup_new'
    WHEN 'DELETE' THEN 'SELECT occurred_at, name, user_id, -1 AS n FROM rollup_old'
    ELSE 'SELECT occurred_at, name, user_id, -1 AS n FROM rollup_old UNION ALL SELECT occurred_at, name, user_id, 1 FROM rollup_new'
  END;
BEGIN
  -- A planned Down drops the tables and leaves the triggers (see above): writes go on.
  IF to_regclass('event_hour_counts') IS NULL OR to_regclass('event_hour_users') IS NULL THEN
    RETURN NULL;
  END IF;
  EXECUTE format($q$
    INSERT INTO event_hour_users AS r (hour, name, user_id, count)
    SELECT date_trunc('hour', occurred_at, 'UTC'), name, user_id, sum(n) FROM (%s) d
    GROUP BY 1, 2, 3 HAVING sum(n) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (hour, name, user_id) DO UPDATE SET count = r.count + excluded.count$q$, delta);
  EXECUTE format($q$
    INSERT INTO event_hour_counts AS r (hour, name, count)
    SELECT date_trunc('hour', occurred_at, 'UTC'), name, sum(n) FROM (%s) d
    GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2
    ON CONFLICT (hour, name) DO UPDATE SET count = r.count + excluded.count$q$, delta);
  IF TG_OP <> 'INSERT' THEN
    EXECUTE format($q$
      DELETE FROM event_hour_users r USING (SELECT DISTINCT date_trunc('hour', occurred_at, 'UTC') AS hour, name, user_id FROM (%s) d) k
      WHERE r.hour = k.hour AND r.name = k.name AND r.user_id = k.user_id AND r.count <= 0$q$, delta);
    EXECUTE format($q$
      DELETE FROM event_hour_counts r USING (SELECT DISTINCT date_trunc('hour', occurred_at, 'UTC') AS hour, name FROM (%s) d) k
      WHERE r.hour = k.hour AND r.name = k.name AND r.count <= 0$q$, delta);
  END IF;
  RETURN NULL;
END;
$fn$;
CREATE OR REPLACE FUNCTION "multidb_event_rollup_truncate"() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF to_regclass('event_hour_counts') IS NULL OR to_regclass('event_hour_users') IS NULL THEN
    RETURN NULL;
  END IF;
  TRUNCATE event_hour_counts, event_hour_users;
  RETURN NULL;
END;
$fn$;
DROP TRIGGER IF EXISTS "events_rollup_insert" ON "events";
CREATE TRIGGER "events_rollup_insert" AFTER INSERT ON "events" REFERENCING NEW TABLE AS rollup_new FOR EACH STATEMENT EXECUTE FUNCTION "multidb_event_rollup"();
DROP TRIGGER IF EXISTS "events_rollup_delete" ON "events";
CREATE TRIGGER "events_rollup_delete" AFTER DELETE ON "events" REFERENCING OLD TABLE AS rollup_old FOR EACH STATEMENT EXECUTE FUNCTION "multidb_event_rollup"();
DROP TRIGGER IF EXISTS "events_rollup_update" ON "events";
CREATE TRIGGER "events_rollup_update" AFTER UPDATE ON "events" REFERENCING OLD TABLE AS rollup_old NEW TABLE AS rollup_new FOR EACH STATEMENT EXECUTE FUNCTION "multidb_event_rollup"();
DROP TRIGGER IF EXISTS "events_rollup_truncate" ON "events";
CREATE TRIGGER "events_rollup_truncate" AFTER TRUNCATE ON "events" FOR EACH STATEMENT EXECUTE FUNCTION "multidb_event_rollup_truncate"();
-- The events stored before the triggers: CREATE TRIGGER holds a lock that keeps writers out
-- until this file commits, so none is counted twice or missed.
INSERT INTO "event_hour_counts" ("hour", "name", "count")
  SELECT date_trunc('hour', occurred_at, 'UTC'), name, count(*) FROM events GROUP BY 1, 2;
INSERT INTO "event_hour_users" ("hour", "name", "user_id", "count")
  SELECT date_trunc('hour', occurred_at, 'UTC'), name, user_id, count(*) FROM events GROUP BY 1, 2, 3;
