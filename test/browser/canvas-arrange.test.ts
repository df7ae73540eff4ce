import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { sortElements, type Element } from '@inkboard/protocol';
import type { TestServer } from '../helpers/server.js';
import {
  canvasOf,
  canvasPoint,
  drag,
  inkAt,
  kindCount,
  launchBrowser,
  newPerson,
  pickTool,
  screenshotSteps,
  signUp,
  startWebServer,
  waitForSummary,
  waitUntil,
  type Person,
} from './helpers.js';

/** The colour of the canvas at (x, y) (CSS pixels): the middle pixel. */
async function colorAt(page: Page, x: number, y: number): Promise<[number, number, number]> {
  return canvasOf(page).evaluate(
    (canvas, [cx, cy]) => {
      const c = canvas as HTMLCanvasElement;
      const k = c.width / c.getBoundingClientRect().width;
      const d = c.getContext('2d')!.getImageData(Math.round(cx * k), Math.round(cy * k), 1, 1).data;
      return [d[0]!, d[1]!, d[2]!] as [number, number, number];
    },
    [x, y] as const,
  );
}

/** How many of every fourth pixel (each way) of the canvas pass `test`. */
async function countColor(page: Page, test: (c: [number, number, number]) => boolean): Promise<number> {
  const pixels = await canvasOf(page).evaluate((canvas) => {
    const c = canvas as HTMLCanvasElement;
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const out: [number, number, number][] = [];
    for (let y = 0; y < c.height; y += 4) for (let x = 0; x < c.width; x += 4) {
      const i = (y * c.width + x) * 4;
      out.push([data[i]!, data[i + 1]!, data[i + 2]!]);
    }
    return out;
  });
  return pixels.filter(test).length;
}

// The two fills of the overlapping rectangles: light red #ffc9c9 and light blue #a5d8ff.
const isRed = ([r, , b]: [number, number, number]) => r > 240 && b < 225;
const isBlue = ([r, , b]: [number, number, number]) => r < 190 && b > 240;

/**
 * Arrange, duplicate, clipboard, nudge, tool lock, dialogs and live board details, with two people
 * on one board (each in a browser context of their own) against the real server. Steps build on
 * each other, in order.
 */
