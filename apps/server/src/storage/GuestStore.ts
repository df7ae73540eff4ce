import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { Storage } from './Storage.js';

/**
 * Public links and guests (issue 18; tables `public_links` and `guests`, migration 0007). The same
 * SQL runs on SQLite and PostgreSQL (written with `?`, numbered for PostgreSQL).
 */

export interface PublicLinkRecord {
  boardId: string;
  /** Changes when the link is regenerated: guests of an older id are out. */
  id: string;
  role: 'editor' | 'viewer';
  codeHash: string;
  allowChat: boolean;
  embedOrigins: string[];
  createdBy: string;
  createdAt: number;
}

export interface GuestRecord {
  id: string;
  boardId: string;
  linkId: string;
  name: string;
  color: string;
  tokenHash: string;
  createdAt: number;
  lastSeenAt: number;
  removedAt: number | null;
  claimedBy: string | null;
}

/** A guest as `guestByTokenHash` finds it, with its link's current role (null: the guest is out). */
export interface GuestWithRole extends GuestRecord {
  role: 'editor' | 'viewer' | null;
  allowChat: boolean;
}

type Row = Record<string, unknown>;

interface Sql {
  all(sql: string, params: unknown[]): Promise<Row[]>;
  run(sql: string, params: unknown[]): Promise<number>;
  /**
   * PostgreSQL: runs `fn` as one transaction on one pooled connection (rolled back when it throws).
   * Absent on SQLite, whose file one process owns and whose statements are each atomic: there a
   * check and the write it allows are one statement.
   */
  transaction?<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
}

/** What `insertGuest` did: the guest is in, the link already has its most guests, or the link is gone. */
export type GuestInsert = 'in' | 'full' | 'gone';

const INSERT_GUEST = 'insert into guests (id, board_id, link_id, name, color, token_hash, created_at, last_seen_at)';
const guestValues = (g: GuestRecord) => [g.id, g.boardId, g.linkId, g.name, g.color, g.tokenHash, g.createdAt, g.lastSeenAt];

const LINK_COLUMNS = 'board_id as "boardId", id, role, code_hash as "codeHash", allow_chat as "allowChat", embed_origins as "embedOrigins", created_by as "createdBy", created_at as "createdAt"';
const GUEST_COLUMNS =
  'g.id, g.board_id as "boardId", g.link_id as "linkId", g.name, g.color, g.token_hash as "tokenHash", g.created_at as "createdAt", g.last_seen_at as "lastSeenAt", g.removed_at as "removedAt", g.claimed_by as "claimedBy"';

function toLink(r: Row): PublicLinkRecord {
  return {
    boardId: String(r.boardId),
    id: String(r.id),
    role: r.role as PublicLinkRecord['role'],
    codeHash: String(r.codeHash),
    allowChat: Number(r.allowChat) === 1,
    embedOrigins: JSON.parse(String(r.embedOrigins)) as string[],
    createdBy: String(r.createdBy),
    createdAt: Number(r.createdAt),
  };
}

function toGuest(r: Row): GuestRecord {
  return {
    id: String(r.id),
    boardId: String(r.boardId),
    linkId: String(r.linkId),
    name: String(r.name),
    color: String(r.color),
    tokenHash: String(r.tokenHash),
    createdAt: Number(r.createdAt),
    lastSeenAt: Number(r.lastSeenAt),
    removedAt: r.removedAt == null ? null : Number(r.removedAt),
    claimedBy: r.claimedBy == null ? null : String(r.claimedBy),
  };
}

export class GuestStore {
  constructor(private readonly sql: Sql) {}

  async link(boardId: string): Promise<PublicLinkRecord | undefined> {
    const [r] = await this.sql.all(`select ${LINK_COLUMNS} from public_links where board_id = ?`, [boardId]);
    return r ? toLink(r) : undefined;
  }

  async linkByCodeHash(codeHash: string): Promise<PublicLinkRecord | undefined> {
    const [r] = await this.sql.all(`select ${LINK_COLUMNS} from public_links where code_hash = ?`, [codeHash]);
    return r ? toLink(r) : undefined;
  }

  /** Creates the board's link, or replaces it (a new id and code: regenerating). */
  async putLink(l: PublicLinkRecord): Promise<void> {
    await this.sql.run('delete from public_links where board_id = ?', [l.boardId]);
    await this.sql.run('insert into public_links (board_id, id, role, code_hash, allow_chat, embed_origins, created_by, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)', [
      l.boardId,
      l.id,
      l.role,
      l.codeHash,
      l.allowChat ? 1 : 0,
      JSON.stringify(l.embedOrigins),
      l.createdBy,
      l.createdAt,
    ]);
  }

  async updateLink(boardId: string, patch: { role: 'editor' | 'viewer'; allowChat: boolean; embedOrigins: string[] }): Promise<boolean> {
    return (await this.sql.run('update public_links set role = ?, allow_chat = ?, embed_origins = ? where board_id = ?', [patch.role, patch.allowChat ? 1 : 0, JSON.stringify(patch.embedOrigins), boardId])) > 0;
  }

  async deleteLink(boardId: string): Promise<boolean> {
    return (await this.sql.run('delete from public_links where board_id = ?', [boardId])) > 0;
  }

