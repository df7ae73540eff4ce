import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { Element, Image } from '@inkboard/protocol';
import { pngBomb } from '../helpers/images.js';
import type { TestServer } from '../helpers/server.js';
import {
  boardSummary,
  canvasOf,
  canvasPoint,
  kindCount,
  launchBrowser,
  newPerson,
  pixelAt,
  screenshotSteps,
  shareNewBoard,
  signUp,
  startWebServer,
  waitForSummary,
  waitUntil,
  type Person,
} from './helpers.js';

/** A picture made in the page: a PNG of one colour. */
interface Picture {
  name: string;
  color: string;
  width: number;
  height: number;
}

/** Makes the pictures in the page and hands them to the board as a paste (Ctrl+V of a screenshot) or a drop at (x, y). */
async function givePictures(page: Page, pictures: Picture[], how: { paste: true } | { drop: [number, number] } | { raw: string }): Promise<void> {
  await page.evaluate(
    async ([pictures, how]) => {
      const data = new DataTransfer();
      if ('raw' in how) data.items.add(new File([how.raw], 'fake.png', { type: 'image/png' }));
      for (const p of pictures) {
        const canvas = new OffscreenCanvas(p.width, p.height);
        const ctx = canvas.getContext('2d')!;
        ctx.fillStyle = p.color;
        ctx.fillRect(0, 0, p.width, p.height);
        data.items.add(new File([await canvas.convertToBlob({ type: 'image/png' })], p.name, { type: 'image/png' }));
      }
      if ('drop' in how) {
        const canvas = document.querySelector('canvas[aria-label="Board canvas"]')!;
        const r = canvas.getBoundingClientRect();
        canvas.dispatchEvent(new DragEvent('drop', { dataTransfer: data, clientX: r.left + how.drop[0], clientY: r.top + how.drop[1], bubbles: true, cancelable: true }));
      } else document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    },
    [pictures, how] as const,
  );
}

/** How many pixels of a PNG (bytes) are close to the colour (decoded in the page). */
async function pixelsOfColor(page: Page, png: Buffer, rgb: [number, number, number]): Promise<number> {
  return page.evaluate(
    async ([b64, [r, g, b]]) => {
      const image = new Image();
      image.src = `data:image/png;base64,${b64}`;
      await image.decode();
      const canvas = new OffscreenCanvas(image.naturalWidth, image.naturalHeight);
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(image, 0, 0);
      const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i]! - r) < 30 && Math.abs(d[i + 1]! - g) < 30 && Math.abs(d[i + 2]! - b) < 30) n++;
      return n;
    },
    [png.toString('base64'), rgb] as const,
  );
}

const RED = '#ff0000';
const isRed = ([r, g, b]: number[]) => r! > 200 && g! < 60 && b! < 60;
const isBlue = ([r, g, b]: number[]) => r! < 60 && g! < 60 && b! > 200;
const isGreen = ([r, g, b]: number[]) => r! < 60 && g! > 200 && b! < 60;
const isYellow = ([r, g, b]: number[]) => r! > 200 && g! > 200 && b! < 60;

/**
 * Images with two people on one board: paste, resize with the aspect kept, undo, exports, drop,
 * offline paste, a refused file and a copy to another board. The steps build on each other, in order.
 */
