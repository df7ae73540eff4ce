CREATE TABLE `board_removals` (
	`board_id` text NOT NULL,
	`user_id` text NOT NULL,
	`removed_at` integer NOT NULL,
	PRIMARY KEY(`board_id`, `user_id`),
	FOREIGN KEY (`board_id`) REFERENCES `boards`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `share_links` ADD `expires_at` integer;--> statement-breakpoint
ALTER TABLE `share_links` ADD `max_uses` integer;--> statement-breakpoint
ALTER TABLE `share_links` ADD `uses` integer DEFAULT 0 NOT NULL;