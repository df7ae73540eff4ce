import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { encodeLane, LANE_MAX_EVENTS, type LaneEvent } from '@inkboard/protocol';
import { sleep } from './helpers/live.js';
import { laneFixture, refusalsOf } from './helpers/laneFixture.js';
import { testUser, waitFor } from './helpers/server.js';

/**
 * The ephemeral lane: cursor moves, previews and typing as `~[...]` messages beside tRPC on the
 * board's WebSocket, checked like their mutations, without a reply unless refused.
 */

const fx = laneFixture('Lane board');
const { newBoard, joined, rawSocket } = fx;

describe('the ephemeral lane', () => {
  it('delivers cursor moves, previews and typing to the others under the sender’s client id, with no reply', async () => {
    const boardId = await newBoard();
    const ann = await joined(boardId, 'ann');
    const bob = await joined(boardId, 'bob');
    const annReplies: string[] = [];
    ann.client.ws.connection!.ws.addEventListener('message', (e: MessageEvent) => annReplies.push(String(e.data)));

    ann.client.lane.cursor(boardId, 12.5, -40);
    ann.client.lane.preview({ boardId, elementId: 'p1', element: { type: 'line', id: 'p1', x: 0, y: 0, z: 'a0', points: [[0, 0], [10, 10]], strokeColor: '#000000', strokeWidth: 2, opacity: 1 } });
    ann.client.lane.typing(boardId);

    const cursor = await bob.waitForEvent('cursor', (e) => e.x === 12.5, 'Ann’s cursor');
    expect(cursor).toEqual({ type: 'cursor', clientId: ann.clientId(), x: 12.5, y: -40 });
    const preview = await bob.waitForEvent('preview', (e) => e.elementId === 'p1', 'Ann’s preview');
    expect(preview.clientId).toBe(ann.clientId());
    expect(preview.element?.type).toBe('line');
    const typing = await bob.waitForEvent('typing', () => true, 'Ann typing');
    expect(typing.user.name).toBe('ann');
    expect(typing.clientId).toBe(ann.clientId());
    // No reply went back for accepted events (the frames of the subscription are all Ann got).
    await sleep(100);
    expect(annReplies.filter((m) => m.startsWith('{"id":"~"'))).toEqual([]);
    expect(annReplies.every((m) => m === 'PING' || m === 'PONG' || m.includes('"result"'))).toBe(true);
  });

  it('keeps a connection’s order: the last cursor position sent is the one the others end with', async () => {
    const boardId = await newBoard();
    const ann = await joined(boardId, 'ann');
    const bob = await joined(boardId, 'bob');
    for (let i = 1; i <= 50; i++) {
      ann.client.lane.cursor(boardId, i, i);
      ann.client.lane.flush();
      if (i % 10 === 0) await sleep(5);
    }
    await bob.waitForEvent('cursor', (e) => e.x === 50, 'the last position');
    const xs = bob.eventsOf('cursor').map((e) => e.x);
    expect(xs.at(-1)).toBe(50);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
  });

  it('batches what one turn sends into one message, and a cursor only as its latest position', async () => {
    const boardId = await newBoard();
    const ann = await joined(boardId, 'ann');
    const bob = await joined(boardId, 'bob');
    const socket = ann.client.ws.connection!.ws as unknown as WebSocket;
    const sent: string[] = [];
    const send = socket.send.bind(socket);
    socket.send = ((data: string) => {
      sent.push(data);
      send(data);
    }) as typeof socket.send;
    ann.client.lane.cursor(boardId, 1, 1);
    ann.client.lane.cursor(boardId, 2, 2);
    ann.client.lane.typing(boardId);
    await bob.waitForEvent('typing', () => true, 'typing');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/^~\[/);
    const lane = JSON.parse(sent[0]!.slice(1)) as LaneEvent[];
    expect(lane.map((e) => e.type).sort()).toEqual(['cursor', 'typing']);
    expect(lane.find((e) => e.type === 'cursor')).toMatchObject({ x: 2, y: 2 });
  });

  it('refuses a viewer’s preview (FORBIDDEN) and delivers nothing of it; a viewer’s cursor goes through', async () => {
    const boardId = await newBoard();
    const viewer = await joined(boardId, 'vera', { role: 'viewer' });
    const bob = await joined(boardId, 'bob');
    const refusals = refusalsOf(viewer);
    viewer.client.lane.preview({ boardId, elementId: 'nope', done: true });
    viewer.client.lane.cursor(boardId, 7, 7);
    await waitFor(() => refusals.length > 0, 'the refusal');
    expect(refusals[0]).toMatchObject({ code: 'FORBIDDEN', path: 'lane.preview' });
    expect(refusals[0]!.message).toMatch(/viewer/);
    await bob.waitForEvent('cursor', (e) => e.x === 7, 'the viewer’s cursor');
    await sleep(100);
    expect(bob.eventsOf('preview')).toEqual([]);
  });

  it('refuses events for a board the caller is not on (FORBIDDEN) or that does not exist (NOT_FOUND)', async () => {
    const boardId = await newBoard();
    const other = await newBoard('Other');
    const ann = await joined(boardId, 'ann');
    const watcherOfOther = await joined(other, 'owner', { role: null });
    const refusals = refusalsOf(ann);
    ann.client.lane.cursor(other, 1, 1);
    ann.client.lane.cursor('no-such-board', 1, 1);
    await waitFor(() => refusals.length >= 2, 'two refusals');
    expect(refusals.map((r) => r.code).sort()).toEqual(['FORBIDDEN', 'NOT_FOUND']);
    await sleep(100);
    expect(watcherOfOther.eventsOf('cursor')).toEqual([]);
  });

  it('answers malformed messages with PARSE_ERROR or BAD_REQUEST in words, and the connection keeps working', async () => {
    const boardId = await newBoard();
    const bob = await joined(boardId, 'bob');
    const { token } = testUser(fx.server.url, 'owner');
    const raw = await rawSocket(token);
    const replies = raw.laneReplies;

    raw.ws.send('~{not json');
    raw.ws.send('~{"type":"cursor"}');
    raw.ws.send(`~[{"type":"cursor","boardId":"${boardId}","x":"left","y":0}]`);
    raw.ws.send('~' + JSON.stringify(Array.from({ length: LANE_MAX_EVENTS + 1 }, () => ({ type: 'cursor', boardId, x: 1, y: 1 }))));
    raw.ws.send('~[{"type":"paint","boardId":"x"}]');
    raw.ws.send('~[]');
    await waitFor(() => replies().length >= 6, 'six refusals');
    const [parse, notArray, badNumber, tooMany, unknownType, empty] = replies();
    expect(parse!.error.data.code).toBe('PARSE_ERROR');
    expect(parse!.error.message).toMatch(/JSON array of events/);
    for (const r of [notArray, badNumber, tooMany, unknownType, empty]) {
      expect(r!.error.data.code).toBe('BAD_REQUEST');
      expect(r!.error.message).toMatch(/^Invalid input: /);
    }
    expect(tooMany!.error.message).toMatch(/64/);

    // Still a working tRPC connection and lane.
    raw.ws.send(JSON.stringify({ id: 1, method: 'query', params: { path: 'board.byId', input: { boardId } } }));
    raw.ws.send(encodeLane([{ type: 'cursor', boardId, x: 99, y: 99 }]));
    await waitFor(() => raw.received.some((m) => m.startsWith('{"id":1,') && m.includes('"result"')), 'the query’s answer');
    await bob.waitForEvent('cursor', (e) => e.x === 99, 'the cursor after the bad messages');
    await sleep(50);
    expect(replies()).toHaveLength(6);
  });

  it('refuses a connection without credentials (UNAUTHORIZED)', async () => {
    const boardId = await newBoard();
    const bob = await joined(boardId, 'bob');
    const raw = await rawSocket(null);
    raw.ws.send(encodeLane([{ type: 'cursor', boardId, x: 5, y: 5 }]));
    await waitFor(() => raw.laneReplies().length > 0, 'the refusal');
    expect(raw.laneReplies()[0]!.error.data).toMatchObject({ code: 'UNAUTHORIZED', path: 'lane.cursor' });
    await sleep(100);
    expect(bob.eventsOf('cursor')).toEqual([]);
  });

  it('takes lane messages sent before the connection params arrive, once they do', async () => {
    const boardId = await newBoard();
    const bob = await joined(boardId, 'bob');
    const { token } = testUser(fx.server.url, 'owner');
    const ws = new WebSocket(`${fx.server.url.replace(/^http/, 'ws')}/trpc?connectionParams=1`);
    fx.defer(async () => ws.terminate());
    await new Promise<void>((resolve) => ws.once('open', () => resolve()));
    ws.send(encodeLane([{ type: 'cursor', boardId, x: 31, y: 31 }]));
    await sleep(50);
    expect(bob.eventsOf('cursor')).toEqual([]);
    ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
    await bob.waitForEvent('cursor', (e) => e.x === 31, 'the early cursor');
  });

  it('shares the per-user cursor limit with board.cursor: a burst past it is refused with TOO_MANY_REQUESTS', async () => {
    const boardId = await newBoard();
    const ann = await joined(boardId, 'ann');
    const refusals = refusalsOf(ann);
    // 240 cursor events at once, raw (the client would keep only the latest), against a burst of 120.
    // One event through the client first, so it listens on this socket for refusals.
    ann.client.lane.cursor(boardId, -1, 0);
    ann.client.lane.flush();
    const socket = ann.client.ws.connection!.ws;
    for (let m = 0; m < 4; m++) socket.send(encodeLane(Array.from({ length: 60 }, (_, i) => ({ type: 'cursor' as const, boardId, x: m * 60 + i, y: 0 }))));
    await waitFor(() => refusals.length > 0, 'a refusal');
    expect(refusals[0]).toMatchObject({ code: 'TOO_MANY_REQUESTS', path: 'lane.cursor' });
    expect(refusals.length).toBeLessThanOrEqual(240 - 120);
  });
});
