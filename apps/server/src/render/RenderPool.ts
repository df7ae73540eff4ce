import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TRPCError } from '@trpc/server';
import { Piscina } from 'piscina';
import { ByteLru } from './ByteLru.js';
import type { BoardSource, RenderJob, RenderOutcome, WorkerData } from './jobs.js';
import { DEFAULT_RENDER_LIMITS, MAX_PNG_SIDE, MAX_PNG_SOURCE_BYTES, MAX_RASTER_IMAGE_PIXELS, MiB, SNAPSHOT_QUEUE, THUMBNAIL, THUMBNAIL_IMAGE_BYTES, type RenderLimits } from './limits.js';

/** Shown in the board list while a board's first preview is not ready (or it cannot be previewed). */
export const THUMBNAIL_PLACEHOLDER =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 200" width="320" height="200">' +
  '<rect width="320" height="200" fill="#f1f3f5"/>' +
  '<text x="160" y="106" text-anchor="middle" font-family="sans-serif" font-size="14" fill="#868e96">Preview not ready</text></svg>';

/** Status codes of the refusals, for the HTTP routes. */
export const HTTP_STATUS: Partial<Record<TRPCError['code'], number>> = {
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  BAD_REQUEST: 400,
};

/** A refused or failed render; `retryAfterSeconds` is set on TOO_MANY_REQUESTS. */
export class RenderError extends TRPCError {
  constructor(
    code: TRPCError['code'],
    message: string,
    readonly retryAfterSeconds: number | null = null,
    /** True when asking again may succeed (a time limit met on a busy machine): not cached. */
    readonly transient = false,
  ) {
    super({ code, message });
  }
}

export interface Rendered {
  seq: number;
  bytes: Uint8Array;
}

type Cached = Rendered | { seq: number; error: RenderError };

/** A past state of the board to draw instead of its rows (version history): its seq, and its JSON when asked. */
interface PastState {
  seq: number;
  state: () => Promise<Uint8Array>;
}

interface Pending {
  job: RenderJob;
  userId: string | null;
  resolve: (value: Rendered) => void;
  reject: (err: unknown) => void;
  /** Told when a worker takes the job. */
  started?: () => void;
}

interface SnapshotJob {
  minSeq: number;
  reading: { started: boolean };
  promise: Promise<Rendered>;
}

/** What the pool reports: failures to the log, refusals (by kind, e.g. `render_busy`) to the metrics. */
export interface RenderObserver {
  log?: { warn(obj: object, msg: string): void };
  refused?: (kind: string) => void;
}

const here = import.meta.url;
/** Run from TypeScript source (tests): the worker is loaded through tsx, the protocol from its source. */
const fromSource = here.endsWith('.ts');

function workerOptions(source: BoardSource): { filename: string; execArgv: string[]; workerData: WorkerData } {
  const filename = fileURLToPath(new URL(fromSource ? './worker.ts' : './worker.js', here));
  if (!fromSource) return { filename, execArgv: [], workerData: { source, protocol: '@inkboard/protocol' } };
  const protocolSource = new URL('../../../../packages/protocol/src/index.ts', here);
  const tsx = pathToFileURL(createRequire(here).resolve('tsx')).href;
  return {
    filename,
    execArgv: ['--import', tsx],
    workerData: { source, protocol: existsSync(fileURLToPath(protocolSource)) ? protocolSource.href : '@inkboard/protocol' },
  };
}

const mb = (bytes: number) => `${Math.round(bytes / MiB)} MB`;

/**
 * SVG/PNG exports and board previews, rendered by worker threads (piscina) that read the board from
 * the database themselves: the event loop does no work that grows with a board's size. Each job has
 * a time and heap limit; jobs wait in a bounded queue, each user may have `perUser` exports waiting
 * or running, and results (refusals too) are cached per board seq in a byte-bounded LRU. Identical
 * requests at the same seq share one job.
 */
