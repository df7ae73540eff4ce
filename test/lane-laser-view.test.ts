import { describe, expect, it } from 'vitest';
import { encodeLane, MAX_VIEW_SIZE } from '@inkboard/protocol';
import { sleep } from './helpers/live.js';
import { laneFixture, refusalsOf } from './helpers/laneFixture.js';
import { testUser, waitFor } from './helpers/server.js';

/**
 * The laser pointer (cursor moves flagged `laser`) and the views announced for followers (`view`
 * lane events): checked like every lane event, delivered live to the board's members, never stored.
 */

const fx = laneFixture('Laser board');
const { newBoard, joined, rawSocket } = fx;

describe('laser pointer and follow on the lane', () => {
  it('delivers a laser position and a view to the board’s other member (a viewer may send both), not to another board, and stores nothing', async () => {
    const boardId = await newBoard();
    const other = await newBoard('Other');
    const vera = await joined(boardId, 'vera', { role: 'viewer' });
    const bob = await joined(boardId, 'bob');
    const elsewhere = await joined(other, 'owner', { role: null });
    const refusals = refusalsOf(vera);
    const seqBefore = fx.server.app.boards.service.knownSeq(boardId);

    vera.client.lane.cursor(boardId, 10.5, -3, true);
    const laser = await bob.waitForEvent('cursor', (e) => e.x === 10.5, 'the laser position');
    expect(laser).toEqual({ type: 'cursor', clientId: vera.clientId(), x: 10.5, y: -3, laser: true });
    vera.client.lane.view({ boardId, x: -100, y: 50.5, w: 1280, h: 800 });
    vera.client.lane.cursor(boardId, 11, -3);
    const view = await bob.waitForEvent('view', () => true, 'the view');
    expect(view).toEqual({ type: 'view', clientId: vera.clientId(), x: -100, y: 50.5, w: 1280, h: 800 });
    // A plain position after it carries no flag (it ends the trail's stroke).
    const after = await bob.waitForEvent('cursor', (e) => e.x === 11, 'the plain position');
    expect(after.laser).toBeUndefined();

    await sleep(100);
    expect(refusals).toEqual([]);
    expect(elsewhere.eventsOf('cursor')).toEqual([]);
    expect(elsewhere.eventsOf('view')).toEqual([]);
    // Ephemeral: no op, no element, the board's seq unchanged.
    expect(bob.eventsOf('op')).toEqual([]);
    expect(fx.server.app.boards.service.knownSeq(boardId)).toBe(seqBefore);
    expect(fx.server.app.boards.service.peek(boardId)?.elements.size ?? 0).toBe(0);
  });

  it('refuses malformed laser and view events with BAD_REQUEST naming the field, and delivers nothing of them', async () => {
    const boardId = await newBoard();
    const bob = await joined(boardId, 'bob');
    const { token } = testUser(fx.server.url, 'owner');
    const raw = await rawSocket(token);
    const bad = [
      { type: 'cursor', boardId, x: 1, y: 1, laser: false },
      { type: 'cursor', boardId, x: 2, y: 2, laser: 'yes' },
      { type: 'view', boardId, x: 0, y: 0, w: 0, h: 100 },
      { type: 'view', boardId, x: 0, y: 0, w: 100, h: -5 },
      { type: 'view', boardId, x: 0, y: 0, w: MAX_VIEW_SIZE * 2, h: 100 },
      { type: 'view', boardId, x: 0, y: 0, w: 100 },
      { type: 'view', boardId, x: 0, y: 0, w: 100, h: 100, zoom: 2 },
      { type: 'view', boardId, x: 'left', y: 0, w: 100, h: 100 },
    ];
    for (const event of bad) raw.ws.send(`~${JSON.stringify([event])}`);
    await waitFor(() => raw.laneReplies().length >= bad.length, 'a refusal for each');
    const replies = raw.laneReplies();
    for (const r of replies) {
      expect(r.error.data.code).toBe('BAD_REQUEST');
      expect(r.error.message).toMatch(/^Invalid input: /);
    }
    const messages = replies.map((r) => r.error.message);
    expect(messages[0]).toMatch(/laser/);
    expect(messages[1]).toMatch(/laser/);
    expect(messages[2]).toMatch(/w must be positive/);
    expect(messages[3]).toMatch(/h must be positive/);
    expect(messages[4]).toMatch(/at most 4000000/);
    expect(messages[5]).toMatch(/\bh\b/);
    expect(messages[6]).toMatch(/zoom/);
    expect(messages[7]).toMatch(/\bx\b/);

    // The connection still works: a valid laser position and view go through.
    raw.ws.send(encodeLane([{ type: 'cursor', boardId, x: 5, y: 5, laser: true }, { type: 'view', boardId, x: 1, y: 2, w: 3, h: 4 }]));
    await bob.waitForEvent('cursor', (e) => e.x === 5 && e.laser === true, 'the valid laser position');
    await bob.waitForEvent('view', (e) => e.w === 3, 'the valid view');
    expect(bob.eventsOf('cursor').filter((e) => e.x !== 5)).toEqual([]);
    expect(bob.eventsOf('view')).toHaveLength(1);
    expect(raw.laneReplies()).toHaveLength(bad.length);
  });

  it('refuses a view for a board the sender is not on (FORBIDDEN), and holds views to their own rate (TOO_MANY_REQUESTS)', async () => {
    const boardId = await newBoard();
    const other = await newBoard('Other');
    const ann = await joined(boardId, 'ann');
    const bob = await joined(boardId, 'bob');
    const refusals = refusalsOf(ann);
    ann.client.lane.view({ boardId: other, x: 0, y: 0, w: 10, h: 10 });
    await waitFor(() => refusals.length > 0, 'the refusal');
    expect(refusals[0]).toMatchObject({ code: 'FORBIDDEN', path: 'lane.view' });

    // 60 views at once against a burst of 30: the rest are refused, and the cursor budget is untouched.
    const socket = ann.client.ws.connection!.ws;
    socket.send(encodeLane(Array.from({ length: 60 }, (_, i) => ({ type: 'view' as const, boardId, x: i, y: 0, w: 100, h: 100 }))));
    await waitFor(() => refusals.some((r) => r.code === 'TOO_MANY_REQUESTS'), 'a rate refusal');
    expect(refusals.find((r) => r.code === 'TOO_MANY_REQUESTS')!.path).toBe('lane.view');
    await bob.waitForEvent('view', (e) => e.x === 29, 'the last view within the burst');
    ann.client.lane.cursor(boardId, 7, 7, true);
    await bob.waitForEvent('cursor', (e) => e.x === 7 && e.laser === true, 'a laser position after the view flood');
    const views = bob.eventsOf('view').length;
    expect(views).toBeGreaterThanOrEqual(30);
    expect(views).toBeLessThan(60);
  });
});
