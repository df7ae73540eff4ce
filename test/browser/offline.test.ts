import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, normalizeElement, type Op } from '@inkboard/protocol';
import { openSession, sqliteOf, startServer, type TestServer } from '../helpers/server.js';
import { WEB_DIST, canvasOf, drawRectangle, drawStroke, kindCount, launchBrowser, newPerson, screenshots, signUp, waitForSummary, waitUntil, type Person } from './helpers.js';

/**
 * Offline-first (issue 17), in a real browser against the real server: the app shell comes from the
 * service worker, each opened board from its local copy in IndexedDB, and edits made without the
 * network reach the other person exactly once, across reloads, closed pages, two tabs and a new
 * version of the app. The steps build on each other, in order.
 */
describe('offline in the browser', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Person;
  let boardId = '';
  /** The built app, copied: a step deploys a new version into it. */
  const dist = mkdtempSync(join(tmpdir(), 'inkboard-web-'));
  /** Bob, a script on the board: every op event he receives, by seq. */
  let bob: ReturnType<typeof openSession>;
  const bobSeqs = new Map<number, string>();
  const pages = () => [alice].filter(Boolean);

  beforeAll(async () => {
    cpSync(WEB_DIST, dist, { recursive: true });
    // A short op log, so that a copy can fall behind it (a later step).
    server = await startServer({ webDist: dist, opLogRetention: 60 });
    browser = await launchBrowser();
    alice = await newPerson(browser, 'alice');
  });

  afterAll(async () => {
    await bob?.close();
    await browser?.close();
    await server?.destroy();
    rmSync(dist, { recursive: true, force: true });
  });

  function step(name: string, fn: () => Promise<void>, timeout = 90_000) {
    it(
      name,
      async ({ onTestFailed }) => {
        onTestFailed(async () => {
          const paths = await screenshots(pages(), `failed-offline-${name}`);
          console.error(`screenshots: ${paths.join(', ')}`);
          if (alice.errors.length) console.error("alice's page errors:", alice.errors);
        });
        await fn();
      },
      timeout,
    );
  }

  /** Each op id in the server's log, with how many times it is there. */
  const storedOps = () =>
    sqliteOf(server.app).prepare('select op_id as opId, count(*) as n from ops where board_id = ? group by op_id').all(boardId) as { opId: string; n: number }[];
  /** Bob's received op events: op id -> how many seqs carried it. */
  const bobReceived = () => {
    const counts = new Map<string, number>();
    for (const opId of bobSeqs.values()) counts.set(opId, (counts.get(opId) ?? 0) + 1);
    return counts;
  };
  const strokes = (page: Page, n: number, what: string) => waitForSummary(page, (s) => kindCount(s, 'freehand stroke') === n, what, 30_000);
  const bobStrokes = () => [...bob.session.elements.values()].filter((e) => e.type === 'stroke').length;
  const badge = (page: Page, name: RegExp) => page.getByRole('status', { name }).waitFor({ timeout: 30_000 });
  const boardUrl = () => `${server.url}/b/${boardId}`;

  /** What this origin keeps in IndexedDB: records per store whose key starts with `userId` (all when omitted). */
  const kept = (page: Page, userId?: string) =>
    page.evaluate(
      (user) =>
        new Promise<Record<string, number>>((resolve, reject) => {
          const request = indexedDB.open('inkboard');
          request.onupgradeneeded = () => request.transaction?.abort(); // not there: never create it here
          request.onerror = () => (request.error?.name === 'AbortError' ? resolve({}) : reject(request.error));
          request.onsuccess = () => {
            const db = request.result;
            const counts: Record<string, number> = {};
            const names = [...db.objectStoreNames];
            if (!names.length) return resolve(counts);
            const tx = db.transaction(names, 'readonly');
            for (const name of names) {
              const keys = tx.objectStore(name).getAllKeys();
              keys.onsuccess = () => (counts[name] = keys.result.filter((k) => !user || (Array.isArray(k) && k[0] === user)).length);
            }
            tx.oncomplete = () => {
              db.close();
              resolve(counts);
            };
          };
        }),
      userId,
    );

  /** Op ids in the pushes a page sends over its WebSocket. */
  function recordPushes(page: Page): string[] {
    const sent: string[] = [];
    page.on('websocket', (ws) =>
      ws.on('framesent', ({ payload }) => {
        const text = typeof payload === 'string' ? payload : payload.toString('utf8');
        if (!text.includes('board.push')) return;
        for (const m of text.matchAll(/"opId":"([A-Za-z0-9_-]+)"/g)) sent.push(m[1]!);
      }),
    );
    return sent;
  }

  step('the app installs its service worker and manifest; a board opens', async () => {
    const { page } = alice;
    await signUp(alice, server.url);
    await page.getByRole('button', { name: 'New board' }).click();
    await page.waitForURL(/\/b\/[A-Za-z0-9_-]+$/);
    boardId = new URL(page.url()).pathname.split('/').at(-1)!;
    await badge(page, /Connection: Live, all changes saved/);
    const sw = await page.evaluate(async () => {
      const registration = await Promise.race([
        navigator.serviceWorker.ready,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the service worker did not activate in 30 s (was apps/web/dist rebuilt meanwhile?)')), 30_000)),
      ]);
      const script = await fetch('/sw.js');
      const manifest = await fetch((document.querySelector('link[rel=manifest]') as HTMLLinkElement).href);
      return { active: registration.active?.state, cache: script.headers.get('cache-control'), csp: script.headers.get('content-security-policy'), manifest: (await manifest.json()) as { name: string; icons: unknown[] } };
    });
    expect(sw.active).toBe('activated');
    expect(sw.cache).toBe('no-cache');
    expect(sw.csp).toContain("manifest-src 'self'");
    expect(sw.manifest.name).toBe('Inkboard');
    expect(sw.manifest.icons.length).toBeGreaterThan(0);
    // The server's answers are never cached by the service worker.
    expect(await page.evaluate(async () => (await caches.keys()).length)).toBeGreaterThan(0);
    const cachedUrls = await page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
      return urls;
    });
    expect(cachedUrls).toContain('/index.html');
    expect(cachedUrls.filter((u) => u.startsWith('/trpc') || u.startsWith('/api'))).toEqual([]);

    bob = openSession(server.url, boardId, 'bob', {
      event: (event) => {
        if (event.type === 'op') bobSeqs.set(event.seq, event.op.opId);
      },
    });
    await bob.session.settled();
    await waitUntil(() => bob.session.status === 'live', 'Bob to be on the board');
  });

  step('drawn online, then offline; a reload without the network shows the board with the offline strokes', async () => {
    const { page, context } = alice;
    await drawStroke(page, 300, 250);
    await waitUntil(() => bobStrokes() === 1, 'Bob to get the online stroke');

    await context.setOffline(true);
    await badge(page, /Connection: Offline/);
    await drawStroke(page, 300, 350);
    await drawStroke(page, 300, 450);
    await badge(page, /2 unsent/);
    await page.reload();
    // The app shell came from the service worker, the board from IndexedDB.
    await strokes(page, 3, 'the board with both offline strokes after the reload');
    await badge(page, /Connection: Offline, 2 unsent/);
    await drawStroke(page, 300, 550);
    await badge(page, /3 unsent/);
    expect(bobStrokes()).toBe(1);
    expect(storedOps()).toHaveLength(1);
  });

  step('the page is closed and a new one opened, still offline; back online every stroke reaches Bob once', async () => {
    const { context } = alice;
    await alice.page.close();
    alice.page = await context.newPage();
    alice.page.on('pageerror', (e) => alice.errors.push(e.message));
    const { page } = alice;
    // Without the network the board list cannot load: the boards kept on this device are listed.
    await page.goto(`${server.url}/`);
    await page.getByRole('list', { name: 'Boards available offline' }).getByRole('link', { name: 'Untitled board' }).click();
    await page.waitForURL(boardUrl());
    await strokes(page, 4, 'all four strokes, from the local copy');
    await badge(page, /3 unsent/);

    await context.setOffline(false);
    await waitUntil(() => bobStrokes() === 4, 'Bob to get the three offline strokes', 30_000);
    await badge(page, /Connection: Live, all changes saved/);
    expect(storedOps().map((o) => o.n)).toEqual([1, 1, 1, 1]);
    expect([...bobReceived().values()]).toEqual([1, 1, 1, 1]);
    // The confirmed ops leave the store once the stored copy holds them.
    await waitUntil(async () => (await kept(page)).ops === 0, 'the unsent ops to be cleared from IndexedDB');
    expect((await kept(page)).snapshots).toBe(1);
  });

  step('two tabs offline on one board, then online: no op is sent twice', async () => {
    const { context } = alice;
    const first = alice.page;
    const second = await context.newPage();
    const sentFirst = recordPushes(first);
    const sentSecond = recordPushes(second);
    await second.goto(boardUrl());
    await badge(second, /Connection: Live/);

    await context.setOffline(true);
    await badge(first, /Connection: Offline/);
    await badge(second, /Connection: Offline/);
    // A tab in the background draws no frames: each is brought to the front to draw, as a person would.
    await first.bringToFront();
    await drawStroke(first, 550, 250);
    await second.bringToFront();
    await drawStroke(second, 550, 350);
    await drawRectangle(second, 800, 250, 100, 80);
    await badge(first, /1 unsent/);
    await badge(second, /2 unsent/);
    // Each tab shows the other's unsent edits while offline (shown, not sent: the counts stay their own).
    const rectangle = (page: Page, what: string) => waitForSummary(page, (s) => kindCount(s, 'freehand stroke') === 6 && kindCount(s, 'rectangle') === 1, what, 30_000);
    await rectangle(first, 'the first tab to show the second tab’s unsent stroke and rectangle, offline');
    await strokes(second, 6, 'the second tab to show the first tab’s unsent stroke, offline');
    // A third tab opened offline shows both tabs' unsent edits (read from IndexedDB and asked for).
    const third = await context.newPage();
    const sentThird = recordPushes(third);
    await third.goto(boardUrl());
    await rectangle(third, 'a tab opened offline to show both tabs’ unsent edits');
    await badge(third, /Connection: Offline$/);
    await third.close();
    await badge(first, /Connection: Offline, 1 unsent/);
    await badge(second, /Connection: Offline, 2 unsent/);

    await context.setOffline(false);
    await waitUntil(() => bobStrokes() === 6 && [...bob.session.elements.values()].some((e) => e.type === 'rectangle'), 'Bob to get both tabs’ edits', 30_000);
    await badge(first, /all changes saved/);
    await badge(second, /all changes saved/);
    await strokes(first, 6, 'the first tab to show the second tab’s stroke');
    await strokes(second, 6, 'the second tab to show the first tab’s stroke');
    expect(sentFirst.filter((id) => sentSecond.includes(id))).toEqual([]);
    expect(new Set([...sentFirst, ...sentSecond]).size).toBe(3);
    expect(sentFirst.length + sentSecond.length).toBe(3);
    expect(sentThird).toEqual([]);
    expect(storedOps().every((o) => o.n === 1)).toBe(true);
    expect(storedOps()).toHaveLength(7);
    expect([...bobReceived().values()].every((n) => n === 1)).toBe(true);
    await second.close();
  });

  step('reopened online, the board catches up from its stored seq (no snapshot); a copy older than the op log gets one', async () => {
    const { context } = alice;
    await alice.page.goto(`${server.url}/`);
    // A closed tab's ops confirmed after its copy's last write are still queued: the board list page
    // sends them again (acknowledged, not applied) and stores the board; Bob draws after that.
    const settled = async (what: string) => waitUntil(async () => (await kept(alice.page)).ops === 0, what);
    await settled('the queue of the closed tabs to be settled');
    const frames: string[] = [];
    const watch = (page: Page) =>
      page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => frames.push(typeof payload === 'string' ? payload : payload.toString('utf8'))));
    watch(alice.page);
    // Bob adds 10 strokes while Alice is on her board list.
    const pen = (i: number): Op => ({
      type: 'add',
      opId: newId(),
      elements: [normalizeElement({ type: 'stroke', x: 0, y: 0, points: [[300 + i * 5, 650], [310 + i * 5, 670]] }, { id: newId(), z: `b${String(i).padStart(3, '0')}` })],
    });
    for (let i = 0; i < 10; i++) void bob.session.apply(pen(i));
    await bob.session.settled();
    await alice.page.goto(boardUrl());
    await strokes(alice.page, 16, 'Bob’s ten strokes');
    expect(frames.some((f) => f.includes('"type":"snapshot"'))).toBe(false);
    expect(frames.some((f) => f.includes('"type":"op"'))).toBe(true);

    // Past the op log (60 ops): the stored seq is too old, and the server sends a snapshot.
    await alice.page.goto(`${server.url}/`);
    await settled('nothing queued');
    for (let i = 0; i < 70; i++) void bob.session.apply(pen(20 + i));
    await bob.session.settled(30_000);
    frames.length = 0;
    await alice.page.goto(boardUrl());
    await strokes(alice.page, 86, 'the board caught up by a snapshot');
    expect(frames.some((f) => f.includes('"type":"snapshot"'))).toBe(true);
    await badge(alice.page, /all changes saved/);
    void context;
  });

  step('a new version deployed while a tab is open: a notice, and a reload keeps the unsent edits', async () => {
    const { page, context } = alice;
    await badge(page, /Connection: Live/);
    // Deploy: a changed index.html and the service worker that precaches it.
    const index = readFileSync(join(dist, 'index.html'), 'utf8').replace('<title>', '<meta name="inkboard-build" content="2" />\n    <title>');
    writeFileSync(join(dist, 'index.html'), index);
    const sw = readFileSync(join(dist, 'sw.js'), 'utf8').replace(/\{url:"index\.html",revision:"[0-9a-f]+"\}/, '{url:"index.html",revision:"new-version-2"}');
    expect(sw).toContain('new-version-2');
    writeFileSync(join(dist, 'sw.js'), sw);
    // What the app does every 30 minutes, and when it comes back online or into view.
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
    const notice = page.getByRole('alert', { name: 'New version available' });
    await notice.waitFor({ timeout: 30_000 });
    expect(await page.locator('meta[name=inkboard-build]').count()).toBe(0); // no silent reload

    await context.setOffline(true);
    await badge(page, /Connection: Offline/);
    await drawStroke(page, 550, 450);
    await badge(page, /1 unsent/);
    await Promise.all([page.waitForEvent('load'), notice.getByRole('button', { name: 'Reload' }).click()]);
    await page.locator('meta[name=inkboard-build]').waitFor({ state: 'attached' });
    await strokes(page, 87, 'the unsent stroke after the reload');
    await badge(page, /Connection: Offline, 1 unsent/);
    await context.setOffline(false);
    await waitUntil(() => bobStrokes() === 87, 'Bob to get the stroke drawn before the reload', 30_000);
    await badge(page, /all changes saved/);
    expect(storedOps().every((o) => o.n === 1)).toBe(true);
    expect([...bobReceived().values()].every((n) => n === 1)).toBe(true);
  });

  step('Ctrl+Z after a reload offline undoes the last stroke drawn before it (the undo history is kept in IndexedDB)', async () => {
    const { page, context } = alice;
    await badge(page, /all changes saved/);
    const seqs = bobSeqs.size;
    await context.setOffline(true);
    await badge(page, /Connection: Offline/);
    await drawStroke(page, 650, 600);
    await strokes(page, 88, 'the stroke drawn offline');
    await badge(page, /1 unsent/);
    // The history is stored 200 ms after a change (and when the page is hidden); a person reloads later than that.
    await page.waitForTimeout(400);
    await page.reload();
    await strokes(page, 88, 'the board after the reload');
    await canvasOf(page).focus();
    await page.keyboard.press('Control+z');
    await strokes(page, 87, 'the stroke drawn before the reload, undone');
    await page.keyboard.press('Control+Shift+z');
    await strokes(page, 88, 'the stroke redone');
    await page.keyboard.press('Control+z');
    await strokes(page, 87, 'the stroke undone again');
    await badge(page, /Connection: Offline, 4 unsent/);
    await context.setOffline(false);
    await badge(page, /all changes saved/);
    // The stroke, its undo, redo and undo again: four ops, each once.
    await waitUntil(() => bobSeqs.size === seqs + 4, 'Bob to get the four ops', 30_000);
    expect(bobStrokes()).toBe(87);
    expect(storedOps().every((o) => o.n === 1)).toBe(true);
    expect([...bobReceived().values()].every((n) => n === 1)).toBe(true);
  });

  /** While on, the background send's pushes (HTTP) fail: edits of boards no tab has open stay unsent although online. */
  const isPush = (url: URL) => url.pathname.includes('board.push');
  let blockedPushes = 0;
  const blockPushes = (page: Page) => {
    const block = (route: import('playwright-core').Route) => {
      blockedPushes++;
      return route.abort();
    };
    return { on: () => page.context().route(isPush, block), off: () => page.context().unroute(isPush, block) };
  };
  const bobRects = () => [...bob.session.elements.values()].filter((e) => e.type === 'rectangle').length;

  step('an edit left unsent on a board no tab has open is sent from the board list when the network returns, exactly once', async () => {
    const { context } = alice;
    const rects = bobRects();
    await context.setOffline(true);
    await badge(alice.page, /Connection: Offline/);
    await drawRectangle(alice.page, 800, 550, 80, 60);
    await badge(alice.page, /1 unsent/);
    await alice.page.close();
    alice.page = await context.newPage();
    alice.page.on('pageerror', (e) => alice.errors.push(e.message));
    const { page } = alice;
    await page.goto(`${server.url}/`);
    await page.getByRole('list', { name: 'Boards available offline' }).getByText('1 unsent').waitFor();

    // Online, but every push fails: the card says the edit is still unsent.
    const blocked = blockPushes(page);
    await blocked.on();
    blockedPushes = 0;
    await context.setOffline(false);
    const card = page.getByRole('article', { name: 'Untitled board' });
    await card.getByText('Available offline · 1 unsent').waitFor({ timeout: 30_000 });
    await waitUntil(() => blockedPushes > 0, 'the board list page to try sending the unsent edit', 30_000);
    await card.getByText('Available offline · 1 unsent').waitFor();
    expect(bobRects()).toBe(rects);

    // The network drops and returns: sent from the board list, no board opened.
    await blocked.off();
    await context.setOffline(true);
    await context.setOffline(false);
    await waitUntil(() => bobRects() === rects + 1, 'Bob to get the rectangle sent from the board list', 30_000);
    await card.getByText('Available offline', { exact: true }).waitFor({ timeout: 30_000 });
    expect(new URL(page.url()).pathname).toBe('/');
    await waitUntil(async () => (await kept(page)).ops === 0, 'the sent op to leave IndexedDB');
    expect(storedOps().every((o) => o.n === 1)).toBe(true);
    expect([...bobReceived().values()].every((n) => n === 1)).toBe(true);

    // The local copy was brought up to date with it: offline, the board shows it with nothing unsent.
    await context.setOffline(true);
    await page.goto(boardUrl());
    await waitForSummary(page, (s) => kindCount(s, 'rectangle') === rects + 1, 'the sent rectangle in the local copy', 30_000);
    await badge(page, /Connection: Offline$/);
    await context.setOffline(false);
    await badge(page, /all changes saved/);
    expect(storedOps().every((o) => o.n === 1)).toBe(true);

    // From any page: one that is not a board (here, an unknown address) sends it too.
    await context.setOffline(true);
    await badge(page, /Connection: Offline/);
    await drawRectangle(page, 1000, 550, 60, 40);
    await badge(page, /1 unsent/);
    await page.goto(`${server.url}/no-such-page`);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await context.setOffline(false);
    await waitUntil(() => bobRects() === rects + 2, 'Bob to get the rectangle sent from a page that is not a board', 30_000);
    await waitUntil(async () => (await kept(page)).ops === 0, 'the sent op to leave IndexedDB');
    expect(storedOps().every((o) => o.n === 1)).toBe(true);
    expect([...bobReceived().values()].every((n) => n === 1)).toBe(true);
    await page.goto(boardUrl());
    await badge(page, /all changes saved/);
  });

  step('the board list marks the board available offline; signing out with unsent edits asks, then clears the copies', async () => {
    const { context } = alice;
    // An edit left unsent: made offline on a page that is then closed, with no tab on the board, and
    // every push failing once back online (else the board list page sends it).
    const blocked = blockPushes(alice.page);
    await blocked.on();
    await context.setOffline(true);
    await badge(alice.page, /Connection: Offline/);
    await drawRectangle(alice.page, 800, 400, 80, 60);
    await badge(alice.page, /1 unsent/);
    await alice.page.close();
    await context.setOffline(false);
    alice.page = await context.newPage();
    const { page } = alice;
    await page.goto(`${server.url}/`);
    const card = page.getByRole('article', { name: 'Untitled board' });
    await card.getByText('Available offline · 1 unsent').waitFor();
    const userId = await page.evaluate(() => JSON.parse(localStorage.getItem('inkboard:user') ?? '{}').id as string);
    expect((await kept(page, userId)).boards).toBe(1);

    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitem', { name: 'Sign out', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Sign out with unsent edits?' });
    await dialog.getByText(/1 edit\(s\) made on this device have not reached the server yet/).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitem', { name: 'Sign out', exact: true }).click();
    await page.getByRole('button', { name: 'Sign out and discard' }).click();
    await page.getByRole('button', { name: 'Create account' }).waitFor();
    await waitUntil(async () => Object.values(await kept(page, userId)).every((n) => n === 0), 'the local copies to be cleared');
    expect(await page.evaluate(() => localStorage.getItem('inkboard:user'))).toBeNull();

    // Another account on the same browser: no copy of Alice's is listed or kept for it.
    const carol: Person = { ...alice, name: 'carol' };
    await signUp(carol, server.url);
    await page.getByRole('button', { name: 'New board' }).waitFor();
    expect(await page.getByText('Available offline').count()).toBe(0);
    expect(Object.values(await kept(page)).every((n) => n === 0)).toBe(true);
    await blocked.off();
    expect(alice.errors).toEqual([]);
  });
});
