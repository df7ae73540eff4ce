import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromWireFrame, LIMITS, type ChatMessage, type Frame } from '@inkboard/protocol';
import { addOp, rect, stroke } from './helpers/elements.js';
import { rejection, sleep, watch, type Watcher, type WatchOptions } from './helpers/live.js';
import { connect, grantAccess, startServer, testUser, waitFor, type TestServer } from './helpers/server.js';

let server: TestServer;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  await server.destroy();
});

/** A client over HTTP (queries and mutations) as `name`. */
function httpClient(name = 'owner') {
  const client = connect(server.url, name);
  cleanups.push(() => client.close());
  return client;
}

async function newBoard(title = 'Live board') {
  return (await httpClient('owner').trpc.board.create.mutate({ title })).id;
}

/** A subscriber of the board (closed after the test), waited for until it has its first frame. */
async function joined(boardId: string, name: string, options?: WatchOptions, url = server.url): Promise<Watcher> {
  const w = watch(url, boardId, name, options);
  cleanups.push(w.close);
  await w.ready();
  return w;
}

/** Rows of a table for a board, read straight from the SQLite file. */
function rowsInFile<T>(table: 'elements' | 'ops' | 'chat_messages', boardId: string): T[] {
  const db = new Database(server.dbPath, { readonly: true });
  try {
    return db.prepare(`select * from ${table} where board_id = ?`).all(boardId) as T[];
  } finally {
    db.close();
  }
}

/** What a frame must satisfy: its seq is the board's seq after its ops, and ops are gap-free. */
function expectSeqsConsistent(frames: Frame[]) {
  const first = frames[0]!;
  const snapshot = first.events.find((e) => e.type === 'snapshot');
  let seq = snapshot ? snapshot.seq : first.seq;
  for (const [i, frame] of frames.entries()) {
    for (const e of frame.events) {
      if (e.type !== 'op') continue;
      expect(e.seq, `op in frame ${i} follows the previous op`).toBe(seq + 1);
      seq = e.seq;
    }
    expect(frame.seq, `seq of frame ${i}`).toBe(seq);
  }
  return seq;
}