export class RenderPool {
  readonly limits: RenderLimits;
  private readonly pool: Piscina;
  private readonly queue: Pending[] = [];
  /** Previews wait here and run only when no export waits: they never hold an export back by more than one job. */
  private readonly previewQueue: Pending[] = [];
  /** Snapshots for joining subscribers wait here and go first: someone is waiting to see the board. */
  private readonly snapshotQueue: Pending[] = [];
  /** The latest serialized snapshot of each board (keyed by board id). */
  private readonly snapshots: ByteLru<Rendered>;
  /** Snapshots being made or waiting per board: the least seq each will have, and whether it started reading. */
  private readonly snapshotsInflight = new Map<string, SnapshotJob[]>();
  private running = 0;
  private readonly perUser = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<Rendered>>();
  private readonly cache: ByteLru<Cached>;
  /** Each board's latest preview, shown while a newer one renders. */
  private readonly lastThumbnail = new ByteLru<string>(8 * MiB);
  /** Moving average of a job's run time, for Retry-After. */
  private avgRunMs = 1_000;
  private closed = false;

  constructor(
    source: BoardSource,
    limits: Partial<RenderLimits>,
    private readonly seqOf: (boardId: string) => Promise<number | undefined>,
    private readonly observe: RenderObserver = {},
  ) {
    this.limits = { ...DEFAULT_RENDER_LIMITS, ...limits };
    this.cache = new ByteLru(this.limits.cacheBytes);
    // One board's snapshot may take half the budget (a board at its element budget packs to about 10 MB).
    this.snapshots = new ByteLru(this.limits.snapshotCacheBytes, Math.floor(this.limits.snapshotCacheBytes / 2));
    this.pool = new Piscina({
      ...workerOptions(source),
      minThreads: this.limits.threads,
      maxThreads: this.limits.threads,
      // The pool's own queue stays empty: jobs wait in ours, so a job's time limit starts when it runs.
      maxQueue: this.limits.threads,
      concurrentTasksPerWorker: 1,
      // Not piscina's default ('sync'): an idle worker blocked in Atomics.wait never turns its event
      // loop, so resvg's native pixmaps (64 MB for a 16-megapixel PNG), freed by finalizers that run on
      // that loop, were never given back: RSS grew ~60 MB per PNG export until the process was killed.
      atomics: 'disabled',
      resourceLimits: { maxOldGenerationSizeMb: this.limits.heapMb, maxYoungGenerationSizeMb: 32 },
      closeTimeout: 2_000,
    });
    // A worker that fails with no job of its own (out of memory while collecting after its job had
    // answered, as the noisy-neighbour benchmark's subscription flood once made one) has nothing to
    // fail: piscina emits 'error' on the pool instead, and an 'error' without a listener ends the
    // process. The worker is replaced either way.
    this.pool.on('error', (err: unknown) => {
      this.observe.refused?.('render_worker_failed');
      this.observe.log?.warn({ err: String(err) }, 'a render worker failed between jobs; it was replaced');
    });
  }

  /** The board as SVG (UTF-8 bytes). */
  svg(boardId: string, userId: string): Promise<Rendered> {
    // Base64 makes images a third larger; they may fill at most about half of the document.
    const images = { maxBytes: Math.min(this.limits.maxImageBytes, Math.floor(this.limits.maxSvgBytes * 0.375)), maxPixels: Number.MAX_SAFE_INTEGER };
    return this.render({ kind: 'svg', boardId, maxSvgLength: this.limits.maxSvgBytes, images }, userId);
  }

  /** The board as PNG at `scale`, scaled down to fit `maxPngPixels` and `MAX_PNG_SIDE`. */
  png(boardId: string, userId: string, scale: number): Promise<Rendered> {
    return this.render(this.pngJob(boardId, scale), userId);
  }

  /**
   * The board as it was just after op `at` (version history), as PNG like `png`. `state` gives that
   * state's elements (JSON) and is asked only once the export is admitted (per user and queue limits):
   * a refused export costs no replay.
   */
  pngAt(boardId: string, userId: string, scale: number, at: number, state: () => Promise<Uint8Array>): Promise<Rendered> {
    return this.render(this.pngJob(boardId, scale), userId, { seq: at, state });
  }

  private pngJob(boardId: string, scale: number): Extract<RenderJob, { kind: 'png' }> {
    return {
      kind: 'png',
      boardId,
      scale: Math.round(scale * 100) / 100,
      maxPixels: this.limits.maxPngPixels,
      maxSide: MAX_PNG_SIDE,
      maxSvgLength: Math.min(this.limits.maxSvgBytes, MAX_PNG_SOURCE_BYTES),
      images: { maxBytes: Math.min(this.limits.maxImageBytes, Math.floor(Math.min(this.limits.maxSvgBytes, MAX_PNG_SOURCE_BYTES) * 0.375)), maxPixels: MAX_RASTER_IMAGE_PIXELS },
    };
  }

