import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { NamedVersion } from '@inkboard/protocol';
import type { Storage } from './Storage.js';

/**
 * Version history's tables (issue 16): `history_ops` (ops trimmed from the resume log, copied there
 * by the storages' trims in the same transaction), `checkpoints` (gzipped full states) and
 * `named_versions`. History reads see `history_ops` ∪ `ops`. One implementation per database,
 * behind one interface, both tested by test/history.test.ts (SQLite) and test/history-cluster.test.ts
 * (PostgreSQL).
 */

/** An op of the history as stored: its JSON is parsed by whoever needs it (a worker for replays). */
export interface HistoryOpRow {
  seq: number;
  authorId: string;
  authorName: string;
  data: string;
  createdAt: number;
}

export interface CheckpointRow {
  seq: number;
  /** gzip of the elements' JSON array. */
  data: Uint8Array;
  bytes: number;
  elementCount: number;
  /** When the state at `seq` was made (the commit time of op `seq`). */
  createdAt: number;
}

export interface HistoryStore {
  /** True when several processes share the database (each one's running byte counts miss the others' trims). */
  readonly shared: boolean;
  /** Ops with after < seq <= upTo, ascending, at most `limit`. */
  opsBetween(boardId: string, after: number, upTo: number, limit: number): Promise<HistoryOpRow[]>;
  /**
   * The JSON of the ops with after < seq <= upTo in seq order (for a replay), as few strings as the
   * database gives (PostgreSQL: one per table, joined with commas), with their count and first and last seq.
   */
  opsJsonBetween(boardId: string, after: number, upTo: number): Promise<{ count: number; first: number; last: number; json: string[] }>;
  /** Ops with seq < before, newest first, at most `limit`. */
  opsBefore(boardId: string, before: number, limit: number): Promise<HistoryOpRow[]>;
  /** Whether any of the board's ops moved to history_ops (its log was trimmed). */
  hasHistoryOps(boardId: string): Promise<boolean>;
  /** Lowest seq of an op still kept (history or log), or undefined. */
  oldestSeq(boardId: string): Promise<number | undefined>;
  /** Time of the op at `seq`, when it is still kept. */
  opTime(boardId: string, seq: number): Promise<number | undefined>;
  /** Ops with after < seq <= upTo whose JSON mentions `elementId`, newest first, at most `limit`. */
  opsMentioning(boardId: string, elementId: string, after: number, upTo: number, limit: number): Promise<HistoryOpRow[]>;

  /** The checkpoint with the greatest seq <= `seq`. */
  checkpointAtOrBefore(boardId: string, seq: number): Promise<CheckpointRow | undefined>;
  latestCheckpointSeq(boardId: string): Promise<number | undefined>;
  /** Inserts a checkpoint (nothing when one exists at that seq: another process made it). */
  insertCheckpoint(boardId: string, cp: CheckpointRow): Promise<void>;
  /** Seqs and times of the board's checkpoints, ascending. */
  checkpointTimes(boardId: string): Promise<{ seq: number; createdAt: number; bytes: number }[]>;
  /** Seqs and times of the board's checkpoints with seq < before, newest first, at most `limit` (the kept states `history.list` pages through). */
  checkpointsBefore(boardId: string, before: number, limit: number): Promise<{ seq: number; createdAt: number }[]>;
  deleteCheckpoints(boardId: string, seqs: readonly number[]): Promise<void>;
  /** Forgets history ops at or below `seq` (retention, byte budget); returns how many and the bytes of their JSON. */
  deleteHistoryOps(boardId: string, upTo: number): Promise<{ ops: number; bytes: number }>;
  /** Lowest and highest seq in history_ops, or undefined (an index lookup each). */
  historySeqRange(boardId: string): Promise<{ min: number; max: number } | undefined>;
  /** Bytes of the JSON of the history ops with after < seq <= upTo (the byte budget's count, measured in windows). */
  historyBytesBetween(boardId: string, after: number, upTo: number): Promise<number>;
  /** Seqs and JSON bytes of the history ops with seq > after, ascending, at most `limit`. */
  historyOpSizes(boardId: string, after: number, limit: number): Promise<{ seq: number; bytes: number }[]>;
  /** Boards that have a checkpoint (the retention job's work list). */
  boardsWithCheckpoints(): Promise<string[]>;
  /** The board's current elements (JSON rows) and their seq, read consistently; undefined when the board does not exist. */
  currentState(boardId: string): Promise<{ seq: number; rows: string[] } | undefined>;

