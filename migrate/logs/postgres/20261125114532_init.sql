-- Create "log_entries" table
CREATE TABLE "log_entries" ("id" uuid NOT NULL, "level" character varying NOT NULL DEFAULT 'INFO', "message" character varying NOT NULL, "fields" jsonb NULL, "user_id" uuid NULL, "request_id" character varying NULL, "created_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "logentry_created_at" to table: "log_entries"
CREATE INDEX "logentry_created_at" ON "log_entries" ("created_at");
-- Create index "logentry_level_created_at" to table: "log_entries"
CREATE INDEX "logentry_level_created_at" ON "log_entries" ("level", "created_at");
-- Create index "logentry_request_id" to table: "log_entries"
CREATE INDEX "logentry_request_id" ON "log_entries" ("request_id");
-- Create index "logentry_user_id_created_at" to table: "log_entries"
CREATE INDEX "logentry_user_id_created_at" ON "log_entries" ("user_id", "created_at");
