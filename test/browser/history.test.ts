import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { newId, type Rectangle } from '@inkboard/protocol';
import { connect, grantAccess, pushPatiently, type TestServer } from '../helpers/server.js';
import {
  canvasOf,
  drawRectangle,
  drawStroke,
  elementCount,
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

/**
 * Version history in the browser (issue 16): two editors and a viewer on one board. Alice draws, Bob
 * draws; Alice opens History, previews her older version while Bob keeps drawing, restores it; Bob
 * sees the restore live; Alice's Ctrl+Z brings the drawing back for both. The viewer browses and
 * previews but cannot restore. The steps build on each other, in order.
 */
describe('version history in the browser', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Person;
  let bob: Person;
  let carol: Person | undefined;
  let boardId = '';
  const people = () => [alice, bob, carol].filter((p): p is Person => p !== undefined);
  const stored = () => server.app.boards.service.peek(boardId)?.elements.size ?? -1;
  const versionList = (page: Page) => page.getByRole('list', { name: 'Versions' });
  /** The versions listed, newest first, as their buttons name them ("alice, 2 minutes ago: added 1 stroke"). */
  const versionLabels = async (page: Page) => versionList(page).locator('button.pick').evaluateAll((els) => els.map((el) => el.getAttribute('aria-label') ?? ''));

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

  const step = screenshotSteps(people, 'history-failed');

  async function shareLink(role: 'editor' | 'viewer'): Promise<string> {
    const page = alice.page;
    await page.getByRole('button', { name: 'Share' }).click();
    await page.getByRole('button', { name: role === 'editor' ? 'Create editor link' : 'Create viewer link' }).click();
    const link = await page.getByLabel(role === 'editor' ? 'Editor link' : 'Viewer link').inputValue();
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    return new URL(link).pathname;
  }

  step('alice creates a board and bob joins it as an editor', async () => {
    await signUp(alice, server.url);
    await alice.page.getByRole('button', { name: 'New board' }).click();
    await alice.page.waitForURL(/\/b\/[A-Za-z0-9_-]+$/);
    boardId = new URL(alice.page.url()).pathname.split('/').at(-1)!;
    await alice.page.getByRole('status', { name: /Connection: Live/ }).waitFor();
    await signUp(bob, server.url, await shareLink('editor'));
    await bob.page.waitForURL(`${server.url}/b/${boardId}`);
    await bob.page.getByRole('status', { name: /Connection: Live/ }).waitFor();
  });

  step('alice draws a stroke and a rectangle, then bob draws a stroke', async () => {
    await drawStroke(alice.page, 150, 200);
    await drawRectangle(alice.page, 150, 320, 160, 100);
    await waitForSummary(bob.page, (s) => elementCount(s) === 2, 'bob to see alice’s drawing');
    await pickTool(bob.page, 'Pen');
    await bob.page.getByRole('button', { name: 'Stroke Red' }).click();
    await drawStroke(bob.page, 600, 200);
    await waitForSummary(alice.page, (s) => elementCount(s) === 3, 'alice to see bob’s stroke');
    await waitUntil(() => stored() === 3, 'the server to store 3 elements');
  });

  step('alice opens History: versions by both, newest first, with what each did', async () => {
    await alice.page.getByRole('button', { name: 'History', exact: true }).click();
    await alice.page.getByRole('complementary', { name: 'History' }).waitFor();
    await waitUntil(async () => (await versionLabels(alice.page)).length === 2, 'two versions listed');
    const [newest, older] = await versionLabels(alice.page);
    expect(newest).toMatch(/^bob, .*: added 1 stroke$/);
    expect(older).toMatch(/^alice, .*: /);
    expect(older).toContain('stroke');
    expect(older).toContain('shape');
    // An editor may name versions; nothing is named yet.
    await alice.page.getByRole('button', { name: 'Name current version' }).waitFor();
  });

  step('alice previews her version while bob draws: she sees the old board, read-only, until she goes back to live', async () => {
    await versionList(alice.page).getByRole('button', { name: /^alice, / }).click();
    const banner = alice.page.getByRole('status', { name: 'Version preview' });
    await banner.waitFor();
    expect(await banner.textContent()).toContain('Viewing the version of alice');
    await waitForSummary(alice.page, (s) => elementCount(s) === 2 && kindCount(s, 'rectangle') === 1, 'alice’s canvas to show her version');
    // Her version's changes are outlined (her stroke and rectangle), on her canvas only.
    await waitUntil(async () => (await alice.page.locator('svg.outlines polygon[data-changed]').count()) === 2, 'the changed elements outlined');
    expect(await inkAt(alice.page, 600, 200)).toBe(0); // bob's stroke is not in it
    // The tools are off meanwhile.
    expect(await alice.page.locator('.top-center').getAttribute('inert')).not.toBeNull();

    // Bob draws meanwhile: it reaches alice's board, not her screen.
    await drawStroke(bob.page, 600, 500);
    await waitUntil(() => stored() === 4, 'the server to store bob’s new stroke');
    // The timeline follows live edits meanwhile (bob's run of edits grew).
    await waitUntil(async () => (await versionLabels(alice.page))[0]?.endsWith('added 2 strokes') === true, 'bob’s version to grow in alice’s list');
    expect(elementCount(await alice.page.locator('#board-summary').textContent() ?? '')).toBe(2);
    expect(await inkAt(alice.page, 650, 500, 30)).toBe(0);

    await banner.getByRole('button', { name: 'Back to live' }).click();
    await banner.waitFor({ state: 'detached' });
    await waitForSummary(alice.page, (s) => elementCount(s) === 4, 'alice to see the live board with bob’s new stroke');
    await waitUntil(async () => (await inkAt(alice.page, 650, 500, 30)) > 0, 'bob’s new stroke drawn on alice’s canvas');
  });

  step('alice restores her version: bob sees it live; her Ctrl+Z brings the drawing back for both', async () => {
    await versionList(alice.page).getByRole('button', { name: /^alice, / }).click();
    const banner = alice.page.getByRole('status', { name: 'Version preview' });
    await banner.waitFor();
    await waitForSummary(alice.page, (s) => elementCount(s) === 2, 'the preview of alice’s version');
    await banner.getByRole('button', { name: 'Restore this version' }).click();
    await banner.waitFor({ state: 'detached' });
    await waitForSummary(alice.page, (s) => elementCount(s) === 2 && kindCount(s, 'rectangle') === 1, 'alice’s board restored');
    await waitForSummary(bob.page, (s) => elementCount(s) === 2 && kindCount(s, 'rectangle') === 1, 'bob to see the restore live');
    await waitUntil(() => stored() === 2, 'the server to store the restore');
    await waitUntil(async () => (await inkAt(bob.page, 600, 200)) === 0, 'bob’s strokes gone from his canvas');

    // One undo step: the whole restore.
    await canvasOf(alice.page).focus();
    await alice.page.keyboard.press('Control+z');
    await waitForSummary(alice.page, (s) => elementCount(s) === 4, 'alice’s undo to bring the drawing back');
    await waitForSummary(bob.page, (s) => elementCount(s) === 4, 'bob to see the undo');
    await waitUntil(() => stored() === 4, 'the server to store the undo');
    await waitUntil(async () => (await inkAt(bob.page, 600, 200)) > 0, 'bob’s stroke drawn again on his canvas');
  });

  step('a single deleted element comes back alone from a preview', async () => {
    // Bob erases his first stroke by selecting and deleting it.
    await pickTool(bob.page, 'Select');
    await bob.page.mouse.click(...(await pointOn(bob.page, 600 + 50, 200 + Math.sin(5 / 2.5) * 25)));
    await bob.page.keyboard.press('Delete');
    await waitForSummary(alice.page, (s) => elementCount(s) === 3, 'alice to see the stroke deleted');

    // The newest version before the delete is the one of alice's undo; preview the one before bob's deletion.
    await waitUntil(async () => (await versionLabels(alice.page))[0]?.startsWith('bob, ') === true && (await versionLabels(alice.page))[0]?.includes('deleted') === true, 'bob’s delete listed');
    await versionList(alice.page).locator('button.pick').nth(1).click();
    const banner = alice.page.getByRole('status', { name: 'Version preview' });
    await banner.waitFor();
    await waitForSummary(alice.page, (s) => elementCount(s) === 4, 'the version with bob’s first stroke');
    await alice.page.mouse.click(...(await pointOn(alice.page, 600 + 50, 200 + Math.sin(5 / 2.5) * 25)));
    await banner.getByRole('button', { name: 'Restore this element' }).click();
    await banner.waitFor({ state: 'detached' });
    await waitForSummary(bob.page, (s) => elementCount(s) === 4, 'bob to see his stroke back');
    await waitUntil(() => stored() === 4, 'the server to store the restored element');
  });

  step('who did this: a selected element says who created it and who changed it', async () => {
    // Alice's rectangle, moved by nobody: created by alice.
    await pickTool(alice.page, 'Select');
    await alice.page.mouse.click(...(await pointOn(alice.page, 150, 370)));
    const line = alice.page.getByLabel('Authorship');
    await line.waitFor();
    expect(await line.textContent()).toMatch(/^Created by alice, (just now|\d+ minutes? ago)$/);
    // Bob's restored stroke was created by bob and last changed (brought back) by alice.
    await alice.page.mouse.click(...(await pointOn(alice.page, 600 + 50, 200 + Math.sin(5 / 2.5) * 25)));
    await waitUntil(async () => /^Created by bob, .+ · Changed by alice, .+$/.test((await line.textContent()) ?? ''), 'the stroke’s authorship');
    await alice.page.keyboard.press('Escape');
  });

  step('alice names the current version: the name stands out in the list; Escape closes the panel', async () => {
    await alice.page.getByRole('button', { name: 'Name current version' }).click();
    await alice.page.getByLabel('Version name').fill('Before the review');
    await alice.page.getByRole('button', { name: 'Save name' }).click();
    const badge = versionList(alice.page).getByRole('list', { name: 'Names' }).getByText('Before the review');
    await badge.waitFor();
    // Named versions are also listed on their own: one click shows the board as it was named.
    await alice.page.getByText('Named versions (1)').click();
    await alice.page.getByRole('list', { name: 'Named versions' }).getByRole('button', { name: /Before the review/ }).click();
    const banner = alice.page.getByRole('status', { name: 'Version preview' });
    await banner.waitFor();
    expect(await banner.textContent()).toContain('Viewing “Before the review”, named by alice');
    await waitForSummary(alice.page, (s) => elementCount(s) === 4, 'the named version shown');
    await banner.getByRole('button', { name: 'Back to live' }).click();
    await canvasOf(alice.page).focus();
    await alice.page.keyboard.press('Escape');
    await alice.page.getByRole('complementary', { name: 'History' }).waitFor({ state: 'detached' });
    await alice.page.keyboard.press('Control+Shift+H');
    await alice.page.getByRole('complementary', { name: 'History' }).waitFor();
  });

  step('a viewer browses and previews History but cannot restore or name versions', async () => {
    carol = await newPerson(browser, 'carol');
    const path = await shareLink('viewer');
    await signUp(carol, server.url, path);
    await carol.page.waitForURL(`${server.url}/b/${boardId}`);
    await waitForSummary(carol.page, (s) => elementCount(s) === 4, 'the viewer to see the board');
    await carol.page.getByRole('button', { name: 'History', exact: true }).click();
    await waitUntil(async () => (await versionLabels(carol!.page)).length >= 3, 'the viewer to see the versions');
    expect(await carol.page.getByRole('button', { name: 'Name current version' }).count()).toBe(0);
    await versionList(carol.page).getByText('Before the review').waitFor();
    expect(await carol.page.getByRole('button', { name: /Remove the name/ }).count()).toBe(0);

    await versionList(carol.page).getByRole('button', { name: /^alice, / }).last().click();
    const banner = carol.page.getByRole('status', { name: 'Version preview' });
    await banner.waitFor();
    await waitForSummary(carol.page, (s) => elementCount(s) === 2, 'the viewer’s preview');
    expect(await banner.getByRole('button', { name: /Restore/ }).count()).toBe(0);
    await carol.page.keyboard.press('Escape');
    await banner.waitFor({ state: 'detached' });
    await waitForSummary(carol.page, (s) => elementCount(s) === 4, 'the viewer back to live');
  });

  step('a long past: the panel opens with the newest page at once, older pages on demand', async () => {
    const page = alice.page;
    await page.getByRole('button', { name: 'Close history' }).click();
    // Two scripts take turns: each edit is a version of its own (a run ends when the author changes).
    const scripts = ['dave', 'erin'].map((name) => {
      grantAccess(server.url, boardId, name);
      return connect(server.url, name);
    });
    const rect = (i: number): Rectangle => ({ type: 'rectangle', id: newId(), z: `b${String(i).padStart(4, '0')}`, x: 900 + (i % 10) * 12, y: 100 + Math.floor(i / 10) * 12, width: 8, height: 8, strokeColor: '#1e1e1e', strokeWidth: 1, opacity: 1, fillColor: 'transparent' });
    for (let i = 0; i < 70; i++) await pushPatiently(scripts[i % 2]!, boardId, [{ type: 'add', opId: newId(), elements: [rect(i)] }]);
    await Promise.all(scripts.map((c) => c.close()));
    await waitUntil(() => stored() === 74, 'the scripts’ edits stored');

    // More than a page came since the panel last showed the 5 versions of before: it starts over with the newest page.
    await page.getByRole('button', { name: 'History', exact: true }).click();
    await waitUntil(async () => (await versionLabels(page)).length === 30, 'the first page (30 versions)');
    expect((await versionLabels(page))[0]).toMatch(/^erin, .*: added 1 shape$/);
    const older = page.getByRole('button', { name: 'Load older' });
    await older.click();
    await waitUntil(async () => (await versionLabels(page)).length === 60, 'the second page');
    await older.click();
    await waitUntil(async () => (await versionLabels(page)).length === 75, 'every version');
    await older.waitFor({ state: 'detached' });
    // 70 scripted versions and the 5 of before, each once, the oldest last: together every seq from the first.
    const labels = await versionLabels(page);
    const seqs = await versionList(page).locator('li[data-seqs]').evaluateAll((els) => els.map((el) => (el.getAttribute('data-seqs') ?? '').split('-').map(Number)));
    expect(seqs.at(-1)?.[0]).toBe(1);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]![1]).toBe(seqs[i - 1]![0]! - 1);
    expect(new Set(labels.slice(0, 70).map((l) => l.split(',')[0]))).toEqual(new Set(['dave', 'erin']));
    expect(labels.at(-1)).toMatch(/^alice, .*: added 1 stroke, added 1 shape$/);
  });

  step('History and Chat are one side panel: the same frame and header, each closed by its own button', async () => {
    const page = alice.page;
    const frame = (name: string) =>
      page.getByRole('complementary', { name }).evaluate((aside) => {
        const header = aside.querySelector(':scope > header')!;
        const title = header.querySelector('h2')!;
        const close = header.querySelector('button')!;
        const css = (el: Element, keys: string[]) => keys.map((k) => getComputedStyle(el).getPropertyValue(k));
        return {
          shared: aside.classList.contains('side-panel'),
          panel: css(aside, ['display', 'flex-direction', 'overflow']),
          header: css(header, ['display', 'justify-content', 'padding', 'border-bottom-width', 'border-bottom-style']),
          title: [title.textContent, ...css(title, ['font-size', 'margin'])],
          close: [close.getAttribute('aria-label'), ...css(close, ['font-size', 'color'])],
        };
      });
    const history = await frame('History');
    await page.getByRole('button', { name: 'Close history' }).click();
    await page.getByRole('button', { name: 'Chat', exact: true }).click();
    const chat = await frame('Chat');
    expect(history).toEqual({
      shared: true,
      panel: ['flex', 'column', 'hidden'],
      header: ['flex', 'space-between', '8px 8px 8px 16px', '1px', 'solid'],
      title: ['History', '15px', '0px'],
      close: ['Close history', '22px', history.close[2]],
    });
    expect(chat).toEqual({ ...history, title: ['Chat', '15px', '0px'], close: ['Close chat', '22px', history.close[2]] });
    await page.getByRole('button', { name: 'Close chat' }).click();
    await page.getByRole('complementary', { name: 'Chat' }).waitFor({ state: 'detached' });
  });
});

async function pointOn(page: Page, x: number, y: number): Promise<[number, number]> {
  const box = await canvasOf(page).boundingBox();
  if (!box) throw new Error('the board canvas is not visible');
  return [box.x + x, box.y + y];
}
