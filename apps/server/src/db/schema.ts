import { blob, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  /** Lower-case, unique. */
  username: text('username').notNull().unique(),
  /** `scrypt$N$r$p$salt$hash`: the parameters travel with the hash so they can be raised later. */
  passwordHash: text('password_hash').notNull(),
  name: text('name').notNull(),
  color: text('color').notNull(),
  createdAt: integer('created_at').notNull(),
});
export type UserRow = typeof users.$inferSelect;

/** Server-side sessions; only the SHA-256 of the cookie value is stored. */
export const sessions = sqliteTable(
  'sessions',
  {
    idHash: text('id_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
    /** Absolute expiry; idle expiry is lastSeenAt + the idle timeout. */
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('sessions_user').on(t.userId)],
);

/** API tokens for scripts; only the SHA-256 of the token is stored. */
export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** The first characters of the token, shown in lists to recognise it. */
    prefix: text('prefix').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: integer('created_at').notNull(),
    lastUsedAt: integer('last_used_at'),
  },
  (t) => [index('api_tokens_user').on(t.userId)],
);

export const boards = sqliteTable(
  'boards',
  {
    id: text('id').primaryKey(),
    title: text('title').notNull(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Seq of the last op applied; the next op gets seq + 1. */
    seq: integer('seq').notNull().default(0),
    elementCount: integer('element_count').notNull().default(0),
    /** Points and UTF-8 bytes of element JSON on the board (its budget; the owner's quota sums the bytes). */
    elementPoints: integer('element_points').notNull().default(0),
    elementBytes: integer('element_bytes').notNull().default(0),
    /** UTF-8 bytes of op JSON in the board's log (trimmed to a byte budget as well as a count). */
    logBytes: integer('log_bytes').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('boards_owner').on(t.ownerId)],
);
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
    /** UTF-8 bytes of `data`. */
    bytes: integer('bytes').notNull().default(0),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.boardId, t.seq] }), uniqueIndex('ops_board_op_id').on(t.boardId, t.opId)],
);

/**
 * Ids of ops trimmed from the op log, with the seq each got: a client that resends an op after the
 * log no longer holds it (its acknowledgement was lost, and it came back later) is answered with
 * that seq instead of the op being applied twice. Kept for the last OP_ID_MEMORY seqs of a board.
 */
export const trimmedOps = sqliteTable(
  'trimmed_ops',
  {
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    opId: text('op_id').notNull(),
    seq: integer('seq').notNull(),
  },
  (t) => [primaryKey({ columns: [t.boardId, t.opId] }), index('trimmed_ops_board_seq').on(t.boardId, t.seq)],
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

/** Who may open a board, and as what. The owner is a member with role `owner`. */
export const boardMembers = sqliteTable(
  'board_members',
  {
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ['owner', 'editor', 'viewer'] }).notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.boardId, t.userId] }), index('board_members_user').on(t.userId)],
);

/** Share links: whoever signs in and opens one becomes a member with its role. Only the code's hash is stored. */
export const shareLinks = sqliteTable(
  'share_links',
  {
    id: text('id').primaryKey(),
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ['editor', 'viewer'] }).notNull(),
    codeHash: text('code_hash').notNull().unique(),
    createdBy: text('created_by').notNull(),
    /** When the link stops working; null: until revoked. */
    expiresAt: integer('expires_at'),
    /** How many people may join through it; null: no limit. */
    maxUses: integer('max_uses'),
    /** How many have joined (or been promoted) through it. */
    uses: integer('uses').notNull().default(0),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('share_links_board').on(t.boardId)],
);

/**
 * People the owner removed from a board: share links no longer let them back in, until the owner
 * readmits them (`share.readmit`).
 */