describe('presence', () => {
  it('announces a joiner to those present, and the joiner’s first frame lists everyone', async () => {
    const boardId = await newBoard();
    const ann = await joined(boardId, 'ann');
    const annFirst = ann.frames[0]!.frame;
    expect(annFirst.seq).toBe(0);
    expect(annFirst.events.map((e) => e.type)).toEqual(['snapshot', 'presence']);
    const annPresence = annFirst.events.find((e) => e.type === 'presence')!;
    expect(annPresence.clients.map((c) => c.user.name)).toEqual(['ann']);

    const bob = await joined(boardId, 'bob');
    const bobFirst = bob.frames[0]!.frame;
    const presence = bobFirst.events.find((e) => e.type === 'presence');
    expect(presence, 'presence event in the first frame').toBeDefined();
    const bobUser = testUser(server.url, 'bob');
    expect(presence!.clients.map((c) => c.user.name).sort()).toEqual(['ann', 'bob']);
    expect(presence!.clients.find((c) => c.user.name === 'ann')!.clientId).toBe(ann.clientId());
    expect(presence!.clients.find((c) => c.user.name === 'bob')!.user).toMatchObject({ id: bobUser.id, name: 'bob', color: '#1971c2' });
    expect(ann.clientId()).not.toBe(bob.clientId());

    const join = await ann.waitForEvent('join', (e) => e.client.user.name === 'bob', 'the join of bob');
    expect(join.client.clientId).toBe(bob.clientId());
    expect(join.client.user).toMatchObject({ id: bobUser.id, name: 'bob', color: '#1971c2' });
    expect((await server.app.boards.hub.presence(boardId)).map((c) => c.clientId).sort()).toEqual([ann.clientId(), bob.clientId()].sort());
  });

  it('announces a leave when a subscriber unsubscribes or closes its connection', async () => {
    const boardId = await newBoard();
    const ann = await joined(boardId, 'ann');
    const bob = await joined(boardId, 'bob');
    const cy = await joined(boardId, 'cy');
    await ann.waitForEvent('join', (e) => e.client.clientId === cy.clientId(), 'the join of cy');

    bob.unsubscribe();
    await ann.waitForEvent('leave', (e) => e.clientId === bob.clientId(), 'the leave of bob (unsubscribed)');
    await cy.waitForEvent('leave', (e) => e.clientId === bob.clientId(), 'the leave of bob at cy');

    await cy.close();
    await ann.waitForEvent('leave', (e) => e.clientId === cy.clientId(), 'the leave of cy (connection closed)');
    expect(ann.eventsOf('leave').map((e) => e.clientId)).toEqual([bob.clientId(), cy.clientId()]);
    expect((await server.app.boards.hub.presence(boardId)).map((c) => c.user.name)).toEqual(['ann']);

    // Someone joining now sees only who is still there.
    const dan = await joined(boardId, 'dan');
    const presence = dan.frames[0]!.frame.events.find((e) => e.type === 'presence')!;
    expect(presence.clients.map((c) => c.user.name).sort()).toEqual(['ann', 'dan']);
  });

  it('ends the subscriptions of a deleted board and leaves no presence behind', async () => {
    const boardId = await newBoard();
    const ann = await joined(boardId, 'ann');
    const bob = await joined(boardId, 'bob', { role: 'viewer' });
    await ann.waitForEvent('join', (e) => e.client.clientId === bob.clientId(), 'the join of bob');
    await httpClient('owner').trpc.board.delete.mutate({ boardId });
    for (const w of [ann, bob]) {
      const err = await w.waitForError('the board was deleted');
      expect(err.data?.code).toBe('FORBIDDEN');
      expect(err.message).toMatch(/no longer have access/);
    }
    expect((await server.app.boards.hub.presence(boardId))).toEqual([]);
    expect(server.app.boards.hub.subscriberCount(boardId)).toBe(0);
    expect(server.app.boards.hub.stats().boards, 'rooms left in the hub').toBe(0);
    expect((await server.app.inject('/healthz')).statusCode).toBe(200);
  });

  it('delivers a cursor move to the others with the sender’s clientId and coordinates', async () => {
    const boardId = await newBoard();
    const ann = await joined(boardId, 'ann');
    const bob = await joined(boardId, 'bob', { role: 'viewer' }); // a viewer may point too
    await bob.client.trpc.board.cursor.mutate({ boardId, x: 123.5, y: -40 });
    const cursor = await ann.waitForEvent('cursor', (e) => e.clientId === bob.clientId(), 'the cursor of bob');
    expect(cursor).toEqual({ type: 'cursor', clientId: bob.clientId(), x: 123.5, y: -40 });

    const bad = await rejection(bob.client.trpc.board.cursor.mutate({ boardId, x: 2e6, y: 0 }), 'a cursor outside the board');
    expect(bad.data?.code).toBe('BAD_REQUEST');
    expect(bad.message).toMatch(/at most 1000000/);
    await sleep(50); // a few ticks: the refused move must not be delivered
    expect(ann.eventsOf('cursor').filter((e) => e.clientId === bob.clientId())).toHaveLength(1);
  });

  it('coalesces the cursor moves of a tick to the latest per client', async () => {
    const boardId = await newBoard();
    const ann = await joined(boardId, 'ann');
    const bob = await joined(boardId, 'bob');
    const cy = await joined(boardId, 'cy');
    const moves = 20;
    const send = (w: Watcher, dx: number) =>
      Array.from({ length: moves }, (_, i) => w.client.trpc.board.cursor.mutate({ boardId, x: dx + i * 10, y: i }));
    // Both senders fire all their moves at once, without waiting for answers.
    await Promise.all([...send(bob, 0), ...send(cy, 5_000)]);
    const finalOf = { [bob.clientId()]: { x: 190, y: 19 }, [cy.clientId()]: { x: 5_190, y: 19 } };
    for (const [clientId, final] of Object.entries(finalOf)) {
      await ann.waitForEvent('cursor', (e) => e.clientId === clientId && e.x === final.x, `the final cursor of ${clientId}`);
    }
    await sleep(50); // nothing stale may arrive after the final position

    for (const [clientId, final] of Object.entries(finalOf)) {
      const received = ann.eventsOf('cursor').filter((e) => e.clientId === clientId);
      expect(received.length, 'cursor events received for 20 moves').toBeLessThan(moves);
      expect(received.at(-1)).toEqual({ type: 'cursor', clientId, ...final });
      // Positions arrive in the order they were sent.
      const xs = received.map((e) => e.x);
      expect(xs).toEqual([...xs].sort((a, b) => a - b));
    }
    for (const { frame } of ann.frames) {
      const ids = frame.events.filter((e) => e.type === 'cursor').map((e) => e.clientId);
      expect(new Set(ids).size, 'cursor events per client in one frame').toBe(ids.length);
    }
  });
});

