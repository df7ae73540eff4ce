import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alignPatches } from './align.js';
import { applyOpInPlace } from './applyOp.js';
import { bindingPoint, followUpdates, resolvedArrowPoints } from './bindings.js';
import { addPending, dropPending, receiveFrame, visibleElements, type ClientBoard } from './clientBoard.js';
import { duplicateElements } from './duplicate.js';
import type { Arrow, Element } from './elements/index.js';
import { groupPatches, ungroupPatches } from './groups.js';
import { opSchema, type Op } from './ops.js';
import { HANDLES, moveElements, resizeElements, rotateElements, type ElementUpdate } from './transform.js';

/*
 * Two people transform the same elements at once (resize, turn, move with bound arrows and labels
 * following, group, lock, align, duplicate), each from their own optimistic view; the server applies
 * the ops in some interleaving. Everyone must end with the server's board, and bound ends must be
 * drawn on their shapes.
 */

const SEED = 1415;
const style = { strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
const start: Element[] = [
  { type: 'rectangle', id: 'box', x: 0, y: 0, z: 'a0', ...style, width: 100, height: 60, fillColor: 'transparent' },
  { type: 'ellipse', id: 'oval', x: 300, y: 0, z: 'a1', ...style, width: 80, height: 80, fillColor: '#ffc9c9' },
  { type: 'note', id: 'note', x: 0, y: 200, z: 'a2', ...style, width: 150, height: 150, fillColor: '#fff3bf', text: 'hi', fontSize: 20 },
  { type: 'text', id: 'label', x: 30, y: 20, z: 'a3', ...style, text: 'Box', fontSize: 16, containerId: 'box' },
  {
    type: 'arrow', id: 'arrow', x: 0, y: 0, z: 'a4', ...style, points: [[100, 30], [300, 40]],
    startBinding: { elementId: 'box', fixedPoint: [1, 0.5] }, endBinding: { elementId: 'oval', fixedPoint: [0, 0.5] },
  },
];

type Action = { kind: 'resize' | 'rotate' | 'move' | 'group' | 'ungroup' | 'lock' | 'align' | 'duplicate'; target: number; a: number; b: number };

const action = fc.record({
  kind: fc.constantFrom('resize', 'rotate', 'move', 'group', 'ungroup', 'lock', 'align', 'duplicate'),
  target: fc.nat(10),
  a: fc.integer({ min: -200, max: 200 }),
  b: fc.integer({ min: -200, max: 200 }),
}) as fc.Arbitrary<Action>;

/** The op a person makes from what they see, or null when the action does nothing there. */
function makeOp(view: ReadonlyMap<string, Element>, act: Action, opId: string, ids: () => string): Op | null {
  const shapes = [...view.values()].filter((el) => el.type !== 'text' && el.type !== 'arrow');
  if (!shapes.length) return null;
  const el = shapes[act.target % shapes.length]!;
  const pair = [el, shapes[(act.target + 1) % shapes.length]!].filter((e, i, all) => all.indexOf(e) === i);
  let updates: ElementUpdate[] = [];
  switch (act.kind) {
    case 'resize':
      updates = resizeElements([el], HANDLES[Math.abs(act.a) % 8]!, [el.x + act.a, el.y + act.b], { keepAspect: act.a % 2 === 0 });
      break;
    case 'rotate':
      updates = rotateElements([el], act.a / 50, { snap: act.b % 2 === 0 });
      break;
    case 'move':
      updates = moveElements([el], act.a, act.b);
      break;
    case 'group':
      updates = groupPatches(view, pair.map((e) => e.id), ids()) ?? [];
      break;
    case 'ungroup':
      updates = ungroupPatches(view, [el.id]);
      break;
    case 'lock':
      updates = [{ id: el.id, patch: { locked: !el.locked } }];
      break;
    case 'align':
      updates = alignPatches(pair, act.a % 2 === 0 ? 'left' : 'middle');
      break;
    case 'duplicate': {
      const copies = duplicateElements([el], view, { newId: ids, offset: [act.a, act.b] });
      return { type: 'add', opId, elements: copies };
    }
  }
  updates = followUpdates(view, updates);
  return updates.length ? { type: 'update', opId, updates } : null;
}

describe('concurrent transforms of the same elements', () => {
  it('property: every client ends with the server board, whatever the interleaving; bound ends sit on their shapes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(1), action, fc.boolean()), { minLength: 1, maxLength: 25 }), (steps) => {
        let n = 0;
        const ids = () => `id${n++}`;
        const server = new Map(start.map((el) => [el.id, el]));
        let seq = 0;
        const log: Op[] = [];
        const clients: ClientBoard[] = [0, 1].map(() => ({ seq: 0, confirmed: new Map(server), pending: [] }));
        const outbox: Op[][] = [[], []];
        const deliver = (c: number) => {
          // The server's frame of everything the client has not seen yet.
          const events = log.slice(clients[c]!.seq).map((op, i) => ({ type: 'op' as const, seq: clients[c]!.seq + i + 1, op, clientId: 'x', userId: 'u', at: 0 }));
          const result = receiveFrame(clients[c]!, { seq, events } as never);
          expect(result.gap).toBe(false);
          clients[c] = result.board;
        };
        const serve = (c: number) => {
          const op = outbox[c]!.shift();
          if (!op) return;
          if (applyOpInPlace(server, op) === null) {
            seq++;
            log.push(op);
          } else clients[c] = dropPending(clients[c]!, op.opId); // refused: the client drops it
        };
        for (const [c, act, sync] of steps) {
          const op = makeOp(visibleElements(clients[c]!), act, ids(), ids);
          if (op) {
            expect(opSchema.safeParse(op).success).toBe(true);
            clients[c] = addPending(clients[c]!, op);
            outbox[c]!.push(op);
          }
          if (sync) {
            serve(1 - c);
            deliver(c);
          }
        }
        for (const c of [0, 1]) while (outbox[c]!.length) serve(c);
        for (const c of [0, 1]) {
          deliver(c);
          expect(clients[c]!.pending).toEqual([]);
          expect(visibleElements(clients[c]!)).toEqual(server);
        }
        const arrow = server.get('arrow') as Arrow;
        const drawn = resolvedArrowPoints(arrow, (id) => server.get(id));
        const [x, y] = bindingPoint(server.get('box')!, arrow.startBinding!.fixedPoint);
        expect(drawn[0]![0]).toBeCloseTo(x - arrow.x, 1);
        expect(drawn[0]![1]).toBeCloseTo(y - arrow.y, 1);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
