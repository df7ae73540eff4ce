CREATE TABLE `guests` (
	`id` text PRIMARY KEY NOT NULL,
	`board_id` text NOT NULL,
	`link_id` text NOT NULL,
	`name` text NOT NULL,
	`color` text NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`removed_at` integer,
	`claimed_by` text,
	FOREIGN KEY (`board_id`) REFERENCES `boards`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `guests_token_hash_unique` ON `guests` (`token_hash`);--> statement-breakpoint
CREATE INDEX `guests_board` ON `guests` (`board_id`,`link_id`);--> statement-breakpoint
CREATE TABLE `public_links` (
	`board_id` text PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`role` text NOT NULL,
	`code_hash` text NOT NULL,
	`allow_chat` integer DEFAULT 1 NOT NULL,
	`embed_origins` text DEFAULT '[]' NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`board_id`) REFERENCES `boards`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `public_links_code_hash_unique` ON `public_links` (`code_hash`);