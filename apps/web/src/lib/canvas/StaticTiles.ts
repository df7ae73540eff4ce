import { deepEqual, type Box, type Element } from '@inkboard/protocol';
import { boundsOf } from './geometryCache.js';
import { drawElement, staticExclusions, type Lookup, type Scene } from './renderScene.js';
import { around, blitBitmap, inside, MIN_CACHED_MOVING, renderBitmap, union, type Bitmap } from './MovingLayer.js';
import { SpatialIndex } from './SpatialIndex.js';

/** Side of a tile in device pixels. */
export const TILE = 512;
/** Drawing tiles stops for the frame after this long (the rest of a 60 Hz frame composites). */
export const BUDGET_MS = 6;
/** ... and down to this while frames come later than `LATE_MS` after the one before. */
const MIN_BUDGET_MS = 1.5;
const LATE_MS = 24;
/** After the zoom rests for this long, tiles are drawn sharp at the new zoom. */
export const SETTLE_MS = 140;
/** While zooming, tiles of the last sharp zoom are scaled until the zoom is this many times bigger or smaller. */
const MAX_SCALE = 2;
/** Tiles kept at least (1 MiB each): the screen's, a ring around it, the last zoom's while zooming. */
const MIN_TILES = 48;
/** Changed elements drawn over stale tiles until these are redrawn; beyond this many they just wait. */
const MAX_PENDING = 1_500;
/** More changed boxes than this in one update: every tile is redrawn instead of each box checked. */
const MAX_DIRTY = 2_000;
/** Elements drawn between two reads of the clock while drawing a tile. */
const MAX_CHUNK = 32;
/** Unused tile bitmaps kept for reuse. */
const POOL = 8;

type TileCanvas = HTMLCanvasElement | OffscreenCanvas;
type TileContext = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
type Ctx = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

/**
 * A redraw of a tile in progress: `elements` drawn in paint order into `canvas`, `next` onwards still
 * to do. Both are made when the drawing starts (a tile invalidated again before that costs nothing).
 */
interface Job {
  canvas: TileCanvas | null;
  ctx: TileContext | null;
  elements: Element[] | null;
  next: number;
}

interface Tile {
  key: string;
  /** Device pixels per world unit (zoom x device pixel ratio) and the tile's column and row at it. */
  level: number;
  i: number;
  j: number;
  box: Box;
  /** The bitmap shown (complete, maybe stale while `job` redraws it); null when `empty` or never drawn. */
  shown: TileCanvas | null;
  /** What is shown is nothing but background. */
  empty: boolean;
  /** The topmost element drawn (an element added above it is drawn onto the bitmap as it is). */
  top: Element | null;
  job: Job | null;
  /** The frame that last used it (least recently used tiles go first). */
  usedAt: number;
}

/** What the tiles show: redrawn where any of these change. */
interface Content {
  elements: readonly Element[];
  byId: Map<string, Element>;
  order: Map<string, number>;
  excluded: ReadonlySet<string>;
  faded: ReadonlySet<string>;
  hidden: ReadonlySet<string>;
  movingIds: ReadonlySet<string> | null;
}

interface Dirty {
  box: Box;
  /** An element added (not changed): a tile that shows everything under it draws it on top. */
  added: Element | null;
}

/** What a frame composited: where the dynamic layer is drawn, whether more frames are needed. */
export interface TilesFrame {
  /** The camera the tiles were aligned to (the view moved by under half a device pixel). */
  camera: { x: number; y: number; zoom: number };
  /** Tiles are still being drawn: another frame is wanted. */
  busy: boolean;
  /** The zoom is settling: a frame is wanted after this many ms to draw it sharp. */
  settleIn: number | null;
}

const before = (a: Element, b: Element) => a.z < b.z || (a.z === b.z && a.id < b.id);

const intersects = (a: Box, b: Box) => a.minX <= b.maxX && a.maxX >= b.minX && a.minY <= b.maxY && a.maxY >= b.minY;

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>) => a === b || (a.size === b.size && [...a].every((id) => b.has(id)));

