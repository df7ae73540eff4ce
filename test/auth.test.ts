import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addOp, rect } from './helpers/elements.js';
import {
  httpClient,
  outcome,
  rawCall,
  sessionIdFrom,
  signIn,
  signUp,
  sleep,
  startLoggedServer,
  until,
  watch,
  wsClient,
  type WsClient,
} from './helpers/auth.js';
import { sqliteOf, startServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'correct horse battery staple';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

let server: TestServer;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
let seq = 0;
/** A fresh username per call (the limiter and uniqueness are per username). */
const uname = (base: string) => `${base}-${process.pid % 1000}-${++seq}`;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.destroy();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function ws(url: string, opts: Parameters<typeof wsClient>[1]): WsClient {
  const c = wsClient(url, opts);
  cleanups.push(() => c.close());
  return c;
}

describe('accounts over HTTP', () => {
  it('sign-up sets an HttpOnly, SameSite session cookie of 256 random bits and signs in', async () => {
    const username = uname('ann');
    const res = await rawCall(server.url, 'auth.signUp', { username, password: PASSWORD, name: 'Ann' });
    expect(res.status).toBe(200);
    const cookie = res.setCookie.find((c) => c.startsWith('inkboard_session='))!;
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Lax/i);
    expect(cookie).toMatch(/;\s*Path=\//i);
    const sessionId = sessionIdFrom(res.setCookie)!;
    expect(Buffer.from(sessionId, 'base64url').length).toBeGreaterThanOrEqual(32);
    // The password never comes back.
    expect(JSON.stringify(res.body)).not.toContain(PASSWORD);

    const me = await httpClient(server.url, { cookie: `inkboard_session=${sessionId}` }).auth.me.query();
    expect(me).toMatchObject({ username, name: 'Ann' });
    expect(await httpClient(server.url).auth.me.query()).toBeNull();
    // A taken username is refused.
    const again = await rawCall(server.url, 'auth.signUp', { username, password: PASSWORD });
    expect(again.body.error?.data?.code).toBe('CONFLICT');
  });

  it('marks the session cookie Secure when the public URL is https (and not over plain http)', async () => {
    const plain = await rawCall(server.url, 'auth.signUp', { username: uname('plain'), password: PASSWORD });
    expect(plain.setCookie.find((c) => c.startsWith('inkboard_session='))).not.toMatch(/;\s*Secure/i);
    const https = await startServer({ publicUrl: 'https://inkboard.example' });
    try {
      const res = await rawCall(https.url, 'auth.signUp', { username: uname('secure'), password: PASSWORD });
      const cookie = res.setCookie.find((c) => c.startsWith('inkboard_session='))!;
      expect(cookie).toMatch(/;\s*Secure/i);
      expect(cookie).toMatch(/;\s*HttpOnly/i);
      expect(cookie).toMatch(/;\s*Max-Age=2592000/i); // sessionMaxMs (30 days)
    } finally {
      await https.destroy();
    }
  });

  it('issues a new session id at every sign-in; after sign-out the old one is rejected', async () => {
    const username = uname('bob');
    const s0 = await signUp(server.url, username, PASSWORD);
    const s1 = await signIn(server.url, username, PASSWORD);
    const s2 = await signIn(server.url, username, PASSWORD);
    expect(new Set([s0.sessionId, s1.sessionId, s2.sessionId]).size).toBe(3);
    // Signing in while presenting a session cookie still issues a fresh id (no fixation).
    const s3 = await signed(rawCall(server.url, 'auth.signIn', { username, password: PASSWORD }, { cookie: s1.cookie }));
    expect([s0.sessionId, s1.sessionId, s2.sessionId]).not.toContain(s3);

    expect((await httpClient(server.url, { cookie: s1.cookie }).auth.me.query())?.username).toBe(username);
    const out = await rawCall(server.url, 'auth.signOut', undefined, { cookie: s1.cookie });
    expect(out.status).toBe(200);
    const cleared = out.setCookie.find((c) => c.startsWith('inkboard_session='));
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970|Max-Age=0/i);

    expect(await httpClient(server.url, { cookie: s1.cookie }).auth.me.query()).toBeNull();
    const refused = await outcome(() => httpClient(server.url, { cookie: s1.cookie }).board.list.query());
    expect(refused).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
    const again = await outcome(() => httpClient(server.url, { cookie: s1.cookie }).auth.updateProfile.mutate({ name: 'Evil' }));
    expect(again).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
    // Other sessions of the same account are unaffected.
    expect((await httpClient(server.url, { cookie: s2.cookie }).auth.me.query())?.username).toBe(username);
  });

  it('gives the same UNAUTHORIZED answer for a wrong password and an unknown username', async () => {
    const username = uname('cy');
    await signUp(server.url, username, PASSWORD);
    const wrong = await rawCall(server.url, 'auth.signIn', { username, password: 'not the password' });
    const unknown = await rawCall(server.url, 'auth.signIn', { username: uname('nobody'), password: 'not the password' });
    for (const r of [wrong, unknown]) {
      expect(r.status).toBe(401);
      expect(r.body.error?.data?.code).toBe('UNAUTHORIZED');
      expect(r.setCookie.some((c) => c.startsWith('inkboard_session='))).toBe(false);
    }
    expect(wrong.body.error?.message).toBe(unknown.body.error?.message);
    expect(wrong.body.error?.message).toMatch(/username or password/i);
  });

  it('limits sign-in attempts per account and address: TOO_MANY_REQUESTS after 3 failures, with a readable message', async () => {
    const username = uname('dee');
    await signUp(server.url, username, PASSWORD);
    // Back-off per (account, address): 3 free failures, then 1 s, 2 s, 4 s ... (test/isolation-accounts.test.ts
    // checks that the owner still signs in from another address).
    for (let i = 0; i < 3; i++) {
      const r = await rawCall(server.url, 'auth.signIn', { username, password: `wrong-${i}` });
      expect(r.body.error?.data?.code).toBe('UNAUTHORIZED');
    }
    // More guesses are refused (or, on a slow machine, counted: the wait doubles each time).
    for (let i = 3; i < 8; i++) {
      const r = await rawCall(server.url, 'auth.signIn', { username, password: `wrong-${i}` });
      expect(['UNAUTHORIZED', 'TOO_MANY_REQUESTS']).toContain(r.body.error?.data?.code);
    }
    // Even the right password is refused now, and the casing of the username does not matter.
    for (const name of [username, username.toUpperCase(), ` ${username} `]) {
      const blocked = await rawCall(server.url, 'auth.signIn', { username: name, password: PASSWORD });
      expect(blocked.status).toBe(429);
      expect(blocked.body.error?.data?.code).toBe('TOO_MANY_REQUESTS');
      expect(blocked.body.error?.message).toMatch(/^Too many failed sign-ins for this account from this address\. Try again in \d+ seconds?\.$/);
      expect(blocked.setCookie.some((c) => c.startsWith('inkboard_session='))).toBe(false);
    }
    // Per account: another account from the same address still signs in.
    const other = uname('dee-other');
    await signUp(server.url, other, PASSWORD);
    await expect(signIn(server.url, other, PASSWORD)).resolves.toMatchObject({ user: { username: other } });
    // Unknown usernames are limited the same way (no hint that they do not exist).
    const ghost = uname('ghost');
    for (let i = 0; i < 3; i++) await rawCall(server.url, 'auth.signIn', { username: ghost, password: `wrong-${i}` });
    expect((await rawCall(server.url, 'auth.signIn', { username: ghost, password: 'x' })).body.error?.data?.code).toBe('TOO_MANY_REQUESTS');
  });

  it('does not let concurrent guesses get past the per-account limit', async () => {
    // Hashes costly enough (2^14) that the guesses really are in flight together, as in production.
    const slow = await startServer({ scryptLogN: 14 });
    cleanups.push(() => slow.destroy());
    const username = uname('eve-target');
    await signUp(slow.url, username, PASSWORD);
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => rawCall(slow.url, 'auth.signIn', { username, password: `guess-${i}` })),
    );
    const codes = results.map((r) => r.body.error?.data?.code);
    expect(codes.every((c) => c === 'UNAUTHORIZED' || c === 'TOO_MANY_REQUESTS')).toBe(true);
    // At most 5 guesses were actually checked against the password: the 3 free ones, and at most a
    // couple more that waited out the 1 s, 2 s back-off while the others were being hashed.
    expect(codes.filter((c) => c === 'UNAUTHORIZED').length).toBeLessThanOrEqual(5);
    expect(codes.filter((c) => c === 'TOO_MANY_REQUESTS').length).toBeGreaterThanOrEqual(20);
  });

  it('stores the production scrypt parameters with the hash (scryptLogN 17)', async () => {
    const prod = await startServer({ scryptLogN: 17 });
    try {
      const username = uname('prod');
      const s = await signUp(prod.url, username, PASSWORD);
      const row = sqliteOf(prod.app).prepare('select password_hash from users where username = ?').get(username) as { password_hash: string };
      expect(row.password_hash).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
      expect(row.password_hash).not.toContain(PASSWORD);
      // Two accounts with the same password get different salts and hashes.
      const username2 = uname('prod2');
      await signUp(prod.url, username2, PASSWORD);
      const row2 = sqliteOf(prod.app).prepare('select password_hash from users where username = ?').get(username2) as { password_hash: string };
      expect(row2.password_hash.split('$')[4]).not.toBe(row.password_hash.split('$')[4]);
      expect(row2.password_hash.split('$')[5]).not.toBe(row.password_hash.split('$')[5]);
      // And the hash verifies.
      const again = await signIn(prod.url, username, PASSWORD);
      expect(again.user.id).toBe(s.user.id);
      expect((await rawCall(prod.url, 'auth.signIn', { username, password: PASSWORD + '!' })).body.error?.data?.code).toBe('UNAUTHORIZED');
    } finally {
      await prod.destroy();
    }
  });

  it('changes the display name and colour', async () => {
    const s = await signUp(server.url, uname('fay'), PASSWORD, 'Fay');
    const api = httpClient(server.url, { cookie: s.cookie });
    const updated = await api.auth.updateProfile.mutate({ name: 'Fay Wray', color: '#0c8599' });
    expect(updated).toMatchObject({ id: s.user.id, name: 'Fay Wray', color: '#0c8599' });
    expect(await api.auth.me.query()).toMatchObject({ name: 'Fay Wray', color: '#0c8599' });
    await api.auth.updateProfile.mutate({ color: '#e03131' });
    expect(await api.auth.me.query()).toMatchObject({ name: 'Fay Wray', color: '#e03131' });
    // The new name is what others see (chat).
    const board = await api.board.create.mutate({ title: 'Profile' });
    const msg = await api.chat.send.mutate({ boardId: board.id, text: 'hi' });
    expect(msg).toMatchObject({ user: { id: s.user.id, name: 'Fay Wray', color: '#e03131' } });
    for (const bad of [{ color: 'red' }, { name: '' }, {}]) {
      expect(await outcome(() => api.auth.updateProfile.mutate(bad as never))).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    }
    expect(await outcome(() => httpClient(server.url).auth.updateProfile.mutate({ name: 'Anon' }))).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
  });
});

