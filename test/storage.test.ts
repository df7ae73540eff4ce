import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId, type Element, type Op, type OpEvent } from '@inkboard/protocol';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgStorage, PG_MIGRATIONS_DIR } from '../apps/server/src/storage/PgStorage.js';
import { drizzle as pgDrizzle } from 'drizzle-orm/node-postgres';
import { migrate as pgMigrate } from 'drizzle-orm/node-postgres/migrator';
import { openSqliteStorage, SQLITE_MIGRATIONS_DIR } from '../apps/server/src/storage/SqliteStorage.js';
import { OwnedBoardsLimitError, type BoardState, type BoardWrite, type Storage, type TokenRecord, type UserRecord } from '../apps/server/src/storage/Storage.js';
import { addOp, deleteOp, moveOp, rect, stroke } from './helpers/elements.js';

// The contract of apps/server/src/storage/Storage.ts, run against both implementations.

/** The machine's PostgreSQL (trust auth); each test file gets databases of its own, dropped afterwards. */
const PG_SERVER = 'postgres://postgres@127.0.0.1:5432';

/** Times past 2^31 ms, so a 32-bit column would not hold them. */
const T0 = 1_700_000_000_000;

async function withAdmin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(`${PG_SERVER}/postgres`);
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

async function createDatabase(): Promise<{ name: string; url: string }> {
  const name = `inkboard_test_${randomBytes(6).toString('hex')}`;
  await withAdmin((c) => c.query(`create database ${name}`));
  return { name, url: `${PG_SERVER}/${name}` };
}

async function dropDatabase(name: string): Promise<void> {
  await withAdmin((c) => c.query(`drop database if exists ${name} with (force)`));
}

interface Opened {
  storage: Storage;
  cleanup(): Promise<void>;
}

const backends: { name: string; open(): Promise<Opened> }[] = [
  {
    name: 'SQLite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'inkboard-storage-'));
      return { storage: openSqliteStorage(join(dir, 'inkboard.db')), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const db = await createDatabase();
      try {
        return { storage: await openPgStorage(db.url), cleanup: () => dropDatabase(db.name) };
      } catch (err) {
        await dropDatabase(db.name);
        throw err;
      }
    },
  },
];

const author = { id: 'author-1', name: 'Ada' };
const opEvent = (seq: number, op: Op): OpEvent => ({ type: 'op', seq, author, op });
const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const sorted = <T extends { id: string }>(items: T[]) => [...items].sort(byId);
/** The owner fields of a board's commit state, for a board (and its owner's others) written without element totals. */
const ownedBy = (ownerId: string, elementBytes = 0, ownerBytes = 0) => ({ ownerId, elementBytes, ownerBytes });

function write(boardId: string, fields: Partial<BoardWrite> & Pick<BoardWrite, 'seq'>): BoardWrite {
  return { boardId, ops: [], cleared: false, upserts: [], deletes: [], elementCount: 0, now: T0, ...fields };
}