/**
 * The board's stored elements as a grid of bitmap tiles per zoom level (512 device pixels, as map
 * viewers do): panning reuses the tiles drawn, zooming scales the last sharp level's tiles until the
 * zoom rests, and only tiles that an edit touches (the old and the new bounds of what changed) are
 * redrawn. Tiles are drawn a few elements at a time within a time budget per frame, in place of
 * blocking a frame on the whole board; until one is done the last version or the last zoom's tiles
 * stand in, and the changed elements are drawn over them. Memory is bounded: least recently used
 * tiles go first.
 */
export class StaticTiles {
  /** `budgetMs`: drawing time per frame (tests give more, so what a frame draws does not depend on the machine). */
  constructor(private readonly budgetMs = BUDGET_MS) {
    this.budget = budgetMs;
  }

  /** This frame's budget: shrinks while frames come late (a busy machine), grows back while they are on time. */
  private budget: number;
  private lastPaint = 0;
  private lastBusy = false;

  private readonly tiles = new Map<string, Tile>();
  private readonly index = new SpatialIndex();
  private readonly pool: TileCanvas[] = [];
  private readonly pending = new Set<string>();
  private content: Content = { elements: [], byId: new Map(), order: new Map(), excluded: new Set(), faded: new Set(), hidden: new Set(), movingIds: null };
  private background = '';
  private dpr = 0;
  /** The level whose tiles are drawn, and the one before it (shown where the current one is not ready). */
  private level: number | null = null;
  private previous: number | null = null;
  /** The last level whose tiles covered the screen in full. */
  private sharp: number | null = null;
  private lastLevel = 0;
  private zoomedAt = -Infinity;
  private frame = 0;
  private dirty: Dirty[] = [];
  /** The changed elements drawn over stale tiles, as one bitmap when there are many. */
  private pendingVersion = 0;
  private pendingBitmap: { bitmap: Bitmap; version: number; level: number } | null = null;
  /** Measured milliseconds to draw (and rasterize) one element into a tile. */
  private costPerElement = 0.05;
  private dirtyAll = false;

  /** Redraws the tiles over `box` (world units): something drawn there changed (an image finished loading). */
  invalidate(box: Box): void {
    this.dirty.push({ box, added: null });
  }

  /** Redraws every tile (fonts loaded, a style changed). */
  invalidateAll(): void {
    this.dirtyAll = true;
  }

  /** Frees the bitmaps. */
  clear(): void {
    this.tiles.clear();
    this.pool.length = 0;
    this.pending.clear();
    this.pendingBitmap = null;
  }

