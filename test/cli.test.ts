/**
 * The `inkboard` command line and the examples, end to end: the real server on a real port, the
 * built CLI (`packages/client/bin/inkboard.js`) as a child process with its own $XDG_CONFIG_HOME.
 * Build first: `npx turbo run build`.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ELEMENT_TYPES, elementBounds, unionBounds, type ChatMessage, type Element } from '@inkboard/protocol';
import { addElements, type InkboardClient } from '../packages/client/src/index.js';
import { addOp, stroke } from './helpers/elements.js';
import { CLI_BIN, CliUser, pngSize, ROOT, runCli, runNode, type CliProcess, type RunResult } from './helpers/cli.js';
import { connect, grantAccess, openSession, startServer, testUser, waitFor, type TestServer } from './helpers/server.js';

let server: TestServer;
let scratch: string;
const users: CliUser[] = [];
const processes: CliProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
let counter = 0;

beforeAll(async () => {
  if (!existsSync(join(CLI_BIN, '../../dist/cli/main.js'))) throw new Error('The CLI is not built: run "npx turbo run build" first.');
  server = await startServer();
  scratch = mkdtempSync(join(tmpdir(), 'inkboard-cli-test-'));
});
afterEach(async () => {
  for (const p of processes.splice(0)) await p.kill();
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  for (const u of users.splice(0)) u.remove();
  rmSync(scratch, { recursive: true, force: true });
  await server?.destroy();
});

const unique = (prefix: string) => `${prefix}${++counter}`;

/** A CLI user with no saved login yet. */
function newCliUser(): CliUser {
  const user = new CliUser(server.url);
  users.push(user);
  return user;
}

/** A person who signed up through the CLI (their token is saved in their own config folder). */
async function signedUp(prefix = 'user'): Promise<CliUser & { username: string }> {
  const user = newCliUser();
  const username = unique(prefix);
  await user.ok(['signup', '--username', username, '--password', 'correct horse battery']);
  return Object.assign(user, { username });
}

/** A typed client with the CLI user's saved token. */
function clientOf(user: CliUser): InkboardClient {
  const saved = user.saved();
  if (!saved) throw new Error('no saved login');
  const client = connect(server.url, saved.username, { token: saved.token });
  cleanups.push(() => client.close());
  return client;
}

function spawnCli(user: CliUser, args: string[], env = {}): CliProcess {
  const p = user.spawn(args, env);
  processes.push(p);
  return p;
}

function writeJson(name: string, value: unknown): string {
  const path = join(scratch, `${unique('f')}-${name}`);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

/** Exactly one line on stderr, prefixed with the command's name, nothing on stdout, a failure code. */
function expectOneLineError(result: RunResult, pattern: RegExp): void {
  expect(result.code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).not.toBe(0);
  expect(result.code).not.toBeNull();
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^inkboard: /);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(result.stdout).toBe('');
}

/** One element of every kind, without ids (the CLI makes them). */
const SHAPES = [
  { type: 'rectangle', x: 0, y: 0, width: 120, height: 60, fillColor: '#a5d8ff' },
  { type: 'ellipse', x: 160, y: 0, width: 100, height: 60 },
  { type: 'text', x: 0, y: 90, text: 'Q3 <draft> & co', fontSize: 24 },
  { type: 'line', x: 0, y: 140, points: [[0, 0], [120, 30]] },
  { type: 'arrow', x: 160, y: 140, points: [[0, 0], [100, 0]], strokeColor: '#e03131' },
  { type: 'stroke', x: 0, y: 200, points: [[0, 0, 0.5], [10, 5, 0.6], [20, 3, 0.7], [30, 9, 0.5], [40, 4, 0.4]], strokeWidth: 3 },
  { type: 'note', x: 300, y: 0, width: 160, height: 120, text: 'Ship it', fillColor: '#b2f2bb', angle: 0.1 },
] as const;

/** A board of `user` made through the CLI, with the seven shapes drawn on it through the CLI. */
async function boardWithShapes(user: CliUser, title = 'Shapes'): Promise<string> {
  const boardId = (await user.ok(['boards', 'create', title])).trim();
  await user.ok(['draw', boardId, writeJson('shapes.json', SHAPES)]);
  return boardId;
}

/** `fn` over `items`, at most `limit` at a time (each CLI run is a Node start: slow on 2 shared cores). */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Generous: the whole suite runs files in parallel on two cores, and every CLI run starts Node. */
const SLOW = { timeout: 180_000 };

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

