/**
 * Images in the browser (issue 15): a new client opens a board holding 50 photos (random-noise JPEGs of
 * 1280 x 960, about 1 MB each) laid out 10 by 5, each drawn about 110 px wide, and the time from the
 * navigation's start until the canvas shows every one of them (not its placeholder) is measured in the
 * page. Each run is a fresh browser context (cold HTTP cache, signed in by the saved cookie): page load,
 * socket and snapshot, 50 downloads, decodes at the drawn size (canvas/images.ts levels) and the tiles
 * drawn. Medians of 7 runs, and of 7 reloads of one context (files from the browser's cache).
 * Run: npx turbo run build && node --import tsx bench/images-web.ts
 */
import WebSocket from 'ws';
import type { Page } from 'playwright-core';
import { newId, zRangeAbove, type Element } from '../packages/protocol/src/index.js';
import { createInkboardClient, uploadImage } from '../packages/client/src/index.js';
import { signInForToken } from '../packages/client/src/cli/login.js';
import { serverProcess } from '../test/helpers/process.js';
import { noiseJpeg } from '../test/helpers/images.js';
import { launchBrowser } from '../test/browser/helpers.js';

const RUNS = 7;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const proc = await serverProcess({ INKBOARD_IMAGE_UPLOADS_PER_MINUTE: '100000', INKBOARD_IMAGE_USER_QUOTA_MB: '4000', INKBOARD_IMAGE_BOARD_QUOTA_MB: '2000' });
const browser = await launchBrowser();
try {
  const password = 'password-photos';
  const { token } = await signInForToken(proc.url, 'viewer50', password, true, 'images');
  const client = createInkboardClient({ url: proc.url, token, WebSocket: WebSocket as never });
  const target = { url: proc.url, token };
  const boardId = (await client.trpc.board.create.mutate({ title: '50 images' })).id;
  const zs = zRangeAbove(null, 50);
  const elements: Element[] = [];
  let bytes = 0;
  for (let i = 0; i < 50; i++) {
    const photo = await noiseJpeg(1280, 960, i + 1);
    bytes += photo.length;
    const stored = await uploadImage(target, boardId, photo);
    elements.push({
      type: 'image', id: newId(), x: 40 + (i % 10) * 120, y: 80 + Math.floor(i / 10) * 95, z: zs[i]!, strokeColor: '#1e1e1e', strokeWidth: 1, opacity: 1,
      width: 110, height: 82.5, fileId: stored.fileId, naturalWidth: stored.width, naturalHeight: stored.height,
    });
  }
  await client.trpc.board.push.mutate({ boardId, ops: [{ type: 'add', opId: newId(), elements }] });
  console.log(`board of 50 photos, ${(bytes / 1e6).toFixed(1)} MB uploaded`);

  // Signed in once through the form; each run's context starts from this cookie.
  const first = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page0 = await first.newPage();
  await page0.goto(`${proc.url}/`);
  await page0.getByLabel('Username').fill('viewer50');
  await page0.getByLabel('Password').fill(password);
  await page0.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page0.getByRole('button', { name: 'New board' }).waitFor();
  const state = await first.storageState();
  await first.close();

  const centres = elements.map((el) => (el.type === 'image' ? [el.x + el.width / 2, el.y + el.height / 2] : [0, 0]));
  /**
   * Resolves, in the page, when every image's middle shows the photo (dark noise, not the pale
   * placeholder): ms since the navigation began. A string, as tsx would wrap a function's helpers in
   * names the page does not have.
   */
  const ALL_DRAWN = `(points) => new Promise((resolve, reject) => {
    const deadline = performance.now() + 60000;
    const check = () => {
      const canvas = document.querySelector('canvas[aria-label="Board canvas"]');
      const ctx = canvas ? canvas.getContext('2d') : null;
      if (ctx && canvas.width > 0) {
        const k = canvas.width / canvas.getBoundingClientRect().width;
        const drawn = points.every(([x, y]) => {
          const d = ctx.getImageData(Math.round((x - 2) * k), Math.round((y - 2) * k), 5, 5).data;
          let sum = 0;
          for (let i = 0; i < d.length; i += 4) sum += d[i] + d[i + 1] + d[i + 2];
          return sum / (d.length / 4) / 3 < 170;
        });
        if (drawn) return resolve(performance.now());
      }
      if (performance.now() > deadline) return reject(new Error('not every image was drawn within 60 s'));
      requestAnimationFrame(check);
    };
    check();
  })`;
  const allDrawn = (page: Page) => page.evaluate<number>(`(${ALL_DRAWN})(${JSON.stringify(centres)})`);
  const viewport = JSON.stringify({ x: 0, y: 0, zoom: 1 });
  const cold: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, storageState: state });
    await context.addInitScript(`localStorage.setItem(${JSON.stringify(`inkboard:viewport:${boardId}`)}, ${JSON.stringify(viewport)})`);
    const page = await context.newPage();
    await page.goto(`${proc.url}/b/${boardId}`);
    cold.push(await allDrawn(page));
    await context.close();
  }
  const warm: number[] = [];
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, storageState: state });
  await context.addInitScript(`localStorage.setItem(${JSON.stringify(`inkboard:viewport:${boardId}`)}, ${JSON.stringify(viewport)})`);
  const page = await context.newPage();
  await page.goto(`${proc.url}/b/${boardId}`);
  await allDrawn(page);
  for (let r = 0; r < RUNS; r++) {
    await page.reload();
    warm.push(await allDrawn(page));
  }
  await context.close();
  console.log(`open a board of 50 photos until all are drawn: ${median(cold).toFixed(0)} ms with an empty cache (runs ${cold.map((t) => t.toFixed(0)).join(', ')}), ${median(warm).toFixed(0)} ms reloaded (runs ${warm.map((t) => t.toFixed(0)).join(', ')}); medians of ${RUNS}`);
  console.log(JSON.stringify({ photosMb: bytes / 1e6, coldMedianMs: median(cold), warmMedianMs: median(warm), cold, warm }));
  await client.close();
} finally {
  await browser.close();
  await proc.stop();
}