/** A new connection with these credentials is refused per procedure: UNAUTHORIZED, no event. */
async function expectRefusedSubscription(auth: { token?: string; cookie?: string; origin?: string }, boardId: string, url = server.url) {
  const again = ws(url, auth);
  const w = watch(again, boardId);
  await until(() => w.error !== null, 'subscription refused');
  expect(w.error!.code).toBe('UNAUTHORIZED');
  expect(w.frames).toEqual([]);
}

async function signed(res: Promise<{ setCookie: string[] }>): Promise<string> {
  const id = sessionIdFrom((await res).setCookie);
  if (!id) throw new Error('no session cookie');
  return id;
}

describe('API tokens', () => {
  it('creates a token shown once (ink_, >= 256 random bits), lists it without its value, and revokes it', async () => {
    const s = await signUp(server.url, uname('gus'), PASSWORD);
    const api = httpClient(server.url, { cookie: s.cookie });
    const created = await Promise.all(['ci', 'laptop', 'backup'].map((name) => api.token.create.mutate({ name })));
    for (const t of created) {
      expect(t.token).toMatch(/^ink_[A-Za-z0-9_-]+$/);
      expect(Buffer.from(t.token.slice(4), 'base64url').length).toBeGreaterThanOrEqual(32);
      expect(t.token.startsWith(t.prefix)).toBe(true);
      expect(t.prefix.length).toBeLessThanOrEqual(12);
    }
    expect(new Set(created.map((t) => t.token)).size).toBe(3);

    const list = await api.token.list.query();
    expect(list.map((t) => t.name).sort()).toEqual(['backup', 'ci', 'laptop']);
    for (const t of list) {
      expect(Object.keys(t).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'prefix']);
      expect(t.lastUsedAt).toBeNull();
      expect(t.createdAt).toBeGreaterThan(Date.now() - 60_000);
    }
    const listJson = JSON.stringify(list);
    for (const t of created) {
      expect(listJson).not.toContain(t.token);
      expect(listJson).not.toContain(t.token.slice(4, 24));
      expect(listJson).not.toContain(sha256(t.token));
    }

    // Using a token records when it was last used.
    const ci = created.find((t) => t.name === 'ci')!;
    const before = Date.now();
    expect((await httpClient(server.url, { token: ci.token }).auth.me.query())?.id).toBe(s.user.id);
    const used = (await api.token.list.query()).find((t) => t.id === ci.id)!;
    expect(used.lastUsedAt).toBeGreaterThanOrEqual(before);

    // Someone else cannot revoke it, and it keeps working.
    const other = await signUp(server.url, uname('gus-other'), PASSWORD);
    const foreign = await outcome(() => httpClient(server.url, { cookie: other.cookie }).token.revoke.mutate({ tokenId: ci.id }));
    expect(foreign).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect((await httpClient(server.url, { token: ci.token }).auth.me.query())?.id).toBe(s.user.id);

    // The owner revokes it: gone from the list, and revoking again is NOT_FOUND.
    await api.token.revoke.mutate({ tokenId: ci.id });
    expect((await api.token.list.query()).map((t) => t.name).sort()).toEqual(['backup', 'laptop']);
    expect(await outcome(() => api.token.revoke.mutate({ tokenId: ci.id }))).toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });

  it('refuses a revoked token over HTTP with UNAUTHORIZED', async () => {
    const s = await signUp(server.url, uname('hal'), PASSWORD);
    const { token, id } = await httpClient(server.url, { cookie: s.cookie }).token.create.mutate({ name: 'script' });
    const script = httpClient(server.url, { token });
    const board = await script.board.create.mutate({ title: 'Scripted' });
    expect((await script.board.list.query()).map((b) => b.id)).toContain(board.id);

    await httpClient(server.url, { cookie: s.cookie }).token.revoke.mutate({ tokenId: id });
    for (const call of <(() => Promise<unknown>)[]>[() => script.board.list.query(), () => script.board.snapshot.query({ boardId: board.id }), () => script.token.list.query()]) {
      expect(await outcome(call)).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
    }
    expect(await script.auth.me.query()).toBeNull();
    const raw = await rawCall(server.url, 'board.list', undefined, { type: 'query', token });
    expect(raw.status).toBe(401);
    // A token that merely looks right is refused too.
    const forged = await outcome(() => httpClient(server.url, { token: `ink_${'A'.repeat(43)}` }).board.list.query());
    expect(forged).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
  });

  it('closes a WebSocket opened with a token within 1 s of its revocation; nothing is delivered after', async () => {
    const s = await signUp(server.url, uname('ida'), PASSWORD);
    const owner = httpClient(server.url, { cookie: s.cookie });
    const { token, id } = await owner.token.create.mutate({ name: 'live' });
    const board = await owner.board.create.mutate({ title: 'Live' });
    const client = ws(server.url, { token });
    const w = watch(client, board.id);
    await until(() => w.frames.length >= 1, 'first frame');
    await owner.board.push.mutate({ boardId: board.id, ops: [addOp(rect())] });
    await until(() => w.frames.some((f) => f.frame.events.some((e) => e.type === 'op')), 'op before revocation');

    const revokedAt = Date.now();
    await owner.token.revoke.mutate({ tokenId: id });
    const sock = client.sockets[0]!;
    await until(() => sock.closedAt !== null, 'socket closed', 1_000);
    expect(sock.closeCode).toBe(4401);
    expect(sock.closedAt! - revokedAt).toBeLessThanOrEqual(1_000);

    // The board keeps changing; the revoked client sees none of it, and its retry is refused.
    for (let i = 0; i < 3; i++) {
      await owner.board.push.mutate({ boardId: board.id, ops: [addOp(rect(i * 50))] });
      await owner.chat.send.mutate({ boardId: board.id, text: `after ${i}` });
    }
    await until(() => w.completed || w.error !== null, 'subscription ended');
    await sleep(300);
    expect(w.frames.filter((f) => f.at >= sock.closedAt!)).toEqual([]);
    expect(w.frames.flatMap((f) => f.frame.events).some((e) => e.type === 'chat')).toBe(false);
    expect(client.sockets).toHaveLength(1); // the client does not retry with ended credentials
    await expectRefusedSubscription({ token }, board.id);
  });

  it('a client that ignores the close frame can do nothing more after its token is revoked', async () => {
    const s = await signUp(server.url, uname('jo'), PASSWORD);
    const owner = httpClient(server.url, { cookie: s.cookie });
    const { token, id } = await owner.token.create.mutate({ name: 'stubborn' });
    const board = await owner.board.create.mutate({ title: 'Stubborn' });

    // A hand-rolled tRPC WebSocket client that never answers the server's close frame.
    const sock = new WebSocket(`${server.url.replace('http', 'ws')}/trpc?connectionParams=1`);
    cleanups.push(() => sock.terminate());
    const replies: { id: number; result?: unknown; error?: { data?: { code?: string } } }[] = [];
    let tcpClosed = false;
    sock.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (typeof msg === 'object' && msg && 'id' in msg) replies.push(msg);
    });
    sock.on('close', () => (tcpClosed = true));
    await new Promise<void>((resolve, reject) => {
      sock.once('open', resolve);
      sock.once('error', reject);
    });
    sock.close = () => {}; // ignore the server's close frame: stay "open" and keep talking
    sock.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
    const push = (n: number) =>
      sock.send(JSON.stringify({ id: n, method: 'mutation', params: { path: 'board.push', input: { boardId: board.id, ops: [addOp(rect(n))] } } }));
    push(1);
    await until(() => replies.some((r) => r.id === 1), 'first push answered');
    expect(server.app.boards.service.knownSeq(board.id)).toBe(1);

    await owner.token.revoke.mutate({ tokenId: id });
    await sleep(100);
    for (let n = 2; n < 6; n++) push(n);
    sock.send(JSON.stringify({ id: 9, method: 'mutation', params: { path: 'chat.send', input: { boardId: board.id, text: 'still here' } } }));
    await sleep(500);
    // Nothing it sent after the revocation took effect.
    expect(server.app.boards.service.knownSeq(board.id)).toBe(1);
    expect(await owner.chat.history.query({ boardId: board.id })).toMatchObject({ messages: [] });
    // And the server does not keep the connection open for long.
    await until(() => tcpClosed, 'server dropped the connection', 3_000);
  });
});

