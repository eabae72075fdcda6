-- Create index "event_user_id_id" to table: "events"
CREATE INDEX "event_user_id_id" ON "events" ("user_id", "id");