describe('images in the browser', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Person;
  let bob: Person;
  let boardId = '';
  const stored = (board = boardId): Element[] => [...(server.app.boards.service.peek(board)?.elements.values() ?? [])];
  const images = (board = boardId): Image[] => stored(board).filter((el): el is Image => el.type === 'image');
  const point = canvasPoint;

  beforeAll(async () => {
    server = await startWebServer();
    browser = await launchBrowser();
    alice = await newPerson(browser, 'alice');
    bob = await newPerson(browser, 'bob');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.destroy();
  });

  const step = screenshotSteps(() => [alice, bob], 'failed-images');

  step('two people on one board', async () => {
    await signUp(alice, server.url);
    boardId = await shareNewBoard(server.url, alice, bob);
  });

  step('a pasted picture is uploaded, placed at the pointer, and drawn for the other person', async () => {
    await alice.page.mouse.move(...(await point(alice.page, 400, 300)));
    await givePictures(alice.page, [{ name: 'red.png', color: RED, width: 200, height: 100 }], { paste: true });
    await waitUntil(() => images().length === 1, 'the image to be stored');
    const [image] = images();
    expect(image).toMatchObject({ x: 300, y: 250, width: 200, height: 100, naturalWidth: 200, naturalHeight: 100 });
    expect(image!.fileId).toMatch(/^[0-9a-f]{64}$/);
    await waitForSummary(bob.page, (s) => kindCount(s, 'image') === 1, 'bob’s board to list the image');
    // Drawn, not a placeholder: the canvas is red in its middle and near its corners, white outside.
    await waitUntil(async () => isRed(await pixelAt(bob.page, 400, 300)), 'bob to see the red picture');
    expect(isRed(await pixelAt(bob.page, 305, 255))).toBe(true);
    expect(isRed(await pixelAt(bob.page, 495, 345))).toBe(true);
    expect(isRed(await pixelAt(bob.page, 510, 300))).toBe(false);
    await waitUntil(async () => isRed(await pixelAt(alice.page, 400, 300)), 'alice to see it drawn too');
    // The progress placeholder is gone and the image is selected.
    expect(await alice.page.getByRole('progressbar').count()).toBe(0);
    await alice.page.locator('[data-handle="se"]').waitFor();
  });

  step('resizing keeps the aspect ratio (Shift frees it); each resize undoes', async () => {
    const { page } = alice;
    const handle = async (name: string) => {
      const box = (await page.locator(`[data-handle="${name}"]`).boundingBox())!;
      return [box.x + box.width / 2, box.y + box.height / 2] as const;
    };
    const [sx, sy] = await handle('se');
    await page.mouse.move(sx, sy);
    await page.mouse.down();
    await page.mouse.move(sx + 50, sy + 10, { steps: 4 });
    await page.mouse.move(sx + 100, sy + 30, { steps: 4 });
    await page.mouse.up();
    await waitUntil(() => images()[0]!.width !== 200, 'the resize to be stored');
    const resized = images()[0]!;
    expect(resized.width / resized.height).toBeCloseTo(2, 2);
    expect(resized.width).toBeCloseTo(300, 0);
    await waitUntil(async () => isRed(await pixelAt(bob.page, 580, 380)), 'bob to see the bigger picture');

    // Shift on a side handle: only the width changes.
    const [ex, ey] = await handle('e');
    await page.keyboard.down('Shift');
    await page.mouse.move(ex, ey);
    await page.mouse.down();
    await page.mouse.move(ex + 60, ey, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    await waitUntil(() => images()[0]!.width > resized.width + 30, 'the free resize to be stored');
    expect(images()[0]!.height).toBeCloseTo(resized.height, 1);

    await page.keyboard.press('Control+z');
    await waitUntil(() => images()[0]!.width === resized.width, 'the free resize undone');
    await page.keyboard.press('Control+z');
    await waitUntil(() => images()[0]!.width === 200 && images()[0]!.height === 100, 'the resize undone');
    await waitUntil(async () => !isRed(await pixelAt(bob.page, 580, 380)), 'bob to see it small again');
    // Undo of the paste removes it for both; redo brings it back.
    await page.keyboard.press('Control+z');
    await waitUntil(() => images().length === 0, 'the paste undone');
    await waitUntil(async () => !isRed(await pixelAt(bob.page, 400, 300)), 'bob to see the picture gone');
    await page.keyboard.press('Control+y');
    await waitUntil(() => images().length === 1, 'the paste redone');
    await waitUntil(async () => isRed(await pixelAt(bob.page, 400, 300)), 'bob to see the picture back');
  });

  step('PNG and SVG exports contain the picture', async () => {
    const { page } = alice;
    const exportAs = async (item: string) => {
      await page.getByRole('button', { name: 'Export' }).click();
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: item }).click()]);
      return readFileSync(await download.path());
    };
    const svg = (await exportAs('SVG')).toString('utf8');
    expect(svg).toMatch(/<image[^>]+href="data:image\/png;base64,[A-Za-z0-9+/=]{40,}"/);
    const png = await exportAs('PNG 1x');
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    // 200 x 100 red pixels (scaled by nothing at 1x), give or take the edges.
    expect(await pixelsOfColor(page, png, [255, 0, 0])).toBeGreaterThan(0.9 * 200 * 100);
  });

  step('dropped files are placed side by side where they are dropped', async () => {
    await givePictures(
      alice.page,
      [
        { name: 'blue.png', color: '#0000ff', width: 120, height: 80 },
        { name: 'yellow.png', color: '#ffff00', width: 80, height: 80 },
      ],
      { drop: [900, 550] },
    );
    await waitUntil(() => images().length === 3, 'both dropped images to be stored');
    const dropped = images()
      .filter((i) => i.naturalWidth !== 200)
      .sort((a, b) => a.x - b.x);
    expect(dropped.map((i) => [i.width, i.height])).toEqual([
      [120, 80],
      [80, 80],
    ]);
    expect(dropped[1]!.x).toBeGreaterThan(dropped[0]!.x + dropped[0]!.width);
    const middle = (dropped[0]!.x + dropped[1]!.x + dropped[1]!.width) / 2;
    expect(middle).toBeCloseTo(900, 0);
    await waitUntil(async () => isBlue(await pixelAt(bob.page, dropped[0]!.x + 60, 550)), 'bob to see the blue picture');
    await waitUntil(async () => isYellow(await pixelAt(bob.page, dropped[1]!.x + 40, 550)), 'bob to see the yellow picture');
  });

  step('the Image tool (key 9) opens a file picker; the picture goes to the middle of the view', async () => {
    const { page } = alice;
    const png = await page.evaluate(async () => {
      const canvas = new OffscreenCanvas(100, 100);
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = '#00ff00';
      ctx.fillRect(0, 0, 100, 100);
      const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
      return btoa(String.fromCharCode(...bytes));
    });
    // Key 9 and the toolbar's button open the picker (its click is counted here, and kept from opening a native dialog).
    const input = page.locator('input[type="file"][accept^="image/"]');
    expect(await input.getAttribute('multiple')).not.toBeNull();
    await input.evaluate((el) => {
      el.dataset.opened = '0';
      el.addEventListener('click', (e) => {
        el.dataset.opened = String(Number(el.dataset.opened) + 1);
        e.preventDefault();
      });
    });
    await page.keyboard.press('9');
    await page.getByRole('button', { name: 'Image', exact: true }).click();
    expect(await input.getAttribute('data-opened')).toBe('2');
    await input.setInputFiles({ name: 'green.png', mimeType: 'image/png', buffer: Buffer.from(png, 'base64') });
    await waitUntil(() => images().length === 4, 'the picked image to be stored');
    const green = images().find((i) => i.naturalWidth === 100 && i.naturalHeight === 100)!;
    const box = (await canvasOf(page).boundingBox())!;
    expect(green).toMatchObject({ x: box.width / 2 - 50, y: box.height / 2 - 50, width: 100, height: 100 });
    await waitUntil(async () => isGreen(await pixelAt(bob.page, box.width / 2, box.height / 2)), 'bob to see the green picture');

    // Duplicating keeps the file (no upload).
    await page.keyboard.press('Control+d');
    await waitUntil(() => images().length === 5, 'the duplicate to be stored');
    expect(new Set(images().filter((i) => i.naturalWidth === 100 && i.naturalHeight === 100).map((i) => i.fileId)).size).toBe(1);
    await page.keyboard.press('Control+z');
    await waitUntil(() => images().length === 4, 'the duplicate undone');
  });

  step('images turn, group and lock like any element, each undone', async () => {
    const { page } = alice;
    const red = () => images().find((i) => i.naturalWidth === 200)!;
    const green = () => images().find((i) => i.naturalWidth === 100 && i.naturalHeight === 100)!;
    await page.keyboard.press('Escape');
    await page.mouse.click(...(await point(page, 400, 300)));
    // A quarter turn from the keyboard (15 degrees a press) on the Rotate handle: bob sees it upright.
    await page.getByRole('button', { name: 'Rotate', exact: true }).focus();
    for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowRight');
    await waitUntil(() => Math.abs((red().angle ?? 0) - Math.PI / 2) < 1e-6, 'the quarter turn to be stored');
    await waitUntil(async () => isRed(await pixelAt(bob.page, 400, 390)) && !isRed(await pixelAt(bob.page, 480, 300)), 'bob to see the picture turned');
    await page.getByRole('button', { name: 'Rotate', exact: true }).blur();

    // Group with the green one, lock the group: a click no longer selects it.
    await page.keyboard.down('Shift');
    await page.mouse.click(...(await point(page, 640, 400)));
    await page.keyboard.up('Shift');
    await page.keyboard.press('Control+g');
    await waitUntil(() => (red().groupIds?.length ?? 0) === 1 && red().groupIds?.[0] === green().groupIds?.[0], 'the group to be stored');
    await page.keyboard.press('Control+Shift+l');
    await waitUntil(() => red().locked === true && green().locked === true, 'the lock to be stored');
    await page.keyboard.press('Escape');
    await page.mouse.click(...(await point(page, 640, 400)));
    expect(await page.locator('[data-handle="se"]').count()).toBe(0);

    // Lock, group and each of the six turns are a step each.
    for (let i = 0; i < 8; i++) await page.keyboard.press('Control+z');
    await waitUntil(() => !red().locked && !red().groupIds?.length && (red().angle ?? 0) === 0, 'lock, group and turn undone');
    await waitUntil(async () => isRed(await pixelAt(bob.page, 480, 300)), 'bob to see the picture flat again');
  });

  /** Alice goes offline and pastes a 100 x 60 picture at (x, 650): it waits with its placeholder. */
  const pasteOffline = async (name: string, color: string, x: number) => {
    const { page, context } = alice;
    await context.setOffline(true);
    await page.getByRole('status', { name: /Connection: (Offline|Reconnecting)/ }).waitFor();
    await page.mouse.move(...(await point(page, x, 650)));
    await givePictures(page, [{ name, color, width: 100, height: 60 }], { paste: true });
    await page.getByRole('progressbar', { name: `Uploading ${name}` }).waitFor();
  };

  step('a picture pasted offline waits with its placeholder and is placed on reconnect', async () => {
    const { page, context } = alice;
    const before = images().length;
    await pasteOffline('offline.png', '#ffff00', 250);
    await page.getByText('Waiting for the connection').waitFor();
    expect(images()).toHaveLength(before);
    await context.setOffline(false);
    await waitUntil(() => images().length === before + 1, 'the offline paste to be stored on reconnect', 30_000);
    await waitUntil(async () => isYellow(await pixelAt(bob.page, 250, 650)), 'bob to see the picture pasted offline', 30_000);
    await page.getByRole('progressbar').waitFor({ state: 'detached' });
  });

  /** Image files this origin keeps waiting for the connection (IndexedDB `inkboard`, store `images`). */
  const queuedImages = (page: Page) =>
    page.evaluate(
      () =>
        new Promise<number>((resolve, reject) => {
          const request = indexedDB.open('inkboard');
          request.onerror = () => reject(request.error);
          request.onsuccess = () => {
            const db = request.result;
            if (!db.objectStoreNames.contains('images')) return resolve(0);
            const count = db.transaction('images').objectStore('images').count();
            count.onsuccess = () => {
              db.close();
              resolve(count.result);
            };
          };
        }),
    );
  const isCyan = ([r, g, b]: number[]) => r! < 60 && g! > 200 && b! > 200;
  const isMagenta = ([r, g, b]: number[]) => r! > 200 && g! < 60 && b! > 200;

  step('a picture pasted offline is kept on the device: after a reload without the network it still waits, and is placed on reconnect', async () => {
    const { page, context } = alice;
    const before = images().length;
    // The app shell comes from the service worker when reloading without the network.
    await page.evaluate(async () => void (await navigator.serviceWorker.ready));
    await pasteOffline('kept.png', '#00ffff', 450);
    await waitUntil(async () => (await queuedImages(page)) === 1, 'the picture to be kept in IndexedDB');
    await page.reload();
    await page.getByRole('progressbar', { name: 'Uploading kept.png' }).waitFor({ timeout: 30_000 });
    await page.getByText('Waiting for the connection').waitFor();
    expect(images()).toHaveLength(before);
    await context.setOffline(false);
    await waitUntil(() => images().length === before + 1, 'the picture kept across the reload to be stored on reconnect', 30_000);
    await waitUntil(async () => isCyan(await pixelAt(bob.page, 450, 650)), 'bob to see the picture pasted before the reload', 30_000);
    await page.getByRole('progressbar').waitFor({ state: 'detached' });
    await waitUntil(async () => (await queuedImages(page)) === 0, 'the placed picture to leave IndexedDB');
    expect(images()).toHaveLength(before + 1);
  });

  step('a picture pasted offline on a board no tab has open is uploaded and placed from the board list when the network returns', async () => {
    const { page, context } = alice;
    const before = images().length;
    await pasteOffline('away.png', '#ff00ff', 650);
    await waitUntil(async () => (await queuedImages(page)) === 1, 'the picture to be kept in IndexedDB');
    await page.goto(`${server.url}/`);
    // The picture counts as unsent (with any of the board's confirmed ops its copy has not stored yet).
    await page.getByRole('list', { name: 'Boards available offline' }).getByText(/\d+ unsent/).waitFor();
    await context.setOffline(false);
    await waitUntil(() => images().length === before + 1, 'the picture to be stored and placed from the board list', 30_000);
    await waitUntil(async () => (await queuedImages(page)) === 0, 'the placed picture to leave IndexedDB');
    expect(new URL(page.url()).pathname).toBe('/');
    await waitUntil(async () => isMagenta(await pixelAt(bob.page, 650, 650)), 'bob to see the picture where it was pasted', 30_000);
    await page.goto(`${server.url}/b/${boardId}`);
    await page.getByRole('status', { name: /Connection: Live, all changes saved/ }).waitFor();
    await waitForSummary(page, (s) => kindCount(s, 'image') === before + 1, 'the picture on the board, once');
  });

  step('a file that is not a picture is refused with the server’s message and leaves nothing', async () => {
    const { page } = alice;
    const before = images().length;
    await page.mouse.move(...(await point(page, 900, 200)));
    await givePictures(page, [], { raw: 'this is not a picture at all' });
    await page.getByText(/“fake.png” was not added: .+/).waitFor();
    await page.getByRole('progressbar').waitFor({ state: 'detached' });
    // A decompression bomb (a 50,000 x 50,000 PNG of a few KB): the browser only reads its size, the server refuses it.
    const bomb = await pngBomb();
    await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'bomb.png', { type: 'image/png' }));
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, bomb.toString('base64'));
    await page.getByText(/“bomb.png” was not added: .+/).waitFor();
    await page.getByRole('progressbar').waitFor({ state: 'detached' });
    expect(images()).toHaveLength(before);
    expect(kindCount(await boardSummary(page), 'image')).toBe(before);
  });

  step('the Paste button takes a picture from the system clipboard; Copy as SVG embeds the image', async () => {
    const { page } = alice;
    await page.bringToFront();
    const before = images().length;
    await page.evaluate(async () => {
      const canvas = new OffscreenCanvas(60, 40);
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = '#0000ff';
      ctx.fillRect(0, 0, 60, 40);
      await navigator.clipboard.write([new ClipboardItem({ 'image/png': await canvas.convertToBlob({ type: 'image/png' }) })]);
    });
    await page.getByRole('button', { name: 'Paste', exact: true }).click();
    await waitUntil(() => images().length === before + 1, 'the pasted picture to be stored');
    const pasted = images().find((i) => i.naturalWidth === 60)!;
    const box = (await canvasOf(page).boundingBox())!;
    expect(pasted).toMatchObject({ x: box.width / 2 - 30, y: box.height / 2 - 20, width: 60, height: 40 });
    await waitUntil(async () => isBlue(await pixelAt(bob.page, box.width / 2, box.height / 2)), 'bob to see the pasted picture');
    // It is selected: Copy as SVG puts an SVG with the picture's bytes on the clipboard.
    await page.getByRole('button', { name: 'Copy as SVG' }).click();
    await waitUntil(async () => (await page.evaluate(() => navigator.clipboard.readText())).startsWith('<svg'), 'an SVG on the clipboard');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toMatch(/<image[^>]+href="data:image\/png;base64,[A-Za-z0-9+/=]{40,}"/);
  });

  step('a viewer sees the images but has no Image tool, and the server refuses their upload', async () => {
    await alice.page.getByRole('button', { name: 'Share' }).click();
    await alice.page.getByRole('button', { name: 'Create viewer link' }).click();
    const link = await alice.page.getByLabel('Viewer link').inputValue();
    await alice.page.getByRole('button', { name: 'Close', exact: true }).click();
    const carol = await newPerson(browser, 'carol');
    try {
      // The same camera as the others (a first visit would fit the board to the screen).
      await carol.context.addInitScript(`localStorage.setItem('inkboard:viewport:${boardId}', '{"x":0,"y":0,"zoom":1}')`);
      await signUp(carol, server.url, new URL(link).pathname);
      await carol.page.waitForURL(`${server.url}/b/${boardId}`);
      await waitUntil(async () => isRed(await pixelAt(carol.page, 400, 300)), 'the viewer to see the red picture');
      expect(await carol.page.getByRole('button', { name: 'Image', exact: true }).count()).toBe(0);
      const before = images().length;
      await carol.page.mouse.move(...(await point(carol.page, 900, 650)));
      await givePictures(carol.page, [{ name: 'viewer.png', color: RED, width: 50, height: 50 }], { paste: true });
      expect(await carol.page.getByRole('progressbar').count()).toBe(0);
      const status = await carol.page.evaluate(async (url) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array([137, 80, 78, 71]) })).status, `/api/boards/${boardId}/files`);
      expect(status).toBe(403);
      expect(images()).toHaveLength(before);
    } finally {
      await carol.context.close();
    }
  });

  step('an image copied to another board is uploaded there and drawn', async () => {
    const { page } = alice;
    await page.mouse.click(...(await point(page, 400, 300)));
    await page.keyboard.press('Control+c');
    const clip = JSON.parse(await page.evaluate(() => navigator.clipboard.readText())) as { source?: string; elements: Image[] };
    expect(clip.source).toBe(boardId);
    expect(clip.elements).toMatchObject([{ type: 'image' }]);
    // Pasted on the same board: the copy refers to the same file (nothing uploaded).
    const before = images().length;
    await page.mouse.move(...(await point(page, 1000, 150)));
    await page.keyboard.press('Control+v');
    await waitUntil(() => images().length === before + 1, 'the copy on the same board to be stored');
    expect(new Set(images().filter((i) => i.naturalWidth === 200).map((i) => i.fileId)).size).toBe(1);
    await page.keyboard.press('Control+z');
    await waitUntil(() => images().length === before, 'the copy on the same board undone');

    const tab = await alice.context.newPage();
    tab.on('pageerror', (e) => alice.errors.push(e.message));
    await tab.goto(server.url);
    await tab.getByRole('button', { name: 'New board' }).click();
    await tab.waitForURL(/\/b\/[A-Za-z0-9_-]+$/);
    const other = new URL(tab.url()).pathname.split('/').at(-1)!;
    await tab.getByRole('status', { name: /Connection: Live/ }).waitFor();
    await tab.mouse.move(...(await point(tab, 400, 300)));
    await tab.keyboard.press('Control+v');
    await waitUntil(() => images(other).length === 1, 'the copy to be stored on the other board');
    expect(images(other)[0]).toMatchObject({ width: 200, height: 100, naturalWidth: 200 });
    await waitUntil(async () => isRed(await pixelAt(tab, 400, 300)), 'the copy drawn on the other board');
    // Its file is readable through the other board (a member of only that board could see it).
    const status = await tab.evaluate(async (url) => (await fetch(url)).status, `/api/boards/${other}/files/${images(other)[0]!.fileId}`);
    expect(status).toBe(200);
    await tab.close();
  });

  step('pictures waiting for the connection are kept on the device up to 20: a toast says which wait in the tab only', async () => {
    const { page, context } = alice;
    await page.getByRole('status', { name: /Connection: Live/ }).waitFor();
    await context.setOffline(true);
    await page.getByRole('status', { name: /Connection: (Offline|Reconnecting)/ }).waitFor();
    await page.mouse.move(...(await point(page, 700, 500)));
    const pictures = Array.from({ length: 22 }, (_, i) => ({ name: `many-${i}.png`, color: '#888888', width: 8, height: 8 }));
    await givePictures(page, pictures, { paste: true });
    await page.getByText(/“many-20\.png”, “many-21\.png” will wait for the connection in this tab only .+at most 20 pictures/).waitFor();
    expect(await queuedImages(page)).toBe(20);
    await page.reload();
    await page.getByRole('progressbar', { name: 'Uploading many-19.png' }).waitFor({ timeout: 30_000 });
    expect(await page.getByRole('progressbar').count()).toBe(20);
  });
});