  /** Takes in the scene's stored elements and marks what changed since the last frame for redrawing. */
  sync(scene: Scene, dpr: number): void {
    if (scene.background !== this.background || dpr !== this.dpr) {
      this.background = scene.background;
      this.dpr = dpr;
      this.tiles.clear();
      this.pool.length = 0;
      this.level = this.previous = this.sharp = null;
    }
    const old = this.content;
    const movingIds = scene.moving?.ids ?? null;
    const elementsChanged = scene.elements !== old.elements;
    const hiddenChanged = !sameSet(scene.hidden, old.hidden);
    const movingChanged = movingIds !== old.movingIds && !(movingIds && old.movingIds && sameSet(movingIds, old.movingIds));
    const fadedChanged = !sameSet(scene.faded, old.faded);
    if (!elementsChanged && !hiddenChanged && !movingChanged && !fadedChanged) return;

    let { byId, order } = old;
    const changed = new Set<string>();
    if (elementsChanged) {
      byId = new Map();
      order = new Map();
      const added: Element[] = [];
      scene.elements.forEach((el, i) => {
        byId.set(el.id, el);
        order.set(el.id, i);
        const was = old.byId.get(el.id);
        if (was === el) return;
        if (!was) added.push(el);
        else if (!deepEqual(was, el)) changed.add(el.id);
        else byId.set(el.id, was); // the server's echo of an own edit: the same drawing
      });
      for (const id of old.byId.keys()) if (!byId.has(id)) changed.add(id);
      // Labels are drawn in their containers and bound arrows end on their shapes: they change with them.
      if (changed.size && changed.size <= MAX_DIRTY) {
        for (const el of scene.elements) {
          if (el.type === 'text' && el.containerId && changed.has(el.containerId)) changed.add(el.id);
          else if (el.type === 'arrow' && ((el.startBinding && changed.has(el.startBinding.elementId)) || (el.endBinding && changed.has(el.endBinding.elementId)))) changed.add(el.id);
        }
      }
      for (const id of changed) this.markChanged(id, byId, null);
      for (const el of added) this.markChanged(el.id, byId, el);
      for (const el of added) changed.add(el.id);
    }
    const excluded = elementsChanged || hiddenChanged || movingChanged ? staticExclusions(scene) : old.excluded;
    for (const set of [excluded, old.excluded]) {
      const other = set === excluded ? old.excluded : excluded;
      for (const id of set) if (!other.has(id)) this.markChanged(id, byId, null, changed);
    }
    if (fadedChanged) {
      for (const id of scene.faded) if (!old.faded.has(id)) this.markChanged(id, byId, null, changed);
      for (const id of old.faded) if (!scene.faded.has(id)) this.markChanged(id, byId, null, changed);
    }
    this.content = { elements: scene.elements, byId, order, excluded, faded: scene.faded, hidden: scene.hidden, movingIds };
    if (changed.size > MAX_PENDING) this.pending.clear();
    else for (const id of changed) this.pending.add(id);
    this.pendingVersion++;
  }

  /** Marks the old and new place of an element for redrawing and keeps the index current. */
  private markChanged(id: string, byId: Map<string, Element>, added: Element | null, also?: Set<string>): void {
    also?.add(id);
    const was = this.index.boxOf(id);
    const el = byId.get(id);
    if (!el) {
      this.index.remove(id);
      if (was) this.dirty.push({ box: was, added: null });
      return;
    }
    let box = boundsOf(el);
    const container = el.type === 'text' && el.containerId ? byId.get(el.containerId) : undefined;
    if (container) box = union(box, boundsOf(container));
    this.index.set(id, box);
    this.dirty.push({ box: was ? union(was, box) : box, added });
  }

  /** Applies the marked changes to the tiles drawn. */
  private applyDirty(): void {
    const dirty = this.dirty;
    this.dirty = [];
    if (this.dirtyAll || dirty.length > MAX_DIRTY) {
      this.dirtyAll = false;
      for (const tile of this.tiles.values()) this.restart(tile);
      return;
    }
    if (!dirty.length || !this.tiles.size) return;
    for (const tile of this.tiles.values()) {
      const pad = 2 / tile.level;
      const area = { minX: tile.box.minX - pad, minY: tile.box.minY - pad, maxX: tile.box.maxX + pad, maxY: tile.box.maxY + pad };
      const hits = dirty.filter((d) => intersects(d.box, area));
      if (!hits.length) continue;
      // Elements added above everything the (finished) tile shows are drawn onto it as they are.
      const added = hits.every((d) => d.added && this.isStatic(d.added)) ? hits.map((d) => d.added!).sort((a, b) => (before(a, b) ? -1 : 1)) : null;
      if (added && !tile.job && tile.shown && (!tile.top || before(tile.top, added[0]!))) {
        const ctx = tile.shown.getContext('2d') as TileContext;
        this.setTransform(ctx, tile);
        for (const el of added) this.drawOne(ctx, el);
        ctx.globalAlpha = 1;
        tile.top = added.at(-1)!;
      } else if (added && tile.job?.elements && (!tile.job.elements.length || before(tile.job.elements.at(-1)!, added[0]!))) {
        // Being drawn: what was added on top is drawn last, without starting over (a busy board's
        // strokes would otherwise keep a big tile from ever finishing).
        tile.job.elements.push(...added);
      } else if (added && tile.job && !tile.job.elements) {
        // Not begun: it will find them in the index.
      } else this.restart(tile);
    }
  }