describe('sessions and WebSockets', () => {
  it('sign-out closes the WebSocket of that session within 1 s; nothing is delivered after', async () => {
    const s = await signUp(server.url, uname('kim'), PASSWORD);
    const api = httpClient(server.url, { cookie: s.cookie });
    const board = await api.board.create.mutate({ title: 'Signed in' });
    const other = await signIn(server.url, s.user.username, PASSWORD); // a second session: stays open
    const client = ws(server.url, { cookie: s.cookie, origin: server.url });
    const otherClient = ws(server.url, { cookie: other.cookie, origin: server.url });
    const w = watch(client, board.id);
    const w2 = watch(otherClient, board.id);
    await until(() => w.frames.length >= 1 && w2.frames.length >= 1, 'both live');

    const outAt = Date.now();
    const out = await rawCall(server.url, 'auth.signOut', undefined, { cookie: s.cookie });
    expect(out.status).toBe(200);
    const sock = client.sockets[0]!;
    await until(() => sock.closedAt !== null, 'socket of the signed-out session closed', 1_000);
    expect(sock.closeCode).toBe(4401);
    expect(sock.closedAt! - outAt).toBeLessThanOrEqual(1_000);

    await httpClient(server.url, { cookie: other.cookie }).board.push.mutate({ boardId: board.id, ops: [addOp(rect())] });
    await until(() => w2.frames.some((f) => f.frame.events.some((e) => e.type === 'op')), 'other session sees the op');
    await until(() => w.completed || w.error !== null, 'subscription ended');
    await sleep(200);
    expect(w.frames.filter((f) => f.at >= sock.closedAt!)).toEqual([]);
    expect(otherClient.sockets[0]!.closedAt).toBeNull();
    await expectRefusedSubscription({ cookie: s.cookie, origin: server.url }, board.id);
  });

  it('refuses an expired session over HTTP and closes its socket', async () => {
    const short = await startServer({ sessionMaxMs: 1_500 });
    try {
      const beforeSignUp = Date.now();
      const s = await signUp(short.url, uname('lou'), PASSWORD);
      const signedAt = Date.now();
      const api = httpClient(short.url, { cookie: s.cookie });
      const board = await api.board.create.mutate({ title: 'Short' });
      const client = ws(short.url, { cookie: s.cookie, origin: short.url });
      const w = watch(client, board.id);
      await until(() => w.frames.length >= 1, 'live before expiry');
      expect((await api.auth.me.query())?.id).toBe(s.user.id);

      const sock = client.sockets[0]!;
      await until(() => sock.closedAt !== null, 'socket closed at expiry', 4_000);
      expect(sock.closeCode).toBe(4401);
      expect(sock.closedAt! - beforeSignUp).toBeGreaterThanOrEqual(1_500); // not before it expired
      expect(sock.closedAt! - signedAt).toBeLessThanOrEqual(1_500 + 1_000);

      expect(await outcome(() => api.board.list.query())).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
      expect(await api.auth.me.query()).toBeNull();
      await until(() => w.completed || w.error !== null, 'subscription ended');
      expect(w.frames.filter((f) => f.at >= sock.closedAt!)).toEqual([]);
      await expectRefusedSubscription({ cookie: s.cookie, origin: short.url }, board.id, short.url);
      // A new sign-in works again.
      const fresh = await signIn(short.url, s.user.username, PASSWORD);
      expect((await httpClient(short.url, { cookie: fresh.cookie }).board.list.query()).map((b) => b.id)).toContain(board.id);
    } finally {
      await short.destroy();
    }
  });
});

