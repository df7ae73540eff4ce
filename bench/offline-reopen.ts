/**
 * Offline-first (issue 17): reopening a board of 10,000 elements from its local copy (IndexedDB).
 * - Time from the navigation's start to the first animation frame after the canvas holds all the
 *   elements, when the page reloads with a local copy (online: the copy is drawn, then caught up;
 *   offline: the copy alone), against a browser without a copy (the snapshot comes over the network).
 *   Also when the network's first WebSocket message arrived, to show the copy is drawn before it.
 * - Bytes received to catch up after 100 ops by someone else while the page was closed (resume from the
 *   stored seq: only those ops), against a join without a copy (a snapshot of the whole board).
 * Medians of 7 runs (3 for the bytes). The app shell comes from the service worker either way.
 * Run: npx turbo run build --output-logs=errors-only && node --import tsx bench/offline-reopen.ts
 */
import type { BrowserContext, Page } from 'playwright-core';
import { newId, zRangeAbove, type Element, type Op } from '../packages/protocol/src/index.js';
import { connect, pushPatiently, startServer, testUser } from '../test/helpers/server.js';
import { WEB_DIST, launchBrowser } from '../test/browser/helpers.js';

const N = 10_000;
const RUNS = 7;
const BYTE_RUNS = 3;
const REMOTE_OPS = 100;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** A deterministic busy board: strokes of 20-60 points, some shapes and texts, over 6000 x 4000. */
function seedElements(n: number): Element[] {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  return zRangeAbove(null, n).map((z, i): Element => {
    const base = { id: newId(), z, x: Math.round(rnd() * 6000), y: Math.round(rnd() * 4000), strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
    const kind = rnd();
    if (kind < 0.6) {
      const points: [number, number, number][] = [];
      let x = 0;
      let y = 0;
      for (let k = 0, len = 20 + Math.floor(rnd() * 40); k < len; k++) points.push([Math.round((x += (rnd() - 0.3) * 8) * 10) / 10, Math.round((y += (rnd() - 0.5) * 8) * 10) / 10, 0.5]);
      return { ...base, type: 'stroke', points };
    }
    if (kind < 0.8) return { ...base, type: 'rectangle', width: 40 + Math.round(rnd() * 120), height: 30 + Math.round(rnd() * 80), fillColor: 'transparent' };
    if (kind < 0.95) return { ...base, type: 'ellipse', width: 40 + Math.round(rnd() * 100), height: 30 + Math.round(rnd() * 80), fillColor: 'transparent' };
    return { ...base, type: 'text', text: `Note ${i}`, fontSize: 20 };
  });
}

/**
 * Installed before the app loads: the first animation frame after the board summary counts at
 * least `target` elements (the canvas drew them in it or the frame before), and the first message
 * of any WebSocket. A string: tsx would wrap a function's helpers in names the page does not have.
 */
const probe = (target: number) => `(() => {
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', () => { if (window.__firstMessage === undefined) window.__firstMessage = performance.now(); });
    }
  };
  const tick = () => {
    const summary = document.getElementById('board-summary');
    const m = summary ? /^(\\d+) element/.exec(summary.textContent || '') : null;
    if (m && Number(m[1]) >= ${target}) return requestAnimationFrame(() => { window.__firstFrame = performance.now(); });
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})()`;

// Page code as strings (this folder is compiled without the DOM's types); polled from here, as the
// app's Content-Security-Policy refuses waitForFunction's string predicates (no 'unsafe-eval').
async function until(page: Page, expression: string, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const timing = async (page: Page): Promise<{ frame: number; message: number | null; copy: number | null }> => {
  await until(page, 'window.__firstFrame !== undefined', 'the first frame with every element');
  // inkboard:local-copy: BoardSync has read the local copy (performance.mark).
  return page.evaluate(`({ frame: window.__firstFrame, message: window.__firstMessage ?? null, copy: performance.getEntriesByName('inkboard:local-copy')[0]?.startTime ?? null })`);
};
const DELETE_COPY = `new Promise((resolve) => { const r = indexedDB.deleteDatabase('inkboard'); r.onsuccess = r.onerror = () => resolve(); })`;
const STORED_COUNT = `new Promise((resolve) => {
  const request = indexedDB.open('inkboard');
  request.onupgradeneeded = () => request.transaction.abort(); // not created yet: never create it here
  request.onerror = () => resolve(0);
  request.onsuccess = () => {
    const db = request.result;
    if (!db.objectStoreNames.contains('snapshots')) { db.close(); return resolve(0); }
    // The copy's snapshot (one JSON array) and its overlay of later changes.
    const tx = db.transaction(['snapshots', 'elements']);
    let n = 0;
    const snapshots = tx.objectStore('snapshots').getAll();
    snapshots.onsuccess = () => { for (const json of snapshots.result) n += JSON.parse(json).length; };
    const overlay = tx.objectStore('elements').count();
    overlay.onsuccess = () => { n += overlay.result; };
    tx.oncomplete = () => { db.close(); resolve(n); };
  };
})`;
const showsCount = (page: Page, n: number) => until(page, `/^${n} element/.test(document.getElementById('board-summary')?.textContent ?? '')`, `${n} elements`);

/** Bytes the page receives from the network (WebSocket frames, and HTTP answers not served by the service worker). */
function countBytes(page: Page): { total: () => number } {
  let bytes = 0;
  page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => (bytes += typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length)));
  page.on('requestfinished', async (request) => {
    const response = await request.response();
    if (!response || response.fromServiceWorker()) return;
    const sizes = await request.sizes();
    bytes += sizes.responseBodySize + sizes.responseHeadersSize;
  });
  return { total: () => bytes };
}

