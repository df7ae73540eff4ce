import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeLane, newId, zAbove, type Element } from '@inkboard/protocol';
import { LogLimiter } from '../apps/server/src/plugins/socketGuard.js';
import { logCollector } from './helpers/auth.js';
import { connect, openSession, startServer, testUser, waitFor, type TestServer } from './helpers/server.js';

/**
 * Issue 13, items 1 and 3: what one WebSocket can make the server hold. Each test runs the attack
 * against a real server and checks that the server stays alive and answers with the limit.
 */

let server: TestServer;
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
  await server?.destroy();
});

interface Raw {
  ws: WebSocket;
  /** Text messages received (PING included). */
  received: string[];
  closed: Promise<{ code: number; reason: string; afterMs: number }>;
  isOpen(): boolean;
}

/** A raw WebSocket to /trpc that waits for connection params, and never answers the server's PING. */
async function rawSocket(): Promise<Raw> {
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/trpc?connectionParams=1`);
  cleanups.push(() => ws.terminate());
  const received: string[] = [];
  ws.on('message', (data) => received.push(data.toString()));
  ws.on('error', () => {});
  const opened = Date.now();
  const closed = new Promise<{ code: number; reason: string; afterMs: number }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString(), afterMs: Date.now() - opened })),
  );
  await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
  return { ws, received, closed, isOpen: () => ws.readyState === WebSocket.OPEN };
}

/** A raw socket signed in as `name` through its connection params. */
async function signedIn(name: string): Promise<Raw> {
  const raw = await rawSocket();
  raw.ws.send(JSON.stringify({ method: 'connectionParams', data: { token: testUser(server.url, name).token } }));
  return raw;
}

function subscribe(raw: Raw, id: number, boardId: string): void {
  raw.ws.send(JSON.stringify({ id, method: 'subscription', params: { path: 'board.onEvents', input: { boardId } } }));
}

/** Replies to request `id`, parsed. */
function repliesTo(raw: Raw, id: number): { result?: { type: string }; error?: { message: string; data: { code: string } } }[] {
  return raw.received.filter((m) => m.startsWith(`{"id":${id},`)).map((m) => JSON.parse(m));
}

/** Seeded pseudo-random letters (mulberry32), so a board's size is the same on every run. */
function letters(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (n: number) => Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(next() * 26))).join('');
}

/** A board whose snapshot is about `megabytes` MB (text elements of 5,000 letters), owned by `owner`. */
async function bigBoard(megabytes: number, seed = 13): Promise<{ boardId: string; elements: number }> {
  const owner = connect(server.url, 'owner');
  cleanups.push(() => owner.close());
  const { id: boardId } = await owner.trpc.board.create.mutate({ title: 'Big' });
  const text = letters(seed);
  const count = Math.round((megabytes * 1e6) / 5_100);
  for (let i = 0; i < count; i += 100) {
    const elements = Array.from({ length: Math.min(100, count - i) }, (_, k): Element => ({
      type: 'text', id: newId(), x: k * 10, y: i, z: zAbove(null), text: text(5_000), fontSize: 16, strokeColor: '#1e1e1e', strokeWidth: 1, opacity: 1,
    }));
    await owner.trpc.board.push.mutate({ boardId, ops: [{ type: 'add', opId: newId(), elements }] });
  }
  return { boardId, elements: count };
}

/** Stops reading the socket: the kernel's buffers fill, then the server's unsent buffer grows. */
function stopReading(raw: Raw): void {
  (raw.ws as unknown as { _socket: { pause(): void } })._socket.pause();
}

/** The largest unsent buffer among the server's sockets, polled until stopped. */
function pollUnsent(): { max(): number; stop(): void } {
  let max = 0;
  const timer = setInterval(() => {
    for (const ws of server.app.websocketServer.clients) max = Math.max(max, ws.bufferedAmount);
  }, 2);
  cleanups.push(() => clearInterval(timer));
  return { max: () => max, stop: () => clearInterval(timer) };
}

async function alive(): Promise<void> {
  const health = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
  expect(await health.json()).toEqual({ ok: true });
}

const MiB = 1024 * 1024;

describe('before signing in', () => {
  it('a socket that never sends its params and streams 500 KiB lane messages is closed (4400) after 8 KiB', async () => {
    server = await startServer();
    const raw = await rawSocket();
    const lane = encodeLane([{ type: 'typing', boardId: 'x'.repeat(60) }]).slice(0, -1);
    // One lane message of about 500 KiB (its JSON is not even checked before the context exists).
    const big = `${lane},${JSON.stringify('y'.repeat(500 * 1024))}]`;
    let sent = 0;
    for (let i = 0; i < 40 && raw.isOpen(); i++) {
      raw.ws.send(big);
      sent++;
      await new Promise((r) => setImmediate(r));
    }
    const closed = await Promise.race([raw.closed, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    console.log(`before params: ${sent} lane messages of 500 KiB sent, closed ${closed ? `${closed.code} after ${closed.afterMs} ms: ${closed.reason}` : 'never'}`);
    expect(closed?.code).toBe(4400);
    expect(closed?.reason).toMatch(/before signing in/);
    await alive();
  }, 30_000);

  it('a socket that does not sign in within the handshake time is closed: 4400 silent, 4401 anonymous; a signed-in one stays', async () => {
    server = await startServer({ wsHandshakeMs: 1_000 });
    const silent = await rawSocket();
    const anonymous = await rawSocket();
    anonymous.ws.send(JSON.stringify({ method: 'connectionParams', data: {} }));
    const member = await signedIn('member');
    const timeout = new Promise<null>((r) => setTimeout(() => r(null), 5_000));
    const [a, b] = await Promise.all([Promise.race([silent.closed, timeout]), Promise.race([anonymous.closed, timeout])]);
    console.log(`handshake 1 s: silent closed ${a?.code} after ${a?.afterMs} ms, anonymous closed ${b?.code} after ${b?.afterMs} ms`);
    expect(a?.code).toBe(4400);
    // Its (missing) credentials were checked: the client stops retrying and asks to sign in.
    expect(b?.code).toBe(4401);
    expect(a?.reason).toMatch(/not signed in within 1 s/);
    expect(member.isOpen()).toBe(true);
    await alive();
  }, 20_000);

  it('a lane message sent before the params still counts and is handled once they arrive', async () => {
    server = await startServer();
    const raw = await rawSocket();
    raw.ws.send(encodeLane([{ type: 'cursor', boardId: 'no-such-board', x: 1, y: 2 }]));
    raw.ws.send(JSON.stringify({ method: 'connectionParams', data: { token: testUser(server.url, 'early').token } }));
    // The early event is checked with the connection's identity: refused as its board does not exist.
    await waitFor(() => raw.received.some((m) => m.startsWith('{"id":"~"')), 'the lane refusal');
    expect(raw.isOpen()).toBe(true);
  });

  it('calls sent right behind the params (a reconnect with pending pushes) wait for the context and are served', async () => {
    server = await startServer();
    const owner = connect(server.url, 'owner');
    cleanups.push(() => owner.close());
    const { id: boardId } = await owner.trpc.board.create.mutate({ title: 'Pending' });
    const raw = await rawSocket();
    raw.ws.send(JSON.stringify({ method: 'connectionParams', data: { token: testUser(server.url, 'owner').token } }));
    // About 300 KiB of pushes in the same breath, far past the 8 KiB allowed before signing in.
    for (let i = 1; i <= 3; i++) {
      const elements = Array.from({ length: 20 }, (_, k) => ({ type: 'text', id: newId(), x: k, y: i, z: zAbove(null), text: 'p'.repeat(5_000), fontSize: 16, strokeColor: '#1e1e1e', strokeWidth: 1, opacity: 1 }));
      raw.ws.send(JSON.stringify({ id: i, method: 'mutation', params: { path: 'board.push', input: { boardId, ops: [{ type: 'add', opId: newId(), elements }] } } }));
    }
    await waitFor(() => [1, 2, 3].every((id) => repliesTo(raw, id).length > 0), 'the pushes answered');
    for (const id of [1, 2, 3]) expect(repliesTo(raw, id)[0]!.error).toBeUndefined();
    expect(server.app.boards.service.knownSeq(boardId)).toBe(3);
    expect(raw.isOpen()).toBe(true);
  });
});

describe('keep-alive', () => {
  it('lane messages count as liveness: a socket that never answers PING but moves its cursor stays open', async () => {
    server = await startServer();
    const owner = connect(server.url, 'owner');
    cleanups.push(() => owner.close());
    const { id: boardId } = await owner.trpc.board.create.mutate({ title: 'Alive' });
    const raw = await signedIn('owner');
    const started = Date.now();
    // Past the keep-alive's 5 s ping + 5 s wait, with only lane traffic (no PONG).
    while (Date.now() - started < 12_500 && raw.isOpen()) {
      raw.ws.send(encodeLane([{ type: 'cursor', boardId, x: Date.now() % 1000, y: 0 }]));
      await new Promise((r) => setTimeout(r, 500));
    }
    console.log(`keep-alive: open after ${((Date.now() - started) / 1000).toFixed(1)} s of lane traffic only: ${raw.isOpen()}`);
    expect(raw.isOpen()).toBe(true);
  }, 30_000);
});

describe('subscriptions', () => {
  it('at most 4 per socket: the fifth is refused with TOO_MANY_REQUESTS, a stopped one frees its place; none over HTTP', async () => {
    server = await startServer();
    const owner = connect(server.url, 'owner');
    cleanups.push(() => owner.close());
    const { id: boardId } = await owner.trpc.board.create.mutate({ title: 'Many' });
    const raw = await signedIn('owner');
    for (let id = 1; id <= 5; id++) subscribe(raw, id, boardId);
    // tRPC answers "started" before the procedure runs; a refused one then gets its error.
    const started = () => [1, 2, 3, 4, 5].filter((id) => repliesTo(raw, id).some((r) => r.result?.type === 'data'));
    const refused = () => [1, 2, 3, 4, 5].flatMap((id) => repliesTo(raw, id).filter((r) => r.error));
    await waitFor(() => started().length + refused().length === 5, 'five answers');
    expect(started()).toHaveLength(4);
    expect(refused()).toHaveLength(1);
    expect(refused()[0]!.error).toMatchObject({ data: { code: 'TOO_MANY_REQUESTS' } });
    expect(refused()[0]!.error!.message).toMatch(/At most 4 boards per connection; open another connection/);

    raw.ws.send(JSON.stringify({ id: started()[0], method: 'subscription.stop' }));
    await waitFor(() => repliesTo(raw, started()[0]!).some((r) => r.result?.type === 'stopped'), 'stopped');
    subscribe(raw, 6, boardId);
    await waitFor(() => repliesTo(raw, 6).some((r) => r.result?.type === 'data' || r.error !== undefined), 'the sixth answered');
    expect(repliesTo(raw, 6).some((r) => r.result?.type === 'data')).toBe(true);

    // Server-sent events would have no unsent-bytes bound: subscriptions are WebSocket-only.
    const input = encodeURIComponent(JSON.stringify({ boardId }));
    const sse = await fetch(`${server.url}/trpc/board.onEvents?input=${input}`, {
      headers: { authorization: `Bearer ${testUser(server.url, 'owner').token}` },
      signal: AbortSignal.timeout(10_000),
    });
    const body = await sse.text();
    expect(body).toMatch(/METHOD_NOT_SUPPORTED/);
    expect(body).toMatch(/over the WebSocket/);
  });
  it('400 subscriptions of a tiny board on one socket that does not read: 4 live, 396 refused, the server answers, few log lines', async () => {
    const logs = logCollector();
    server = await startServer({ logLevel: 'warn' }, undefined, { logStream: logs.stream });
    const owner = connect(server.url, 'owner');
    cleanups.push(() => owner.close());
    const { id: boardId } = await owner.trpc.board.create.mutate({ title: 'Tiny' });
    const raw = await signedIn('owner');
    for (let id = 1; id <= 400; id++) subscribe(raw, id, boardId);
    // Read the answers for a while, then stop reading (the kernel's buffers fill).
    await waitFor(() => server.app.boards.hub.stats().subscriptions >= 4, 'the first subscriptions', 20_000);
    await waitFor(() => (server.app.boards.hub.stats().subscriptions === 4 && raw.received.filter((m) => m.includes('TOO_MANY_REQUESTS')).length === 396) || !raw.isOpen(), 'every subscription answered', 20_000);
    stopReading(raw);
    const refused = raw.received.filter((m) => m.includes('At most 4 boards per connection')).length;
    // Some traffic on the board while it does not read.
    for (let i = 0; i < 20; i++) await owner.trpc.board.push.mutate({ boardId, ops: [{ type: 'add', opId: newId(), elements: [{ type: 'rectangle', id: newId(), x: i, y: 0, z: zAbove(null), width: 10, height: 10, strokeColor: '#1e1e1e', strokeWidth: 1, opacity: 1, fillColor: 'transparent' }] }] });
    await alive();
    const warnings = logs.lines.filter((l) => l.includes('"level":40')).length;
    console.log(`400 subscriptions on one socket: ${server.app.boards.hub.stats().subscriptions} live, ${refused} refused with TOO_MANY_REQUESTS, ${warnings} warning lines`);
    expect(refused).toBe(396);
    expect(server.app.boards.hub.stats().subscriptions).toBeLessThanOrEqual(4);
    expect(warnings).toBeLessThanOrEqual(11);
  }, 60_000);
});

describe('unsent bytes', () => {
  it('a socket that stops reading 4 snapshots of a 3 MB board is cut off (4408) with no new frame, within its budget', async () => {
    server = await startServer({ wsMaxSocketUnsentBytes: 4 * MiB });
    const { boardId } = await bigBoard(3);
    const unsent = pollUnsent();
    const raw = await signedIn('owner');
    await waitFor(() => server.app.boards.hub.stats().subscriptions === 0 && server.app.websocketServer.clients.size >= 1, 'connected');
    const open = server.app.websocketServer.clients.size;
    for (let id = 1; id <= 4; id++) subscribe(raw, id, boardId);
    stopReading(raw);
    const started = Date.now();
    // The client does not read, so it never sees the close: the server's side of the socket ends.
    const cutOff = await waitFor(() => server.app.websocketServer.clients.size < open, 'the socket cut off', 15_000).then(() => Date.now() - started, () => null);
    unsent.stop();
    const metrics = (await server.app.inject('/metrics')).body;
    const cut = Number(metrics.match(/inkboard_refused_total\{kind="slow_consumer"\} (\d+)/)?.[1] ?? 0);
    console.log(`4 snapshots of 3 MB, not read: ${cutOff === null ? 'not cut off' : `cut off after ${cutOff} ms`}, largest unsent buffer ${(unsent.max() / MiB).toFixed(1)} MiB (budget 4 MiB + one snapshot)`);
    expect(cutOff).not.toBeNull();
    expect(cut).toBe(1);
    expect(unsent.max()).toBeLessThan(4 * MiB + 4 * 1e6);
    await alive();
  }, 60_000);

  it('past the server-wide budget the sockets holding most are cut off, while a reader that reads gets its 3 MB snapshot', async () => {
    const logs = logCollector();
    server = await startServer({ wsMaxTotalUnsentBytes: 8 * MiB, logLevel: 'warn' }, undefined, { logStream: logs.stream });
    const { boardId, elements } = await bigBoard(3);
    const unsent = pollUnsent();
    const hogs = await Promise.all([signedIn('owner'), signedIn('owner'), signedIn('owner')]);
    for (const hog of hogs) {
      for (let id = 1; id <= 4; id++) subscribe(hog, id, boardId);
      stopReading(hog);
    }
    // Three sockets of about 12 MB each against 8 MiB in all: the ones holding most are cut off.
    const cutFor = async (kind: string) => Number((await server.app.inject('/metrics')).body.match(new RegExp(`inkboard_refused_total\\{kind="${kind}"\\} (\\d+)`))?.[1] ?? 0);
    await waitFor(async () => (await cutFor('unsent_total')) >= 1, 'a hog cut off', 20_000);
    const reader = openSession(server.url, boardId, 'reader');
    cleanups.push(reader.close);
    await waitFor(() => reader.session.elements.size === elements, 'the reader got the snapshot', 30_000);
    unsent.stop();
    const total = await cutFor('unsent_total');
    const slow = await cutFor('slow_consumer');
    const warnings = logs.lines.filter((l) => l.includes('"kind":"unsent_total"')).length;
    console.log(`server-wide budget 8 MiB: ${total} cut off for the total, ${slow} as slow, ${warnings} warnings; largest unsent buffer ${(unsent.max() / MiB).toFixed(1)} MiB; the reader got ${elements} elements`);
    expect(total).toBeGreaterThanOrEqual(1);
    expect(reader.session.status).toBe('live');
    expect(warnings).toBeLessThanOrEqual(10);
    await alive();
  }, 60_000);

  it('warnings are rate-limited: 25,000 of a kind give at most 10 lines per 10 s and a count of the rest', () => {
    const lines: { fields: Record<string, unknown>; msg: string }[] = [];
    const log = { warn: (fields: Record<string, unknown>, msg: string) => lines.push({ fields, msg }) };
    const limiter = new LogLimiter(log as never, 10, 10_000);
    for (let i = 0; i < 25_000; i++) limiter.warn('slow_consumer', { i }, 'slow consumer cut off', 1_000 + i / 10);
    expect(lines).toHaveLength(10);
    limiter.warn('slow_consumer', {}, 'slow consumer cut off', 20_000);
    expect(lines).toHaveLength(12);
    expect(lines[10]!.msg).toMatch(/24990 more "slow_consumer" warnings were not logged/);
  });
});