describe('inkboard CLI: accounts', SLOW, () => {
  it('signup saves a token (ink_...) in $XDG_CONFIG_HOME/inkboard/config.json, readable by the user only', async () => {
    const user = newCliUser();
    const username = unique('alice');
    const result = await user.run(['signup', '--username', username, '--password', 'correct horse battery']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(`Created account ${username}; token saved to ${user.configFile}`);

    expect(statSync(user.configFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(user.configHome, 'inkboard')).mode & 0o777).toBe(0o700);
    const saved = user.saved()!;
    expect(saved.token).toMatch(/^ink_[A-Za-z0-9_-]{20,}$/);
    expect(saved).toMatchObject({ server: server.url, username });
    // The saved token is a working credential for that account.
    const me = await clientOf(user).trpc.auth.me.query();
    expect(me?.username).toBe(username);
  });

  it('login saves a new token (replacing a world-readable config with a 0600 one); a wrong password saves nothing', async () => {
    const alice = await signedUp('alice');
    const laptop = newCliUser();
    const wrong = await laptop.run(['login', '--username', alice.username, '--password', 'not the password']);
    expectOneLineError(wrong, /Wrong username or password/);
    expect(existsSync(laptop.configFile)).toBe(false);

    mkdirSync(join(laptop.configHome, 'inkboard'), { recursive: true });
    writeFileSync(laptop.configFile, '{}', { mode: 0o644 });
    const ok = await laptop.run(['login', '--username', alice.username, '--password', 'correct horse battery']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(`Signed in as ${alice.username}`);
    expect(statSync(laptop.configFile).mode & 0o777).toBe(0o600);
    expect(laptop.saved()!.token).toMatch(/^ink_/);
    expect(laptop.saved()!.token).not.toBe(alice.saved()!.token);
    expect((await clientOf(laptop).trpc.auth.me.query())?.username).toBe(alice.username);
  });

  it('signup refuses a taken username and asks for credentials when there is no terminal', async () => {
    const alice = await signedUp('alice');
    const again = await newCliUser().run(['signup', '--username', alice.username, '--password', 'another password']);
    expectOneLineError(again, /taken/);
    const noTty = await newCliUser().run(['signup'], { input: '' });
    expectOneLineError(noTty, /--username and --password/);
  });

  it('logout revokes the saved token on the server and forgets it', async () => {
    const user = await signedUp('leaver');
    const { token } = user.saved()!;
    expect((await user.run(['boards'])).code).toBe(0);

    const out = await user.run(['logout']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/Signed out/);
    expect(existsSync(user.configFile)).toBe(false);
    // Forgotten: the CLI has no token any more.
    expectOneLineError(await user.run(['boards']), new RegExp(`Not signed in to ${server.url.replace(/\./g, '\\.')}.*inkboard login`));
    // Revoked: the old value is refused by the server.
    expectOneLineError(await user.run(['boards'], { env: { INKBOARD_TOKEN: token } }), /valid API token.*inkboard login/);
  });

  it('password changes the password; logout --everywhere (signout) ends every session and token of the account', async () => {
    const user = await signedUp('rotator');
    const laptop = newCliUser();
    await laptop.ok(['login', '--username', user.username, '--password', 'correct horse battery']);
    const changed = await user.run(['password', '--password', 'correct horse battery', '--new-password', 'a brand new passphrase']);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toMatch(/^Password changed; 0 other session\(s\) signed out\./);
    expectOneLineError(await newCliUser().run(['login', '--username', user.username, '--password', 'correct horse battery']), /Wrong username or password/);
    expectOneLineError(await user.run(['password'], { input: '' }), /No terminal to ask on/);

    const out = await laptop.run(['signout', '--everywhere']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.trim()).toBe('Signed out everywhere: 0 session(s) ended and 2 API token(s) revoked (this one too).');
    expect(existsSync(laptop.configFile)).toBe(false);
    // The other machine's saved token is revoked too.
    expectOneLineError(await user.run(['boards']), /valid API token.*inkboard login/);
  });
});

describe('inkboard CLI: boards, draw, export', SLOW, () => {
  it('boards create prints an id; boards lists it as a table and as JSON; rename and rm work', async () => {
    const user = await signedUp('owner');
    expect((await user.ok(['boards'])).trim()).toMatch(/^No boards yet/);

    const id = (await user.ok(['boards', 'create', 'Quarterly', 'plan'])).trim();
    expect(id).toMatch(/^[A-Za-z0-9_-]{6,64}$/);
    const other = (await user.ok(['boards', 'create', 'Other'])).trim();
    expect(other).not.toBe(id);

    const text = (await user.ok(['boards'])).trimEnd().split('\n');
    expect(text[0]).toMatch(/^ID\s+TITLE\s+ROLE\s+ELEMENTS\s+CHANGED$/);
    expect(text).toHaveLength(3);
    expect(text.find((l) => l.startsWith(id))).toMatch(new RegExp(`^${id}\\s+Quarterly plan\\s+owner\\s+0\\s+\\d+s ago$`));

    const json = JSON.parse(await user.ok(['boards', '--json'])) as Record<string, unknown>[];
    expect(json.map((b) => b.id).sort()).toEqual([id, other].sort());
    expect(json.find((b) => b.id === id)).toMatchObject({ id, title: 'Quarterly plan', role: 'owner', elementCount: 0 });
    expect(json[0]).not.toHaveProperty('thumbnail');

    expect((await user.ok(['boards', 'rename', id, 'Q3', 'plan'])).trim()).toBe(`Renamed ${id} to "Q3 plan"`);
    expect((await user.ok(['boards', 'rm', other])).trim()).toBe(`Deleted ${other}`);
    const after = JSON.parse(await user.ok(['boards', '--json'])) as { id: string; title: string }[];
    expect(after.map((b) => [b.id, b.title])).toEqual([[id, 'Q3 plan']]);
    // The typed client agrees: the deleted board is gone.
    await expect(clientOf(user).trpc.board.byId.query({ boardId: other })).rejects.toThrow(/does not exist/);
  });

  it('draw adds a file of shapes of all seven kinds (no ids) on top of the board', async () => {
    const user = await signedUp('drawer');
    const boardId = (await user.ok(['boards', 'create', 'Drawing'])).trim();
    const client = clientOf(user);
    await addElements(client, boardId, [{ type: 'rectangle', x: -50, y: -50, width: 10, height: 10 }]);
    const before = await client.trpc.board.snapshot.query({ boardId });

    const out = await user.run(['draw', boardId, writeJson('shapes.json', SHAPES)]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.trim()).toBe(`Added 7 elements to ${boardId} (seq 2)`);

    const { elements, seq } = await client.trpc.board.snapshot.query({ boardId });
    expect(seq).toBe(2);
    const added = elements.filter((e) => !before.elements.some((b) => b.id === e.id));
    // Every kind but images (they name a file to upload: test/images.test.ts draws one with the CLI).
    expect(added.map((e) => e.type).sort()).toEqual(ELEMENT_TYPES.filter((t) => t !== 'image').sort());
    expect(new Set(added.map((e) => e.id)).size).toBe(7);
    for (const input of SHAPES) {
      const el = added.find((e) => e.type === input.type)!;
      expect(el).toMatchObject(input); // every field given in the file is kept
      expect(el.id).toMatch(/^[A-Za-z0-9_-]+$/);
    }
    // Defaults filled, and the new elements stack above the old one in file order.
    expect(added.find((e) => e.type === 'ellipse')).toMatchObject({ strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1, fillColor: 'transparent' });
    const zs = SHAPES.map((s) => added.find((e) => e.type === s.type)!.z);
    expect([...zs].sort()).toEqual(zs);
    expect(zs[0]! > before.elements[0]!.z).toBe(true);

    // --json names the ids it added.
    const again = JSON.parse(await user.ok(['draw', boardId, writeJson('one.json', [SHAPES[0]]), '--json'])) as { added: string[]; seq: number };
    expect(again.seq).toBe(3);
    const now = await client.trpc.board.snapshot.query({ boardId });
    expect(now.elements.map((e) => e.id)).toContain(again.added[0]);
    expect(now.elements).toHaveLength(9);
  });

  it('draw fills every style field a file leaves out: a text without fontSize, a note with only its box', async () => {
    const user = await signedUp('terse');
    const boardId = (await user.ok(['boards', 'create', 'Terse'])).trim();
    const file = writeJson('terse.json', [
      { type: 'text', x: 0, y: 0, text: 'no size given' },
      { type: 'note', x: 0, y: 50, width: 150, height: 150 },
      { type: 'text', x: 10, y: 300, text: 'label', containerId: 'nowhere', textAlign: 'center', fontFamily: 'hand' },
    ]);
    const out = await user.run(['draw', boardId, file]);
    expect(out.code, out.stderr).toBe(0);
    const { elements } = await clientOf(user).trpc.board.snapshot.query({ boardId });
    expect(elements).toHaveLength(3);
    expect(elements.find((e) => e.type === 'text' && e.text === 'no size given')).toMatchObject({ fontSize: 20, strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 });
    expect(elements.find((e) => e.type === 'note')).toMatchObject({ text: '', fontSize: 20, fillColor: '#fff3bf', strokeColor: '#1e1e1e' });
    expect(elements.find((e) => e.type === 'text' && e.text === 'label')).toMatchObject({ containerId: 'nowhere', textAlign: 'center', fontFamily: 'hand' });
  });

  it('draw with invalid elements names each bad one with its index and reason, exits non-zero and adds nothing', async () => {
    const user = await signedUp('sloppy');
    const boardId = await boardWithShapes(user);
    const client = clientOf(user);
    const before = await client.trpc.board.snapshot.query({ boardId });
    const file = writeJson('bad.json', [
      { type: 'rectangle', x: 0, y: 0, width: 10, height: 10 }, // fine
      { type: 'circle', x: 0, y: 0, r: 5 },
      { type: 'text', x: 0, y: 0, text: '', fontSize: 12 },
      { type: 'ellipse', x: 0, y: 0, width: 10, height: 10 }, // fine
      { type: 'rectangle', x: 0, y: 0, width: -5, height: 10 },
      { type: 'stroke', x: 0, y: 0, points: [] },
      { type: 'line', x: 'left', y: 0, points: [[0, 0], [1, 1]] },
    ]);
    const out = await user.run(['draw', boardId, file]);
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    const lines = out.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('inkboard: Nothing was added. Invalid elements:');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^ {2}element 1: type: .*(stroke|rectangle)/),
      expect.stringMatching(/^ {2}element 2: text: text must not be empty$/),
      expect.stringMatching(/^ {2}element 4: width: must not be negative$/),
      expect.stringMatching(/^ {2}element 5: points: a stroke needs at least one point$/),
      expect.stringMatching(/^ {2}element 6: x: must be a finite number$/),
    ]);
    const after = await client.trpc.board.snapshot.query({ boardId });
    expect(after.seq).toBe(before.seq);
    expect(after.elements.map((e) => e.id).sort()).toEqual(before.elements.map((e) => e.id).sort());
  });

  it('draw refuses a file that is missing, not JSON or not an array, in one line', async () => {
    const user = await signedUp('filer');
    const boardId = (await user.ok(['boards', 'create', 'Files'])).trim();
    expectOneLineError(await user.run(['draw', boardId, join(scratch, 'no-such.json')]), /Cannot read .*no-such\.json: ENOENT/);
    const broken = join(scratch, 'broken.json');
    writeFileSync(broken, '[{"type": "rect');
    expectOneLineError(await user.run(['draw', boardId, broken]), /Cannot read .*broken\.json: .*JSON/);
    expectOneLineError(await user.run(['draw', boardId, writeJson('object.json', { type: 'rectangle' })]), /must contain a JSON array of elements/);
    expect((await clientOf(user).trpc.board.snapshot.query({ boardId })).seq).toBe(0);
  });

  it('export --format svg prints a valid SVG with every shape', async () => {
    const user = await signedUp('exporter');
    const boardId = await boardWithShapes(user);
    const { elements } = await clientOf(user).trpc.board.snapshot.query({ boardId });
    const { code, stdout: svg, stderr } = await user.run(['export', boardId, '--format', 'svg']);
    expect(code, stderr).toBe(0);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="[-\d. ]+" width="\d+" height="\d+">/);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const tag of ['<rect data-id', '<ellipse', '<text', '<polyline', '<path']) expect(svg).toContain(tag);
    expect(svg).toContain('fill="#a5d8ff"');
    expect(svg).toContain('Q3 &lt;draft&gt; &amp; co'); // the text, escaped
    for (const el of elements) expect(svg).toContain(`data-id="${el.id}"`);
    // A real SVG parser accepts it at its stated size.
    const width = Number(/width="(\d+)"/.exec(svg)![1]);
    const rendered = new Resvg(svg).render();
    expect(rendered.width).toBe(width);
  });

  it('export --format png --out writes a PNG of a sensible size; --format json prints the elements', async () => {
    const user = await signedUp('exporter');
    const boardId = await boardWithShapes(user);
    const svg = await user.ok(['export', boardId, '--format', 'svg']);
    const svgWidth = Number(/width="(\d+)"/.exec(svg)![1]);
    const svgHeight = Number(/height="(\d+)"/.exec(svg)![1]);

    const file = join(scratch, `${unique('board')}.png`);
    const out = await user.run(['export', boardId, '--format', 'png', '--out', file]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toBe('');
    const png = readFileSync(file);
    expect(out.stderr.trim()).toBe(`Wrote ${png.length} bytes to ${file}`);
    // Default scale 2: twice the SVG's size.
    expect(pngSize(png)).toEqual({ width: 2 * svgWidth, height: 2 * svgHeight });
    expect(png.length).toBeGreaterThan(1_000);
    expect(png.length).toBeLessThan(2_000_000);

    const small = join(scratch, `${unique('small')}.png`);
    await user.ok(['export', boardId, '--format', 'png', '--out', small, '--scale', '1']);
    expect(pngSize(readFileSync(small))).toEqual({ width: svgWidth, height: svgHeight });

    const json = JSON.parse(await user.ok(['export', boardId, '--format', 'json'])) as Element[];
    const { elements } = await clientOf(user).trpc.board.snapshot.query({ boardId });
    expect([...json].sort(byId)).toEqual([...elements].sort(byId));
    expect(json).toHaveLength(7);

    expectOneLineError(await user.run(['export', boardId, '--format', 'gif']), /--format must be svg, png or json/);
    expectOneLineError(await user.run(['export', 'noSuchBoard', '--format', 'svg']), /does not exist/);
  });
});

