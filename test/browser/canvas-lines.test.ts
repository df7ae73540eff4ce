import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { sortElements, type Arrow, type Element, type Note, type Rectangle, type Text } from '@inkboard/protocol';
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
  shareNewBoard,
  signUp,
  startWebServer,
  waitForSummary,
  waitUntil,
  type Person,
} from './helpers.js';

/**
 * Lines and arrows point by point, point editing, arrow binding, labels and sticky notes, with two
 * people on one board (each in a browser context of their own) against the real server. A new board
 * opens at zoom 1 with the world's origin at the canvas's top-left, so canvas pixels are world units.
 * Steps build on each other, in order.
 */
describe('lines, arrows, labels and notes in the browser', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Person;
  let bob: Person;
  let boardId = '';
  const stored = (): Element[] => sortElements(server.app.boards.service.peek(boardId)?.elements.values() ?? []);
  const ofType = <T extends Element['type']>(type: T) => stored().filter((e): e is Extract<Element, { type: T }> => e.type === type);
  const point = canvasPoint;
  const click = async (page: Page, x: number, y: number) => page.mouse.click(...(await point(page, x, y)));
  const worldPoints = (el: Arrow): [number, number][] => el.points.map((p) => [el.x + p[0], el.y + p[1]]);
  const near = (a: readonly number[] | undefined, b: readonly number[], tol = 1.5) => !!a && Math.abs(a[0]! - b[0]!) <= tol && Math.abs(a[1]! - b[1]!) <= tol;
  const undo = (page: Page) => page.keyboard.press('Control+z');
  /** Dark pixels (text, strokes) in the square of `r` around (x, y): a light box fill does not count. */
  const darkAt = (page: Page, x: number, y: number, r: number) =>
    canvasOf(page).evaluate(
      (canvas, [cx, cy, rr]) => {
        const c = canvas as HTMLCanvasElement;
        const k = c.width / c.getBoundingClientRect().width;
        const size = Math.max(1, Math.round(2 * rr * k));
        const d = c.getContext('2d')!.getImageData(Math.round((cx - rr) * k), Math.round((cy - rr) * k), size, size).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i]! < 100 && d[i + 1]! < 100 && d[i + 2]! < 100) n++;
        return n;
      },
      [x, y, r] as const,
    );

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

  const step = screenshotSteps(() => [alice, bob], 'failed-lines');

  step('alice creates a board and bob joins it by an editor link', async () => {
    await signUp(alice, server.url);
    boardId = await shareNewBoard(server.url, alice, bob);
    await alice.page.getByRole('list', { name: 'People on this board' }).getByText('bob').waitFor();
  });

  step('a 3-point arrow by two clicks and a double-click (rubber band following the pointer) is seen by bob and undone', async () => {
    const { page } = alice;
    await pickTool(page, 'Arrow');
    await click(page, 200, 200);
    await page.mouse.move(...(await point(page, 350, 200)), { steps: 4 });
    // The rubber band: a segment from the first point to the pointer, before any second click.
    await waitUntil(async () => (await inkAt(page, 275, 200, 4)) > 0, 'the rubber band segment on alice’s canvas');
    await click(page, 350, 200);
    await page.mouse.move(...(await point(page, 350, 350)), { steps: 4 });
    await waitUntil(async () => (await inkAt(page, 350, 275, 4)) > 0, 'the rubber band of the second segment');
    // bob sees the arrow being drawn (its preview) before it is finished.
    await waitUntil(async () => (await inkAt(bob.page, 350, 275, 4)) > 0, 'bob to see the arrow in progress');
    await page.mouse.dblclick(...(await point(page, 350, 350)));
    await waitUntil(() => ofType('arrow').length === 1, 'the arrow stored');
    const arrow = ofType('arrow')[0]!;
    expect(worldPoints(arrow)).toEqual([[200, 200], [350, 200], [350, 350]]);
    expect(arrow.startBinding ?? null).toBeNull();
    // Back to the Select tool with the arrow selected: its three points have handles.
    await page.getByRole('button', { name: 'Point 3 of 3' }).waitFor();
    await waitForSummary(bob.page, (s) => kindCount(s, 'arrow') === 1, 'bob to see the arrow');
    await waitUntil(async () => (await inkAt(bob.page, 275, 200, 4)) > 0 && (await inkAt(bob.page, 350, 275, 4)) > 0, 'both segments on bob’s canvas');

    await undo(page);
    await waitUntil(() => ofType('arrow').length === 0, 'the arrow undone');
    await waitForSummary(bob.page, (s) => kindCount(s, 'arrow') === 0, 'bob to see the arrow gone');
    await page.keyboard.press('Control+Shift+z');
    await waitUntil(() => ofType('arrow').length === 1, 'the arrow redone');
    // A simple drag still draws a two-point line; Escape drops a line being clicked.
    await pickTool(page, 'Line');
    await drag(page, [[500, 150], [560, 160], [600, 180]]);
    await waitUntil(() => ofType('line').length === 1, 'the dragged line stored');
    expect(ofType('line')[0]!.points).toHaveLength(2);
    await pickTool(page, 'Line');
    await click(page, 500, 250);
    await click(page, 600, 250);
    await page.keyboard.press('Escape');
    await page.waitForTimeout(300);
    expect(ofType('line')).toHaveLength(1);
    // Enter ends a line being clicked.
    await pickTool(page, 'Line');
    await click(page, 500, 300);
    await click(page, 560, 300);
    await click(page, 600, 330);
    await page.keyboard.press('Enter');
    await waitUntil(() => ofType('line').length === 2, 'the line ended by Enter stored');
    expect(ofType('line').map((l) => l.points.length).sort()).toEqual([2, 3]);
    // A click on the last point ends a line too (how a touch screen ends it); no text opens there.
    await pickTool(page, 'Line');
    await click(page, 700, 150);
    await click(page, 760, 200);
    await click(page, 760, 200);
    await waitUntil(() => ofType('line').length === 3, 'the line ended by a click on its last point stored');
    expect(ofType('line').map((l) => l.points.length).sort()).toEqual([2, 2, 3]);
    expect(await page.getByRole('textbox', { name: 'Text', exact: true }).count()).toBe(0);
    await undo(page);
    await undo(page);
    await undo(page);
    await waitUntil(() => ofType('line').length === 0, 'the lines undone');
  });

  step('dragging a point of the selected arrow moves it (bob sees the drag live), one op, undone', async () => {
    const { page } = alice;
    await pickTool(page, 'Select');
    await click(page, 275, 200);
    const handle = page.getByRole('button', { name: 'Point 2 of 3' });
    const box = (await handle.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(...(await point(page, 250, 120)), { steps: 6 });
    // The segment from the first point to the dragged one shows for bob while alice still holds it.
    await waitUntil(async () => (await inkAt(bob.page, 225, 160, 5)) > 0, 'bob to see the point being dragged');
    expect(near(worldPoints(ofType('arrow')[0]!)[1], [350, 200])).toBe(true);
    await page.mouse.up();
    await waitUntil(() => near(worldPoints(ofType('arrow')[0]!)[1], [250, 120]), 'the moved point stored');
    expect(near(worldPoints(ofType('arrow')[0]!)[0], [200, 200])).toBe(true);
    expect(near(worldPoints(ofType('arrow')[0]!)[2], [350, 350])).toBe(true);
    await waitUntil(async () => (await inkAt(bob.page, 225, 160, 5)) > 0 && (await inkAt(bob.page, 275, 200, 2)) === 0, 'bob to see the moved point');

    await undo(page);
    await waitUntil(() => near(worldPoints(ofType('arrow')[0]!)[1], [350, 200]), 'the point back where it was');
    await waitUntil(async () => (await inkAt(bob.page, 275, 200, 4)) > 0, 'bob to see the point back');

    // A focused handle: arrow keys move its point (one op a press), Delete takes it away; each undone.
    await page.getByRole('button', { name: 'Point 3 of 3' }).focus();
    await page.keyboard.press('Shift+ArrowRight');
    await waitUntil(() => near(worldPoints(ofType('arrow')[0]!)[2], [360, 350]), 'the last point moved by 10');
    expect(near(worldPoints(ofType('arrow')[0]!)[0], [200, 200])).toBe(true);
    await page.getByRole('button', { name: 'Point 2 of 3' }).focus();
    await page.keyboard.press('Delete');
    await waitUntil(() => ofType('arrow')[0]?.points.length === 2, 'the middle point removed');
    expect(worldPoints(ofType('arrow')[0]!)).toEqual([[200, 200], [360, 350]]);
    await undo(page);
    await waitUntil(() => ofType('arrow')[0]?.points.length === 3, 'the point back');
    await undo(page);
    await waitUntil(() => near(worldPoints(ofType('arrow')[0]!)[2], [350, 350]), 'the last point back');
  });

  let rect: Rectangle;
  step('an arrow dropped on a box binds to it and stays attached when bob moves the box; bob undoes the move', async () => {
    const { page } = alice;
    await pickTool(page, 'Rectangle');
    await page.getByRole('button', { name: 'Fill Light blue' }).click();
    await drag(page, [[600, 300], [680, 360], [760, 420]]);
    await waitUntil(() => ofType('rectangle').length === 1, 'the box stored');
    rect = ofType('rectangle')[0]!;
    await pickTool(page, 'Arrow');
    await page.mouse.move(...(await point(page, 420, 520)));
    await page.mouse.down();
    await page.mouse.move(...(await point(page, 600, 420)), { steps: 4 });
    await page.mouse.move(...(await point(page, 680, 360)), { steps: 4 });
    // While the end is over the box, the box is outlined (the selection colour #6965db, 5 px outside it).
    await waitUntil(async () => (await inkAt(page, 680, 295, 2)) > 0, 'the box highlighted under the arrow end');
    await page.mouse.up();
    await waitUntil(() => ofType('arrow').length === 2, 'the bound arrow stored');
    const bound = ofType('arrow').find((a) => a.endBinding)!;
    expect(bound.endBinding).toEqual({ elementId: rect.id, fixedPoint: [0.5, 0.5] });
    expect(bound.startBinding ?? null).toBeNull();
    expect(near(worldPoints(bound).at(-1), [680, 360])).toBe(true);
    await waitUntil(async () => (await inkAt(page, 680, 295, 2)) === 0, 'the highlight gone');

    // bob drags the box by 100, 80.
    await waitForSummary(bob.page, (s) => kindCount(s, 'arrow') === 2 && kindCount(s, 'rectangle') === 1, 'bob to see the box and the bound arrow');
    await pickTool(bob.page, 'Select');
    await bob.page.mouse.move(...(await point(bob.page, 720, 400)));
    await bob.page.mouse.down();
    await bob.page.mouse.move(...(await point(bob.page, 820, 480)), { steps: 6 });
    // While bob still holds the box, alice sees the arrow follow it (previews of the box and the arrow).
    await waitUntil(async () => (await inkAt(page, 600, 480, 4)) > 0, 'the arrow following the dragged box on alice’s canvas');
    expect(ofType('rectangle')[0]!.x).toBe(rect.x);
    await bob.page.mouse.up();
    await waitUntil(() => ofType('rectangle')[0]!.x === rect.x + 100, 'the box moved by bob');
    const moved = ofType('arrow').find((a) => a.id === bound.id)!;
    expect(ofType('rectangle')[0]!.y).toBe(rect.y + 80);
    expect(near(worldPoints(moved).at(-1), [780, 440])).toBe(true);
    expect(near(worldPoints(moved)[0], [420, 520])).toBe(true);
    expect(moved.endBinding?.elementId).toBe(rect.id);
    // alice's canvas draws the arrow to the box's new middle once the move is stored too.
    await waitUntil(async () => (await inkAt(page, 600, 480, 4)) > 0, 'the arrow drawn to the moved box on alice’s canvas');

    await undo(bob.page);
    await waitUntil(() => ofType('rectangle')[0]!.x === rect.x, 'bob’s move undone');
    expect(near(worldPoints(ofType('arrow').find((a) => a.id === bound.id)!).at(-1), [680, 360])).toBe(true);

    // alice drags the arrow alone: it lets go of the box and moves whole; undone, it is bound again.
    await pickTool(page, 'Select');
    await drag(page, [[550, 440], [550, 390], [550, 340]]);
    await waitUntil(() => ofType('arrow').find((a) => a.id === bound.id)!.endBinding == null, 'the arrow let go of the box');
    const freed = ofType('arrow').find((a) => a.id === bound.id)!;
    expect(near(worldPoints(freed).at(-1), [680, 260])).toBe(true);
    expect(near(worldPoints(freed)[0], [420, 420])).toBe(true);
    await undo(page);
    await waitUntil(() => ofType('arrow').find((a) => a.id === bound.id)!.endBinding?.elementId === rect.id, 'the arrow bound again');
    expect(near(worldPoints(ofType('arrow').find((a) => a.id === bound.id)!).at(-1), [680, 360])).toBe(true);
  });

  step('a label typed into the box (double-click) is centred in it, moves with it when bob moves it, and edits on double-click', async () => {
    const { page } = alice;
    await pickTool(page, 'Select');
    await page.mouse.dblclick(...(await point(page, 730, 320)));
    const area = page.getByRole('textbox', { name: 'Text', exact: true });
    await area.waitFor();
    // The typing box sits in the middle of the box (600..760 x 300..420).
    const [cx, cy] = await point(page, 680, 360);
    const typing = (await area.boundingBox())!;
    expect(Math.abs(typing.x + typing.width / 2 - cx)).toBeLessThan(3);
    expect(Math.abs(typing.y + typing.height / 2 - cy)).toBeLessThan(3);
    await page.keyboard.type('Hello');
    await page.keyboard.press('Escape');
    await area.waitFor({ state: 'detached' });
    await waitUntil(() => ofType('text').length === 1, 'the label stored');
    const label = ofType('text')[0]!;
    expect(label).toMatchObject({ text: 'Hello', containerId: rect.id });
    // Centred: the label's block is in the middle of the box (x, y at its top-left).
    const width = 5 * label.fontSize * 0.6;
    expect(Math.abs(label.x + width / 2 - (rect.x + rect.width / 2))).toBeLessThan(2);
    await waitForSummary(bob.page, (s) => s.includes('“Hello”'), 'bob to see the label');

    await bob.page.mouse.move(...(await point(bob.page, 740, 410)));
    await bob.page.mouse.down();
    await bob.page.mouse.move(...(await point(bob.page, 640, 510)), { steps: 6 });
    await waitUntil(async () => (await darkAt(page, 600, 458, 6)) > 0 && (await darkAt(page, 680, 360, 10)) === 0, 'the label following the dragged box on alice’s canvas');
    expect(ofType('rectangle')[0]!.x).toBe(rect.x);
    await bob.page.mouse.up();
    await waitUntil(() => ofType('rectangle')[0]!.x === rect.x - 100, 'the box moved by bob');
    const moved = ofType('text')[0] as Text;
    expect(moved.x).toBeCloseTo(label.x - 100, 1);
    expect(moved.y).toBeCloseTo(label.y + 100, 1);
    // The label is drawn in the box's new middle on alice's canvas, and no longer at the old one.
    await waitUntil(async () => (await darkAt(page, 600, 458, 6)) > 0 && (await darkAt(page, 680, 360, 10)) === 0, 'the label drawn in the moved box');

    await page.mouse.dblclick(...(await point(page, 530, 420)));
    await area.waitFor();
    await page.keyboard.press('End');
    await page.keyboard.type(' world');
    await page.keyboard.press('Escape');
    await area.waitFor({ state: 'detached' });
    await waitUntil(() => ofType('text')[0]?.text === 'Hello world', 'the label edited');
    expect(ofType('text')).toHaveLength(1);
    await waitForSummary(bob.page, (s) => s.includes('“Hello world”'), 'bob to see the edited label');
    // Enter on the selected box opens its label too.
    await click(page, 640, 500);
    await page.keyboard.press('Enter');
    await area.waitFor();
    expect(await area.inputValue()).toBe('Hello world');
    await page.keyboard.press('Escape');
    await area.waitFor({ state: 'detached' });
    // Deleting the box deletes its label with it (one op: one undo brings both back).
    await click(page, 640, 500);
    await page.keyboard.press('Delete');
    await waitUntil(() => ofType('rectangle').length === 0 && ofType('text').length === 0, 'the box and its label deleted');
    await undo(page);
    await waitUntil(() => ofType('rectangle').length === 1 && ofType('text')[0]?.text === 'Hello world', 'the box and its label back');
    await undo(page);
    await waitUntil(() => ofType('text')[0]?.text === 'Hello', 'the edit undone');
    await undo(page);
    await waitUntil(() => ofType('text').length === 0, 'the label undone');
  });

  step('a sticky note placed with N and typed into is seen by bob; its text edits on double-click; both undone', async () => {
    const { page } = alice;
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Sticky note' }).click();
    await waitUntil(async () => (await page.getByRole('button', { name: 'Sticky note' }).getAttribute('aria-pressed')) === 'true', 'the Sticky note tool');
    await click(page, 1000, 250);
    const area = page.getByRole('textbox', { name: 'Text', exact: true });
    await area.waitFor();
    // bob sees the note placed while alice types (its preview), yellow (#fff3bf).
    await waitUntil(async () => (await inkAt(bob.page, 1000, 250, 2)) > 0, 'bob to see the note being typed');
    await page.keyboard.type('Buy milk and bread for the team');
    await page.keyboard.press('Escape');
    await area.waitFor({ state: 'detached' });
    await waitUntil(() => ofType('note').length === 1, 'the note stored');
    const note = ofType('note')[0] as Note;
    expect(note).toMatchObject({ text: 'Buy milk and bread for the team', fillColor: '#fff3bf', x: 900, y: 150, width: 200, height: 200 });
    await waitForSummary(bob.page, (s) => kindCount(s, 'sticky note') === 1 && s.includes('Buy milk'), 'bob to see the note');
    expect(await page.getByRole('button', { name: 'Select', exact: true }).getAttribute('aria-pressed')).toBe('true');

    // The selected note's fill and font size change from the style panel (one op each).
    await page.getByRole('button', { name: 'Fill Light red' }).click();
    await waitUntil(() => ofType('note')[0]?.fillColor === '#ffc9c9', 'the note filled light red');
    await page.getByRole('button', { name: 'Font size L', exact: true }).click();
    await waitUntil(() => (ofType('note')[0]?.fontSize ?? 0) > note.fontSize, 'the note’s font size larger');
    await undo(page);
    await undo(page);
    await waitUntil(() => ofType('note')[0]?.fillColor === '#fff3bf' && ofType('note')[0]?.fontSize === note.fontSize, 'the note’s fill and size undone');

    await page.mouse.dblclick(...(await point(page, 1000, 300)));
    await area.waitFor();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('!');
    await page.keyboard.press('Escape');
    await area.waitFor({ state: 'detached' });
    await waitUntil(() => ofType('note')[0]?.text === 'Buy milk and bread for the team!', 'the note edited');

    await undo(page);
    await waitUntil(() => ofType('note')[0]?.text === 'Buy milk and bread for the team', 'the edit undone');
    await undo(page);
    await waitUntil(() => ofType('note').length === 0, 'the note undone');
    await waitForSummary(bob.page, (s) => kindCount(s, 'sticky note') === 0, 'bob to see the note gone');
    // N picks the tool too.
    await page.keyboard.press('n');
    await waitUntil(async () => (await page.getByRole('button', { name: 'Sticky note' }).getAttribute('aria-pressed')) === 'true', 'N picks the Sticky note tool');
  });
});
