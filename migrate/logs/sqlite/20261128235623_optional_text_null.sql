-- Optional text fields are nullable in the graph now (ent Nillable): an empty string written
-- before meant "not set", so it becomes null. Written by hand, re-signed with migrate hash.
UPDATE "log_entries" SET "request_id" = NULL WHERE "request_id" = '';
UPDATE "audit_entries" SET "role" = NULL WHERE "role" = '';
UPDATE "audit_entries" SET "target" = NULL WHERE "target" = '';
UPDATE "audit_entries" SET "request_id" = NULL WHERE "request_id" = '';
