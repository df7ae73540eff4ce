import type { IncomingMessage } from 'node:http';
import { LANE_PREFIX } from '@inkboard/protocol';
import { TRPCError } from '@trpc/server';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket, WebSocketServer } from 'ws';
import { isSharedFrame } from './frameEncoder.js';
import type { Metrics } from './metrics.js';
import { CLOSE_AUTH_ENDED } from '../auth/connections.js';
import type { Context } from '../trpc/context.js';

/** What one WebSocket may cost the server; each is a setting (config.ts) or a constant here. */
export interface SocketLimits {
  /** Time from the upgrade to being signed in (connection params received and checked). */
  handshakeMs: number;
  /** Bytes a socket may send before it is signed in (lane messages and held tRPC calls included). */
  handshakeBytes: number;
  /** Live `board.onEvents` subscriptions on one socket. */
  subscriptionsPerSocket: number;
  /** Unsent bytes a socket may hold beyond its first frames (snapshots) still draining. */
  slowConsumerBytes: number;
  /** Largest unsent buffer of one socket, first frames included. */
  maxSocketUnsentBytes: number;
  /** Unsent bytes of all sockets together; past it, the sockets holding most are cut off. */
  maxTotalUnsentBytes: number;
  /** Slowest drain a first frame (snapshot) may take, in bytes a second, after a grace of `snapshotGraceMs`. */
  snapshotDrainBytesPerSecond: number;
  snapshotGraceMs: number;
  /** Quiet time before the server sends "PING", and the wait for any message after it. */
  pingMs: number;
  pongWaitMs: number;
  /** How often unsent buffers, handshakes and keep-alives are checked. */
  sweepMs: number;
}

export const SOCKET_LIMITS: SocketLimits = {
  handshakeMs: 5_000,
  handshakeBytes: 8 * 1024,
  subscriptionsPerSocket: 4,
  slowConsumerBytes: 1024 * 1024,
  maxSocketUnsentBytes: 64 * 1024 * 1024,
  maxTotalUnsentBytes: 256 * 1024 * 1024,
  snapshotDrainBytesPerSecond: 128 * 1024,
  snapshotGraceMs: 10_000,
  pingMs: 5_000,
  pongWaitMs: 5_000,
  sweepMs: 250,
};

/** Close code: not signed in within the handshake time, or too much sent before signing in. */
export const CLOSE_HANDSHAKE = 4400;
/** Close code telling the client to reconnect and resume (it did not read what it was sent). */
export const CLOSE_TOO_SLOW = 4408;
/** How long a client gets to complete the close handshake before its connection is cut. */
const CLOSE_GRACE_MS = 1_000;
/** A slow consumer cut off with a small buffer gets this long to read it and the 4408, then it is freed (not ws's 30 s). */
const SLOW_CLOSE_GRACE_MS = 5_000;

/**
 * At most `perWindow` lines per kind in each window; the rest are counted and summed up in one line
 * when the next window starts (a flood of refusals must not become a flood of log lines).
 */
export class LogLimiter {
  private readonly windows = new Map<string, { start: number; logged: number; suppressed: number }>();

  constructor(
    private readonly log: FastifyBaseLogger,
    private readonly perWindow = 10,
    private readonly windowMs = 10_000,
  ) {}

  warn(kind: string, fields: Record<string, unknown>, message: string, now = Date.now()): void {
    let w = this.windows.get(kind);
    if (!w || now - w.start >= this.windowMs) {
      if (w?.suppressed) this.log.warn({ kind, suppressed: w.suppressed, windowMs: this.windowMs }, `${w.suppressed} more "${kind}" warnings were not logged`);
      w = { start: now, logged: 0, suppressed: 0 };
      this.windows.set(kind, w);
    }
    if (w.logged < this.perWindow) {
      w.logged++;
      this.log.warn({ kind, ...fields }, message);
    } else w.suppressed++;
  }
}

interface SocketState {
  ip: string;
  opened: number;
  /** Bytes received while not signed in (before the params, or with a context but no user). */
  received: number;
  /** Bytes received after the params while tRPC made the context. */
  held: number;
  /** The params message arrived (or none is expected): tRPC is making the context. */
  paramsSeen: boolean;
  signedIn: boolean;
  /** Time of the last message from the client (any message, lane included). */
  lastSeen: number;
  pingSent: number | null;
  subscriptions: number;
  /** Unsent bytes of first frames (snapshots, backlogs) allowed beyond `slowConsumerBytes`, and until when. */
  credit: number;
  creditUntil: number;
  cut: boolean;
}

