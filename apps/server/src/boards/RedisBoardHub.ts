import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { BoardEvent, CursorEvent, PresenceEntry } from '@inkboard/protocol';
import { Redis, type RedisOptions } from 'ioredis';
import { LocalBoardHub, type BoardHub, type FlushObserver, type HubSignal, type Subscriber } from './BoardHub.js';
import type { TickPace } from './tickPace.js';

/** Pino-like logger; only warnings are logged (connection lost and back, bad messages). */
export interface HubLog {
  warn(obj: object, msg: string): void;
}

export interface RedisBoardHubOptions {
  /** e.g. `redis://127.0.0.1:6379` (`rediss://` for TLS; user and password in the URL). */
  url: string;
  /** Start of every key and channel, so several deployments (or test runs) can share a Redis. */
  prefix?: string;
  /** Unique per server process: tells own messages and presence entries apart. Random by default. */
  processId?: string;
  /** The tick's length in ms, or a pace that may change it (boards/tickPace.ts). */
  tickMs: number | TickPace;
  onFlush?: FlushObserver;
  /** How long a presence entry lives without a heartbeat (its process died). */
  presenceTtlMs?: number;
  heartbeatMs?: number;
  /** How long `start()` tries to reach Redis before it gives up. */
  connectTimeoutMs?: number;
  log?: HubLog;
}

/** What travels on a board's channel: the events of one event-loop turn of one process. */
interface BoardMessage {
  /** Sending process. */
  o: string;
  /** Board seq after the events. */
  s: number;
  e: BoardEvent[];
}

interface SignalMessage {
  o: string;
  s: HubSignal;
}

/** A field of a board's presence hash. */
interface PresenceRecord {
  entry: PresenceEntry;
  /** Process holding the connection. */
  p: string;
  /** Expiry, ms since the epoch; the process's heartbeat pushes it forward. */
  x: number;
}

/** Events waiting for this turn's PUBLISH of a board. */
interface Outgoing {
  seq: number;
  events: BoardEvent[];
  cursors: Map<string, CursorEvent>;
}

/**
 * Deletes a presence field only if it still holds the value the sweeper saw expired: a slow
 * process that has just refreshed its entry keeps it.
 */
const DELETE_IF_UNCHANGED = `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0`;

/** How long `close()` waits for Redis before it just drops the connections. */
const CLOSE_TIMEOUT_MS = 1000;

/**
 * A `BoardHub` shared by several server processes through Redis pub/sub. Each process keeps a
 * `LocalBoardHub` for its own subscribers and tick framing; events go through one channel per
 * board, signals through one channel for all, and presence lives in one hash per board with an
 * expiry per entry, so the entries of a process that died disappear (and their leave is announced).
 *
 * Pub/sub delivers at most once: when the subscriber connection comes back after a drop, every
 * local subscriber gets `resync()` to fill the gap from the database.
 */
export class RedisBoardHub implements BoardHub {
  readonly processId: string;
  private readonly local: LocalBoardHub;
  /** Commands and PUBLISH. */
  private readonly pub: Redis;
  /** SUBSCRIBE only (a subscribed connection takes no other commands). */
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly signalsChannel: string;
  private readonly boardChannelPrefix: string;
  private readonly presenceTtlMs: number;
  private readonly heartbeatMs: number;
  private readonly connectTimeoutMs: number;
  private readonly log: HubLog;
  private readonly displayUrl: string;

  /** Boards whose channel this process is subscribed to; resolves once Redis confirmed it. */
  private readonly channels = new Map<string, Promise<void>>();
  /** Latest seq seen per board with a local room: the seq of the leaves the sweep announces. */
  private readonly seqs = new Map<string, number>();
  private outbox = new Map<string, Outgoing>();
  private flushHandle: NodeJS.Immediate | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  /** The sweep in progress: one at a time. */
  private sweeping: Promise<void> | null = null;
  private started = false;
  private closed = false;
  /** Per connection: ready at least once (a later 'ready' is a reconnection), and currently failing (log once per outage). */
  private readonly state = { pub: { wasReady: false, failing: false }, sub: { wasReady: false, failing: false } };

