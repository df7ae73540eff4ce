import type Database from 'better-sqlite3';
import type pg from 'pg';

/**
 * Image files (issue 15) in the database beside the boards (tables `files` and `board_files`,
 * migration 0005), so that every process serves the same ones. A file is stored once per content
 * (`hash`, the SHA-256 of the stored bytes) and may be read only through a board it was uploaded to:
 * every read names the board. Two implementations, SQLite and PostgreSQL, tested through the server.
 */

export interface StoredFile {
  hash: string;
  mime: string;
  width: number;
  height: number;
  bytes: number;
  data: Buffer;
}

export type FileMeta = Omit<StoredFile, 'data'>;

/** Why `link` refused: the board's or the uploader's bytes would go over its quota. */
export class QuotaError extends Error {
  constructor(
    readonly scope: 'board' | 'uploader',
    readonly used: number,
    readonly quota: number,
  ) {
    super(`${scope} quota`);
    this.name = 'QuotaError';
  }
}

export interface Quotas {
  board: number;
  uploader: number;
}

export interface FileStore {
  /**
   * Stores the file (once per hash) and links it to the board for `uploaderId`, checking both quotas
   * inside one transaction. 'exists' when the board already had it (nothing charged again).
   */
  put(boardId: string, uploaderId: string, file: StoredFile, quotas: Quotas, now?: number): Promise<'created' | 'exists'>;
  /** The file when it is linked to the board; undefined otherwise (also when it exists on another board). */
  get(boardId: string, hash: string): Promise<StoredFile | undefined>;
  /** Which of the hashes are linked to the board. */
  linked(boardId: string, hashes: readonly string[]): Promise<Set<string>>;
  /**
   * The files of `hashes` linked to the board, as long as their bytes together stay within
   * `maxBytes` (smallest first; the rest are left out and drawn as placeholders).
   */
  load(boardId: string, hashes: readonly string[], maxBytes: number): Promise<StoredFile[]>;
  /** Bytes of images linked to the board, and uploaded by the person (all boards). */
  usage(boardId: string, uploaderId: string): Promise<{ board: number; uploader: number }>;
  /**
   * Unlinks files no element, no retained op and no op kept for version history of their board refers to, linked before
   * `olderThan` (an upload about to be placed is kept), then deletes files linked to no board.
   */
  sweep(olderThan: number): Promise<{ unlinked: number; deleted: number }>;
  close(): Promise<void>;
}

const FILE_ID_IN_JSON = /"fileId":"([0-9a-f]{64})"/g;

/** The file ids named in element or op JSON texts. */
function fileIdsIn(texts: Iterable<string>): Set<string> {
  const ids = new Set<string>();
  for (const text of texts) for (const m of text.matchAll(FILE_ID_IN_JSON)) ids.add(m[1]!);
  return ids;
}

/** Picks files smallest first within the byte budget. */
function withinBudget<T extends { bytes: number }>(rows: T[], maxBytes: number): T[] {
  rows.sort((a, b) => a.bytes - b.bytes);
  const out: T[] = [];
  let total = 0;
  for (const r of rows) {
    if (total + r.bytes > maxBytes) break;
    total += r.bytes;
    out.push(r);
  }
  return out;
}

/** SQLite (better-sqlite3, the server's own connection): synchronous statements in IMMEDIATE transactions. */
export class SqliteFileStore implements FileStore {
  /**
   * `durably` runs a write transaction and resolves once it is on disk (SqliteStorage.writeDurably:
   * the WAL flushed off the event loop; a 10 MiB insert committed with synchronous=FULL held the loop
   * 66-83 ms).
   */
  constructor(
    private readonly db: Database.Database,
    private readonly durably: <T>(fn: () => { result: T; wrote: number }) => Promise<T>,
  ) {}

  async put(boardId: string, uploaderId: string, file: StoredFile, quotas: Quotas, now = Date.now()): Promise<'created' | 'exists'> {
    return this.durably((): { result: 'created' | 'exists'; wrote: number } => {
      if (this.db.prepare('select 1 from board_files where board_id = ? and hash = ?').get(boardId, file.hash)) return { result: 'exists', wrote: 0 };
      const board = this.sum('board_id', boardId);
      if (board + file.bytes > quotas.board) throw new QuotaError('board', board, quotas.board);
      const uploader = this.sum('uploaded_by', uploaderId);
      if (uploader + file.bytes > quotas.uploader) throw new QuotaError('uploader', uploader, quotas.uploader);
      this.db
        .prepare('insert into files (hash, mime, width, height, bytes, data, created_at) values (?, ?, ?, ?, ?, ?, ?) on conflict (hash) do nothing')
        .run(file.hash, file.mime, file.width, file.height, file.bytes, file.data, now);
      this.db.prepare('insert into board_files (board_id, hash, uploaded_by, bytes, created_at) values (?, ?, ?, ?, ?)').run(boardId, file.hash, uploaderId, file.bytes, now);
      return { result: 'created', wrote: file.bytes + 256 };
    });
  }

