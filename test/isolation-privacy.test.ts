/**
 * Issue 13, "Strings" and "Privacy and logs": control characters refused at the schema (stored old
 * data still loads), the CLI never prints terminal escapes, live events never carry a username,
 * share codes and tokens never reach the logs, the database files are private, and `/metrics` is
 * served only to this machine unless configured otherwise. Real server on port 0, real clients.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newId, zAbove, type Element } from '@inkboard/protocol';
import { loadConfig } from '../apps/server/src/config.js';
import { BoardSession } from '../packages/client/src/index.js';
import { addOp, moveOp, rect } from './helpers/elements.js';
import { httpClient, logCollector, outcome, signUp, watch as watchClient } from './helpers/auth.js';
import { ROOT, runNode } from './helpers/cli.js';
import { watch } from './helpers/live.js';
import { connect, grantAccess, openSession, sqliteOf, startServer, testUser, waitFor, type TestServer } from './helpers/server.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
});

async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args);
  cleanups.push(() => s.destroy());
  return s;
}

function client(url: string, name: string, extra: Parameters<typeof connect>[2] = {}) {
  const c = connect(url, name, extra);
  cleanups.push(() => c.close());
  return c;
}

const text = (value: string, id = newId()): Element => ({
  type: 'text',
  id,
  x: 0,
  y: 0,
  z: zAbove(null),
  text: value,
  fontSize: 16,
  strokeColor: '#1e1e1e',
  strokeWidth: 2,
  opacity: 1,
});

const ESC = '\u001b';
/** What an attacker puts in a title, name or message to drive a terminal: retitle the window, clear the screen, an 8-bit CSI. */
const TERMINAL_ATTACK = `${ESC}]0;pwned\u0007 ${ESC}[2J \u009b31m`;

async function alive(url: string): Promise<void> {
  const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) });
  expect(res.status).toBe(200);
}