const storedCount = (page: Page): Promise<number> => page.evaluate(STORED_COUNT);

const server = await startServer({ webDist: WEB_DIST });
const browser = await launchBrowser();
try {
  testUser(server.url, 'bench');
  const client = connect(server.url, 'bench');
  const { id: boardId } = await client.trpc.board.create.mutate({ title: `${N} elements` });
  const elements = seedElements(N);
  for (let i = 0; i < elements.length; i += 250) await pushPatiently(client, boardId, [{ type: 'add', opId: newId(), elements: elements.slice(i, i + 250) }]);
  const boardUrl = `${server.url}/b/${boardId}`;
  console.log(`board of ${N} elements seeded`);

  // Signed in once; every context starts from this cookie (without IndexedDB: no local copy).
  const first = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page0 = await first.newPage();
  await page0.goto(boardUrl);
  await page0.getByLabel('Username').fill('bench');
  await page0.getByLabel('Password').fill('password');
  await page0.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page0.getByRole('status', { name: /all changes saved/ }).waitFor({ timeout: 60_000 });
  const cookies = await first.storageState();
  await first.close();

  const withCopy = async (): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, storageState: cookies });
    const page = await context.newPage();
    await page.goto(boardUrl);
    await page.evaluate('navigator.serviceWorker.ready.then(() => true)');
    await page.getByRole('status', { name: /all changes saved/ }).waitFor({ timeout: 60_000 });
    const deadline = Date.now() + 60_000;
    while ((await storedCount(page)) < N) {
      if (Date.now() > deadline) throw new Error('the local copy was not written within 60 s');
      await page.waitForTimeout(100);
    }
    await page.addInitScript(probe(N));
    return { context, page };
  };

  // 1. Without a local copy: the snapshot comes over the network (app shell from the service worker).
  console.log('without a local copy...');
  const coldFrame: number[] = [];
  const coldMessage: number[] = [];
  {
    const { context, page } = await withCopy(); // installs the service worker
    await page.close();
    for (let i = 0; i < RUNS; i++) {
      const cold = await context.newPage();
      await cold.goto(`${server.url}/`);
      await cold.evaluate(DELETE_COPY);
      await cold.addInitScript(probe(N));
      await cold.goto(boardUrl);
      const t = await timing(cold);
      coldFrame.push(t.frame);
      if (t.message !== null) coldMessage.push(t.message);
      await cold.close();
    }
    await context.close();
  }

  // 2. Reopened with its local copy, online and offline.
  console.log('with a local copy...');
  const warm: number[] = [];
  const warmMessage: number[] = [];
  const warmCopy: number[] = [];
  const offline: number[] = [];
  const offlineCopy: number[] = [];
  {
    const { context, page } = await withCopy();
    for (let i = 0; i < RUNS; i++) {
      await page.reload();
      const t = await timing(page);
      warm.push(t.frame);
      if (t.message !== null) warmMessage.push(t.message);
      if (t.copy !== null) warmCopy.push(t.copy);
      await page.getByRole('status', { name: /all changes saved/ }).waitFor({ timeout: 60_000 });
    }
    await context.setOffline(true);
    for (let i = 0; i < RUNS; i++) {
      await page.reload();
      const t = await timing(page);
      offline.push(t.frame);
      if (t.copy !== null) offlineCopy.push(t.copy);
    }
    await context.setOffline(false);

    // 3. Bytes to catch up after 100 ops by someone else while the page was closed.
    console.log('catching up...');
    const catchUp: number[] = [];
    const snapshot: number[] = [];
    let total = N;
    for (let run = 0; run < BYTE_RUNS; run++) {
      await page.goto(`${server.url}/`);
      const zs = zRangeAbove(elements.at(-1)!.z, REMOTE_OPS);
      const ops: Op[] = zs.map((z, k) => ({
        type: 'add',
        opId: newId(),
        elements: [{ type: 'stroke', id: newId(), z: `${z}${run}`, x: 100 + k * 10, y: 100 + run * 50, strokeColor: '#e03131', strokeWidth: 2, opacity: 1, points: [[0, 0, 0.5], [5, 8, 0.5], [12, 10, 0.5], [20, 6, 0.5]] }],
      }));
      for (const op of ops) await pushPatiently(client, boardId, [op]);
      total += REMOTE_OPS;
      const reopen = await context.newPage();
      const bytes = countBytes(reopen);
      await reopen.goto(boardUrl);
      await showsCount(reopen, total);
      await reopen.getByRole('status', { name: /all changes saved/ }).waitFor({ timeout: 60_000 });
      catchUp.push(bytes.total());
      await reopen.close();

      // The same board joined without a copy.
      const fresh = await browser.newContext({ viewport: { width: 1280, height: 800 }, storageState: cookies });
      const freshPage = await fresh.newPage();
      const freshBytes = countBytes(freshPage);
      await freshPage.goto(boardUrl);
      await showsCount(freshPage, total);
      await freshPage.getByRole('status', { name: /all changes saved/ }).waitFor({ timeout: 60_000 });
      snapshot.push(freshBytes.total());
      await fresh.close();
    }
    await context.close();

    const ms = (xs: number[]) => `${Math.round(median(xs))} ms (min ${Math.round(Math.min(...xs))}, max ${Math.round(Math.max(...xs))})`;
    const kb = (xs: number[]) => `${(median(xs) / 1024).toFixed(1)} KiB`;
    console.log(`\nReopening a board of ${N} elements (medians of ${RUNS}; navigation start to the first frame with every element):`);
    console.log(`  no local copy (snapshot over the network): ${ms(coldFrame)}; first WebSocket message at ${ms(coldMessage)}`);
    console.log(`  local copy, online:                         ${ms(warm)}; copy read at ${ms(warmCopy)}; first WebSocket message at ${ms(warmMessage)}`);
    console.log(`  local copy, offline:                        ${ms(offline)}; copy read at ${ms(offlineCopy)}`);
    console.log(`Catching up after ${REMOTE_OPS} ops by someone else (medians of ${BYTE_RUNS}; WebSocket frames + HTTP answers received):`);
    console.log(`  from the local copy (resume from its seq):  ${kb(catchUp)}  [${catchUp.map((b) => (b / 1024).toFixed(1)).join(', ')}]`);
    console.log(`  without a copy (snapshot):                  ${kb(snapshot)}  [${snapshot.map((b) => (b / 1024).toFixed(1)).join(', ')}]`);
  }
  await client.close();
} finally {
  await browser.close();
  await server.destroy();
}