describe('secrets at rest and in logs', () => {
  it('keeps no raw password, session id, token or share code in the SQLite files or the debug logs', async () => {
    const srv = await startLoggedServer({ logLevel: 'debug' });
    cleanups.push(() => srv.destroy());
    const secrets: Record<string, string> = {};
    const username = uname('max');
    const a = await signUp(srv.url, username, PASSWORD);
    secrets.password = PASSWORD;
    secrets.session0 = a.sessionId;
    await rawCall(srv.url, 'auth.signIn', { username, password: 'Wrong-Password-42' });
    secrets.wrongPassword = 'Wrong-Password-42';
    const b = await signIn(srv.url, username, PASSWORD);
    secrets.session1 = b.sessionId;
    const api = httpClient(srv.url, { cookie: b.cookie });
    const { token } = await api.token.create.mutate({ name: 'script' });
    secrets.token = token;
    secrets.tokenBody = token.slice(4);
    const board = await api.board.create.mutate({ title: 'Secrets' });
    const link = await api.share.createLink.mutate({ boardId: board.id, role: 'editor' });
    secrets.shareCode = link.code;
    const friend = await signUp(srv.url, uname('max-friend'), 'friend password 123');
    secrets.friendPassword = 'friend password 123';
    secrets.friendSession = friend.sessionId;
    await httpClient(srv.url, { cookie: friend.cookie }).share.accept.mutate({ code: link.code });

    // Use the token over HTTP and over a WebSocket, and the cookie over a WebSocket.
    await httpClient(srv.url, { token }).board.push.mutate({ boardId: board.id, ops: [addOp(rect())] });
    const tokenWs = ws(srv.url, { token, allOverWebSocket: true });
    await tokenWs.trpc.chat.send.mutate({ boardId: board.id, text: 'hello' });
    const cookieWs = ws(srv.url, { cookie: b.cookie, origin: srv.url });
    const w = watch(cookieWs, board.id);
    await until(() => w.frames.length >= 1, 'cookie socket live');
    // A refused cross-site upgrade (logged at warn) and refused calls.
    const evil = ws(srv.url, { cookie: b.cookie, origin: 'https://evil.example' });
    watch(evil, board.id);
    await until(() => (evil.sockets[0]?.errors.length ?? 0) >= 1, 'evil upgrade refused');
    await rawCall(srv.url, 'board.list', undefined, { type: 'query', cookie: `inkboard_session=${a.sessionId}x` });
    await api.auth.signOut.mutate();
    await httpClient(srv.url, { cookie: a.cookie }).auth.signOut.mutate();
    await sleep(100);

    // The database keeps hashes: the searches below would find a raw value (positive control).
    const files = [srv.dbPath, `${srv.dbPath}-wal`, `${srv.dbPath}-shm`].filter(existsSync);
    const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    expect(bytes.includes(Buffer.from(sha256(token)))).toBe(true);
    expect(bytes.includes(Buffer.from(sha256(friend.sessionId)))).toBe(true);
    expect(bytes.includes(Buffer.from(username))).toBe(true);
    for (const [what, value] of Object.entries(secrets)) {
      expect(bytes.includes(Buffer.from(value)), `${what} in the SQLite files`).toBe(false);
    }
    // A proper look at the tables, too.
    const db = new Database(srv.dbPath, { readonly: true });
    try {
      const dump = JSON.stringify(
        ['users', 'sessions', 'api_tokens', 'share_links', 'board_members', 'chat_messages', 'ops'].map((t) => db.prepare(`select * from ${t}`).all()),
      );
      for (const [what, value] of Object.entries(secrets)) expect(dump.includes(value), `${what} in a table`).toBe(false);
    } finally {
      db.close();
    }

    // Logs: debug level produced request logs, but no secret.
    const logs = srv.logs.text();
    expect(srv.logs.lines.length).toBeGreaterThan(20);
    expect(logs).toContain('incoming request');
    expect(logs).toContain('refused a cookie WebSocket from a foreign origin');
    for (const [what, value] of Object.entries(secrets)) {
      expect(logs.includes(value), `${what} in the logs`).toBe(false);
      expect(logs.includes(encodeURIComponent(value)), `${what} (URL-encoded) in the logs`).toBe(false);
    }
    expect(logs).not.toMatch(/"(authorization|cookie|set-cookie)"\s*:/i);
  });
});