  constructor(options: RedisBoardHubOptions) {
    this.processId = options.processId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.prefix = options.prefix ?? 'inkboard:';
    this.signalsChannel = `${this.prefix}signals`;
    this.boardChannelPrefix = `${this.prefix}board:`;
    this.presenceTtlMs = options.presenceTtlMs ?? 15_000;
    this.heartbeatMs = options.heartbeatMs ?? 5_000;
    if (this.heartbeatMs >= this.presenceTtlMs) throw new Error('heartbeatMs must be shorter than presenceTtlMs');
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.log = options.log ?? { warn: () => {} };
    this.displayUrl = redactUrl(options.url);
    this.local = new LocalBoardHub(options.tickMs, options.onFlush);

    const redisOptions: RedisOptions = {
      lazyConnect: true,
      connectTimeout: this.connectTimeoutMs,
      // Until start() succeeds it bounds the attempts by its own deadline; after that, reconnect forever.
      retryStrategy: (times) => (this.closed ? null : this.started ? Math.min(times * 200, 2000) : 250),
      // Resubscribed by hand on 'ready', so the resync starts only once the channels are back.
      autoResubscribe: false,
      // CLIENT SETINFO is unknown before Redis 7.2.
      disableClientInfo: true,
    };
    this.pub = new Redis(options.url, redisOptions);
    this.sub = new Redis(options.url, redisOptions);
    this.watch(this.pub, 'pub');
    this.watch(this.sub, 'sub');
    this.sub.on('message', (channel: string, message: string) => this.receive(channel, message));
  }

  /** A started hub. */
  static async connect(options: RedisBoardHubOptions): Promise<RedisBoardHub> {
    const hub = new RedisBoardHub(options);
    await hub.start();
    return hub;
  }

