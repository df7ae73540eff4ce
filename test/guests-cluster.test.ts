import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromWireFrame, GUEST_COOKIE, type WireFrame } from '@inkboard/protocol';
import { addOp, rect } from './helpers/elements.js';
import { httpClient, outcome, rawCall, signUp, sleep, until, watch, wsClient, type SignedIn, type Watch, type WsClient } from './helpers/auth.js';
import { createPgDatabase, deleteRedisKeys, REDIS_URL, type PgDatabase } from './helpers/cluster.js';
import { startServer, type TestServer } from './helpers/server.js';

/**
 * Guests (issue 18) with two server processes on one PostgreSQL database (and Redis): the public
 * link made through one works through the other, and turning it off or removing a guest through one
 * cuts the guest off on the other within a second.
 */

let db: PgDatabase;
let a: TestServer;
let b: TestServer;
let owner: SignedIn;
const prefix = `inkboard-test-guest-${randomBytes(4).toString('hex')}:`;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  db = await createPgDatabase();
  const shared = { databaseUrl: db.url, redisUrl: REDIS_URL, redisPrefix: prefix, guests: { maxGuestsPerBoard: 3, joinsPerAddressPerMinute: 1_000, joinsPerMinute: 1_000 } };
  a = await startServer(shared);
  b = await startServer(shared);
  owner = await signUp(a.url, `owner${randomBytes(3).toString('hex')}`, 'correct horse battery staple');
}, 60_000);
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await a?.destroy();
  await b?.destroy();
  await db?.drop();
  await deleteRedisKeys(prefix);
});

async function join(url: string, code: string, name: string): Promise<{ id: string; cookie: string }> {
  const res = await rawCall(url, 'guest.join', { code, name });
  if (res.status !== 200) throw new Error(`guest.join ${res.status}: ${res.body.error?.message}`);
  const cookie = res.setCookie.map((c) => c.split(';')[0]!).find((c) => c.startsWith(`${GUEST_COOKIE}=`))!;
  return { id: (res.body.result!.data as { guest: { id: string } }).guest.id, cookie };
}

function ws(url: string, cookie: string): WsClient {
  const c = wsClient(url, { cookie });
  cleanups.push(() => c.close());
  return c;
}

