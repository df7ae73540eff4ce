import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, Socket, type Server } from 'node:net';
import { fromWireFrame, type BoardEvent, type PresenceEntry, type WireFrame } from '@inkboard/protocol';
import { toWireFrame } from '@inkboard/protocol';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HubSignal, Subscriber } from '../apps/server/src/boards/BoardHub.js';
import { RedisBoardHub, type RedisBoardHubOptions } from '../apps/server/src/boards/RedisBoardHub.js';
import { addOp, deleteOp, stroke } from './helpers/elements.js';
import { freePort } from './helpers/process.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}

interface Recorder extends Subscriber {
  frames: WireFrame[];
  revokes: number;
  resyncs: number;
  /** Every event delivered, unpacked as a client would (cursors one by one). */
  events(): BoardEvent[];
}

function recorder(userId = 'alice'): Recorder {
  const rec: Recorder = {
    userId,
    frames: [],
    revokes: 0,
    resyncs: 0,
    frame: (frame) => void rec.frames.push(frame),
    revoked: () => void rec.revokes++,
    resync: () => void rec.resyncs++,
    events: () => rec.frames.flatMap((f) => fromWireFrame(f).events),
  };
  return rec;
}

const author = { id: 'alice', name: 'Alice' };
const opEvent = (seq: number, op = deleteOp(`el-${seq}`)): BoardEvent => ({ type: 'op', seq, author, op });
const cursor = (clientId: string, x: number): BoardEvent => ({ type: 'cursor', clientId, x, y: x });
const person = (clientId: string, name = 'Bob'): PresenceEntry => ({ clientId, user: { id: `user-${name}`, name, color: '#1971c2' } });
const leavesOf = (rec: Recorder, clientId: string) => rec.events().filter((e) => e.type === 'leave' && e.clientId === clientId).length;
const joinsOf = (rec: Recorder, clientId: string) => rec.events().filter((e) => e.type === 'join' && e.client.clientId === clientId).length;

let prefix = '';
let hubs: RedisBoardHub[] = [];
let clients: Redis[] = [];
let redisChildren: ChildProcess[] = [];
let servers: Server[] = [];