  insertNamed(v: NamedVersion & { boardId: string }): Promise<void>;
  /** False when the board has no named version with this id. */
  deleteNamed(boardId: string, id: string): Promise<boolean>;
  /** Oldest (by seq) first. */
  named(boardId: string): Promise<NamedVersion[]>;
  namedCount(boardId: string): Promise<number>;
  /** Named versions with from <= seq <= to. */
  namedBetween(boardId: string, from: number, to: number): Promise<NamedVersion[]>;
  /** Bytes the board's history takes: history ops' JSON and checkpoints (for docs/benchmarks.md). */
  sizes(boardId: string): Promise<{ historyOps: number; historyOpBytes: number; checkpoints: number; checkpointBytes: number }>;
}

const OP_COLUMNS = 'seq, author_id as "authorId", author_name as "authorName", data, created_at as "createdAt"';

/** Merges two lists each sorted by seq (ascending, or descending with `desc`), keeping at most `limit`. */
function merge(a: HistoryOpRow[], b: HistoryOpRow[], limit: number, desc: boolean): HistoryOpRow[] {
  const out: HistoryOpRow[] = [];
  let i = 0;
  let j = 0;
  while (out.length < limit && (i < a.length || j < b.length)) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && (desc ? x.seq > y.seq : x.seq < y.seq))) out.push(a[i++]!);
    else if (x !== undefined && x.seq === y.seq) {
      out.push(a[i++]!);
      j++;
    } else out.push(b[j++]!);
  }
  return out;
}

const num = (rows: HistoryOpRow[]) => rows.map((r) => ({ ...r, seq: Number(r.seq), createdAt: Number(r.createdAt) }));

export class SqliteHistoryStore implements HistoryStore {
  readonly shared = false;
  private readonly s;