export const boardRemovals = sqliteTable(
  'board_removals',
  {
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    removedAt: integer('removed_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.boardId, t.userId] })],
);

/**
 * Image files (issue 15), stored once per content: `hash` is the SHA-256 (hex) of the re-encoded bytes
 * the server keeps (never of what was uploaded), so identical pictures share one row.
 */
export const files = sqliteTable('files', {
  hash: text('hash').primaryKey(),
  /** `image/png`, `image/jpeg`, `image/webp` or `image/gif`: what the bytes are after re-encoding. */
  mime: text('mime').notNull(),
  width: integer('width').notNull(),
  height: integer('height').notNull(),
  bytes: integer('bytes').notNull(),
  data: blob('data', { mode: 'buffer' }).notNull(),
  createdAt: integer('created_at').notNull(),
});

/**
 * Which board may use which file: a file is served through a board only when it was uploaded to (or
 * pasted into) that board, so knowing a hash gives nothing. Quotas count these rows' bytes per board
 * and per uploader; the clean-up removes rows no element or retained op refers to, then unused files.
 */
export const boardFiles = sqliteTable(
  'board_files',
  {
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    hash: text('hash')
      .notNull()
      .references(() => files.hash, { onDelete: 'cascade' }),
    uploadedBy: text('uploaded_by').notNull(),
    bytes: integer('bytes').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.boardId, t.hash] }), index('board_files_hash').on(t.hash), index('board_files_uploader').on(t.uploadedBy)],
);

/**
 * Version history (issue 16): a board's full state every so often (gzip of the elements' JSON array),
 * from which the state at any seq is the nearest checkpoint at or before it plus the ops after it.
 */
export const checkpoints = sqliteTable(
  'checkpoints',
  {
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    data: blob('data', { mode: 'buffer' }).notNull(),
    /** Bytes of `data` (compressed) and elements in it. */
    bytes: integer('bytes').notNull(),
    elementCount: integer('element_count').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.boardId, t.seq] })],
);

/**
 * Ops older than the resume log keeps (`ops` is trimmed to a retention for resume): moved here when
 * they are trimmed, and thinned by the history retention policy (docs/limits.md).
 */
export const historyOps = sqliteTable(
  'history_ops',
  {
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    authorId: text('author_id').notNull(),
    authorName: text('author_name').notNull(),
    data: text('data').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.boardId, t.seq] })],
);

/** Named versions: a name an editor gave the board's state at `seq`. */
export const namedVersions = sqliteTable(
  'named_versions',
  {
    id: text('id').primaryKey(),
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    name: text('name').notNull(),
    createdBy: text('created_by').notNull(),
    createdByName: text('created_by_name').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('named_versions_board_seq').on(t.boardId, t.seq)],
);

/**
 * Public links (issue 18): at most one per board; whoever opens it picks a name and becomes a guest
 * with its role, no account needed. Only the code's hash is stored. `id` changes when the owner
 * regenerates the link, which ends every guest who joined through the old one.
 */
export const publicLinks = sqliteTable('public_links', {
  boardId: text('board_id')
    .primaryKey()
    .references(() => boards.id, { onDelete: 'cascade' }),
  id: text('id').notNull(),
  role: text('role', { enum: ['editor', 'viewer'] }).notNull(),
  codeHash: text('code_hash').notNull().unique(),
  /** 1: guests may read and send chat; 0: they see none of it. */
  allowChat: integer('allow_chat').notNull().default(1),
  /** JSON array of origins allowed to frame the read-only embed (`[]`: none). */
  embedOrigins: text('embed_origins').notNull().default('[]'),
  createdBy: text('created_by').notNull(),
  createdAt: integer('created_at').notNull(),
});
export type PublicLinkRow = typeof publicLinks.$inferSelect;

/**
 * Guests: people who joined a board through its public link. Each holds a cookie of its own (only
 * the token's SHA-256 is stored) that opens this one board and nothing else, while `linkId` is still
 * the board's link and `removedAt` is null.
 */
export const guests = sqliteTable(
  'guests',
  {
    id: text('id').primaryKey(),
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    linkId: text('link_id').notNull(),
    name: text('name').notNull(),
    color: text('color').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: integer('created_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
    removedAt: integer('removed_at'),
    /** The account that claimed this guest (signed up or in on the same device), if any. */
    claimedBy: text('claimed_by'),
  },
  (t) => [index('guests_board').on(t.boardId, t.linkId)],
);
export type GuestRow = typeof guests.$inferSelect;