describe('live preview', () => {
  it('reaches the others in order while it is drawn, done ends it, and it is never stored', async () => {
    const boardId = await newBoard();
    const ann = await joined(boardId, 'ann');
    const bob = await joined(boardId, 'bob');
    const kept = rect(0, 0);
    await ann.client.trpc.board.push.mutate({ boardId, ops: [addOp(kept)] });
    await bob.waitForEvent('op', (e) => e.seq === 1, 'the committed op');

    const drawn = stroke(3, 50, 50);
    const preview = (p: { element?: typeof drawn; append?: [number, number, number][]; done?: boolean }) =>
      ann.client.trpc.board.preview.mutate({ boardId, elementId: drawn.id, ...p });
    const ofDrawn = () => bob.eventsOf('preview').filter((e) => e.elementId === drawn.id);

    await preview({ element: drawn });
    const started = await bob.waitForEvent('preview', (e) => e.elementId === drawn.id, 'the start of the preview');
    expect(started).toMatchObject({ type: 'preview', clientId: ann.clientId(), elementId: drawn.id, element: drawn });
    expect(started.done).toBeUndefined();

    const batches = Array.from({ length: 6 }, (_, b) => Array.from({ length: 4 }, (_, i) => [6 + b * 8 + i * 2, b, 0.5] as [number, number, number]));
    for (const [b, append] of batches.entries()) {
      await preview({ append });
      // Each batch is shown while the stroke is still being drawn.
      await waitFor(() => ofDrawn().length === b + 2, `bob to see preview batch ${b + 1}`);
      expect(ofDrawn().some((e) => e.done)).toBe(false);
    }
    await preview({ done: true });
    await waitFor(() => ofDrawn().some((e) => e.done), 'bob to see the preview end');

    const got = ofDrawn();
    expect(got.map((e) => (e.element ? 'element' : e.done ? 'done' : 'append'))).toEqual(['element', ...batches.map(() => 'append'), 'done']);
    expect(got.every((e) => e.clientId === ann.clientId())).toBe(true);
    expect(got.slice(1, -1).flatMap((e) => e.append)).toEqual(batches.flat());

    const refused = await rejection(ann.client.trpc.board.preview.mutate({ boardId, elementId: drawn.id }), 'an empty preview');
    expect(refused.data?.code).toBe('BAD_REQUEST');
    expect(refused.message).toMatch(/a preview needs an element, points to append, or done/);

    // Never stored: not in memory, not in the file, not in the op log, not in a newcomer's snapshot.
    expect(server.app.boards.service.knownSeq(boardId)).toBe(1);
    expect([...(await server.app.boards.service.board(boardId)).elements.keys()]).toEqual([kept.id]);
    expect(rowsInFile<{ id: string }>('elements', boardId).map((r) => r.id)).toEqual([kept.id]);
    expect(rowsInFile('ops', boardId)).toHaveLength(1);
    const snapshot = await httpClient('owner').trpc.board.snapshot.query({ boardId });
    expect(snapshot.seq).toBe(1);
    expect(snapshot.elements.map((e) => e.id)).toEqual([kept.id]);
    const cy = await joined(boardId, 'cy');
    const first = cy.frames[0]!.frame;
    expect(first.seq).toBe(1);
    expect(first.events.some((e) => e.type === 'preview')).toBe(false);
    expect(first.events.find((e) => e.type === 'snapshot')!.elements.map((e) => e.id)).toEqual([kept.id]);
  });
});