  constructor(private readonly db: Database.Database) {
    const both = (table: string, where: string, order: string) => db.prepare(`select ${OP_COLUMNS} from ${table} where board_id = @boardId and ${where} order by seq ${order} limit @limit`);
    this.s = {
      histAsc: both('history_ops', 'seq > @after and seq <= @upTo', 'asc'),
      logAsc: both('ops', 'seq > @after and seq <= @upTo', 'asc'),
      histDesc: both('history_ops', 'seq < @before', 'desc'),
      logDesc: both('ops', 'seq < @before', 'desc'),
      histMention: both('history_ops', 'seq > @after and seq <= @upTo and instr(data, @needle) > 0', 'desc'),
      logMention: both('ops', 'seq > @after and seq <= @upTo and instr(data, @needle) > 0', 'desc'),
      hasHistory: db.prepare('select 1 as one from history_ops where board_id = ? limit 1'),
      oldest: db.prepare('select min(s) as seq from (select min(seq) as s from history_ops where board_id = ? union all select min(seq) as s from ops where board_id = ?)'),
      opTime: db.prepare('select created_at as t from history_ops where board_id = ? and seq = ? union all select created_at as t from ops where board_id = ? and seq = ?'),
      cpAt: db.prepare('select seq, data, bytes, element_count as elementCount, created_at as createdAt from checkpoints where board_id = ? and seq <= ? order by seq desc limit 1'),
      cpLatest: db.prepare('select max(seq) as seq from checkpoints where board_id = ?'),
      cpInsert: db.prepare('insert or ignore into checkpoints (board_id, seq, data, bytes, element_count, created_at) values (?, ?, ?, ?, ?, ?)'),
      cpTimes: db.prepare('select seq, created_at as createdAt, bytes from checkpoints where board_id = ? order by seq'),
      cpBefore: db.prepare('select seq, created_at as createdAt from checkpoints where board_id = ? and seq < ? order by seq desc limit ?'),
      cpDelete: db.prepare('delete from checkpoints where board_id = ? and seq = ?'),
      histDelete: db.prepare('delete from history_ops where board_id = ? and seq <= ? returning octet_length(data) as b'),
      // Two subqueries: SQLite finds each of min and max with one index lookup, both together by a scan.
      histRange: db.prepare('select (select min(seq) from history_ops where board_id = @b) as min, (select max(seq) from history_ops where board_id = @b) as max'),
      histBytes: db.prepare('select coalesce(sum(octet_length(data)), 0) as b from history_ops where board_id = ? and seq > ? and seq <= ?'),
      histSizes: db.prepare('select seq, octet_length(data) as bytes from history_ops where board_id = ? and seq > ? order by seq limit ?'),
      cpBoards: db.prepare('select distinct board_id as id from checkpoints'),
      boardSeq: db.prepare('select seq from boards where id = ?'),
      elements: db.prepare('select data from elements where board_id = ?'),
      namedInsert: db.prepare('insert into named_versions (id, board_id, seq, name, created_by, created_by_name, created_at) values (@id, @boardId, @seq, @name, @createdBy, @createdByName, @createdAt)'),
      namedDelete: db.prepare('delete from named_versions where board_id = ? and id = ?'),
      named: db.prepare('select id, seq, name, created_by as createdBy, created_by_name as createdByName, created_at as createdAt from named_versions where board_id = ? order by seq, created_at'),
      namedCount: db.prepare('select count(*) as n from named_versions where board_id = ?'),
      namedBetween: db.prepare('select id, seq, name, created_by as createdBy, created_by_name as createdByName, created_at as createdAt from named_versions where board_id = ? and seq >= ? and seq <= ? order by seq, created_at'),
      sizes: db.prepare('select (select count(*) from history_ops where board_id = @b) as historyOps, (select coalesce(sum(length(data) + length(author_id) + length(author_name) + 24), 0) from history_ops where board_id = @b) as historyOpBytes, (select count(*) from checkpoints where board_id = @b) as checkpoints, (select coalesce(sum(bytes), 0) from checkpoints where board_id = @b) as checkpointBytes'),
    };
    this.current = db.transaction((boardId: string) => {
      const board = this.s.boardSeq.get(boardId) as { seq: number } | undefined;
      if (!board) return undefined;
      return { seq: board.seq, rows: (this.s.elements.all(boardId) as { data: string }[]).map((r) => r.data) };
    });
  }

  private readonly current: (boardId: string) => { seq: number; rows: string[] } | undefined;

  async opsBetween(boardId: string, after: number, upTo: number, limit: number): Promise<HistoryOpRow[]> {
    const args = { boardId, after, upTo, limit };
    return merge(this.s.histAsc.all(args) as HistoryOpRow[], this.s.logAsc.all(args) as HistoryOpRow[], limit, false);
  }

  async opsJsonBetween(boardId: string, after: number, upTo: number): Promise<{ count: number; first: number; last: number; json: string[] }> {
    const rows = await this.opsBetween(boardId, after, upTo, upTo - after);
    return { count: rows.length, first: rows[0]?.seq ?? 0, last: rows.at(-1)?.seq ?? 0, json: rows.map((r) => r.data) };
  }

  async opsBefore(boardId: string, before: number, limit: number): Promise<HistoryOpRow[]> {
    const args = { boardId, before, limit };
    return merge(this.s.histDesc.all(args) as HistoryOpRow[], this.s.logDesc.all(args) as HistoryOpRow[], limit, true);
  }

  async hasHistoryOps(boardId: string): Promise<boolean> {
    return this.s.hasHistory.get(boardId) !== undefined;
  }

  async oldestSeq(boardId: string): Promise<number | undefined> {
    return (this.s.oldest.get(boardId, boardId) as { seq: number | null } | undefined)?.seq ?? undefined;
  }

  async opTime(boardId: string, seq: number): Promise<number | undefined> {
    return (this.s.opTime.get(boardId, seq, boardId, seq) as { t: number } | undefined)?.t;
  }