  private isStatic(el: Element): boolean {
    return !this.content.excluded.has(el.id);
  }

  /** Starts (again) drawing a tile from its first element. */
  private restart(tile: Tile): void {
    const partial = tile.job?.canvas;
    // A tile never finished keeps showing what it had drawn (rather than going blank) until redrawn.
    if (partial && !tile.shown && !tile.empty && tile.job!.next > 0) tile.shown = partial;
    else if (partial) this.recycle(partial);
    tile.job = { canvas: null, ctx: null, elements: null, next: 0 };
  }

  /** Finds what a tile shows and gets its bitmap ready: false when it shows nothing (then it is done). */
  private begin(tile: Tile, job: Job): job is Job & { canvas: TileCanvas; ctx: TileContext; elements: Element[] } {
    const elements = this.elementsOf(tile);
    if (!elements.length) {
      // Nothing there: no bitmap at all, the background is drawn.
      if (tile.shown) this.recycle(tile.shown);
      tile.shown = null;
      tile.empty = true;
      tile.top = null;
      tile.job = null;
      return false;
    }
    const canvas = this.pool.pop() ?? createTileCanvas();
    // Read back a pixel per chunk (below): a canvas kept on the CPU, as Chrome would switch it to anyway.
    const ctx = canvas.getContext('2d', { alpha: false, willReadFrequently: true }) as TileContext | null;
    if (!ctx) throw new Error('This browser cannot draw the board (no 2D canvas).');
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = 1;
    ctx.fillStyle = this.background;
    ctx.fillRect(0, 0, TILE, TILE);
    this.setTransform(ctx, tile);
    job.canvas = canvas;
    job.ctx = ctx;
    job.elements = elements;
    return true;
  }

  /** The stored, not excluded elements a tile shows, in paint order (invisibly small ones left out). */
  private elementsOf(tile: Tile): Element[] {
    const { byId, order } = this.content;
    const pad = 2 / tile.level;
    const minSize = (0.5 * this.dpr) / tile.level;
    const area = { minX: tile.box.minX - pad, minY: tile.box.minY - pad, maxX: tile.box.maxX + pad, maxY: tile.box.maxY + pad };
    const { elements } = this.content;
    const keep = (el: Element) => {
      if (!this.isStatic(el)) return false;
      const b = boundsOf(el);
      return b.maxX - b.minX >= minSize || b.maxY - b.minY >= minSize || (el.type === 'text' && !!el.containerId);
    };
    if (this.index.isBroad(area)) {
      // A tile over most of the board (zoomed far out): one pass in paint order, nothing to sort.
      const found: Element[] = [];
      for (const { id } of elements) {
        const b = this.index.boxOf(id);
        const el = byId.get(id)!;
        if (b && intersects(b, area) && keep(el)) found.push(el);
      }
      return found;
    }
    const at: number[] = [];
    for (const id of this.index.query(area)) {
      const el = byId.get(id);
      if (el && keep(el)) at.push(order.get(id)!);
    }
    // Paint order: positions sorted as numbers (a typed sort), not elements by looked-up keys.
    // (`byId` holds the version already drawn when the server echoed an equal copy: its paths are cached.)
    return Array.from(Int32Array.from(at).sort(), (i) => byId.get(elements[i]!.id)!);
  }

  private readonly lookup: Lookup = (id) => this.content.byId.get(id);

  private drawOne(ctx: Ctx, el: Element): void {
    drawElement(ctx, el, this.content.faded.has(el.id) ? 0.25 : 1, false, this.lookup);
  }

  private setTransform(ctx: Ctx, tile: Tile): void {
    ctx.setTransform(tile.level, 0, 0, tile.level, -tile.i * TILE, -tile.j * TILE);
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
  }