describe('strings', () => {
  it('refuses control characters in texts, chat, titles and names with BAD_REQUEST naming the character; the server and board are unharmed', async () => {
    const s = await server();
    const owner = client(s.url, 'Strings Owner');
    const { id: boardId } = await owner.trpc.board.create.mutate({ title: 'Strings' });

    const refusals = {
      'text element': await outcome(() => owner.trpc.board.push.mutate({ boardId, ops: [addOp(text('hi\u0001there'))] })),
      'text edit': await outcome(() => owner.trpc.board.push.mutate({ boardId, ops: [{ type: 'update', opId: newId(), updates: [{ id: 'x', patch: { text: `a${ESC}[2J` } }] }] })),
      chat: await outcome(() => owner.trpc.chat.send.mutate({ boardId, text: `look ${TERMINAL_ATTACK}` })),
      'new title': await outcome(() => owner.trpc.board.create.mutate({ title: `Plan ${ESC}]0;pwned\u0007` })),
      'C1 in a title': await outcome(() => owner.trpc.board.rename.mutate({ boardId, title: 'Plan \u0085 B' })),
      'display name': await outcome(() => owner.trpc.auth.updateProfile.mutate({ name: `Ann\u007f` })),
      'lone surrogate': await outcome(() => owner.trpc.chat.send.mutate({ boardId, text: 'half \ud83d emoji' })),
    };
    for (const [what, result] of Object.entries(refusals)) {
      expect(result, what).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
      if (!result.ok) expect(result.message, what).toMatch(/must not contain control characters \(U\+[0-9A-F]{4} at position \d+\); remove it/);
    }
    const newline = await outcome(() => owner.trpc.board.rename.mutate({ boardId, title: 'two\nlines' }));
    expect(newline).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    if (!newline.ok) expect(newline.message).toMatch(/must be one line without line breaks or tabs \(U\+000A/);

    // Nothing of it was applied; newlines and tabs in a text and chat are fine.
    expect((await owner.trpc.board.snapshot.query({ boardId })).elements).toEqual([]);
    expect((await owner.trpc.board.byId.query({ boardId })).title).toBe('Strings');
    await owner.trpc.board.push.mutate({ boardId, ops: [addOp(text('line one\n\tline two'))] });
    await owner.trpc.chat.send.mutate({ boardId, text: 'two\nlines' });
    expect((await owner.trpc.board.snapshot.query({ boardId })).elements).toHaveLength(1);
    await alive(s.url);
  });

  it('a board stored with control characters (before the rule) still loads, resumes from the op log and stays editable', async () => {
    const s = await server();
    const owner = client(s.url, 'Old Owner');
    const { id: boardId } = await owner.trpc.board.create.mutate({ title: 'Old board' });
    const old = text('old PLACEHOLDER text', 'old-text');
    await owner.trpc.board.push.mutate({ boardId, ops: [addOp(old, rect(100, 100))] });
    await owner.trpc.chat.send.mutate({ boardId, text: 'old PLACEHOLDER chat' });
    await owner.close();
    // What an older server stored: a U+0001 in the element (JSON-escaped, as JSON.stringify writes it),
    // in the op log, in the title and in a chat message.
    const db = sqliteOf(s.app);
    db.prepare(`update elements set data = replace(data, 'PLACEHOLDER', '\\u0001') where board_id = ?`).run(boardId);
    db.prepare(`update ops set data = replace(data, 'PLACEHOLDER', '\\u0001') where board_id = ?`).run(boardId);
    db.prepare(`update boards set title = ? where id = ?`).run('Old \u0001 board', boardId);
    db.prepare(`update chat_messages set text = ? where board_id = ?`).run('old \u0007 chat', boardId);
    const restarted = await s.restart();
    cleanups.push(() => restarted.destroy());

    const again = client(restarted.url, 'Old Owner');
    expect((await again.trpc.board.list.query()).find((b) => b.id === boardId)?.title).toBe('Old \u0001 board');
    expect((await again.trpc.board.snapshot.query({ boardId })).elements.find((e) => e.id === 'old-text')).toMatchObject({ text: 'old \u0001 text' });
    expect((await again.trpc.chat.history.query({ boardId })).messages[0]?.text).toBe('old \u0007 chat');

    // Two live sessions (snapshot) and one resuming from the op log; one of them moves the old text.
    const ann = openSession(restarted.url, boardId, 'ann');
    const bob = openSession(restarted.url, boardId, 'bob');
    cleanups.push(ann.close, bob.close);
    grantAccess(restarted.url, boardId, 'cy');
    const cyClient = client(restarted.url, 'cy', { allOverWebSocket: true });
    const cy = new BoardSession(cyClient, boardId).start(0);
    cleanups.push(() => cy.close());
    for (const session of [ann.session, bob.session, cy]) {
      await waitFor(() => session.elements.get('old-text')?.type === 'text', 'the old text on every client');
      expect(session.elements.get('old-text')).toMatchObject({ text: 'old \u0001 text' });
    }
    await bob.session.apply(moveOp('old-text', 50, 60));
    for (const session of [ann.session, bob.session, cy]) {
      await waitFor(() => session.elements.get('old-text')?.x === 50, 'the move on every client');
      expect(session.gaps).toBe(0);
    }
    // Its text can be replaced by a clean one, but not by another control character.
    await ann.session.apply({ type: 'update', opId: newId(), updates: [{ id: 'old-text', patch: { text: 'clean text' } }] });
    const dirty = await outcome(() => again.trpc.board.push.mutate({ boardId, ops: [{ type: 'update', opId: newId(), updates: [{ id: 'old-text', patch: { text: 'x\u0002' } }] }] }));
    expect(dirty).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect((await again.trpc.board.snapshot.query({ boardId })).elements.find((e) => e.id === 'old-text')).toMatchObject({ text: 'clean text', x: 50, y: 60 });
  });
});

/** Runs the CLI from its TypeScript source (no build needed) and returns the raw bytes it printed. */
function cliFromSource(args: string[], env: Record<string, string>) {
  return runNode(['--import', 'tsx', join(ROOT, 'packages/client/src/cli/main.ts'), ...args], env, { timeoutMs: 40_000 });
}

describe('CLI', () => {
  it('prints titles, names and chat stored with terminal escapes without any ESC or C1 byte (boards, boards --json, watch)', { timeout: 120_000 }, async () => {
    const s = await server();
    const config = mkdtempSync(join(tmpdir(), 'inkboard-cli-privacy-'));
    cleanups.push(() => rmSync(config, { recursive: true, force: true }));
    const owner = testUser(s.url, 'Cli Owner');
    const api = client(s.url, 'Cli Owner');
    const { id: boardId } = await api.trpc.board.create.mutate({ title: 'Evil' });
    // Stored by an older server (the schema refuses them now).
    const db = sqliteOf(s.app);
    db.prepare('update boards set title = ? where id = ?').run(`Evil ${TERMINAL_ATTACK} title`, boardId);
    const mallory = testUser(s.url, 'Mallory');
    db.prepare('update users set name = ? where id = ?').run(`Mal${ESC}[2Jlory${ESC}]0;pwned\u0007`, mallory.id);
    grantAccess(s.url, boardId, 'Mallory');
    const env = { INKBOARD_SERVER: s.url, INKBOARD_TOKEN: owner.token, XDG_CONFIG_HOME: config };

    // watch (Mallory, a name with escapes, joins, draws and chats while the owner watches), and
    // meanwhile the board list as a table and as JSON (three Node starts at once: faster on two cores).
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'packages/client/src/cli/main.ts'), 'watch', boardId], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => child.kill('SIGKILL'));
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const [list, listJson] = await Promise.all([cliFromSource(['boards'], env), cliFromSource(['boards', '--json'], env)]);
    expect(list.code, list.stderr).toBe(0);
    expect(listJson.code, listJson.stderr).toBe(0);
    await waitFor(() => out.includes('Watching'), `watch to start (stderr: ${err})`, 40_000);
    const m = watch(s.url, boardId, 'Mallory', { role: null, displayName: `Mal${ESC}[2Jlory${ESC}]0;pwned\u0007` });
    cleanups.push(m.close);
    await m.ready();
    await m.client.trpc.board.push.mutate({ boardId, ops: [addOp(rect())] });
    await m.client.trpc.chat.send.mutate({ boardId, text: 'hello' });
    await waitFor(() => /\[chat\].*hello/.test(out), `watch to print the chat (stdout: ${JSON.stringify(out)})`, 20_000);
    child.kill('SIGINT');

    for (const [what, printed] of [['boards', list.stdout], ['boards --json', listJson.stdout], ['watch', out]] as const) {
      expect(printed, what).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      expect(printed.includes(ESC), `${what}: ESC byte`).toBe(false);
    }
    // The readable parts are still there.
    expect(list.stdout).toMatch(/Evil .*title/);
    expect(JSON.parse(listJson.stdout)[0].title).toBe(`Evil ${TERMINAL_ATTACK} title`); // JSON keeps the data, escaped
    expect(out).toMatch(/Mallory added a rectangle/);
    expect(out).toMatch(/\[chat\] Mallory: hello/);
  });
});

