import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpClient, signIn, signUp as apiSignUp } from '../helpers/auth.js';
import type { TestServer } from '../helpers/server.js';
import { launchBrowser, newPerson, screenshots, signUp, startWebServer, type Person } from './helpers.js';

/**
 * Issue 13 in the web app: share links with an expiry and a use limit, a removed member listed and
 * let back in, "Change password" and "Sign out everywhere" in the user menu. The steps build on each other.
 */
describe('accounts and links in the browser', () => {
  let server: TestServer;
  let browser: Browser;
  let dana: Person;
  let boardId = '';

  beforeAll(async () => {
    server = await startWebServer();
    browser = await launchBrowser();
    dana = await newPerson(browser, 'dana');
  });
  afterAll(async () => {
    await browser?.close();
    await server?.destroy();
  });

  function step(name: string, fn: () => Promise<void>) {
    it(
      name,
      async ({ onTestFailed }) => {
        onTestFailed(async () => {
          console.error(`screenshots: ${(await screenshots([dana], `failed-${name}`)).join(', ')}`);
          if (dana.errors.length) console.error('page errors:', dana.errors);
        });
        await fn();
      },
      60_000,
    );
  }

  step('the owner makes a link that lasts a day for at most 2 people; a removed member is listed and let back in', async () => {
    const { page } = dana;
    await signUp(dana, server.url);
    await page.getByRole('button', { name: 'New board' }).click();
    await page.waitForURL(/\/b\/[A-Za-z0-9_-]+$/);
    boardId = new URL(page.url()).pathname.split('/').at(-1)!;

    await page.getByRole('button', { name: 'Share' }).click();
    await page.getByLabel('Link expiry').selectOption({ label: 'for 1 day' });
    await page.getByLabel('Use limit (people)').fill('2');
    await page.getByRole('button', { name: 'Create viewer link' }).click();
    const link = await page.getByLabel('Viewer link').inputValue();
    const links = page.getByRole('list', { name: 'Share links' });
    await links.getByText(/expires .*0\/2 joined/).waitFor();
    const [stored] = await httpClient(server.url, { cookie: (await dana.context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ') }).share.links.query({ boardId });
    expect(stored).toMatchObject({ role: 'viewer', maxUses: 2, uses: 0 });
    expect(stored!.expiresAt! - stored!.createdAt).toBe(24 * 3_600_000);

    // Someone joins by it and is removed by the owner.
    const eve = await apiSignUp(server.url, 'eve-browser', 'correct horse battery');
    const eveApi = httpClient(server.url, { cookie: eve.cookie });
    await eveApi.share.accept.mutate({ code: new URL(link).pathname.split('/').at(-1)! });
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await page.getByRole('button', { name: 'Share' }).click();
    await page.getByRole('button', { name: 'Remove eve-browser' }).click();
    const removed = page.getByRole('list', { name: 'Removed people' });
    await removed.getByText('eve-browser').first().waitFor();
    await page.getByRole('button', { name: 'Let eve-browser back in as viewer' }).click();
    await page.getByRole('list', { name: 'Members' }).getByText('eve-browser').first().waitFor();
    expect(await server.app.boards.storage.roleOf(boardId, eve.user.id)).toBe('viewer');
    await page.getByRole('button', { name: 'Close', exact: true }).click();
  });

  step('Change password signs out the other session and keeps this one', async () => {
    const { page } = dana;
    const other = await signIn(server.url, 'dana', 'correct horse battery');
    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitem', { name: 'Change password' }).click();
    await page.getByLabel('Current password').fill('correct horse battery');
    await page.getByLabel('New password', { exact: true }).fill('a much better passphrase');
    await page.getByLabel('New password again').fill('a much better passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed; 1 other session was signed out').waitFor();
    expect(await httpClient(server.url, { cookie: other.cookie }).auth.me.query()).toBeNull();
    await page.reload();
    await page.getByRole('button', { name: 'Account menu' }).waitFor();
  });

  step('Sign out everywhere ends every session and token, this one too', async () => {
    const { page } = dana;
    const other = await signIn(server.url, 'dana', 'a much better passphrase');
    const { token } = await httpClient(server.url, { cookie: other.cookie }).token.create.mutate({ name: 'script' });
    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitem', { name: 'Sign out everywhere' }).click();
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByText(/Signed out everywhere: 2 session\(s\) ended, 1 API token\(s\) revoked/).waitFor();
    await page.getByRole('button', { name: 'Create account' }).waitFor();
    expect(await httpClient(server.url, { cookie: other.cookie }).auth.me.query()).toBeNull();
    expect(await httpClient(server.url, { token }).auth.me.query()).toBeNull();
    expect(dana.errors).toEqual([]);
  });
});
