import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB_DIST = join(root, 'apps/web/dist');
export const RESULTS_DIR = join(root, 'test-results');

/** Debian's Chromium (scripts/test-setup.mjs installs it); a browser is never downloaded. */
export const CHROMIUM = process.env.INKBOARD_CHROMIUM ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** The real server on port 0, serving the built web app. */
export function startWebServer(): Promise<TestServer> {
  if (!existsSync(join(WEB_DIST, 'index.html'))) throw new Error(`The web app is not built (${WEB_DIST}); run: npx turbo run build`);
  return startServer({ webDist: WEB_DIST });
}

/** A person: a browser context of their own (own cookies) with one page. */
export interface Person {
  name: string;
  context: BrowserContext;
  page: Page;
  /** Browser errors seen so far (uncaught exceptions), for failure reports. */
  errors: string[];
}

export async function newPerson(browser: Browser, name: string, viewport = { width: 1280, height: 800 }): Promise<Person> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { name, context, page, errors };
}

/** Creates an account through the sign-in form (at `path`, e.g. a share link). */
export async function signUp(person: Person, baseUrl: string, path = '/'): Promise<void> {
  const { page } = person;
  await page.goto(baseUrl + path);
  await page.getByLabel('Username').fill(person.name);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
}

export const canvasOf = (page: Page): Locator => page.getByLabel('Board canvas');

/** What the board shows, as the screen-reader summary says it ("3 elements: ..."). */
export async function boardSummary(page: Page): Promise<string> {
  return (await page.locator('#board-summary').textContent()) ?? '';
}

/** Waits until the board's summary satisfies `check`. */
export async function waitForSummary(page: Page, check: (summary: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
  const start = Date.now();
  let last = '';
  while (Date.now() - start < timeoutMs) {
    last = await boardSummary(page);
    if (check(last)) return last;
    await page.waitForTimeout(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the board says: ${last}`);
}

/** The number in "N elements" (0 for an empty board). */
export function elementCount(summary: string): number {
  const m = summary.match(/^(\d+) elements?/);
  return m ? Number(m[1]) : 0;
}

/** The count of a kind in the summary ("2 freehand strokes" -> 2). */
export function kindCount(summary: string, noun: string): number {
  const m = summary.match(new RegExp(`(\\d+) ${noun}`));
  return m ? Number(m[1]) : 0;
}

/** The page coordinates of (x, y) in the board canvas (CSS pixels from its top-left). */
export async function canvasPoint(page: Page, x: number, y: number): Promise<[number, number]> {
  const box = await canvasOf(page).boundingBox();
  if (!box) throw new Error('the board canvas is not visible');
  return [box.x + x, box.y + y];
}

/** Drags the mouse across the canvas through `points` (canvas-relative pixels). */
export async function drag(page: Page, points: [number, number][], stepsPerSegment = 4): Promise<void> {
  const [first, ...rest] = points;
  if (!first) return;
  await page.mouse.move(...(await canvasPoint(page, ...first)));
  await page.mouse.down();
  for (const p of rest) await page.mouse.move(...(await canvasPoint(page, ...p)), { steps: stepsPerSegment });
  await page.mouse.up();
}

export async function pickTool(page: Page, tool: 'Select' | 'Pen' | 'Line' | 'Arrow' | 'Rectangle' | 'Ellipse' | 'Text' | 'Eraser'): Promise<void> {
  const button = page.getByRole('button', { name: tool, exact: true });
  await button.click();
  await waitUntil(async () => (await button.getAttribute('aria-pressed')) === 'true', `${tool} tool active`);
}

/** A wavy freehand stroke starting at (x, y). */
export async function drawStroke(page: Page, x: number, y: number): Promise<void> {
  await pickTool(page, 'Pen');
  const points: [number, number][] = Array.from({ length: 16 }, (_, i) => [x + i * 10, y + Math.sin(i / 2.5) * 25]);
  await drag(page, points, 2);
}

export async function drawRectangle(page: Page, x: number, y: number, w: number, h: number): Promise<void> {
  await pickTool(page, 'Rectangle');
  await drag(page, [[x, y], [x + w / 2, y + h / 2], [x + w, y + h]]);
}

export async function writeText(page: Page, x: number, y: number, text: string): Promise<void> {
  await pickTool(page, 'Text');
  await page.mouse.click(...(await canvasPoint(page, x, y)));
  const area = page.getByRole('textbox', { name: 'Text', exact: true });
  await area.waitFor();
  await page.keyboard.type(text);
  await page.keyboard.press('Escape');
  await area.waitFor({ state: 'detached' });
}

/** How many non-white pixels the canvas has in the square of `radius` around (x, y) (CSS pixels). */
export async function inkAt(page: Page, x: number, y: number, radius = 12): Promise<number> {
  return page.getByLabel('Board canvas').evaluate(
    (canvas, [cx, cy, r]) => {
      if (!(canvas instanceof HTMLCanvasElement)) return 0;
      const ctx = canvas.getContext('2d');
      if (!ctx) return 0;
      const k = canvas.width / canvas.getBoundingClientRect().width;
      const size = Math.max(1, Math.round(2 * r * k));
      const data = ctx.getImageData(Math.round((cx - r) * k), Math.round((cy - r) * k), size, size).data;
      let ink = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i]! < 200 || data[i + 1]! < 200 || data[i + 2]! < 200) ink++;
      return ink;
    },
    [x, y, radius] as const,
  );
}

/** Polls an async condition (no fixed sleeps). */
export async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Saves a screenshot of each person's page under test-results/ (after a failure, or to look at). */
export async function screenshots(people: Person[], label: string): Promise<string[]> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const safe = label.replace(/[^a-z0-9-]+/gi, '-').slice(0, 80);
  const paths: string[] = [];
  for (const p of people) {
    const path = join(RESULTS_DIR, `${safe}-${p.name}.png`);
    try {
      await p.page.screenshot({ path, timeout: 5_000 });
      paths.push(path);
    } catch {
      // A closed page has nothing to show.
    }
  }
  return paths;
}

/**
 * The `it` of a browser scenario: a step that, when it fails, saves everyone's screenshot under
 * test-results/ (named `<label>-<step>-<person>.png`) and prints their pages' errors.
 */
export function screenshotSteps(people: () => Person[], label: string) {
  return (name: string, fn: () => Promise<void>, timeout = 60_000) =>
    it(
      name,
      async ({ onTestFailed }) => {
        onTestFailed(async () => {
          const paths = await screenshots(people(), `${label}-${name}`);
          console.error(`screenshots: ${paths.join(', ')}`);
          for (const p of people()) if (p.errors.length) console.error(`${p.name}'s page errors:`, p.errors);
        });
        await fn();
      },
      timeout,
    );
}

