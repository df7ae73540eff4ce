import { toScreen, type Viewport } from '../canvas/viewport.js';

/** How long a laser point stays visible (it fades out over this time). */
export const LASER_FADE_MS = 1_000;
/** Points further apart in time than this start a new stroke of the trail (a lost lift, a reconnect). */
const GAP_MS = 300;
/** Points a trail keeps at most (a second at 60 Hz, with room to spare). */
const MAX_POINTS = 240;
export const LASER_COLOR = '255, 45, 45';

export interface LaserPoint {
  x: number;
  y: number;
  /** performance.now() when it was drawn or received. */
  t: number;
}

/**
 * The laser pointer trails on screen, by connection (the own one under `SELF`): world positions
 * with the time they came, forgotten once faded. Never stored and never an op: the positions come
 * from cursor events flagged `laser` (remote) or the Laser tool (own). Plain mutable state: the
 * layer that draws it runs an animation frame loop while anything is left, woken by `onWake`.
 */
export class LaserTrails {
  static readonly SELF = '';
  /** Each connection's strokes, oldest first. */
  private readonly trails = new Map<string, LaserPoint[][]>();
  /** Connections whose last stroke the next point continues. */
  private readonly down = new Set<string>();
  private readonly wakers = new Set<() => void>();

  /** Adds a point to `key`'s trail: it continues the stroke in progress, or starts one. */
  add(key: string, x: number, y: number, now: number): void {
    let strokes = this.trails.get(key);
    if (!strokes) this.trails.set(key, (strokes = []));
    const last = strokes.at(-1);
    const tail = last?.at(-1);
    if (last && tail && this.down.has(key) && now - tail.t <= GAP_MS) {
      last.push({ x, y, t: now });
      if (last.length > MAX_POINTS) last.shift();
    } else strokes.push([{ x, y, t: now }]);
    this.down.add(key);
    for (const wake of this.wakers) wake();
  }

  /** `key` lifted the pointer: its next point starts a new stroke (this one fades out). */
  lift(key: string): void {
    this.down.delete(key);
  }

  /** Forgets `key`'s trail at once (it left the board). */
  drop(key: string): void {
    this.down.delete(key);
    this.trails.delete(key);
  }

  /** Forgets the points faded by `now`; true while something is left to draw. */
  prune(now: number): boolean {
    for (const [key, strokes] of this.trails) {
      for (const stroke of strokes) {
        let faded = 0;
        while (faded < stroke.length && now - stroke[faded]!.t > LASER_FADE_MS) faded++;
        if (faded) stroke.splice(0, faded);
      }
      const kept = strokes.filter((s) => s.length > 0);
      if (kept.length) this.trails.set(key, kept);
      else this.trails.delete(key);
    }
    return this.trails.size > 0;
  }

  /** Points not yet forgotten (of every trail). */
  get size(): number {
    let n = 0;
    for (const strokes of this.trails.values()) for (const s of strokes) n += s.length;
    return n;
  }

  strokes(): LaserPoint[][] {
    return [...this.trails.values()].flat();
  }

  /** Calls `fn` whenever a point is added; returns the unsubscribe. */
  onWake(fn: () => void): () => void {
    this.wakers.add(fn);
    return () => this.wakers.delete(fn);
  }
}

/** Draws the trails on a transparent canvas (`scale`: device pixels per CSS pixel): newest part opaque and wide, fading to nothing. */
export function drawTrails(ctx: CanvasRenderingContext2D, trails: LaserTrails, viewport: Viewport, now: number, scale: number): void {
  ctx.save();
  ctx.scale(scale, scale);
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  for (const stroke of trails.strokes()) {
    const first = stroke[0];
    if (!first) continue;
    if (stroke.length === 1) {
      const life = 1 - (now - first.t) / LASER_FADE_MS;
      const [sx, sy] = toScreen(viewport, first.x, first.y);
      ctx.fillStyle = `rgba(${LASER_COLOR}, ${Math.max(0, life)})`;
      ctx.beginPath();
      ctx.arc(sx, sy, 3, 0, Math.PI * 2);
      ctx.fill();
      continue;
    }
    for (let i = 1; i < stroke.length; i++) {
      const a = stroke[i - 1]!;
      const b = stroke[i]!;
      const life = Math.max(0, 1 - (now - b.t) / LASER_FADE_MS);
      const [ax, ay] = toScreen(viewport, a.x, a.y);
      const [bx, by] = toScreen(viewport, b.x, b.y);
      ctx.strokeStyle = `rgba(${LASER_COLOR}, ${life})`;
      ctx.lineWidth = 1.5 + 3.5 * life;
      ctx.beginPath();
      ctx.moveTo(ax, ay);
      ctx.lineTo(bx, by);
      ctx.stroke();
    }
  }
  ctx.restore();
}