  async opsMentioning(boardId: string, elementId: string, after: number, upTo: number, limit: number): Promise<HistoryOpRow[]> {
    const args = { boardId, after, upTo, limit, needle: `"${elementId}"` };
    return merge(this.s.histMention.all(args) as HistoryOpRow[], this.s.logMention.all(args) as HistoryOpRow[], limit, true);
  }

  async checkpointAtOrBefore(boardId: string, seq: number): Promise<CheckpointRow | undefined> {
    return this.s.cpAt.get(boardId, seq) as CheckpointRow | undefined;
  }

  async latestCheckpointSeq(boardId: string): Promise<number | undefined> {
    return (this.s.cpLatest.get(boardId) as { seq: number | null }).seq ?? undefined;
  }

  async insertCheckpoint(boardId: string, cp: CheckpointRow): Promise<void> {
    this.s.cpInsert.run(boardId, cp.seq, Buffer.from(cp.data.buffer, cp.data.byteOffset, cp.data.byteLength), cp.bytes, cp.elementCount, cp.createdAt);
  }

  async checkpointTimes(boardId: string): Promise<{ seq: number; createdAt: number; bytes: number }[]> {
    return this.s.cpTimes.all(boardId) as { seq: number; createdAt: number; bytes: number }[];
  }

  async checkpointsBefore(boardId: string, before: number, limit: number): Promise<{ seq: number; createdAt: number }[]> {
    return this.s.cpBefore.all(boardId, before, limit) as { seq: number; createdAt: number }[];
  }

  async deleteCheckpoints(boardId: string, seqs: readonly number[]): Promise<void> {
    this.db.transaction(() => {
      for (const seq of seqs) this.s.cpDelete.run(boardId, seq);
    })();
  }

  async deleteHistoryOps(boardId: string, upTo: number): Promise<{ ops: number; bytes: number }> {
    const rows = this.s.histDelete.all(boardId, upTo) as { b: number }[];
    return { ops: rows.length, bytes: rows.reduce((sum, r) => sum + r.b, 0) };
  }

  async historySeqRange(boardId: string): Promise<{ min: number; max: number } | undefined> {
    const row = this.s.histRange.get({ b: boardId }) as { min: number | null; max: number | null };
    return row.min === null || row.max === null ? undefined : { min: row.min, max: row.max };
  }

  async historyBytesBetween(boardId: string, after: number, upTo: number): Promise<number> {
    return (this.s.histBytes.get(boardId, after, upTo) as { b: number }).b;
  }

  async historyOpSizes(boardId: string, after: number, limit: number): Promise<{ seq: number; bytes: number }[]> {
    return this.s.histSizes.all(boardId, after, limit) as { seq: number; bytes: number }[];
  }

  async boardsWithCheckpoints(): Promise<string[]> {
    return (this.s.cpBoards.all() as { id: string }[]).map((r) => r.id);
  }

  async currentState(boardId: string): Promise<{ seq: number; rows: string[] } | undefined> {
    return this.current(boardId);
  }

  async insertNamed(v: NamedVersion & { boardId: string }): Promise<void> {
    this.s.namedInsert.run(v);
  }

  async deleteNamed(boardId: string, id: string): Promise<boolean> {
    return this.s.namedDelete.run(boardId, id).changes === 1;
  }

  async named(boardId: string): Promise<NamedVersion[]> {
    return this.s.named.all(boardId) as NamedVersion[];
  }

  async namedCount(boardId: string): Promise<number> {
    return (this.s.namedCount.get(boardId) as { n: number }).n;
  }

  async namedBetween(boardId: string, from: number, to: number): Promise<NamedVersion[]> {
    return this.s.namedBetween.all(boardId, from, to) as NamedVersion[];
  }

  async sizes(boardId: string) {
    return this.s.sizes.get({ b: boardId }) as { historyOps: number; historyOpBytes: number; checkpoints: number; checkpointBytes: number };
  }
}

export class PgHistoryStore implements HistoryStore {
  readonly shared = true;

  constructor(private readonly pool: pg.Pool) {}

  private async rows<T>(text: string, values: unknown[]): Promise<T[]> {
    return (await this.pool.query(text, values)).rows as T[];
  }

