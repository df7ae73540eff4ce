import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { sortElements, type Element } from '@inkboard/protocol';
import type { TestServer } from '../helpers/server.js';
import {
  canvasOf,
  canvasPoint,
  drag,
  launchBrowser,
  newPerson,
  pickTool,
  screenshotSteps,
  shareNewBoard,
  signUp,
  startWebServer,
  waitUntil,
  writeText,
  type Person,
} from './helpers.js';

type Rgb = [number, number, number];

/** The colour of the canvas at (x, y) (CSS pixels, canvas-relative). */
async function colorAt(page: Page, x: number, y: number): Promise<Rgb> {
  return canvasOf(page).evaluate(
    (canvas, [cx, cy]) => {
      const c = canvas as HTMLCanvasElement;
      const k = c.width / c.getBoundingClientRect().width;
      const d = c.getContext('2d')!.getImageData(Math.round(cx * k), Math.round(cy * k), 1, 1).data;
      return [d[0]!, d[1]!, d[2]!] as Rgb;
    },
    [x, y] as const,
  );
}

// The fills: light red #ffc9c9 and light blue #a5d8ff; the board's white.
const isRed = ([r, , b]: Rgb) => r > 240 && b < 225;
const isBlue = ([r, , b]: Rgb) => r < 190 && b > 240;
const isWhite = ([r, g, b]: Rgb) => r > 245 && g > 245 && b > 245;

/**
 * Transform handles, groups, locks and alignment with two people on one board (each in a browser
 * context of their own) against the real server: what one does the other sees (while dragging, too),
 * and Ctrl+Z takes it back. Steps build on each other, in order. A new board opens at 100% zoom with
 * the world's origin at the canvas's top-left, so canvas pixels are world units for both.
 */