  /**
   * Inserts the guest unless its link already has `max` guests in (removed ones do not count), as
   * one atomic step, so joins racing at the limit never pass it: on PostgreSQL the link's row is
   * locked (FOR UPDATE) for the transaction, so the joins of one link count and insert one after
   * another, on every process; on SQLite the count is part of the insert statement.
   */
  async insertGuest(g: GuestRecord, max: number): Promise<GuestInsert> {
    const count = 'select count(*) as n from guests where board_id = ? and link_id = ? and removed_at is null';
    if (this.sql.transaction) {
      return this.sql.transaction(async (tx) => {
        if ((await tx.all('select id from public_links where board_id = ? and id = ? for update', [g.boardId, g.linkId])).length === 0) return 'gone';
        const [r] = await tx.all(count, [g.boardId, g.linkId]);
        if (Number(r?.n ?? 0) >= max) return 'full';
        await tx.run(`${INSERT_GUEST} values (?, ?, ?, ?, ?, ?, ?, ?)`, guestValues(g));
        return 'in';
      });
    }
    const inserted = await this.sql.run(`${INSERT_GUEST} select ?, ?, ?, ?, ?, ?, ?, ? from public_links l where l.board_id = ? and l.id = ? and (${count}) < ?`, [
      ...guestValues(g),
      g.boardId,
      g.linkId,
      g.boardId,
      g.linkId,
      max,
    ]);
    if (inserted > 0) return 'in';
    return (await this.sql.all('select id from public_links where board_id = ? and id = ?', [g.boardId, g.linkId])).length ? 'full' : 'gone';
  }

  async guestByTokenHash(tokenHash: string): Promise<GuestWithRole | undefined> {
    const [r] = await this.sql.all(
      `select ${GUEST_COLUMNS}, l.role as "role", l.allow_chat as "allowChat" from guests g left join public_links l on l.board_id = g.board_id and l.id = g.link_id where g.token_hash = ?`,
      [tokenHash],
    );
    if (!r) return undefined;
    const guest = toGuest(r);
    return { ...guest, role: guest.removedAt === null && r.role != null ? (r.role as 'editor' | 'viewer') : null, allowChat: Number(r.allowChat) === 1 };
  }

  /** The guest's role on the board: its link's, while the guest is in and the link is the one it joined by. */
  async guestRole(boardId: string, guestId: string): Promise<'editor' | 'viewer' | null> {
    const [r] = await this.sql.all('select l.role as "role" from guests g join public_links l on l.board_id = g.board_id and l.id = g.link_id where g.id = ? and g.board_id = ? and g.removed_at is null', [guestId, boardId]);
    return r ? (r.role as 'editor' | 'viewer') : null;
  }

  /** The guests in through the link `linkId`, most recently seen first. */
  async guestsOf(boardId: string, linkId: string): Promise<GuestRecord[]> {
    return (await this.sql.all(`select ${GUEST_COLUMNS} from guests g where g.board_id = ? and g.link_id = ? and g.removed_at is null order by g.last_seen_at desc`, [boardId, linkId])).map(toGuest);
  }

  async countGuests(boardId: string, linkId: string): Promise<number> {
    const [r] = await this.sql.all('select count(*) as n from guests where board_id = ? and link_id = ? and removed_at is null', [boardId, linkId]);
    return Number(r?.n ?? 0);
  }

  async removeGuest(boardId: string, guestId: string, now: number): Promise<boolean> {
    return (await this.sql.run('update guests set removed_at = ? where board_id = ? and id = ? and removed_at is null', [now, boardId, guestId])) > 0;
  }

  async claimGuest(guestId: string, userId: string, now: number): Promise<boolean> {
    return (await this.sql.run('update guests set claimed_by = ?, removed_at = ? where id = ? and removed_at is null', [userId, now, guestId])) > 0;
  }

  /**
   * Deletes guests that can never come back: removed (or claimed) or of an older link before
   * `endedBefore`, and guests not seen since `unseenSince` (they would join again as new guests).
   */
  async prune(endedBefore: number, unseenSince: number): Promise<number> {
    const ended = await this.sql.run('delete from guests where removed_at is not null and removed_at < ?', [endedBefore]);
    const orphaned = await this.sql.run(
      'delete from guests where created_at < ? and not exists (select 1 from public_links l where l.board_id = guests.board_id and l.id = guests.link_id)',
      [endedBefore],
    );
    const unseen = await this.sql.run('delete from guests where last_seen_at < ?', [unseenSince]);
    return ended + orphaned + unseen;
  }

  async touchGuest(guestId: string, now: number): Promise<void> {
    await this.sql.run('update guests set last_seen_at = ? where id = ?', [now, guestId]);
  }
}

/** The guest store on the same database as `storage`. */
export function guestStoreFor(storage: Storage): GuestStore {
  const handle = storage as unknown as { sqlite?: Database.Database; pool?: pg.Pool };
  if (storage.kind === 'sqlite' && handle.sqlite) {
    const db = handle.sqlite;
    const cache = new Map<string, Database.Statement>();
    const stmt = (sql: string) => {
      let s = cache.get(sql);
      if (!s) cache.set(sql, (s = db.prepare(sql)));
      return s;
    };
    return new GuestStore({
      all: async (sql, params) => stmt(sql).all(...params) as Row[],
      run: async (sql, params) => stmt(sql).run(...params).changes,
    });
  }
  if (storage.kind === 'postgres' && handle.pool) {
    const pool = handle.pool;
    const numbered = (sql: string) => {
      let i = 0;
      return sql.replace(/\?/g, () => `$${++i}`);
    };
    const on = (client: pg.Pool | pg.PoolClient): Sql => ({
      all: async (sql, params) => (await client.query(numbered(sql), params)).rows as Row[],
      run: async (sql, params) => (await client.query(numbered(sql), params)).rowCount ?? 0,
    });
    return new GuestStore({
      ...on(pool),
      async transaction(fn) {
        const client = await pool.connect();
        try {
          await client.query('begin');
          const result = await fn(on(client));
          await client.query('commit');
          return result;
        } catch (err) {
          await client.query('rollback').catch(() => undefined);
          throw err;
        } finally {
          client.release();
        }
      },
    });
  }
  throw new Error(`guests: no guest store for a ${storage.kind} storage`);
}