  async opsBetween(boardId: string, after: number, upTo: number, limit: number): Promise<HistoryOpRow[]> {
    const q = (table: string) => this.rows<HistoryOpRow>(`select ${OP_COLUMNS} from ${table} where board_id = $1 and seq > $2 and seq <= $3 order by seq asc limit $4`, [boardId, after, upTo, limit]);
    const [a, b] = await Promise.all([q('history_ops'), q('ops')]);
    return merge(num(a), num(b), limit, false);
  }

  async opsJsonBetween(boardId: string, after: number, upTo: number): Promise<{ count: number; first: number; last: number; json: string[] }> {
    // One row per table with the ops' JSON joined by the database: no row object per op in node-pg.
    // The trimmed ops are all below the log's, so history_ops' part comes first.
    const q = (table: string) =>
      this.rows<{ n: string; first: string | null; last: string | null; json: string | null }>(
        `select count(*) as n, min(seq) as first, max(seq) as last, string_agg(data, ',' order by seq) as json from ${table} where board_id = $1 and seq > $2 and seq <= $3`,
        [boardId, after, upTo],
      );
    const [[h], [o]] = await Promise.all([q('history_ops'), q('ops')]);
    const parts = [h, o].filter((p) => p && Number(p.n) > 0) as { n: string; first: string; last: string; json: string }[];
    const count = parts.reduce((sum, p) => sum + Number(p.n), 0);
    // Overlapping ranges (a trim copied rows the log still had) would not replay in order: read row by row.
    if (parts.length === 2 && Number(parts[0]!.last) >= Number(parts[1]!.first)) {
      const rows = await this.opsBetween(boardId, after, upTo, upTo - after);
      return { count: rows.length, first: rows[0]?.seq ?? 0, last: rows.at(-1)?.seq ?? 0, json: rows.map((r) => r.data) };
    }
    return { count, first: parts.length ? Number(parts[0]!.first) : 0, last: parts.length ? Number(parts.at(-1)!.last) : 0, json: parts.map((p) => p.json) };
  }

  async opsBefore(boardId: string, before: number, limit: number): Promise<HistoryOpRow[]> {
    // Seqs are contiguous across the two tables (but where retention thinned the history), so the
    // window [before - limit, before) holds the rows wanted: the planner reads just those, whatever
    // its statistics (before an ANALYZE it sorted every op of the board, 400 ms at 100,000 ops).
    const low = Math.max(0, before - limit);
    const q = (table: string, bounded: boolean) =>
      this.rows<HistoryOpRow>(`select ${OP_COLUMNS} from ${table} where board_id = $1 and seq < $2 and seq >= $4 order by seq desc limit $3`, [boardId, before, limit, bounded ? low : 0]);
    const [a, b] = await Promise.all([q('history_ops', true), q('ops', true)]);
    const rows = merge(num(a), num(b), limit, true);
    if (rows.length === limit || low === 0) return rows;
    const [c, d] = await Promise.all([q('history_ops', false), q('ops', false)]);
    return merge(num(c), num(d), limit, true);
  }

  async hasHistoryOps(boardId: string): Promise<boolean> {
    return (await this.rows('select 1 as one from history_ops where board_id = $1 limit 1', [boardId])).length > 0;
  }

  async oldestSeq(boardId: string): Promise<number | undefined> {
    const [row] = await this.rows<{ seq: string | null }>('select least((select min(seq) from history_ops where board_id = $1), (select min(seq) from ops where board_id = $1)) as seq', [boardId]);
    return row?.seq == null ? undefined : Number(row.seq);
  }

  async opTime(boardId: string, seq: number): Promise<number | undefined> {
    const [row] = await this.rows<{ t: string }>('select created_at as t from history_ops where board_id = $1 and seq = $2 union all select created_at as t from ops where board_id = $1 and seq = $2', [boardId, seq]);
    return row ? Number(row.t) : undefined;
  }

