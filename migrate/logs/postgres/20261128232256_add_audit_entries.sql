-- Create "audit_entries" table
CREATE TABLE "audit_entries" ("id" uuid NOT NULL, "actor_id" uuid NULL, "role" character varying NULL, "operation" character varying NOT NULL, "outcome" character varying NOT NULL, "target" character varying NULL, "request_id" character varying NULL, "created_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "auditentry_actor_id_created_at" to table: "audit_entries"
CREATE INDEX "auditentry_actor_id_created_at" ON "audit_entries" ("actor_id", "created_at");
-- Create index "auditentry_created_at" to table: "audit_entries"
CREATE INDEX "auditentry_created_at" ON "audit_entries" ("created_at");
