import { deepEqual, type Box, type Element } from '@inkboard/protocol';
import { drawDynamicLayer, drawStaticLayer, setCamera, type Scene } from './renderScene.js';
import { visibleBox } from './viewport.js';

/** Extra room around the screen kept in the cached layer, as a share of the screen's longer side. */
const MARGIN = 0.35;
/** After zooming stops for this long, the scaled (blurry) layer is redrawn sharp. */
const SETTLE_MS = 140;

type LayerCanvas = HTMLCanvasElement | OffscreenCanvas;
type LayerContext = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

/** The board's stored elements drawn once into a bitmap a bit larger than the screen. */
interface Layer {
  canvas: LayerCanvas;
  ctx: LayerContext;
  /** What it shows: redrawn when any of these change. */
  elements: Scene['elements'];
  hidden: ReadonlySet<string>;
  faded: ReadonlySet<string>;
  moving: ReadonlySet<string> | null;
  background: string;
  dpr: number;
  /** World position of its top-left corner, its zoom, and its size in CSS pixels. */
  x: number;
  y: number;
  zoom: number;
  width: number;
  height: number;
}

/** The same element version: the same object, or an equal copy (the server's echo of one's own op). */
const sameElement = (a: Element, b: Element) => a === b || (a.id === b.id && deepEqual(a, b));

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>) => a === b || (a.size === b.size && [...a].every((id) => b.has(id)));

/**
 * Redraws the board canvas at most once per animation frame, and only after something changed. A
 * change never cancels the frame already requested, so a steady stream of changes cannot starve it.
 *
 * The stored elements are kept in a cached layer: panning only copies it, zooming scales it until the
 * zoom settles, and it is redrawn when the board changes or the view leaves it. Shapes in progress,
 * a dragged selection and selection outlines are drawn over it every frame.
 */
export class CanvasRenderer {
  private scene: Scene | null = null;
  private width = 0;
  private height = 0;
  private frame = 0;
  private layer: Layer | null = null;
  private settleTimer: ReturnType<typeof setTimeout> | null = null;
  private sharpNeeded = false;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  update(scene: Scene, width: number, height: number): void {
    this.scene = scene;
    this.width = width;
    this.height = height;
    this.request();
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.layer = null;
  }

  private request(): void {
    this.frame ||= requestAnimationFrame(() => this.draw());
  }

  private draw(): void {
    this.frame = 0;
    const { canvas, scene, width, height } = this;
    if (!scene || !width || !height) return;
    const dpr = window.devicePixelRatio || 1;
    const pw = Math.round(width * dpr);
    const ph = Math.round(height * dpr);
    if (canvas.width !== pw || canvas.height !== ph) {
      canvas.width = pw;
      canvas.height = ph;
    }
    const ctx = canvas.getContext('2d', { alpha: false });
    if (!ctx) return;
    const v = scene.viewport;
    const view = visibleBox(v, width, height);

    let layer = this.layer;
    let fresh = layer !== null && this.showsSame(layer, scene, dpr);
    if (layer && !fresh && layer.zoom === v.zoom && covers(layer, view) && this.appendTo(layer, scene, dpr)) fresh = true;
    if (!fresh || !layer || !covers(layer, view) || (layer.zoom !== v.zoom && this.sharpNeeded)) {
      layer = this.redrawLayer(scene, width, height, dpr);
      this.sharpNeeded = false;
    } else if (layer.zoom !== v.zoom) {
      // Zooming: scale the cached layer now, draw it sharp once the zoom rests.
      if (this.settleTimer) clearTimeout(this.settleTimer);
      this.settleTimer = setTimeout(() => {
        this.sharpNeeded = true;
        this.request();
      }, SETTLE_MS);
    }

    // Copy the layer, on whole device pixels when not scaled (no resampling blur).
    const scale = v.zoom / layer.zoom;
    let sx = (layer.x - v.x) * v.zoom * dpr;
    let sy = (layer.y - v.y) * v.zoom * dpr;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = 1;
    if (scale === 1) {
      sx = Math.round(sx);
      sy = Math.round(sy);
      ctx.imageSmoothingEnabled = false;
    } else {
      ctx.fillStyle = scene.background;
      ctx.fillRect(0, 0, pw, ph);
      ctx.imageSmoothingEnabled = true;
    }
    ctx.drawImage(layer.canvas, sx, sy, layer.canvas.width * scale, layer.canvas.height * scale);
    ctx.imageSmoothingEnabled = true;

    setCamera(ctx, v, dpr);
    drawDynamicLayer(ctx, scene, view);
  }

