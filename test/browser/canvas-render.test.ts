import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, renderSvg, type Element } from '@inkboard/protocol';
import { connect, pushPatiently, type TestServer } from '../helpers/server.js';
import { canvasOf, elementCount, launchBrowser, newPerson, screenshots, startWebServer, waitForSummary, type Person } from './helpers.js';

/*
 * The canvas and the SVG export draw the same picture (issue 14): rotation, text alignment and font
 * families, a label centred and wrapped in its (turned) container, a sticky note, an arrow bound to
 * two shapes with several points. The board is opened at a known viewport; the export of the same
 * region is drawn into a canvas of the same size in the same browser, and the inked pixels compared.
 */

const style = { strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
function board(): Element[] {
  const els: Omit<Element, 'z'>[] = [
    { type: 'rectangle', id: 'box', x: 80, y: 60, ...style, width: 220, height: 120, fillColor: '#a5d8ff', angle: 0.35 },
    { type: 'text', id: 'label', x: 0, y: 0, ...style, text: 'A label that wraps in its box', fontSize: 20, containerId: 'box' },
    { type: 'ellipse', id: 'oval', x: 520, y: 40, ...style, width: 180, height: 130, fillColor: 'transparent' },
    { type: 'text', id: 'ovalLabel', x: 0, y: 0, ...style, text: 'Oval', fontSize: 28, containerId: 'oval', fontFamily: 'mono' },
    {
      type: 'arrow', id: 'arrow', x: 0, y: 0, ...style, strokeWidth: 3, points: [[0, 0], [380, 300], [520, 100]],
      startBinding: { elementId: 'box', fixedPoint: [1, 0.5] }, endBinding: { elementId: 'oval', fixedPoint: [0, 0.5] },
    },
    { type: 'note', id: 'note', x: 60, y: 300, ...style, width: 240, height: 200, fillColor: '#ffec99', text: 'Sticky note: wrapped text, centred', fontSize: 22, textAlign: 'center' },
    { type: 'text', id: 'right', x: 420, y: 380, ...style, text: 'right\naligned', fontSize: 30, textAlign: 'right', fontFamily: 'hand' },
    { type: 'text', id: 'turned', x: 600, y: 300, ...style, text: 'turned', fontSize: 36, angle: -0.5 },
    { type: 'line', id: 'line', x: 420, y: 470, ...style, strokeWidth: 4, points: [[0, 0], [150, 40], [300, 0]], angle: 0.4 },
  ];
  return els.map((el, i) => ({ ...el, z: `a${i}` }) as Element);
}

describe('canvas and export', () => {
  let server: TestServer;
  let browser: Browser;
  let person: Person | undefined;

  beforeAll(async () => {
    server = await startWebServer();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.destroy();
  });

  it('draw rotation, alignment, fonts, labels, notes and bound arrows alike', async ({ onTestFailed }) => {
    onTestFailed(async () => void (await screenshots(person ? [person] : [], 'failed-canvas-render')));
    const client = connect(server.url, 'painter');
    const { id: boardId } = await client.trpc.board.create.mutate({ title: 'Render' });
    const elements = board();
    await pushPatiently(client, boardId, [{ type: 'add', opId: newId(), elements }]);
    await client.close();

    person = await newPerson(browser, 'painter', { width: 1000, height: 700 });
    const { page } = person;
    const viewport = { x: 0, y: 0, zoom: 1 };
    await page.addInitScript(([key, value]) => localStorage.setItem(key, value), [`inkboard:viewport:${boardId}`, JSON.stringify(viewport)] as const);
    await page.goto(`${server.url}/b/${boardId}`);
    await page.getByLabel('Username').fill('painter');
    await page.getByLabel('Password').fill('password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await waitForSummary(page, (s) => elementCount(s) === elements.length, 'the board to load');
    await page.mouse.move(1, 1); // no hover outline over an element
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));

    const rect = await canvasOf(page).boundingBox();
    expect(rect).not.toBeNull();
    const view = { minX: viewport.x, minY: viewport.y, maxX: viewport.x + rect!.width / viewport.zoom, maxY: viewport.y + rect!.height / viewport.zoom };
    const svg = renderSvg(elements, { bounds: view, padding: 0, background: '#ffffff' });

    const result = await canvasOf(page).evaluate(async (canvas, svgText) => {
      if (!(canvas instanceof HTMLCanvasElement)) throw new Error('not a canvas');
      const w = canvas.width;
      const h = canvas.height;
      const shown = canvas.getContext('2d')!.getImageData(0, 0, w, h).data;
      const img = new Image();
      img.src = URL.createObjectURL(new Blob([svgText], { type: 'image/svg+xml' }));
      await img.decode();
      const off = new OffscreenCanvas(w, h);
      const ctx = off.getContext('2d')!;
      ctx.drawImage(img, 0, 0, w, h);
      const exported = ctx.getImageData(0, 0, w, h).data;
      const inked = (d: Uint8ClampedArray, i: number) => d[i]! < 200 || d[i + 1]! < 200 || d[i + 2]! < 200;
      // Inked pixels of each, and those inked in one but not within 2 device pixels in the other
      // (anti-aliasing and sub-pixel placement differ a little).
      const near = (d: Uint8ClampedArray, x: number, y: number) => {
        for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx >= 0 && yy >= 0 && xx < w && yy < h && inked(d, (yy * w + xx) * 4)) return true;
        }
        return false;
      };
      let a = 0;
      let b = 0;
      let onlyShown = 0;
      let onlyExported = 0;
      for (let y = 0; y < h; y += 2) {
        for (let x = 0; x < w; x += 2) {
          const i = (y * w + x) * 4;
          const s = inked(shown, i);
          const e = inked(exported, i);
          if (s) a++;
          if (e) b++;
          if (s && !near(exported, x, y)) onlyShown++;
          if (e && !near(shown, x, y)) onlyExported++;
        }
      }
      return { shown: a, exported: b, onlyShown, onlyExported };
    }, svg);

    await screenshots([person], 'canvas-render');
    console.log(`[inkboard] canvas vs export: ${JSON.stringify(result)}`);
    expect(result.shown).toBeGreaterThan(5_000);
    expect(result.exported / result.shown).toBeGreaterThan(0.9);
    expect(result.exported / result.shown).toBeLessThan(1.1);
    expect(result.onlyShown / result.shown).toBeLessThan(0.03);
    expect(result.onlyExported / result.exported).toBeLessThan(0.03);
    expect(person.errors).toEqual([]);
  }, 90_000);
});
