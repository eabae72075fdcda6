-- Create "events" table
CREATE TABLE "events" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "name" character varying NOT NULL, "properties" jsonb NULL, "occurred_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "event_name_occurred_at" to table: "events"
CREATE INDEX "event_name_occurred_at" ON "events" ("name", "occurred_at");
-- Create index "event_occurred_at" to table: "events"
CREATE INDEX "event_occurred_at" ON "events" ("occurred_at");
-- Create index "event_user_id_occurred_at" to table: "events"
CREATE INDEX "event_user_id_occurred_at" ON "events" ("user_id", "occurred_at");