  private showsSame(layer: Layer, scene: Scene, dpr: number): boolean {
    return (
      layer.elements === scene.elements &&
      layer.dpr === dpr &&
      layer.background === scene.background &&
      sameSet(layer.hidden, scene.hidden) &&
      sameSet(layer.faded, scene.faded) &&
      (layer.moving ?? null) === (scene.moving?.ids ?? null)
    );
  }

  /**
   * New elements on top of an otherwise unchanged board (the usual case: someone finished a stroke)
   * are drawn onto the layer as they are, without redrawing what is under them.
   */
  private appendTo(layer: Layer, scene: Scene, dpr: number): boolean {
    const before = layer.elements;
    const after = scene.elements;
    if (after.length <= before.length || !this.showsSame({ ...layer, elements: after }, scene, dpr)) return false;
    for (let i = 0; i < before.length; i++) if (!sameElement(before[i]!, after[i]!)) return false;
    const camera = { x: layer.x, y: layer.y, zoom: layer.zoom };
    setCamera(layer.ctx, camera, dpr);
    drawStaticLayer(layer.ctx, { ...scene, elements: after.slice(before.length), viewport: camera }, visibleBox(camera, layer.width, layer.height));
    this.layer = { ...layer, elements: after };
    return true;
  }

  private redrawLayer(scene: Scene, width: number, height: number, dpr: number): Layer {
    const v = scene.viewport;
    const margin = Math.round(Math.max(width, height) * MARGIN);
    const lw = width + 2 * margin;
    const lh = height + 2 * margin;
    let layer = this.layer;
    if (!layer || layer.canvas.width !== Math.round(lw * dpr) || layer.canvas.height !== Math.round(lh * dpr)) {
      const c = createLayerCanvas(Math.round(lw * dpr), Math.round(lh * dpr));
      const ctx = c.getContext('2d', { alpha: false }) as LayerContext | null;
      if (!ctx) throw new Error('This browser cannot draw the board (no 2D canvas).');
      layer = { canvas: c, ctx, elements: [], hidden: new Set(), faded: new Set(), moving: null, background: '', dpr, x: 0, y: 0, zoom: 1, width: lw, height: lh };
    }
    const next: Layer = {
      ...layer,
      elements: scene.elements,
      hidden: scene.hidden,
      faded: scene.faded,
      moving: scene.moving?.ids ?? null,
      background: scene.background,
      dpr,
      x: v.x - margin / v.zoom,
      y: v.y - margin / v.zoom,
      zoom: v.zoom,
      width: lw,
      height: lh,
    };
    const { ctx } = next;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = 1;
    ctx.fillStyle = scene.background;
    ctx.fillRect(0, 0, next.canvas.width, next.canvas.height);
    const camera = { x: next.x, y: next.y, zoom: v.zoom };
    setCamera(ctx, camera, dpr);
    drawStaticLayer(ctx, { ...scene, viewport: camera }, visibleBox(camera, lw, lh));
    this.layer = next;
    return next;
  }
}

/** Whether the layer (at its own zoom) holds everything in the world box `view`. */
function covers(layer: Layer, view: Box): boolean {
  const right = layer.x + layer.width / layer.zoom;
  const bottom = layer.y + layer.height / layer.zoom;
  const eps = 1e-6;
  return view.minX >= layer.x - eps && view.minY >= layer.y - eps && view.maxX <= right + eps && view.maxY <= bottom + eps;
}

function createLayerCanvas(width: number, height: number): LayerCanvas {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  return c;
}
