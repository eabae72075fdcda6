-- Create index "logentry_user_id_id" to table: "log_entries"
CREATE INDEX "logentry_user_id_id" ON "log_entries" ("user_id", "id");
