CREATE TABLE "board_removals" (
	"board_id" text NOT NULL,
	"user_id" text NOT NULL,
	"removed_at" bigint NOT NULL,
	CONSTRAINT "board_removals_board_id_user_id_pk" PRIMARY KEY("board_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "share_links" ADD COLUMN "expires_at" bigint;--> statement-breakpoint
ALTER TABLE "share_links" ADD COLUMN "max_uses" integer;--> statement-breakpoint
ALTER TABLE "share_links" ADD COLUMN "uses" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "board_removals" ADD CONSTRAINT "board_removals_board_id_boards_id_fk" FOREIGN KEY ("board_id") REFERENCES "public"."boards"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "board_removals" ADD CONSTRAINT "board_removals_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;