-- Drop index "event_name_occurred_at_id" from table: "events"
DROP INDEX "event_name_occurred_at_id";
-- Create index "event_name_occurred_at_id" to table: "events"
CREATE INDEX "event_name_occurred_at_id" ON "events" ("name", "occurred_at", "id") INCLUDE ("user_id");
