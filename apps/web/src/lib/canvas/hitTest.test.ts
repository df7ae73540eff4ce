import { describe, expect, it } from 'vitest';
import type { Element } from '@inkboard/protocol';
import { elementAt, elementsInBox, elementsTouchedBy, hitElement } from './hitTest.js';

const common = { z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
const rect: Element = { ...common, id: 'r', type: 'rectangle', x: 0, y: 0, width: 100, height: 50, fillColor: 'transparent' };
const filled: Element = { ...rect, id: 'f', fillColor: '#ffc9c9' };
const ellipse: Element = { ...common, id: 'e', type: 'ellipse', x: 200, y: 0, width: 100, height: 50, fillColor: 'transparent' };
const stroke: Element = { ...common, id: 's', type: 'stroke', x: 0, y: 100, points: [[0, 0], [50, 0], [100, 10]] };
const text: Element = { ...common, id: 't', type: 'text', x: 0, y: 200, text: 'Hello', fontSize: 20 };

describe('hit testing', () => {
  it('hits an unfilled shape on its outline only, a filled one anywhere inside', () => {
    expect(hitElement(rect, 0, 25, 3)).toBe(true);
    expect(hitElement(rect, 50, 25, 3)).toBe(false);
    expect(hitElement(filled, 50, 25, 3)).toBe(true);
    expect(hitElement(ellipse, 250, 0, 3)).toBe(true);
    expect(hitElement(ellipse, 250, 25, 3)).toBe(false);
  });

  it('hits strokes near their path and text inside its box', () => {
    expect(hitElement(stroke, 25, 101, 3)).toBe(true);
    expect(hitElement(stroke, 25, 130, 3)).toBe(false);
    expect(hitElement(text, 20, 210, 3)).toBe(true);
  });

  it('picks the topmost element', () => {
    const top: Element = { ...filled, id: 'top', z: 'a1' };
    expect(elementAt([filled, top], 50, 25, 3)?.id).toBe('top');
    expect(elementAt([rect], 50, 25, 3)).toBeNull();
  });

  it('hits a rotated element where it is drawn, not where its unrotated box is', () => {
    const turned: Element = { ...filled, id: 'rot', x: 0, y: 0, width: 100, height: 20, angle: Math.PI / 2 };
    // Turned a quarter about its centre (50, 10): it now spans x 40..60, y -40..60.
    expect(hitElement(turned, 50, 50, 1)).toBe(true);
    expect(hitElement(turned, 90, 10, 1)).toBe(false);
    const outline: Element = { ...turned, fillColor: 'transparent' };
    expect(hitElement(outline, 40, 0, 2)).toBe(true);
    expect(hitElement(outline, 50, 0, 2)).toBe(false);
  });

  it('hits a note anywhere inside, and can skip locked elements', () => {
    const note: Element = { ...common, id: 'n', type: 'note', x: 0, y: 0, width: 100, height: 100, fillColor: '#fff3bf', text: '', fontSize: 20 };
    expect(hitElement(note, 50, 50, 1)).toBe(true);
    const locked: Element = { ...note, id: 'locked', z: 'a1', locked: true };
    expect(elementAt([note, locked], 50, 50, 1)?.id).toBe('locked');
    expect(elementAt([note, locked], 50, 50, 1, { skipLocked: true })?.id).toBe('n');
    expect(elementAt([locked], 50, 50, 1, { skipLocked: true })).toBeNull();
  });

  it('can take a label hit for its container', () => {
    const box: Element = { ...rect, id: 'box', x: 0, y: 0, width: 200, height: 100 };
    const label: Element = { ...text, id: 'lab', z: 'a1', x: 80, y: 40, containerId: 'box' };
    expect(elementAt([box, label], 90, 50, 1)?.id).toBe('lab');
    expect(elementAt([box, label], 90, 50, 1, { labelsAsContainer: true })?.id).toBe('box');
    expect(elementAt([{ ...box, locked: true }, label], 90, 50, 1, { labelsAsContainer: true, skipLocked: true })).toBeNull();
  });

  it('hits an image anywhere inside its box, turned with it', () => {
    const image: Element = { ...common, id: 'i', type: 'image', x: 0, y: 0, width: 200, height: 100, fileId: 'a'.repeat(64), naturalWidth: 400, naturalHeight: 200 };
    expect(hitElement(image, 100, 50, 1)).toBe(true);
    expect(hitElement(image, 201, 50, 2)).toBe(true);
    expect(hitElement(image, 210, 50, 2)).toBe(false);
    const turned = { ...image, angle: Math.PI / 2 };
    expect(hitElement(turned, 100, 140, 1)).toBe(true); // the box stands upright about its centre (100, 50)
    expect(hitElement(turned, 190, 50, 1)).toBe(false);
  });

  it('selects what lies entirely inside a marquee', () => {
    expect(elementsInBox([rect, ellipse, stroke], { minX: -10, minY: -10, maxX: 150, maxY: 150 }).sort()).toEqual(['r', 's']);
  });

  it('finds everything an eraser stroke passes over', () => {
    expect(elementsTouchedBy([rect, ellipse, stroke, text], -20, 105, 40, 105, 4).sort()).toEqual(['s']);
    expect(elementsTouchedBy([rect, ellipse, stroke, text], 150, 0, 310, 0, 4)).toEqual(['e']);
  });
});