  private sum(column: 'board_id' | 'uploaded_by', value: string): number {
    const row = this.db.prepare(`select coalesce(sum(bytes), 0) as n from board_files where ${column} = ?`).get(value) as { n: number };
    return row.n;
  }

  async get(boardId: string, hash: string): Promise<StoredFile | undefined> {
    return this.db
      .prepare('select f.hash, f.mime, f.width, f.height, f.bytes, f.data from board_files b join files f on f.hash = b.hash where b.board_id = ? and b.hash = ?')
      .get(boardId, hash) as StoredFile | undefined;
  }

  async linked(boardId: string, hashes: readonly string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const rows = this.db
      .prepare(`select hash from board_files where board_id = ? and hash in (select value from json_each(?))`)
      .all(boardId, JSON.stringify(hashes)) as { hash: string }[];
    return new Set(rows.map((r) => r.hash));
  }

  async load(boardId: string, hashes: readonly string[], maxBytes: number): Promise<StoredFile[]> {
    if (hashes.length === 0) return [];
    const metas = this.db
      .prepare(`select f.hash, f.bytes from board_files b join files f on f.hash = b.hash where b.board_id = ? and b.hash in (select value from json_each(?))`)
      .all(boardId, JSON.stringify(hashes)) as { hash: string; bytes: number }[];
    const read = this.db.prepare('select hash, mime, width, height, bytes, data from files where hash = ?');
    return withinBudget(metas, maxBytes).map((m) => read.get(m.hash) as StoredFile);
  }

  async usage(boardId: string, uploaderId: string): Promise<{ board: number; uploader: number }> {
    return { board: this.sum('board_id', boardId), uploader: this.sum('uploaded_by', uploaderId) };
  }

  async sweep(olderThan: number): Promise<{ unlinked: number; deleted: number }> {
    const candidates = this.db.prepare('select board_id as boardId, hash from board_files where created_at < ?').all(olderThan) as { boardId: string; hash: string }[];
    const byBoard = new Map<string, string[]>();
    for (const c of candidates) byBoard.set(c.boardId, [...(byBoard.get(c.boardId) ?? []), c.hash]);
    const elementTexts = this.db.prepare(`select data from elements where board_id = ? and data like '%"fileId":"%'`).pluck();
    // The op log, and the older ops kept for version history (a restore re-adds what they added).
    const opTexts = this.db
      .prepare(`select data from ops where board_id = ? and data like '%"fileId":"%' union all select data from history_ops where board_id = ? and data like '%"fileId":"%'`)
      .pluck();
    const unlink = this.db.prepare('delete from board_files where board_id = ? and hash = ? and created_at < ?');
    let unlinked = 0;
    for (const [boardId, hashes] of byBoard) {
      // One board at a time, letting the event loop run in between (these statements are synchronous).
      await new Promise((resolve) => setImmediate(resolve));
      // Read and delete in one transaction, so that an element added meanwhile is seen.
      unlinked += this.db
        .transaction(() => {
          const used = fileIdsIn([...(elementTexts.all(boardId) as string[]), ...(opTexts.all(boardId, boardId) as string[])]);
          let n = 0;
          for (const h of hashes) if (!used.has(h)) n += unlink.run(boardId, h, olderThan).changes;
          return n;
        })
        .immediate();
    }
    const deleted = this.db.prepare('delete from files where not exists (select 1 from board_files b where b.hash = files.hash)').run().changes;
    return { unlinked, deleted };
  }

  async close(): Promise<void> {
    // The connection belongs to SqliteStorage.
  }
}

/** PostgreSQL: a small pool of its own on the same database (`bytea` columns). */
export class PgFileStore implements FileStore {
  constructor(private readonly pool: pg.Pool) {}

  static async open(url: string): Promise<PgFileStore> {
    const { default: pgModule } = await import('pg');
    const pool = new pgModule.Pool({ connectionString: url, max: 4 });
    pool.on('error', () => {});
    return new PgFileStore(pool);
  }

