import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addPending, emptyClientBoard, normalizeElement, receiveFrame, type ClientBoard, type Element, type Op } from '@inkboard/protocol';
import { LocalStore, journalOps, takeJournal } from './localStore.js';
import { BoardCopy, diffCopy } from './BoardCopy.js';

let dbName = '';
let stores: LocalStore[] = [];
const open = async () => {
  const store = await LocalStore.open(dbName);
  stores.push(store);
  return store;
};

beforeEach(() => {
  dbName = `inkboard-test-${Math.random()}`;
  stores = [];
});
afterEach(() => {
  for (const store of stores) store.close();
});

const box = (id: string, x = 0): Element => normalizeElement({ type: 'rectangle', x, y: 0, width: 10, height: 10 }, { id, z: 'a0' });
const add = (opId: string, ...elements: Element[]): Op => ({ type: 'add', opId, elements });
const info = (id: string) => ({ id, title: `Board ${id}`, seq: 0, elementCount: 0, createdAt: 0, updatedAt: 0, ownerId: 'alice', role: 'owner' as const });

/** Web Locks, exclusive mode, in memory: what several tabs of one browser share. */
class FakeLocks {
  private readonly held = new Set<string>();
  private readonly waiting = new Map<string, (() => void)[]>();

  request(name: string, ...args: unknown[]): Promise<unknown> {
    const callback = args.at(-1) as (lock: { name: string } | null) => unknown;
    const options = (args.length > 1 ? args[0] : {}) as { ifAvailable?: boolean; signal?: AbortSignal };
    const run = async () => {
      this.held.add(name);
      try {
        return await callback({ name });
      } finally {
        this.held.delete(name);
        this.waiting.get(name)?.shift()?.();
      }
    };
    if (!this.held.has(name)) return run();
    if (options.ifAvailable) return Promise.resolve(callback(null));
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(name) ?? [];
      const go = () => void run().then(resolve, reject);
      queue.push(go);
      this.waiting.set(name, queue);
      options.signal?.addEventListener('abort', () => {
        const i = queue.indexOf(go);
        if (i >= 0) queue.splice(i, 1);
        reject(new Error('aborted'));
      });
    });
  }
}

/** A tab's session on a board, as far as the copy sees it. */
class Tab {
  board: ClientBoard = emptyClientBoard;
  readonly copy: BoardCopy;
  constructor(locks: FakeLocks, user = 'alice', boardId = 'b1') {
    this.copy = new BoardCopy(user, boardId, () => this.board, { open, locks: locks as unknown as LockManager, flushMs: 1, adoptEveryMs: 0 });
  }
  async open() {
    const restored = await this.copy.open();
    if (restored) this.board = { seq: restored.seq, confirmed: restored.confirmed, pending: [...restored.ops, ...this.board.pending] };
    this.copy.changed();
    return restored;
  }
  make(op: Op) {
    this.copy.record(op);
    this.board = addPending(this.board, op);
    this.copy.changed();
  }
  /** The server's frame with these ops (confirming own ones). */
  receive(...ops: Op[]) {
    let seq = this.board.seq;
    const events = ops.map((op) => ({ type: 'op' as const, seq: ++seq, op, author: { id: 'alice', name: 'Alice' } }));
    this.board = receiveFrame(this.board, { seq, events }).board;
    this.copy.changed();
  }
}

