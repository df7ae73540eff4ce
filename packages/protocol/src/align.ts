import type { Element } from './elements/index.js';
import { elementBounds, type Box } from './geometry.js';
import { outermostGroup } from './groups.js';
import { moveElements, transformTargets, type ElementUpdate } from './transform.js';

/*
 * Align and distribute a selection (as Excalidraw: an element's box includes its stroke; a group
 * moves as one unit; a label moves with its container).
 */

export type AlignMode = 'left' | 'center' | 'right' | 'top' | 'middle' | 'bottom';
export type DistributeAxis = 'horizontal' | 'vertical';

interface Unit {
  members: Element[];
  box: Box;
}

/** The selection in units: each outermost group one unit, each other element its own; labels ride with their container. */
function unitsOf(elements: readonly Element[]): Unit[] {
  const targets = transformTargets(elements);
  const carried = elements.filter((el) => !targets.includes(el));
  const byKey = new Map<string, Element[]>();
  for (const el of targets) {
    const key = outermostGroup(el) ?? `#${el.id}`;
    byKey.set(key, [...(byKey.get(key) ?? []), el]);
  }
  return [...byKey.values()].map((members) => {
    const ids = new Set(members.map((m) => m.id));
    let box: Box | null = null;
    for (const el of members) {
      const b = elementBounds(el);
      box = box ? { minX: Math.min(box.minX, b.minX), minY: Math.min(box.minY, b.minY), maxX: Math.max(box.maxX, b.maxX), maxY: Math.max(box.maxY, b.maxY) } : b;
    }
    const labels = carried.filter((l) => l.type === 'text' && l.containerId && ids.has(l.containerId));
    return { members: [...members, ...labels], box: box! };
  });
}

function unionOf(units: readonly Unit[]): Box {
  return units.reduce<Box>(
    (a, { box: b }) => ({ minX: Math.min(a.minX, b.minX), minY: Math.min(a.minY, b.minY), maxX: Math.max(a.maxX, b.maxX), maxY: Math.max(a.maxY, b.maxY) }),
    { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity },
  );
}

/** Patches that align the selection's units to the edge or middle of the box around them (nothing for fewer than two units). */
export function alignPatches(elements: readonly Element[], mode: AlignMode): ElementUpdate[] {
  const units = unitsOf(elements);
  if (units.length < 2) return [];
  const all = unionOf(units);
  const out: ElementUpdate[] = [];
  for (const { members, box } of units) {
    let dx = 0;
    let dy = 0;
    if (mode === 'left') dx = all.minX - box.minX;
    else if (mode === 'right') dx = all.maxX - box.maxX;
    else if (mode === 'center') dx = (all.minX + all.maxX) / 2 - (box.minX + box.maxX) / 2;
    else if (mode === 'top') dy = all.minY - box.minY;
    else if (mode === 'bottom') dy = all.maxY - box.maxY;
    else dy = (all.minY + all.maxY) / 2 - (box.minY + box.maxY) / 2;
    if (dx !== 0 || dy !== 0) out.push(...moveElements(members, dx, dy));
  }
  return out;
}

/**
 * Patches that space the selection's units evenly along an axis: the first and last (by centre) stay,
 * the gaps between neighbours become equal (they may overlap when the units are wider than the span).
 * Nothing for fewer than three units.
 */
export function distributePatches(elements: readonly Element[], axis: DistributeAxis): ElementUpdate[] {
  const units = unitsOf(elements);
  if (units.length < 3) return [];
  const lo = axis === 'horizontal' ? (b: Box) => b.minX : (b: Box) => b.minY;
  const hi = axis === 'horizontal' ? (b: Box) => b.maxX : (b: Box) => b.maxY;
  const sorted = [...units].sort((a, b) => lo(a.box) + hi(a.box) - (lo(b.box) + hi(b.box)));
  const first = sorted[0]!.box;
  const last = sorted[sorted.length - 1]!.box;
  const span = hi(last) - lo(first);
  const sizes = sorted.reduce((sum, u) => sum + hi(u.box) - lo(u.box), 0);
  const gap = (span - sizes) / (sorted.length - 1);
  const out: ElementUpdate[] = [];
  let pos = lo(first);
  for (const { members, box } of sorted) {
    const d = pos - lo(box);
    if (Math.abs(d) > 1e-9) out.push(...moveElements(members, axis === 'horizontal' ? d : 0, axis === 'horizontal' ? 0 : d));
    pos += hi(box) - lo(box) + gap;
  }
  return out;
}