describe('frames', () => {
  it('delivers a burst in at most one frame per tick, each with the board’s seq', async () => {
    const tickMs = 100;
    const slow = await startServer({ tickMs });
    cleanups.push(() => slow.destroy());
    const owner = connect(slow.url, 'owner');
    cleanups.push(() => owner.close());
    const boardId = (await owner.trpc.board.create.mutate({ title: 'Burst' })).id;
    const ann = await joined(boardId, 'ann', {}, slow.url);
    const bob = await joined(boardId, 'bob', {}, slow.url);
    const cy = await joined(boardId, 'cy', {}, slow.url);
    await ann.waitForEvent('join', (e) => e.client.user.name === 'cy', 'the join of cy');
    await sleep(2 * tickMs); // let the join frames pass
    const before = ann.frames.length;

    // 50 events within a few ms: 20 ops from two writers, a preview started and extended 21 times,
    // and 8 typing events (each kind within its per-user rate limit's burst).
    const started = performance.now();
    const calls: Promise<unknown>[] = [];
    const drawn = stroke(2);
    calls.push(bob.client.trpc.board.preview.mutate({ boardId, elementId: drawn.id, element: drawn }));
    for (let i = 0; i < 21; i++) {
      if (i < 20) calls.push((i % 2 ? bob : cy).client.trpc.board.push.mutate({ boardId, ops: [addOp(rect(i * 10, 0))] }));
      calls.push(bob.client.trpc.board.preview.mutate({ boardId, elementId: drawn.id, append: [[i, i, 0.5]] }));
      if (i < 8) calls.push((i % 2 ? bob : cy).client.trpc.chat.typing.mutate({ boardId }));
    }
    const sentIn = performance.now() - started;
    expect(calls).toHaveLength(50);
    await Promise.all(calls);
    await waitFor(
      () => ann.eventsOf('op').length === 20 && ann.eventsOf('preview').length === 22 && ann.eventsOf('typing').length === 8,
      'all 50 events of the burst',
    );
    const last = performance.now();
    const burst = ann.frames.slice(before);
    const ticks = Math.floor((last - started) / tickMs) + 1;
    expect(burst.length, `frames for 50 events sent in ${sentIn.toFixed(1)} ms, received over ${(last - started).toFixed(0)} ms`).toBeLessThanOrEqual(Math.min(ticks, 5));

    const finalSeq = expectSeqsConsistent(ann.frames.map((f) => f.frame));
    expect(finalSeq).toBe(20);
    expect(ann.frames.at(-1)!.frame.seq).toBe(slow.app.boards.service.knownSeq(boardId));
    // The tracked id the client resumes from is the frame's seq.
    for (const f of ann.frames) expect(f.id).toBe(String(f.frame.seq));
    // Within the burst, previews keep their order.
    expect(ann.eventsOf('preview').slice(1).flatMap((e) => e.append!.map((p) => p[0]))).toEqual(Array.from({ length: 21 }, (_, i) => i));
    // The other subscribers got the same frames.
    await waitFor(
      () => bob.eventsOf('op').length === 20 && bob.eventsOf('preview').length === 22 && bob.eventsOf('typing').length === 8,
      'bob to get the burst',
    );
    expect(bob.frames.slice(-burst.length).map((f) => f.frame)).toEqual(burst.map((f) => f.frame));
  });

  it('gives every frame the board’s seq, for ops and ephemeral events mixed over time', async () => {
    const boardId = await newBoard();
    const ann = await joined(boardId, 'ann');
    const bob = await joined(boardId, 'bob');
    for (let i = 0; i < 15; i++) {
      if (i % 3 === 0) await bob.client.trpc.board.cursor.mutate({ boardId, x: i, y: i });
      if (i % 4 === 0) await bob.client.trpc.chat.typing.mutate({ boardId });
      await bob.client.trpc.board.push.mutate({ boardId, ops: [addOp(rect(i, i))] });
      if (i % 5 === 0) await sleep(25);
    }
    await bob.client.trpc.board.cursor.mutate({ boardId, x: -1, y: -1 });
    await ann.waitForEvent('cursor', (e) => e.x === -1, 'the last cursor');
    expect(expectSeqsConsistent(ann.frames.map((f) => f.frame))).toBe(15);
    expect(ann.frames.at(-1)!.frame.seq).toBe(server.app.boards.service.knownSeq(boardId));
    expect(ann.frames.filter((f) => f.frame.events.every((e) => e.type !== 'op')).length, 'frames without ops').toBeGreaterThan(0);
  });
});

