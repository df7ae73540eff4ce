import { EventEmitter } from 'node:events';
import type { WebSocket, WebSocketServer } from 'ws';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Context } from '../trpc/context.js';
import type { Metrics } from './metrics.js';
import { CLOSE_HANDSHAKE, CLOSE_TOO_SLOW, SOCKET_LIMITS, SocketGuard } from './socketGuard.js';

/** A stand-in for a `ws` socket: what it is sent piles up as unsent until `drain`. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readyState = 1;
  bufferedAmount = 0;
  isPaused = false;
  closed: number | null = null;
  terminated = false;
  sent: unknown[] = [];
  send(data: unknown): void {
    this.sent.push(data);
    this.bufferedAmount += typeof data === 'string' ? data.length : (data as Uint8Array).byteLength;
  }
  close(code: number): void {
    this.closed = code;
    this.readyState = 2;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
  pause(): void {
    this.isPaused = true;
  }
  resume(): void {
    this.isPaused = false;
  }
  drain(bytes = this.bufferedAmount): void {
    this.bufferedAmount = Math.max(0, this.bufferedAmount - bytes);
  }
}

function setup(limits: Partial<typeof SOCKET_LIMITS> = {}) {
  const contexts = new Map<FakeSocket, Context>();
  const guard = new SocketGuard((ws) => contexts.get(ws as unknown as FakeSocket) ?? null, limits);
  const wss = new EventEmitter();
  const refused: string[] = [];
  const metrics = { refused: { inc: ({ kind }: { kind: string }) => refused.push(kind) } } as unknown as Metrics;
  guard.install(wss as unknown as WebSocketServer, { log: { warn() {} } as never, metrics });
  guard.stop(); // the tests call sweep() with their own clock
  const open = (signedIn = true) => {
    const ws = new FakeSocket();
    wss.emit('connection', ws, { url: '/trpc?connectionParams=1', socket: { remoteAddress: '127.0.0.1' } });
    if (signedIn) contexts.set(ws, { user: { id: 'u1' }, clientId: 'c1' } as unknown as Context);
    return ws;
  };
  return { guard, open, refused, asWs: (ws: FakeSocket) => ws as unknown as WebSocket };
}

const MiB = 1024 * 1024;

describe('SocketGuard', () => {
  // The guard reads Date.now(): the tests move the clock and call sweep() (its 250 ms timer is stopped).
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);
  /** A client message (its PONG): the connection is alive. */
  const pong = (...sockets: FakeSocket[]) => sockets.forEach((ws) => ws.emit('message', Buffer.from('PONG'), false));

  it('cuts off a socket whose unsent frames pass 1 MiB on its timer, with no new frame', () => {
    const { guard, open, refused } = setup();
    const ws = open();
    ws.bufferedAmount = 2 * MiB; // frames it did not read (not its own answers)
    guard.sweep();
    expect(ws.closed).toBe(CLOSE_TOO_SLOW);
    expect(refused).toEqual(['slow_consumer']);
  });

  it('lets a 20 MB snapshot reach a reader that reads, and cuts one that does not once its allowance runs out', () => {
    const { guard, open } = setup();
    const reader = open();
    const stalled = open();
    const snapshot = 'x'.repeat(20_000_000);
    reader.send(snapshot);
    stalled.send(snapshot);
    // 20 MB at 1 MB/s: the reader drains; new frames (100 KB a second) keep coming to both.
    for (let s = 1; s <= 25; s++) {
      advance(1_000);
      pong(reader, stalled);
      reader.drain(1_000_000);
      reader.bufferedAmount += 100_000;
      stalled.bufferedAmount += 100_000;
      guard.sweep();
      reader.drain(100_000);
    }
    expect(reader.closed).toBeNull();
    expect(reader.terminated).toBe(false);
    // The stalled one holds its snapshot plus the frames since: more than 1 MiB of frames beyond it.
    expect(stalled.closed).toBe(CLOSE_TOO_SLOW);
  });

  it('cuts off a socket that holds its own answer past 10 s plus 1 s per 128 KiB', () => {
    const { guard, open } = setup();
    const ws = open();
    ws.send('x'.repeat(4 * MiB));
    advance(30_000); // 10 s + 32 s allowed
    pong(ws);
    guard.sweep();
    expect(ws.closed).toBeNull();
    advance(13_000);
    pong(ws);
    guard.sweep();
    expect(ws.closed).toBe(CLOSE_TOO_SLOW);
    expect(ws.terminated).toBe(false); // 4 MiB: the close handshake is kept (terminated after 1 s only above that)
  });

  it('cuts off the sockets holding most when all of them together pass the budget', () => {
    const { guard, open, refused } = setup({ maxTotalUnsentBytes: 8 * MiB });
    const small = open();
    const big = [open(), open()];
    small.send('x'.repeat(3 * MiB));
    for (const ws of big) ws.send('x'.repeat(6 * MiB));
    guard.sweep();
    expect(big.map((ws) => ws.closed)).toEqual([CLOSE_TOO_SLOW, CLOSE_TOO_SLOW]);
    expect(small.closed).toBeNull();
    expect(refused).toEqual(['unsent_total', 'unsent_total']);
  });

  it('refuses the fifth subscription of a socket and frees a place when one ends', () => {
    const { guard, open, asWs } = setup();
    const ws = asWs(open());
    const releases = [1, 2, 3, 4].map(() => guard.openSubscription(ws));
    expect(() => guard.openSubscription(ws)).toThrow(/At most 4 boards per connection/);
    releases[0]!();
    releases[0]!(); // twice is once
    expect(() => guard.openSubscription(ws)).not.toThrow();
    expect(() => guard.openSubscription(ws)).toThrow();
  });

  it('pings after 5 s without any message, lane messages included, and ends a socket silent 5 s more', () => {
    const { guard, open } = setup();
    const ws = open();
    advance(4_000);
    guard.sweep();
    expect(ws.sent).toEqual([]);
    advance(1_100);
    guard.sweep();
    expect(ws.sent).toEqual(['PING']);
    advance(4_000);
    ws.emit('message', Buffer.from('~[]'), false); // a lane message: liveness
    advance(4_000);
    guard.sweep();
    expect(ws.terminated).toBe(false);
    expect(ws.sent).toEqual(['PING']);
    advance(1_100);
    guard.sweep(); // 5.1 s quiet: a new PING
    expect(ws.sent).toEqual(['PING', 'PING']);
    advance(5_100);
    guard.sweep();
    expect(ws.terminated).toBe(true);
  });

  it('closes a socket that sends over 8 KiB before its params (4400), and pauses one whose calls follow its params', () => {
    const { open } = setup();
    const early = open(false);
    early.emit('message', Buffer.from(`~[${'x'.repeat(9_000)}]`), false);
    expect(early.closed).toBe(CLOSE_HANDSHAKE);
    const pipelined = open(false);
    pipelined.emit('message', Buffer.from('{"method":"connectionParams","data":{}}'), false);
    pipelined.emit('message', Buffer.from(`{"id":1,"x":"${'y'.repeat(9_000)}"}`), false);
    expect(pipelined.closed).toBeNull();
    expect(pipelined.isPaused).toBe(true);
  });
});