describe.each(backends.map((b) => [b.name, b] as const))('%s storage', (_name, backend) => {
  let opened: Opened | undefined;
  let storage: Storage;

  beforeAll(async () => {
    opened = await backend.open();
    storage = opened.storage;
  });

  afterAll(async () => {
    await opened?.storage.close();
    await opened?.cleanup();
  });

  async function newUser(name = 'Ada'): Promise<UserRecord> {
    const id = randomUUID();
    const user = { id, username: `user-${id}`, passwordHash: 'scrypt$16384$8$1$salt$hash', name, color: '#1971c2', createdAt: T0 };
    expect(await storage.insertUser(user)).toBe(true);
    return user;
  }

  async function newBoard(ownerId: string, now = T0) {
    return storage.createBoard({ id: randomUUID(), title: 'Plans', ownerId, now });
  }

  /** Appends `ops` after the board's seq (with the given elements written) and returns the state `plan` saw. */
  async function append(boardId: string, ops: Op[], fields: Partial<BoardWrite> = {}): Promise<BoardState> {
    const knownSeq = (await storage.boardSeq(boardId))!;
    let seen: BoardState | undefined;
    await storage.commit([{ boardId, knownSeq, opIds: ops.map((op) => op.opId) }], (states) => {
      const state = states.get(boardId)!;
      seen = state;
      const events = ops.map((op, i) => opEvent(state.seq + i + 1, op));
      return [write(boardId, { ops: events, seq: state.seq + events.length, ...fields })];
    });
    return seen!;
  }

  /** The state `plan` gets for `read` (nothing is written). */
  async function stateOf(boardId: string, knownSeq: number, opIds: string[] = []): Promise<BoardState | undefined> {
    let seen: BoardState | undefined;
    await storage.commit([{ boardId, knownSeq, opIds }], (states) => {
      seen = states.get(boardId);
      return [];
    });
    return seen;
  }

  describe('users', () => {
    it('inserts a user, finds it by username, and refuses a taken username', async () => {
      const ada = await newUser();
      expect(await storage.userByUsername(ada.username)).toEqual(ada);
      const impostor = { ...ada, id: randomUUID(), name: 'Impostor' };
      expect(await storage.insertUser(impostor)).toBe(false);
      expect(await storage.userByUsername(ada.username)).toEqual(ada);
      expect(await storage.userByUsername(`nobody-${randomUUID()}`)).toBeUndefined();
    });

    it('updates name and colour, and returns undefined for an unknown id', async () => {
      const ada = await newUser();
      expect(await storage.updateUser(ada.id, { name: 'Ada L.' })).toEqual({ ...ada, name: 'Ada L.' });
      expect(await storage.updateUser(ada.id, { color: '#e03131' })).toEqual({ ...ada, name: 'Ada L.', color: '#e03131' });
      expect(await storage.updateUser(ada.id, {})).toEqual({ ...ada, name: 'Ada L.', color: '#e03131' });
      expect(await storage.userByUsername(ada.username)).toEqual({ ...ada, name: 'Ada L.', color: '#e03131' });
      expect(await storage.updateUser(randomUUID(), { name: 'Ghost' })).toBeUndefined();
    });

    it('setPasswordHash replaces the hash, false for an unknown id', async () => {
      const ada = await newUser();
      expect(await storage.setPasswordHash(ada.id, 'scrypt$16384$8$1$salt2$hash2')).toBe(true);
      expect(await storage.userByUsername(ada.username)).toEqual({ ...ada, passwordHash: 'scrypt$16384$8$1$salt2$hash2' });
      expect(await storage.setPasswordHash(randomUUID(), 'x')).toBe(false);
    });
  });

  describe('sessions', () => {
    it('stores a session with its user, touches it and deletes it', async () => {
      const ada = await newUser();
      const session = { idHash: randomUUID(), userId: ada.id, createdAt: T0, lastSeenAt: T0, expiresAt: T0 + 86_400_000 };
      await storage.insertSession(session);
      expect(await storage.sessionWithUser(session.idHash)).toEqual({ session, user: ada });
      await storage.touchSession(session.idHash, T0 + 5000);
      expect(await storage.sessionWithUser(session.idHash)).toEqual({ session: { ...session, lastSeenAt: T0 + 5000 }, user: ada });
      await storage.deleteSession(session.idHash);
      expect(await storage.sessionWithUser(session.idHash)).toBeUndefined();
      expect(await storage.sessionWithUser(randomUUID())).toBeUndefined();
    });

    it('deleteExpiredSessions deletes sessions past their absolute or idle expiry and counts them', async () => {
      // Earlier than every other test's times, so their sessions are not expired by it.
      const now = T0 - 1_000_000_000;
      const idleMs = 60_000;
      const ada = await newUser();
      const session = (lastSeenAt: number, expiresAt: number) => ({ idHash: randomUUID(), userId: ada.id, createdAt: now - 100_000, lastSeenAt, expiresAt });
      const pastAbsolute = session(now - 1000, now - 1);
      const idle = session(now - idleMs - 1, now + 100_000);
      const live = session(now - idleMs + 1000, now + 100_000);
      for (const s of [pastAbsolute, idle, live]) await storage.insertSession(s);

      expect(await storage.deleteExpiredSessions(now, idleMs)).toBe(2);
      expect(await storage.sessionWithUser(pastAbsolute.idHash)).toBeUndefined();
      expect(await storage.sessionWithUser(idle.idHash)).toBeUndefined();
      expect(await storage.sessionWithUser(live.idHash)).toEqual({ session: live, user: ada });
      expect(await storage.deleteExpiredSessions(now, idleMs)).toBe(0);
      await storage.deleteSession(live.idHash);
    });

    it('trimSessionsOf keeps the newest and the most recently used others, and returns the hashes it deleted', async () => {
      const ada = await newUser();
      const bob = await newUser('Bob');
      const session = (userId: string, lastSeenAt: number) => ({ idHash: randomUUID(), userId, createdAt: T0, lastSeenAt, expiresAt: T0 + 86_400_000 });
      const [old1, old2, recent, newest, b1] = [session(ada.id, T0 + 1), session(ada.id, T0 + 2), session(ada.id, T0 + 5), session(ada.id, T0 + 3), session(bob.id, T0)];
      for (const s of [old1, old2, recent, newest, b1]) await storage.insertSession(s);
      expect((await storage.trimSessionsOf(ada.id, 2, newest.idHash)).sort()).toEqual([old1.idHash, old2.idHash].sort());
      expect(await storage.sessionWithUser(recent.idHash)).toBeDefined();
      expect(await storage.sessionWithUser(newest.idHash)).toBeDefined();
      expect(await storage.sessionWithUser(b1.idHash)).toBeDefined();
      expect(await storage.trimSessionsOf(ada.id, 2, newest.idHash)).toEqual([]);
      expect(await storage.trimSessionsOf(ada.id, 1, newest.idHash)).toEqual([recent.idHash]);
    });

    it('deleteSessionsOf deletes the user’s sessions but the one kept, and returns their hashes', async () => {
      const ada = await newUser();
      const bob = await newUser('Bob');
      const session = (userId: string) => ({ idHash: randomUUID(), userId, createdAt: T0, lastSeenAt: T0, expiresAt: T0 + 86_400_000 });
      const [a1, a2, a3, b1] = [session(ada.id), session(ada.id), session(ada.id), session(bob.id)];
      for (const s of [a1, a2, a3, b1]) await storage.insertSession(s);
      expect((await storage.deleteSessionsOf(ada.id, a2.idHash)).sort()).toEqual([a1.idHash, a3.idHash].sort());
      expect(await storage.sessionWithUser(a2.idHash)).toEqual({ session: a2, user: ada });
      expect(await storage.sessionWithUser(b1.idHash)).toEqual({ session: b1, user: bob });
      expect(await storage.deleteSessionsOf(ada.id)).toEqual([a2.idHash]);
      expect(await storage.sessionWithUser(a2.idHash)).toBeUndefined();
    });
  });

  describe('tokens', () => {
    it('stores tokens, lists them oldest first, touches them, and deletes only its owner’s', async () => {
      const ada = await newUser();
      const bob = await newUser('Bob');
      const token = (name: string, createdAt: number): TokenRecord => ({ id: randomUUID(), userId: ada.id, name, prefix: 'ink_ab12', tokenHash: randomUUID(), createdAt, lastUsedAt: null });
      const newer = token('ci', T0 + 2);
      const older = token('backup', T0 + 1);
      await storage.insertToken(newer);
      await storage.insertToken(older);
      expect(await storage.tokensOf(ada.id)).toEqual([older, newer]);
      expect(await storage.tokensOf(bob.id)).toEqual([]);
      expect(await storage.tokenWithUser(newer.tokenHash)).toEqual({ token: newer, user: ada });

      await storage.touchToken(newer.id, T0 + 10);
      expect(await storage.tokenWithUser(newer.tokenHash)).toEqual({ token: { ...newer, lastUsedAt: T0 + 10 }, user: ada });

      expect(await storage.deleteToken(bob.id, newer.id)).toBe(false);
      expect(await storage.deleteToken(ada.id, newer.id)).toBe(true);
      expect(await storage.deleteToken(ada.id, newer.id)).toBe(false);
      expect(await storage.tokenWithUser(newer.tokenHash)).toBeUndefined();
      expect(await storage.tokensOf(ada.id)).toEqual([older]);
    });

    it('deleteTokensOf deletes every token of the user and returns their ids', async () => {
      const ada = await newUser();
      const bob = await newUser('Bob');
      const token = (userId: string): TokenRecord => ({ id: randomUUID(), userId, name: 'x', prefix: 'ink_ab12', tokenHash: randomUUID(), createdAt: T0, lastUsedAt: null });
      const [a1, a2, b1] = [token(ada.id), token(ada.id), token(bob.id)];
      for (const t of [a1, a2, b1]) await storage.insertToken(t);
      expect((await storage.deleteTokensOf(ada.id)).sort()).toEqual([a1.id, a2.id].sort());
      expect(await storage.tokensOf(ada.id)).toEqual([]);
      expect(await storage.tokensOf(bob.id)).toEqual([b1]);
      expect(await storage.deleteTokensOf(ada.id)).toEqual([]);
    });
  });

  describe('boards', () => {
    it('createBoard stores the board at seq 0 with its owner as a member', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      const expected = { id: board.id, title: 'Plans', ownerId: ada.id, seq: 0, elementCount: 0, elementPoints: 0, elementBytes: 0, createdAt: T0, updatedAt: T0 };
      expect(board).toEqual(expected);
      expect(await storage.board(board.id)).toEqual(expected);
      expect(await storage.boardSeq(board.id)).toBe(0);
      expect(await storage.roleOf(board.id, ada.id)).toBe('owner');
      expect(await storage.members(board.id)).toEqual([{ userId: ada.id, username: ada.username, name: ada.name, color: ada.color, role: 'owner' }]);
      expect(await storage.boardsOf(ada.id)).toEqual([{ ...expected, role: 'owner' }]);
      expect(await storage.elements(board.id)).toEqual([]);
      expect(await storage.oldestOpSeq(board.id)).toBeUndefined();
    });

    it('has nothing for an unknown board', async () => {
      const id = randomUUID();
      expect(await storage.board(id)).toBeUndefined();
      expect(await storage.boardSeq(id)).toBeUndefined();
      expect(await storage.roleOf(id, randomUUID())).toBeNull();
    });

    it('createBoard rejects an owner that does not exist and writes nothing', async () => {
      const id = randomUUID();
      await expect(storage.createBoard({ id, title: 'Orphan', ownerId: randomUUID(), now: T0 })).rejects.toThrow();
      expect(await storage.board(id)).toBeUndefined();
    });

    it('renameBoard changes the title and updatedAt', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      await storage.renameBoard(board.id, 'Roadmap', T0 + 1000);
      expect(await storage.board(board.id)).toEqual({ ...board, title: 'Roadmap', updatedAt: T0 + 1000 });
    });

    it('boardsOf lists owned and shared boards with the role, most recently changed first', async () => {
      const ada = await newUser();
      const bob = await newUser('Bob');
      const own = await newBoard(ada.id, T0);
      const shared = await newBoard(bob.id, T0 + 10);
      await newBoard(bob.id, T0 + 20);
      await storage.addMember(shared.id, ada.id, 'editor', T0 + 30);
      expect(await storage.boardsOf(ada.id)).toEqual([
        { ...shared, role: 'editor' },
        { ...own, role: 'owner' },
      ]);
      await storage.renameBoard(own.id, 'Renamed', T0 + 40);
      expect((await storage.boardsOf(ada.id)).map((b) => [b.id, b.role])).toEqual([
        [own.id, 'owner'],
        [shared.id, 'editor'],
      ]);
    });

    it('deleteBoard removes the board and its elements, ops, chat, members and links, and nothing else', async () => {
      const ada = await newUser();
      const bob = await newUser('Bob');
      const board = await newBoard(ada.id);
      const other = await newBoard(ada.id);
      for (const b of [board, other]) {
        const el = rect();
        await append(b.id, [addOp(el)], { upserts: [el], elementCount: 1 });
        await storage.addChatMessage(b.id, ada, 'hello', T0);
        await storage.addMember(b.id, bob.id, 'viewer', T0);
        await storage.insertLink({ id: randomUUID(), boardId: b.id, role: 'editor', codeHash: `code-${b.id}`, createdBy: ada.id, createdAt: T0, expiresAt: null, maxUses: null, uses: 0 });
        await storage.recordRemoval(b.id, bob.id, T0);
      }

      await storage.deleteBoard(board.id);
      expect(await storage.board(board.id)).toBeUndefined();
      expect(await storage.boardSeq(board.id)).toBeUndefined();
      expect(await storage.elements(board.id)).toEqual([]);
      expect(await storage.opsAfter(board.id, 0)).toEqual([]);
      expect(await storage.oldestOpSeq(board.id)).toBeUndefined();
      expect(await storage.chatHistory(board.id, 10)).toEqual([]);
      expect(await storage.members(board.id)).toEqual([]);
      expect(await storage.roleOf(board.id, ada.id)).toBeNull();
      expect(await storage.roleOf(board.id, bob.id)).toBeNull();
      expect(await storage.linksOf(board.id)).toEqual([]);
      expect(await storage.linkByCodeHash(`code-${board.id}`)).toBeUndefined();
      expect(await storage.removals(board.id)).toEqual([]);
      expect((await storage.boardsOf(bob.id)).map((b) => b.id)).toEqual([other.id]);

      // A board of the same id starts empty: no row of the old one survived.
      await storage.createBoard({ id: board.id, title: 'Again', ownerId: ada.id, now: T0 });
      expect(await storage.elements(board.id)).toEqual([]);
      expect(await storage.opsAfter(board.id, 0)).toEqual([]);
      expect(await storage.chatHistory(board.id, 10)).toEqual([]);
      expect(await storage.roleOf(board.id, bob.id)).toBeNull();

      expect(await storage.elements(other.id)).toHaveLength(1);
      expect(await storage.opsAfter(other.id, 0)).toHaveLength(1);
      expect(await storage.chatHistory(other.id, 10)).toHaveLength(1);
      expect(await storage.roleOf(other.id, bob.id)).toBe('viewer');
      expect(await storage.linksOf(other.id)).toHaveLength(1);
    });
  });

  describe('chat', () => {
    it('returns the history newest first, up to a limit, paged with before', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      const other = await newBoard(ada.id);
      const user = { id: ada.id, name: ada.name, color: ada.color };
      const sent = [];
      for (let i = 0; i < 5; i++) {
        sent.push(await storage.addChatMessage(board.id, user, `message ${i}`, T0 + i));
        await storage.addChatMessage(other.id, user, `elsewhere ${i}`, T0 + i);
      }
      expect(sent[0]).toEqual({ id: expect.any(Number), boardId: board.id, user, text: 'message 0', createdAt: T0 });
      const ids = sent.map((m) => m.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(5);

      expect(await storage.chatHistory(board.id, 10)).toEqual([...sent].reverse());
      expect(await storage.chatHistory(board.id, 3)).toEqual([sent[4], sent[3], sent[2]]);
      expect(await storage.chatHistory(board.id, 3, sent[2]!.id)).toEqual([sent[1], sent[0]]);
      expect(await storage.chatHistory(board.id, 3, sent[0]!.id)).toEqual([]);
    });
  });

  describe('access', () => {
    it('addMember adds once, setRole changes the role, removeMember removes', async () => {
      const ada = await newUser();
      const bob = await newUser('Bob');
      const board = await newBoard(ada.id);
      await storage.addMember(board.id, bob.id, 'viewer', T0 + 1);
      expect(await storage.roleOf(board.id, bob.id)).toBe('viewer');
      await storage.addMember(board.id, bob.id, 'editor', T0 + 2);
      expect(await storage.roleOf(board.id, bob.id)).toBe('viewer');
      expect(await storage.members(board.id)).toEqual([
        { userId: ada.id, username: ada.username, name: 'Ada', color: ada.color, role: 'owner' },
        { userId: bob.id, username: bob.username, name: 'Bob', color: bob.color, role: 'viewer' },
      ]);
      await storage.setRole(board.id, bob.id, 'editor');
      expect(await storage.roleOf(board.id, bob.id)).toBe('editor');
      await storage.removeMember(board.id, bob.id);
      expect(await storage.roleOf(board.id, bob.id)).toBeNull();
      expect((await storage.members(board.id)).map((m) => m.userId)).toEqual([ada.id]);
    });

    it('stores share links, lists them oldest first, finds them by code hash, deletes them per board', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      const other = await newBoard(ada.id);
      const link = (role: 'editor' | 'viewer', createdAt: number) => ({ id: randomUUID(), boardId: board.id, role, codeHash: randomUUID(), createdBy: ada.id, createdAt, expiresAt: null, maxUses: null, uses: 0 });
      const newer = link('viewer', T0 + 2);
      const older = link('editor', T0 + 1);
      await storage.insertLink(newer);
      await storage.insertLink(older);
      expect(await storage.linksOf(board.id)).toEqual([
        { id: older.id, role: 'editor', createdAt: T0 + 1, expiresAt: null, maxUses: null, uses: 0 },
        { id: newer.id, role: 'viewer', createdAt: T0 + 2, expiresAt: null, maxUses: null, uses: 0 },
      ]);
      expect(await storage.linkByCodeHash(newer.codeHash)).toEqual(newer);
      expect(await storage.linkByCodeHash(randomUUID())).toBeUndefined();
      expect(await storage.deleteLink(other.id, newer.id)).toBe(false);
      expect(await storage.deleteLink(board.id, newer.id)).toBe(true);
      expect(await storage.deleteLink(board.id, newer.id)).toBe(false);
      expect(await storage.linkByCodeHash(newer.codeHash)).toBeUndefined();
      expect((await storage.linksOf(board.id)).map((l) => l.id)).toEqual([older.id]);
    });

    it('useLink counts uses up to maxUses and not after expiresAt, atomically', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      const base = { boardId: board.id, role: 'viewer' as const, createdBy: ada.id, createdAt: T0, uses: 0 };
      const twice = { ...base, id: randomUUID(), codeHash: randomUUID(), expiresAt: null, maxUses: 2 };
      const expiring = { ...base, id: randomUUID(), codeHash: randomUUID(), createdAt: T0 + 1, expiresAt: T0 + 1000, maxUses: null };
      await storage.insertLink(twice);
      await storage.insertLink(expiring);
      // Concurrent uses of a two-use link: exactly two count.
      expect((await Promise.all([1, 2, 3, 4].map(() => storage.useLink(twice.id, T0)))).filter(Boolean)).toHaveLength(2);
      expect(await storage.linkByCodeHash(twice.codeHash)).toEqual({ ...twice, uses: 2 });
      expect(await storage.useLink(expiring.id, T0 + 999)).toBe(true);
      expect(await storage.useLink(expiring.id, T0 + 1000)).toBe(false);
      expect(await storage.useLink(randomUUID(), T0)).toBe(false);
      expect((await storage.linksOf(board.id)).map((l) => [l.uses, l.maxUses, l.expiresAt])).toEqual([
        [2, 2, null],
        [1, null, T0 + 1000],
      ]);
    });

    it('records removals per board, lists them newest first, and forgets them', async () => {
      const ada = await newUser();
      const bob = await newUser('Bob');
      const cyd = await newUser('Cyd');
      const board = await newBoard(ada.id);
      const other = await newBoard(ada.id);
      await storage.recordRemoval(board.id, bob.id, T0 + 1);
      await storage.recordRemoval(board.id, cyd.id, T0 + 2);
      await storage.recordRemoval(board.id, bob.id, T0 + 3); // removed again: the latest time
      expect(await storage.removedAt(board.id, bob.id)).toBe(T0 + 3);
      expect(await storage.removedAt(other.id, bob.id)).toBeUndefined();
      expect(await storage.removals(board.id)).toEqual([
        { userId: bob.id, username: bob.username, name: 'Bob', color: bob.color, removedAt: T0 + 3 },
        { userId: cyd.id, username: cyd.username, name: 'Cyd', color: cyd.color, removedAt: T0 + 2 },
      ]);
      expect(await storage.clearRemoval(board.id, bob.id)).toBe(true);
      expect(await storage.clearRemoval(board.id, bob.id)).toBe(false);
      expect(await storage.removedAt(board.id, bob.id)).toBeUndefined();
      expect((await storage.removals(board.id)).map((r) => r.userId)).toEqual([cyd.id]);
    });
  });

  describe('commit', () => {
    it('writes the ops, the elements and the board', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      const a = rect(0, 0);
      const b = rect(50, 50);
      const add = addOp(a, b);
      const state = await append(board.id, [add], { upserts: [a, b], elementCount: 2, now: T0 + 100 });
      expect(state).toEqual({ seq: 0, ops: [], elements: null, applied: new Map(), ...ownedBy(ada.id) });
      expect(sorted(await storage.elements(board.id))).toEqual(sorted([a, b]));
      expect(await storage.opsAfter(board.id, 0)).toEqual([opEvent(1, add)]);
      expect(await storage.board(board.id)).toEqual({ ...board, seq: 1, elementCount: 2, updatedAt: T0 + 100 });

      const movedA = { ...a, x: 10 } as Element;
      const move = moveOp(a.id, 10, 0);
      const del = deleteOp(b.id);
      await append(board.id, [move, del], { upserts: [movedA], deletes: [b.id], elementCount: 1, now: T0 + 200 });
      expect(await storage.elements(board.id)).toEqual([movedA]);
      expect(await storage.opsAfter(board.id, 0)).toEqual([opEvent(1, add), opEvent(2, move), opEvent(3, del)]);
      expect(await storage.opsAfter(board.id, 1, 2)).toEqual([opEvent(2, move)]);
      expect(await storage.oldestOpSeq(board.id)).toBe(1);
      expect(await storage.board(board.id)).toEqual({ ...board, seq: 3, elementCount: 1, updatedAt: T0 + 200 });
    });

    it('deletes every element of the board first when cleared', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      const other = await newBoard(ada.id);
      const [a, b, c] = [rect(), rect(), rect()];
      await append(board.id, [addOp(a!, b!)], { upserts: [a!, b!], elementCount: 2 });
      await append(other.id, [addOp(a!)], { upserts: [a!], elementCount: 1 });
      await append(board.id, [{ type: 'clear', opId: newId() }, addOp(c!)], { cleared: true, upserts: [c!], elementCount: 1 });
      expect(await storage.elements(board.id)).toEqual([c]);
      expect(await storage.elements(other.id)).toEqual([a]);
    });

    it('gives plan the ops after knownSeq when the caller is behind', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      const ops = [addOp(rect()), addOp(rect()), addOp(rect())];
      for (const op of ops) await append(board.id, [op]);
      const events = ops.map((op, i) => opEvent(i + 1, op));
      expect(await stateOf(board.id, 0)).toEqual({ seq: 3, ops: events, elements: null, applied: new Map(), ...ownedBy(ada.id) });
      expect(await stateOf(board.id, 1)).toEqual({ seq: 3, ops: events.slice(1), elements: null, applied: new Map(), ...ownedBy(ada.id) });
      expect(await stateOf(board.id, 3)).toEqual({ seq: 3, ops: [], elements: null, applied: new Map(), ...ownedBy(ada.id) });
    });

    it('gives plan the elements instead of ops when the log no longer reaches knownSeq, or knownSeq is ahead', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      const els = [rect(), rect(), rect()];
      const ops = els.map((el) => addOp(el));
      for (const [i, op] of ops.entries()) await append(board.id, [op], { upserts: [els[i]!], elementCount: i + 1, trimUpTo: i === 2 ? 2 : undefined });
      expect(await storage.oldestOpSeq(board.id)).toBe(3);

      for (const knownSeq of [0, 1, 4]) {
        const state = await stateOf(board.id, knownSeq);
        expect(state).toEqual({ seq: 3, ops: null, elements: expect.any(Array), applied: new Map(), ...ownedBy(ada.id) });
        expect(sorted(state!.elements!)).toEqual(sorted(els));
      }
      expect(await stateOf(board.id, 2)).toEqual({ seq: 3, ops: [opEvent(3, ops[2]!)], elements: null, applied: new Map(), ...ownedBy(ada.id) });
    });

    it('gives plan the elements when the log is empty and the caller is behind', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      const el = rect();
      await append(board.id, [addOp(el)], { upserts: [el], elementCount: 1, trimUpTo: 1 });
      expect(await storage.oldestOpSeq(board.id)).toBeUndefined();
      expect(await stateOf(board.id, 0)).toEqual({ seq: 1, ops: null, elements: [el], applied: new Map(), ...ownedBy(ada.id) });
    });

    it('tells plan which op ids are already in the log, with their seqs', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      const first = addOp(rect());
      const second = addOp(rect());
      await append(board.id, [first, second]);
      const state = await stateOf(board.id, 2, [second.opId, newId(), first.opId]);
      expect(state?.applied).toEqual(
        new Map([
          [second.opId, 2],
          [first.opId, 1],
        ]),
      );
      expect(state?.applied.size).toBe(2);
    });

    it('maps a board that does not exist to undefined', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      const missing = randomUUID();
      let states: ReadonlyMap<string, BoardState | undefined> | undefined;
      await storage.commit(
        [
          { boardId: missing, knownSeq: 0, opIds: [] },
          { boardId: board.id, knownSeq: 0, opIds: [] },
        ],
        (s) => {
          states = s;
          return [];
        },
      );
      expect([...states!.keys()].sort()).toEqual([missing, board.id].sort());
      expect(states!.get(missing)).toBeUndefined();
      expect(states!.get(board.id)).toEqual({ seq: 0, ops: [], elements: null, applied: new Map(), ...ownedBy(ada.id) });
    });

    it('writes nothing and rethrows when plan throws, and keeps working afterwards', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      const el = rect();
      await append(board.id, [addOp(el)], { upserts: [el], elementCount: 1 });
      // More failures than a pool has connections: each must give its connection back.
      for (let i = 0; i < 15; i++) {
        await expect(
          storage.commit([{ boardId: board.id, knownSeq: 1, opIds: [] }], () => {
            throw new Error('plan failed');
          }),
        ).rejects.toThrow('plan failed');
      }
      expect(await storage.board(board.id)).toEqual({ ...board, seq: 1, elementCount: 1 });
      const next = addOp(rect());
      await append(board.id, [next]);
      expect(await storage.boardSeq(board.id)).toBe(2);
    });

    it('writes nothing on any board when one write fails', async () => {
      const ada = await newUser();
      const good = await newBoard(ada.id);
      const bad = await newBoard(ada.id);
      const taken = addOp(rect());
      await append(bad.id, [taken]);
      const el = rect();
      const reads = [good, bad].map((b) => ({ boardId: b.id, knownSeq: 0, opIds: [] }));
      const commit = storage.commit(reads, () => [
        write(good.id, { ops: [opEvent(1, addOp(el))], upserts: [el], elementCount: 1, seq: 1 }),
        // Seq 1 is already in the log.
        write(bad.id, { ops: [opEvent(1, addOp(rect()))], seq: 1 }),
      ]);
      await expect(commit).rejects.toThrow();
      expect(await storage.board(good.id)).toEqual(good);
      expect(await storage.elements(good.id)).toEqual([]);
      expect(await storage.opsAfter(good.id, 0)).toEqual([]);
      expect(await storage.opsAfter(bad.id, 0)).toEqual([opEvent(1, taken)]);
    });

    it('forgets ops at or below trimUpTo', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      const ops = Array.from({ length: 6 }, () => addOp(rect()));
      await append(board.id, ops.slice(0, 5));
      await append(board.id, ops.slice(5), { trimUpTo: 3 });
      expect(await storage.oldestOpSeq(board.id)).toBe(4);
      expect(await storage.opsAfter(board.id, 0)).toEqual([opEvent(4, ops[3]!), opEvent(5, ops[4]!), opEvent(6, ops[5]!)]);
    });

    it('remembers the ids of trimmed ops with their seqs, so a resent op is still known as applied', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      const ops = Array.from({ length: 6 }, () => addOp(rect()));
      await append(board.id, ops.slice(0, 5));
      await append(board.id, ops.slice(5), { trimUpTo: 3, logMaxBytes: 1 });
      // The log keeps only the newest op (its byte budget), but every op id is still known.
      expect(await storage.oldestOpSeq(board.id)).toBe(6);
      const state = await stateOf(board.id, 6, [...ops.map((op) => op.opId), 'never-sent']);
      expect(Object.fromEntries(state!.applied)).toEqual(Object.fromEntries(ops.map((op, i) => [op.opId, i + 1])));
    });

    it('writes a commit larger than one PostgreSQL statement takes parameters for', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      // 22 000 rows: 154 000 op parameters and 66 000 element parameters, over the 65 535 limit.
      const els = Array.from({ length: 22_000 }, (_, i) => rect(i, i));
      const ops = els.map((el) => addOp(el));
      await append(board.id, ops, { upserts: els, elementCount: els.length });
      expect(await storage.boardSeq(board.id)).toBe(22_000);
      expect(await storage.oldestOpSeq(board.id)).toBe(1);
      const logged = await storage.opsAfter(board.id, 21_998);
      expect(logged).toEqual([opEvent(21_999, ops[21_998]!), opEvent(22_000, ops[21_999]!)]);
      expect(sorted(await storage.elements(board.id))).toEqual(sorted(els));
    });
  });

  describe('budgets', () => {
    const bytesOf = (events: OpEvent[]) => events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e.op)), 0);

    it('stores element points and bytes, and gives plan the owner and what all their boards hold', async () => {
      const ada = await newUser();
      const bob = await newUser('Bob');
      const board = await newBoard(ada.id);
      const other = await newBoard(ada.id);
      const bobs = await newBoard(bob.id);
      await append(board.id, [addOp(rect())], { elementCount: 1, elementPoints: 10, elementBytes: 1000 });
      await append(other.id, [addOp(rect())], { elementCount: 1, elementPoints: 5, elementBytes: 300 });
      await append(bobs.id, [addOp(rect())], { elementCount: 1, elementPoints: 1, elementBytes: 7 });
      expect(await storage.board(board.id)).toMatchObject({ elementPoints: 10, elementBytes: 1000 });
      expect(await stateOf(board.id, 1)).toMatchObject(ownedBy(ada.id, 1000, 1300));
      expect(await stateOf(bobs.id, 1)).toMatchObject(ownedBy(bob.id, 7, 7));
      expect(await storage.ownerUsage(ada.id)).toEqual({ boards: 2, elementBytes: 1300 });
      expect(await storage.ownerUsage(randomUUID())).toEqual({ boards: 0, elementBytes: 0 });
      expect((await storage.boardsOf(ada.id)).map((b) => [b.elementPoints, b.elementBytes]).sort()).toEqual([
        [10, 1000],
        [5, 300],
      ]);
      // Deleting a board frees its bytes.
      await storage.deleteBoard(board.id);
      expect(await storage.ownerUsage(ada.id)).toEqual({ boards: 1, elementBytes: 300 });
    });

    it('createBoard with maxOwned refuses a board beyond it and writes nothing', async () => {
      const ada = await newUser();
      for (const title of ['One', 'Two']) await storage.createBoard({ id: randomUUID(), title, ownerId: ada.id, now: T0, maxOwned: 2 });
      const id = randomUUID();
      const refused = storage.createBoard({ id, title: 'Three', ownerId: ada.id, now: T0, maxOwned: 2 });
      await expect(refused).rejects.toBeInstanceOf(OwnedBoardsLimitError);
      await expect(refused).rejects.toMatchObject({ owned: 2 });
      expect(await storage.board(id)).toBeUndefined();
      expect(await storage.ownerUsage(ada.id)).toEqual({ boards: 2, elementBytes: 0 });
      // Without maxOwned (or below it) boards are created as before.
      await storage.createBoard({ id, title: 'Three', ownerId: ada.id, now: T0, maxOwned: 3 });
      expect((await storage.ownerUsage(ada.id)).boards).toBe(3);
    });

    it('counts the bytes of the log and trims the oldest ops to 3/4 of logMaxBytes, never the ops being written', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      const ops = Array.from({ length: 12 }, () => addOp(rect()));
      const size = Buffer.byteLength(JSON.stringify(ops[0]));
      const logMaxBytes = Math.floor(size * 4.5);
      let trims = 0;
      for (const op of ops) {
        const before = (await storage.opsAfter(board.id, 0)).length;
        await append(board.id, [op], { logMaxBytes });
        const logged = await storage.opsAfter(board.id, 0);
        if (logged.length <= before) trims++;
        expect(await storage.logBytes(board.id)).toBe(bytesOf(logged));
        expect(bytesOf(logged)).toBeLessThanOrEqual(logMaxBytes);
        expect(logged.at(-1)!.op).toEqual(op);
        // Trimmed to at most 3/4 of the budget: 3 of these ops, never fewer.
        expect(logged.length).toBeGreaterThanOrEqual(Math.min(3, before + 1));
      }
      expect(trims).toBeGreaterThanOrEqual(4);

      // A write larger than the budget keeps all of its own ops (they de-duplicate re-sends) and nothing older.
      const big = [addOp(rect()), addOp(rect()), addOp(rect())];
      await append(board.id, big, { logMaxBytes: size });
      const logged = await storage.opsAfter(board.id, 0);
      expect(logged.map((e) => e.op)).toEqual(big);
      expect(await storage.logBytes(board.id)).toBe(bytesOf(logged));
    });

    it('takes the bytes of ops trimmed by count (trimUpTo) off the log', async () => {
      const ada = await newUser();
      const board = await newBoard(ada.id);
      for (let i = 0; i < 3; i++) await append(board.id, [addOp(rect())]);
      expect(await storage.logBytes(board.id)).toBe(bytesOf(await storage.opsAfter(board.id, 0)));
      await append(board.id, [addOp(rect())], { trimUpTo: 2 });
      const logged = await storage.opsAfter(board.id, 0);
      expect(logged.map((e) => e.seq)).toEqual([3, 4]);
      expect(await storage.logBytes(board.id)).toBe(bytesOf(logged));
    });
  });
});

