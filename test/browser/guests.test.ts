import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { isGuestId } from '@inkboard/protocol';
import type { TestServer } from '../helpers/server.js';
import { httpClient } from '../helpers/auth.js';
import { drawStroke, kindCount, launchBrowser, newPerson, openNewBoard, pickTool, screenshotSteps, signUp, startWebServer, waitForSummary, waitUntil, type Person } from './helpers.js';

/**
 * Guests (issue 18): an owner turns on an edit link; a guest in a fresh browser context (no account)
 * joins under a name, draws, chats and undoes; the owner turns the link off and the guest is cut off.
 * The steps build on each other, in order.
 */
describe('guests in the browser', () => {
  let server: TestServer;
  let browser: Browser;
  let owner: Person;
  let guest: Person;
  let boardId = '';
  let link = '';
  const strokes = () => [...(server.app.boards.service.peek(boardId)?.elements.values() ?? [])].filter((e) => e.type === 'stroke');

  beforeAll(async () => {
    server = await startWebServer();
    browser = await launchBrowser();
    owner = await newPerson(browser, 'olivia');
    guest = await newPerson(browser, 'gabe');
  });
  afterAll(async () => {
    await browser?.close();
    await server?.destroy();
  });

  const step = screenshotSteps(() => [owner, guest], 'failed-guests');

  step('the owner turns on a public link that can edit, and copies it', async () => {
    await signUp(owner, server.url);
    boardId = await openNewBoard(owner);
    await owner.page.getByRole('button', { name: 'Share' }).click();
    await owner.page.getByLabel('Anyone with the link').check();
    const url = owner.page.getByLabel('Public link URL');
    await url.waitFor();
    await owner.page.getByLabel('Public link role').selectOption('editor');
    // Saved once the section is no longer busy (its controls are enabled again).
    await waitUntil(async () => (await owner.page.getByLabel('Public link role').inputValue()) === 'editor' && (await owner.page.getByLabel('Anyone with the link').isEnabled()), 'role saved');
    link = await url.inputValue();
    expect(link).toMatch(new RegExp(`^${server.url}/g/[A-Za-z0-9_-]{10,}$`));
    await owner.page.getByRole('button', { name: 'Close' }).first().click();
  });

  step('a guest in a fresh browser opens the link, picks a name and sees the board live, with no board list', async () => {
    await guest.page.goto(link);
    await guest.page.getByLabel('Your name').fill('Gabe');
    await guest.page.getByRole('button', { name: 'Join as guest' }).click();
    await guest.page.getByRole('status', { name: /Connection: Live/ }).waitFor();
    await guest.page.getByText('Gabe · guest').waitFor();
    expect(await guest.page.getByRole('link', { name: 'All boards' }).count()).toBe(0);
    expect(await guest.page.getByRole('button', { name: 'Share' }).count()).toBe(0);
    // The name is remembered on this device.
    expect(await guest.page.evaluate(() => localStorage.getItem('inkboard-guest-name'))).toBe('Gabe');
    // The owner sees the guest, marked as one.
    await owner.page.getByRole('list', { name: 'People on this board' }).getByText('Gabe (guest)').waitFor({ state: 'attached' });
  });

  step('the guest draws, chats and undoes their own stroke', async () => {
    await pickTool(guest.page, 'Pen');
    await drawStroke(guest.page, 400, 400);
    await waitForSummary(owner.page, (s) => kindCount(s, 'freehand stroke') === 1, 'the owner to see the guest stroke');
    await waitUntil(() => strokes().length === 1, 'the stroke stored');

    await guest.page.getByRole('button', { name: 'Chat' }).click();
    await guest.page.getByLabel('Message', { exact: true }).fill('Hello from a guest');
    await guest.page.getByRole('button', { name: 'Send', exact: true }).click();
    await owner.page.getByRole('button', { name: 'Chat' }).click();
    await owner.page.getByRole('list', { name: 'Conversation' }).getByText('Hello from a guest').waitFor();
    // Marked as a guest's (a guest may pick any name: nobody passes for a member).
    await owner.page.getByRole('list', { name: 'Conversation' }).getByText('(guest)').waitFor();
    await guest.page.getByRole('button', { name: 'Close chat' }).click();

    await guest.page.getByRole('button', { name: 'Undo' }).click();
    await waitForSummary(owner.page, (s) => kindCount(s, 'freehand stroke') === 0, 'the undo to reach the owner');
    await waitUntil(() => strokes().length === 0, 'the stroke removed');
    // The guest's ops are authored by the guest.
    const log = await server.app.boards.storage.opsAfter(boardId, 0);
    expect(log.length).toBeGreaterThan(0);
    expect(log.every((o) => isGuestId(o.author.id))).toBe(true);
  });

  step('the same browser joins a second board as a guest and is still the first board\'s guest: back on it without a name prompt, drawing as before', async () => {
    // A second board with a view link, made through the API with the owner's session.
    const cookie = (await owner.context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const api = httpClient(server.url, { cookie });
    const { id: second } = await api.board.create.mutate({ title: 'Second board' });
    const { code } = await api.guest.setLink.mutate({ boardId: second, role: 'viewer' });
    const firstGuest = (await server.app.boards.storage.opsAfter(boardId, 0))[0]!.author.id;

    await guest.page.goto(`${server.url}/g/${code}`);
    await guest.page.getByRole('button', { name: 'Join as guest' }).click(); // the name is remembered
    await guest.page.getByRole('status', { name: /Connection: Live/ }).waitFor();
    await guest.page.getByText('Gabe · guest').waitFor();
    expect(await guest.page.getByRole('button', { name: 'Pen', exact: true }).count()).toBe(0); // a view link

    await guest.page.goto(link);
    await guest.page.getByRole('status', { name: /Connection: Live/ }).waitFor();
    expect(await guest.page.getByLabel('Your name').count()).toBe(0);
    await drawStroke(guest.page, 300, 300);
    await waitUntil(() => strokes().length === 1, 'the stroke stored');
    const log = await server.app.boards.storage.opsAfter(boardId, 0);
    expect(log.at(-1)!.author.id).toBe(firstGuest);
    // Both identities are in the browser's one cookie.
    const guestCookie = (await guest.context.cookies()).find((c) => c.name === 'inkboard_guest');
    expect(decodeURIComponent(guestCookie!.value).split('~').map((e) => e.split('.')[0])).toEqual([boardId, second]);
  });

  step('the owner turns the link off: the guest is cut off with a screen saying so', async () => {
    await owner.page.getByRole('button', { name: 'Share' }).click();
    // The section loads the link when the dialog opens; until then the switch shows off (and is
    // disabled). Playwright's uncheck() returns at once on a switch that reads unchecked, so wait
    // for the loaded state first or the click never happens.
    const toggle = owner.page.getByLabel('Anyone with the link');
    await waitUntil(async () => (await toggle.isEnabled()) && (await toggle.isChecked()), 'the public link loaded as on');
    await toggle.uncheck();
    await guest.page.getByText("The owner turned off this board's public link").waitFor();
    // Opening the link again tells the guest it no longer works.
    await guest.page.goto(link);
    await guest.page.getByRole('heading', { name: 'This link does not work' }).waitFor();
    expect(await guest.page.getByRole('alert').textContent()).toMatch(/turned it off/);
  });

  /** A page on another origin (http://localhost:<port>) that frames `src`. */
  async function framer(src: string): Promise<{ origin: string; server: Server }> {
    const page = `<!doctype html><title>framer</title><iframe src="${src}" width="600" height="400" title="embedded board"></iframe>`;
    const srv = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    return { origin: `http://localhost:${(srv.address() as AddressInfo).port}`, server: srv };
  }

  step('a view link embeds on a site the owner lists, and is refused framing on any other', async () => {
    // The dialog is still open from the step before: turn the link on again, as a view link.
    await owner.page.getByLabel('Anyone with the link').check();
    await owner.page.getByLabel('Public link URL').waitFor();
    const viewLink = await owner.page.getByLabel('Public link URL').inputValue();
    const embedUrl = viewLink.replace('/g/', '/embed/');
    const allowed = await framer(embedUrl);
    const other = await framer(embedUrl);
    try {
      const field = owner.page.getByLabel('Sites that may embed the board');
      await field.fill(allowed.origin);
      await field.press('Enter');
      await field.blur();
      await waitUntil(async () => (await owner.page.getByText('Embed with').count()) > 0, 'the embed origin saved');

      const viewer = await newPerson(browser, 'reader');
      try {
        await viewer.page.goto(`${allowed.origin}/`);
        await viewer.page.frameLocator('iframe').getByRole('img', { name: /elements?$/ }).waitFor();
        expect(await viewer.page.frameLocator('iframe').getByRole('img').getAttribute('alt')).toMatch(/^Untitled board|: \d+ element/);

        await viewer.page.goto(`${other.origin}/`);
        // Chromium replaces a frame whose policy refuses the parent with an error page.
        await waitUntil(() => viewer.page.frames().some((f) => f !== viewer.page.mainFrame() && f.url().startsWith('chrome-error://')), 'the frame refused');
        expect(await viewer.page.frameLocator('iframe').getByRole('img').count()).toBe(0);
      } finally {
        await viewer.context.close();
      }
    } finally {
      allowed.server.close();
      other.server.close();
    }
  });

  step('a guest who signs up on that device keeps the board (a member with the link role) and their name', async () => {
    const viewLink = await owner.page.getByLabel('Public link URL').inputValue();
    const nina = await newPerson(browser, 'nina');
    try {
      await nina.page.goto(viewLink);
      await nina.page.getByLabel('Your name').fill('Nina');
      await nina.page.getByRole('button', { name: 'Join as guest' }).click();
      await nina.page.getByText('Nina · guest').waitFor();
      await nina.page.getByRole('link', { name: 'Keep with an account' }).click();
      await nina.page.getByLabel('Username').fill('nina');
      await nina.page.getByLabel('Password').fill('correct horse battery');
      await nina.page.getByRole('button', { name: 'Create account' }).click();
      await nina.page.waitForURL(new RegExp(`/b/${boardId}$`));
      await nina.page.getByRole('status', { name: /Connection: Live/ }).waitFor();
      const members = await server.app.boards.access.members(boardId);
      expect(members.find((m) => m.username === 'nina')).toMatchObject({ role: 'viewer', name: 'Nina' });
    } finally {
      await nina.context.close();
    }
  });
});