/** `owner` (signed up, on the board list) creates a board and is on it, live. Returns the board's id. */
export async function openNewBoard(owner: Person): Promise<string> {
  await owner.page.getByRole('button', { name: 'New board' }).click();
  await owner.page.waitForURL(/\/b\/[A-Za-z0-9_-]+$/);
  const boardId = new URL(owner.page.url()).pathname.split('/').at(-1)!;
  await owner.page.getByRole('status', { name: /Connection: Live/ }).waitFor();
  return boardId;
}

/**
 * `owner` (signed up) creates a board and shares an editor link that `other` signs up through; both
 * end on the board, live. Returns the board's id.
 */
export async function shareNewBoard(baseUrl: string, owner: Person, other: Person): Promise<string> {
  const boardId = await openNewBoard(owner);
  await owner.page.getByRole('button', { name: 'Share' }).click();
  await owner.page.getByRole('button', { name: 'Create editor link' }).click();
  const link = await owner.page.getByLabel('Editor link').inputValue();
  await owner.page.getByRole('button', { name: 'Close', exact: true }).click();
  await signUp(other, baseUrl, new URL(link).pathname);
  await other.page.waitForURL(`${baseUrl}/b/${boardId}`);
  await other.page.getByRole('status', { name: /Connection: Live/ }).waitFor();
  return boardId;
}

/** The colour [r, g, b] of the board canvas at (x, y) (CSS pixels from its top-left). */
export async function pixelAt(page: Page, x: number, y: number): Promise<[number, number, number]> {
  return page.getByLabel('Board canvas').evaluate(
    (canvas, [cx, cy]) => {
      if (!(canvas instanceof HTMLCanvasElement)) return [0, 0, 0] as [number, number, number];
      const ctx = canvas.getContext('2d');
      const k = canvas.width / canvas.getBoundingClientRect().width;
      const d = ctx ? ctx.getImageData(Math.round(cx * k), Math.round(cy * k), 1, 1).data : [0, 0, 0];
      return [d[0]!, d[1]!, d[2]!] as [number, number, number];
    },
    [x, y] as const,
  );
}