/** A TCP proxy to the shared Redis that holds every chunk, both ways, for `delayMs` (order kept). */
async function slowProxy(delayMs: number): Promise<string> {
  const server = createServer((inbound) => {
    const upstream = new Socket();
    upstream.connect(6379, '127.0.0.1');
    const relay = (from: Socket, to: Socket) => {
      from.on('data', (chunk) => setTimeout(() => to.writable && to.write(chunk), delayMs));
      from.on('close', () => setTimeout(() => to.destroy(), delayMs));
      from.on('error', () => {});
    };
    relay(inbound, upstream);
    relay(upstream, inbound);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `redis://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** A started hub on this test's prefix. */
async function hub(processId: string, options: Partial<RedisBoardHubOptions> = {}): Promise<RedisBoardHub> {
  const h = new RedisBoardHub({ url: REDIS_URL, prefix, processId, tickMs: 10, ...options });
  hubs.push(h);
  await h.start();
  return h;
}

/** Processes A and B, each with a recording subscriber of board-1. */
async function twoSubscribed() {
  const a = await hub('A');
  const b = await hub('B');
  const onA = recorder();
  const onB = recorder();
  await a.subscribe('board-1', onA);
  await b.subscribe('board-1', onB);
  return { a, b, onA, onB };
}

/** A plain client for looking at Redis from outside the hubs. */
function client(url = REDIS_URL): Redis {
  const c = new Redis(url, { disableClientInfo: true, lazyConnect: false });
  c.on('error', () => {});
  clients.push(c);
  return c;
}

function newPrefix(): string {
  return `inkboard-test-${randomUUID().slice(0, 8)}:`;
}

/** A private, disk-less redis-server on `port`; resolves once it answers PING. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  redisChildren.push(child);
  const probe = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, retryStrategy: () => null, disableClientInfo: true });
  probe.on('error', () => {});
  try {
    await until('redis-server to answer', async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      try {
        if (probe.status !== 'ready') await probe.connect();
        return (await probe.ping()) === 'PONG';
      } catch {
        probe.disconnect();
        return false;
      }
    });
  } finally {
    probe.disconnect();
  }
  return child;
}

async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

// Every test's keys and channels live under a prefix of its own.
beforeEach(() => {
  prefix = newPrefix();
});

afterEach(async () => {
  await Promise.all(hubs.map((h) => h.close()));
  hubs = [];
  if (prefix) {
    const c = client();
    const keys: string[] = [];
    let cursorPos = '0';
    do {
      const [next, batch] = await c.scan(cursorPos, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursorPos = next;
      keys.push(...batch);
    } while (cursorPos !== '0');
    if (keys.length) await c.del(...keys);
  }
  for (const c of clients) c.disconnect();
  clients = [];
  await Promise.all(redisChildren.map(kill9));
  redisChildren = [];
  for (const server of servers) server.close();
  servers = [];
});

describe('RedisBoardHub', () => {
  it('delivers an op published on one process once, in one frame, to subscribers on every process', async () => {
    const { a, b, onA, onB } = await twoSubscribed();
    // Another board's subscriber must get nothing.
    const elsewhere = recorder();
    await b.subscribe('board-2', elsewhere);

    const add = opEvent(1, addOp(stroke(30)));
    const del = opEvent(2);
    a.publish('board-1', 1, [add]);
    a.publish('board-1', 2, [del]);
    await until('both subscribers to get the ops', () => onA.frames.length > 0 && onB.frames.length > 0);
    await sleep(100);

    // One frame per subscriber, with both ops (one PUBLISH for the turn, one tick on each process).
    const expected = toWireFrame({ seq: 2, events: [add, del] });
    expect(onA.frames).toEqual([expected]);
    expect(onB.frames).toEqual([expected]);
    expect(Object.isFrozen(onB.frames[0])).toBe(true);
    expect(elsewhere.frames).toEqual([]);

    // And the other way round: B's op reaches A's subscriber (and B's own, once).
    const third = opEvent(3);
    b.publish('board-1', 3, [third]);
    await until('A to get the op of B', () => onA.frames.length === 2);
    await sleep(100);
    expect(onA.frames[1]).toEqual(toWireFrame({ seq: 3, events: [third] }));
    expect(onB.frames).toEqual([expected, toWireFrame({ seq: 3, events: [third] })]);
  });

  it('publishes once per board per turn, with cursors coalesced to the latest per client', async () => {
    const a = await hub('A');
    const b = await hub('B');
    const onB = recorder();
    await b.subscribe('board-1', onB);
    const spy = client();
    const messages: { o: string; s: number; e: BoardEvent[] }[] = [];
    spy.on('message', (_channel, raw: string) => void messages.push(JSON.parse(raw)));
    await spy.subscribe(`${prefix}board:board-1`);

    for (let x = 1; x <= 5; x++) a.publish('board-1', 7, [cursor('c1', x)]);
    a.publish('board-1', 7, [cursor('c2', 50)]);
    a.publish('board-1', 7, [{ type: 'typing', clientId: 'c2', user: person('c2').user }]);
    await until('B to get the frame', () => onB.frames.length > 0);
    await sleep(100);

    expect(messages).toHaveLength(1);
    expect(messages[0]).toEqual({ o: 'A', s: 7, e: [{ type: 'typing', clientId: 'c2', user: person('c2').user }, cursor('c1', 5), cursor('c2', 50)] });
    expect(onB.frames).toHaveLength(1);
    expect(onB.events().filter((e) => e.type === 'cursor')).toEqual([cursor('c1', 5), cursor('c2', 50)]);

    // Nothing is published for an empty batch.
    a.publish('board-1', 8, []);
    await sleep(50);
    expect(messages).toHaveLength(1);
  });

  it('subscribes to a board channel before subscribe resolves and leaves it with the last local subscriber', async () => {
    const a = await hub('A');
    const b = await hub('B');
    const spy = client();
    const channel = `${prefix}board:board-1`;
    const listeners = async () => ((await spy.pubsub('NUMSUB', channel)) as [string, number])[1];

    const [off1, off2] = await Promise.all([a.subscribe('board-1', recorder()), a.subscribe('board-1', recorder())]);
    expect(await listeners()).toBe(1);
    const offB = await b.subscribe('board-1', recorder());
    expect(await listeners()).toBe(2);
    expect(a.subscriberCount('board-1')).toBe(2);
    expect(a.stats()).toEqual({ boards: 1, subscriptions: 2 });

    off1();
    await sleep(50);
    expect(await listeners()).toBe(2);
    // A presence entry keeps the room (and the channel) too.
    await a.join('board-1', 0, person('c1'));
    off2();
    await sleep(50);
    expect(await listeners()).toBe(2);
    await a.leave('board-1', 0, 'c1');
    await until('A to leave the channel', async () => (await listeners()) === 1);
    expect(a.stats()).toEqual({ boards: 0, subscriptions: 0 });
    offB();
    await until('B to leave the channel', async () => (await listeners()) === 0);
  });

  it('resolves subscribe only once Redis confirmed the SUBSCRIBE', async () => {
    const slow = await hub('slow', { url: await slowProxy(150) });
    const spy = client();
    const channel = `${prefix}board:board-1`;
    const listeners = async () => ((await spy.pubsub('NUMSUB', channel)) as [string, number])[1];
    const started = Date.now();
    await slow.subscribe('board-1', recorder());
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(await listeners()).toBe(1);
    // An op published right away by another process reaches the new subscriber.
    const fast = await hub('fast');
    const late = recorder();
    await slow.subscribe('board-2', late);
    fast.publish('board-2', 1, [opEvent(1)]);
    await until('the op to reach the slow process', () => late.frames.length === 1);
  });

  it('shares presence between processes and announces a leave once', async () => {
    const { a, b, onA, onB } = await twoSubscribed();

    await a.join('board-1', 4, person('c1', 'Bob'));
    await b.join('board-1', 4, person('c2', 'Carol'));
    const sorted = (entries: PresenceEntry[]) => [...entries].sort((x, y) => x.clientId.localeCompare(y.clientId));
    expect(sorted(await b.presence('board-1'))).toEqual([person('c1', 'Bob'), person('c2', 'Carol')]);
    expect(sorted(await a.presence('board-1'))).toEqual([person('c1', 'Bob'), person('c2', 'Carol')]);
    await until('the joins to arrive everywhere', () => [onA, onB].every((r) => joinsOf(r, 'c1') === 1 && joinsOf(r, 'c2') === 1));

    await a.leave('board-1', 5, 'c1');
    await a.leave('board-1', 5, 'c1');
    // B never had c1: its leave of it announces nothing more.
    await b.leave('board-1', 5, 'c1');
    await until('the leave to arrive', () => leavesOf(onB, 'c1') > 0);
    await sleep(100);
    expect(leavesOf(onA, 'c1')).toBe(1);
    expect(leavesOf(onB, 'c1')).toBe(1);
    expect(await b.presence('board-1')).toEqual([person('c2', 'Carol')]);
    expect(await a.presence('board-1')).toEqual([person('c2', 'Carol')]);
    expect(onB.frames.at(-1)!.seq).toBe(5);
  });

  it('sends signals to every process; a revoke ends only that user’s subscriptions', async () => {
    const a = await hub('A');
    const b = await hub('B');
    const c = await hub('C');
    const got: Record<string, HubSignal[]> = { A: [], B: [], C: [] };
    a.onSignal((s) => got.A!.push(s));
    b.onSignal((s) => got.B!.push(s));
    c.onSignal((s) => got.C!.push(s));

    const aliceOnA = recorder('alice');
    const aliceOnB = recorder('alice');
    const bobOnB = recorder('bob');
    const aliceElsewhere = recorder('alice');
    await a.subscribe('board-1', aliceOnA);
    await b.subscribe('board-1', aliceOnB);
    await b.subscribe('board-1', bobOnB);
    await c.subscribe('board-2', aliceElsewhere);

    a.revoke('board-1', 'alice');
    const revoke: HubSignal = { type: 'revoke', boardId: 'board-1', userId: 'alice' };
    await until('every process to get the revoke', () => Object.values(got).every((list) => list.length === 1));
    expect(got).toEqual({ A: [revoke], B: [revoke], C: [revoke] });
    expect([aliceOnA.revokes, aliceOnB.revokes, bobOnB.revokes, aliceElsewhere.revokes]).toEqual([1, 1, 0, 0]);

    const ended: HubSignal = { type: 'session-ended', idHash: 'abc' };
    c.signal(ended);
    // The sender's own handlers run at once.
    expect(got.C).toEqual([revoke, ended]);
    await until('every process to get the signal', () => Object.values(got).every((list) => list.length === 2));
    await sleep(100);
    expect(got).toEqual({ A: [revoke, ended], B: [revoke, ended], C: [revoke, ended] });
  });

  it('expires the presence of a process that died and announces its leave once', async () => {
    const timing = { heartbeatMs: 100, presenceTtlMs: 600 };
    const a = await hub('A', timing);
    const b = await hub('B', timing);
    const dead = await hub('dead', timing);
    const onA = recorder();
    const onB = recorder();
    await a.subscribe('board-1', onA);
    await b.subscribe('board-1', onB);
    await dead.subscribe('board-1', recorder());
    await dead.join('board-1', 1, person('ghost', 'Ghost'));
    await a.join('board-1', 1, person('alive', 'Alive'));
    // Longer than the TTL: heartbeats keep A's entry (and the dead one's, while it lives).
    await sleep(900);
    expect((await b.presence('board-1')).map((e) => e.clientId).sort()).toEqual(['alive', 'ghost']);

    dead.crashForTest();
    await until('the ghost to be swept', async () => leavesOf(onA, 'ghost') > 0 && leavesOf(onB, 'ghost') > 0, 5000);
    await sleep(400);
    expect(leavesOf(onA, 'ghost')).toBe(1);
    expect(leavesOf(onB, 'ghost')).toBe(1);
    expect(leavesOf(onB, 'alive')).toBe(0);
    expect(await b.presence('board-1')).toEqual([person('alive', 'Alive')]);
    expect(await a.presence('board-1')).toEqual([person('alive', 'Alive')]);
  });

  it('announces the leave of an expired entry from one process only, even when all sweep at once', async () => {
    const timing = { heartbeatMs: 60_000, presenceTtlMs: 120_000 };
    const all = await Promise.all(['A', 'B', 'C'].map((id) => hub(id, timing)));
    const recs = all.map(() => recorder());
    await Promise.all(all.map((h, i) => h.subscribe('board-1', recs[i]!)));
    const c = client();
    const key = `${prefix}presence:board-1`;
    const record = (clientId: string, x: number) => JSON.stringify({ entry: person(clientId), p: 'elsewhere', x });
    await c.hset(key, 'ghost', record('ghost', Date.now() - 1), 'alive', record('alive', Date.now() + 60_000));
    // Expired entries are never listed, swept or not.
    expect(await all[1]!.presence('board-1')).toEqual([person('alive')]);

    await Promise.all(all.map((h) => h.heartbeatNow()));
    await until('the leave to arrive everywhere', () => recs.every((r) => leavesOf(r, 'ghost') > 0));
    await sleep(100);
    expect(recs.map((r) => leavesOf(r, 'ghost'))).toEqual([1, 1, 1]);
    expect(recs.map((r) => leavesOf(r, 'alive'))).toEqual([0, 0, 0]);
    expect(await c.hkeys(key)).toEqual(['alive']);
    expect(await all[0]!.presence('board-1')).toEqual([person('alive')]);
  });

  it('removes its presence entries and announces their leaves when closed', async () => {
    const a = await hub('A');
    const b = await hub('B');
    const onB = recorder();
    await b.subscribe('board-1', onB);
    await a.subscribe('board-1', recorder());
    await a.join('board-1', 3, person('c1'));
    await b.join('board-1', 3, person('c2'));
    await a.close();
    await until('the leave to reach B', () => leavesOf(onB, 'c1') === 1);
    expect(await b.presence('board-1')).toEqual([person('c2')]);
    expect(await client().hkeys(`${prefix}presence:board-1`)).toEqual(['c2']);
    // A closed hub is inert.
    a.publish('board-1', 4, [opEvent(4)]);
    await a.close();
  });

  it('resyncs subscribers, delivers again and rewrites presence after Redis restarts', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    let server = await startRedis(port);
    // No heartbeat during the test: presence must be written again because the connection came back.
    const timing = { heartbeatMs: 60_000, presenceTtlMs: 120_000 };
    const warnings: string[] = [];
    const a = await hub('A', { url, ...timing, log: { warn: (_obj, msg) => void warnings.push(msg) } });
    const b = await hub('B', { url, ...timing });
    const onA = recorder();
    const onB = recorder();
    await a.subscribe('board-1', onA);
    await b.subscribe('board-1', onB);
    await a.join('board-1', 1, person('c1'));
    await until('the join to reach B', () => joinsOf(onB, 'c1') === 1);
    expect(onA.resyncs + onB.resyncs).toBe(0);

    await kill9(server);
    await sleep(500);
    server = await startRedis(port);
    const fresh = client(url);
    // The restarted Redis starts empty; the hubs reconnect, resubscribe and tell subscribers to resync.
    await until('both subscribers to resync', () => onA.resyncs === 1 && onB.resyncs === 1, 15_000);
    await until('A to write its presence again', async () => (await fresh.hlen(`${prefix}presence:board-1`)) === 1);
    expect(await b.presence('board-1')).toEqual([person('c1')]);

    // Both processes are subscribed again: events flow both ways, once.
    const before = onB.events().filter((e) => e.type === 'op').length;
    a.publish('board-1', 9, [opEvent(9)]);
    b.publish('board-1', 10, [opEvent(10)]);
    await until('the ops to cross', () => onA.events().some((e) => e.type === 'op' && e.seq === 10) && onB.events().some((e) => e.type === 'op' && e.seq === 9));
    await sleep(100);
    // Sorted: each process delivers its own op before the other's (ordering across processes is the subscriber's job).
    const ops = (rec: Recorder) => rec.events().flatMap((e) => (e.type === 'op' && e.seq >= 9 ? [e.seq] : [])).sort((x, y) => x - y);
    expect(ops(onA)).toEqual([9, 10]);
    expect(ops(onB)).toEqual([9, 10]);
    expect(onB.events().filter((e) => e.type === 'op')).toHaveLength(before + 2);
    // Signals are resubscribed too.
    const got: HubSignal[] = [];
    b.onSignal((s) => got.push(s));
    a.signal({ type: 'access-changed', boardId: 'board-1' });
    await until('the signal to reach B', () => got.length === 1);
    expect(onA.resyncs).toBe(1);
    expect(onB.resyncs).toBe(1);
    // Logged once per connection per outage, not once per reconnection attempt.
    expect(warnings.filter((m) => m.includes('lost; reconnecting'))).toHaveLength(2);
    expect(warnings.filter((m) => m.includes('back'))).toHaveLength(2);
  });

  it('fails to start within a few seconds, with a clear message, when Redis is unreachable', async () => {
    prefix = '';
    const port = await freePort();
    const started = Date.now();
    const h = new RedisBoardHub({ url: `redis://:secret@127.0.0.1:${port}`, prefix: newPrefix(), processId: 'A', tickMs: 10, connectTimeoutMs: 1500 });
    hubs.push(h);
    const error = await h.start().then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(new RegExp(`^Cannot connect to Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(error!.message).not.toContain('secret');
    expect(Date.now() - started).toBeLessThan(4000);
    // Nothing keeps retrying in the background.
    await h.close();
  });
});
