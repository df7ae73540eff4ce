import { z } from 'zod';
import type { Element, Stroke, StrokePoint } from './elements/index.js';
import { strokeSchema } from './elements/index.js';
import type { BoardEvent, Frame, OpEvent, SnapshotEvent } from './events.js';
import type { AddOp, Op } from './ops.js';

/**
 * Committed strokes travel with their points packed: coordinates in hundredths, delta-encoded,
 * zigzag varints, base64url. About 5-7 bytes a point instead of 15-20 as JSON. Lossless: a stroke
 * whose numbers are not whole hundredths travels as plain JSON. Elements themselves (the file
 * format, the database) keep plain `points`.
 */
export const packedStrokeSchema = strokeSchema.omit({ points: true }).extend({ packed: z.string() });
export type PackedStroke = z.infer<typeof packedStrokeSchema>;
export type WireElement = Element | PackedStroke;

const SCALE = 100;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

function exact(v: number): number | null {
  const n = Math.round(v * SCALE);
  return Number.isSafeInteger(n) && n / SCALE === v ? n : null;
}

function writeVarint(bytes: number[], value: number): void {
  let z = value >= 0 ? value * 2 : -value * 2 - 1; // zigzag without 32-bit overflow
  while (z >= 0x80) {
    bytes.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  bytes.push(z);
}

function toBase64Url(bytes: number[]): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]!;
    if (i + 1 < bytes.length) out += B64[(n >> 6) & 63]!;
    if (i + 2 < bytes.length) out += B64[n & 63]!;
  }
  return out;
}

function fromBase64Url(text: string): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i += 4) {
    const c = [0, 1, 2, 3].map((k) => B64_INDEX.get(text[i + k] ?? 'A') ?? 0);
    const n = (c[0]! << 18) | (c[1]! << 12) | (c[2]! << 6) | c[3]!;
    bytes.push((n >> 16) & 255);
    if (i + 2 < text.length) bytes.push((n >> 8) & 255);
    if (i + 3 < text.length) bytes.push(n & 255);
  }
  return bytes;
}

/** Packs stroke points, or null when they cannot be packed exactly (then they travel as JSON). */
export function packPoints(points: readonly StrokePoint[]): string | null {
  const withPressure = points[0]?.length === 3;
  const bytes: number[] = [withPressure ? 1 : 0];
  let px = 0;
  let py = 0;
  let pp = 0;
  for (const point of points) {
    if ((point.length === 3) !== withPressure) return null;
    const x = exact(point[0]);
    const y = exact(point[1]);
    const p = withPressure ? exact(point[2]!) : 0;
    if (x === null || y === null || p === null) return null;
    writeVarint(bytes, x - px);
    writeVarint(bytes, y - py);
    if (withPressure) writeVarint(bytes, p - pp);
    px = x;
    py = y;
    pp = p;
  }
  return toBase64Url(bytes);
}

/** The inverse of `packPoints`. */
export function unpackPoints(packed: string): StrokePoint[] {
  const bytes = fromBase64Url(packed);
  const withPressure = bytes[0] === 1;
  let i = 1;
  const read = () => {
    let z = 0;
    let mul = 1;
    for (;;) {
      const b = bytes[i++]!;
      z += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 0x80;
    }
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  };
  const points: StrokePoint[] = [];
  let x = 0;
  let y = 0;
  let p = 0;
  while (i < bytes.length) {
    x += read();
    y += read();
    if (withPressure) {
      p += read();
      points.push([x / SCALE, y / SCALE, p / SCALE]);
    } else points.push([x / SCALE, y / SCALE]);
  }
  return points;
}

function packElement(el: Element): WireElement {
  if (el.type !== 'stroke') return el;
  const packed = packPoints(el.points);
  if (packed === null) return el;
  const { points: _points, ...rest } = el;
  return { ...rest, packed };
}

function unpackElement(el: WireElement): Element {
  if (!('packed' in el)) return el;
  const { packed, ...rest } = el;
  return { ...rest, points: unpackPoints(packed) } satisfies Stroke;
}

export type WireOp = Exclude<Op, AddOp> | (Omit<AddOp, 'elements'> & { elements: WireElement[] });
export type WireOpEvent = Omit<OpEvent, 'op'> & { op: WireOp };
export type WireSnapshotEvent = Omit<SnapshotEvent, 'elements'> & { elements: WireElement[] };
export type WireEvent = Exclude<BoardEvent, OpEvent | SnapshotEvent> | WireOpEvent | WireSnapshotEvent;
/** A frame as it travels: like `Frame`, with committed strokes packed. */
export interface WireFrame {
  seq: number;
  events: WireEvent[];
}

/** Packs the committed strokes of a frame (server side, once per frame). */
export function toWireFrame(frame: Frame): WireFrame {
  return {
    seq: frame.seq,
    events: frame.events.map((e): WireEvent => {
      if (e.type === 'snapshot') return { ...e, elements: e.elements.map(packElement) };
      if (e.type === 'op' && e.op.type === 'add') return { ...e, op: { ...e.op, elements: e.op.elements.map(packElement) } };
      return e;
    }),
  };
}

/** Unpacks a frame received from the server. */
export function fromWireFrame(wire: WireFrame): Frame {
  return {
    seq: wire.seq,
    events: wire.events.map((e): BoardEvent => {
      if (e.type === 'snapshot') return { ...e, elements: e.elements.map(unpackElement) };
      if (e.type === 'op' && e.op.type === 'add') return { ...e, op: { ...e.op, elements: e.op.elements.map(unpackElement) } };
      return e as BoardEvent;
    }),
  };
}