describe('privacy', () => {
  it('op, chat, join and typing events carry id, name and colour only, never the sign-in username', async () => {
    const s = await server();
    // A real account whose sign-in name appears nowhere else (not in its id or display name).
    const username = 'ann.secret.login';
    const signed = await signUp(s.url, username, 'correct horse battery', 'Ann Privacy');
    const { token } = await httpClient(s.url, { cookie: signed.cookie }).token.create.mutate({ name: 'test' });
    const owner = { id: signed.user.id, token };
    const { id: boardId } = await client(s.url, 'Ann Privacy', { token }).trpc.board.create.mutate({ title: 'Private' });
    const ann = { client: client(s.url, 'Ann Privacy', { token, allOverWebSocket: true }) };
    const annSubscription = watchClient(ann.client, boardId);
    cleanups.push(() => annSubscription.stop());
    await waitFor(() => annSubscription.frames.length > 0, "ann's subscription");
    const bob = watch(s.url, boardId, 'Bob Watcher', { role: 'viewer' });
    cleanups.push(bob.close);
    await bob.ready();

    await ann.client.trpc.board.push.mutate({ boardId, ops: [addOp(rect())] });
    await ann.client.trpc.chat.send.mutate({ boardId, text: 'hi' });
    await ann.client.trpc.chat.typing.mutate({ boardId });
    const op = await bob.waitForEvent('op', () => true, 'the op');
    await bob.waitForEvent('chat', () => true, 'the chat message');
    await bob.waitForEvent('typing', () => true, 'typing');
    // A later subscriber gets Ann in presence; a resume from seq 0 replays the op from the log.
    const cy = watch(s.url, boardId, 'Cy Late', { role: 'viewer', lastEventId: '0' });
    cleanups.push(cy.close);
    await cy.waitForEvent('op', () => true, 'the op from the log');
    await ann.client.close();
    await waitFor(() => bob.eventsOf('leave').length > 0, 'ann leaving');

    expect(Object.keys(op.author).sort()).toEqual(['id', 'name']);
    expect(op.author).toEqual({ id: owner.id, name: 'Ann Privacy' });
    const received = JSON.stringify([bob.frames, cy.frames]);
    expect(received).toContain('Ann Privacy');
    expect(received).not.toContain(username);
    expect(received).not.toContain('"username"');
    const history = JSON.stringify(await bob.client.trpc.chat.history.query({ boardId }));
    expect(history).toContain('Ann Privacy');
    expect(history).not.toContain(username);
  });
});

