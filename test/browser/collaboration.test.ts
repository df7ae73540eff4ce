import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { Element } from '@inkboard/protocol';
import type { TestServer } from '../helpers/server.js';
import {
  boardSummary,
  canvasOf,
  canvasPoint,
  drag,
  drawRectangle,
  drawStroke,
  elementCount,
  inkAt,
  kindCount,
  launchBrowser,
  newPerson,
  pickTool,
  screenshots,
  screenshotSteps,
  signUp,
  startWebServer,
  waitForSummary,
  waitUntil,
  writeText,
  type Person,
} from './helpers.js';

/**
 * Two people (and later a viewer) on one board, each in a browser context of their own, against the
 * real server serving the built app. The steps build on each other, in order.
 */
describe('collaborating in the browser', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Person;
  let bob: Person;
  let carol: Person | undefined;
  let boardId = '';
  const people = () => [alice, bob, carol].filter((p): p is Person => p !== undefined);
  const stored = (): Element[] => [...(server.app.boards.service.peek(boardId)?.elements.values() ?? [])];
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

  const step = screenshotSteps(people, 'failed');

  step('two people sign up; one creates a board and shares an editor link that the other opens', async () => {
    await signUp(alice, server.url);
    await alice.page.getByRole('button', { name: 'New board' }).click();
    await alice.page.waitForURL(/\/b\/[A-Za-z0-9_-]+$/);
    boardId = new URL(alice.page.url()).pathname.split('/').at(-1)!;
    await alice.page.getByRole('status', { name: /Connection: Live/ }).waitFor();

    await alice.page.getByRole('button', { name: 'Share' }).click();
    await alice.page.getByRole('button', { name: 'Create editor link' }).click();
    const link = await alice.page.getByLabel('Editor link').inputValue();
    expect(link).toMatch(new RegExp(`^${server.url}/join/[A-Za-z0-9_-]+$`));
    await alice.page.getByRole('button', { name: 'Close', exact: true }).click();

    await signUp(bob, server.url, new URL(link).pathname);
    await bob.page.waitForURL(`${server.url}/b/${boardId}`);
    await bob.page.getByRole('status', { name: /Connection: Live/ }).waitFor();
    // The owner is told someone joined, and each sees the other in the presence list.
    await alice.page.getByText('bob joined').waitFor();
    await alice.page.getByRole('list', { name: 'People on this board' }).getByText('bob').waitFor();
    await bob.page.getByRole('list', { name: 'People on this board' }).getByText('alice').waitFor();
  });

  step('both draw with the pen, rectangles and text, and each sees the other’s work and cursor', async () => {
    await drawStroke(alice.page, 150, 200);
    await drawRectangle(alice.page, 150, 320, 160, 100);
    await writeText(alice.page, 150, 500, 'Hello from Alice');

    await pickTool(bob.page, 'Pen');
    await bob.page.getByRole('button', { name: 'Stroke Red' }).click();
    await drawStroke(bob.page, 600, 200);
    await drawRectangle(bob.page, 600, 320, 120, 90);
    await writeText(bob.page, 600, 500, 'Bob was here');

    const both = (s: string) => kindCount(s, 'freehand stroke') === 2 && kindCount(s, 'rectangle') === 2 && s.includes('“Hello from Alice”') && s.includes('“Bob was here”');
    await waitForSummary(alice.page, both, 'Alice to see both people’s drawings');
    await waitForSummary(bob.page, both, 'Bob to see both people’s drawings');
    expect(stored()).toHaveLength(6);
    // Drawn, not only stored: Alice's canvas has Bob's red rectangle and Bob's has her stroke.
    expect(await inkAt(alice.page, 600, 360)).toBeGreaterThan(0);
    expect(await inkAt(bob.page, 150, 200)).toBeGreaterThan(0);

    // Cursors with names.
    await alice.page.mouse.move(400, 650);
    await bob.page.mouse.move(900, 650);
    await bob.page.locator('.remote-cursor[data-name="alice"]').waitFor();
    await alice.page.locator('.remote-cursor[data-name="bob"]').waitFor();
  });

  step('a stroke shows to the other person while it is being drawn', async () => {
    await pickTool(bob.page, 'Pen');
    const box = (await canvasOf(bob.page).boundingBox())!;
    await bob.page.mouse.move(box.x + 800, box.y + 620);
    await bob.page.mouse.down();
    for (let i = 1; i <= 12; i++) await bob.page.mouse.move(box.x + 800 + i * 10, box.y + 620 + (i % 2) * 6);
    // Not committed yet, but Alice already sees the ink.
    await waitUntil(async () => (await inkAt(alice.page, 860, 622, 10)) > 0, 'Alice to see Bob’s stroke in progress');
    expect(stored()).toHaveLength(6);
    await bob.page.mouse.up();
    await waitForSummary(alice.page, (s) => kindCount(s, 'freehand stroke') === 3, 'the finished stroke');
  });

  step('chat goes both ways, with unread count and typing indicator', async () => {
    await alice.page.getByRole('button', { name: 'Chat' }).click();
    await alice.page.getByLabel('Message', { exact: true }).fill('Hi Bob, nice drawing!');
    await alice.page.getByRole('button', { name: 'Send', exact: true }).click();
    await alice.page.getByRole('list', { name: 'Conversation' }).getByText('Hi Bob, nice drawing!').waitFor();

    // Bob's chat is closed: an unread count shows on its button.
    await bob.page.locator('.unread').getByText('1').waitFor();
    await bob.page.getByRole('button', { name: 'Chat' }).click();
    const bobList = bob.page.getByRole('list', { name: 'Conversation' });
    await bobList.getByText('Hi Bob, nice drawing!').waitFor();
    expect(await bobList.getByText('alice', { exact: true }).isVisible()).toBe(true);
    expect(await bob.page.locator('.unread').count()).toBe(0);

    await bob.page.getByLabel('Message', { exact: true }).pressSequentially('Thanks Alice');
    await alice.page.getByText('bob is typing…').waitFor();
    await bob.page.keyboard.press('Enter');
    await alice.page.getByRole('list', { name: 'Conversation' }).getByText('Thanks Alice').waitFor();
    await alice.page.getByRole('button', { name: 'Close chat' }).click();
    await bob.page.getByRole('button', { name: 'Close chat' }).click();
  });

  step('undo removes only one’s own stroke; redo brings it back', async () => {
    await pickTool(alice.page, 'Pen');
    await alice.page.getByRole('button', { name: 'Stroke Blue' }).click();
    await drawStroke(alice.page, 350, 640);
    await waitForSummary(bob.page, (s) => kindCount(s, 'freehand stroke') === 4, 'Bob to see Alice’s blue stroke');
    await pickTool(bob.page, 'Pen');
    await bob.page.getByRole('button', { name: 'Stroke Green' }).click();
    await drawStroke(bob.page, 600, 700);
    await waitForSummary(alice.page, (s) => kindCount(s, 'freehand stroke') === 5, 'Alice to see Bob’s green stroke');

    // Bob drew last, yet Alice's undo takes back her own stroke, not his.
    await alice.page.getByRole('button', { name: 'Undo' }).click();
    await waitForSummary(bob.page, (s) => kindCount(s, 'freehand stroke') === 4, 'the undo to reach Bob');
    const colours = () => stored().filter((e) => e.type === 'stroke').map((e) => e.strokeColor);
    expect(colours()).not.toContain('#1971c2');
    expect(colours()).toContain('#2f9e44');

    await canvasOf(alice.page).focus();
    await alice.page.keyboard.press('Control+Shift+Z');
    await waitForSummary(bob.page, (s) => kindCount(s, 'freehand stroke') === 5, 'the redo to reach Bob');
    expect(colours()).toContain('#1971c2');
    await alice.page.keyboard.press('Control+z');
    await waitForSummary(bob.page, (s) => kindCount(s, 'freehand stroke') === 4, 'the second undo to reach Bob');
    expect(colours()).toEqual(expect.arrayContaining(['#2f9e44', '#e03131']));
    expect(colours()).not.toContain('#1971c2');
  });

  step('a reload shows the same board at its own address; chat history pages in on scroll', async () => {
    // A long conversation, stored while Bob is away.
    const author = { id: 'u-archive', name: 'archivist', color: '#0c8599' };
    for (let i = 1; i <= 60; i++) await server.app.boards.storage.addChatMessage(boardId, author, `message ${i}`, Date.now());

    const before = await boardSummary(bob.page);
    await bob.page.reload();
    await bob.page.getByRole('status', { name: /Connection: Live/ }).waitFor();
    expect(bob.page.url()).toBe(`${server.url}/b/${boardId}`);
    await waitForSummary(bob.page, (s) => s === before, 'the reloaded board to match');
    await bob.page.getByRole('list', { name: 'People on this board' }).getByText('alice').waitFor();

    // Opening the chat shows the newest page; scrolling to the top loads the older ones.
    await bob.page.getByRole('button', { name: 'Chat' }).click();
    const list = bob.page.getByRole('list', { name: 'Conversation' });
    await list.getByText('message 60', { exact: true }).waitFor();
    const messages = list.locator('.message');
    expect(await messages.count()).toBeLessThan(62);
    expect(await list.getByText('Thanks Alice').count()).toBe(0);
    await list.evaluate((el) => (el.scrollTop = 0));
    await list.getByText('Thanks Alice').waitFor();
    expect(await messages.count()).toBe(62);
    await bob.page.getByRole('button', { name: 'Close chat' }).click();
  });

  step('a viewer sees the board live but has no drawing tools and cannot draw', async () => {
    await alice.page.getByRole('button', { name: 'Share' }).click();
    await alice.page.getByRole('button', { name: 'Create viewer link' }).click();
    const link = await alice.page.getByLabel('Viewer link').inputValue();
    await alice.page.getByRole('button', { name: 'Close', exact: true }).click();

    carol = await newPerson(browser, 'carol');
    await signUp(carol, server.url, new URL(link).pathname);
    await carol.page.waitForURL(`${server.url}/b/${boardId}`);
    await carol.page.getByRole('status', { name: /Connection: Live/ }).waitFor();
    const aliceSees = await boardSummary(alice.page);
    await waitForSummary(carol.page, (s) => s === aliceSees, 'the viewer to see the board');

    expect(await carol.page.getByText('View only').isVisible()).toBe(true);
    for (const tool of ['Select', 'Pen', 'Line', 'Arrow', 'Rectangle', 'Ellipse', 'Text', 'Eraser', 'Undo', 'Redo', 'Clear board']) {
      expect(await carol.page.getByRole('button', { name: tool, exact: true }).count(), `${tool} button`).toBe(0);
    }
    const count = stored().length;
    await canvasOf(carol.page).focus();
    await carol.page.keyboard.press('p');
    await drag(carol.page, [[300, 300], [400, 380], [500, 300]]);
    await carol.page.keyboard.press('r');
    await drag(carol.page, [[300, 300], [450, 420]]);
    await carol.page.keyboard.press('Delete');
    await carol.page.keyboard.press('Control+z');
    expect(stored()).toHaveLength(count);
    expect(elementCount(await boardSummary(carol.page))).toBe(count);

    // Live for the viewer too.
    await pickTool(alice.page, 'Ellipse');
    await drag(alice.page, [[900, 300], [1000, 380]]);
    await waitForSummary(carol.page, (s) => kindCount(s, 'ellipse') === 1, 'the viewer to see the new ellipse');
  });

  step('exports: PNG (1x and 2x) and SVG download as valid files', async () => {
    const { page } = alice;
    const exportAs = async (item: string) => {
      await page.getByRole('button', { name: 'Export' }).click();
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: item }).click()]);
      const path = await download.path();
      return { name: download.suggestedFilename(), data: readFileSync(path) };
    };
    const png1 = await exportAs('PNG 1x');
    const png2 = await exportAs('PNG 2x');
    for (const png of [png1, png2]) {
      expect(png.name).toMatch(/\.png$/);
      expect([...png.data.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    }
    const width = (b: Buffer) => b.readUInt32BE(16);
    expect(width(png1.data)).toBeGreaterThan(500);
    expect(Math.abs(width(png2.data) - 2 * width(png1.data))).toBeLessThanOrEqual(2);

    const svg = await exportAs('SVG');
    expect(svg.name).toMatch(/\.svg$/);
    const parsed = await page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
      return {
        error: doc.querySelector('parsererror')?.textContent ?? null,
        root: doc.documentElement.nodeName,
        rects: doc.querySelectorAll('rect[data-id]').length,
        ellipses: doc.querySelectorAll('ellipse[data-id]').length,
        strokes: doc.querySelectorAll('path[data-id]').length,
        texts: [...doc.querySelectorAll('text')].map((t) => t.textContent),
      };
    }, svg.data.toString('utf8'));
    expect(parsed.error).toBeNull();
    expect(parsed.root).toBe('svg');
    const board = stored();
    expect(parsed.rects).toBe(board.filter((e) => e.type === 'rectangle').length);
    expect(parsed.ellipses).toBe(1);
    expect(parsed.strokes).toBe(board.filter((e) => e.type === 'stroke').length);
    expect(parsed.texts).toEqual(expect.arrayContaining(['Hello from Alice', 'Bob was here']));

    const json = await exportAs('JSON');
    expect(JSON.parse(json.data.toString('utf8')).elements).toHaveLength(board.length);
  });

  step('a drawing made offline reaches the other person once back online', async () => {
    const count = stored().length;
    await bob.context.setOffline(true);
    await bob.page.getByRole('status', { name: /Connection: Offline/ }).waitFor();
    await drawRectangle(bob.page, 300, 600, 120, 80);
    // Visible at once for Bob, waiting to be sent.
    await waitForSummary(bob.page, (s) => kindCount(s, 'rectangle') === 3, 'Bob to see his offline rectangle');
    await bob.page.getByRole('status', { name: /1 unsent/ }).waitFor();
    expect(stored()).toHaveLength(count);

    await bob.context.setOffline(false);
    await waitForSummary(alice.page, (s) => kindCount(s, 'rectangle') === 3, 'Alice to receive the offline rectangle', 30_000);
    await bob.page.getByRole('status', { name: /Connection: Live/ }).waitFor();
    expect(stored()).toHaveLength(count + 1);
    expect(await boardSummary(bob.page)).toBe(await boardSummary(alice.page));
  });

  step('select, move, delete, erase, edit text, and clear the board (undoable)', async () => {
    const { page } = alice;
    const bobSees = (check: (s: string) => boolean, what: string) => waitForSummary(bob.page, check, what);

    // Double-click a text to edit it in place.
    await pickTool(page, 'Select');
    await page.mouse.dblclick(...(await point(page, 200, 500)));
    const area = page.getByRole('textbox', { name: 'Text', exact: true });
    expect(await area.inputValue()).toBe('Hello from Alice');
    await page.keyboard.press('End');
    await page.keyboard.type('!!');
    await page.keyboard.press('Escape');
    await bobSees((s) => s.includes('“Hello from Alice!!”'), 'the edited text');

    // Drag Bob's red rectangle by its edge, then delete it with the Delete key.
    const red = () => stored().find((e) => e.type === 'rectangle' && e.strokeColor === '#e03131');
    expect(red()?.x).toBe(600);
    await drag(page, [[600, 360], [625, 360], [650, 360]]);
    await waitUntil(() => red()?.x === 650, 'the rectangle to move');
    const rectangles = kindCount(await boardSummary(page), 'rectangle');
    await page.keyboard.press('Delete');
    await bobSees((s) => kindCount(s, 'rectangle') === rectangles - 1, 'the deleted rectangle');

    // The eraser removes whole elements it touches: Alice's first stroke.
    const strokes = kindCount(await boardSummary(page), 'freehand stroke');
    await pickTool(page, 'Eraser');
    await drag(page, [[150, 170], [150, 200], [150, 230]]);
    await bobSees((s) => kindCount(s, 'freehand stroke') === strokes - 1, 'the erased stroke');

    // Clear asks first, and can be undone.
    const before = await boardSummary(page);
    await page.getByRole('button', { name: 'Clear board' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Clear board' }).click();
    await bobSees((s) => s === 'The board is empty.', 'the cleared board');
    await canvasOf(page).focus();
    await page.keyboard.press('Control+z');
    await bobSees((s) => s === before, 'the board to come back');
    expect(stored()).toHaveLength(elementCount(before));

    for (const p of people()) expect(p.errors, `${p.name}'s page errors`).toEqual([]);
    await screenshots(people(), 'collaboration-final');
  });
});
