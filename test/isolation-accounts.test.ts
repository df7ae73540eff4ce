/**
 * Issue 13, accounts and links: a token cannot mint tokens, change of password, sign out everywhere,
 * removed members stay out of links, links that expire or are used up, and failed sign-ins that slow
 * the guesser without locking the owner out. The real server on a real port; calls "from" other
 * addresses bind the client socket to another loopback address (127.0.0.0/8 is all loopback on Linux).
 */
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { httpClient, outcome, signIn, signUp, sleep, until, watch, wsClient, type WsClient } from './helpers/auth.js';
import { createPgDatabase, deleteRedisKeys, REDIS_URL } from './helpers/cluster.js';
import { sqliteOf, startServer, testUser, type TestServer } from './helpers/server.js';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'tr0ubador & 3 more words';

let server: TestServer;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
let n = 0;
const unique = (base: string) => `${base}${++n}`;

beforeAll(async () => {
  server = await startServer();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await server.destroy();
});

function ws(opts: Parameters<typeof wsClient>[1], url = server.url): WsClient {
  const c = wsClient(url, opts);
  cleanups.push(() => c.close());
  return c;
}

interface FromResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { result?: { data?: unknown }; error?: { message?: string; data?: { code?: string } } };
  ms: number;
}

/** A tRPC mutation over HTTP from the loopback address `from` (the server sees it as the caller's address). */
function callFrom(from: string, path: string, input: unknown): Promise<FromResponse> {
  const url = new URL(`${server.url}/trpc/${path}`);
  const body = JSON.stringify(input);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress: from, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : {}, ms: performance.now() - started }));
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error(`no answer to ${path} from ${from} within 20 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** An open socket (a board subscription on it), to see it closed by the server. */
async function liveSocket(auth: { cookie?: string; token?: string }, boardId: string, url = server.url) {
  const client = ws(auth.cookie ? { ...auth, origin: url } : auth, url);
  const w = watch(client, boardId);
  await until(() => w.frames.length >= 1, 'first frame', 10_000);
  return { client, w };
}

describe('API tokens', () => {
  it('a token cannot create tokens (FORBIDDEN, over HTTP and WebSocket); a password session can', async () => {
    const owner = await signUp(server.url, unique('minter-'), PASSWORD);
    const bySession = await httpClient(server.url, { cookie: owner.cookie }).token.create.mutate({ name: 'script' });
    const count = () => (sqliteOf(server.app).prepare('select count(*) as n from api_tokens where user_id = ?').get(owner.user.id) as { n: number }).n;
    expect(count()).toBe(1);

    const overHttp = await outcome(() => httpClient(server.url, { token: bySession.token }).token.create.mutate({ name: 'child' }));
    const overWs = await outcome(() => ws({ token: bySession.token, allOverWebSocket: true }).trpc.token.create.mutate({ name: 'child' }));
    for (const refused of [overHttp, overWs]) {
      expect(refused).toMatchObject({ ok: false, code: 'FORBIDDEN' });
      expect((refused as { message: string }).message).toMatch(/create API tokens while signed in with your password/);
    }
    expect(count()).toBe(1);
    // The token still does everything else.
    expect((await httpClient(server.url, { token: bySession.token }).token.list.query()).map((t) => t.name)).toEqual(['script']);
  });
});

describe('change password', () => {
  it('checks the current one, ends every other session (their sockets close), keeps the caller signed in', async () => {
    const username = unique('changer-');
    const first = await signUp(server.url, username, PASSWORD);
    const second = await signIn(server.url, username, PASSWORD);
    const api = httpClient(server.url, { cookie: first.cookie });
    const { token } = await api.token.create.mutate({ name: 'kept' });
    const board = await api.board.create.mutate({ title: 'Password board' });
    const other = await liveSocket({ cookie: second.cookie }, board.id);
    const mine = await liveSocket({ cookie: first.cookie }, board.id);

    const wrong = await outcome(() => api.auth.changePassword.mutate({ currentPassword: 'not it at all', newPassword: NEW_PASSWORD }));
    expect(wrong).toMatchObject({ ok: false, code: 'FORBIDDEN', message: expect.stringMatching(/current password is not right/) });
    const same = await outcome(() => api.auth.changePassword.mutate({ currentPassword: PASSWORD, newPassword: PASSWORD }));
    expect(same).toMatchObject({ ok: false, code: 'BAD_REQUEST', message: expect.stringMatching(/must differ/) });

    const changedAt = Date.now();
    expect(await api.auth.changePassword.mutate({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).toEqual({ endedSessions: 1 });
    await until(() => other.client.sockets.some((s) => s.closeCode === 4401), "the other session's socket closed", 5_000);
    expect(other.client.sockets.find((s) => s.closeCode === 4401)!.closedAt! - changedAt).toBeLessThan(5_000);
    // The caller's session, its socket and the API token go on.
    expect((await api.auth.me.query())?.id).toBe(first.user.id);
    expect(mine.client.sockets.every((s) => s.closeCode === null)).toBe(true);
    expect((await httpClient(server.url, { token }).auth.me.query())?.id).toBe(first.user.id);
    expect(await httpClient(server.url, { cookie: second.cookie }).auth.me.query()).toBeNull();
    // Only the new password signs in.
    expect((await outcome(() => signIn(server.url, username, PASSWORD))).ok).toBe(false);
    expect((await signIn(server.url, username, NEW_PASSWORD)).user.id).toBe(first.user.id);
  });

  it('wrong current passwords fall under the sign-in back-off (TOO_MANY_REQUESTS, nothing changed)', async () => {
    const username = unique('guessed-');
    const s = await signUp(server.url, username, PASSWORD);
    const api = httpClient(server.url, { cookie: s.cookie });
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await outcome(() => api.auth.changePassword.mutate({ currentPassword: `guess-${i}-wrong`, newPassword: NEW_PASSWORD }));
      codes.push(r.ok ? 'ok' : r.code);
    }
    expect(codes.slice(0, 3)).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
    expect(codes.slice(3)).toContain('TOO_MANY_REQUESTS');
    // Even the right one waits now (from this address), and the password is unchanged.
    expect(await outcome(() => api.auth.changePassword.mutate({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD }))).toMatchObject({ ok: false, code: 'TOO_MANY_REQUESTS' });
    const elsewhere = await callFrom('127.0.4.1', 'auth.signIn', { username, password: PASSWORD });
    expect(elsewhere.status, JSON.stringify(elsewhere.body)).toBe(200);
  });
});

describe('sessions per user', () => {
  it('a sign-in beyond 50 sessions ends the least recently used one (its socket closes)', async () => {
    const username = unique('collector-');
    const first = await signUp(server.url, username, PASSWORD);
    const board = await httpClient(server.url, { cookie: first.cookie }).board.create.mutate({ title: 'Sessions' });
    const oldest = await liveSocket({ cookie: first.cookie }, board.id);
    for (let i = 0; i < 49; i++) await signIn(server.url, username, PASSWORD);
    const count = () => (sqliteOf(server.app).prepare('select count(*) as n from sessions where user_id = ?').get(first.user.id) as { n: number }).n;
    expect(count()).toBe(50);
    expect(oldest.client.sockets.every((s) => s.closeCode === null)).toBe(true);
    const last = await signIn(server.url, username, PASSWORD);
    expect(count()).toBe(50);
    await until(() => oldest.client.sockets.some((s) => s.closeCode === 4401), "the oldest session's socket closed", 5_000);
    expect(await httpClient(server.url, { cookie: first.cookie }).auth.me.query()).toBeNull();
    expect((await httpClient(server.url, { cookie: last.cookie }).auth.me.query())?.id).toBe(first.user.id);
  });
});

describe('sign out everywhere', () => {
  it('ends every session and token of the user; all their sockets close at once', async () => {
    const username = unique('everywhere-');
    const a = await signUp(server.url, username, PASSWORD);
    const b = await signIn(server.url, username, PASSWORD);
    const api = httpClient(server.url, { cookie: a.cookie });
    const t1 = await api.token.create.mutate({ name: 'laptop script' });
    const t2 = await api.token.create.mutate({ name: 'ci' });
    const board = await api.board.create.mutate({ title: 'Everywhere' });
    // Someone else on the board is not affected.
    const bystander = testUser(server.url, unique('bystander-'));
    sqliteOf(server.app).prepare("insert into board_members (board_id, user_id, role, created_at) values (?, ?, 'editor', ?)").run(board.id, bystander.id, Date.now());
    const sockets = await Promise.all([liveSocket({ cookie: a.cookie }, board.id), liveSocket({ cookie: b.cookie }, board.id), liveSocket({ token: t1.token }, board.id), liveSocket({ token: t2.token }, board.id)]);
    const other = await liveSocket({ token: bystander.token }, board.id);

    const started = Date.now();
    const res = await api.auth.signOutEverywhere.mutate();
    expect(res).toEqual({ endedSessions: 2, revokedTokens: 2 });
    await until(() => sockets.every((s) => s.client.sockets.some((r) => r.closeCode === 4401)), 'every socket of the user closed', 5_000);
    const slowest = Math.max(...sockets.map((s) => s.client.sockets.find((r) => r.closeCode === 4401)!.closedAt! - started));
    expect(slowest).toBeLessThan(5_000);
    for (const auth of [{ cookie: a.cookie }, { cookie: b.cookie }, { token: t1.token }, { token: t2.token }]) {
      expect(await httpClient(server.url, auth).auth.me.query()).toBeNull();
    }
    expect(other.client.sockets.every((r) => r.closeCode === null)).toBe(true);
    expect(await httpClient(server.url, { token: bystander.token }).auth.me.query()).not.toBeNull();
    // A fresh sign-in works.
    expect((await signIn(server.url, username, PASSWORD)).user.id).toBe(a.user.id);
    console.log(`sign out everywhere: 2 sessions + 2 tokens ended, their 4 sockets closed within ${slowest} ms`);
  });
});

describe('two server processes (PostgreSQL + Redis)', () => {
  it('sign out everywhere and a change of password close the sockets held on the other process', async () => {
    const db = await createPgDatabase();
    cleanups.push(() => db.drop());
    const prefix = `inkboard-accounts-${Date.now()}-`;
    cleanups.push(() => deleteRedisKeys(prefix));
    const [a, b] = [await startServer({ databaseUrl: db.url, redisUrl: REDIS_URL, redisPrefix: prefix }), await startServer({ databaseUrl: db.url, redisUrl: REDIS_URL, redisPrefix: prefix })];
    cleanups.push(() => a.destroy(), () => b.destroy());

    const username = unique('two-');
    const first = await signUp(a.url, username, PASSWORD);
    const second = await signIn(b.url, username, PASSWORD);
    const apiA = httpClient(a.url, { cookie: first.cookie });
    const board = await apiA.board.create.mutate({ title: 'Two processes' });
    const onB = await liveSocket({ cookie: second.cookie }, board.id, b.url);
    const started = Date.now();
    expect(await apiA.auth.changePassword.mutate({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).toEqual({ endedSessions: 1 });
    await until(() => onB.client.sockets.some((s) => s.closeCode === 4401), 'the other session’s socket on process B closed', 5_000);
    const changeMs = onB.client.sockets.find((s) => s.closeCode === 4401)!.closedAt! - started;

    const { token } = await apiA.token.create.mutate({ name: 'script' });
    const tokenOnB = await liveSocket({ token }, board.id, b.url);
    const cookieOnB = await liveSocket({ cookie: first.cookie }, board.id, b.url);
    const everywhere = Date.now();
    expect(await apiA.auth.signOutEverywhere.mutate()).toEqual({ endedSessions: 1, revokedTokens: 1 });
    await until(() => [tokenOnB, cookieOnB].every((s) => s.client.sockets.some((r) => r.closeCode === 4401)), 'both sockets on process B closed', 5_000);
    const everywhereMs = Math.max(...[tokenOnB, cookieOnB].map((s) => s.client.sockets.find((r) => r.closeCode === 4401)!.closedAt! - everywhere));
    console.log(`two processes: change of password closed the other session's socket on B in ${changeMs} ms; sign out everywhere closed B's sockets in ${everywhereMs} ms`);
  });
});

describe('share links and removed members', () => {
  async function ownerWithBoard() {
    const owner = await signUp(server.url, unique('lo-'), PASSWORD);
    const api = httpClient(server.url, { cookie: owner.cookie });
    const board = await api.board.create.mutate({ title: 'Links' });
    return { api, boardId: board.id };
  }
  const person = async (base: string) => {
    const s = await signUp(server.url, unique(base), PASSWORD);
    return { ...s, api: httpClient(server.url, { cookie: s.cookie }) };
  };

  it('a removed member cannot rejoin through any link until the owner readmits them', async () => {
    const { api, boardId } = await ownerWithBoard();
    const link = await api.share.createLink.mutate({ boardId, role: 'editor' });
    const ed = await person('removed-');
    expect(await ed.api.share.accept.mutate({ code: link.code })).toEqual({ boardId, role: 'editor' });
    await api.share.removeMember.mutate({ boardId, userId: ed.user.id });

    const again = await outcome(() => ed.api.share.accept.mutate({ code: link.code }));
    expect(again).toMatchObject({ ok: false, code: 'FORBIDDEN', message: 'The owner removed you from this board; ask them to invite you again.' });
    // A link made after the removal does not let them in either.
    const fresh = await api.share.createLink.mutate({ boardId, role: 'viewer' });
    expect(await outcome(() => ed.api.share.accept.mutate({ code: fresh.code }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(await outcome(() => ed.api.board.byId.query({ boardId }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    // Others still join by it; the owner sees who was removed.
    const other = await person('newcomer-');
    expect(await other.api.share.accept.mutate({ code: link.code })).toEqual({ boardId, role: 'editor' });
    expect((await api.share.removed.query({ boardId })).map((r) => r.userId)).toEqual([ed.user.id]);
    expect(await outcome(() => other.api.share.removed.query({ boardId }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });

    await api.share.readmit.mutate({ boardId, userId: ed.user.id, role: 'viewer' });
    expect((await ed.api.board.byId.query({ boardId })).role).toBe('viewer');
    expect(await api.share.removed.query({ boardId })).toEqual([]);
    // Links work for them again (an editor link upgrades them).
    expect(await ed.api.share.accept.mutate({ code: link.code })).toEqual({ boardId, role: 'editor' });
    expect(await outcome(() => api.share.readmit.mutate({ boardId, userId: ed.user.id, role: 'viewer' }))).toMatchObject({ ok: false, code: 'NOT_FOUND' });

    // Someone who leaves on their own may come back by link.
    await other.api.board.leave.mutate({ boardId });
    expect(await other.api.share.accept.mutate({ code: link.code })).toEqual({ boardId, role: 'editor' });
  });

  it('a link with a use limit admits that many people; an expired link is refused clearly', async () => {
    const { api, boardId } = await ownerWithBoard();
    const limited = await api.share.createLink.mutate({ boardId, role: 'viewer', maxUses: 2 });
    expect(limited).toMatchObject({ maxUses: 2, uses: 0, expiresAt: null });
    const [p1, p2, p3] = await Promise.all([person('use-a-'), person('use-b-'), person('use-c-')]);
    await p1.api.share.accept.mutate({ code: limited.code });
    await p1.api.share.accept.mutate({ code: limited.code }); // already a member: not another use
    await p2.api.share.accept.mutate({ code: limited.code });
    const third = await outcome(() => p3.api.share.accept.mutate({ code: limited.code }));
    expect(third).toMatchObject({ ok: false, code: 'FORBIDDEN', message: expect.stringMatching(/used 2 times, its limit\. Ask the owner for a new one/) });
    expect(await outcome(() => p3.api.board.byId.query({ boardId }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect((await api.share.links.query({ boardId })).find((l) => l.id === limited.id)).toMatchObject({ uses: 2, maxUses: 2 });

    const hourly = await api.share.createLink.mutate({ boardId, role: 'editor', expiresInHours: 1 });
    expect(hourly.expiresAt! - hourly.createdAt).toBe(3_600_000);
    // An hour later (moved in the database rather than waited for).
    sqliteOf(server.app).prepare('update share_links set expires_at = ? where id = ?').run(Date.now() - 1, hourly.id);
    const late = await outcome(() => p3.api.share.accept.mutate({ code: hourly.code }));
    expect(late).toMatchObject({ ok: false, code: 'FORBIDDEN', message: expect.stringMatching(/^This share link expired on \d{4}-\d\d-\d\d \d\d:\d\d UTC\. Ask the owner for a new one\.$/) });

    for (const bad of [{ maxUses: 0 }, { maxUses: 1.5 }, { expiresInHours: 0 }, { expiresInHours: 24 * 366 }]) {
      expect(await outcome(() => api.share.createLink.mutate({ boardId, role: 'viewer', ...bad }))).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    }
  });

  it('a board has at most 100 share links and a user at most 100 API tokens (BAD_REQUEST, nothing written)', async () => {
    const { api, boardId } = await ownerWithBoard();
    const { access, auth } = server.app.boards;
    const ownerId = (await api.auth.me.query())!.id;
    for (let i = 0; i < 100; i++) await access.createLink(boardId, 'viewer', ownerId);
    const link = await outcome(() => api.share.createLink.mutate({ boardId, role: 'editor' }));
    expect(link).toMatchObject({ ok: false, code: 'BAD_REQUEST', message: expect.stringMatching(/already has 100 share links, the most allowed .*revoke ones you no longer need first/) });
    expect(await api.share.links.query({ boardId })).toHaveLength(100);
    for (let i = 0; i < 100; i++) await auth.createToken(ownerId, `t${i}`);
    const token = await outcome(() => api.token.create.mutate({ name: 'one more' }));
    expect(token).toMatchObject({ ok: false, code: 'BAD_REQUEST', message: expect.stringMatching(/already have 100 API tokens, the most allowed/) });
    expect(await api.token.list.query()).toHaveLength(100);
  });

  it('concurrent accepts of a one-use link admit exactly one person', async () => {
    const { api, boardId } = await ownerWithBoard();
    const once = await api.share.createLink.mutate({ boardId, role: 'editor', maxUses: 1 });
    const people = await Promise.all(Array.from({ length: 5 }, () => person('race-')));
    const results = await Promise.all(people.map((p) => outcome(() => p.api.share.accept.mutate({ code: once.code }))));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect((await api.share.members.query({ boardId })).length).toBe(2);
  });
});

describe('failed sign-ins', () => {
  it("an attacker's 50 wrong guesses from one address slow that address down; the owner signs in at once from another", async () => {
    const username = unique('target-');
    const owner = await signUp(server.url, username, PASSWORD);
    const attacker = '127.0.0.2';
    const codes: Record<string, number> = {};
    let lastRefusal: FromResponse | null = null;
    for (let i = 0; i < 50; i++) {
      const r = await callFrom(attacker, 'auth.signIn', { username, password: `guess-${i}-wrong` });
      const code = r.body.error?.data?.code ?? 'ok';
      codes[code] = (codes[code] ?? 0) + 1;
      if (code === 'TOO_MANY_REQUESTS') lastRefusal = r;
    }
    expect(codes.ok).toBeUndefined();
    expect(codes.UNAUTHORIZED).toBeLessThanOrEqual(6);
    expect(codes.TOO_MANY_REQUESTS).toBeGreaterThanOrEqual(44);
    expect(lastRefusal!.status).toBe(429);
    expect(lastRefusal!.body.error?.message).toMatch(/^Too many failed sign-ins for this account from this address\. Try again in \d+ seconds?\.$/);
    expect(Number(lastRefusal!.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right password waits, from the attacker's address.
    expect((await callFrom(attacker, 'auth.signIn', { username, password: PASSWORD })).body.error?.data?.code).toBe('TOO_MANY_REQUESTS');

    const signedIn = await callFrom('127.0.0.3', 'auth.signIn', { username, password: PASSWORD });
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    expect((signedIn.body.result?.data as { user: { id: string } }).user.id).toBe(owner.user.id);
    expect(signedIn.ms).toBeLessThan(10_000);
    console.log(`sign-in guessing: 50 guesses from ${attacker}: ${JSON.stringify(codes)}; the owner from 127.0.0.3 signed in in ${signedIn.ms.toFixed(0)} ms`);
  });

  it('guesses spread over many addresses slow those addresses account-wide; an address without failures still signs in', async () => {
    const username = unique('spread-');
    await signUp(server.url, username, PASSWORD);
    // 24 addresses, one wrong guess each: over the account-wide 20.
    for (let i = 0; i < 24; i++) {
      const r = await callFrom(`127.0.1.${10 + i}`, 'auth.signIn', { username, password: `spread-${i}-wrong` });
      expect(r.body.error?.data?.code).toBe('UNAUTHORIZED');
    }
    const dirty = await callFrom('127.0.1.10', 'auth.signIn', { username, password: PASSWORD });
    expect(dirty.body.error?.data?.code).toBe('TOO_MANY_REQUESTS');
    expect(dirty.body.error?.message).toMatch(/^Too many failed sign-ins for this account from this address\. Try again in \d+ seconds?\.$/);
    const clean = await callFrom('127.0.2.1', 'auth.signIn', { username, password: PASSWORD });
    expect(clean.status, JSON.stringify(clean.body)).toBe(200);
    // A slow-down, not a lock-out: the dirty address gets through after its wait.
    const wait = Number(dirty.headers['retry-after']);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
  });

  it('a right password from the guessing address is accepted again once its back-off passes', async () => {
    const username = unique('patient-');
    await signUp(server.url, username, PASSWORD);
    const from = '127.0.3.1';
    for (let i = 0; i < 4; i++) await callFrom(from, 'auth.signIn', { username, password: `typo-${i}-wrong` });
    const refused = await callFrom(from, 'auth.signIn', { username, password: PASSWORD });
    expect(refused.body.error?.data?.code).toBe('TOO_MANY_REQUESTS');
    const wait = Number(refused.headers['retry-after']);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(2); // 3 free failures, then 1 s, 2 s, 4 s ...
    await sleep(wait * 1000 + 100);
    expect((await callFrom(from, 'auth.signIn', { username, password: PASSWORD })).status).toBe(200);
  });
});
