CREATE TABLE "trimmed_ops" (
	"board_id" text NOT NULL,
	"op_id" text NOT NULL,
	"seq" bigint NOT NULL,
	CONSTRAINT "trimmed_ops_board_id_op_id_pk" PRIMARY KEY("board_id","op_id")
);
--> statement-breakpoint
ALTER TABLE "trimmed_ops" ADD CONSTRAINT "trimmed_ops_board_id_boards_id_fk" FOREIGN KEY ("board_id") REFERENCES "public"."boards"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "trimmed_ops_board_seq" ON "trimmed_ops" USING btree ("board_id","seq");