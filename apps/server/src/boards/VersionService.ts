import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TRPCError } from '@trpc/server';
import { Piscina } from 'piscina';
import {
  changedIds,
  groupVersions,
  newId,
  summarizeOps,
  THINNED_AUTHOR,
  VERSION_LIMITS,
  type Element,
  type ElementInfo,
  type ElementType,
  type HistoryListOutput,
  type NamedVersion,
  type Op,
  type User,
  type Version,
} from '@inkboard/protocol';
import { ByteLru } from '../render/ByteLru.js';
import type { HistoryOpRow, HistoryStore } from '../storage/HistoryStore.js';
import type { BoardService, PushAck } from './BoardService.js';
import type { ReplayJob, ReplayResult } from './versionJobs.js';

const MiB = 1024 * 1024;
const DAY_MS = 24 * 3_600_000;

/** Version history settings (config.ts: INKBOARD_HISTORY_*; docs/limits.md, "Version history"). */
export interface VersionSettings {
  /** A checkpoint (the full state, gzipped) after this many ops since the last one. */
  checkpointEvery: number;
  /** Every op is kept this long; older history keeps one checkpoint per day (UTC). */
  keepAllMs: number;
  /** How often the retention job runs. */
  retentionIntervalMs: number;
  /** Recent states kept in memory (bytes of their JSON). */
  stateCacheBytes: number;
  /** Worker threads replaying and serializing states. */
  threads: number;
  /** Steps of nice the worker threads run below the server (a replay yields the CPU to the event loop). */
  workerNice: number;
  /** Ops one `history.list` call reads at most (and MiB of their JSON): a long version is listed over several pages. */
  listScanOps: number;
  listScanBytes: number;
  /** Ops `history.elementInfo` looks back over (newest first). */
  infoScanOps: number;
  /** Named versions one board may have. */
  namedPerBoard: number;
  /**
   * Byte budget of one board's history (JSON of its history ops + its gzipped checkpoints): past it
   * the oldest history is thinned off the hot path until it takes at most 3/4 of it.
   */
  maxBytes: number;
  /** The clock (tests move it). */
  now: () => number;
}

export const DEFAULT_VERSION_SETTINGS: VersionSettings = {
  checkpointEvery: 1_000,
  keepAllMs: 30 * DAY_MS,
  retentionIntervalMs: 3_600_000,
  stateCacheBytes: 64 * MiB,
  threads: 1,
  workerNice: 0,
  listScanOps: 10_000,
  listScanBytes: 8 * MiB,
  infoScanOps: 50_000,
  namedPerBoard: 1_000,
  maxBytes: 64 * MiB,
  now: () => Date.now(),
};

const here = import.meta.url;
const fromSource = here.endsWith('.ts');

/** The worker from TypeScript source (tests: through tsx, the protocol from its source) or from the build. */
function workerOptions(nice: number): { filename: string; execArgv: string[]; workerData: { protocol: string; nice: number } } {
  const filename = fileURLToPath(new URL(fromSource ? './versionWorker.ts' : './versionWorker.js', here));
  if (!fromSource) return { filename, execArgv: [], workerData: { protocol: '@inkboard/protocol', nice } };
  const protocolSource = new URL('../../../../packages/protocol/src/index.ts', here);
  const tsx = pathToFileURL(createRequire(here).resolve('tsx')).href;
  return { filename, execArgv: ['--import', tsx], workerData: { protocol: existsSync(fileURLToPath(protocolSource)) ? protocolSource.href : '@inkboard/protocol', nice } };
}

/** Seqs `elementInfo` searches at a time (a few ms of a SQLite query on the event loop). */
const INFO_WINDOW = 5_000;
/** Seqs whose history bytes are summed at a time when a board's history is measured (the sizes are in the rows' headers). */
const MEASURE_WINDOW = 2_000;
/** History ops read at a time (seq and size) when the oldest are walked for the budget's cut. */
const THIN_PAGE = 500;
/** History ops deleted at a time by a thinning. */
const DELETE_WINDOW = 500;

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

const badRequest = (message: string) => new TRPCError({ code: 'BAD_REQUEST', message });

interface ParsedOp {
  row: HistoryOpRow;
  op: Op;
}

