import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { Element } from '@inkboard/protocol';
import type { TestServer } from '../helpers/server.js';
import {
  canvasOf,
  drag,
  drawRectangle,
  elementCount,
  inkAt,
  launchBrowser,
  newPerson,
  screenshotSteps,
  shareNewBoard,
  signUp,
  startWebServer,
  waitForSummary,
  waitUntil,
  writeText,
  type Person,
} from './helpers.js';

interface Camera {
  x: number;
  y: number;
  zoom: number;
}

/** Red pixels of the laser layer (the canvas over the board where laser trails are drawn). */
function laserInk(page: Page): Promise<number> {
  return page.locator('canvas.laser-layer').evaluate((c) => {
    if (!(c instanceof HTMLCanvasElement) || !c.width || !c.height) return 0;
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 30 && data[i]! > 150 && data[i + 1]! < 120) n++;
    return n;
  });
}

/**
 * Live-only canvas features with two people: the laser pointer (seen by the other, fading, never
 * stored), following someone's view (until one pans oneself), and text alignment and font family
 * (seen by the other and undone). The steps build on each other, in order.
 */
describe('live canvas: laser pointer, follow, text style', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Person;
  let bob: Person;
  let boardId = '';
  const people = () => [alice, bob];
  const stored = (): Element[] => [...(server.app.boards.service.peek(boardId)?.elements.values() ?? [])];
  /** The camera the page remembers for the board (saved 300 ms after each change). */
  const cameraOf = (p: Person): Promise<Camera | null> => p.page.evaluate((id) => JSON.parse(localStorage.getItem(`inkboard:viewport:${id}`) ?? 'null') as Camera | null, boardId);
  const same = (a: Camera | null, b: Camera | null) => !!a && !!b && Math.abs(a.x - b.x) < 0.5 && Math.abs(a.y - b.y) < 0.5 && Math.abs(a.zoom - b.zoom) < 1e-3;
  const presenceButton = (p: Person, name: string) => p.page.getByRole('list', { name: 'People on this board' }).getByRole('button', { name });
  const followChip = (p: Person) => p.page.getByRole('status', { name: 'Following alice' });

  beforeAll(async () => {
    server = await startWebServer();
    browser = await launchBrowser();
    alice = await newPerson(browser, 'alice');
    bob = await newPerson(browser, 'bob');
  });

  const cleanup: (() => Promise<void>)[] = [];

  afterAll(async () => {
    for (const c of cleanup) await c().catch(() => {});
    await browser?.close();
    await server?.destroy();
  });

  const step = screenshotSteps(people, 'failed-live');

  async function panWithHand(p: Person, from: [number, number], to: [number, number]) {
    await p.page.getByRole('button', { name: 'Hand', exact: true }).click();
    await drag(p.page, [from, to], 6);
  }

  step('two people open one board', async () => {
    await signUp(alice, server.url);
    boardId = await shareNewBoard(server.url, alice, bob);
    await presenceButton(alice, 'Follow bob').waitFor();
    await presenceButton(bob, 'Follow alice').waitFor();
  });

  step('the laser pointer draws a trail the other sees live, which fades away; nothing is stored', async () => {
    await drawRectangle(alice.page, 300, 300, 200, 120);
    await waitForSummary(bob.page, (s) => elementCount(s) === 1, 'Bob to see the rectangle');
    const seqBefore = server.app.boards.service.knownSeq(boardId);

    // K picks the Laser pointer (its toolbar button says so).
    const laser = alice.page.getByRole('button', { name: 'Laser pointer' });
    expect(await laser.getAttribute('aria-pressed')).toBe('false');
    await canvasOf(alice.page).focus();
    await alice.page.keyboard.press('k');
    await waitUntil(async () => (await laser.getAttribute('aria-pressed')) === 'true', 'the Laser pointer to be active');
    // Bob's page watches its laser layer from now on, every animation frame: red pixels where Alice
    // points (both have the same camera: y 550-620 on screen), none elsewhere.
    const bobSaw = bob.page.waitForFunction(
      () => {
        const c = document.querySelector('canvas.laser-layer');
        if (!(c instanceof HTMLCanvasElement) || !c.width) return false;
        const k = c.width / c.getBoundingClientRect().width;
        const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let inside = 0;
        let outside = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (!(data[i + 3]! > 30 && data[i]! > 150 && data[i + 1]! < 120)) continue;
          const y = Math.floor(i / 4 / c.width) / k;
          if (y >= 530 && y <= 640) inside++;
          else outside++;
        }
        return inside > 200 && outside === 0;
      },
      null,
      { polling: 'raf', timeout: 10_000 },
    );
    await drag(alice.page, [[200, 550], [450, 600], [700, 550], [900, 620]], 12);
    await bobSaw;

    // It fades out within about a second, on both screens.
    // (The last point may leave the trail a frame after its ink has faded to nothing.)
    const bobPoints = () => bob.page.locator('canvas.laser-layer').getAttribute('data-points');
    await waitUntil(async () => (await laserInk(bob.page)) === 0 && (await laserInk(alice.page)) === 0 && (await bobPoints()) === '0', 'the trails to fade and empty', 5_000);
    expect(await bobPoints()).toBe('0');
    // Never stored, never an op: the board's element count and seq are unchanged, nothing to undo.
    expect(stored()).toHaveLength(1);
    expect(server.app.boards.service.knownSeq(boardId)).toBe(seqBefore);
    expect(elementCount(await bob.page.locator('#board-summary').textContent() ?? '')).toBe(1);
    await alice.page.getByRole('button', { name: 'Select', exact: true }).click();
    await alice.page.getByRole('button', { name: 'Undo' }).click();
    await waitForSummary(bob.page, (s) => elementCount(s) === 0, 'the undo to remove the rectangle (the laser left no step)');
    await alice.page.getByRole('button', { name: 'Redo' }).click();
    await waitForSummary(bob.page, (s) => elementCount(s) === 1, 'the redo to bring the rectangle back');
  });

  step('following: Bob’s view follows Alice’s pans and zooms until Bob pans himself', async () => {
    await presenceButton(bob, 'Follow alice').click();
    await followChip(bob).waitFor();
    expect(await presenceButton(bob, 'Stop following alice').getAttribute('aria-pressed')).toBe('true');

    await panWithHand(alice, [700, 450], [400, 300]);
    await alice.page.getByRole('button', { name: 'Zoom in' }).click();
    let aliceCam: Camera | null = null;
    await waitUntil(async () => {
      aliceCam = await cameraOf(alice);
      return aliceCam !== null && aliceCam.zoom > 1 && same(await cameraOf(bob), aliceCam);
    }, 'Bob’s camera to match Alice’s after her pan and zoom');
    expect(aliceCam!.x).not.toBe(0);
    // The rectangle (world 300,300 to 500,420) is drawn at the same place on both screens.
    const sx = (400 - aliceCam!.x) * aliceCam!.zoom;
    const sy = (300 - aliceCam!.y) * aliceCam!.zoom;
    expect(await inkAt(alice.page, sx, sy, 6)).toBeGreaterThan(0);
    expect(await inkAt(bob.page, sx, sy, 6)).toBeGreaterThan(0);

    // Bob scrolls the board himself: following stops, with a notice, and Alice's next pan stays hers.
    const box = (await canvasOf(bob.page).boundingBox())!;
    await bob.page.mouse.move(box.x + 640, box.y + 400);
    await bob.page.mouse.wheel(150, 90);
    await followChip(bob).waitFor({ state: 'detached' });
    await bob.page.getByText('You moved the view: you no longer follow alice.').waitFor();
    await bob.page.waitForTimeout(400);
    const bobOwn = await cameraOf(bob);
    expect(same(bobOwn, aliceCam)).toBe(false);
    await panWithHand(alice, [600, 400], [500, 500]);
    await waitUntil(async () => !same(await cameraOf(alice), aliceCam), 'Alice’s camera to move');
    await bob.page.waitForTimeout(600);
    expect(same(await cameraOf(bob), bobOwn)).toBe(true);

    // Following again catches up at once; "Stop following" ends it too.
    await presenceButton(bob, 'Follow alice').click();
    await followChip(bob).waitFor();
    await waitUntil(async () => same(await cameraOf(bob), await cameraOf(alice)), 'Bob to catch up with Alice');
    await bob.page.getByRole('button', { name: 'Stop following', exact: true }).click();
    await followChip(bob).waitFor({ state: 'detached' });
    const stopped = await cameraOf(bob);
    await panWithHand(alice, [500, 500], [650, 420]);
    await bob.page.waitForTimeout(600);
    expect(same(await cameraOf(bob), stopped)).toBe(true);
  });

  step('text alignment and font family: set by Alice, seen by Bob, undone', async () => {
    // Both on the same camera (Bob follows Alice once more, then stops), so one screen point is one world point.
    await presenceButton(bob, 'Follow alice').click();
    await waitUntil(async () => same(await cameraOf(bob), await cameraOf(alice)), 'Bob to show Alice’s view');
    await bob.page.getByRole('button', { name: 'Stop following', exact: true }).click();

    // Somewhere on screen away from the rectangle (world 300,300 to 500,420), the panels and the toolbar.
    const cam = (await cameraOf(alice))!;
    const rect = { minX: (300 - cam.x) * cam.zoom - 80, maxX: (500 - cam.x) * cam.zoom + 80, minY: (300 - cam.y) * cam.zoom - 60, maxY: (420 - cam.y) * cam.zoom + 60 };
    const spots: [number, number][] = [[450, 200], [950, 200], [450, 600], [950, 600]];
    const [tx, ty] = spots.find(([x, y]) => x < rect.minX || x > rect.maxX || y < rect.minY || y > rect.maxY)!;
    await writeText(alice.page, tx, ty, 'Align me');
    await waitForSummary(bob.page, (s) => s.includes('“Align me”'), 'Bob to see the text');
    const textId = () => stored().find((e) => e.type === 'text')!.id;
    const text = () => stored().find((e) => e.id === textId());
    // The new text is selected on Alice's side: its style panel shows alignment and font.
    await alice.page.getByRole('button', { name: 'Align centre' }).click();
    await waitUntil(() => text()?.type === 'text' && text()!.textAlign === 'center', 'the centred text to be stored');
    await alice.page.getByRole('button', { name: 'Font Monospace' }).click();
    await waitUntil(() => text()?.type === 'text' && text()!.fontFamily === 'mono', 'the monospace text to be stored');
    expect(await alice.page.getByRole('button', { name: 'Align centre' }).getAttribute('aria-pressed')).toBe('true');

    // Bob selects the text: his panel shows what Alice set.
    await bob.page.getByRole('button', { name: 'Select', exact: true }).click();
    const box = (await canvasOf(bob.page).boundingBox())!;
    await bob.page.mouse.click(box.x + tx + 20, box.y + ty);
    const bobCentre = bob.page.getByRole('button', { name: 'Align centre' });
    await waitUntil(async () => (await bobCentre.getAttribute('aria-pressed')) === 'true', 'Bob’s panel to show the centred text');
    expect(await bob.page.getByRole('button', { name: 'Font Monospace' }).getAttribute('aria-pressed')).toBe('true');

    // Alice undoes both: Bob's panel follows, and the stored text is back to the defaults.
    await alice.page.getByRole('button', { name: 'Undo' }).click();
    await alice.page.getByRole('button', { name: 'Undo' }).click();
    await waitUntil(() => text()?.type === 'text' && (text()!.textAlign ?? 'left') === 'left' && (text()!.fontFamily ?? 'sans') === 'sans', 'the undo to restore the text’s style');
    await waitUntil(async () => (await bob.page.getByRole('button', { name: 'Align left' }).getAttribute('aria-pressed')) === 'true', 'Bob’s panel to show the left-aligned text');
    expect(await bob.page.getByRole('button', { name: 'Font Sans-serif' }).getAttribute('aria-pressed')).toBe('true');
    expect(stored().filter((e) => e.type === 'text')).toHaveLength(1);
  });

  step('a viewer follows the editor and points with the laser (nothing stored); the editor sees the trail', async () => {
    await alice.page.getByRole('button', { name: 'Share' }).click();
    await alice.page.getByRole('button', { name: 'Create viewer link' }).click();
    const link = await alice.page.getByLabel('Viewer link').inputValue();
    await alice.page.getByRole('button', { name: 'Close', exact: true }).click();
    const carol = await newPerson(browser, 'carol');
    cleanup.push(() => carol.context.close());
    await signUp(carol, server.url, new URL(link).pathname);
    await carol.page.getByRole('status', { name: /Connection: Live/ }).waitFor();
    await presenceButton(carol, 'Follow alice').click();
    await waitUntil(async () => same(await cameraOf(carol), await cameraOf(alice)), 'Carol to show Alice’s view');
    const count = stored().length;
    const seq = server.app.boards.service.knownSeq(boardId);

    const laser = carol.page.getByRole('button', { name: 'Laser pointer' });
    await laser.click();
    expect(await laser.getAttribute('aria-pressed')).toBe('true');
    let most = 0;
    const watching = (async () => {
      const start = Date.now();
      while (Date.now() - start < 8_000 && most <= 200) {
        most = Math.max(most, await laserInk(alice.page));
        await alice.page.waitForTimeout(30);
      }
    })();
    await drag(carol.page, [[500, 150], [700, 250], [900, 150]], 14);
    await watching;
    expect(most).toBeGreaterThan(200);
    // Pointing is not panning: Carol still follows Alice.
    await followChip(carol).waitFor();
    await waitUntil(async () => (await laserInk(alice.page)) === 0, 'the viewer’s trail to fade', 5_000);
    expect(stored()).toHaveLength(count);
    expect(server.app.boards.service.knownSeq(boardId)).toBe(seq);
  });
});