  async opsMentioning(boardId: string, elementId: string, after: number, upTo: number, limit: number): Promise<HistoryOpRow[]> {
    const q = (table: string) =>
      this.rows<HistoryOpRow>(`select ${OP_COLUMNS} from ${table} where board_id = $1 and seq > $2 and seq <= $3 and strpos(data, $4) > 0 order by seq desc limit $5`, [boardId, after, upTo, `"${elementId}"`, limit]);
    const [a, b] = await Promise.all([q('history_ops'), q('ops')]);
    return merge(num(a), num(b), limit, true);
  }

  async checkpointAtOrBefore(boardId: string, seq: number): Promise<CheckpointRow | undefined> {
    const [row] = await this.rows<{ seq: string; data: Buffer; bytes: number; elementCount: number; createdAt: string }>(
      'select seq, data, bytes, element_count as "elementCount", created_at as "createdAt" from checkpoints where board_id = $1 and seq <= $2 order by seq desc limit 1',
      [boardId, seq],
    );
    return row && { seq: Number(row.seq), data: row.data, bytes: row.bytes, elementCount: row.elementCount, createdAt: Number(row.createdAt) };
  }

  async latestCheckpointSeq(boardId: string): Promise<number | undefined> {
    const [row] = await this.rows<{ seq: string | null }>('select max(seq) as seq from checkpoints where board_id = $1', [boardId]);
    return row?.seq == null ? undefined : Number(row.seq);
  }

  async insertCheckpoint(boardId: string, cp: CheckpointRow): Promise<void> {
    await this.pool.query('insert into checkpoints (board_id, seq, data, bytes, element_count, created_at) values ($1, $2, $3, $4, $5, $6) on conflict do nothing', [
      boardId,
      cp.seq,
      Buffer.from(cp.data.buffer, cp.data.byteOffset, cp.data.byteLength),
      cp.bytes,
      cp.elementCount,
      cp.createdAt,
    ]);
  }

  async checkpointTimes(boardId: string): Promise<{ seq: number; createdAt: number; bytes: number }[]> {
    const rows = await this.rows<{ seq: string; createdAt: string; bytes: number }>('select seq, created_at as "createdAt", bytes from checkpoints where board_id = $1 order by seq', [boardId]);
    return rows.map((r) => ({ seq: Number(r.seq), createdAt: Number(r.createdAt), bytes: r.bytes }));
  }

  async checkpointsBefore(boardId: string, before: number, limit: number): Promise<{ seq: number; createdAt: number }[]> {
    const rows = await this.rows<{ seq: string; createdAt: string }>('select seq, created_at as "createdAt" from checkpoints where board_id = $1 and seq < $2 order by seq desc limit $3', [boardId, before, limit]);
    return rows.map((r) => ({ seq: Number(r.seq), createdAt: Number(r.createdAt) }));
  }

  async deleteCheckpoints(boardId: string, seqs: readonly number[]): Promise<void> {
    if (seqs.length) await this.pool.query('delete from checkpoints where board_id = $1 and seq = any($2::bigint[])', [boardId, seqs]);
  }

  async deleteHistoryOps(boardId: string, upTo: number): Promise<{ ops: number; bytes: number }> {
    const [row] = await this.rows<{ n: string; b: string | null }>(
      'with gone as (delete from history_ops where board_id = $1 and seq <= $2 returning octet_length(data) as b) select count(*) as n, sum(b) as b from gone',
      [boardId, upTo],
    );
    return { ops: Number(row?.n ?? 0), bytes: Number(row?.b ?? 0) };
  }

  async historySeqRange(boardId: string): Promise<{ min: number; max: number } | undefined> {
    const [row] = await this.rows<{ min: string | null; max: string | null }>('select (select min(seq) from history_ops where board_id = $1) as min, (select max(seq) from history_ops where board_id = $1) as max', [boardId]);
    return row?.min == null || row.max == null ? undefined : { min: Number(row.min), max: Number(row.max) };
  }

  async historyBytesBetween(boardId: string, after: number, upTo: number): Promise<number> {
    const [row] = await this.rows<{ b: string }>('select coalesce(sum(octet_length(data)), 0) as b from history_ops where board_id = $1 and seq > $2 and seq <= $3', [boardId, after, upTo]);
    return Number(row?.b ?? 0);
  }

