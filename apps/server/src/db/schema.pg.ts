import { bigint, customType, index, integer, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';

// The PostgreSQL twin of ./schema.ts: same tables, columns, keys and indexes, so both stores hold the
// same rows. Millisecond times and seqs do not fit in 32 bits, hence bigint (read back as numbers).

export const users = pgTable('users', {
  id: text('id').primaryKey(),
  /** Lower-case, unique. */
  username: text('username').notNull().unique(),
  /** `scrypt$N$r$p$salt$hash`: the parameters travel with the hash so they can be raised later. */
  passwordHash: text('password_hash').notNull(),
  name: text('name').notNull(),
  color: text('color').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
});

/** Server-side sessions; only the SHA-256 of the cookie value is stored. */
export const sessions = pgTable(
  'sessions',
  {
    idHash: text('id_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    lastSeenAt: bigint('last_seen_at', { mode: 'number' }).notNull(),
    /** Absolute expiry; idle expiry is lastSeenAt + the idle timeout. */
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('sessions_user').on(t.userId)],
);

/** API tokens for scripts; only the SHA-256 of the token is stored. */
export const apiTokens = pgTable(
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
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    lastUsedAt: bigint('last_used_at', { mode: 'number' }),
  },
  (t) => [index('api_tokens_user').on(t.userId)],
);

export const boards = pgTable(
  'boards',
  {
    id: text('id').primaryKey(),
    title: text('title').notNull(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Seq of the last op applied; the next op gets seq + 1. */
    seq: bigint('seq', { mode: 'number' }).notNull().default(0),
    elementCount: integer('element_count').notNull().default(0),
    /** Points and UTF-8 bytes of element JSON on the board (its budget; the owner's quota sums the bytes). */
    elementPoints: bigint('element_points', { mode: 'number' }).notNull().default(0),
    elementBytes: bigint('element_bytes', { mode: 'number' }).notNull().default(0),
    /** UTF-8 bytes of op JSON in the board's log (trimmed to a byte budget as well as a count). */
    logBytes: bigint('log_bytes', { mode: 'number' }).notNull().default(0),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('boards_owner').on(t.ownerId)],
);

/** The current elements of each board: one row per live element, its JSON as the protocol defines it. */
export const elements = pgTable(
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
export const ops = pgTable(
  'ops',
  {
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    opId: text('op_id').notNull(),
    authorId: text('author_id').notNull(),
    authorName: text('author_name').notNull(),
    data: text('data').notNull(),
    /** UTF-8 bytes of `data`. */
    bytes: integer('bytes').notNull().default(0),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.boardId, t.seq] }), uniqueIndex('ops_board_op_id').on(t.boardId, t.opId)],
);

/**
 * Ids of ops trimmed from the op log, with the seq each got: a client that resends an op after the
 * log no longer holds it (its acknowledgement was lost, and it came back later) is answered with
 * that seq instead of the op being applied twice. Kept for the last OP_ID_MEMORY seqs of a board.
 */
export const trimmedOps = pgTable(
  'trimmed_ops',
  {
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    opId: text('op_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.boardId, t.opId] }), index('trimmed_ops_board_seq').on(t.boardId, t.seq)],
);

export const chatMessages = pgTable(
  'chat_messages',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    userId: text('user_id').notNull(),
    userName: text('user_name').notNull(),
    userColor: text('user_color').notNull(),
    text: text('text').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('chat_board_id').on(t.boardId, t.id)],
);

/** Who may open a board, and as what. The owner is a member with role `owner`. */
export const boardMembers = pgTable(
  'board_members',
  {
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ['owner', 'editor', 'viewer'] }).notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.boardId, t.userId] }), index('board_members_user').on(t.userId)],
);

/** Share links: whoever signs in and opens one becomes a member with its role. Only the code's hash is stored. */
export const shareLinks = pgTable(
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
    expiresAt: bigint('expires_at', { mode: 'number' }),
    /** How many people may join through it; null: no limit. */
    maxUses: integer('max_uses'),
    /** How many have joined (or been promoted) through it. */
    uses: integer('uses').notNull().default(0),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('share_links_board').on(t.boardId)],
);

/**
 * People the owner removed from a board: share links no longer let them back in, until the owner
 * readmits them (`share.readmit`).
 */
export const boardRemovals = pgTable(
  'board_removals',
  {
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    removedAt: bigint('removed_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.boardId, t.userId] })],
);

/** Bytes as PostgreSQL's `bytea`, read back as a Buffer. */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/** Image files (issue 15), stored once per content (see ./schema.ts). */
export const files = pgTable('files', {
  hash: text('hash').primaryKey(),
  mime: text('mime').notNull(),
  width: integer('width').notNull(),
  height: integer('height').notNull(),
  bytes: integer('bytes').notNull(),
  data: bytea('data').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
});

/** Which board may use which file (see ./schema.ts). */
export const boardFiles = pgTable(
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
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.boardId, t.hash] }), index('board_files_hash').on(t.hash), index('board_files_uploader').on(t.uploadedBy)],
);

/** Version history (issue 16): full states every so often (see ./schema.ts). */
export const checkpoints = pgTable(
  'checkpoints',
  {
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    data: bytea('data').notNull(),
    bytes: integer('bytes').notNull(),
    elementCount: integer('element_count').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.boardId, t.seq] })],
);

/** Ops older than the resume log keeps (see ./schema.ts). */
export const historyOps = pgTable(
  'history_ops',
  {
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    authorId: text('author_id').notNull(),
    authorName: text('author_name').notNull(),
    data: text('data').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.boardId, t.seq] })],
);

/** Named versions (see ./schema.ts). */
export const namedVersions = pgTable(
  'named_versions',
  {
    id: text('id').primaryKey(),
    boardId: text('board_id')
      .notNull()
      .references(() => boards.id, { onDelete: 'cascade' }),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    name: text('name').notNull(),
    createdBy: text('created_by').notNull(),
    createdByName: text('created_by_name').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('named_versions_board_seq').on(t.boardId, t.seq)],
);

/** Public links (issue 18): see ./schema.ts. */
export const publicLinks = pgTable('public_links', {
  boardId: text('board_id')
    .primaryKey()
    .references(() => boards.id, { onDelete: 'cascade' }),
  id: text('id').notNull(),
  role: text('role', { enum: ['editor', 'viewer'] }).notNull(),
  codeHash: text('code_hash').notNull().unique(),
  allowChat: integer('allow_chat').notNull().default(1),
  embedOrigins: text('embed_origins').notNull().default('[]'),
  createdBy: text('created_by').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
});

/** Guests who joined through a board's public link: see ./schema.ts. */
export const guests = pgTable(
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
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    lastSeenAt: bigint('last_seen_at', { mode: 'number' }).notNull(),
    removedAt: bigint('removed_at', { mode: 'number' }),
    claimedBy: text('claimed_by'),
  },
  (t) => [index('guests_board').on(t.boardId, t.linkId)],
);
