-- Custom SQL migration file, put your code below! --
-- Backfill of 0002's columns for boards stored before it: bytes of each op and of the log, points and bytes of the elements.
UPDATE "ops" SET "bytes" = octet_length("data");--> statement-breakpoint
UPDATE "boards" SET
  "log_bytes" = (SELECT coalesce(sum("bytes"), 0) FROM "ops" WHERE "ops"."board_id" = "boards"."id"),
  "element_bytes" = (SELECT coalesce(sum(octet_length("data")), 0) FROM "elements" WHERE "elements"."board_id" = "boards"."id"),
  "element_points" = (SELECT coalesce(sum(coalesce(json_array_length(("data"::json) -> 'points'), 0)), 0) FROM "elements" WHERE "elements"."board_id" = "boards"."id");
