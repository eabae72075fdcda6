-- Create "sessions" table
CREATE TABLE `sessions` (`id` uuid NOT NULL, `token_hash` text NOT NULL, `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `revoked_at` datetime NULL, `user_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `sessions_users_sessions` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "session_token_hash" to table: "sessions"
CREATE UNIQUE INDEX `session_token_hash` ON `sessions` (`token_hash`);
-- Create index "session_user_id_expires_at" to table: "sessions"
CREATE INDEX `session_user_id_expires_at` ON `sessions` (`user_id`, `expires_at`);
