-- Create "users" table
CREATE TABLE `users` (`id` uuid NOT NULL, `email` text NOT NULL, `name` text NOT NULL, `role` text NOT NULL DEFAULT ('USER'), `password_hash` text NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "user_email" to table: "users"
CREATE UNIQUE INDEX `user_email` ON `users` (`email`);