  /** Draws more of a tile until `deadline`; true when it is finished. */
  private work(tile: Tile, deadline: number): boolean {
    const job = tile.job;
    if (!job) return true;
    if (!job.elements && !this.begin(tile, job)) return true;
    const { elements, ctx } = job;
    if (!elements || !ctx || !job.canvas) return true;
    // The canvas records calls and rasterizes them later, when its pixels are needed: drawn in
    // chunks sized by the measured cost per element, each rasterized (a 1-pixel read) before the
    // clock is read, so the budget counts the real work. At least one element a frame, so a tile
    // is finished however busy the frames are.
    // Chunks start small, at most double and stay under MAX_CHUNK, and the cost taken is the worse of
    // the last chunk's and the average: elements that cost far more than the ones before (big text
    // at a new size, a huge fill) overrun the budget by one small chunk at most.
    let now = performance.now();
    let most = 4;
    do {
      const n = Math.max(1, Math.min(elements.length - job.next, most, Math.floor((deadline - now) / this.costPerElement)));
      for (let end = job.next + n; job.next < end; ) this.drawOne(ctx, elements[job.next++]!);
      ctx.globalAlpha = 1;
      ctx.getImageData(0, 0, 1, 1);
      const after = performance.now();
      const last = (after - now) / n;
      this.costPerElement = Math.min(5, Math.max(0.002, last, 0.7 * this.costPerElement + 0.3 * last));
      most = Math.min(MAX_CHUNK, 2 * n);
      now = after;
    } while (job.next < elements.length && now < deadline);
    if (job.next < elements.length) return false;
    if (tile.shown) this.recycle(tile.shown);
    tile.shown = job.canvas;
    tile.empty = false;
    tile.top = elements.at(-1) ?? null;
    tile.job = null;
    return true;
  }

  private recycle(canvas: TileCanvas): void {
    if (this.pool.length < POOL) this.pool.push(canvas);
  }

  private tileAt(level: number, i: number, j: number): Tile {
    const key = `${level}|${i}|${j}`;
    let tile = this.tiles.get(key);
    if (!tile) {
      const side = TILE / level;
      tile = { key, level, i, j, box: { minX: i * side, minY: j * side, maxX: (i + 1) * side, maxY: (j + 1) * side }, shown: null, empty: false, top: null, job: null, usedAt: 0 };
      this.tiles.set(key, tile);
      this.restart(tile);
    }
    tile.usedAt = this.frame;
    return tile;
  }

  /** The columns and rows of tiles at `level` over the world box `view`. */
  private range(level: number, view: Box, ring = 0): [number, number, number, number] {
    return [
      Math.floor((view.minX * level) / TILE) - ring,
      Math.floor((view.minY * level) / TILE) - ring,
      Math.ceil((view.maxX * level) / TILE) - 1 + ring,
      Math.ceil((view.maxY * level) / TILE) - 1 + ring,
    ];
  }