/**
 * Bounds what one WebSocket can make the server hold: before signing in (bytes and time), live
 * subscriptions, unsent bytes (its own and everyone's together), and keep-alive. tRPC's own
 * keep-alive is off: it counts only messages tRPC sees, and the lane takes its messages first.
 */
export class SocketGuard {
  readonly limits: SocketLimits;
  private readonly sockets = new Map<WebSocket, SocketState>();
  private timer: NodeJS.Timeout | null = null;
  private logs: LogLimiter | null = null;
  private metrics: Metrics | null = null;
  /** Unsent bytes of all sockets at the last sweep, plus first frames granted since. */
  private estimatedTotal = 0;
  /** Called before every message of every socket is handled (app.ts: the store's `pollDurable`). */
  beforeMessage: () => void = () => {};

  constructor(
    /** The connection's tRPC context once it exists (SocketContexts.peek). */
    private readonly contextOf: (ws: WebSocket) => Context | null | undefined,
    limits: Partial<SocketLimits> = {},
  ) {
    const given = Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
    this.limits = { ...SOCKET_LIMITS, ...given };
  }

  /**
   * Watches every connection of `wss`. Must run after the lane is installed: the wrap of `emit`
   * made here is then the outermost one and sees every message, lane messages included.
   */
  install(wss: WebSocketServer, deps: { log: FastifyBaseLogger; metrics: Metrics }): void {
    this.logs = new LogLimiter(deps.log);
    this.metrics = deps.metrics;
    wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
      // As tRPC decides: with `?connectionParams=1` the context waits for a params message.
      const waitsForParams = new URL(req.url ?? '/', 'http://localhost').searchParams.get('connectionParams') === '1';
      this.watch(ws, req.socket.remoteAddress ?? 'unknown', !waitsForParams);
    });
    this.timer = setInterval(() => this.sweep(), this.limits.sweepMs);
    this.timer.unref();
  }

  /** A warning about a WebSocket, at most 10 lines per kind in 10 s (LogLimiter). */
  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    this.logs?.warn(kind, fields, message);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private watch(ws: WebSocket, ip: string, paramsSeen: boolean): void {
    const now = Date.now();
    const state: SocketState = { ip, opened: now, received: 0, held: 0, paramsSeen, signedIn: false, lastSeen: now, pingSent: null, subscriptions: 0, credit: 0, creditUntil: 0, cut: false };
    this.sockets.set(ws, state);
    ws.once('close', () => this.sockets.delete(ws));
    const emit = ws.emit.bind(ws);
    ws.emit = (event: string | symbol, ...args: unknown[]): boolean => {
      if (event !== 'message') return emit(event, ...args);
      this.beforeMessage();
      if (state.cut) return true;
      state.lastSeen = Date.now();
      state.pingSent = null;
      if (!state.signedIn && !this.checkSignedIn(ws, state)) {
        const bytes = byteLength(args[0]);
        if (state.paramsSeen && !this.contextOf(ws)) {
          // The params are in and tRPC is making the context; it holds what comes meanwhile. A client
          // may send its calls right behind its params (a reconnect with pending pushes): past the
          // budget, the rest waits in the kernel (the socket stops reading) until the context exists.
          state.held += bytes;
          if (state.held > this.limits.handshakeBytes && !ws.isPaused) ws.pause();
        } else {
          // tRPC takes the first message that is not the lane's or a PING/PONG as the params.
          if (!this.contextOf(ws) && !isLaneOrPing(args[0])) state.paramsSeen = true;
          state.received += bytes;
          if (state.received > this.limits.handshakeBytes) {
            this.refuseHandshake(ws, state, `sent over ${this.limits.handshakeBytes} bytes before signing in: send the connection params (a token) first`);
            return true;
          }
        }
      }
      return emit(event, ...args);
    };
    // Everything but a tick's shared frame (snapshots, backlogs, query replies) is the client's own
    // answer: it may take a while to drain (see credit). A shared frame it does not read counts against it.
    const send = ws.send.bind(ws) as (...a: unknown[]) => void;
    ws.send = ((data: unknown, ...rest: unknown[]) => {
      const before = ws.bufferedAmount;
      send(data, ...rest);
      if (!isSharedFrame(data)) this.credit(ws, ws.bufferedAmount - before);
    }) as WebSocket['send'];
  }

  /** Called when the connection's tRPC context exists: what waited in the kernel is read now. */
  bound(ws: WebSocket): void {
    if (ws.isPaused && this.sockets.get(ws)?.cut === false) ws.resume();
  }

  private checkSignedIn(ws: WebSocket, state: SocketState): boolean {
    // A guest (public link, issue 18) has signed in as far as this guard is concerned.
    const ctx = this.contextOf(ws);
    if (ctx?.user || ctx?.guest) state.signedIn = true;
    return state.signedIn;
  }

  /**
   * Closes a socket that did not sign in: 4400 when tRPC has no context for it yet (no params, or
   * too much before them: retrying may help), 4401 when its credentials were checked and there are
   * none (the client stops and asks the person to sign in).
   */
  private refuseHandshake(ws: WebSocket, state: SocketState, reason: string): void {
    this.metrics?.refused.inc({ kind: 'ws_handshake' });
    this.logs?.warn('ws_handshake', { ip: state.ip, received: state.received }, `WebSocket closed before signing in: ${reason}`);
    this.cut(ws, state, this.contextOf(ws) ? CLOSE_AUTH_ENDED : CLOSE_HANDSHAKE, reason);
  }

  private cut(ws: WebSocket, state: SocketState, code: number, reason: string, graceMs = CLOSE_GRACE_MS): void {
    state.cut = true;
    ws.close(code, reason);
    // A client that does not read never sees the close frame (it waits behind the unsent bytes), and
    // `ws` would keep the socket for its 30 s close timeout: terminate() frees it (a no-op once closed).
    setTimeout(() => ws.terminate(), graceMs).unref();
  }

  /** Counts a new subscription on `ws`; refuses one past the limit. Returns its release. */
  openSubscription(ws: WebSocket): () => void {
    const state = this.sockets.get(ws);
    if (!state) return () => {};
    if (state.subscriptions >= this.limits.subscriptionsPerSocket) {
      this.metrics?.refused.inc({ kind: 'subscriptions' });
      const n = this.limits.subscriptionsPerSocket;
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `At most ${n} boards per connection; open another connection for more.` });
    }
    state.subscriptions++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      state.subscriptions--;
    };
  }

  /**
   * Allows `bytes` just sent as an answer (a snapshot, a backlog, a query's reply) to stay unsent
   * beyond the slow-consumer bound while they drain at a reasonable pace: a big board still reaches
   * a reader that reads; one that does not read is cut off once the allowance runs out.
   */
  private credit(ws: WebSocket, bytes: number): void {
    const state = this.sockets.get(ws);
    if (!state || state.cut || bytes <= 0) return;
    const now = Date.now();
    state.credit = Math.min(this.limits.maxSocketUnsentBytes, (now < state.creditUntil ? state.credit : 0) + bytes);
    const drainMs = this.limits.snapshotGraceMs + (state.credit / this.limits.snapshotDrainBytesPerSecond) * 1000;
    state.creditUntil = Math.max(state.creditUntil, now + drainMs);
    this.estimatedTotal += bytes;
    if (ws.bufferedAmount > this.limits.maxSocketUnsentBytes) this.cutSlow(ws, state, ws.bufferedAmount, 'slow_consumer');
    else if (this.estimatedTotal > this.limits.maxTotalUnsentBytes) this.sweep();
  }

  /** Cuts `ws` off when it holds more unsent bytes than allowed; true when it is (or was) cut off. */
  cutIfSlow(ws: WebSocket): boolean {
    const state = this.sockets.get(ws);
    if (!state) return ws.readyState !== ws.OPEN;
    if (state.cut) return true;
    const unsent = ws.bufferedAmount;
    // Nearly always (asked for every frame, issue 19): within the bound whatever the credit, which
    // only shrinks to what is unsent (its end matters only to a larger backlog, checked below).
    if (unsent <= this.limits.slowConsumerBytes && this.limits.slowConsumerBytes <= this.limits.maxSocketUnsentBytes) {
      if (state.credit > unsent) state.credit = unsent;
      return false;
    }
    return this.checkUnsent(ws, state, unsent, Date.now());
  }

  private checkUnsent(ws: WebSocket, state: SocketState, unsent: number, now: number): boolean {
    if (now >= state.creditUntil) state.credit = 0;
    // The first frames are the oldest bytes: once fewer bytes are unsent, the rest of them left.
    else state.credit = Math.min(state.credit, unsent);
    const allowed = Math.min(this.limits.maxSocketUnsentBytes, this.limits.slowConsumerBytes + state.credit);
    if (unsent <= allowed) return false;
    this.cutSlow(ws, state, unsent, 'slow_consumer');
    return true;
  }

  private cutSlow(ws: WebSocket, state: SocketState, unsent: number, kind: 'slow_consumer' | 'unsent_total'): void {
    this.metrics?.refused.inc({ kind });
    const context = this.contextOf(ws);
    this.logs?.warn(kind, { userId: context?.user?.id, clientId: context?.clientId, unsent }, kind === 'slow_consumer' ? 'slow consumer cut off' : 'server-wide unsent bytes over the limit: the socket holding most cut off');
    // A socket cut off with a small buffer keeps the close handshake, so a client that is merely slow
    // still reads the 4408; one holding megabytes, or cut for the server's total, is freed at once.
    const terminate = kind === 'unsent_total' || unsent > 4 * this.limits.slowConsumerBytes;
    this.cut(ws, state, CLOSE_TOO_SLOW, 'too slow: reconnect and resume', terminate ? CLOSE_GRACE_MS : SLOW_CLOSE_GRACE_MS);
  }

  /** Checks every socket: handshake time, keep-alive, its unsent bytes, and everyone's together. */
  sweep(now = Date.now()): void {
    const { handshakeMs, pingMs, pongWaitMs, maxTotalUnsentBytes } = this.limits;
    let total = 0;
    const holding: [WebSocket, SocketState, number][] = [];
    // Cut off but still in their close handshake: their bytes are still held.
    const closing: [WebSocket, number][] = [];
    for (const [ws, state] of this.sockets) {
      if (state.cut || ws.readyState !== ws.OPEN) {
        const unsent = ws.bufferedAmount;
        if (unsent > 0 && ws.readyState === ws.CLOSING) {
          total += unsent;
          closing.push([ws, unsent]);
        }
        continue;
      }
      if (!state.signedIn && now - state.opened > handshakeMs && !this.checkSignedIn(ws, state)) {
        this.refuseHandshake(ws, state, `not signed in within ${handshakeMs / 1000} s: send the connection params with a token, or sign in first`);
        continue;
      }
      if (state.pingSent === null) {
        if (now - state.lastSeen >= pingMs) {
          ws.send('PING');
          state.pingSent = now;
        }
      } else if (now - state.pingSent >= pongWaitMs) {
        // Nothing at all came back (tRPC's keep-alive does the same): the connection is dead.
        ws.terminate();
        continue;
      }
      const unsent = ws.bufferedAmount;
      if (unsent === 0) continue;
      if (this.checkUnsent(ws, state, unsent, now)) continue;
      total += unsent;
      holding.push([ws, state, unsent]);
    }
    if (total > maxTotalUnsentBytes) {
      // Past the server's budget: first the sockets already cut off, then the ones holding most
      // (each over its share).
      for (const [ws, unsent] of closing.sort((a, b) => b[1] - a[1])) {
        if (total <= maxTotalUnsentBytes) break;
        ws.terminate();
        total -= unsent;
      }
      const share = maxTotalUnsentBytes / holding.length;
      holding.sort((a, b) => b[2] - a[2]);
      for (const [ws, state, unsent] of holding) {
        if (total <= maxTotalUnsentBytes || unsent <= share) break;
        this.cutSlow(ws, state, unsent, 'unsent_total');
        total -= unsent;
      }
    }
    this.estimatedTotal = total;
  }

  /** Unsent bytes of all sockets at the last sweep (metrics, tests). */
  get unsentTotal(): number {
    return this.estimatedTotal;
  }
}

const LANE_BYTE = LANE_PREFIX.charCodeAt(0);

function isLaneOrPing(data: unknown): boolean {
  if (!Buffer.isBuffer(data)) return false;
  if (data[0] === LANE_BYTE) return true;
  return data.length === 4 && (data.toString() === 'PING' || data.toString() === 'PONG');
}

function byteLength(data: unknown): number {
  if (Buffer.isBuffer(data) || data instanceof ArrayBuffer) return data.byteLength;
  if (Array.isArray(data)) return data.reduce((n: number, b: unknown) => n + byteLength(b), 0);
  return 0;
}
