import { z } from 'zod';
import type { Element, Stroke, StrokePoint } from './elements/index.js';
import { strokeSchema } from './elements/index.js';
import type { BoardEvent, CursorEvent, Frame, OpEvent, SnapshotEvent } from './events.js';
import type { AddOp, Op } from './ops.js';

/**
 * Committed strokes travel with their points packed: coordinates in hundredths, delta-encoded,
 * zigzag, base64 VLQ (the source-map encoding). About 5-7 bytes a point instead of 15-20 as JSON. Lossless: a stroke
 * whose numbers are not whole hundredths travels as plain JSON. Elements themselves (the file
 * format, the database) keep plain `points`.
 */
export const packedStrokeSchema = strokeSchema.omit({ points: true }).extend({ packed: z.string() });
export type PackedStroke = z.infer<typeof packedStrokeSchema>;
export type WireElement = Element | PackedStroke;

const SCALE = 100;
/** Base64 VLQ (as in source maps): 5 data bits a character, bit 6 says "more follows". */
const DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DIGIT_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < DIGITS.length; i++) DIGIT_VALUE[DIGITS.charCodeAt(i)] = i;
const DIGIT_CODE = Uint8Array.from(DIGITS, (c) => c.charCodeAt(0));
/** Largest delta in hundredths (coordinates are within +-1e6): zigzag stays below 2^31. */
const MAX_DELTA = 4e8;

function exact(v: number): number | null {
  const n = Math.round(v * SCALE);
  return Number.isSafeInteger(n) && n / SCALE === v ? n : null;
}

function writeVlq(out: number[], value: number): void {
  let z = value >= 0 ? value << 1 : ((-value) << 1) - 1;
  do {
    let digit = z & 31;
    z >>>= 5;
    if (z > 0) digit |= 32;
    out.push(DIGIT_CODE[digit]!);
  } while (z > 0);
}

function codesToString(codes: number[]): string {
  let out = '';
  for (let i = 0; i < codes.length; i += 8192) out += String.fromCharCode.apply(null, codes.slice(i, i + 8192));
  return out;
}

/** Packs stroke points, or null when they cannot be packed exactly (then they travel as JSON). */
export function packPoints(points: readonly StrokePoint[]): string | null {
  const withPressure = points[0]?.length === 3;
  const codes: number[] = [DIGIT_CODE[withPressure ? 1 : 0]!];
  let px = 0;
  let py = 0;
  let pp = 0;
  for (const point of points) {
    if ((point.length === 3) !== withPressure) return null;
    const x = exact(point[0]);
    const y = exact(point[1]);
    const p = withPressure ? exact(point[2]!) : 0;
    if (x === null || y === null || p === null) return null;
    if (Math.abs(x - px) > MAX_DELTA || Math.abs(y - py) > MAX_DELTA) return null;
    writeVlq(codes, x - px);
    writeVlq(codes, y - py);
    if (withPressure) writeVlq(codes, p - pp);
    px = x;
    py = y;
    pp = p;
  }
  return codesToString(codes);
}

/** The inverse of `packPoints`. */
export function unpackPoints(packed: string): StrokePoint[] {
  const withPressure = packed.charCodeAt(0) === DIGIT_CODE[1];
  let i = 1;
  const read = (): number => {
    let z = 0;
    let shift = 0;
    for (;;) {
      const digit = DIGIT_VALUE[packed.charCodeAt(i++)]!;
      z |= (digit & 31) << shift;
      if (!(digit & 32)) break;
      shift += 5;
    }
    z >>>= 0;
    return z & 1 ? -((z + 1) >>> 1) : z >>> 1;
  };
  const points: StrokePoint[] = [];
  let x = 0;
  let y = 0;
  let p = 0;
  while (i < packed.length) {
    x += read();
    y += read();
    if (withPressure) {
      p += read();
      points.push([x / SCALE, y / SCALE, p / SCALE]);
    } else points.push([x / SCALE, y / SCALE]);
  }
  return points;
}

/** Packed form of each element object, made once: elements are immutable, so joins reuse it. */
const packedCache = new WeakMap<Element, WireElement>();

function packElement(el: Element): WireElement {
  if (el.type !== 'stroke') return el;
  let wire = packedCache.get(el);
  if (wire === undefined) {
    const packed = packPoints(el.points);
    if (packed === null) wire = el;
    else {
      const { points: _points, ...rest } = el;
      wire = { ...rest, packed };
    }
    packedCache.set(el, wire);
  }
  return wire;
}

function unpackElement(el: WireElement): Element {
  if (!('packed' in el)) return el;
  const { packed, ...rest } = el;
  return { ...rest, points: unpackPoints(packed) } satisfies Stroke;
}

export type WireOp = Exclude<Op, AddOp> | (Omit<AddOp, 'elements'> & { elements: WireElement[] });
export type WireOpEvent = Omit<OpEvent, 'op'> & { op: WireOp };
export type WireSnapshotEvent = Omit<SnapshotEvent, 'elements'> & { elements: WireElement[] };
/**
 * Every cursor position of a frame as one event, flat: `[clientId, x, y, clientId, x, y, ...]`,
 * about 25 bytes a cursor instead of 58 (a busy board's frames are mostly cursors).
 */
export const wireCursorsEventSchema = z.object({ type: z.literal('cursors'), c: z.array(z.union([z.string(), z.number()])) });
export type WireCursorsEvent = z.infer<typeof wireCursorsEventSchema>;
/** A laser pointer's position travels whole (rare, and the flag must reach the others). */
export type WireLaserEvent = CursorEvent & { laser: true };
export type WireEvent = Exclude<BoardEvent, OpEvent | SnapshotEvent | CursorEvent> | WireOpEvent | WireSnapshotEvent | WireCursorsEvent | WireLaserEvent;
/** A frame as it travels: like `Frame`, with committed strokes packed and the cursors in one event. */
export interface WireFrame {
  seq: number;
  events: WireEvent[];
}

/** Packs a frame (server side, once per frame): committed strokes, and the cursors (not laser ones) into one event where the first was. */
export function toWireFrame(frame: Frame): WireFrame {
  const events: WireEvent[] = [];
  let cursors: WireCursorsEvent | null = null;
  for (const e of frame.events) {
    if (e.type === 'cursor' && e.laser) events.push({ ...e, laser: true });
    else if (e.type === 'cursor') {
      if (!cursors) events.push((cursors = { type: 'cursors', c: [] }));
      cursors.c.push(e.clientId, e.x, e.y);
    } else if (e.type === 'snapshot') events.push({ ...e, elements: e.elements.map(packElement) });
    else if (e.type === 'op' && e.op.type === 'add') events.push({ ...e, op: { ...e.op, elements: e.op.elements.map(packElement) } });
    else events.push(e);
  }
  return { seq: frame.seq, events };
}

/** Unpacks a frame received from the server. */
export function fromWireFrame(wire: WireFrame): Frame {
  const events: BoardEvent[] = [];
  for (const e of wire.events) {
    if (e.type === 'cursors') {
      for (let i = 0; i + 2 < e.c.length; i += 3) events.push({ type: 'cursor', clientId: String(e.c[i]), x: Number(e.c[i + 1]), y: Number(e.c[i + 2]) });
    } else if (e.type === 'snapshot') events.push({ ...e, elements: e.elements.map(unpackElement) });
    else if (e.type === 'op' && e.op.type === 'add') events.push({ ...e, op: { ...e.op, elements: e.op.elements.map(unpackElement) } });
    else events.push(e as BoardEvent);
  }
  return { seq: wire.seq, events };
}
