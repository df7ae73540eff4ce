import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const boards = sqliteTable('boards', {
  id: text('id').primaryKey(),
  title: text('title').notNull(),
  /** Seq of the last op applied; the next op gets seq + 1. */
  seq: integer('seq').notNull().default(0),
  elementCount: integer('element_count').notNull().default(0),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});
export type BoardRow = typeof boards.$inferSelect;

/** The current elements of each board: one row per live element, its JSON as the protocol defines it. */
export const elements = sqliteTable(
  'elements',
  {
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    data: text('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.boardId, t.id] })],
);

/** Applied ops in server order, kept for resume and de-duplication (trimmed to a retention). */
export const ops = sqliteTable(
  'ops',
  {
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    opId: text('op_id').notNull(),
    authorId: text('author_id').notNull(),
    authorName: text('author_name').notNull(),
    data: text('data').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.boardId, t.seq] }), uniqueIndex('ops_board_op_id').on(t.boardId, t.opId)],
);

export const chatMessages = sqliteTable(
  'chat_messages',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    userId: text('user_id').notNull(),
    userName: text('user_name').notNull(),
    userColor: text('user_color').notNull(),
    text: text('text').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('chat_board_id').on(t.boardId, t.id)],
);