/** The migrations in `dir` up to the one before the budgets, copied to `into`. */
function migrationsBeforeBudgets(dir: string, into: string): string {
  cpSync(dir, into, { recursive: true });
  const journalPath = join(into, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
  const first = journal.entries.findIndex((e) => e.tag.includes('board_budgets'));
  expect(first).toBeGreaterThan(0);
  writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, first) }));
  return into;
}

/** Elements (one with characters of 2 and 4 UTF-8 bytes) and an op as a database from before the budgets holds them. */
const oldRows = () => ({
  elements: [stroke(3), rect(), { ...rect(), type: 'text', text: 'héllo 👋', fontSize: 20 }].map((e) => JSON.stringify(e)),
  op: JSON.stringify(addOp(rect())),
});

describe('storage from before the budgets', () => {
  it('PostgreSQL: backfills element points and bytes, op bytes and the log bytes when it migrates', async () => {
    const db = await createDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'inkboard-storage-'));
    try {
      const client = new pg.Client(db.url);
      await client.connect();
      await pgMigrate(pgDrizzle({ client }), { migrationsFolder: migrationsBeforeBudgets(PG_MIGRATIONS_DIR, join(dir, 'migrations')) });
      const { elements: el, op } = oldRows();
      await client.query('insert into users (id, username, password_hash, name, color, created_at) values ($1, $2, $3, $4, $5, $6)', ['u1', 'ada', 'x', 'Ada', '#1971c2', T0]);
      await client.query('insert into boards (id, title, owner_id, seq, element_count, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7)', ['b1', 'Old', 'u1', 1, el.length, T0, T0]);
      for (const [i, data] of el.entries()) await client.query('insert into elements (board_id, id, data) values ($1, $2, $3)', ['b1', `e${i}`, data]);
      await client.query('insert into ops (board_id, seq, op_id, author_id, author_name, data, created_at) values ($1, $2, $3, $4, $5, $6, $7)', ['b1', 1, 'o1', 'u1', 'Ada', op, T0]);
      await client.end();

      const storage = await openPgStorage(db.url);
      try {
        expect(await storage.board('b1')).toMatchObject({ elementPoints: 3, elementBytes: el.reduce((n, e) => n + Buffer.byteLength(e), 0) });
        expect(await storage.logBytes('b1')).toBe(Buffer.byteLength(op));
        expect(await storage.ownerUsage('u1')).toEqual({ boards: 1, elementBytes: el.reduce((n, e) => n + Buffer.byteLength(e), 0) });
      } finally {
        await storage.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await dropDatabase(db.name);
    }
  });

  it('SQLite: backfills element points and bytes, op bytes and the log bytes when it migrates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inkboard-storage-'));
    try {
      // The migrations up to the one before the budgets, applied to a new file.
      const path = join(dir, 'old.db');
      const old = new Database(path);
      migrate(drizzle(old), { migrationsFolder: migrationsBeforeBudgets(SQLITE_MIGRATIONS_DIR, join(dir, 'migrations')) });
      const { elements: el, op } = oldRows();
      old.prepare('insert into users (id, username, password_hash, name, color, created_at) values (?, ?, ?, ?, ?, ?)').run('u1', 'ada', 'x', 'Ada', '#1971c2', T0);
      old.prepare('insert into boards (id, title, owner_id, seq, element_count, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)').run('b1', 'Old', 'u1', 1, el.length, T0, T0);
      for (const [i, data] of el.entries()) old.prepare('insert into elements (board_id, id, data) values (?, ?, ?)').run('b1', `e${i}`, data);
      old.prepare('insert into ops (board_id, seq, op_id, author_id, author_name, data, created_at) values (?, ?, ?, ?, ?, ?, ?)').run('b1', 1, 'o1', 'u1', 'Ada', op, T0);
      old.close();

      const storage = openSqliteStorage(path);
      try {
        expect(await storage.board('b1')).toMatchObject({ elementPoints: 3, elementBytes: el.reduce((n, e) => n + Buffer.byteLength(e), 0) });
        expect(await storage.logBytes('b1')).toBe(Buffer.byteLength(op));
        expect(storage.sqlite.prepare('select bytes from ops').get()).toEqual({ bytes: Buffer.byteLength(op) });
      } finally {
        await storage.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SQLite commits: on disk before they resolve, without waiting for the disk on the event loop', () => {
  it('commits with synchronous=OFF, flushes the WAL before resolving, keeps FULL for everything else, and checkpoints itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inkboard-sqlite-sync-'));
    const path = join(dir, 'inkboard.db');
    const storage = openSqliteStorage(path);
    try {
      const pragma = (name: string) => storage.sqlite.pragma(name, { simple: true });
      // Automatic checkpoints are off: one run by a commit made with synchronous=OFF would not sync the database file.
      expect(pragma('wal_autocheckpoint')).toBe(0);
      const owner = { id: 'u1', username: 'ada', passwordHash: 'x', name: 'Ada', color: '#1971c2', createdAt: T0 };
      await storage.insertUser(owner);
      const board = await storage.createBoard({ id: 'b1', title: 'Sync', ownerId: owner.id, now: T0 });
      let inside: unknown;
      let seq = board.seq;
      const big = 'x'.repeat(64 * 1024);
      const frames = () => storage.sqlite.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      // 80 commits of ~64 KiB: over the 4 MiB after which the store checkpoints by itself.
      for (let i = 0; i < 80; i++) {
        const op: Op = { type: 'add', opId: `o${i}`, elements: [{ ...rect(`e${i}`), type: 'text', text: big, fontSize: 16 } as Element] };
        const done = storage.commit([{ boardId: board.id, knownSeq: seq, opIds: [op.opId] }], (states) => {
          inside = pragma('synchronous');
          const state = states.get(board.id)!;
          return [write(board.id, { ops: [opEvent(state.seq + 1, op)], seq: state.seq + 1, upserts: op.elements })];
        });
        // Back to FULL at once (other writes, e.g. sign-ups, sync as before), while the flush is still under way.
        expect(pragma('synchronous')).toBe(2);
        await done;
        seq++;
      }
      expect(inside).toBe(0);
      expect(await storage.boardSeq(board.id)).toBe(80);
      // The store checkpointed on its own (the WAL restarted): it holds far fewer frames than the
      // ~2,500 pages of 80 commits of a 64 KiB op and a 64 KiB element.
      const [state] = frames();
      expect(state!.log).toBeLessThan(1_200);
      // A read-only commit (a board's state) writes nothing and needs no flush.
      await storage.commit([{ boardId: board.id, knownSeq: seq, opIds: [] }], () => []);
    } finally {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('PostgreSQL storage across processes', () => {
  let db: { name: string; url: string } | undefined;
  const opened: Storage[] = [];

  beforeAll(async () => {
    db = await createDatabase();
  });

  afterAll(async () => {
    for (const s of opened) await s.close();
    if (db) await dropDatabase(db.name);
  });

  async function open(url = db!.url): Promise<Storage> {
    const storage = await openPgStorage(url);
    opened.push(storage);
    return storage;
  }

  it('migrates a fresh database once when several processes start together', async () => {
    await Promise.all(Array.from({ length: 4 }, () => open()));
    const client = new pg.Client(db!.url);
    await client.connect();
    try {
      const { rows } = await client.query('select count(*)::int as n from drizzle.__drizzle_migrations');
      // Each migration once (not once per process).
      const journal = JSON.parse(readFileSync(join(import.meta.dirname, '../drizzle/pg/meta/_journal.json'), 'utf8')) as { entries: unknown[] };
      expect(rows).toEqual([{ n: journal.entries.length }]);
    } finally {
      await client.end();
    }
  });

  it('serialises commits of two processes to the same board: seqs 1..100, no gap, no duplicate', async () => {
    const [one, two] = [await open(), await open()];
    const ada = { id: randomUUID(), username: `ada-${randomUUID()}`, passwordHash: 'x', name: 'Ada', color: '#1971c2', createdAt: T0 };
    await one.insertUser(ada);
    const board = await one.createBoard({ id: randomUUID(), title: 'Race', ownerId: ada.id, now: T0 });

    const seen: number[] = [];
    const commitOne = (storage: Storage) => {
      const op = addOp(rect());
      return storage.commit([{ boardId: board.id, knownSeq: 0, opIds: [op.opId] }], (states) => {
        const state = states.get(board.id)!;
        seen.push(state.seq);
        return [write(board.id, { ops: [opEvent(state.seq + 1, op)], seq: state.seq + 1 })];
      });
    };
    await Promise.all(Array.from({ length: 50 }, () => [commitOne(one), commitOne(two)]).flat());

    const logged = await one.opsAfter(board.id, 0);
    expect(logged.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(new Set(logged.map((e) => e.op.opId)).size).toBe(100);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(await two.boardSeq(board.id)).toBe(100);
  });

  it('names the URL without its password, and the reason, when it cannot connect', async () => {
    const refused = openPgStorage('postgres://postgres:s3cret@127.0.0.1:1/inkboard');
    await expect(refused).rejects.toThrow(/^Cannot connect to PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/inkboard: .*ECONNREFUSED/);
    await expect(refused).rejects.not.toThrow(/s3cret/);
    const missing = `inkboard_missing_${randomBytes(6).toString('hex')}`;
    await expect(openPgStorage(`${PG_SERVER}/${missing}`)).rejects.toThrow(`Cannot connect to PostgreSQL at ${PG_SERVER}/${missing}: database "${missing}" does not exist`);
  });

  it('refuses a database where synchronous_commit is off', async () => {
    await expect(openPgStorage(`${db!.url}?options=-c%20synchronous_commit%3Doff`)).rejects.toThrow(/synchronous_commit is off/);
  });
});