describe('LocalStore', () => {
  it('keeps an op until a stored copy at or above its seq holds it, and never goes back', async () => {
    const store = await open();
    await store.opened('alice', 'b1', info('b1'));
    expect(await store.putOp('alice', 'b1', { op: add('o1', box('e1')), owner: 't1', order: 1 })).toBe(true);
    // Confirmed at seq 5, but the copy holds seq 4: the op stays.
    let result = await store.commit('alice', 'b1', { seq: 4, full: true, put: [box('e0')], remove: [] }, [{ opId: 'o1', seq: 5 }]);
    expect(result).toEqual({ deleted: [], written: true });
    expect((await store.load('alice', 'b1'))?.ops.map((s) => s.op.opId)).toEqual(['o1']);
    result = await store.commit('alice', 'b1', { seq: 5, full: false, put: [box('e1')], remove: [] }, [{ opId: 'o1', seq: 5 }]);
    expect(result).toEqual({ deleted: ['o1'], written: true });
    // An older state is not written over a newer one.
    result = await store.commit('alice', 'b1', { seq: 3, full: true, put: [], remove: [] }, []);
    expect(result.written).toBe(false);
    const copy = await store.load('alice', 'b1');
    expect(copy?.meta.seq).toBe(5);
    expect(copy?.elements.map((e) => e.id).sort()).toEqual(['e0', 'e1']);
    expect(copy?.ops).toEqual([]);
    await store.commit('alice', 'b1', { seq: 6, full: false, put: [box('e2')], remove: ['e0'] }, []);
    const changed = await store.load('alice', 'b1');
    expect(changed?.elements.map((e) => e.id).sort()).toEqual(['e1', 'e2']);
    expect(changed?.overlay).toBe(3); // e1 (seq 5), e2, and e0's removal since the snapshot of seq 4
    // A full write replaces the snapshot and empties the overlay.
    await store.commit('alice', 'b1', { seq: 7, full: true, put: [box('e9')], remove: [] }, []);
    const rewritten = await store.load('alice', 'b1');
    expect(rewritten?.elements.map((e) => e.id)).toEqual(['e9']);
    expect(rewritten?.overlay).toBe(0);
  });

  it('keeps each user apart, and a sign-out clears only that user (later writes of a closing tab are dropped)', async () => {
    const store = await open();
    for (const user of ['alice', 'bob']) {
      await store.opened(user, 'b1', info('b1'));
      await store.commit(user, 'b1', { seq: 1, full: true, put: [box(`${user}-e`)], remove: [] }, []);
      await store.putOp(user, 'b1', { op: add(`${user}-op`, box(`${user}-2`)), owner: 't', order: 1 });
    }
    expect((await store.load('bob', 'b1'))?.elements.map((e) => e.id)).toEqual(['bob-e']);
    expect((await store.load('bob', 'b1'))?.ops.map((s) => s.op.opId)).toEqual(['bob-op']);
    expect(await store.load('carol', 'b1')).toBeNull();
    expect(await store.boards('carol')).toEqual([]);
    expect(await store.unsentCount('alice')).toBe(1);

    await store.clearUser('alice');
    expect(await store.load('alice', 'b1')).toBeNull();
    expect(await store.unsentCount('alice')).toBe(0);
    expect(await store.putOp('alice', 'b1', { op: add('late', box('x')), owner: 't', order: 2 })).toBe(false);
    expect((await store.commit('alice', 'b1', { seq: 2, full: true, put: [box('x')], remove: [] }, [])).written).toBe(false);
    expect(await store.load('alice', 'b1')).toBeNull();
    expect(await store.boards('bob')).toEqual([{ boardId: 'b1', info: info('b1'), unsent: 1 }]);
  });

  it('drops the least recently opened copies past the limit, but never one with unsent edits', async () => {
    const store = await open();
    for (const id of ['b1', 'b2', 'b3', 'b4']) {
      await store.opened('alice', id, info(id));
      await store.commit('alice', id, { seq: 1, full: true, put: [box(`${id}-e`)], remove: [] }, []);
      await new Promise((r) => setTimeout(r, 2));
    }
    await store.putOp('alice', 'b1', { op: add('o', box('n')), owner: 't', order: 1 });
    expect(await store.evict('alice', 2)).toEqual(['b2']);
    expect((await store.boards('alice')).map((b) => b.boardId)).toEqual(['b4', 'b3', 'b1']);
    expect(await store.load('alice', 'b2')).toBeNull();
  });

  it('drops ops that do not parse (written by another version)', async () => {
    const store = await open();
    await store.opened('alice', 'b1', info('b1'));
    await store.putOp('alice', 'b1', { op: { type: 'warp', opId: 'x' } as unknown as Op, owner: 't', order: 1 });
    await store.putOp('alice', 'b1', { op: add('ok', box('e')), owner: 't', order: 2 });
    expect((await store.load('alice', 'b1'))?.ops.map((s) => s.op.opId)).toEqual(['ok']);
  });
});

describe('the unload journal', () => {
  /** localStorage, in memory. */
  class MemoryStorage {
    private readonly items = new Map<string, string>();
    get length() {
      return this.items.size;
    }
    key(i: number) {
      return [...this.items.keys()][i] ?? null;
    }
    getItem(key: string) {
      return this.items.get(key) ?? null;
    }
    setItem(key: string, value: string) {
      this.items.set(key, value);
    }
    removeItem(key: string) {
      this.items.delete(key);
    }
  }
  beforeEach(() => {
    (globalThis as { localStorage?: unknown }).localStorage = new MemoryStorage();
  });
  afterEach(() => {
    delete (globalThis as { localStorage?: unknown }).localStorage;
  });

  it('hands the ops a page saved as it went away to the next copy of the board, once', async () => {
    journalOps('alice', 'b1', 'gone', [{ op: add('j1', box('e')), owner: 'gone', order: 2 }, { op: { type: 'warp' } as unknown as Op, owner: 'gone', order: 3 }]);
    journalOps('bob', 'b1', 'other', [{ op: add('bob-op', box('e')), owner: 'other', order: 1 }]);
    const tab = new Tab(new FakeLocks());
    const restored = await tab.open();
    expect(restored?.ops.map((op) => op.opId)).toEqual(['j1']);
    expect(takeJournal('alice', 'b1')).toEqual([]); // taken
    expect(takeJournal('bob', 'b1').map((s) => s.op.opId)).toEqual(['bob-op']); // another user's stays theirs
    tab.copy.dispose();
  });
});

