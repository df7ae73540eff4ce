CREATE TABLE `checkpoints` (
	`board_id` text NOT NULL,
	`seq` integer NOT NULL,
	`data` blob NOT NULL,
	`bytes` integer NOT NULL,
	`element_count` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`board_id`, `seq`),
	FOREIGN KEY (`board_id`) REFERENCES `boards`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `history_ops` (
	`board_id` text NOT NULL,
	`seq` integer NOT NULL,
	`author_id` text NOT NULL,
	`author_name` text NOT NULL,
	`data` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`board_id`, `seq`),
	FOREIGN KEY (`board_id`) REFERENCES `boards`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `named_versions` (
	`id` text PRIMARY KEY NOT NULL,
	`board_id` text NOT NULL,
	`seq` integer NOT NULL,
	`name` text NOT NULL,
	`created_by` text NOT NULL,
	`created_by_name` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`board_id`) REFERENCES `boards`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `named_versions_board_seq` ON `named_versions` (`board_id`,`seq`);