describe('chat', () => {
  it('stores a message with author name, colour and time and delivers it live to the others', async () => {
    const boardId = await newBoard();
    // The author's profile colour, set before connecting, is what the message carries.
    await httpClient('ann').trpc.auth.updateProfile.mutate({ name: 'Ann Lee', color: '#2f9e44' });
    const ann = await joined(boardId, 'ann', { displayName: 'Ann Lee' });
    const bob = await joined(boardId, 'bob');
    const annUser = testUser(server.url, 'ann');

    const sentAt = Date.now();
    const message = await ann.client.trpc.chat.send.mutate({ boardId, text: 'hello, bob' });
    const after = Date.now();
    expect(message).toMatchObject({ boardId, text: 'hello, bob', user: { id: annUser.id, name: 'Ann Lee', color: '#2f9e44' } });
    expect(message.createdAt).toBeGreaterThanOrEqual(sentAt);
    expect(message.createdAt).toBeLessThanOrEqual(after);

    const live = await bob.waitForEvent('chat', (e) => e.message.id === message.id, 'the chat message');
    expect(live.message).toEqual(message);

    const rows = rowsInFile<{ id: number; user_id: string; user_name: string; user_color: string; text: string; created_at: number }>('chat_messages', boardId);
    expect(rows).toEqual([
      expect.objectContaining({ id: message.id, user_id: annUser.id, user_name: 'Ann Lee', user_color: '#2f9e44', text: 'hello, bob', created_at: message.createdAt }),
    ]);
    const history = await bob.client.trpc.chat.history.query({ boardId });
    expect(history).toEqual({ messages: [message], hasMore: false });
  });

  it('keeps messages across a restart; history pages newest first, 100 at a time, with hasMore', async () => {
    const boardId = await newBoard();
    const otherBoard = await newBoard('Other');
    // 13 authors of 10 messages each (a person may send at most 10 in a burst).
    const authors = Array.from({ length: 13 }, (_, a) => `author${a}`);
    const clients = authors.map((name) => {
      grantAccess(server.url, boardId, name, 'viewer');
      return httpClient(name);
    });
    const sent: ChatMessage[] = [];
    for (let i = 0; i < 130; i++) sent.push(await clients[i % authors.length]!.trpc.chat.send.mutate({ boardId, text: `message ${i}` }));
    await httpClient('owner').trpc.chat.send.mutate({ boardId: otherBoard, text: 'elsewhere' });
    expect(new Set(sent.map((m) => m.id)).size).toBe(130);

    server = await server.restart();
    const reader = connect(server.url, 'owner');
    cleanups.push(() => reader.close());

    const page1 = await reader.trpc.chat.history.query({ boardId });
    expect(page1.messages).toHaveLength(100);
    expect(page1.hasMore).toBe(true);
    expect(page1.messages).toEqual(sent.slice(30).reverse()); // every field survived, newest first
    expect(page1.messages[0]).toMatchObject({ text: 'message 129', user: { id: testUser(server.url, 'author12').id, name: 'author12', color: '#1971c2' } });
    expect(page1.messages.every((m, i) => m.user.name === authors[(129 - i) % authors.length])).toBe(true);

    const page2 = await reader.trpc.chat.history.query({ boardId, before: page1.messages.at(-1)!.id });
    expect(page2.messages).toEqual(sent.slice(0, 30).reverse());
    expect(page2.hasMore).toBe(false);

    const small = await reader.trpc.chat.history.query({ boardId, before: sent[10]!.id, limit: 5 });
    expect(small.messages.map((m) => m.text)).toEqual(['message 9', 'message 8', 'message 7', 'message 6', 'message 5']);
    expect(small.hasMore).toBe(true);

    const other = await reader.trpc.chat.history.query({ boardId: otherBoard });
    expect(other.messages.map((m) => m.text)).toEqual(['elsewhere']);

    const badLimit = await rejection(reader.trpc.chat.history.query({ boardId, limit: 101 }), 'a page of 101');
    expect(badLimit.data?.code).toBe('BAD_REQUEST');

    // Live delivery works on the restarted server too.
    const bob = await joined(boardId, 'bob');
    const cy = await joined(boardId, 'cy');
    const again = await cy.client.trpc.chat.send.mutate({ boardId, text: 'after restart' });
    expect((await bob.waitForEvent('chat', (e) => e.message.id === again.id, 'a message after the restart')).message.text).toBe('after restart');
    expect(again.id).toBeGreaterThan(sent.at(-1)!.id);
  });

  it('delivers typing to the others and stores nothing', async () => {
    const boardId = await newBoard();
    const ann = await joined(boardId, 'ann');
    const bob = await joined(boardId, 'bob', { role: 'viewer' });
    await bob.client.trpc.chat.typing.mutate({ boardId });
    const typing = await ann.waitForEvent('typing', (e) => e.clientId === bob.clientId(), 'bob typing');
    expect(typing.user).toMatchObject({ id: testUser(server.url, 'bob').id, name: 'bob', color: '#1971c2' });

    expect(rowsInFile('chat_messages', boardId)).toHaveLength(0);
    expect(await ann.client.trpc.chat.history.query({ boardId })).toEqual({ messages: [], hasMore: false });
    expect(server.app.boards.service.knownSeq(boardId)).toBe(0);
    const cy = await joined(boardId, 'cy');
    expect(cy.frames[0]!.frame.events.map((e) => e.type)).toEqual(['snapshot', 'presence']);
  });

  it('refuses empty and too-long messages with BAD_REQUEST and a readable reason, storing and sending nothing', async () => {
    const boardId = await newBoard();
    const ann = await joined(boardId, 'ann');
    const bob = await joined(boardId, 'bob');
    const cases: [unknown, RegExp][] = [
      ['', /message must not be empty/],
      ['   \n\t ', /message must not be empty/],
      ['x'.repeat(LIMITS.chatLength + 1), new RegExp(`${LIMITS.chatLength}`)],
      [42, /string/i],
    ];
    for (const [text, reason] of cases) {
      const err = await rejection(ann.client.trpc.chat.send.mutate({ boardId, text } as never), `chat text ${JSON.stringify(text).slice(0, 20)}`);
      expect(err.data?.code).toBe('BAD_REQUEST');
      expect(err.message).toMatch(/^Invalid input: /);
      expect(err.message).toMatch(/text/);
      expect(err.message).toMatch(reason);
      expect(err.message).not.toMatch(/at .*\.[jt]s:\d+/); // no stack trace
    }
    expect(rowsInFile('chat_messages', boardId)).toHaveLength(0);
    expect((await ann.client.trpc.chat.history.query({ boardId })).messages).toEqual([]);

    // The longest allowed message goes through, and is the first chat bob ever sees.
    const longest = await ann.client.trpc.chat.send.mutate({ boardId, text: 'y'.repeat(LIMITS.chatLength) });
    await bob.waitForEvent('chat', (e) => e.message.id === longest.id, 'the longest allowed message');
    expect(bob.eventsOf('chat').map((e) => e.message.id)).toEqual([longest.id]);
    expect(rowsInFile('chat_messages', boardId)).toHaveLength(1);
  });
});