describe('BoardCopy', () => {
  it('diffs by element identity', () => {
    const a = box('a');
    const b = box('b');
    const b2 = box('b', 5);
    const c = box('c');
    expect(diffCopy(null, new Map([['a', a]]), 3)).toEqual({ seq: 3, full: true, put: [a], remove: [] });
    expect(diffCopy(new Map([['a', a], ['b', b]]), new Map([['b', b2], ['c', c]]), 4)).toEqual({ seq: 4, full: false, put: [b2, c], remove: ['a'] });
  });

  it('a reloaded tab finds its unsent ops and the confirmed board, and sends the ops itself', async () => {
    const locks = new FakeLocks();
    const first = new Tab(locks);
    expect(await first.open()).toBeNull();
    first.make(add('o1', box('e1')));
    first.receive(add('o1', box('e1'))); // confirmed at seq 1
    first.make(add('o2', box('e2'))); // offline: stays unsent
    first.make(add('o3', box('e3')));
    await first.copy.flush();
    first.copy.dispose(); // the page reloads
    await new Promise((r) => setTimeout(r, 20));

    const second = new Tab(locks);
    const restored = await second.open();
    expect(restored?.seq).toBe(1);
    expect([...(restored?.confirmed.keys() ?? [])]).toEqual(['e1']);
    expect(restored?.ops.map((op) => op.opId)).toEqual(['o2', 'o3']);
    // Confirmed later: the copy holds them, and they leave the store.
    second.receive(add('o2', box('e2')), add('o3', box('e3')));
    await second.copy.flush();
    const store = await open();
    const copy = await store.load('alice', 'b1');
    expect(copy?.meta.seq).toBe(3);
    expect(copy?.ops).toEqual([]);
    expect(copy?.elements.map((e) => e.id).sort()).toEqual(['e1', 'e2', 'e3']);
    second.copy.dispose();
  });

  it('two open tabs never take each other’s ops; a closed tab’s ops go to exactly one tab', async () => {
    const locks = new FakeLocks();
    const a = new Tab(locks);
    const b = new Tab(locks);
    await a.open();
    await b.open();
    a.make(add('a1', box('ea')));
    b.make(add('b1', box('eb')));
    await new Promise((r) => setTimeout(r, 20));
    // Both open: neither adopts the other's op.
    expect(await a.copy.adoptOrphans()).toEqual([]);
    expect(await b.copy.adoptOrphans()).toEqual([]);

    a.copy.dispose(); // tab A is closed with a1 unsent
    await new Promise((r) => setTimeout(r, 20));
    const c = new Tab(locks);
    const [fromB, fromC] = await Promise.all([b.copy.adoptOrphans(), c.open().then((r) => r?.ops ?? [])]);
    expect([...fromB, ...fromC].map((op) => op.opId)).toEqual(['a1']);
    b.copy.dispose();
    c.copy.dispose();
  });

  it('only the writer stores elements; another tab deletes its confirmed ops once the stored copy holds them', async () => {
    const locks = new FakeLocks();
    const writer = new Tab(locks);
    const other = new Tab(locks);
    await writer.open();
    await other.open();
    other.make(add('x1', box('ex')));
    await new Promise((r) => setTimeout(r, 20));
    other.receive(add('x1', box('ex'))); // confirmed at seq 1 (the other tab's frame)
    await other.copy.flush();
    const store = await open();
    expect((await store.load('alice', 'b1'))?.ops.map((s) => s.op.opId)).toEqual(['x1']);
    writer.receive(add('x1', box('ex'))); // the writer sees the same frame and stores seq 1
    await writer.copy.flush();
    await other.copy.flush();
    const copy = await store.load('alice', 'b1');
    expect(copy?.meta.seq).toBe(1);
    expect(copy?.ops).toEqual([]);
    // The writer closes: the other tab takes over and writes the whole copy.
    writer.copy.dispose();
    await new Promise((r) => setTimeout(r, 20));
    other.receive(add('y', box('ey')));
    await other.copy.flush();
    await new Promise((r) => setTimeout(r, 20));
    const after = await store.load('alice', 'b1');
    expect(after?.meta.seq).toBe(2);
    expect(after?.elements.map((e) => e.id).sort()).toEqual(['ex', 'ey']);
    other.copy.dispose();
  });

  it('ops made before the store opened are kept once it is', async () => {
    const locks = new FakeLocks();
    const tab = new Tab(locks);
    tab.make(add('early', box('e')));
    await tab.open();
    await new Promise((r) => setTimeout(r, 20));
    const store = await open();
    expect((await store.load('alice', 'b1'))?.ops.map((s) => s.op.opId)).toEqual(['early']);
    tab.copy.dispose();
  });
});
