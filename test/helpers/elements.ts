import { newId, zAbove, type Element, type Op } from '@inkboard/protocol';

/** A small valid rectangle. */
export function rect(x = 0, y = 0, extra: Partial<Element> = {}): Element {
  return { type: 'rectangle', id: newId(), x, y, z: zAbove(null), width: 40, height: 30, strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1, fillColor: 'transparent', ...extra } as Element;
}

/** A freehand stroke of `n` points. */
export function stroke(n = 20, x = 0, y = 0): Element {
  const points = Array.from({ length: n }, (_, i) => [i * 2, Math.sin(i / 3) * 10, 0.5] as [number, number, number]);
  return { type: 'stroke', id: newId(), x, y, z: zAbove(null), points, strokeColor: '#1971c2', strokeWidth: 3, opacity: 1 };
}

export const addOp = (...elements: Element[]): Op => ({ type: 'add', opId: newId(), elements });
export const deleteOp = (...ids: string[]): Op => ({ type: 'delete', opId: newId(), ids });
export const moveOp = (id: string, x: number, y: number): Op => ({ type: 'update', opId: newId(), updates: [{ id, patch: { x, y } }] });
