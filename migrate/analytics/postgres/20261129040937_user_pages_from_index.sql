-- Create index "event_user_id_occurred_at_id" to table: "events"
CREATE INDEX "event_user_id_occurred_at_id" ON "events" ("user_id", "occurred_at", "id") INCLUDE ("name");
-- Drop index "event_user_id_occurred_at" from table: "events"
DROP INDEX "event_user_id_occurred_at";