  /**
   * Connects both connections and subscribes to the signals; throws (within `connectTimeoutMs`)
   * when Redis cannot be reached. Later drops are retried forever.
   */
  async start(): Promise<void> {
    if (this.started) return;
    try {
      await Promise.all([this.firstReady(this.pub), this.firstReady(this.sub)]);
      await this.sub.subscribe(this.signalsChannel);
    } catch (err) {
      this.closed = true;
      this.pub.disconnect();
      this.sub.disconnect();
      throw new Error(`Cannot connect to Redis at ${this.displayUrl}: ${errorMessage(err)}`, { cause: err });
    }
    this.started = true;
    this.heartbeatTimer = setInterval(() => void this.heartbeatNow(), this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  publish(boardId: string, seq: number, events: readonly BoardEvent[]): void {
    if (this.closed || events.length === 0) return;
    this.local.publish(boardId, seq, events);
    this.noteSeq(boardId, seq);
    this.enqueue(boardId, seq, events);
  }

  async subscribe(boardId: string, subscriber: Subscriber): Promise<() => void> {
    const off = this.local.subscribeNow(boardId, subscriber);
    const unsubscribe = () => {
      off();
      this.releaseIfIdle(boardId);
    };
    try {
      await this.channel(boardId);
    } catch (err) {
      unsubscribe();
      throw new Error(`Cannot subscribe to board ${boardId} on Redis at ${this.displayUrl}: ${errorMessage(err)}`, { cause: err });
    }
    return unsubscribe;
  }

  revoke(boardId: string, userId: string | null): void {
    this.signal({ type: 'revoke', boardId, userId });
  }

  signal(signal: HubSignal): void {
    if (this.closed) return;
    const message: SignalMessage = { o: this.processId, s: signal };
    this.pub.publish(this.signalsChannel, JSON.stringify(message)).catch((err) => this.warnCommand(err, 'PUBLISH signal'));
    this.local.deliverSignal(signal);
  }

  onSignal(handler: (signal: HubSignal) => void): void {
    this.local.onSignal(handler);
  }

  /**
   * Announces at once (local subscribers do not wait for Redis); the PUBLISH follows the HSET on
   * the same connection, so whoever gets the join also finds the entry. Redis errors are logged,
   * not thrown: the heartbeat writes the entry again.
   */
  async join(boardId: string, seq: number, entry: PresenceEntry): Promise<void> {
    if (this.closed) return;
    this.local.joinLocal(boardId, entry);
    const write = this.writePresence(boardId, entry, Date.now());
    this.publish(boardId, seq, [{ type: 'join', client: entry }]);
    await write;
  }

  /**
   * Announced when the connection was here, or when this HDEL removed it from Redis; a second
   * leave of the same connection, or the leave of a connection already swept, is not announced.
   */
  async leave(boardId: string, seq: number, clientId: string): Promise<void> {
    if (this.closed) return;
    const wasHere = this.local.leaveLocal(boardId, clientId);
    const removal = this.pub.hdel(this.presenceKey(boardId), clientId);
    if (wasHere) this.publish(boardId, seq, [{ type: 'leave', clientId }]);
    try {
      const removed = await removal;
      if (!wasHere && removed === 1) this.publish(boardId, seq, [{ type: 'leave', clientId }]);
    } catch (err) {
      this.warnCommand(err, 'HDEL presence');
    }
    this.releaseIfIdle(boardId);
  }

  /** Unexpired entries of every process, plus this process's own (in case Redis lost them). */
  async presence(boardId: string): Promise<PresenceEntry[]> {
    const own = this.local.localPresence(boardId);
    if (this.closed) return own;
    let fields: Record<string, string>;
    try {
      fields = await this.pub.hgetall(this.presenceKey(boardId));
    } catch (err) {
      this.warnCommand(err, 'HGETALL presence');
      return own;
    }
    const now = Date.now();
    const entries = new Map<string, PresenceEntry>();
    for (const raw of Object.values(fields)) {
      const record = parseRecord(raw);
      if (record && record.x > now) entries.set(record.entry.clientId, record.entry);
    }
    for (const entry of own) if (!entries.has(entry.clientId)) entries.set(entry.clientId, entry);
    return [...entries.values()];
  }

  flushOverdue(): void {
    this.local.flushOverdue();
  }

  subscriberCount(boardId: string): number {
    return this.local.subscriberCount(boardId);
  }

  stats(): { boards: number; subscriptions: number } {
    return this.local.stats();
  }

  /**
   * Removes this process's presence entries and announces their leaves (best effort, bounded by a
   * short timeout), then closes the connections.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.stopTimers();
    const removals: Promise<unknown>[] = [];
    if (this.started && this.pub.status === 'ready') {
      for (const boardId of this.local.boardIds()) {
        for (const { clientId } of this.local.localPresence(boardId)) {
          removals.push(this.pub.hdel(this.presenceKey(boardId), clientId));
          this.enqueue(boardId, this.seqs.get(boardId) ?? 0, [{ type: 'leave', clientId }]);
        }
      }
      removals.push(...this.flushOutbox());
    }
    this.outbox.clear();
    this.closed = true;
    await settleWithin(removals, CLOSE_TIMEOUT_MS);
    const quits = [this.pub, this.sub].filter((c) => c.status === 'ready').map((c) => c.quit());
    await settleWithin(quits, CLOSE_TIMEOUT_MS);
    this.pub.disconnect();
    this.sub.disconnect();
    await this.local.close();
  }

  /**
   * For tests: dies like a killed process (connections dropped, nothing removed or announced), so
   * the other processes must notice through the presence expiry.
   */
  crashForTest(): void {
    this.stopTimers();
    this.outbox.clear();
    this.closed = true;
    this.pub.disconnect();
    this.sub.disconnect();
    void this.local.close();
  }

  private boardChannel(boardId: string): string {
    return `${this.boardChannelPrefix}${boardId}`;
  }

  private presenceKey(boardId: string): string {
    return `${this.prefix}presence:${boardId}`;
  }

  /** Ready within `connectTimeoutMs`, retrying meanwhile; rejects with the last connection error. */
  private firstReady(connection: Redis): Promise<void> {
    return new Promise((resolve, reject) => {
      let lastError: unknown = null;
      const onError = (err: unknown) => {
        lastError = err;
      };
      const onReady = () => {
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(lastError ?? new Error(`no answer within ${this.connectTimeoutMs} ms`));
      }, this.connectTimeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        connection.off('error', onError);
        connection.off('ready', onReady);
      };
      connection.on('error', onError);
      connection.once('ready', onReady);
      // A failed attempt is retried by retryStrategy until the timer above gives up.
      connection.connect().catch(() => {});
    });
  }

  /** Logging (once per outage) and recovery after a reconnection. */
  private watch(connection: Redis, name: 'pub' | 'sub'): void {
    const state = this.state[name];
    let lastError: unknown = null;
    connection.on('error', (err: unknown) => {
      lastError = err;
    });
    // A drop does not always come with an error (Redis closed the socket): log when retrying.
    connection.on('reconnecting', () => {
      if (!this.started || this.closed || state.failing) return;
      state.failing = true;
      this.log.warn({ err: lastError, connection: name, url: this.displayUrl }, 'Redis connection lost; reconnecting');
    });
    connection.on('ready', () => {
      const again = state.wasReady;
      state.wasReady = true;
      state.failing = false;
      lastError = null;
      if (!again || !this.started || this.closed) return;
      this.log.warn({ connection: name, url: this.displayUrl }, 'Redis connection back; resyncing boards and presence');
      if (name === 'sub') void this.recoverSubscriptions();
      // Redis may have restarted empty: write this process's presence again at once.
      void this.heartbeatNow();
    });
  }

  /** Subscribes to every channel again, then tells every local subscriber to fill the gap. */
  private async recoverSubscriptions(): Promise<void> {
    try {
      await this.sub.subscribe(this.signalsChannel, ...[...this.channels.keys()].map((id) => this.boardChannel(id)));
    } catch (err) {
      // The connection dropped again: its next 'ready' retries.
      this.warnCommand(err, 'SUBSCRIBE after reconnecting');
      return;
    }
    if (!this.closed) this.local.resyncAll();
  }

  /** SUBSCRIBEs to the board's channel the first time; concurrent callers share the reply. */
  private channel(boardId: string): Promise<void> {
    let subscribed = this.channels.get(boardId);
    if (!subscribed) {
      const promise = this.sub.subscribe(this.boardChannel(boardId)).then(() => {});
      promise.catch(() => {
        if (this.channels.get(boardId) === promise) this.channels.delete(boardId);
      });
      this.channels.set(boardId, promise);
      subscribed = promise;
    }
    return subscribed;
  }

  /** Leaves the board's channel once no subscriber and no presence entry of it is left here. */
  private releaseIfIdle(boardId: string): void {
    if (this.local.subscriberCount(boardId) > 0 || this.local.localPresence(boardId).length > 0) return;
    this.seqs.delete(boardId);
    if (!this.channels.delete(boardId) || this.closed) return;
    this.sub.unsubscribe(this.boardChannel(boardId)).catch((err) => this.warnCommand(err, 'UNSUBSCRIBE'));
  }

  private noteSeq(boardId: string, seq: number): void {
    if (this.local.subscriberCount(boardId) === 0 && this.local.localPresence(boardId).length === 0) return;
    this.seqs.set(boardId, Math.max(this.seqs.get(boardId) ?? 0, seq));
  }

  /** Buffers events for this turn's PUBLISH of the board, keeping only the latest cursor per client. */
  private enqueue(boardId: string, seq: number, events: readonly BoardEvent[]): void {
    let out = this.outbox.get(boardId);
    if (!out) {
      out = { seq, events: [], cursors: new Map() };
      this.outbox.set(boardId, out);
    }
    out.seq = Math.max(out.seq, seq);
    for (const event of events) {
      if (event.type === 'cursor') out.cursors.set(event.clientId, event);
      else {
        if (event.type === 'leave') out.cursors.delete(event.clientId);
        out.events.push(event);
      }
    }
    this.flushHandle ??= setImmediate(() => {
      this.flushHandle = null;
      this.flushOutbox();
    });
  }

  /** One PUBLISH per board with events this turn. */
  private flushOutbox(): Promise<unknown>[] {
    if (this.flushHandle) {
      clearImmediate(this.flushHandle);
      this.flushHandle = null;
    }
    const outbox = this.outbox;
    this.outbox = new Map();
    const sent: Promise<unknown>[] = [];
    for (const [boardId, out] of outbox) {
      const events = out.cursors.size ? [...out.events, ...out.cursors.values()] : out.events;
      const message: BoardMessage = { o: this.processId, s: out.seq, e: events };
      sent.push(this.pub.publish(this.boardChannel(boardId), JSON.stringify(message)).catch((err) => this.warnCommand(err, 'PUBLISH board events')));
    }
    return sent;
  }

  private receive(channel: string, raw: string): void {
    if (this.closed) return;
    try {
      if (channel === this.signalsChannel) {
        const message = JSON.parse(raw) as SignalMessage;
        if (message.o !== this.processId) this.local.deliverSignal(message.s);
      } else if (channel.startsWith(this.boardChannelPrefix)) {
        const message = JSON.parse(raw) as BoardMessage;
        if (message.o === this.processId) return;
        const boardId = channel.slice(this.boardChannelPrefix.length);
        this.noteSeq(boardId, message.s);
        this.local.publish(boardId, message.s, message.e);
      }
    } catch (err) {
      // A throwing signal handler or a malformed message must not take the connection down.
      this.log.warn({ err, channel }, 'Failed to handle a Redis pub/sub message');
    }
  }

  /** HSETs the entry with a fresh expiry; resolves to true when the field was missing (Redis lost it, or it was swept). */
  private async writePresence(boardId: string, entry: PresenceEntry, now: number): Promise<boolean> {
    const key = this.presenceKey(boardId);
    const record: PresenceRecord = { entry, p: this.processId, x: now + this.presenceTtlMs };
    try {
      const [added] = await Promise.all([
        this.pub.hset(key, entry.clientId, JSON.stringify(record)),
        // The whole hash goes away when every process holding entries of it is gone.
        this.pub.pexpire(key, this.presenceTtlMs * 2),
      ]);
      return added === 1;
    } catch (err) {
      this.warnCommand(err, 'HSET presence');
      return false;
    }
  }

  /**
   * Refreshes this process's presence entries and sweeps expired ones of the boards with a room
   * here; the timer does it every `heartbeatMs`. An entry that had vanished (Redis restarted, or
   * this process was too slow and got swept) is announced again.
   */
  heartbeatNow(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const now = Date.now();
    const rooms = new Set(this.local.boardIds());
    for (const boardId of this.seqs.keys()) if (!rooms.has(boardId)) this.seqs.delete(boardId);
    const writes: Promise<void>[] = [];
    for (const boardId of rooms) {
      for (const entry of this.local.localPresence(boardId)) {
        writes.push(
          this.writePresence(boardId, entry, now).then((added) => {
            if (added && this.isLocal(boardId, entry.clientId)) this.publish(boardId, this.seqs.get(boardId) ?? 0, [{ type: 'join', client: entry }]);
          }),
        );
      }
    }
    this.sweeping ??= this.sweep([...rooms], now).finally(() => {
      this.sweeping = null;
    });
    return Promise.all([...writes, this.sweeping]).then(() => {});
  }

  /** Removes expired entries (of processes that died); the process whose removal wins announces the leave. */
  private async sweep(boardIds: string[], now: number): Promise<void> {
    for (const boardId of boardIds) {
      if (this.closed) return;
      const key = this.presenceKey(boardId);
      try {
        const fields = await this.pub.hgetall(key);
        for (const [clientId, raw] of Object.entries(fields)) {
          const record = parseRecord(raw);
          if (record && (record.x > now || (record.p === this.processId && this.isLocal(boardId, clientId)))) continue;
          const removed = await this.pub.eval(DELETE_IF_UNCHANGED, 1, key, clientId, raw);
          if (removed === 1 && !this.closed) this.publish(boardId, this.seqs.get(boardId) ?? 0, [{ type: 'leave', clientId }]);
        }
      } catch (err) {
        this.warnCommand(err, 'presence sweep');
      }
    }
  }

  private isLocal(boardId: string, clientId: string): boolean {
    return this.local.localPresence(boardId).some((e) => e.clientId === clientId);
  }

  private stopTimers(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    if (this.flushHandle) clearImmediate(this.flushHandle);
    this.flushHandle = null;
  }

  /** Command failures while Redis is away are expected (the connection error was logged once). */
  private warnCommand(err: unknown, what: string): void {
    if (this.closed || this.state.pub.failing || this.state.sub.failing) return;
    this.log.warn({ err, url: this.displayUrl }, `Redis ${what} failed`);
  }
}

function parseRecord(raw: string): PresenceRecord | null {
  try {
    const record = JSON.parse(raw) as PresenceRecord;
    return typeof record?.x === 'number' && typeof record.entry?.clientId === 'string' ? record : null;
  } catch {
    return null;
  }
}

/** The URL without its password, for messages and logs. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(invalid Redis URL)';
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) return errorMessage(err.errors[0]);
  return err instanceof Error ? err.message || err.constructor.name : String(err);
}

function settleWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  if (promises.length === 0) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    Promise.allSettled(promises).then(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
