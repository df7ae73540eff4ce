import { afterEach, describe, expect, it } from 'vitest';
import { newId, normalizeElement, type Op } from '@inkboard/protocol';
import { TabShare } from './TabShare.js';

const stroke = (): Op => ({ type: 'add', opId: newId(), elements: [normalizeElement({ type: 'stroke', x: 0, y: 0, points: [[0, 0], [5, 5]] }, { id: newId(), z: 'a0' })] });
const tick = () => new Promise((r) => setTimeout(r, 20));

describe('TabShare (unsent edits shown across tabs)', () => {
  const open: TabShare[] = [];
  afterEach(() => open.splice(0).forEach((s) => s.dispose()));

  function tab(mine: Op[] = [], board = 'b1', user = 'u1') {
    const state = { changes: 0, closed: 0 };
    const share = new TabShare(user, board, newId(16), { changed: () => state.changes++, mine: () => mine, closed: () => state.closed++ });
    open.push(share);
    return { share, state };
  }

  it('shows ops another tab makes, forgets them once it says they left its pending list', async () => {
    const a = tab();
    const b = tab();
    const op = stroke();
    a.share.made([op]);
    await tick();
    expect(b.share.ops).toEqual([op]);
    expect(a.share.ops).toEqual([]); // never its own
    a.share.left([op.opId]);
    await tick();
    expect(b.share.ops).toEqual([]);
  });

  it('a tab that opens is told the others’ pending ops; a closing tab says so', async () => {
    const pending = [stroke(), stroke()];
    const a = tab(pending);
    const b = tab();
    await tick();
    expect(b.share.ops).toEqual(pending);
    a.share.dispose();
    await tick();
    expect(b.state.closed).toBe(1);
  });

  it('keeps to its user and board, and ignores messages that do not parse', async () => {
    const a = tab();
    const otherBoard = tab([], 'b2');
    const otherUser = tab([], 'b1', 'u2');
    a.share.made([stroke()]);
    const raw = new BroadcastChannel('inkboard-pending:u1:b1');
    raw.postMessage({ type: 'ops', owner: 'x', ops: [{ type: 'add', opId: 'bad' }] });
    raw.postMessage('nonsense');
    raw.postMessage({ type: 'left' });
    await tick();
    raw.close();
    expect(otherBoard.share.ops).toEqual([]);
    expect(otherUser.share.ops).toEqual([]);
    expect(a.share.ops).toEqual([]);
  });
});
