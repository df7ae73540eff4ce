CREATE TABLE `trimmed_ops` (
	`board_id` text NOT NULL,
	`op_id` text NOT NULL,
	`seq` integer NOT NULL,
	PRIMARY KEY(`board_id`, `op_id`),
	FOREIGN KEY (`board_id`) REFERENCES `boards`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `trimmed_ops_board_seq` ON `trimmed_ops` (`board_id`,`seq`);