describe('server export endpoints over HTTP', SLOW, () => {
  it('answer a Bearer token with SVG and PNG, and refuse without one (401 JSON with a message)', async () => {
    const user = await signedUp('http');
    const boardId = await boardWithShapes(user);
    const auth = { authorization: `Bearer ${user.saved()!.token}` };
    const base = `${server.url}/api/boards/${boardId}`;

    const svg = await fetch(`${base}/export.svg`, { headers: auth });
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    const body = await svg.text();
    expect(body).toMatch(/^<svg /);
    expect(body).toContain('<ellipse');

    const png = await fetch(`${base}/export.png?scale=1`, { headers: auth });
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    const size = pngSize(new Uint8Array(await png.arrayBuffer()));
    expect(size.width).toBe(Number(/width="(\d+)"/.exec(body)![1]));

    const refusedHeaders: Record<string, string>[] = [{}, { authorization: 'Bearer ink_not-a-real-token' }, { authorization: 'Basic dXNlcjpwYXNz' }];
    for (const headers of refusedHeaders) {
      for (const ext of ['svg', 'png']) {
        const res = await fetch(`${base}/export.${ext}`, { headers });
        expect(res.status).toBe(401);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        const error = (await res.json()) as { error: string; message: string };
        expect(error.error).toBe('UNAUTHORIZED');
        expect(error.message).toMatch(/Bearer ink_/);
      }
    }
    // Signed in but not a member: refused too, with a message.
    const stranger = await fetch(`${base}/export.svg`, { headers: { authorization: `Bearer ${testUser(server.url, 'stranger').token}` } });
    expect([403, 404]).toContain(stranger.status);
    expect(((await stranger.json()) as { message: string }).message).toMatch(/\w/);
  });
});