describe('arranging and the clipboard in the browser', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Person;
  let bob: Person;
  let carol: Person | undefined;
  let boardId = '';
  let link = '';
  // The overlap of the two rectangles, and a point of each outside it.
  const OVERLAP: [number, number] = [450, 400];
  const ONLY_RED: [number, number] = [320, 320];
  const people = () => [alice, bob, carol].filter((p): p is Person => p !== undefined);
  const stored = (id = boardId): Element[] => sortElements(server.app.boards.service.peek(id)?.elements.values() ?? []);
  const rects = () => stored().filter((e) => e.type === 'rectangle');
  const point = canvasPoint;
  const click = async (page: Page, x: number, y: number, modifiers: ('Shift' | 'Alt')[] = []) => {
    for (const m of modifiers) await page.keyboard.down(m);
    await page.mouse.click(...(await point(page, x, y)));
    for (const m of modifiers) await page.keyboard.up(m);
  };
  const rectangles = (n: number) => (s: string) => kindCount(s, 'rectangle') === n || (n === 0 && !s.includes('rectangle'));
  const waitColor = (page: Page, at: [number, number], test: (c: [number, number, number]) => boolean, what: string) =>
    waitUntil(async () => test(await colorAt(page, ...at)), what);

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

  const step = screenshotSteps(people, 'failed-arrange');

  step('alice creates a board and bob joins it by an editor link', async () => {
    await signUp(alice, server.url);
    await alice.page.getByRole('button', { name: 'New board' }).click();
    await alice.page.waitForURL(/\/b\/[A-Za-z0-9_-]+$/);
    boardId = new URL(alice.page.url()).pathname.split('/').at(-1)!;
    await alice.page.getByRole('status', { name: /Connection: Live/ }).waitFor();
    await alice.page.getByRole('button', { name: 'Share' }).click();
    await alice.page.getByRole('button', { name: 'Create editor link' }).click();
    link = await alice.page.getByLabel('Editor link').inputValue();
    await alice.page.getByRole('button', { name: 'Close', exact: true }).click();
    await signUp(bob, server.url, new URL(link).pathname);
    await bob.page.waitForURL(`${server.url}/b/${boardId}`);
    await bob.page.getByRole('status', { name: /Connection: Live/ }).waitFor();
    await alice.page.getByRole('list', { name: 'People on this board' }).getByText('bob').waitFor();
  });

  step('send to back / bring to front / backward change the order bob sees; Ctrl+Z reverts it', async () => {
    const { page } = alice;
    await pickTool(page, 'Rectangle');
    await page.getByRole('button', { name: 'Fill Light red' }).click();
    await drag(page, [[300, 300], [400, 380], [500, 450]]);
    await pickTool(page, 'Rectangle');
    await page.getByRole('button', { name: 'Fill Light blue' }).click();
    await drag(page, [[400, 350], [500, 420], [600, 500]]);
    await waitForSummary(bob.page, rectangles(2), 'bob to see two rectangles');
    await waitColor(bob.page, OVERLAP, isBlue, 'the blue rectangle on top for bob');
    const [red, blue] = rects();
    expect(red!.type === 'rectangle' && red!.fillColor).toBe('#ffc9c9');

    // The blue one is selected (just drawn): Ctrl+Shift+[ sends it to the back.
    await page.keyboard.press('Control+Shift+BracketLeft');
    await waitColor(bob.page, OVERLAP, isRed, 'red on top for bob after send to back');
    expect(rects().map((r) => r.id)).toEqual([blue!.id, red!.id]);
    await page.keyboard.press('Control+z');
    await waitColor(bob.page, OVERLAP, isBlue, 'blue on top again for bob after undo');
    expect(rects().map((r) => r.id)).toEqual([red!.id, blue!.id]);

    // The buttons: select the red one, bring it to the front, then send it backward.
    await click(page, ...ONLY_RED);
    await page.getByRole('button', { name: 'Bring to front' }).click();
    await waitColor(bob.page, OVERLAP, isRed, 'red on top for bob after Bring to front');
    await page.getByRole('button', { name: 'Send backward' }).click();
    await waitColor(bob.page, OVERLAP, isBlue, 'blue on top for bob after Send backward');
    await page.getByRole('button', { name: 'Bring forward' }).click();
    await waitColor(bob.page, OVERLAP, isRed, 'red on top for bob after Bring forward');
    await page.getByRole('button', { name: 'Send to back' }).click();
    await waitColor(bob.page, OVERLAP, isBlue, 'blue on top for bob after Send to back');
    // Ctrl+] brings it forward again; undo takes it back.
    await page.keyboard.press('Control+BracketRight');
    await waitColor(bob.page, OVERLAP, isRed, 'red on top for bob after Ctrl+]');
    await page.keyboard.press('Control+z');
    await waitColor(bob.page, OVERLAP, isBlue, 'blue on top for bob after undoing Ctrl+]');
  });

  step('duplicate with Ctrl+D, the Duplicate button and Alt+drag; each undone', async () => {
    const { page } = alice;
    const [red] = rects();
    await click(page, ...ONLY_RED);
    await page.keyboard.press('Control+d');
    await waitForSummary(bob.page, rectangles(3), 'bob to see the duplicate');
    const copy = rects().find((r) => r.id !== red!.id && r.x === red!.x + 10)!;
    expect(copy).toMatchObject({ y: red!.y + 10, fillColor: '#ffc9c9' });
    await page.keyboard.press('Control+z');
    await waitForSummary(bob.page, rectangles(2), 'bob to see the duplicate undone');

    await click(page, ...ONLY_RED);
    await page.getByRole('button', { name: 'Duplicate' }).click();
    await waitForSummary(bob.page, rectangles(3), 'bob to see the Duplicate button’s copy');
    await page.keyboard.press('Control+z');
    await waitForSummary(bob.page, rectangles(2), 'bob to see it undone');

    // Alt+drag leaves the original and drops a copy where the drag ends.
    await page.keyboard.down('Alt');
    await drag(page, [ONLY_RED, [420, 300], [520, 220]]);
    await page.keyboard.up('Alt');
    await waitForSummary(bob.page, rectangles(3), 'bob to see the Alt+drag copy');
    expect(rects().find((r) => r.id === red!.id)).toMatchObject({ x: red!.x, y: red!.y });
    expect(rects().some((r) => r.id !== red!.id && Math.abs(r.x - (red!.x + 200)) < 2 && Math.abs(r.y - (red!.y - 100)) < 2)).toBe(true);
    await page.keyboard.press('Control+z');
    await waitForSummary(bob.page, rectangles(2), 'bob to see the Alt+drag copy undone');
  });

  step('select all and nudge with the arrow keys (Shift: 10x); undone', async () => {
    const { page } = alice;
    const before = new Map(rects().map((r) => [r.id, r.x]));
    const RIGHT_OF_BLUE: [number, number] = [615, 420];
    expect(await inkAt(bob.page, ...RIGHT_OF_BLUE, 3)).toBe(0);
    await canvasOf(page).focus();
    await page.keyboard.press('Control+a');
    await page.keyboard.press('Shift+ArrowRight');
    await page.keyboard.press('Shift+ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    await waitUntil(() => rects().every((r) => r.x === before.get(r.id)! + 21), 'every element moved 21 to the right');
    // Bob sees the blue rectangle's fill where there was white.
    await waitUntil(async () => (await inkAt(bob.page, ...RIGHT_OF_BLUE, 3)) > 0, 'bob to see the blue rectangle moved');
    for (let i = 0; i < 4; i++) await page.keyboard.press('Control+z');
    await waitUntil(() => rects().every((r) => r.x === before.get(r.id)!), 'the nudges undone');
    await waitUntil(async () => (await inkAt(bob.page, ...RIGHT_OF_BLUE, 3)) === 0, 'bob to see them undone');
    // Shift+click takes the red one out of the selection: only the blue one moves.
    const [red, blue] = rects();
    await click(page, ...ONLY_RED, ['Shift']);
    await page.keyboard.press('ArrowUp');
    await waitUntil(() => rects().find((r) => r.id === blue!.id)!.y === blue!.y - 1, 'the blue one nudged up');
    expect(rects().find((r) => r.id === red!.id)!.y).toBe(red!.y);
    // Shift+click adds it back: both move.
    await click(page, ...ONLY_RED, ['Shift']);
    await page.keyboard.press('ArrowDown');
    await waitUntil(() => rects().find((r) => r.id === blue!.id)!.y === blue!.y, 'the blue one back down');
    expect(rects().find((r) => r.id === red!.id)!.y).toBe(red!.y + 1);
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+z');
    await waitUntil(() => rects().every((r) => r.y === (r.id === red!.id ? red! : blue!).y), 'the Shift+click nudges undone');
    // Escape clears the selection: arrows then move nothing.
    await page.keyboard.press('Escape');
    await page.keyboard.press('ArrowLeft');
    await page.waitForTimeout(300);
    expect(rects().every((r) => r.x === before.get(r.id)!)).toBe(true);
  });

  step('cut and paste with Ctrl+X / Ctrl+V; undone step by step', async () => {
    const { page } = alice;
    const [red] = rects();
    await click(page, ...ONLY_RED);
    await page.keyboard.press('Control+x');
    await waitForSummary(bob.page, rectangles(1), 'bob to see the cut rectangle gone');
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    expect(JSON.parse(clip)).toMatchObject({ type: 'inkboard/clipboard', elements: [{ id: red!.id, type: 'rectangle' }] });
    // Paste at the pointer: the copy is centred there, with a new id.
    await page.mouse.move(...(await point(page, 800, 300)));
    await page.keyboard.press('Control+v');
    await waitForSummary(bob.page, rectangles(2), 'bob to see the pasted rectangle');
    const pasted = rects().find((r) => r.id !== red!.id && (r as { fillColor?: string }).fillColor === '#ffc9c9')!;
    expect(pasted.id).not.toBe(red!.id);
    expect(stored().some((e) => e.id === red!.id)).toBe(false);
    await page.keyboard.press('Control+z');
    await waitForSummary(bob.page, rectangles(1), 'bob to see the paste undone');
    await page.keyboard.press('Control+z');
    await waitForSummary(bob.page, rectangles(2), 'bob to see the cut undone');
    expect(stored().some((e) => e.id === red!.id)).toBe(true);
  });

  step('pasting plain text makes a text element; undone', async () => {
    const { page } = alice;
    await page.evaluate(() => navigator.clipboard.writeText('Pasted from elsewhere'));
    await page.mouse.move(...(await point(page, 700, 600)));
    await page.keyboard.press('Control+v');
    await waitForSummary(bob.page, (s) => s.includes('“Pasted from elsewhere”'), 'bob to see the pasted text');
    await page.keyboard.press('Control+z');
    await waitForSummary(bob.page, (s) => !s.includes('Pasted from elsewhere'), 'bob to see the text paste undone');
  });

  step('copy on one board and paste on another, in another tab (Copy and Paste buttons too)', async () => {
    const { page } = alice;
    const [, blue] = rects();
    await click(page, 550, 480);
    await page.keyboard.press('Control+c');
    expect(JSON.parse(await page.evaluate(() => navigator.clipboard.readText()))).toMatchObject({ elements: [{ id: blue!.id }] });

    const tab = await alice.context.newPage();
    tab.on('pageerror', (e) => alice.errors.push(e.message));
    await tab.goto(server.url);
    await tab.getByRole('button', { name: 'New board' }).click();
    await tab.waitForURL(/\/b\/[A-Za-z0-9_-]+$/);
    const other = new URL(tab.url()).pathname.split('/').at(-1)!;
    await tab.getByRole('status', { name: /Connection: Live/ }).waitFor();
    await tab.mouse.move(...(await point(tab, 400, 300)));
    await tab.keyboard.press('Control+v');
    await waitForSummary(tab, rectangles(1), 'the pasted rectangle on the other board');
    await waitUntil(() => stored(other).length === 1, 'the paste stored on the other board');
    const [copy] = stored(other);
    expect(copy).toMatchObject({ type: 'rectangle', fillColor: '#a5d8ff', width: blue!.type === 'rectangle' ? blue!.width : -1 });
    expect(copy!.id).not.toBe(blue!.id);

    // The buttons: Copy there, Paste back on the first board (bob sees it), then undo.
    await tab.getByRole('button', { name: 'Copy', exact: true }).click();
    await page.bringToFront();
    await page.getByRole('button', { name: 'Paste', exact: true }).click();
    await waitForSummary(bob.page, rectangles(3), 'bob to see the rectangle pasted from the other board');
    await page.keyboard.press('Control+z');
    await waitForSummary(bob.page, rectangles(2), 'bob to see that paste undone');
    await tab.close();
  });

  step('Copy as SVG and Copy as PNG put the selection on the clipboard', async () => {
    const { page } = alice;
    await click(page, 550, 480);
    await page.getByRole('button', { name: 'Copy as SVG' }).click();
    await waitUntil(async () => (await page.evaluate(() => navigator.clipboard.readText())).startsWith('<svg'), 'an SVG on the clipboard');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toContain('#a5d8ff');
    await page.getByRole('button', { name: 'Copy as PNG' }).click();
    await waitUntil(
      () => page.evaluate(async () => (await navigator.clipboard.read()).some((item) => item.types.includes('image/png'))),
      'a PNG on the clipboard',
    );
  });

  step('Shift+2 zooms to the selection, Shift+1 back to everything', async () => {
    const { page } = alice;
    const box = (await canvasOf(page).boundingBox())!;
    const centre: [number, number] = [box.width / 2, box.height / 2];
    await click(page, 550, 480);
    expect(isBlue(await colorAt(page, ...centre))).toBe(false);
    await page.keyboard.press('Shift+Digit2');
    // The blue rectangle fills the screen: its fill is in the middle, the red one is out of sight at the right edge.
    await waitColor(page, centre, isBlue, 'the blue rectangle in the middle of the screen');
    const all = await countColor(page, () => true);
    expect(await countColor(page, isBlue)).toBeGreaterThan(all / 2);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Shift+Digit1');
    await waitUntil(async () => (await countColor(page, isBlue)) < all / 4 && (await countColor(page, isRed)) > 100, 'both rectangles small in view again');
    await page.keyboard.press('Control+0');
  });

  step('tool lock: the rectangle tool stays after drawing; Q unlocks; undone', async () => {
    const { page } = alice;
    const lock = page.getByRole('button', { name: 'Lock tool' });
    await lock.click();
    await waitUntil(async () => (await lock.getAttribute('aria-pressed')) === 'true', 'the lock on');
    await pickTool(page, 'Rectangle');
    await drag(page, [[850, 450], [900, 500], [950, 550]]);
    await drag(page, [[1000, 450], [1050, 500], [1100, 550]]);
    expect(await page.getByRole('button', { name: 'Rectangle', exact: true }).getAttribute('aria-pressed')).toBe('true');
    await waitForSummary(bob.page, rectangles(4), 'bob to see both rectangles drawn with the lock');
    await page.keyboard.press('q');
    await waitUntil(async () => (await lock.getAttribute('aria-pressed')) === 'false', 'Q to unlock');
    await drag(page, [[850, 600], [900, 650], [950, 700]]);
    await waitUntil(async () => (await page.getByRole('button', { name: 'Select', exact: true }).getAttribute('aria-pressed')) === 'true', 'back to Select');
    await waitForSummary(bob.page, rectangles(5), 'bob to see the third rectangle');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Control+z');
    await waitForSummary(bob.page, rectangles(2), 'bob to see the three undone');
  });

  step('bob’s share dialog lists a newcomer live; Escape closes it', async () => {
    await bob.page.getByRole('button', { name: 'Share' }).click();
    const members = bob.page.getByRole('list', { name: 'Members' });
    await members.getByText('alice').waitFor();
    carol = await newPerson(browser, 'carol');
    await signUp(carol, server.url, new URL(link).pathname);
    await carol.page.waitForURL(`${server.url}/b/${boardId}`);
    await members.getByText('carol').waitFor();
    await bob.page.keyboard.press('Escape');
    await bob.page.getByRole('dialog').waitFor({ state: 'detached' });
    // Escape with the focus on a button inside the dialog closes it too (the board's shortcuts do not take it).
    await alice.page.getByRole('button', { name: 'Share' }).click();
    await alice.page.getByRole('button', { name: 'Create viewer link' }).focus();
    await alice.page.keyboard.press('Escape');
    await alice.page.getByRole('dialog').waitFor({ state: 'detached' });
  });

  step('the owner renames the board: the others see the new title live', async () => {
    await alice.page.getByTitle('Rename board').click();
    const input = alice.page.getByLabel('Board title');
    await input.fill('Arranged at last');
    await input.press('Enter');
    await bob.page.locator('.top-left').getByText('Arranged at last').waitFor();
    await carol!.page.locator('.top-left').getByText('Arranged at last').waitFor();
    for (const p of people()) expect(p.errors).toEqual([]);
  });
});