  /**
   * Draws tiles within the frame's budget and composites the static layer onto `ctx` (a `width` x
   * `height` CSS pixel canvas at `dpr`) for the camera `v`.
   */
  paint(ctx: CanvasRenderingContext2D, v: { x: number; y: number; zoom: number }, width: number, height: number, now: number): TilesFrame {
    this.frame++;
    if (this.lastBusy) {
      // The last frame asked for this one: a late one means frames are being missed.
      this.budget = now - this.lastPaint > LATE_MS ? Math.max(MIN_BUDGET_MS, this.budget * 0.6) : Math.min(this.budgetMs, this.budget + 0.5);
    }
    this.lastPaint = now;
    const start = performance.now();
    const deadline = start + this.budget;
    const dpr = this.dpr;
    const k = v.zoom * dpr;
    this.applyDirty();

    // Which level: the exact one once the zoom rests; while zooming, the last one scaled (within bounds).
    if (k !== this.lastLevel) {
      if (this.lastLevel !== 0) this.zoomedAt = now;
      this.lastLevel = k;
    }
    const resting = now - this.zoomedAt >= SETTLE_MS;
    let level = this.level;
    if (level === null || resting || k / level > MAX_SCALE || level / k > MAX_SCALE) level = k;
    if (level !== this.level) {
      // The last level that covered the screen stands in while this one is drawn.
      const stand = this.sharp ?? this.level;
      this.previous = stand === level ? null : stand;
      // The new level's tiles are drawn from what the board is now: nothing to draw over them.
      this.pending.clear();
      this.pendingBitmap = null;
      this.level = level;
    }
    const scale = k / level;
    const view = { minX: v.x, minY: v.y, maxX: v.x + width / v.zoom, maxY: v.y + height / v.zoom };

    // Tiles of the screen first (blank ones before stale ones), then a ring around it once idle.
    const [i0, j0, i1, j1] = this.range(level, view);
    const visible: Tile[] = [];
    for (let j = j0; j <= j1; j++) for (let i = i0; i <= i1; i++) visible.push(this.tileAt(level, i, j));
    const todo = visible.filter((t) => t.job).sort((a, b) => Number(!!a.shown || a.empty) - Number(!!b.shown || b.empty));
    let busy = false;
    for (const tile of todo) {
      if (performance.now() >= deadline && tile !== todo[0]) {
        busy = true;
        break;
      }
      if (!this.work(tile, deadline)) busy = true;
    }
    if (!busy && resting && performance.now() < deadline) {
      const [r0, s0, r1, s1] = this.range(level, view, 1);
      outer: for (let j = s0; j <= s1; j++) {
        for (let i = r0; i <= r1; i++) {
          if (i >= i0 && i <= i1 && j >= j0 && j <= j1) continue;
          const tile = this.tileAt(level, i, j);
          if (!tile.job) continue;
          if (performance.now() >= deadline || !this.work(tile, deadline)) {
            busy = true;
            break outer;
          }
        }
      }
    }

    // Composite: the background, the previous level where this one has gaps, then this level.
    const ox = -v.x * k;
    const oy = -v.y * k;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = 1;
    ctx.fillStyle = this.background;
    const gaps = visible.filter((t) => !t.shown && !t.empty).map((t) => t.box);
    // Opaque tiles cover the screen: the background is filled only where they leave it showing.
    if (gaps.length || scale !== 1) ctx.fillRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    else for (const t of visible) if (!t.shown) this.blit(ctx, null, t, 1, Math.round(ox), Math.round(oy));
    if (!gaps.length) this.sharp = level;
    let covered = false;
    if (gaps.length && this.previous !== null) {
      const p = this.previous;
      const [a0, b0, a1, b1] = this.range(p, view);
      if ((a1 - a0 + 1) * (b1 - b0 + 1) <= 4 * this.maxTiles(width, height)) {
        for (let j = b0; j <= b1; j++) {
          for (let i = a0; i <= a1; i++) {
            const tile = this.tiles.get(`${p}|${i}|${j}`);
            // Only where this level has gaps (software scaling costs as much as the pixels it covers).
            if (!tile?.shown || !gaps.some((g) => intersects(g, tile.box))) continue;
            tile.usedAt = this.frame;
            this.blit(ctx, tile.shown, tile, k / p, ox, oy);
            covered = true;
          }
        }
      }
    }
    const snapped = scale === 1;
    const sx = snapped ? Math.round(ox) : ox;
    const sy = snapped ? Math.round(oy) : oy;
    for (const tile of visible) {
      const bitmap = tile.shown ?? (!covered ? (tile.job?.canvas ?? null) : null);
      if (bitmap) this.blit(ctx, bitmap, tile, scale, sx, sy);
    }
    ctx.imageSmoothingEnabled = true;
    this.evict(width, height);
    this.lastBusy = busy;
    return {
      camera: snapped ? { x: -sx / k, y: -sy / k, zoom: v.zoom } : v,
      busy,
      settleIn: resting ? (level === k ? null : 0) : SETTLE_MS - (now - this.zoomedAt),
    };
  }