describe('inkboard CLI: live', SLOW, () => {
  it('chat BOARD MESSAGE sends a message another client receives', async () => {
    const user = await signedUp('talker');
    const boardId = (await user.ok(['boards', 'create', 'Chatty'])).trim();
    const received: ChatMessage[] = [];
    const bob = openSession(server.url, boardId, 'bob', { event: (e) => e.type === 'chat' && received.push(e.message) });
    cleanups.push(bob.close);
    await waitFor(() => bob.session.status === 'live', 'bob live');

    const out = await user.run(['chat', boardId, 'hello', 'from', 'the', 'CLI']);
    expect(out.code, out.stderr).toBe(0);
    const id = Number(/^Sent \(#(\d+)\)$/.exec(out.stdout.trim())?.[1]);
    expect(id).toBeGreaterThan(0);
    await waitFor(() => received.length > 0, 'bob receives the message');
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ id, text: 'hello from the CLI', user: { name: user.username } });
  });

  it('interactive chat shows history and incoming messages, and sends typed lines', async () => {
    const user = await signedUp('chatter');
    const boardId = (await user.ok(['boards', 'create', 'Chat room'])).trim();
    const received: ChatMessage[] = [];
    const bob = openSession(server.url, boardId, 'bob', { event: (e) => e.type === 'chat' && received.push(e.message) });
    cleanups.push(bob.close);
    await bob.client.trpc.chat.send.mutate({ boardId, text: 'an older message' });

    const chat = spawnCli(user, ['chat', boardId]);
    await chat.waitForLine(new RegExp(`^-- chatting on ${boardId};`));
    expect(chat.lines.some((l) => /^\d\d:\d\d bob: an older message$/.test(l))).toBe(true); // history first
    await waitFor(async () => (await server.app.boards.hub.presence(boardId)).some((c) => c.user.name === user.username), 'the CLI is on the board');

    await bob.client.trpc.chat.send.mutate({ boardId, text: 'ping from bob' });
    await chat.waitForLine(/^\d\d:\d\d bob: ping from bob$/);
    await bob.client.trpc.chat.typing.mutate({ boardId });
    await chat.waitForLine(/^ {3}bob is typing…$/);

    chat.type('pong from the terminal');
    await waitFor(() => received.some((m) => m.text === 'pong from the terminal'), 'bob receives the typed line');
    expect(received.find((m) => m.text === 'pong from the terminal')!.user.name).toBe(user.username);
    chat.type('   '); // blank lines are not sent
    chat.type('second line');
    await waitFor(() => received.some((m) => m.text === 'second line'), 'bob receives the second line');
    expect(received.map((m) => m.text)).toEqual(['ping from bob', 'pong from the terminal', 'second line']);
    // Own messages are not echoed back as incoming.
    expect(chat.lines.filter((l) => l.includes('pong from the terminal'))).toEqual([]);

    const exit = await chat.endInput(); // Ctrl+D
    expect(exit).toEqual({ code: 0, signal: null });
    expect(chat.stderr).toBe('');
  });

  it('token create, list and revoke; a revoked token is refused in one line with a non-zero exit', async () => {
    const user = await signedUp('tokens');
    const boardId = (await user.ok(['boards', 'create', 'Token board'])).trim();
    // A new token takes the password (a token cannot create tokens); the saved login gives the username.
    const [token, note] = (await user.ok(['token', 'create', 'ci bot', '--password', 'correct horse battery'])).trimEnd().split('\n');
    expect(token).toMatch(/^ink_[A-Za-z0-9_-]{20,}$/);
    const tokenId = /^\(shown once: store it now; id (\S+)\)$/.exec(note!)?.[1];
    expect(tokenId).toBeTruthy();

    const created = JSON.parse(await user.ok(['token', 'create', 'other', '--password', 'correct horse battery', '--json'])) as { token: string; id: string; name: string };
    expect(created).toMatchObject({ name: 'other', token: expect.stringMatching(/^ink_/) });

    const list = await user.ok(['token', 'list']);
    expect(list.split('\n')[0]).toMatch(/^ID\s+NAME\s+PREFIX\s+CREATED\s+LAST USED$/);
    expect(list).toMatch(new RegExp(`^${tokenId}\\s+ci bot\\s+${token!.slice(0, 10)}…\\s+\\d+s ago\\s+never$`, 'm'));
    expect(list).not.toContain(token); // never the value
    const listed = JSON.parse(await user.ok(['token', 'list', '--json'])) as { id: string; name: string }[];
    expect(listed.map((t) => t.name).sort()).toEqual(['ci bot', `inkboard CLI on ${hostname()}`, 'other'].sort());

    // INKBOARD_TOKEN wins over the saved login (here: the new token of the same account).
    const withToken = await user.run(['boards', '--json'], { env: { INKBOARD_TOKEN: token } });
    expect(withToken.code, withToken.stderr).toBe(0);
    expect((JSON.parse(withToken.stdout) as { id: string }[]).map((b) => b.id)).toEqual([boardId]);

    expect((await user.ok(['token', 'revoke', tokenId!])).trim()).toBe(`Revoked ${tokenId}`);
    const remaining = JSON.parse(await user.ok(['token', 'list', '--json'])) as { id: string }[];
    expect(remaining.map((t) => t.id)).not.toContain(tokenId);
    expect(remaining).toHaveLength(2);

    const refused = /^inkboard: .*valid API token.*\(run "inkboard login" to get a new token\)$/;
    const withRevoked = [['boards'], ['chat', boardId, 'hi'], ['watch', boardId], ['draw', boardId, writeJson('s.json', SHAPES)], ['export', boardId, '--format', 'svg']];
    const answers = await mapLimit(withRevoked, 3, (args) => user.run(args, { env: { INKBOARD_TOKEN: token } }));
    answers.slice(0, 4).forEach((answer) => expectOneLineError(answer, refused));
    expectOneLineError(answers[4]!, /valid API token/); // the export endpoint's own words
    // Revoking it again, or someone else's id, says so.
    expectOneLineError(await user.run(['token', 'revoke', tokenId!]), /No such token/);
    // Nothing was drawn or said with the revoked token.
    expect((await clientOf(user).trpc.board.snapshot.query({ boardId })).seq).toBe(0);
  });

  it('watch prints draws and chat, and after a dropped connection resumes without duplicates or gaps', async () => {
    const user = await signedUp('watcher');
    const boardId = await boardWithShapes(user, 'Watched');
    const watcherId = (await clientOf(user).trpc.auth.me.query())!.id;
    const watch = spawnCli(user, ['watch', boardId]);
    await watch.waitForLine(new RegExp(`^Watching ${boardId}: 7 elements at seq 1 \\(Ctrl\\+C to stop\\)$`));

    const bob = openSession(server.url, boardId, 'bob');
    cleanups.push(bob.close);
    await waitFor(() => bob.session.status === 'live', 'bob live');
    await watch.waitForLine(/^\d\d:\d\d:\d\d bob joined$/);
    await bob.session.apply(addOp(stroke(12)));
    await watch.waitForLine(/^\d\d:\d\d:\d\d #2 bob added a stroke \(12 points\)$/);
    await bob.client.trpc.chat.send.mutate({ boardId, text: 'before the restart' });
    await watch.waitForLine(/\[chat\] bob: before the restart$/);

    // The server goes away and comes back on the same port and file. The watcher is frozen
    // (SIGSTOP) once its connection is gone, so it certainly misses what happens until it resumes.
    await server.stop();
    watch.child.kill('SIGSTOP');
    server = await server.restart();
    const carol = connect(server.url, 'carol');
    cleanups.push(() => carol.close());
    grantAccess(server.url, boardId, 'carol');
    await addElements(carol, boardId, [{ type: 'stroke', x: 0, y: 400, points: [[0, 0], [5, 5], [9, 2]] }]);
    await addElements(carol, boardId, [{ type: 'rectangle', x: 0, y: 450, width: 20, height: 20 }]);
    await carol.trpc.chat.send.mutate({ boardId, text: 'said while the watcher was away' });
    expect((await server.app.boards.hub.presence(boardId)).some((c) => c.user.id === watcherId)).toBe(false);
    watch.child.kill('SIGCONT');

    // It reconnects by itself, prints what it missed, then goes on live.
    await watch.waitForLine(/\[chat\] carol: said while the watcher was away$/, { timeoutMs: 20_000 });
    await waitFor(async () => (await server.app.boards.hub.presence(boardId)).some((c) => c.user.id === watcherId), 'the watcher reconnected', 20_000);
    await waitFor(() => bob.session.status === 'live', 'bob live again', 20_000);
    await bob.session.apply(addOp(stroke(7)));
    await bob.client.trpc.chat.send.mutate({ boardId, text: 'after the restart' });
    await watch.waitForLine(/\[chat\] bob: after the restart$/);

    // Every line once, in order; (re)joins are the only lines besides these.
    const stamp = /^\d\d:\d\d:\d\d /;
    const isPresence = (l: string) => /^\d\d:\d\d:\d\d \S+ (joined|left)$/.test(l);
    expect(watch.lines.filter((l) => !isPresence(l)).map((l) => l.replace(stamp, ''))).toEqual([
      `Watching ${boardId}: 7 elements at seq 1 (Ctrl+C to stop)`,
      '#2 bob added a stroke (12 points)',
      '[chat] bob: before the restart',
      '#3 carol added a stroke (3 points)',
      '#4 carol added a rectangle',
      '[chat] carol: said while the watcher was away',
      '#5 bob added a stroke (7 points)',
      '[chat] bob: after the restart',
    ]);
    expect(watch.lines.filter((l) => !isPresence(l)).every((l) => l.startsWith('Watching ') || stamp.test(l))).toBe(true);
    expect(watch.stderr).toBe('');

    const exit = await watch.interrupt('SIGINT');
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it('watch --json prints one JSON event per line', async () => {
    const user = await signedUp('jsonwatch');
    const boardId = (await user.ok(['boards', 'create', 'JSON'])).trim();
    const watch = spawnCli(user, ['watch', boardId, '--json']);
    await watch.waitForLine(/"type":"snapshot"/);
    await user.ok(['draw', boardId, writeJson('shapes.json', SHAPES)]);
    const line = await watch.waitForLine(/"type":"op"/);
    const event = JSON.parse(line) as { type: string; seq: number; op: { type: string; elements: Element[] } };
    expect(event).toMatchObject({ type: 'op', seq: 1, op: { type: 'add' } });
    expect(event.op.elements.map((e) => e.type)).toEqual(SHAPES.map((s) => s.type));
    for (const l of watch.lines) expect(() => JSON.parse(l)).not.toThrow();
    expect((await watch.interrupt('SIGINT')).code).toBe(0);
  });
});

describe('inkboard CLI: mistakes', SLOW, () => {
  it('an unknown command or a missing argument gives a helpful one-line error', async () => {
    const user = await signedUp('typo');
    const boardId = (await user.ok(['boards', 'create', 'Typos'])).trim();
    expectOneLineError(await user.run(['drwa', boardId]), /^inkboard: Unknown command "drwa"\. See "inkboard --help"\.$/);
    // Also when not signed in: the typo is what needs fixing.
    expectOneLineError(await newCliUser().run(['frobnicate']), /Unknown command "frobnicate".*--help/);

    const cases: [string[], RegExp][] = [
      [['draw'], /Missing BOARD\. See "inkboard --help"/],
      [['draw', boardId], /Missing FILE\.json/],
      [['export'], /Missing BOARD/],
      [['watch'], /Missing BOARD/],
      [['chat'], /Missing BOARD/],
      [['boards', 'create'], /Missing TITLE/],
      [['boards', 'rename', boardId], /Missing TITLE/],
      [['boards', 'rm'], /Missing board ID/],
      [['boards', 'shred', boardId], /Unknown "boards shred"\. Try: boards, boards create/],
      [['token', 'create'], /Missing NAME/],
      [['token', 'revoke'], /Missing token ID/],
      [['token'], /Try: token create NAME, token list, token revoke ID/],
      [['boards', '--colour', 'red'], /Unknown option '--colour'/],
    ];
    const results = await mapLimit(cases, 3, ([args]) => user.run(args));
    results.forEach((result, i) => expectOneLineError(result, cases[i]![1]));
    expect((await clientOf(user).trpc.board.byId.query({ boardId })).title).toBe('Typos');
  });

  it('--help prints the usage; an unreachable server is named as such', async () => {
    const help = await runCli(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: inkboard <command>/);
    for (const cmd of ['signup', 'boards create TITLE', 'draw BOARD FILE.json', 'export BOARD --format svg|png|json', 'watch BOARD', 'chat BOARD [MESSAGE]', 'token create NAME']) {
      expect(help.stdout).toContain(cmd);
    }
    const token = testUser(server.url, 'offline').token;
    const offline = [['boards'], ['watch', 'someBoard'], ['export', 'someBoard', '--format', 'svg']];
    const answers = await mapLimit(offline, 3, (args) =>
      runCli([...args, '--server', 'http://127.0.0.1:1'], { INKBOARD_TOKEN: token, XDG_CONFIG_HOME: scratch }),
    );
    for (const answer of answers) expectOneLineError(answer, /Cannot reach the server.*--server or INKBOARD_SERVER/);
  });
});

describe('examples', SLOW, () => {
  const runExample = (name: string, args: string[], token: string) =>
    runNode(['--import', 'tsx', `examples/${name}.ts`, ...args], { INKBOARD_SERVER: server.url, INKBOARD_TOKEN: token }, { timeoutMs: 30_000 });

  it('bar-chart.ts draws a labelled bar chart from examples/data/sales.json below what is on the board', async () => {
    const user = await signedUp('charts');
    const { token } = user.saved()!;
    const boardId = (await user.ok(['boards', 'create', 'Sales'])).trim();
    await user.ok(['draw', boardId, writeJson('note.json', [{ type: 'text', x: 0, y: 0, text: 'Notes', fontSize: 20 }])]);
    const sales = JSON.parse(readFileSync(join(ROOT, 'examples/data/sales.json'), 'utf8')) as { title: string; data: { label: string; value: number }[] };
    expect(sales.data.length).toBeGreaterThanOrEqual(3);

    const out = await runExample('bar-chart', [boardId, 'examples/data/sales.json'], token);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(new RegExp(`^Drew ${sales.data.length} bars \\(\\d+ elements\\) on ${boardId}`));

    const { elements } = await clientOf(user).trpc.board.snapshot.query({ boardId });
    const bars = elements.filter((e) => e.type === 'rectangle').sort((a, b) => a.x - b.x);
    const texts = elements.filter((e) => e.type === 'text');
    expect(bars).toHaveLength(sales.data.length);
    // Heights in proportion to the values, on one baseline, left to right in file order, not overlapping.
    const max = Math.max(...sales.data.map((d) => d.value));
    const tallest = Math.max(...bars.map((b) => b.height));
    bars.forEach((bar, i) => {
      expect(bar.height / tallest).toBeCloseTo(sales.data[i]!.value / max, 5);
      expect(bar.y + bar.height).toBeCloseTo(bars[0]!.y + bars[0]!.height, 5);
      if (i > 0) expect(bar.x).toBeGreaterThanOrEqual(bars[i - 1]!.x + bars[i - 1]!.width);
    });
    expect(new Set(bars.map((b) => b.fillColor)).size).toBeGreaterThan(1);
    // Each label below its bar and each value above it, horizontally within the bar's column.
    sales.data.forEach((d, i) => {
      const bar = bars[i]!;
      const label = texts.find((t) => t.text === d.label);
      const value = texts.find((t) => t.text === String(d.value));
      expect(label, `label ${d.label}`).toBeDefined();
      expect(value, `value ${d.value}`).toBeDefined();
      expect(label!.y).toBeGreaterThanOrEqual(bar.y + bar.height);
      expect(value!.y).toBeLessThan(bar.y);
      for (const t of [label!, value!]) {
        expect(t.x).toBeGreaterThanOrEqual(bar.x - 20);
        expect(t.x).toBeLessThanOrEqual(bar.x + bar.width);
      }
    });
    expect(texts.some((t) => t.text === sales.title)).toBe(true);
    expect(elements.filter((e) => e.type === 'arrow')).toHaveLength(2); // axes
    // Below the note that was there: nothing of the chart covers it.
    const note = elements.find((e) => e.type === 'text' && e.text === 'Notes')!;
    const chart = unionBounds(elements.filter((e) => e !== note))!;
    expect(chart.minY).toBeGreaterThan(elementBounds(note).maxY);

    // Mistakes: one line, exit 1, nothing drawn.
    const seq = (await clientOf(user).trpc.board.snapshot.query({ boardId })).seq;
    const bad = writeJson('bad-sales.json', { data: [{ label: 'Q1', value: -3 }] });
    const refused = await runExample('bar-chart', [boardId, bad], token);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(/^bar-chart: .*data\[0\]\.value must be a number >= 0$/);
    const noBoard = await runExample('bar-chart', ['noSuchBoard', 'examples/data/sales.json'], token);
    expect(noBoard.code).toBe(1);
    expect(noBoard.stderr.trim()).toMatch(/^bar-chart: .*does not exist/);
    const usage = await runExample('bar-chart', [boardId], token);
    expect(usage.code).toBe(1);
    expect(usage.stderr.trim()).toMatch(/^bar-chart: usage: /);
    expect((await clientOf(user).trpc.board.snapshot.query({ boardId })).seq).toBe(seq);
  });

  it('export-all.ts writes one SVG per board of the user (owned and shared), and only theirs', async () => {
    const user = await signedUp('archivist');
    const { token } = user.saved()!;
    const a = await boardWithShapes(user, 'Roadmap 2025');
    const b = (await user.ok(['boards', 'create', 'Ünïcode / slashes: "quoted"'])).trim();
    const c = (await user.ok(['boards', 'create', 'Empty'])).trim();
    // A board someone else shared with the user, and one they did not.
    const other = connect(server.url, 'sharer');
    cleanups.push(() => other.close());
    const shared = (await other.trpc.board.create.mutate({ title: 'Shared with me' })).id;
    const notShared = (await other.trpc.board.create.mutate({ title: 'Private' })).id;
    await addElements(other, shared, [{ type: 'ellipse', x: 0, y: 0, width: 30, height: 20 }]);
    await server.app.boards.access.addMember(shared, (await clientOf(user).trpc.auth.me.query())!.id, 'viewer');

    const folder = join(scratch, unique('export'), 'nested');
    const out = await runExample('export-all', [folder], token);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.trim().split('\n').at(-1)).toBe(`Exported 4 boards to ${folder}`);

    const files = readdirSync(folder).sort();
    expect(files).toHaveLength(4);
    for (const id of [a, b, c, shared]) expect(files.filter((f) => f.endsWith(`-${id}.svg`))).toHaveLength(1);
    expect(files.some((f) => f.includes(notShared))).toBe(false);
    for (const f of files) {
      expect(f).toMatch(/^[a-z0-9-]+-[A-Za-z0-9_-]+\.svg$/);
      const svg = readFileSync(join(folder, f), 'utf8');
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(() => new Resvg(svg).render()).not.toThrow();
    }
    expect(files.find((f) => f.endsWith(`-${a}.svg`))).toBe(`roadmap-2025-${a}.svg`);
    const roadmap = readFileSync(join(folder, `roadmap-2025-${a}.svg`), 'utf8');
    for (const tag of ['<rect data-id', '<ellipse', 'Q3 &lt;draft&gt;']) expect(roadmap).toContain(tag);
    expect(readFileSync(join(folder, files.find((f) => f.endsWith(`-${shared}.svg`))!), 'utf8')).toContain('<ellipse');

    const noToken = await runNode(['--import', 'tsx', 'examples/export-all.ts', folder], { INKBOARD_SERVER: server.url }, { timeoutMs: 30_000 });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr.trim()).toMatch(/^export-all: Set INKBOARD_TOKEN/);
  });
});
