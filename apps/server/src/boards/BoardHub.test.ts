import { newId, zAbove, type BoardEvent, type Element, type WireFrame } from '@inkboard/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBoardHub } from './BoardHub.js';

// Framing of the in-process hub: ephemeral events wait for the board's tick, committed ops do not.

const TICK_MS = 300;
const author = { id: 'u1', name: 'Ada' };
const rect = (): Element =>
  ({ type: 'rectangle', id: newId(), x: 0, y: 0, z: zAbove(null), width: 40, height: 30, strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1, fillColor: 'transparent' }) as Element;
const opEvent = (seq: number): BoardEvent => ({ type: 'op', seq, author, op: { type: 'add', opId: newId(), elements: [rect()] } });
const cursor = (x: number): BoardEvent => ({ type: 'cursor', clientId: 'c1', x, y: 0 });

describe('LocalBoardHub frames', () => {
  let hub: LocalBoardHub;
  afterEach(() => hub.close());

  async function subscribed() {
    hub = new LocalBoardHub(TICK_MS);
    const frames: { at: number; frame: WireFrame }[] = [];
    await hub.subscribe('b1', { userId: 'u2', frame: (frame) => frames.push({ at: performance.now(), frame }), revoked() {}, resync() {} });
    return frames;
  }

  it('sends a committed op before the next turn of the event loop, with what else is pending, and cursors alone at the tick', async () => {
    const frames = await subscribed();
    const start = performance.now();
    hub.publish('b1', 0, [cursor(1)]);
    await new Promise((r) => setTimeout(r, TICK_MS / 3));
    expect(frames).toHaveLength(0);
    hub.publish('b1', 1, [opEvent(1)]);
    // Out once the current run's microtasks are done: not a turn of the event loop later (issue 19).
    await Promise.resolve();
    expect(frames).toHaveLength(1);
    // The op and the cursor waiting with it, in one frame, long before the tick.
    expect(frames[0]!.frame.events.map((e) => e.type).sort()).toEqual(['cursors', 'op']);
    expect(frames[0]!.frame.seq).toBe(1);
    expect(frames[0]!.at - start).toBeLessThan(TICK_MS * 0.8);
    // A cursor after it goes out with the tick, which keeps its time.
    hub.publish('b1', 1, [cursor(2)]);
    await new Promise((r) => setTimeout(r, TICK_MS));
    expect(frames).toHaveLength(2);
    expect(frames[1]!.at - start).toBeGreaterThanOrEqual(TICK_MS - 5);
    expect(frames[1]!.at - start).toBeLessThan(TICK_MS * 1.8);
  });

  it('adds at most one early frame per tick: a burst of commits waits for the tick after the first', async () => {
    const frames = await subscribed();
    hub.publish('b1', 1, [opEvent(1)]);
    await new Promise((r) => setImmediate(r));
    for (let seq = 2; seq <= 5; seq++) {
      hub.publish('b1', seq, [opEvent(seq)]);
      await new Promise((r) => setImmediate(r));
    }
    expect(frames.map((f) => f.frame.events.length)).toEqual([1]);
    await new Promise((r) => setTimeout(r, TICK_MS + 50));
    expect(frames.map((f) => f.frame.events.length)).toEqual([1, 4]);
    expect(frames.map((f) => f.frame.seq)).toEqual([1, 5]);
    // The next tick's first commit goes out early again.
    hub.publish('b1', 6, [opEvent(6)]);
    await Promise.resolve();
    expect(frames).toHaveLength(3);
  });

  it('sends what is published in the same run (ops of two publishes, a cursor) as one early frame', async () => {
    const frames = await subscribed();
    hub.publish('b1', 1, [opEvent(1)]);
    hub.publish('b1', 2, [opEvent(2), cursor(3)]);
    await Promise.resolve();
    expect(frames).toHaveLength(1);
    expect(frames[0]!.frame.seq).toBe(2);
    expect(frames[0]!.frame.events.map((e) => e.type).sort()).toEqual(['cursors', 'op', 'op']);
  });
  it('flushOverdue sends the ticks that are due while the event loop is busy, and nothing before its tick', async () => {
    const frames = await subscribed();
    const other: WireFrame[] = [];
    await hub.subscribe('b2', { userId: 'u2', frame: (frame) => other.push(frame), revoked() {}, resync() {} });
    const start = performance.now();
    hub.publish('b1', 0, [cursor(1)]);
    hub.flushOverdue();
    expect(frames).toHaveLength(0); // not due yet
    // Busy past b1's tick, with no turn of the event loop (so its timer cannot fire); b2's tick starts late.
    while (performance.now() - start < TICK_MS * 0.6);
    hub.publish('b2', 0, [cursor(2)]);
    while (performance.now() - start < TICK_MS + 10);
    hub.flushOverdue();
    expect(frames).toHaveLength(1);
    expect(frames[0]!.frame.events.map((e) => e.type)).toEqual(['cursors']);
    expect(other).toHaveLength(0); // b2's tick is not due yet
    // The next cursor waits for b1's next tick: the old timer was cancelled and does not send it when
    // the event loop gets to it.
    hub.publish('b1', 0, [cursor(3)]);
    await new Promise((r) => setTimeout(r, TICK_MS / 3));
    expect(frames).toHaveLength(1);
    await new Promise((r) => setTimeout(r, TICK_MS));
    expect(other).toHaveLength(1); // b2's tick went out with its timer
    expect(frames).toHaveLength(2);
    expect(frames[1]!.at - start).toBeGreaterThanOrEqual(TICK_MS * 2 - 5);
  });
});