describe('subscription errors', () => {
  it('answers NOT_FOUND for a missing board and BAD_REQUEST for a malformed lastEventId, and stays healthy', async () => {
    const boardId = await newBoard();
    const missing = watch(server.url, 'no-such-board', 'ann', { role: null });
    cleanups.push(missing.close);
    const notFound = await missing.waitForError('a missing board');
    expect(notFound.data?.code).toBe('NOT_FOUND');
    expect(notFound.message).toMatch(/no-such-board/);
    expect(missing.frames).toHaveLength(0);

    for (const lastEventId of ['abc', '-1', '1.5', '', '1e3', '1234567890123456']) {
      const bad = watch(server.url, boardId, 'bob', { lastEventId });
      cleanups.push(bad.close);
      const err = await bad.waitForError(`lastEventId ${JSON.stringify(lastEventId)}`);
      expect(err.data?.code, `code for lastEventId ${JSON.stringify(lastEventId)}`).toBe('BAD_REQUEST');
      expect(err.message).toMatch(/lastEventId must be a board seq/);
      expect(bad.frames).toHaveLength(0);
      await bad.close();
    }
    // Nobody was let in by a refused subscription.
    expect((await server.app.boards.hub.presence(boardId))).toEqual([]);
    expect(server.app.boards.hub.subscriberCount(boardId)).toBe(0);

    // Healthy: the HTTP check passes, and the refused client's connection serves a good subscription.
    expect((await server.app.inject('/healthz')).statusCode).toBe(200);
    grantAccess(server.url, boardId, 'ann');
    const frames: Frame[] = [];
    const good = missing.client.trpc.board.onEvents.subscribe({ boardId, lastEventId: '0' }, { onData: ({ data }) => frames.push(fromWireFrame(data)) });
    cleanups.push(async () => good.unsubscribe());
    await waitFor(() => frames.length > 0, 'a good subscription on the refused connection');
    expect(frames[0]).toMatchObject({ seq: 0, events: [{ type: 'presence' }] }); // resumed at 0: nothing to catch up
    await httpClient('owner').trpc.board.push.mutate({ boardId, ops: [addOp(rect())] });
    await waitFor(() => frames.some((f) => f.events.some((e) => e.type === 'op' && e.seq === 1)), 'an op after the refused subscriptions');
  });
});
