import type { ChatMessage, Element, OpEvent, Role } from '@inkboard/protocol';

/**
 * Everything Inkboard keeps, behind one interface with two implementations: `SqliteStorage` (the
 * embedded default, one process) and `PgStorage` (PostgreSQL, several processes). Both pass the
 * same contract tests (test/storage.test.ts). Times are epoch milliseconds.
 */

export interface UserRecord {
  id: string;
  /** Lower-case, unique. */
  username: string;
  /** `scrypt$N$r$p$salt$hash`. */
  passwordHash: string;
  name: string;
  color: string;
  createdAt: number;
}

export interface SessionRecord {
  /** SHA-256 of the cookie value. */
  idHash: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

export interface TokenRecord {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  /** SHA-256 of the token. */
  tokenHash: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface BoardRecord {
  id: string;
  title: string;
  ownerId: string;
  /** Seq of the last op applied. */
  seq: number;
  elementCount: number;
  /** Points and UTF-8 bytes of element JSON on the board (its budgets; the bytes count toward the owner's quota). */
  elementPoints: number;
  elementBytes: number;
  createdAt: number;
  updatedAt: number;
}

export interface MemberBoard extends BoardRecord {
  role: Role;
}

export interface MemberRecord {
  userId: string;
  username: string;
  name: string;
  color: string;
  role: Role;
}

export interface ShareLinkRecord {
  id: string;
  boardId: string;
  role: 'editor' | 'viewer';
  /** SHA-256 of the code. */
  codeHash: string;
  createdBy: string;
  createdAt: number;
  /** When the link stops working, or null (until revoked). */
  expiresAt: number | null;
  /** How many people may join through it, or null (no limit). */
  maxUses: number | null;
  /** How many have joined (or been promoted) through it. */
  uses: number;
}

/** Someone the owner removed from a board (links no longer let them back in). */
export interface RemovalRecord {
  userId: string;
  username: string;
  name: string;
  color: string;
  removedAt: number;
}

/** A board a commit will write to, and what the caller already holds of it in memory. */
export interface CommitRead {
  boardId: string;
  /** The seq the caller's in-memory copy reflects. */
  knownSeq: number;
  /** Op ids of the commit, checked against the log (re-sent ops are not applied twice). */
  opIds: string[];
}

/** A board as the database holds it inside the commit's transaction, with the board locked. */
export interface BoardState {
  seq: number;
  /**
   * The ops after `knownSeq` up to `seq`, in order ([] when the caller is up to date), or null when
   * the log no longer reaches back that far (or `knownSeq` > `seq`): then `elements` holds the board.
   */
  ops: OpEvent[] | null;
  elements: Element[] | null;
  /** Op ids of the commit that are already in the log, with their seqs. */
  applied: Map<string, number>;
  /** The board's owner, the element bytes stored for the board, and for all boards of that owner (quota). */
  ownerId: string;
  elementBytes: number;
  ownerBytes: number;
}

/** What a commit writes for one board. */
/**
 * Op ids trimmed from the log are remembered for this many seqs of their board (table trimmed_ops),
 * so that an op resent after its log entry went (its acknowledgement was lost) is acknowledged with
 * its seq, not applied again. About 100 bytes each: at most ~2 MB per board.
 */
export const OP_ID_MEMORY = 20_000;

export interface BoardWrite {
  boardId: string;
  /** New ops, seqs contiguous from the state's seq + 1; appended to the log. */
  ops: OpEvent[];
  /** True when a clear op is among them: every element row of the board is deleted first. */
  cleared: boolean;
  /** Elements to store as they are after the ops (insert or replace). */
  upserts: Element[];
  /** Element ids to delete. */
  deletes: string[];
  /** The board's seq, element count, points and element bytes after the ops. */
  seq: number;
  elementCount: number;
  elementPoints: number;
  elementBytes: number;
  now: number;
  /** Forget ops at or below this seq (log retention). */
  trimUpTo?: number;
  /**
   * Byte budget of the log: when the board's ops hold more bytes than this after the write, the
   * oldest ones (never this write's) are forgotten until they hold at most 3/4 of it.
   */
  logMaxBytes?: number;
  /** Set by the storage: bytes of op JSON its trims moved to history_ops (version history's byte budget). */
  movedToHistory?: number;
}

/** Thrown by `createBoard` when the owner already owns `maxOwned` boards (nothing is written). */
export class OwnedBoardsLimitError extends Error {
  constructor(readonly owned: number) {
    super(`the owner already owns ${owned} boards`);
  }
}

export interface Storage {
  readonly kind: 'sqlite' | 'postgres';
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;

  // Accounts
  userByUsername(username: string): Promise<UserRecord | undefined>;
  /** False (nothing written) when the username is taken. */
  insertUser(user: UserRecord): Promise<boolean>;
  /** The updated user, or undefined when there is none with this id. */
  updateUser(id: string, patch: { name?: string; color?: string }): Promise<UserRecord | undefined>;
  /** False when there is no user with this id. */
  setPasswordHash(id: string, passwordHash: string): Promise<boolean>;

  insertSession(session: SessionRecord): Promise<void>;
  sessionWithUser(idHash: string): Promise<{ session: SessionRecord; user: UserRecord } | undefined>;
  touchSession(idHash: string, lastSeenAt: number): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  /** Deletes sessions past `expiresAt` or unused since `now - idleMs`; returns how many. */
  deleteExpiredSessions(now: number, idleMs: number): Promise<number>;
  /** Deletes every session of the user except `keepIdHash`; returns the deleted ones' hashes. */
  deleteSessionsOf(userId: string, keepIdHash?: string): Promise<string[]>;
  /**
   * Keeps `newest` and the user's `keep - 1` most recently used other sessions, deletes the rest;
   * returns the deleted ones' hashes.
   */
  trimSessionsOf(userId: string, keep: number, newest: string): Promise<string[]>;