  /** Copies a tile onto the screen, edges on whole device pixels (neighbours meet without seams). */
  private blit(ctx: CanvasRenderingContext2D, bitmap: TileCanvas | null, tile: Tile, scale: number, ox: number, oy: number): void {
    const x0 = Math.round(tile.i * TILE * scale + ox);
    const y0 = Math.round(tile.j * TILE * scale + oy);
    const x1 = Math.round((tile.i + 1) * TILE * scale + ox);
    const y1 = Math.round((tile.j + 1) * TILE * scale + oy);
    if (x1 <= 0 || y1 <= 0 || x0 >= ctx.canvas.width || y0 >= ctx.canvas.height) return;
    if (!bitmap) {
      // An empty tile: the background.
      ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
      return;
    }
    ctx.imageSmoothingEnabled = scale !== 1;
    ctx.drawImage(bitmap, x0, y0, x1 - x0, y1 - y0);
  }

  /**
   * Changed elements drawn over the tiles that do not show them yet (drawn a few per frame), so an
   * edit shows at once; `ctx` is set to the camera.
   */
  drawPending(ctx: Ctx, view: Box): void {
    if (!this.pending.size || this.level === null) return;
    const stale = [...this.tiles.values()].filter((t) => t.job && t.level === this.level && (t.shown || t.empty));
    if (!stale.length && ![...this.tiles.values()].some((t) => t.job && t.level === this.level)) {
      this.pending.clear();
      this.pendingBitmap = null;
      return;
    }
    const { byId, order } = this.content;
    const all: Element[] = [];
    for (const id of this.pending) {
      const el = byId.get(id);
      if (el && this.isStatic(el)) all.push(el);
    }
    all.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    if (all.length > MIN_CACHED_MOVING) {
      // Many (a dropped selection): drawn once into a bitmap, copied each frame until the tiles have them.
      let cached = this.pendingBitmap;
      if (!cached || cached.version !== this.pendingVersion || cached.level !== this.level || (cached.bitmap.clipped && !inside(view, cached.bitmap.region))) {
        const bounds = all.map(boundsOf).reduce(union);
        const bitmap = renderBitmap(bounds, this.level, around(view), (c) => all.forEach((el) => this.drawOne(c, el)), cached?.bitmap.canvas);
        cached = this.pendingBitmap = bitmap && { bitmap, version: this.pendingVersion, level: this.level };
      }
      if (cached) blitBitmap(ctx, cached.bitmap, cached.bitmap.scale !== ctx.getTransform().a);
      return;
    }
    for (const el of all) {
      const box = boundsOf(el);
      if (intersects(box, view) && stale.some((t) => intersects(t.box, box))) this.drawOne(ctx, el);
    }
    ctx.globalAlpha = 1;
  }

  private maxTiles(width: number, height: number): number {
    const across = Math.ceil((width * this.dpr) / TILE) + 3;
    const down = Math.ceil((height * this.dpr) / TILE) + 3;
    return Math.max(MIN_TILES, 2 * across * down);
  }

  /** Drops the least recently used tiles beyond the bound (never one used by this frame). */
  private evict(width: number, height: number): void {
    const max = this.maxTiles(width, height);
    if (this.tiles.size <= max) return;
    const old = [...this.tiles.values()].filter((t) => t.usedAt < this.frame).sort((a, b) => a.usedAt - b.usedAt);
    for (const tile of old.slice(0, this.tiles.size - max)) {
      this.tiles.delete(tile.key);
      if (tile.shown) this.recycle(tile.shown);
      if (tile.job?.canvas) this.recycle(tile.job.canvas);
    }
  }

  /** Tiles held and those with a bitmap (tests and the benchmark read them). */
  stats(): { tiles: number; bitmaps: number; drawing: number } {
    let bitmaps = 0;
    let drawing = 0;
    for (const t of this.tiles.values()) {
      if (t.shown) bitmaps++;
      if (t.job) drawing++;
      if (t.job?.canvas) bitmaps++;
    }
    return { tiles: this.tiles.size, bitmaps, drawing };
  }
}

function createTileCanvas(): TileCanvas {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(TILE, TILE);
  const c = document.createElement('canvas');
  c.width = TILE;
  c.height = TILE;
  return c;
}