describe('logs', () => {
  it('never contain a share code (/join/<code>, share.accept) or a token (header, ?token=), at debug level', async () => {
    const logs = logCollector();
    const s = await server({ logLevel: 'debug' }, undefined, { logStream: logs.stream });
    const owner = testUser(s.url, 'Log Owner');
    const api = client(s.url, 'Log Owner');
    const { id: boardId } = await api.trpc.board.create.mutate({ title: 'Logged' });
    const { code } = await api.trpc.share.createLink.mutate({ boardId, role: 'editor' });

    // The link as people open it (the web app's route), with a query, and a token where it does not belong.
    // (a mutation sent as GET is refused, but its URL, with the input, is logged)
    const asGet = `/trpc/share.accept?input=${encodeURIComponent(JSON.stringify({ code }))}`;
    for (const path of [`/join/${code}`, `/join/${code}?from=mail`, `/api/join/${code}/x`, `/trpc/board.list?token=${owner.token}`, `/healthz?token=${owner.token}&code=${code}`, asGet]) {
      const res = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${owner.token}` } });
      await res.arrayBuffer();
    }
    await client(s.url, 'Log Friend').trpc.share.accept.mutate({ code });
    await waitFor(() => logs.text().includes('/join/[redacted]?from=mail'), 'the join request in the log');

    const text = logs.text();
    expect(text).toContain('incoming request'); // positive control: requests are logged, with their paths
    expect(text).toContain('token=[redacted]');
    for (const [what, secret] of [['share code', code], ['token', owner.token], ['token body', owner.token.slice(4)]] as const) {
      expect(text.includes(secret), `${what} in the logs`).toBe(false);
      expect(text.includes(encodeURIComponent(secret)), `${what} (URL-encoded) in the logs`).toBe(false);
    }
  });
});

describe('database files', () => {
  it('are created 0600 (with -wal and -shm) in a 0700 folder, and an older 0644 file is tightened on start', async () => {
    const base = mkdtempSync(join(tmpdir(), 'inkboard-modes-'));
    cleanups.push(() => rmSync(base, { recursive: true, force: true }));
    const dbPath = join(base, 'data', 'inkboard', 'inkboard.db');
    const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
    const files = [dbPath, `${dbPath}-wal`, `${dbPath}-shm`];

    const s = await startServer({ dbPath });
    cleanups.push(() => s.destroy());
    const api = connect(s.url, 'Mode Owner');
    const { id: boardId } = await api.trpc.board.create.mutate({ title: 'Modes' });
    await api.trpc.board.push.mutate({ boardId, ops: [addOp(rect())] });
    await api.close();
    expect(files.map(mode)).toEqual(['600', '600', '600']);
    expect([mode(join(base, 'data')), mode(join(base, 'data', 'inkboard'))]).toEqual(['700', '700']);

    await s.stop();
    for (const f of files.filter((f) => existsSync(f))) chmodSync(f, 0o644);
    const again = await startServer({ dbPath });
    cleanups.push(() => again.destroy());
    await again.stop();
    expect(mode(dbPath)).toBe('600');
  });
});

describe('/metrics', () => {
  const fromOutside = { remoteAddress: '203.0.113.7' };

  it('by default answers this machine only: loopback without proxy headers; others get 403 saying what to do', async () => {
    const s = await server();
    expect((await fetch(`${s.url}/metrics`)).status).toBe(200); // a real loopback socket
    expect((await s.app.inject({ url: '/metrics', ...fromOutside })).statusCode).toBe(403);
    const proxied = await fetch(`${s.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(proxied.status).toBe(403);
    expect(((await proxied.json()) as { message: string }).message).toMatch(/INKBOARD_METRICS_TOKEN.*INKBOARD_METRICS=public/);
    // The rest of the server is unaffected.
    expect((await s.app.inject({ url: '/healthz', ...fromOutside })).statusCode).toBe(200);
  });

  it('answers anyone with the bearer token when INKBOARD_METRICS_TOKEN is set; "public" and "off" modes', async () => {
    const token = 'metrics-token-0123456789';
    const withToken = await server({ metricsToken: token });
    const ok = await withToken.app.inject({ url: '/metrics', ...fromOutside, headers: { authorization: `Bearer ${token}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('inkboard_ws_connections');
    expect((await withToken.app.inject({ url: '/metrics', ...fromOutside, headers: { authorization: `Bearer ${token}x` } })).statusCode).toBe(403);
    expect((await withToken.app.inject({ url: '/metrics', ...fromOutside })).statusCode).toBe(403);

    const open = await server({ metrics: 'public' });
    expect((await open.app.inject({ url: '/metrics', ...fromOutside })).statusCode).toBe(200);
    const off = await server({ metrics: 'off' });
    const refused = await off.app.inject({ url: '/metrics' });
    expect(refused.statusCode).toBe(404);
    expect(refused.json().message).toMatch(/INKBOARD_METRICS=off/);

    expect(loadConfig({ INKBOARD_METRICS_TOKEN: token }).metricsToken).toBe(token);
    expect(loadConfig({}).metrics).toBe('local');
    expect(() => loadConfig({ INKBOARD_METRICS: 'open' })).toThrow(/INKBOARD_METRICS/);
    expect(() => loadConfig({ INKBOARD_METRICS_TOKEN: 'short' })).toThrow(/INKBOARD_METRICS_TOKEN: must have at least 16 characters/);
  });
});