/**
 * Version history (issue 16): versions (runs of edits by one person), named versions, the state at
 * any seq and restores. Everything lives in the database (history_ops ∪ ops, checkpoints,
 * named_versions), so several processes see the same history. States are rebuilt from the nearest
 * checkpoint by a worker thread; checkpoints are made after commits, off the hot path, one board at a
 * time; a periodic job applies the retention policy.
 */
export class VersionService {
  readonly settings: VersionSettings;
  private readonly pool: Piscina;
  private readonly states: ByteLru<{ seq: number; elements: Element[]; bytes: number }>;
  private readonly inflight = new Map<string, Promise<{ seq: number; elements: Element[]; bytes: number }>>();
  /** Latest checkpoint seq per board, as far as this process knows (-1: none). */
  private readonly latestCheckpoint = new Map<string, number>();
  /** Boards waiting for a checkpoint (with the seq committed last), and the one being made. */
  private readonly checkpointQueue = new Map<string, number>();
  private checkpointing: Promise<void> | null = null;
  /** The seq from which a commit makes each board worth a look for a checkpoint. */
  private readonly dueAt = new Map<string, number>();
  /**
   * Byte budget: bytes of each board's history as this process counts them (measured once from the
   * database, then the bytes its own trims move and its checkpoints add), the bytes its trims moved
   * since the last measure, the count past which the board is thinned (above the budget when a thinning
   * could not get under it), and the boards waiting to be measured or thinned.
   */
  private readonly historyBytes = new Map<string, number>();
  private readonly movedSinceMeasure = new Map<string, number>();
  private readonly thinAbove = new Map<string, number>();
  private readonly budgetQueue = new Set<string>();
  private retentionTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly store: HistoryStore,
    private readonly service: BoardService,
    settings: Partial<VersionSettings> = {},
    private readonly log: { warn(obj: object, msg: string): void } = { warn: () => {} },
  ) {
    this.settings = { ...DEFAULT_VERSION_SETTINGS, ...settings };
    this.states = new ByteLru(this.settings.stateCacheBytes, Math.floor(this.settings.stateCacheBytes / 2));
    this.pool = new Piscina({ ...workerOptions(this.settings.workerNice), minThreads: 1, maxThreads: this.settings.threads, idleTimeout: 60_000, atomics: 'disabled', closeTimeout: 2_000 });
    this.pool.on('error', (err: unknown) => this.log.warn({ err: String(err) }, 'a version-history worker failed between jobs; it was replaced'));
    if (this.settings.retentionIntervalMs > 0) {
      this.retentionTimer = setInterval(() => void this.applyRetention().catch((err: unknown) => this.log.warn({ err: String(err) }, 'history retention failed')), this.settings.retentionIntervalMs);
      this.retentionTimer.unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await this.checkpointing?.catch(() => undefined);
    await this.pool.destroy();
  }

  // Listing

  /**
   * Versions newest first, ending before `before` (exclusive): the runs of the kept ops, then (older
   * than the oldest kept op) the kept states of thinned history, one version each.
   */
  async list(boardId: string, before: number | undefined, limit: number): Promise<HistoryListOutput> {
    const board = await this.service.requireBoard(boardId);
    const top = Math.min(before ?? board.seq + 1, board.seq + 1);
    let upper = top;
    const oldest = await this.store.oldestSeq(boardId);
    const ops: ParsedOp[] = [];
    let bytes = 0;
    let exhausted = false;
    // Read newest first in pages until limit + 1 runs (the last proves the one before it is complete),
    // the beginning of the kept history, or the scan budget.
    while (true) {
      const page = await this.store.opsBefore(boardId, upper, 500);
      for (const row of page) {
        ops.push({ row, op: JSON.parse(row.data) as Op });
        bytes += row.data.length;
      }
      if (page.length < 500) {
        exhausted = true;
        break;
      }
      upper = page.at(-1)!.seq;
      if (ops.length >= this.settings.listScanOps || bytes >= this.settings.listScanBytes) break;
      const runs = groupVersions(ops.map((o) => ({ seq: o.row.seq, authorId: o.row.authorId, at: o.row.createdAt })), VERSION_LIMITS.gapMs, VERSION_LIMITS.opsPerVersion);
      if (runs.length > limit) break;
    }
    const runs = groupVersions(ops.map((o) => ({ seq: o.row.seq, authorId: o.row.authorId, at: o.row.createdAt })), VERSION_LIMITS.gapMs, VERSION_LIMITS.opsPerVersion);
    // Unless the scan reached the oldest op, the last run may go on further back: it starts the next page.
    const complete = exhausted ? runs : runs.slice(0, Math.max(1, runs.length - 1));
    const shown = complete.slice(0, limit);
    // Older than the kept ops: the kept states (checkpoints) of the thinned history.
    const keptBelow = oldest === undefined ? top : Math.min(top, oldest);
    if (shown.length < limit && exhausted) return this.withKeptStates(boardId, await this.runVersions(boardId, ops, shown), keptBelow, limit - shown.length);
    const versions = await this.runVersions(boardId, ops, shown);
    const lowest = shown.at(-1)!.fromSeq;
    const more = (oldest !== undefined && lowest > oldest) || (await this.store.checkpointsBefore(boardId, keptBelow, 1)).length > 0;
    return more ? { versions, next: lowest } : { versions };
  }

  /** `versions` followed by up to `room` kept states with seq < `below`, newest first, each a thinned version. */
  private async withKeptStates(boardId: string, versions: Version[], below: number, room: number): Promise<HistoryListOutput> {
    // One more than shown: it is where the oldest shown one's edits begin (and shows there are more).
    const states = await this.store.checkpointsBefore(boardId, below, room + 1);
    const shown = states.slice(0, room);
    if (!shown.length) return { versions };
    const names = await this.store.namedBetween(boardId, (states[room]?.seq ?? 0) + 1, shown[0]!.seq);
    for (const [i, state] of shown.entries()) {
      const prev = states[i + 1];
      const fromSeq = (prev?.seq ?? 0) + 1;
      const opCount = state.seq - fromSeq + 1;
      versions.push({
        fromSeq,
        toSeq: state.seq,
        authorId: THINNED_AUTHOR.id,
        authorName: THINNED_AUTHOR.name,
        startedAt: prev?.createdAt ?? state.createdAt,
        endedAt: state.createdAt,
        opCount,
        summary: { text: `kept state of ${opCount} older edit${opCount === 1 ? '' : 's'}`, counts: [] },
        changedIds: [],
        names: names.filter((n) => n.seq >= fromSeq && n.seq <= state.seq).map(({ id, name, createdByName, createdAt }) => ({ id, name, createdByName, createdAt })),
        thinned: true,
      });
    }
    return states.length > room ? { versions, next: versions.at(-1)!.fromSeq } : { versions };
  }

  /** The versions of the op runs `shown` (read into `ops`): authors, summaries, changed ids, names. */
  private async runVersions(boardId: string, ops: ParsedOp[], shown: ReturnType<typeof groupVersions>): Promise<Version[]> {
    if (!shown.length) return [];
    const bySeq = new Map(ops.map((o) => [o.row.seq, o]));
    // Kinds come from the ops read and the board as the database holds it now (never from this
    // process's possibly older copy), so every process summarizes a version alike.
    const current = (await this.service.fresh(boardId)).elements;
    const added = new Map<string, ElementType>();
    for (const o of ops) if (o.op.type === 'add') for (const el of o.op.elements) added.set(el.id, el.type);
    const kindOf = (id: string): ElementType | undefined => added.get(id) ?? current.get(id)?.type;
    const lowest = shown.at(-1)!.fromSeq;
    const names = await this.store.namedBetween(boardId, lowest, shown[0]!.toSeq);
    return shown.map((run): Version => {
      const runOps: Op[] = [];
      for (let s = run.fromSeq; s <= run.toSeq; s++) {
        const o = bySeq.get(s);
        if (o) runOps.push(o.op);
      }
      const authorName = bySeq.get(run.toSeq)?.row.authorName ?? '';
      return {
        ...run,
        authorName,
        summary: summarizeOps(runOps, kindOf),
        changedIds: changedIds(runOps),
        names: names.filter((n) => n.seq >= run.fromSeq && n.seq <= run.toSeq).map(({ id, name, createdByName, createdAt }) => ({ id, name, createdByName, createdAt })),
      };
    });
  }

  // Named versions

  named(boardId: string): Promise<NamedVersion[]> {
    return this.store.named(boardId);
  }

  async name(boardId: string, user: Pick<User, 'id' | 'name'>, name: string, seq?: number): Promise<NamedVersion> {
    const board = await this.service.requireBoard(boardId);
    const at = seq ?? board.seq;
    if (at > board.seq) throw badRequest(`The board is at seq ${board.seq}; seq ${at} does not exist yet. Name the current state (leave seq out) or an earlier seq.`);
    if ((await this.store.namedCount(boardId)) >= this.settings.namedPerBoard) {
      throw badRequest(`This board already has ${this.settings.namedPerBoard} named versions (the most a board may have); remove some with history.unname first.`);
    }
    const version: NamedVersion = { id: newId(12), seq: at, name, createdBy: user.id, createdByName: user.name, createdAt: this.settings.now() };
    await this.store.insertNamed({ ...version, boardId });
    return version;
  }

  async unname(boardId: string, id: string): Promise<{ id: string }> {
    if (!(await this.store.deleteNamed(boardId, id))) throw new TRPCError({ code: 'NOT_FOUND', message: `This board has no named version "${id}" (it may have been removed already).` });
    return { id };
  }

  // States

  /** The board's elements just after op `seq`, rebuilt from the nearest checkpoint by a worker. */
  async stateAt(boardId: string, seq: number): Promise<{ seq: number; elements: Element[] }> {
    const { elements } = await this.stateWithBytes(boardId, seq);
    return { seq, elements };
  }

  /** `stateAt` with the bytes of its JSON (what it costs to send). */
  async stateWithBytes(boardId: string, seq: number): Promise<{ seq: number; elements: Element[]; bytes: number }> {
    const board = await this.service.requireBoard(boardId);
    if (seq > board.seq) throw badRequest(`Seq ${seq} is after the board's current seq ${board.seq}; ask for ${board.seq} or earlier.`);
    if (seq === 0) return { seq, elements: [], bytes: 2 };
    const key = `${boardId}:${seq}`;
    const cached = this.states.get(key);
    if (cached) return cached;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.rebuild(boardId, seq, { json: true, gzip: false })
        .then((r) => {
          const elements = JSON.parse(Buffer.from(r.json!.buffer, r.json!.byteOffset, r.json!.byteLength).toString('utf8')) as Element[];
          const state = { seq, elements, bytes: r.jsonBytes };
          this.states.set(key, state, r.jsonBytes);
          return state;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /**
   * The JSON of the board's elements just after op `seq` (an export of a past version): made by the
   * worker and handed on as bytes, never parsed on the event loop.
   */
  async stateJson(boardId: string, seq: number): Promise<Uint8Array> {
    const board = await this.service.requireBoard(boardId);
    if (seq > board.seq) throw badRequest(`Seq ${seq} is after the board's current seq ${board.seq}; ask for ${board.seq} or earlier.`);
    if (seq === 0) return new TextEncoder().encode('[]');
    return (await this.rebuild(boardId, seq, { json: true, gzip: false })).json!;
  }

  /** Replays from the nearest checkpoint at or before `seq`; BAD_REQUEST when the kept history does not reach it. */
  private async rebuild(boardId: string, seq: number, want: Pick<ReplayJob, 'json' | 'gzip' | 'restore'>): Promise<ReplayResult> {
    const cp = await this.store.checkpointAtOrBefore(boardId, seq);
    const from = cp?.seq ?? 0;
    const ops = from < seq ? await this.store.opsJsonBetween(boardId, from, seq) : { count: 0, first: 0, last: 0, json: [] };
    if (ops.count !== seq - from || (ops.count > 0 && (ops.first !== from + 1 || ops.last !== seq))) {
      const oldest = await this.store.oldestSeq(boardId);
      throw badRequest(
        `Seq ${seq} is before the retained history of this board${oldest !== undefined ? ` (every op is kept from seq ${oldest}; older history keeps one state a day, and a board's history is bounded in bytes: see history.list)` : ''}. Ask for a later seq.`,
      );
    }
    const job: ReplayJob = { base: cp ? { gz: cp.data } : null, ops: ops.json, firstSeq: from + 1, ...want };
    return (await this.pool.run(job)) as ReplayResult;
  }

  // Who did this

  /**
   * Who created the element (its oldest add) and who last changed it, within the last
   * `infoScanOps` ops: the database finds the ops whose JSON holds the id (then each is checked: the id
   * may be another element's binding or group), in windows of 5,000 seqs newest first, yielding to
   * the event loop between them (a SQLite query runs on it).
   */
  async elementInfo(boardId: string, elementId: string): Promise<ElementInfo> {
    const board = await this.service.requireBoard(boardId);
    const bottom = Math.max(0, board.seq - this.settings.infoScanOps);
    const touches = (op: Op): boolean =>
      op.type === 'add' ? op.elements.some((e) => e.id === elementId) : op.type === 'update' ? op.updates.some((u) => u.id === elementId) : op.type === 'delete' ? op.ids.includes(elementId) : false;
    const ref = (row: HistoryOpRow) => ({ id: row.authorId, name: row.authorName, at: row.createdAt, seq: row.seq });
    const info: ElementInfo = {};
    for (let upTo = board.seq; upTo > bottom; upTo -= INFO_WINDOW) {
      const after = Math.max(bottom, upTo - INFO_WINDOW);
      for (const row of await this.store.opsMentioning(boardId, elementId, after, upTo, INFO_WINDOW)) {
        const op = JSON.parse(row.data) as Op;
        if (!touches(op)) continue;
        info.changedBy ??= ref(row);
        // Newest first: the last add seen is the oldest (an undo or a restore adds it again with its id).
        if (op.type === 'add') info.createdBy = ref(row);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    return info;
  }

  // Restore

  /**
   * Restores the board (or the elements `ids`) to its state at `seq`: the ops of `restoreOps`
   * against the board now, pushed as the caller through the normal push path (atomic, durable, live
   * for everyone, acknowledged with seqs). `charge` is told the ops before they are pushed (the
   * caller's size rates, as for a push) and may throw to refuse them. The ops' ids are `opId`,
   * `opId-1`, ... so a retried restore is not applied twice. When an edit committed in between makes
   * the push refuse (an element added back meanwhile), it is computed again once.
   */
  async restore(
    boardId: string,
    author: Pick<User, 'id' | 'name'>,
    seq: number,
    opId: string,
    ids?: readonly string[],
    charge: (ops: readonly Op[]) => void = () => {},
  ): Promise<{ ops: Op[]; acks: PushAck[] }> {
    const board = await this.service.requireBoard(boardId);
    if (seq > board.seq) throw badRequest(`Seq ${seq} is after the board's current seq ${board.seq}; ask for ${board.seq} or earlier.`);
    for (let attempt = 0; ; attempt++) {
      // The comparison of the two states grows with the board: the worker makes it, from the
      // board's rows now (read in one transaction) and the state at `seq` it rebuilds.
      const current = await this.store.currentState(boardId);
      if (!current) throw new TRPCError({ code: 'NOT_FOUND', message: `Board "${boardId}" does not exist (it may have been deleted).` });
      const result = await this.rebuild(boardId, seq, { json: false, gzip: false, restore: { current: current.rows, ...(ids ? { ids: [...ids] } : {}) } });
      let n = 0;
      const ops = (JSON.parse(result.restoreOps!) as Op[]).map((op) => ({ ...op, opId: n++ === 0 ? opId : `${opId.slice(0, 56)}-${n - 1}` }));
      if (!ops.length) return { ops, acks: [] };
      if (attempt === 0) charge(ops);
      try {
        return { ops, acks: await this.service.push(boardId, author, ops) };
      } catch (err) {
        if (attempt > 0 || !(err instanceof TRPCError) || err.code !== 'BAD_REQUEST' || !/already exists/.test(err.message)) throw err;
      }
    }
  }

  // Checkpoints

  /**
   * Called after each commit with the bytes of op JSON its trims moved to history_ops: queues a look
   * at the board when a checkpoint may be due, and a thinning when its history is over the byte budget
   * (no scan here: a running count).
   */
  committed(boardId: string, seq: number, movedToHistory = 0): void {
    if (this.closed) return;
    if (movedToHistory > 0) this.countMoved(boardId, movedToHistory);
    const due = this.dueAt.get(boardId);
    if (due === undefined || seq >= due) this.checkpointQueue.set(boardId, Math.max(seq, this.checkpointQueue.get(boardId) ?? 0));
    if (this.checkpointQueue.size || this.budgetQueue.size) this.checkpointing ??= this.drainCheckpoints().finally(() => (this.checkpointing = null));
  }

  /** Bytes of the board's history as this process last counted them (tests, benchmarks); undefined when not counted yet. */
  historyBytesOf(boardId: string): number | undefined {
    return this.historyBytes.get(boardId);
  }

  private countMoved(boardId: string, bytes: number): void {
    const moved = (this.movedSinceMeasure.get(boardId) ?? 0) + bytes;
    this.movedSinceMeasure.set(boardId, moved);
    const known = this.historyBytes.get(boardId);
    if (known === undefined) {
      // Not measured yet in this process: measured once, off the hot path.
      this.budgetQueue.add(boardId);
      return;
    }
    const total = known + bytes;
    this.historyBytes.set(boardId, total);
    // Several processes: each counts only its own trims, so the board is measured again after an eighth of the budget.
    const remeasure = this.store.shared && moved >= this.settings.maxBytes / 8;
    if (remeasure || total > (this.thinAbove.get(boardId) ?? this.settings.maxBytes)) this.budgetQueue.add(boardId);
  }

  /** Waits for queued checkpoints (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.checkpointing) await this.checkpointing;
  }

  private async drainCheckpoints(): Promise<void> {
    // One board at a time: a checkpoint's work grows with its board.
    while ((this.checkpointQueue.size || this.budgetQueue.size) && !this.closed) {
      if (this.checkpointQueue.size) {
        const [boardId, seq] = this.checkpointQueue.entries().next().value!;
        this.checkpointQueue.delete(boardId);
        try {
          await this.checkpoint(boardId, seq);
        } catch (err) {
          this.dueAt.delete(boardId);
          this.log.warn({ boardId, err: String(err) }, 'a version-history checkpoint failed; the next commit tries again');
        }
      }
      const boardId = this.budgetQueue.values().next().value;
      if (boardId === undefined || this.closed) continue;
      this.budgetQueue.delete(boardId);
      try {
        await this.enforceBudget(boardId);
      } catch (err) {
        // Not again at every trim: after the history grew by an eighth of the budget.
        this.thinAbove.set(boardId, (this.historyBytes.get(boardId) ?? 0) + Math.floor(this.settings.maxBytes / 8));
        this.log.warn({ boardId, err: String(err) }, "thinning a board's version history to its byte budget failed; the next trim tries again");
      }
    }
  }

  /**
   * Makes a checkpoint of the board at `seq` (a committed seq) when one is due: `checkpointEvery`
   * ops after the last one; for a board without one, at its first trim (its ops start moving to
   * history_ops) or after `checkpointEvery` ops, whichever comes first; for a board whose early ops
   * were trimmed before history was kept, of its current state (its history starts there).
   */
  private async checkpoint(boardId: string, seq: number): Promise<void> {
    let last = this.latestCheckpoint.get(boardId);
    if (last === undefined) {
      last = (await this.store.latestCheckpointSeq(boardId)) ?? -1;
      this.latestCheckpoint.set(boardId, last);
    }
    const every = this.settings.checkpointEvery;
    if (last >= 0) {
      if (seq - last < every) {
        this.dueAt.set(boardId, last + every);
        return;
      }
      await this.insert(boardId, seq, await this.rebuild(boardId, seq, { json: false, gzip: true }));
      this.dueAt.set(boardId, seq + every);
      return;
    }
    const oldest = await this.store.oldestSeq(boardId);
    if (oldest !== undefined && oldest > 1) {
      const current = await this.store.currentState(boardId);
      if (!current) return;
      const result = (await this.pool.run({ base: { rows: current.rows }, ops: [], firstSeq: current.seq + 1, json: false, gzip: true } satisfies ReplayJob)) as ReplayResult;
      await this.insert(boardId, current.seq, result);
      this.dueAt.set(boardId, current.seq + every);
      return;
    }
    if (seq >= every || (await this.store.hasHistoryOps(boardId))) {
      await this.insert(boardId, seq, await this.rebuild(boardId, seq, { json: false, gzip: true }));
      this.dueAt.set(boardId, seq + every);
      return;
    }
    // Not yet trimmed: look again a little later (a trim comes at the op log's retention or byte budget).
    this.dueAt.set(boardId, seq + Math.max(1, Math.min(64, Math.floor(every / 4))));
  }

  private async insert(boardId: string, seq: number, result: ReplayResult): Promise<void> {
    const createdAt = (await this.store.opTime(boardId, seq)) ?? this.settings.now();
    await this.store.insertCheckpoint(boardId, { seq, data: result.gz!, bytes: result.gz!.byteLength, elementCount: result.count, createdAt });
    this.latestCheckpoint.set(boardId, Math.max(seq, this.latestCheckpoint.get(boardId) ?? -1));
    const known = this.historyBytes.get(boardId);
    if (known !== undefined) {
      this.historyBytes.set(boardId, known + result.gz!.byteLength);
      if (known + result.gz!.byteLength > (this.thinAbove.get(boardId) ?? this.settings.maxBytes)) this.budgetQueue.add(boardId);
    }
  }

  /** Makes a checkpoint at `seq` (retention keeps named versions restorable). */
  private async checkpointAt(boardId: string, seq: number): Promise<void> {
    await this.insert(boardId, seq, await this.rebuild(boardId, seq, { json: false, gzip: true }));
  }

  // Retention

  /**
   * The retention policy: every op of the last `keepAllMs` is kept; older history keeps the latest
   * checkpoint of each day (UTC) and the states of named versions. History ops are forgotten up to
   * the newest checkpoint older than the cutoff (the states after it still replay from it). Returns
   * what it removed.
   */
  async applyRetention(now = this.settings.now()): Promise<{ boards: number; ops: number; checkpoints: number }> {
    const cutoff = now - this.settings.keepAllMs;
    const done = { boards: 0, ops: 0, checkpoints: 0 };
    for (const boardId of await this.store.boardsWithCheckpoints()) {
      if (this.closed) break;
      const cps = await this.store.checkpointTimes(boardId);
      const old = cps.filter((c) => c.createdAt < cutoff);
      if (!old.length) continue;
      const base = old.at(-1)!.seq;
      // Named versions before the base keep a state of their own.
      const have = new Set(cps.map((c) => c.seq));
      const named = (await this.store.named(boardId)).filter((n) => n.seq <= base && n.seq > 0 && !have.has(n.seq));
      for (const n of named) {
        try {
          await this.checkpointAt(boardId, n.seq);
          have.add(n.seq);
        } catch {
          // Its ops are gone already: the name stays, its state is the nearest kept one.
        }
      }
      const namedSeqs = new Set((await this.store.named(boardId)).map((n) => n.seq));
      const latestOfDay = new Map<number, number>();
      for (const c of old) latestOfDay.set(Math.floor(c.createdAt / DAY_MS), c.seq);
      const keep = new Set(latestOfDay.values());
      const drop = old.filter((c) => !keep.has(c.seq) && !namedSeqs.has(c.seq)).map((c) => c.seq);
      await this.store.deleteCheckpoints(boardId, drop);
      for (const seq of drop) this.states.delete(`${boardId}:${seq}`);
      const removed = await this.store.deleteHistoryOps(boardId, base);
      const known = this.historyBytes.get(boardId);
      if (known !== undefined) {
        const dropped = new Set(drop);
        const cpBytes = cps.reduce((sum, c) => sum + (dropped.has(c.seq) ? c.bytes : 0), 0);
        this.historyBytes.set(boardId, Math.max(0, known - removed.bytes - cpBytes));
      }
      done.boards++;
      done.ops += removed.ops;
      done.checkpoints += drop.length;
    }
    return done;
  }

  // Byte budget

  /**
   * Measures the board's history from the database, in windows of seqs, yielding between them; the
   * ops this process's trims move meanwhile (above the measured seqs) are added.
   */
  private async measure(boardId: string): Promise<number> {
    this.movedSinceMeasure.set(boardId, 0);
    let total = (await this.store.checkpointTimes(boardId)).reduce((sum, c) => sum + c.bytes, 0);
    const range = await this.store.historySeqRange(boardId);
    if (range) {
      for (let after = range.min - 1; after < range.max; after += MEASURE_WINDOW) {
        total += await this.store.historyBytesBetween(boardId, after, Math.min(range.max, after + MEASURE_WINDOW));
        await nextTurn();
      }
    }
    total += this.movedSinceMeasure.get(boardId) ?? 0;
    this.historyBytes.set(boardId, total);
    return total;
  }

  /**
   * Thins the board's history when it takes more than `maxBytes`: forgets its oldest history ops up
   * to a cut (a checkpoint there, made when there is none close after it, keeps every later state
   * computable) and the checkpoints older than the cut, until it takes about 3/4 of the budget. Named
   * versions older than the cut keep a checkpoint of their own while the history stays within the
   * budget; past it the oldest lose theirs first. A few passes at most; when the history cannot get
   * under the budget (a single state bigger than it), it is thinned again only after it grew by an
   * eighth of the budget.
   */
  async enforceBudget(boardId: string): Promise<void> {
    const max = this.settings.maxBytes;
    const target = Math.floor((max * 3) / 4);
    let total = this.store.shared || !this.historyBytes.has(boardId) ? await this.measure(boardId) : this.historyBytes.get(boardId)!;
    for (let pass = 0; pass < 3 && total > max && !this.closed; pass++) {
      const after = await this.thin(boardId, total, target);
      if (after >= total) break;
      total = after;
    }
    this.historyBytes.set(boardId, total);
    if (total > max) this.thinAbove.set(boardId, total + Math.floor(max / 8));
    else this.thinAbove.delete(boardId);
  }

  /** One thinning pass (see enforceBudget); returns the history's bytes after it. */
  private async thin(boardId: string, total: number, target: number): Promise<number> {
    const range = await this.store.historySeqRange(boardId);
    if (!range) return total;
    const cps = await this.store.checkpointTimes(boardId);
    const namedSeqs = new Set((await this.store.named(boardId)).map((n) => n.seq));
    // Walk the oldest history ops (seq and size only) until forgetting them and the unnamed
    // checkpoints before them would bring the history down to the target.
    const need = total - target;
    let cut = range.min;
    let opBytes = 0;
    let cpBytes = 0;
    let c = 0;
    let after = range.min - 1;
    walk: while (after < range.max) {
      const page = await this.store.historyOpSizes(boardId, after, THIN_PAGE);
      if (!page.length) break;
      for (const row of page) {
        cut = row.seq;
        opBytes += row.bytes;
        for (; c < cps.length && cps[c]!.seq < cut; c++) if (!namedSeqs.has(cps[c]!.seq)) cpBytes += cps[c]!.bytes;
        if (opBytes + cpBytes >= need) break walk;
      }
      after = page.at(-1)!.seq;
      await nextTurn();
    }
    // A checkpoint a little after the cut (within the history) forgets a little more and costs nothing.
    const have = new Set(cps.map((cp) => cp.seq));
    const near = cps.find((cp) => cp.seq >= cut && cp.seq <= Math.min(range.max, cut + this.settings.checkpointEvery));
    if (near) cut = near.seq;
    else {
      await this.checkpointAt(boardId, cut);
      have.add(cut);
    }
    // Named versions before the cut keep a state of their own (dropped below if the budget cannot hold them).
    for (const seq of [...namedSeqs].filter((s) => s > 0 && s < cut && s >= range.min && !have.has(s)).sort((a, b) => a - b)) {
      try {
        await this.checkpointAt(boardId, seq);
      } catch {
        // Its ops are gone already: the name stays, its state is no longer available.
      }
    }
    const now = await this.store.checkpointTimes(boardId);
    const drop = now.filter((cp) => cp.seq < cut && !namedSeqs.has(cp.seq)).map((cp) => cp.seq);
    await this.store.deleteCheckpoints(boardId, drop);
    // In windows of seqs, yielding between them (a SQLite delete runs on the event loop).
    const gone = { ops: 0, bytes: 0 };
    for (let upTo = Math.min(cut, range.min - 1 + DELETE_WINDOW); ; upTo = Math.min(cut, upTo + DELETE_WINDOW)) {
      const step = await this.store.deleteHistoryOps(boardId, upTo);
      gone.ops += step.ops;
      gone.bytes += step.bytes;
      if (upTo >= cut) break;
      await nextTurn();
    }
    // What is left: the count (which the checkpoints made and the trims meanwhile went into) minus what went.
    const bytesOf = (list: { seq: number; bytes: number }[]) => list.reduce((sum, cp) => sum + cp.bytes, 0);
    const dropped = new Set(drop);
    let left = (this.historyBytes.get(boardId) ?? total) - gone.bytes - bytesOf(now.filter((cp) => dropped.has(cp.seq)));
    const named = now.filter((cp) => cp.seq < cut && namedSeqs.has(cp.seq));
    const dropNamed: number[] = [];
    if (left > this.settings.maxBytes) {
      for (const cp of named) {
        if (left <= target) break;
        dropNamed.push(cp.seq);
        left -= cp.bytes;
      }
      await this.store.deleteCheckpoints(boardId, dropNamed);
    }
    for (const seq of [...drop, ...dropNamed]) this.states.delete(`${boardId}:${seq}`);
    this.historyBytes.set(boardId, left);
    return left;
  }
}