describe('guests on PostgreSQL with two processes', () => {
  it('chat off on one process: a guest subscribed on the other gets no chat, then gets it once it is on again', async () => {
    const api = httpClient(a.url, { cookie: owner.cookie });
    const { id: boardId } = await api.board.create.mutate({ title: 'Quiet cluster board' });
    const link = await api.guest.setLink.mutate({ boardId, role: 'viewer', allowChat: true });
    const g = await join(b.url, link.code!, 'Far');
    const texts = (w: Watch) => w.frames.flatMap((f) => fromWireFrame(f.frame as unknown as WireFrame).events).flatMap((e) => (e.type === 'chat' ? [e.message.text] : []));
    const guestWatch = watch(ws(b.url, g.cookie), boardId);
    const ownerWatch = watch(ws(b.url, owner.cookie), boardId);
    await until(() => guestWatch.frames.length >= 1 && ownerWatch.frames.length >= 1, 'subscribed on b');
    await api.chat.send.mutate({ boardId, text: 'on' });
    await until(() => texts(guestWatch).includes('on'), 'chat on reaches the guest on b');
    // Turned off (and on) through a: the setting's signal is published before the message, so b has it first.
    await api.guest.setLink.mutate({ boardId, role: 'viewer', allowChat: false });
    await api.chat.send.mutate({ boardId, text: 'off' });
    await until(() => texts(ownerWatch).includes('off'), 'the member on b gets it');
    await sleep(150);
    expect(texts(guestWatch)).toEqual(['on']);
    await api.guest.setLink.mutate({ boardId, role: 'viewer', allowChat: true });
    await api.chat.send.mutate({ boardId, text: 'on again' });
    await until(() => texts(guestWatch).includes('on again'), 'chat on again reaches the guest on b');
    expect(texts(guestWatch)).toEqual(['on', 'on again']);
    expect(guestWatch.error).toBeNull();
  });

  it('joins racing at the guests-per-board limit on two processes: exactly the limit get in', async () => {
    const api = httpClient(a.url, { cookie: owner.cookie });
    const { id: boardId } = await api.board.create.mutate({ title: 'Race board' });
    const link = await api.guest.setLink.mutate({ boardId, role: 'viewer' });
    // 40 joins at once, half through each process, and 20 more started together inside each.
    const codes = await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => rawCall(i % 2 ? a.url : b.url, 'guest.join', { code: link.code!, name: `R${i}` }).then((r) => r.body.error?.data?.code ?? 'ok')),
      ...[a, b].flatMap((server, s) =>
        Array.from({ length: 20 }, (_, i) =>
          server.app.guests.join(link.code!, `S${s}-${i}`, '127.0.0.1').then(
            () => 'ok',
            (err: { code?: string }) => err.code ?? 'error',
          ),
        ),
      ),
    ]);
    expect(codes.filter((c) => c === 'ok')).toHaveLength(3);
    expect(codes.filter((c) => c !== 'ok').every((c) => c === 'FORBIDDEN')).toBe(true);
    expect(await api.guest.list.query({ boardId })).toHaveLength(3);
  });

  it('a link made on one process admits guests on the other; off or removal on one cuts them off on the other', async () => {
    const api = httpClient(a.url, { cookie: owner.cookie });
    const { id: boardId } = await api.board.create.mutate({ title: 'Cluster board' });
    const link = await api.guest.setLink.mutate({ boardId, role: 'editor' });
    const g1 = await join(b.url, link.code!, 'One');
    const g2 = await join(b.url, link.code!, 'Two');
    await join(a.url, link.code!, 'Three');
    // The limit holds across processes (3 here).
    expect((await rawCall(b.url, 'guest.join', { code: link.code!, name: 'Four' })).body.error?.data?.code).toBe('FORBIDDEN');
    expect((await api.guest.list.query({ boardId })).map((g) => g.name).sort()).toEqual(['One', 'Three', 'Two']);

    const g1Api = httpClient(b.url, { cookie: g1.cookie });
    expect(await g1Api.board.push.mutate({ boardId, ops: [addOp(rect())] })).toMatchObject({ acks: [{ seq: 1 }] });
    const w1 = watch(ws(b.url, g1.cookie), boardId);
    const w2 = watch(ws(b.url, g2.cookie), boardId);
    await until(() => w1.frames.length >= 1 && w2.frames.length >= 1, 'guests subscribed on b');

    // Removed through a: cut off on b at once; the other guest stays.
    let started = Date.now();
    await api.guest.remove.mutate({ boardId, guestId: g1.id });
    await until(() => w1.error !== null, 'g1 cut off', 1_000);
    expect(w1.error!.at - started).toBeLessThan(1_000);
    expect(await outcome(() => g1Api.board.byId.query({ boardId }))).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
    expect(w2.error).toBeNull();

    // A role change through a applies on b (the role cache is forgotten on every process).
    await api.guest.setLink.mutate({ boardId, role: 'viewer' });
    const g2Api = httpClient(b.url, { cookie: g2.cookie });
    expect(await outcome(() => g2Api.board.push.mutate({ boardId, ops: [addOp(rect())] }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });

    // Off through a: the remaining guest is cut off on b.
    started = Date.now();
    await api.guest.disable.mutate({ boardId });
    await until(() => w2.error !== null, 'g2 cut off', 1_000);
    expect(w2.error!.at - started).toBeLessThan(1_000);
    expect((await rawCall(b.url, 'guest.join', { code: link.code!, name: 'Late' })).body.error?.data?.code).toBe('NOT_FOUND');
  });
});