describe('transforming a selection in the browser', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Person;
  let bob: Person;
  let boardId = '';
  // Rectangle A (red, filled): 200 x 150 at (300, 300); its centre.
  const A = { x: 300, y: 300, w: 200, h: 150 };
  const CENTRE: [number, number] = [400, 375];
  const EMPTY: [number, number] = [1100, 700];
  const people = () => [alice, bob].filter((p): p is Person => p !== undefined);
  const stored = (): Element[] => sortElements(server.app.boards.service.peek(boardId)?.elements.values() ?? []);
  const rects = () => stored().filter((e): e is Extract<Element, { type: 'rectangle' }> => e.type === 'rectangle');
  const rectA = () => rects()[0]!;
  const point = canvasPoint;
  const click = async (page: Page, x: number, y: number, modifiers: ('Shift' | 'Alt')[] = []) => {
    for (const m of modifiers) await page.keyboard.down(m);
    await page.mouse.click(...(await point(page, x, y)));
    for (const m of modifiers) await page.keyboard.up(m);
  };
  /** Where a named handle is, canvas-relative (its invisible button is centred on it). */
  const handleAt = async (page: Page, name: string): Promise<[number, number]> => {
    const button = page.getByRole('group', { name: 'Transform handles' }).getByRole('button', { name, exact: true });
    const b = (await button.boundingBox())!;
    const c = (await canvasOf(page).boundingBox())!;
    return [b.x + b.width / 2 - c.x, b.y + b.height / 2 - c.y];
  };
  const cursorOf = (page: Page) => canvasOf(page).evaluate((c) => (c as HTMLElement).style.cursor);
  const hasHandles = (page: Page) => page.getByRole('group', { name: 'Transform handles' }).isVisible();
  /** Presses at `from`, moves through `path` (held keys down), and releases unless `hold`. */
  const dragFrom = async (page: Page, from: [number, number], path: [number, number][], keys: string[] = []) => {
    for (const k of keys) await page.keyboard.down(k);
    await page.mouse.move(...(await point(page, ...from)));
    await page.mouse.down();
    for (const p of path) await page.mouse.move(...(await point(page, ...p)), { steps: 6 });
    await page.mouse.up();
    for (const k of keys) await page.keyboard.up(k);
  };
  const waitColor = (page: Page, at: [number, number], test: (c: Rgb) => boolean, what: string) => waitUntil(async () => test(await colorAt(page, ...at)), what);
  const near = (a: number, b: number, eps = 0.6) => Math.abs(a - b) <= eps;
  const waitStored = (check: () => boolean, what: string) => waitUntil(check, what);

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

  const step = screenshotSteps(people, 'failed-transform');

  step('alice creates a board, bob joins it by an editor link, alice draws a filled rectangle', async () => {
    await signUp(alice, server.url);
    boardId = await shareNewBoard(server.url, alice, bob);

    await pickTool(alice.page, 'Rectangle');
    await alice.page.getByRole('button', { name: 'Fill Light red' }).click();
    await drag(alice.page, [[A.x, A.y], [A.x + A.w / 2, A.y + A.h / 2], [A.x + A.w, A.y + A.h]]);
    await waitColor(bob.page, CENTRE, isRed, 'bob to see the red rectangle');
    // Bob may see it through the live preview before alice's push is stored.
    await waitStored(() => rects().length === 1, 'the rectangle to be stored');
    expect(rectA()).toMatchObject({ x: A.x, y: A.y, width: A.w, height: A.h });
  });

  step('the south-east handle resizes; bob sees it while it is dragged and after; Ctrl+Z takes it back', async () => {
    const { page } = alice;
    // Just drawn, the rectangle is selected and shows its handles.
    const se = await handleAt(page, 'Resize south-east');
    expect(se[0]).toBeGreaterThan(A.x + A.w);
    await page.mouse.move(...(await point(page, ...se)));
    // Each handle has its cursor: a diagonal one on this corner.
    await waitUntil(async () => (await cursorOf(page)) === 'nwse-resize', 'the corner cursor');
    await page.mouse.down();
    await page.mouse.move(...(await point(page, se[0] + 60, se[1] + 30)), { steps: 6 });
    // Live: bob sees the bigger box before alice lets go; nothing is stored yet.
    await waitColor(bob.page, [545, 470], isRed, 'bob to see the preview of the resize');
    expect(rectA().width).toBe(A.w);
    await page.mouse.move(...(await point(page, se[0] + 100, se[1] + 50)), { steps: 6 });
    await page.mouse.up();
    await waitStored(() => near(rectA().width, A.w + 100) && near(rectA().height, A.h + 50), 'the resize to be stored');
    expect(rectA()).toMatchObject({ x: A.x, y: A.y });
    await waitColor(bob.page, [585, 490], isRed, 'bob to see the resized rectangle');

    await page.keyboard.press('Control+z');
    await waitStored(() => rectA().width === A.w && rectA().height === A.h, 'the resize to be undone');
    await waitColor(bob.page, [585, 490], isWhite, 'bob to see the resize undone');
  });

  step('Shift keeps the aspect ratio, Alt resizes from the centre; each undone', async () => {
    const { page } = alice;
    const se = await handleAt(page, 'Resize south-east');
    await dragFrom(page, se, [[se[0] + 100, se[1] + 10]], ['Shift']);
    await waitStored(() => near(rectA().width, 300), 'the Shift resize to be stored');
    expect(rectA().width / rectA().height).toBeCloseTo(A.w / A.h, 2);
    expect(near(rectA().height, 225)).toBe(true);
    await waitColor(bob.page, [590, 515], isRed, 'bob to see the Shift resize');
    await page.keyboard.press('Control+z');
    await waitStored(() => rectA().width === A.w && rectA().height === A.h, 'the Shift resize to be undone');

    const e = await handleAt(page, 'Resize east');
    await dragFrom(page, e, [[e[0] + 50, e[1]]], ['Alt']);
    await waitStored(() => near(rectA().width, 300), 'the Alt resize to be stored');
    expect(near(rectA().x, A.x - 50)).toBe(true);
    expect(rectA().height).toBe(A.h);
    await waitColor(bob.page, [270, 375], isRed, 'bob to see the box grown to the left too');
    await page.keyboard.press('Control+z');
    await waitStored(() => rectA().width === A.w && rectA().x === A.x, 'the Alt resize to be undone');
    await waitColor(bob.page, [270, 375], isWhite, 'bob to see the Alt resize undone');
  });

  step('the rotation handle turns the box (bob sees it turn), the handles turn with it; Shift snaps to 15 degrees', async () => {
    const { page } = alice;
    const rotate = await handleAt(page, 'Rotate');
    expect(near(rotate[0], CENTRE[0], 1)).toBe(true);
    expect(rotate[1]).toBeLessThan(A.y);
    // A quarter turn clockwise: from above the centre to its right.
    await page.mouse.move(...(await point(page, ...rotate)));
    await page.mouse.down();
    await page.mouse.move(...(await point(page, CENTRE[0] + 150, CENTRE[1])), { steps: 8 });
    // Inside the turned box, outside the original (the turned box is 150 wide and 200 high).
    await waitColor(bob.page, [400, 285], isRed, 'bob to see the box turning');
    expect(rectA().angle ?? 0).toBe(0);
    await page.mouse.up();
    await waitStored(() => Math.abs((rectA().angle ?? 0) - Math.PI / 2) < 0.03, 'the turn to be stored');
    expect(rectA()).toMatchObject({ width: A.w, height: A.h });
    await waitColor(bob.page, [490, 375], isWhite, 'bob to see the turned box leave its old right side');
    // The outline and handles turned with the box: the rotation handle is now right of it.
    const turned = await handleAt(page, 'Rotate');
    expect(turned[0]).toBeGreaterThan(CENTRE[0] + A.h / 2);
    expect(near(turned[1], CENTRE[1], 3)).toBe(true);
    // Cursors turn too: the top side's handle now resizes left and right.
    await page.mouse.move(...(await point(page, ...(await handleAt(page, 'Resize north')))));
    await waitUntil(async () => (await cursorOf(page)) === 'ew-resize', 'the turned side cursor');
    await page.mouse.move(...(await point(page, ...turned)));
    await waitUntil(async () => (await cursorOf(page)) === 'grab', 'the rotation cursor');
    await page.keyboard.press('Control+z');
    await waitStored(() => (rectA().angle ?? 0) === 0, 'the turn to be undone');
    await waitColor(bob.page, [400, 285], isWhite, 'bob to see the turn undone');

    // 37 degrees from straight up with Shift: snapped to 30.
    const start = await handleAt(page, 'Rotate');
    const a = (-90 + 37) * (Math.PI / 180);
    await dragFrom(page, start, [[CENTRE[0] + 150 * Math.cos(a), CENTRE[1] + 150 * Math.sin(a)]], ['Shift']);
    await waitStored(() => Math.abs((rectA().angle ?? 0) - Math.PI / 6) < 1e-9, 'a turn snapped to 30 degrees');
    // (90, 60) from the centre in the box's own frame, turned by 30 degrees: below the original box.
    await waitColor(bob.page, [448, 472], isRed, 'bob to see the snapped turn');
    await page.keyboard.press('Control+z');
    await waitStored(() => (rectA().angle ?? 0) === 0, 'the snapped turn to be undone');
    await waitColor(bob.page, [448, 472], isWhite, 'bob to see the snapped turn undone');
  });

  step('the handles work from the keyboard: arrow keys resize (Shift: 10) and turn by 15 degrees; each undone', async () => {
    const { page } = alice;
    const handles = page.getByRole('group', { name: 'Transform handles' });
    await handles.getByRole('button', { name: 'Resize east', exact: true }).focus();
    await page.keyboard.press('Shift+ArrowRight');
    await page.keyboard.press('Shift+ArrowRight');
    await page.keyboard.press('ArrowRight');
    await waitStored(() => rectA().width === A.w + 21, 'the width grown by 21 from the keyboard');
    // The handle, not the selection: nothing moved.
    expect(rectA()).toMatchObject({ x: A.x, y: A.y, height: A.h });
    await waitColor(bob.page, [515, 375], isRed, 'bob to see the box widened');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Control+z');
    await waitStored(() => rectA().width === A.w, 'the keyboard resizes undone one by one');

    await handles.getByRole('button', { name: 'Rotate', exact: true }).focus();
    await page.keyboard.press('ArrowRight');
    await waitStored(() => Math.abs((rectA().angle ?? 0) - Math.PI / 12) < 1e-9, 'a 15-degree turn from the keyboard');
    await page.keyboard.press('Control+z');
    await waitStored(() => (rectA().angle ?? 0) === 0, 'the keyboard turn undone');
  });

  step('group (Ctrl+G and the Group button): a click selects the whole group, for bob too, a double-click enters it; ungroup; each undone', async () => {
    const { page } = alice;
    await pickTool(page, 'Rectangle');
    await page.getByRole('button', { name: 'Fill Light blue' }).click();
    await drag(page, [[650, 300], [700, 350], [800, 420]]);
    await waitColor(bob.page, [725, 360], isBlue, 'bob to see the blue rectangle');
    await click(page, 350, 330, ['Shift']);
    await page.keyboard.press('Control+g');
    await waitStored(() => rects().every((r) => r.groupIds?.length === 1), 'both rectangles grouped');
    const [a, b] = rects();
    expect(a!.groupIds).toEqual(b!.groupIds);

    const groupSelected = async (page: Page) => (await handleAt(page, 'Resize south-east'))[0] > 800;
    await click(page, ...EMPTY);
    await click(page, 350, 330);
    expect(await groupSelected(page)).toBe(true);
    await click(bob.page, 350, 330);
    await waitUntil(() => groupSelected(bob.page), 'bob clicking A to select the group');

    // A double-click enters the group: A alone is selected and resized; B and the group stay.
    await page.mouse.dblclick(...(await point(page, 350, 330)));
    await waitUntil(async () => (await handleAt(page, 'Resize south-east'))[0] < 520, 'A alone selected inside its group');
    const inner = await handleAt(page, 'Resize south-east');
    await dragFrom(page, inner, [[inner[0] + 50, inner[1]]]);
    await waitStored(() => near(rectA().width, A.w + 50), 'A resized inside its group');
    expect(rects()[1]!.width).toBe(150);
    expect(rects().every((r) => r.groupIds?.length === 1)).toBe(true);
    await waitColor(bob.page, [540, 340], isRed, 'bob to see A resized inside the group');
    await page.keyboard.press('Control+z');
    await waitStored(() => rectA().width === A.w, 'the resize inside the group undone');
    // A click elsewhere leaves the group: a click on A selects all of it again.
    await click(page, ...EMPTY);
    await click(page, 350, 330);
    expect(await groupSelected(page)).toBe(true);

    await page.keyboard.press('Control+z');
    await waitStored(() => rects().every((r) => !r.groupIds?.length), 'the group to be undone');
    await click(bob.page, ...EMPTY);
    await click(bob.page, 350, 330);
    expect(await groupSelected(bob.page)).toBe(false);

    // The buttons: Group, then Ungroup.
    await click(page, ...EMPTY);
    await click(page, 350, 330);
    await click(page, 725, 360, ['Shift']);
    await page.getByRole('button', { name: 'Group', exact: true }).click();
    await waitStored(() => rects().every((r) => r.groupIds?.length === 1), 'grouped by the button');
    await page.getByRole('button', { name: 'Ungroup', exact: true }).click();
    await waitStored(() => rects().every((r) => !r.groupIds?.length), 'ungrouped by the button');
    await click(bob.page, ...EMPTY);
    await click(bob.page, 725, 360);
    expect(await groupSelected(bob.page)).toBe(true); // B alone: its own corner is right of 800 too
    expect((await handleAt(bob.page, 'Resize north-west'))[0]).toBeGreaterThan(600);
    await page.keyboard.press('Control+z');
    await waitStored(() => rects().every((r) => r.groupIds?.length === 1), 'the ungroup to be undone');
    await click(bob.page, ...EMPTY);
    await click(bob.page, 725, 360);
    await waitUntil(async () => (await handleAt(bob.page, 'Resize north-west'))[0] < 320, 'bob clicking B to select the group again');
    await page.keyboard.press('Control+z');
    await waitStored(() => rects().every((r) => !r.groupIds?.length), 'the group to be undone again');
  });

  step('lock: a locked box shows no handles and a click (alice or bob) does not select it; Unlock all; each undone', async () => {
    const { page } = alice;
    await click(page, ...EMPTY);
    await click(page, 350, 330);
    expect(await hasHandles(page)).toBe(true);
    await page.getByRole('button', { name: 'Lock', exact: true }).click();
    await waitStored(() => rectA().locked === true, 'A locked');
    // Still selected, without handles.
    await waitUntil(async () => !(await hasHandles(page)), 'the handles to go');
    await page.getByRole('button', { name: 'Unlock', exact: true }).waitFor();
    await click(page, ...EMPTY);
    await click(page, 350, 330);
    expect(await hasHandles(page)).toBe(false);
    expect(await page.getByRole('button', { name: 'Lock', exact: true }).count()).toBe(0);
    await click(bob.page, ...EMPTY);
    await click(bob.page, 350, 330);
    expect(await hasHandles(bob.page)).toBe(false);
    // Nor by a marquee around it, nor by Ctrl+A (which takes the blue box alone).
    await drag(page, [[250, 250], [400, 400], [560, 500]]);
    expect(await hasHandles(page)).toBe(false);
    await page.keyboard.press('Control+a');
    await waitUntil(async () => (await hasHandles(page)) && (await handleAt(page, 'Resize north-west'))[0] > 600, 'Ctrl+A to select only the unlocked box');
    await click(page, ...EMPTY);

    await page.keyboard.press('Control+z');
    await waitStored(() => !rectA().locked, 'the lock to be undone');
    await click(bob.page, 350, 330);
    await waitUntil(() => hasHandles(bob.page), 'bob selecting A once it is unlocked');

    // Ctrl+Shift+L locks; "Unlock all" unlocks and selects it; Ctrl+Z locks it again.
    await click(page, 350, 330);
    await page.keyboard.press('Control+Shift+L');
    await waitStored(() => rectA().locked === true, 'A locked by the keyboard');
    await click(page, ...EMPTY);
    await page.getByRole('button', { name: 'Unlock all' }).click();
    await waitStored(() => !rectA().locked, 'A unlocked by Unlock all');
    await waitUntil(() => hasHandles(page), 'A selected with handles after Unlock all');
    await page.keyboard.press('Control+z');
    await waitStored(() => rectA().locked === true, 'the unlock to be undone');
    await click(bob.page, ...EMPTY);
    await click(bob.page, 350, 330);
    expect(await hasHandles(bob.page)).toBe(false);
    await page.keyboard.press('Control+z');
    await waitStored(() => !rectA().locked, 'the keyboard lock to be undone');
  });

  step('align top and distribute horizontally three boxes; bob sees them move; each undone', async () => {
    const { page } = alice;
    await pickTool(page, 'Rectangle');
    await drag(page, [[550, 520], [580, 560], [620, 600]]);
    await waitColor(bob.page, [585, 560], isBlue, 'bob to see the third rectangle');
    const c = () => rects()[2]!;
    await click(page, 350, 330, ['Shift']);
    await click(page, 725, 360, ['Shift']);
    await page.getByRole('button', { name: 'Align top edges' }).click();
    await waitStored(() => c().y === A.y, 'the third box aligned to the top');
    expect(rects().map((r) => r.y)).toEqual([A.y, A.y, A.y]);
    await waitColor(bob.page, [585, 340], isBlue, 'bob to see the third box at the top');
    await page.keyboard.press('Control+z');
    await waitStored(() => c().y === 520, 'the alignment to be undone');
    await waitColor(bob.page, [585, 340], isWhite, 'bob to see the alignment undone');

    // A spans 300..500, B 650..800, the third 550..620: spaced evenly it goes to 540..610.
    await page.getByRole('button', { name: 'Distribute horizontally' }).click();
    await waitStored(() => near(c().x, 540), 'the third box distributed');
    await waitColor(bob.page, [545, 560], isBlue, 'bob to see the box distributed');
    await page.keyboard.press('Control+z');
    await waitStored(() => c().x === 550, 'the distribution to be undone');
    await waitColor(bob.page, [545, 560], isWhite, 'bob to see the distribution undone');
  });

  step('a selection of two is resized and turned as one (bob sees both change); each undone', async () => {
    const { page } = alice;
    await click(page, ...EMPTY);
    await click(page, 350, 330);
    await click(page, 725, 360, ['Shift']);
    // The frame spans A (300..500) and B (650..800): dragging its east side by 100 scales both by 1.2.
    const e = await handleAt(page, 'Resize east');
    expect(e[0]).toBeGreaterThan(800);
    await dragFrom(page, e, [[e[0] + 100, e[1]]]);
    const [a, b] = rects();
    await waitStored(() => near(rects()[0]!.width, 240, 1) && near(rects()[1]!.width, 180, 1), 'both boxes widened');
    expect(near(rects()[1]!.x, 300 + (650 - 299) * 1.2 - 1, 1.5)).toBe(true);
    await waitColor(bob.page, [880, 360], isBlue, 'bob to see the blue box widened and moved');
    await page.keyboard.press('Control+z');
    await waitStored(() => rects()[0]!.width === a!.width && rects()[1]!.x === b!.x, 'the resize of both undone');
    await waitColor(bob.page, [880, 360], isWhite, 'bob to see both back');

    // A half turn about the frame's centre swaps their places.
    const rotate = await handleAt(page, 'Rotate');
    const [cx, cy] = [(299 + 801) / 2, (299 + 451) / 2];
    await dragFrom(page, rotate, [[cx + 150, cy], [cx, cy + 150]]);
    await waitStored(() => Math.abs((rects()[0]!.angle ?? 0) - Math.PI) < 0.05, 'both turned half round');
    expect(Math.abs((rects()[1]!.angle ?? 0) - Math.PI)).toBeLessThan(0.05);
    // The red box is now on the right, the blue one on the left.
    await waitColor(bob.page, [700, 400], isRed, 'bob to see the red box on the right');
    await waitColor(bob.page, [380, 400], isBlue, 'bob to see the blue box on the left');
    await page.keyboard.press('Control+z');
    await waitStored(() => (rects()[0]!.angle ?? 0) === 0 && (rects()[1]!.angle ?? 0) === 0, 'the turn of both undone');
    await waitColor(bob.page, [380, 400], isRed, 'bob to see the red box back on the left');
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  });

  step('a locked text does not open for editing on double-click; unlocked (Ctrl+Z) it does', async () => {
    const { page } = alice;
    const texts = () => stored().filter((e) => e.type === 'text' && e.text === 'fixed words');
    await writeText(page, 900, 600, 'fixed words');
    await waitStored(() => texts().length === 1, 'the text stored');
    await pickTool(page, 'Select');
    await click(page, 920, 610);
    await page.getByRole('button', { name: 'Lock', exact: true }).click();
    await waitStored(() => texts()[0]!.locked === true, 'the text locked');
    await click(page, ...EMPTY);
    const area = page.getByRole('textbox', { name: 'Text', exact: true });
    await page.mouse.dblclick(...(await point(page, 920, 610)));
    await page.waitForTimeout(500);
    expect(await area.count()).toBe(0);
    await page.keyboard.press('Control+z');
    await waitStored(() => !texts()[0]!.locked, 'the lock undone');
    await page.mouse.dblclick(...(await point(page, 920, 610)));
    await area.waitFor();
    await page.keyboard.press('Escape');
    await area.waitFor({ state: 'detached' });
  });
});