  async historyOpSizes(boardId: string, after: number, limit: number): Promise<{ seq: number; bytes: number }[]> {
    const rows = await this.rows<{ seq: string; bytes: number }>('select seq, octet_length(data) as bytes from history_ops where board_id = $1 and seq > $2 order by seq limit $3', [boardId, after, limit]);
    return rows.map((r) => ({ seq: Number(r.seq), bytes: Number(r.bytes) }));
  }

  async boardsWithCheckpoints(): Promise<string[]> {
    return (await this.rows<{ id: string }>('select distinct board_id as id from checkpoints', [])).map((r) => r.id);
  }

  async currentState(boardId: string): Promise<{ seq: number; rows: string[] } | undefined> {
    const client = await this.pool.connect();
    try {
      await client.query('begin isolation level repeatable read read only');
      const board = await client.query<{ seq: string }>('select seq from boards where id = $1', [boardId]);
      const seq = board.rows[0]?.seq;
      const rows = seq === undefined ? [] : (await client.query<{ data: string }>('select data from elements where board_id = $1', [boardId])).rows.map((r) => r.data);
      await client.query('commit');
      return seq === undefined ? undefined : { seq: Number(seq), rows };
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async insertNamed(v: NamedVersion & { boardId: string }): Promise<void> {
    await this.pool.query('insert into named_versions (id, board_id, seq, name, created_by, created_by_name, created_at) values ($1, $2, $3, $4, $5, $6, $7)', [
      v.id,
      v.boardId,
      v.seq,
      v.name,
      v.createdBy,
      v.createdByName,
      v.createdAt,
    ]);
  }

  async deleteNamed(boardId: string, id: string): Promise<boolean> {
    return ((await this.pool.query('delete from named_versions where board_id = $1 and id = $2', [boardId, id])).rowCount ?? 0) === 1;
  }

  private async namedRows(where: string, values: unknown[]): Promise<NamedVersion[]> {
    const rows = await this.rows<NamedVersion & { seq: string; createdAt: string }>(
      `select id, seq, name, created_by as "createdBy", created_by_name as "createdByName", created_at as "createdAt" from named_versions where ${where} order by seq, created_at`,
      values,
    );
    return rows.map((r) => ({ ...r, seq: Number(r.seq), createdAt: Number(r.createdAt) }));
  }

  named(boardId: string): Promise<NamedVersion[]> {
    return this.namedRows('board_id = $1', [boardId]);
  }

  async namedCount(boardId: string): Promise<number> {
    const [row] = await this.rows<{ n: string }>('select count(*) as n from named_versions where board_id = $1', [boardId]);
    return Number(row?.n ?? 0);
  }

  namedBetween(boardId: string, from: number, to: number): Promise<NamedVersion[]> {
    return this.namedRows('board_id = $1 and seq >= $2 and seq <= $3', [boardId, from, to]);
  }

  async sizes(boardId: string) {
    const [row] = await this.rows<Record<string, string>>(
      `select (select count(*) from history_ops where board_id = $1) as "historyOps",
              (select coalesce(sum(pg_column_size(h.*)), 0) from history_ops h where board_id = $1) as "historyOpBytes",
              (select count(*) from checkpoints where board_id = $1) as "checkpoints",
              (select coalesce(sum(pg_column_size(c.*)), 0) from checkpoints c where board_id = $1) as "checkpointBytes"`,
      [boardId],
    );
    return { historyOps: Number(row!.historyOps), historyOpBytes: Number(row!.historyOpBytes), checkpoints: Number(row!.checkpoints), checkpointBytes: Number(row!.checkpointBytes) };
  }
}

/** The history store on the same database as `storage`. */
export function historyStoreFor(storage: Storage): HistoryStore {
  const handle = storage as unknown as { sqlite?: Database.Database; pool?: pg.Pool };
  if (storage.kind === 'sqlite' && handle.sqlite) return new SqliteHistoryStore(handle.sqlite);
  if (storage.kind === 'postgres' && handle.pool) return new PgHistoryStore(handle.pool);
  throw new Error(`version history: no history store for a ${storage.kind} storage`);
}
