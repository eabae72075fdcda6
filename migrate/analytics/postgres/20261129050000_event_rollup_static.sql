-- The rollup trigger function of 20261129020000_event_rollups.sql with static statements, one
-- set per kind of statement, in place of statements built with format() and run by EXECUTE:
-- PL/pgSQL plans a static statement once per session and reuses the plan, where EXECUTE
-- parses and plans it again at every write (some 0.5 ms of the 7 ms the rollups add to an
-- INSERT of 1,000 events). What it does is unchanged: each statement's rows are grouped by
-- hour, name (and user) and added to the rollups, +1 per inserted row and -1 per deleted one,
-- users first and in key order, the shared counts last; a group whose count drops to zero is
-- removed. The triggers call the function by name and need no change.
CREATE OR REPLACE FUNCTION "multidb_event_rollup"() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  -- A planned Down drops the tables and leaves the triggers (see 20261129020000): writes go on.
  IF to_regclass('event_hour_counts') IS NULL OR to_regclass('event_hour_users') IS NULL THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO event_hour_users AS r (hour, name, user_id, count)
    SELECT date_trunc('hour', occurred_at, 'UTC'), name, user_id, count(*) FROM rollup_new
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (hour, name, user_id) DO UPDATE SET count = r.count + excluded.count;
    INSERT INTO event_hour_counts AS r (hour, name, count)
    SELECT date_trunc('hour', occurred_at, 'UTC'), name, count(*) FROM rollup_new
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (hour, name) DO UPDATE SET count = r.count + excluded.count;
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN
    INSERT INTO event_hour_users AS r (hour, name, user_id, count)
    SELECT date_trunc('hour', occurred_at, 'UTC'), name, user_id, -count(*) FROM rollup_old
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (hour, name, user_id) DO UPDATE SET count = r.count + excluded.count;
    INSERT INTO event_hour_counts AS r (hour, name, count)
    SELECT date_trunc('hour', occurred_at, 'UTC'), name, -count(*) FROM rollup_old
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (hour, name) DO UPDATE SET count = r.count + excluded.count;
    DELETE FROM event_hour_users r
    USING (SELECT DISTINCT date_trunc('hour', occurred_at, 'UTC') AS hour, name, user_id FROM rollup_old) k
    WHERE r.hour = k.hour AND r.name = k.name AND r.user_id = k.user_id AND r.count <= 0;
    DELETE FROM event_hour_counts r
    USING (SELECT DISTINCT date_trunc('hour', occurred_at, 'UTC') AS hour, name FROM rollup_old) k
    WHERE r.hour = k.hour AND r.name = k.name AND r.count <= 0;
    RETURN NULL;
  END IF;
  -- UPDATE: the old rows out, the new ones in; a group that the statement leaves as it was
  -- sums to zero and is not written.
  INSERT INTO event_hour_users AS r (hour, name, user_id, count)
  SELECT date_trunc('hour', occurred_at, 'UTC'), name, user_id, sum(n) FROM (
    SELECT occurred_at, name, user_id, -1 AS n FROM rollup_old
    UNION ALL SELECT occurred_at, name, user_id, 1 FROM rollup_new) d
  GROUP BY 1, 2, 3 HAVING sum(n) <> 0 ORDER BY 1, 2, 3
  ON CONFLICT (hour, name, user_id) DO UPDATE SET count = r.count + excluded.count;
  INSERT INTO event_hour_counts AS r (hour, name, count)
  SELECT date_trunc('hour', occurred_at, 'UTC'), name, sum(n) FROM (
    SELECT occurred_at, name, -1 AS n FROM rollup_old
    UNION ALL SELECT occurred_at, name, 1 FROM rollup_new) d
  GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2
  ON CONFLICT (hour, name) DO UPDATE SET count = r.count + excluded.count;
  -- Only a group that lost rows can drop to zero: those of the old rows.
  DELETE FROM event_hour_users r
  USING (SELECT DISTINCT date_trunc('hour', occurred_at, 'UTC') AS hour, name, user_id FROM rollup_old) k
  WHERE r.hour = k.hour AND r.name = k.name AND r.user_id = k.user_id AND r.count <= 0;
  DELETE FROM event_hour_counts r
  USING (SELECT DISTINCT date_trunc('hour', occurred_at, 'UTC') AS hour, name FROM rollup_old) k
  WHERE r.hour = k.hour AND r.name = k.name AND r.count <= 0;
  RETURN NULL;
END;
$fn$;
