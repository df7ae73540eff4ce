import { describe, expect, it } from 'vitest';
import { emptyHistory, newId, normalizeElement, record, type Elements, type History, type Op } from '@inkboard/protocol';
import { groupedStep, markGroup, type UndoGroups } from '../versions/undoGroups.js';
import { parseHistory, serializeHistory } from './storedHistory.js';

const add = (i: number): Op => ({
  type: 'add',
  opId: newId(),
  elements: [normalizeElement({ type: 'stroke', x: 0, y: 0, points: [[i, 0], [i + 10, 5]] }, { id: `s${i}`, z: `a${String(i).padStart(4, '0')}` })],
});

/** A history of `n` strokes added one by one, and the board they make. */
function strokes(n: number): { history: History; board: Elements } {
  let history = emptyHistory;
  let board: Elements = new Map();
  for (let i = 0; i < n; i++) {
    const op = add(i);
    history = record(history, board, op, newId());
    if (op.type === 'add') board = new Map([...board, ...op.elements.map((e) => [e.id, e] as const)]);
  }
  return { history, board };
}

describe('stored undo history', () => {
  it('round-trips entries (and undoes the last stroke after it)', () => {
    const { history, board } = strokes(3);
    const restored = parseHistory(serializeHistory(history, new WeakMap()), new WeakMap());
    expect(restored).toEqual(history);
    const step = groupedStep(restored, board, newId, 'undo', new WeakMap());
    expect(step.ops).toHaveLength(1);
    expect(step.ops[0]).toMatchObject({ type: 'delete', ids: ['s2'] });
  });

  it('keeps the newest entries within the count and byte bounds', () => {
    const { history } = strokes(30);
    const byCount = parseHistory(serializeHistory(history, new WeakMap(), 10), new WeakMap());
    expect(byCount.undo).toEqual(history.undo.slice(-10));
    const oneEntry = JSON.stringify({ forward: history.undo.at(-1)!.forward, inverse: history.undo.at(-1)!.inverse }).length;
    const json = serializeHistory(history, new WeakMap(), 100, oneEntry * 5 + 10);
    expect(json.length).toBeLessThanOrEqual(oneEntry * 5 + 10 + 30);
    expect(parseHistory(json, new WeakMap()).undo).toEqual(history.undo.slice(-5));
  });

  it('keeps groups: an action of several ops is still undone at once', () => {
    const { history: before, board } = strokes(2);
    const groups: UndoGroups = new WeakMap();
    let history = before;
    let elements = board;
    for (const i of [10, 11, 12]) {
      const op = add(i);
      history = record(history, elements, op, newId());
      if (op.type === 'add') elements = new Map([...elements, ...op.elements.map((e) => [e.id, e] as const)]);
    }
    markGroup(before, history, groups);
    // The entries' JSON cached between writes gives the same string (groups included).
    const cache = new WeakMap();
    const fresh = serializeHistory(history, groups);
    expect(serializeHistory(history, groups, 100, 1 << 21, cache)).toBe(fresh);
    expect(serializeHistory(history, groups, 100, 1 << 21, cache)).toBe(fresh);
    const restoredGroups: UndoGroups = new WeakMap();
    const restored = parseHistory(serializeHistory(history, groups), restoredGroups);
    expect(groupedStep(restored, elements, newId, 'undo', restoredGroups).ops).toHaveLength(3);
  });

  it('leaves out what does not parse (another version wrote it)', () => {
    const { history } = strokes(2);
    const json = serializeHistory(history, new WeakMap()).replace('"type":"add"', '"type":"bogus"');
    expect(parseHistory(json, new WeakMap()).undo).toHaveLength(1);
    expect(parseHistory('not json', new WeakMap())).toEqual({ undo: [], redo: [] });
    expect(parseHistory('{"undo":5}', new WeakMap())).toEqual({ undo: [], redo: [] });
  });
});