  /**
   * The board's preview as an SVG string: the one of its current seq when it is ready within
   * `waitMs` (else it keeps rendering and is cached for the next call), or the board's last
   * preview, or a placeholder (pool busy, board too heavy to preview, or never previewed yet).
   */
  async thumbnail(boardId: string, waitMs = THUMBNAIL.waitMs): Promise<string> {
    const job: RenderJob = {
      kind: 'thumbnail',
      boardId,
      maxSvgLength: THUMBNAIL.sourceMaxLength,
      vectorMaxLength: THUMBNAIL.vectorMaxLength,
      width: THUMBNAIL.width,
      height: THUMBNAIL.height,
      images: { maxBytes: Math.min(this.limits.maxImageBytes, THUMBNAIL_IMAGE_BYTES), maxPixels: MAX_RASTER_IMAGE_PIXELS },
    };
    const seq = await this.seqOf(boardId);
    const fallback = () => this.lastThumbnail.get(boardId) ?? THUMBNAIL_PLACEHOLDER;
    if (seq === undefined || this.closed) return fallback();
    const key = keyOf(job, seq);
    let pending = this.fromCache(key) ?? this.inflight.get(key);
    if (!pending) {
      if (this.previewQueue.length >= THUMBNAIL.queue) return fallback();
      pending = this.start(key, job, null);
      pending.then(
        (done) => this.lastThumbnail.set(boardId, new TextDecoder().decode(done.bytes), done.bytes.byteLength),
        () => {},
      );
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(resolve, waitMs, null)));
    try {
      const done = await Promise.race([pending, late]);
      return done ? new TextDecoder().decode(done.bytes) : fallback();
    } catch {
      return fallback();
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The board's snapshot event (packed, `toWireFrame`) as JSON bytes, at a seq of at least `minSeq`
   * (a subscriber reads the board's seq after it registered with the hub: any later op reaches it
   * live). Serialized once per board and seq and shared by everyone joining meanwhile: by a worker,
   * which reads the board itself in one read transaction, or by `inline` on the event loop when the
   * caller knows the board is small. The latest snapshot of each board stays cached.
   */
  snapshot(boardId: string, minSeq: number, inline?: () => Promise<Rendered>): Promise<Rendered> {
    const cached = this.snapshots.get(boardId);
    if (cached && cached.seq >= minSeq) return Promise.resolve(cached);
    // A job that has not started reading yet will read a seq at least as recent as any known now.
    const jobs = this.snapshotsInflight.get(boardId) ?? [];
    const shared = jobs.find((j) => !j.reading.started || j.minSeq >= minSeq);
    if (shared) return shared.promise;
    if (this.closed) return Promise.reject(new RenderError('INTERNAL_SERVER_ERROR', 'The server is shutting down; retry in a moment.'));
    if (!inline && this.snapshotQueue.length >= SNAPSHOT_QUEUE) {
      this.observe.refused?.('snapshot_busy');
      const wait = this.retryAfter();
      return Promise.reject(
        new RenderError('TOO_MANY_REQUESTS', `The server is busy preparing board snapshots (${this.snapshotQueue.length} boards waiting); subscribe again in about ${wait} s.`, wait),
      );
    }
    const reading = { started: Boolean(inline) };
    const promise = inline
      ? inline()
      : new Promise<Rendered>((resolve, reject) => {
          this.snapshotQueue.push({ job: { kind: 'snapshot', boardId }, userId: null, resolve, reject, started: () => (reading.started = true) });
          this.pump();
        });
    const job: SnapshotJob = { minSeq, reading, promise };
    this.snapshotsInflight.set(boardId, [...jobs, job]);
    const settle = () => {
      const left = (this.snapshotsInflight.get(boardId) ?? []).filter((j) => j !== job);
      if (left.length) this.snapshotsInflight.set(boardId, left);
      else this.snapshotsInflight.delete(boardId);
    };
    job.promise.then(
      (done) => {
        settle();
        const current = this.snapshots.get(boardId);
        if (!current || current.seq < done.seq) this.snapshots.set(boardId, done, done.bytes.byteLength);
      },
      settle,
    );
    return job.promise;
  }

  /** Bytes of the board's cached snapshot when it is at `minSeq` or later (what joining costs then). */
  cachedSnapshotBytes(boardId: string, minSeq: number): number | undefined {
    const cached = this.snapshots.get(boardId);
    return cached && cached.seq >= minSeq ? cached.bytes.byteLength : undefined;
  }

  /** Jobs waiting and running, and the cache's size (for tests and metrics). */
  stats() {
    return {
      queued: this.queue.length,
      previews: this.previewQueue.length,
      snapshots: this.snapshotQueue.length,
      running: this.running,
      cachedBytes: this.cache.bytes,
      cached: this.cache.size,
      snapshotBytes: this.snapshots.bytes,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of [...this.snapshotQueue.splice(0), ...this.queue.splice(0), ...this.previewQueue.splice(0)]) p.reject(new RenderError('INTERNAL_SERVER_ERROR', 'The server is shutting down; retry in a moment.'));
    await this.pool.destroy();
  }

  private async render(job: RenderJob, userId: string, past?: PastState): Promise<Rendered> {
    if (this.closed) throw new RenderError('INTERNAL_SERVER_ERROR', 'The server is shutting down; retry in a moment.');
    const seq = await this.seqOf(job.boardId);
    if (seq === undefined) throw new RenderError('NOT_FOUND', `Board "${job.boardId}" does not exist (it may have been deleted).`);
    // A past state is the board at that seq: its render is the same as an export made then.
    const key = keyOf(job, past?.seq ?? seq);
    const known = this.fromCache(key) ?? this.inflight.get(key);
    if (known) return known;
    const active = this.perUser.get(userId) ?? 0;
    if (active >= this.limits.perUser) {
      this.observe.refused?.('render_per_user');
      const wait = this.retryAfter();
      throw new RenderError(
        'TOO_MANY_REQUESTS',
        `You already have ${active} exports in progress (at most ${this.limits.perUser} at a time); wait for them to finish, then retry in about ${wait} s.`,
        wait,
      );
    }
    if (this.queue.length >= this.limits.maxQueue) {
      this.observe.refused?.('render_busy');
      const wait = this.retryAfter();
      throw new RenderError('TOO_MANY_REQUESTS', `The server is busy rendering (${this.queue.length} exports waiting); retry in about ${wait} s.`, wait);
    }
    return this.start(key, job, userId, past);
  }

  private fromCache(key: string): Promise<Rendered> | undefined {
    const hit = this.cache.get(key);
    if (!hit) return undefined;
    return 'error' in hit ? Promise.reject(hit.error) : Promise.resolve(hit);
  }

  /** Queues the job (once its past state is made, for one), shares it under `key` while it runs, and caches its outcome. */
  private start(key: string, job: RenderJob, userId: string | null, past?: PastState): Promise<Rendered> {
    if (userId) this.perUser.set(userId, (this.perUser.get(userId) ?? 0) + 1);
    const promise = new Promise<Rendered>((resolve, reject) => {
      const enqueue = (ready: RenderJob) => {
        if (this.closed) return reject(new RenderError('INTERNAL_SERVER_ERROR', 'The server is shutting down; retry in a moment.'));
        (ready.kind === 'thumbnail' ? this.previewQueue : this.queue).push({ job: ready, userId, resolve, reject });
        this.pump();
      };
      if (past && job.kind === 'png') past.state().then((json) => enqueue({ ...job, at: { seq: past.seq, json } }), reject);
      else enqueue(job);
    });
    this.inflight.set(key, promise);
    const settle = () => {
      this.inflight.delete(key);
      if (userId) {
        const n = (this.perUser.get(userId) ?? 1) - 1;
        if (n > 0) this.perUser.set(userId, n);
        else this.perUser.delete(userId);
      }
    };
    promise.then(
      (rendered) => {
        settle();
        this.cache.set(keyOf(job, rendered.seq), rendered, rendered.bytes.byteLength);
      },
      (err: unknown) => {
        settle();
        // Deterministic refusals are remembered for this seq: asking again costs nothing. A preview
        // is best effort: any failure is remembered, so listing boards again does not render again.
        const remembered = err instanceof RenderError && ((err.code === 'PAYLOAD_TOO_LARGE' && !err.transient) || job.kind === 'thumbnail');
        if (remembered) this.cache.set(key, { seq: -1, error: err }, 1024);
      },
    );
    return promise;
  }

  private pump(): void {
    while (this.running < this.limits.threads && (this.snapshotQueue.length || this.queue.length || this.previewQueue.length)) {
      const next = (this.snapshotQueue.shift() ?? this.queue.shift() ?? this.previewQueue.shift())!;
      next.started?.();
      this.running++;
      const started = performance.now();
      this.pool
        .run(next.job, { signal: AbortSignal.timeout(next.job.kind === 'thumbnail' ? Math.min(this.limits.timeoutMs, THUMBNAIL.timeoutMs) : this.limits.timeoutMs) })
        .then(
          (outcome: RenderOutcome) => next.resolve(this.accept(next.job, outcome)),
          (err: unknown) => next.reject(this.explain(next.job, err)),
        )
        .catch(next.reject)
        .finally(() => {
          this.running--;
          this.avgRunMs = 0.8 * this.avgRunMs + 0.2 * (performance.now() - started);
          this.pump();
        });
    }
  }

  private accept(job: RenderJob, outcome: RenderOutcome): Rendered {
    if (outcome.ok) return { seq: outcome.seq, bytes: outcome.bytes };
    switch (outcome.reason) {
      case 'not-found':
        throw new RenderError('NOT_FOUND', `Board "${job.boardId}" does not exist (it may have been deleted).`);
      case 'too-large':
        // Snapshots have no size limit in the worker (the board's budgets bound them).
        if (job.kind === 'snapshot') throw new RenderError('INTERNAL_SERVER_ERROR', 'The board could not be read; subscribe again later.');
        this.observe.refused?.('render_too_large');
        throw new RenderError(
          'PAYLOAD_TOO_LARGE',
          job.kind === 'png'
            ? `This board is too detailed to rasterize (its drawing exceeds ${mb(job.maxSvgLength)} of SVG, the PNG export limit); split it into smaller boards.`
            : `This board's SVG would exceed ${mb(job.maxSvgLength)} (the export limit, INKBOARD_EXPORT_MAX_SVG_MB); split it into smaller boards.`,
        );
      case 'failed':
        this.observe.log?.warn({ boardId: job.boardId, kind: job.kind }, 'render failed');
        throw new RenderError('INTERNAL_SERVER_ERROR', 'The board could not be rendered; retry later, and report it if it keeps failing.');
    }
  }

  private explain(job: RenderJob, err: unknown): RenderError {
    if (err instanceof RenderError) return err;
    const e = err as { name?: string; code?: string };
    if (job.kind === 'snapshot' && !this.closed && (e?.name === 'AbortError' || e?.code === 'ERR_WORKER_OUT_OF_MEMORY')) {
      this.observe.refused?.(e.name === 'AbortError' ? 'snapshot_timeout' : 'snapshot_memory');
      this.observe.log?.warn({ boardId: job.boardId, err: String(err) }, 'snapshot failed');
      return new RenderError('INTERNAL_SERVER_ERROR', 'Preparing this board for you took too long (the server is busy); subscribe again in a moment.', null, true);
    }
    if (e?.name === 'AbortError' && !this.closed) {
      this.observe.refused?.('render_timeout');
      return new RenderError(
        'PAYLOAD_TOO_LARGE',
        `Rendering this board took longer than ${this.limits.timeoutMs / 1000} s and was stopped (the render time limit); export at a smaller scale or split the board.`,
        null,
        true,
      );
    }
    if (e?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      this.observe.refused?.('render_memory');
      return new RenderError('PAYLOAD_TOO_LARGE', `Rendering this board needed more than ${this.limits.heapMb} MB (the render memory limit) and was stopped; split the board.`);
    }
    this.observe.log?.warn({ boardId: job.boardId, kind: job.kind, err: String(err) }, 'render failed');
    return new RenderError('INTERNAL_SERVER_ERROR', this.closed ? 'The server is shutting down; retry in a moment.' : 'The board could not be rendered; retry later.');
  }

  /** Seconds until a refused caller may expect room: the queue ahead of it at the recent pace. */
  private retryAfter(): number {
    const ahead = this.queue.length + this.running;
    return Math.min(60, Math.max(1, Math.ceil((ahead * this.avgRunMs) / this.limits.threads / 1000)));
  }
}

function keyOf(job: RenderJob, seq: number): string {
  return `${job.kind}:${job.boardId}:${seq}${job.kind === 'png' ? `:${job.scale}` : ''}`;
}
