import type { Box } from '@inkboard/protocol';
import { drawDynamicLayer, setCamera, type Scene } from './renderScene.js';
import { MovingLayer } from './MovingLayer.js';
import { StaticTiles } from './StaticTiles.js';
import { visibleBox } from './viewport.js';

/**
 * Redraws the board canvas at most once per animation frame, and only after something changed (or
 * while tiles are still being drawn). A change never cancels the frame already requested, so a
 * steady stream of changes cannot starve it.
 *
 * The stored elements are kept as tiles (StaticTiles.ts): panning copies them, zooming scales them
 * until the zoom rests, an edit redraws only the tiles it touches, and no frame blocks on drawing
 * the whole board. Shapes in progress, a dragged selection and selection outlines are drawn over
 * them every frame; a big selection being dragged or transformed moves as one bitmap (MovingLayer.ts).
 */
export class CanvasRenderer {
  private scene: Scene | null = null;
  private width = 0;
  private height = 0;
  private frame = 0;
  private readonly tiles = new StaticTiles();
  private readonly moving = new MovingLayer();
  private settleTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly canvas: HTMLCanvasElement) {
    // Texts drawn into tiles before their font arrived were drawn in a fallback font: redrawn once it is in.
    document.fonts?.addEventListener('loadingdone', this.fontsLoaded);
  }

  private readonly fontsLoaded = () => this.invalidateAll();

  update(scene: Scene, width: number, height: number): void {
    this.scene = scene;
    this.width = width;
    this.height = height;
    this.request();
  }

  /**
   * Redraws what the board shows within `box` (world units) although no element changed: something an
   * element draws became ready (an image finished loading). Cheap: only the tiles over `box` are redrawn.
   */
  invalidate(box: Box): void {
    this.tiles.invalidate(box);
    this.request();
  }

  /** Redraws everything the board shows (for example after a font finished loading). */
  invalidateAll(): void {
    this.tiles.invalidateAll();
    this.request();
  }

  /** How many tiles are held, have a bitmap, and are being drawn (tests read it). */
  tileStats(): { tiles: number; bitmaps: number; drawing: number } {
    return this.tiles.stats();
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    document.fonts?.removeEventListener('loadingdone', this.fontsLoaded);
    this.tiles.clear();
    this.moving.clear();
  }

  private request(): void {
    this.frame ||= requestAnimationFrame((now) => this.draw(now));
  }

  private draw(now: number): void {
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

    this.tiles.sync(scene, dpr);
    const painted = this.tiles.paint(ctx, scene.viewport, width, height, now);
    // The dynamic layer on the same device pixels as the tiles (the camera moved by under half a pixel).
    const camera = painted.camera;
    const view = visibleBox(camera, width, height);
    setCamera(ctx, camera, dpr);
    this.tiles.drawPending(ctx, view);
    drawDynamicLayer(ctx, { ...scene, viewport: camera }, view, (c) => this.moving.draw(c, scene, camera, dpr, view));

    if (painted.busy) this.request();
    if (painted.settleIn !== null) {
      if (this.settleTimer) clearTimeout(this.settleTimer);
      this.settleTimer = setTimeout(() => {
        this.settleTimer = null;
        this.request();
      }, painted.settleIn + 1);
    }
  }
}
