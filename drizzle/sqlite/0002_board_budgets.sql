ALTER TABLE `boards` ADD `element_points` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `boards` ADD `element_bytes` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `boards` ADD `log_bytes` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `boards_owner` ON `boards` (`owner_id`);--> statement-breakpoint
ALTER TABLE `ops` ADD `bytes` integer DEFAULT 0 NOT NULL;