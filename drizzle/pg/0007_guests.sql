CREATE TABLE "guests" (
	"id" text PRIMARY KEY NOT NULL,
	"board_id" text NOT NULL,
	"link_id" text NOT NULL,
	"name" text NOT NULL,
	"color" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" bigint NOT NULL,
	"last_seen_at" bigint NOT NULL,
	"removed_at" bigint,
	"claimed_by" text,
	CONSTRAINT "guests_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "public_links" (
	"board_id" text PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"role" text NOT NULL,
	"code_hash" text NOT NULL,
	"allow_chat" integer DEFAULT 1 NOT NULL,
	"embed_origins" text DEFAULT '[]' NOT NULL,
	"created_by" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "public_links_code_hash_unique" UNIQUE("code_hash")
);
--> statement-breakpoint
ALTER TABLE "guests" ADD CONSTRAINT "guests_board_id_boards_id_fk" FOREIGN KEY ("board_id") REFERENCES "public"."boards"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "public_links" ADD CONSTRAINT "public_links_board_id_boards_id_fk" FOREIGN KEY ("board_id") REFERENCES "public"."boards"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "guests_board" ON "guests" USING btree ("board_id","link_id");