  async put(boardId: string, uploaderId: string, file: StoredFile, quotas: Quotas, now = Date.now()): Promise<'created' | 'exists'> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('begin');
        // One upload at a time per board and per uploader, so two at once cannot both pass a quota.
        await client.query(`select pg_advisory_xact_lock(hashtextextended('files:board:' || $1::text, 0))`, [boardId]);
        await client.query(`select pg_advisory_xact_lock(hashtextextended('files:user:' || $1::text, 0))`, [uploaderId]);
        const found = await client.query('select 1 from board_files where board_id = $1 and hash = $2', [boardId, file.hash]);
        if (found.rowCount) {
          await client.query('commit');
          return 'exists';
        }
        const sums = await client.query<{ board: string; uploader: string }>(
          'select (select coalesce(sum(bytes), 0) from board_files where board_id = $1) as board, (select coalesce(sum(bytes), 0) from board_files where uploaded_by = $2) as uploader',
          [boardId, uploaderId],
        );
        const board = Number(sums.rows[0]!.board);
        const uploader = Number(sums.rows[0]!.uploader);
        if (board + file.bytes > quotas.board) throw new QuotaError('board', board, quotas.board);
        if (uploader + file.bytes > quotas.uploader) throw new QuotaError('uploader', uploader, quotas.uploader);
        await client.query('insert into files (hash, mime, width, height, bytes, data, created_at) values ($1, $2, $3, $4, $5, $6, $7) on conflict (hash) do nothing', [
          file.hash,
          file.mime,
          file.width,
          file.height,
          file.bytes,
          file.data,
          now,
        ]);
        await client.query('insert into board_files (board_id, hash, uploaded_by, bytes, created_at) values ($1, $2, $3, $4, $5)', [boardId, file.hash, uploaderId, file.bytes, now]);
        await client.query('commit');
        return 'created';
      } catch (err) {
        await client.query('rollback').catch(() => {});
        // The clean-up removed the same file between our insert and link (23503), or another process
        // linked it at the same moment (23505): once more.
        const code = (err as { code?: string }).code;
        if (attempt < 2 && (code === '23503' || code === '23505')) continue;
        throw err;
      } finally {
        client.release();
      }
    }
  }

  async get(boardId: string, hash: string): Promise<StoredFile | undefined> {
    const { rows } = await this.pool.query<StoredFile>(
      'select f.hash, f.mime, f.width, f.height, f.bytes, f.data from board_files b join files f on f.hash = b.hash where b.board_id = $1 and b.hash = $2',
      [boardId, hash],
    );
    return rows[0];
  }

  async linked(boardId: string, hashes: readonly string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const { rows } = await this.pool.query<{ hash: string }>('select hash from board_files where board_id = $1 and hash = any($2::text[])', [boardId, [...hashes]]);
    return new Set(rows.map((r) => r.hash));
  }

  async load(boardId: string, hashes: readonly string[], maxBytes: number): Promise<StoredFile[]> {
    if (hashes.length === 0) return [];
    const { rows } = await this.pool.query<{ hash: string; bytes: number }>(
      'select f.hash, f.bytes from board_files b join files f on f.hash = b.hash where b.board_id = $1 and b.hash = any($2::text[])',
      [boardId, [...hashes]],
    );
    const chosen = withinBudget(rows, maxBytes).map((r) => r.hash);
    if (chosen.length === 0) return [];
    const full = await this.pool.query<StoredFile>('select hash, mime, width, height, bytes, data from files where hash = any($1::text[])', [chosen]);
    return full.rows;
  }

  async usage(boardId: string, uploaderId: string): Promise<{ board: number; uploader: number }> {
    const { rows } = await this.pool.query<{ board: string; uploader: string }>(
      'select (select coalesce(sum(bytes), 0) from board_files where board_id = $1) as board, (select coalesce(sum(bytes), 0) from board_files where uploaded_by = $2) as uploader',
      [boardId, uploaderId],
    );
    return { board: Number(rows[0]!.board), uploader: Number(rows[0]!.uploader) };
  }

  async sweep(olderThan: number): Promise<{ unlinked: number; deleted: number }> {
    const { rows: candidates } = await this.pool.query<{ board_id: string; hash: string }>('select board_id, hash from board_files where created_at < $1', [olderThan]);
    const byBoard = new Map<string, string[]>();
    for (const c of candidates) byBoard.set(c.board_id, [...(byBoard.get(c.board_id) ?? []), c.hash]);
    let unlinked = 0;
    for (const [boardId, hashes] of byBoard) {
      const client = await this.pool.connect();
      try {
        await client.query('begin');
        // The board's commits lock its row (PgStorage.commit): none runs between this read and the delete.
        await client.query('select 1 from boards where id = $1 for update', [boardId]);
        const texts = await client.query<{ data: string }>(
          `select data from elements where board_id = $1 and data like '%"fileId":"%' union all select data from ops where board_id = $1 and data like '%"fileId":"%' union all select data from history_ops where board_id = $1 and data like '%"fileId":"%'`,
          [boardId],
        );
        const used = fileIdsIn(texts.rows.map((r) => r.data));
        const unused = hashes.filter((h) => !used.has(h));
        if (unused.length > 0) {
          const res = await client.query('delete from board_files where board_id = $1 and hash = any($2::text[]) and created_at < $3', [boardId, unused, olderThan]);
          unlinked += res.rowCount ?? 0;
        }
        await client.query('commit');
      } catch (err) {
        await client.query('rollback').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    }
    const res = await this.pool.query('delete from files f where not exists (select 1 from board_files b where b.hash = f.hash)');
    return { unlinked, deleted: res.rowCount ?? 0 };
  }

  async close(): Promise<void> {
    if (!this.pool.ending) await this.pool.end();
  }
}