  insertToken(token: TokenRecord): Promise<void>;
  tokenWithUser(tokenHash: string): Promise<{ token: TokenRecord; user: UserRecord } | undefined>;
  touchToken(id: string, lastUsedAt: number): Promise<void>;
  /** Oldest first. */
  tokensOf(userId: string): Promise<TokenRecord[]>;
  /** False when the user has no token with this id. */
  deleteToken(userId: string, id: string): Promise<boolean>;
  /** Deletes every token of the user; returns their ids. */
  deleteTokensOf(userId: string): Promise<string[]>;

  // Boards
  /**
   * Inserts the board (seq 0, no elements) and its owner as a member, in one transaction. With
   * `maxOwned`, throws OwnedBoardsLimitError instead when the owner already owns that many.
   */
  createBoard(board: { id: string; title: string; ownerId: string; now: number; maxOwned?: number }): Promise<BoardRecord>;
  /** Boards the user owns and the element bytes they hold in total (the storage quota). */
  ownerUsage(ownerId: string): Promise<{ boards: number; elementBytes: number }>;
  /** Bytes of op JSON in the board's log (0 when it does not exist). */
  logBytes(boardId: string): Promise<number>;
  board(id: string): Promise<BoardRecord | undefined>;
  renameBoard(id: string, title: string, now: number): Promise<void>;
  /** Deletes the board and everything on it (elements, ops, chat, members, links). */
  deleteBoard(id: string): Promise<void>;
  /** The board's committed seq, or undefined when it does not exist. */
  boardSeq(id: string): Promise<number | undefined>;
  elements(boardId: string): Promise<Element[]>;
  /** Ops with seq > `after` (and <= `upTo` when given), in seq order. */
  opsAfter(boardId: string, after: number, upTo?: number): Promise<OpEvent[]>;
  /** Lowest seq still in the log, or undefined when it is empty. */
  oldestOpSeq(boardId: string): Promise<number | undefined>;
  /**
   * The write path of edits, in one transaction: locks the boards (in id order, so concurrent
   * commits of several processes cannot deadlock), reads their state, calls `plan` (synchronous, pure
   * computation) with it, writes what it returns, commits. A board that does not exist maps to
   * undefined. When `plan` throws, nothing is written and the error is rethrown. Resolves only
   * after the commit is durable.
   */
  commit(reads: readonly CommitRead[], plan: (states: ReadonlyMap<string, BoardState | undefined>) => BoardWrite[]): Promise<void>;
  /**
   * True when `commit` runs its transaction (reads, plan, writes) before it returns its promise,
   * which then only waits for the disk: a commit called after it is ordered after it, so the caller
   * may start the next one while this one is being flushed (BoardService pipelines them). False when
   * transactions run later (PostgreSQL: two in flight could take their seqs in either order).
   */
  readonly commitsInCallOrder: boolean;
  /**
   * Settles the commits whose flush to disk has finished, if the store learns of that apart from the
   * event loop's own callbacks (SQLite: storage/walSync.ts). Cheap; called before every WebSocket
   * message is handled, so a finished commit is acknowledged without waiting for the loop's next turn.
   */
  pollDurable?(): void;

  // Chat
  addChatMessage(boardId: string, user: { id: string; name: string; color: string }, text: string, now: number): Promise<ChatMessage>;
  /** Newest first: up to `limit` messages with id < `before` (or the newest). */
  chatHistory(boardId: string, limit: number, before?: number): Promise<ChatMessage[]>;

  // Access
  roleOf(boardId: string, userId: string): Promise<Role | null>;
  /** Boards the user is a member of (owned and shared), most recently changed first. */
  boardsOf(userId: string): Promise<MemberBoard[]>;
  /** Adds a member; does nothing when they already are one. */
  addMember(boardId: string, userId: string, role: Role, now: number): Promise<void>;
  setRole(boardId: string, userId: string, role: Role): Promise<void>;
  removeMember(boardId: string, userId: string): Promise<void>;
  members(boardId: string): Promise<MemberRecord[]>;
  insertLink(link: ShareLinkRecord): Promise<void>;
  /** Oldest first. */
  linksOf(boardId: string): Promise<Pick<ShareLinkRecord, 'id' | 'role' | 'createdAt' | 'expiresAt' | 'maxUses' | 'uses'>[]>;
  /** False when the board has no link with this id. */
  deleteLink(boardId: string, linkId: string): Promise<boolean>;
  linkByCodeHash(codeHash: string): Promise<ShareLinkRecord | undefined>;
  /**
   * Counts one use of the link, atomically, when it is neither expired at `now` nor used up; false
   * (nothing counted) otherwise or when it no longer exists.
   */
  useLink(linkId: string, now: number): Promise<boolean>;
  /** Records that the owner removed the user (replacing an earlier record). */
  recordRemoval(boardId: string, userId: string, now: number): Promise<void>;
  /** When the owner removed the user from the board, or undefined when they did not (or readmitted them). */
  removedAt(boardId: string, userId: string): Promise<number | undefined>;
  /** People removed from the board, most recent first. */
  removals(boardId: string): Promise<RemovalRecord[]>;
  /** Forgets a removal; false when there was none. */
  clearRemoval(boardId: string, userId: string): Promise<boolean>;
}
