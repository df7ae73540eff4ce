import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromWireFrame, GUEST_COOKIE, isGuestId, type BoardEvent, type WireFrame } from '@inkboard/protocol';
import { joinAsGuest } from '../packages/client/src/index.js';
import WebSocket from 'ws';
import { addOp, rect } from './helpers/elements.js';
import { httpClient, outcome, rawCall, signUp, sleep, startLoggedServer, until, watch, wsClient, type SignedIn, type Watch, type WsClient } from './helpers/auth.js';
import { startServer, type TestServer } from './helpers/server.js';
import { CliUser } from './helpers/cli.js';
import { download, solid, upload } from './helpers/images.js';

// Guests (issue 18): people who open a board's public link, with no account. They are their own
// principal: one board, the link's current role, never an account procedure; cut off at once when
// the link goes off or changes, when removed, or when the board is deleted.

const PASSWORD = 'correct horse battery staple';
let n = 0;
const unique = (base: string) => `${base}${++n}-${Date.now().toString(36)}`;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function ws(url: string, opts: Parameters<typeof wsClient>[1]): WsClient {
  const c = wsClient(url, opts);
  cleanups.push(() => c.close());
  return c;
}

/** The guest cookie set by a join over HTTP, as a Cookie header. */
function guestCookie(setCookie: string[]): string {
  for (const c of setCookie) {
    const m = c.match(new RegExp(`^${GUEST_COOKIE}=([^;]+)`));
    if (m?.[1]) return `${GUEST_COOKIE}=${m[1]}`;
  }
  throw new Error(`no guest cookie in ${JSON.stringify(setCookie)}`);
}

interface Guest {
  id: string;
  cookie: string;
}

/** The guest cookie's entries (`<boardId>.<secret>` joined by `~`, oldest first) as [boardId, secret]. */
function cookieEntries(cookie: string): [string, string][] {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
  return value.split('~').map((e) => e.split('.') as [string, string]);
}

/** The guest's secret (its board's entry in the cookie it got when joining): as a bearer token it is the same guest. */
function secretOf(g: Guest): string {
  return cookieEntries(g.cookie).at(-1)![1];
}

async function joinGuest(url: string, code: string, name: string): Promise<Guest> {
  const res = await rawCall(url, 'guest.join', { code, name });
  if (res.status !== 200) throw new Error(`guest.join ${res.status}: ${res.body.error?.message}`);
  const setCookie = res.setCookie.join('\n');
  expect(setCookie).toMatch(/HttpOnly/i);
  expect(setCookie).toMatch(/SameSite=Lax/i);
  const data = res.body.result!.data as { guest: { id: string }; token?: string };
  expect(data.token).toBeUndefined(); // a browser gets only the httpOnly cookie
  return { id: data.guest.id, cookie: guestCookie(res.setCookie) };
}

async function boardWithLink(url: string, owner: SignedIn, role: 'editor' | 'viewer', title = 'Public board') {
  const api = httpClient(url, { cookie: owner.cookie });
  const { id: boardId } = await api.board.create.mutate({ title });
  const el = rect(5, 5);
  await api.board.push.mutate({ boardId, ops: [addOp(el)] });
  const link = await api.guest.setLink.mutate({ boardId, role });
  expect(link.code).toBeTruthy();
  return { boardId, code: link.code!, elementId: el.id, api };
}

/** Events as the client sees them (the watch keeps frames as they travel: cursors packed). */
const eventsOf = (w: Watch) => w.frames.flatMap((f) => fromWireFrame(f.frame as unknown as WireFrame).events) as BoardEvent[];

describe('guests: access', () => {
  let server: TestServer;
  let owner: SignedIn;
  let edit: Awaited<ReturnType<typeof boardWithLink>>;
  let view: Awaited<ReturnType<typeof boardWithLink>>;
  let otherBoard: string;
  let editGuest: Guest;
  let viewGuest: Guest;

  beforeAll(async () => {
    server = await startServer();
    owner = await signUp(server.url, unique('owner-'), PASSWORD, 'Olive');
    edit = await boardWithLink(server.url, owner, 'editor', 'Edit board');
    view = await boardWithLink(server.url, owner, 'viewer', 'View board');
    // Another board, with a public link of its own: a guest of one is nobody on the other.
    const other = await boardWithLink(server.url, owner, 'editor', 'Other board');
    otherBoard = other.boardId;
    editGuest = await joinGuest(server.url, edit.code, 'Eddie');
    viewGuest = await joinGuest(server.url, view.code, 'Vera');
  });
  afterAll(async () => {
    await server.destroy();
  });

  type Caller = 'editGuest' | 'viewGuest';
  const CALLERS: Caller[] = ['editGuest', 'viewGuest'];
  const fx = (caller: Caller) => (caller === 'editGuest' ? { guest: editGuest, board: edit } : { guest: viewGuest, board: view });

  /**
   * Each row: what a guest gets, by caller. 'ok' or a tRPC error code. `b` is the guest's board,
   * `o` another board (its own link, same owner).
   */
  const ROWS: { path: string; type: 'query' | 'mutation'; input: (b: string, o: string, elementId: string) => unknown; want: Record<Caller, string> }[] = [
    { path: 'auth.updateProfile', type: 'mutation', input: () => ({ color: '#2f9e44' }), want: { editGuest: 'UNAUTHORIZED', viewGuest: 'UNAUTHORIZED' } },
    { path: 'auth.changePassword', type: 'mutation', input: () => ({ currentPassword: 'x', newPassword: 'long enough password' }), want: { editGuest: 'UNAUTHORIZED', viewGuest: 'UNAUTHORIZED' } },
    { path: 'auth.signOutEverywhere', type: 'mutation', input: () => undefined, want: { editGuest: 'UNAUTHORIZED', viewGuest: 'UNAUTHORIZED' } },
    { path: 'token.create', type: 'mutation', input: () => ({ name: 'guest token' }), want: { editGuest: 'UNAUTHORIZED', viewGuest: 'UNAUTHORIZED' } },
    { path: 'token.list', type: 'query', input: () => undefined, want: { editGuest: 'UNAUTHORIZED', viewGuest: 'UNAUTHORIZED' } },
    { path: 'board.list', type: 'query', input: () => undefined, want: { editGuest: 'UNAUTHORIZED', viewGuest: 'UNAUTHORIZED' } },
    { path: 'board.create', type: 'mutation', input: () => ({ title: 'Guest board' }), want: { editGuest: 'UNAUTHORIZED', viewGuest: 'UNAUTHORIZED' } },
    { path: 'share.accept', type: 'mutation', input: () => ({ code: 'abcdefghijklmnop' }), want: { editGuest: 'UNAUTHORIZED', viewGuest: 'UNAUTHORIZED' } },
    { path: 'guest.claim', type: 'mutation', input: () => undefined, want: { editGuest: 'UNAUTHORIZED', viewGuest: 'UNAUTHORIZED' } },
    { path: 'board.byId', type: 'query', input: (b) => ({ boardId: b }), want: { editGuest: 'ok', viewGuest: 'ok' } },
    { path: 'board.snapshot', type: 'query', input: (b) => ({ boardId: b }), want: { editGuest: 'ok', viewGuest: 'ok' } },
    { path: 'board.push', type: 'mutation', input: (b) => ({ boardId: b, ops: [addOp(rect(9, 9))] }), want: { editGuest: 'ok', viewGuest: 'FORBIDDEN' } },
    { path: 'board.cursor', type: 'mutation', input: (b) => ({ boardId: b, x: 1, y: 2 }), want: { editGuest: 'ok', viewGuest: 'ok' } },
    { path: 'board.rename', type: 'mutation', input: (b) => ({ boardId: b, title: 'Hijacked' }), want: { editGuest: 'FORBIDDEN', viewGuest: 'FORBIDDEN' } },
    { path: 'board.delete', type: 'mutation', input: (b) => ({ boardId: b }), want: { editGuest: 'FORBIDDEN', viewGuest: 'FORBIDDEN' } },
    { path: 'board.leave', type: 'mutation', input: (b) => ({ boardId: b }), want: { editGuest: 'BAD_REQUEST', viewGuest: 'BAD_REQUEST' } },
    { path: 'chat.send', type: 'mutation', input: (b) => ({ boardId: b, text: 'hello from a guest' }), want: { editGuest: 'ok', viewGuest: 'ok' } },
    { path: 'chat.history', type: 'query', input: (b) => ({ boardId: b, limit: 10 }), want: { editGuest: 'ok', viewGuest: 'ok' } },
    { path: 'share.createLink', type: 'mutation', input: (b) => ({ boardId: b, role: 'editor' }), want: { editGuest: 'FORBIDDEN', viewGuest: 'FORBIDDEN' } },
    { path: 'share.links', type: 'query', input: (b) => ({ boardId: b }), want: { editGuest: 'FORBIDDEN', viewGuest: 'FORBIDDEN' } },
    { path: 'guest.setLink', type: 'mutation', input: (b) => ({ boardId: b, role: 'editor' }), want: { editGuest: 'FORBIDDEN', viewGuest: 'FORBIDDEN' } },
    { path: 'guest.list', type: 'query', input: (b) => ({ boardId: b }), want: { editGuest: 'FORBIDDEN', viewGuest: 'FORBIDDEN' } },
    { path: 'guest.disable', type: 'mutation', input: (b) => ({ boardId: b }), want: { editGuest: 'FORBIDDEN', viewGuest: 'FORBIDDEN' } },
    // Another board: nothing, whatever the role on their own.
    { path: 'board.byId', type: 'query', input: (_b, o) => ({ boardId: o }), want: { editGuest: 'FORBIDDEN', viewGuest: 'FORBIDDEN' } },
    { path: 'board.snapshot', type: 'query', input: (_b, o) => ({ boardId: o }), want: { editGuest: 'FORBIDDEN', viewGuest: 'FORBIDDEN' } },
    { path: 'board.push', type: 'mutation', input: (_b, o) => ({ boardId: o, ops: [addOp(rect(9, 9))] }), want: { editGuest: 'FORBIDDEN', viewGuest: 'FORBIDDEN' } },
    { path: 'chat.send', type: 'mutation', input: (_b, o) => ({ boardId: o, text: 'hi' }), want: { editGuest: 'FORBIDDEN', viewGuest: 'FORBIDDEN' } },
  ];

  const procedure = (api: unknown, path: string) => path.split('.').reduce((o: any, k) => o[k], api) as { query(i: unknown): Promise<unknown>; mutate(i: unknown): Promise<unknown> };

  for (const transport of ['http', 'websocket'] as const) {
    describe(`over ${transport}`, () => {
      for (const caller of CALLERS) {
        it.each(ROWS.map((r) => ({ ...r, label: `${r.path}(${r.input('board', 'other', 'el') && JSON.stringify(r.input('B', 'O', 'E')).includes('"O"') ? 'other board' : 'own board'})`, expected: r.want[caller] })))(
          `${caller}: $label -> $expected`,
          async (row) => {
            const { guest, board } = fx(caller);
            const api = transport === 'http' ? httpClient(server.url, { cookie: guest.cookie }) : ws(server.url, { cookie: guest.cookie, allOverWebSocket: true }).trpc;
            const p = procedure(api, row.path);
            const input = row.input(board.boardId, otherBoard, board.elementId);
            const result = await outcome(() => (row.type === 'query' ? p.query(input) : p.mutate(input)));
            if (row.expected === 'ok') expect(result).toMatchObject({ ok: true });
            else {
              expect(result).toMatchObject({ ok: false, code: row.expected });
              expect((result as { message: string }).message.length).toBeGreaterThan(10);
            }
          },
        );
      }
    });
  }

  it('members are listed to a guest with display names only, never usernames', async () => {
    const api = httpClient(server.url, { cookie: editGuest.cookie });
    const members = await api.share.members.query({ boardId: edit.boardId });
    expect(members.length).toBeGreaterThan(0);
    for (const m of members) expect(m.username).toBeNull();
  });

  it('a guest is nobody to auth.me, and guest.me tells who they are', async () => {
    const api = httpClient(server.url, { cookie: editGuest.cookie });
    expect(await api.auth.me.query()).toBeNull();
    expect(await api.guest.me.query()).toMatchObject({ guest: { id: editGuest.id, name: 'Eddie' }, boardId: edit.boardId, role: 'editor' });
  });

  it('the subscription: a guest gets its board live (marked as a guest in presence), and is refused any other', async () => {
    const ownerWatch = watch(ws(server.url, { cookie: owner.cookie }), edit.boardId);
    await until(() => ownerWatch.frames.length >= 1, 'owner first frame');
    const g = ws(server.url, { cookie: editGuest.cookie });
    const w = watch(g, edit.boardId);
    await until(() => w.frames.length >= 1, 'guest first frame');
    expect(w.frames[0]!.frame.events[0]).toMatchObject({ type: 'snapshot' });
    await until(() => eventsOf(ownerWatch).some((e) => e.type === 'join' && e.client.user.id === editGuest.id), 'owner sees the guest join');
    const join = eventsOf(ownerWatch).find((e) => e.type === 'join' && e.client.user.id === editGuest.id);
    expect(join).toMatchObject({ client: { guest: true, user: { name: 'Eddie' } } });
    // The guest's op is authored by the guest (per-user undo works on the guest id).
    await httpClient(server.url, { cookie: editGuest.cookie }).board.push.mutate({ boardId: edit.boardId, ops: [addOp(rect(20, 20))] });
    await until(() => eventsOf(ownerWatch).some((e) => e.type === 'op' && e.author.id === editGuest.id), 'guest op');
    expect(isGuestId(editGuest.id)).toBe(true);

    const other = watch(ws(server.url, { cookie: editGuest.cookie }), otherBoard);
    await until(() => other.error !== null, 'refused on another board');
    expect(other.error!.code).toBe('FORBIDDEN');
  });

  it('the lane: a guest moves its cursor on its board, is refused on another, and a view guest cannot preview', async () => {
    const ownerWatch = watch(ws(server.url, { cookie: owner.cookie }), edit.boardId);
    const otherWatch = watch(ws(server.url, { cookie: owner.cookie }), otherBoard);
    await until(() => ownerWatch.frames.length >= 1 && otherWatch.frames.length >= 1, 'owner frames');
    const g = ws(server.url, { cookie: editGuest.cookie });
    const gw = watch(g, edit.boardId);
    await until(() => gw.frames.length >= 1, 'guest subscribed');
    const refusals: { code?: string | undefined; path?: string | undefined; message: string }[] = [];
    g.lane.onError((r) => refusals.push({ code: r.code, path: r.path, message: r.message }));
    g.lane.cursor(edit.boardId, 123, 456);
    await until(() => eventsOf(ownerWatch).some((e) => e.type === 'cursor' && e.x === 123), `guest cursor through the lane ${JSON.stringify(refusals)}`);
    g.lane.cursor(otherBoard, 321, 654);
    await until(() => refusals.length >= 1, 'lane refusal');
    expect(refusals[0]).toMatchObject({ code: 'FORBIDDEN', path: 'lane.cursor' });
    await sleep(100);
    expect(eventsOf(otherWatch).some((e) => e.type === 'cursor' && e.x === 321)).toBe(false);

    const v = ws(server.url, { cookie: viewGuest.cookie });
    const vRefusals: string[] = [];
    v.lane.onError((r) => vRefusals.push(r.code));
    const vw = watch(v, view.boardId);
    await until(() => vw.frames.length >= 1, 'view guest subscribed');
    const el = rect(1, 1);
    v.lane.preview({ boardId: view.boardId, elementId: el.id, element: el });
    await until(() => vRefusals.length >= 1, 'preview refused');
    expect(vRefusals[0]).toBe('FORBIDDEN');
  });

  it('a guest socket is signed in for the socket guard: it stays open past the handshake budget', async () => {
    const g = ws(server.url, { cookie: viewGuest.cookie, allOverWebSocket: true });
    const w = watch(g, view.boardId);
    await until(() => w.frames.length >= 1, 'subscribed');
    // Over 8 KiB of calls (the budget of a socket that has not signed in: 4401 past it), unlimited ones.
    for (let i = 0; i < 15; i++) await Promise.all(Array.from({ length: 10 }, () => g.trpc.board.byId.query({ boardId: view.boardId })));
    await sleep(200);
    expect(await g.trpc.board.cursor.mutate({ boardId: view.boardId, x: 1, y: 1 })).toBeNull();
    expect(g.sockets.every((s) => s.closeCode === null)).toBe(true);
    expect(w.error).toBeNull();
  });

  it('a forged or modified guest cookie is nobody', async () => {
    const value = editGuest.cookie.split('=')[1]!;
    const secret = secretOf(editGuest);
    const flipped = value.slice(0, -1) + (value.endsWith('A') ? 'B' : 'A');
    const forged = [flipped, `ibg_${'x'.repeat(43)}`, `${value}x`, `${edit.boardId}.ibg_${'x'.repeat(43)}`, `${edit.boardId}.${secret}x`, `${value}~${'a'.repeat(3_100)}`, `${edit.boardId}.${secret.slice(4)}`];
    for (const cookie of forged.map((v) => `${GUEST_COOKIE}=${v}`)) {
      const api = httpClient(server.url, { cookie });
      expect(await outcome(() => api.board.byId.query({ boardId: edit.boardId }))).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
      expect(await api.guest.me.query()).toBeNull();
    }
    // The guest's real secret as a bearer token works (scripts), and only on its board.
    const asBearer = httpClient(server.url, { token: secret });
    expect(await asBearer.board.byId.query({ boardId: edit.boardId })).toMatchObject({ role: 'editor' });
    expect(await outcome(() => asBearer.board.byId.query({ boardId: otherBoard }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
  });

  it('the typed client joins as a guest by link URL and watches the board', async () => {
    const joined = await joinAsGuest(`${server.url}/g/${view.code}`, 'Scripty', { WebSocket: WebSocket as unknown as typeof globalThis.WebSocket });
    cleanups.push(() => joined.client.close());
    expect(joined).toMatchObject({ boardId: view.boardId, role: 'viewer', guest: { name: 'Scripty' } });
    const w = watch(joined.client, view.boardId);
    await until(() => w.frames.length >= 1, 'first frame');
    expect(w.frames[0]!.frame.events[0]).toMatchObject({ type: 'snapshot', elements: [{ id: view.elementId }] });
  });

  it('inkboard watch <public link URL> watches as a guest, without an account', async () => {
    const user = new CliUser(server.url, { INKBOARD_TOKEN: '' });
    cleanups.push(() => user.remove());
    const proc = user.spawn(['watch', `${server.url}/g/${view.code}`, '--name', 'Termi']);
    cleanups.push(() => proc.interrupt().catch(() => undefined));
    await proc.waitForLine(new RegExp(`^Watching ${view.boardId}: \\d+ elements at seq \\d+`), { timeoutMs: 20_000 });
    expect((await view.api.guest.list.query({ boardId: view.boardId })).map((g) => g.name)).toContain('Termi');
    // Another guest joining shows as one.
    const other = await joinAsGuest(`${server.url}/g/${view.code}`, 'Marked', { WebSocket: WebSocket as unknown as typeof globalThis.WebSocket });
    cleanups.push(() => other.client.close());
    const w = watch(other.client, view.boardId);
    cleanups.push(() => w.stop());
    await proc.waitForLine(/ Marked \(guest\) joined$/, { timeoutMs: 20_000 });
  });

  it('the HTTP routes take guests like members: export and images on their board only', async () => {
    const secret = secretOf;
    const svg = await fetch(`${server.url}/api/boards/${edit.boardId}/export.svg`, { headers: { cookie: editGuest.cookie } });
    expect(svg.status).toBe(200);
    expect(await svg.text()).toContain('<svg');
    expect((await fetch(`${server.url}/api/boards/${otherBoard}/export.svg`, { headers: { cookie: editGuest.cookie } })).status).toBe(403);
    const png = await solid(32, 24).png().toBuffer();
    const up = await upload(server.url, secret(editGuest), edit.boardId, png);
    expect(up.status).toBe(201);
    expect((await download(server.url, secret(editGuest), edit.boardId, up.json.fileId!)).status).toBe(200);
    // A view guest downloads the board's images but cannot upload; nobody reaches another board's.
    expect((await upload(server.url, secret(viewGuest), view.boardId, png)).status).toBe(403);
    expect((await download(server.url, secret(viewGuest), edit.boardId, up.json.fileId!)).status).toBe(404); // as for a non-member
  });

  it('a signed-in person cannot join as a guest (an account always wins)', async () => {
    const res = await rawCall(server.url, 'guest.join', { code: edit.code, name: 'Olive' }, { cookie: owner.cookie });
    expect(res.body.error?.data?.code).toBe('BAD_REQUEST');
  });

  it('chat can be off for guests: sending and reading are refused, drawing goes on', async () => {
    const b = await boardWithLink(server.url, owner, 'editor', 'No chat');
    await b.api.guest.setLink.mutate({ boardId: b.boardId, role: 'editor', allowChat: false });
    const g = await joinGuest(server.url, b.code, 'Quiet');
    const api = httpClient(server.url, { cookie: g.cookie });
    expect(await outcome(() => api.chat.send.mutate({ boardId: b.boardId, text: 'hi' }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(await outcome(() => api.chat.history.query({ boardId: b.boardId, limit: 5 }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(await outcome(() => api.chat.typing.mutate({ boardId: b.boardId }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    // Typing over the lane too.
    const sock = ws(server.url, { cookie: g.cookie });
    const w = watch(sock, b.boardId);
    await until(() => w.frames.length >= 1, 'subscribed');
    const refusals: string[] = [];
    sock.lane.onError((r) => refusals.push(`${r.code} ${r.path}`));
    sock.lane.typing(b.boardId);
    await until(() => refusals.length >= 1, 'typing refused');
    expect(refusals[0]).toBe('FORBIDDEN lane.typing');
    expect(await outcome(() => api.board.push.mutate({ boardId: b.boardId, ops: [addOp(rect())] }))).toMatchObject({ ok: true });
    // Turning a link from edit to view applies to guests in at once.
    await b.api.guest.setLink.mutate({ boardId: b.boardId, role: 'viewer' });
    expect(await outcome(() => api.board.push.mutate({ boardId: b.boardId, ops: [addOp(rect())] }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
  });
});

describe('guests: one browser, a guest of several boards', () => {
  let server: TestServer;
  let owner: SignedIn;
  beforeAll(async () => {
    server = await startServer({ guests: { maxGuestsPerBoard: 200, joinsPerAddressPerMinute: 100, joinsPerMinute: 1_000 } });
    owner = await signUp(server.url, unique('owner-'), PASSWORD, 'Olive');
  });
  afterAll(async () => {
    await server.destroy();
  });

  /** Joins through `code` as a browser does: sending the cookie it has, keeping the one it gets back. */
  async function join(code: string, name: string, cookie?: string): Promise<{ id: string; cookie: string }> {
    const res = await rawCall(server.url, 'guest.join', { code, name }, cookie ? { cookie } : {});
    if (res.status !== 200) throw new Error(`guest.join ${res.status}: ${res.body.error?.message}`);
    return { id: (res.body.result!.data as { guest: { id: string } }).guest.id, cookie: guestCookie(res.setCookie) };
  }

  it('opening a second board\'s public link keeps the first board\'s guest: both work over HTTP, a socket and the lane', async () => {
    const a = await boardWithLink(server.url, owner, 'editor', 'Board A');
    const b = await boardWithLink(server.url, owner, 'viewer', 'Board B');
    const ga = await join(a.code, 'Ann');
    const gb = await join(b.code, 'Ben', ga.cookie);
    expect(gb.id).not.toBe(ga.id);
    const cookie = gb.cookie;
    expect(cookieEntries(cookie).map(([boardId]) => boardId)).toEqual([a.boardId, b.boardId]);

    const api = httpClient(server.url, { cookie });
    // Each board with its own guest: its name, its link's role.
    expect(await api.guest.me.query({ boardId: a.boardId })).toMatchObject({ guest: { id: ga.id, name: 'Ann' }, boardId: a.boardId, role: 'editor' });
    expect(await api.guest.me.query({ boardId: b.boardId })).toMatchObject({ guest: { id: gb.id, name: 'Ben' }, boardId: b.boardId, role: 'viewer' });
    expect(await api.guest.me.query()).toMatchObject({ guest: { id: gb.id } }); // without a board: the newest
    expect(await api.board.byId.query({ boardId: a.boardId })).toMatchObject({ role: 'editor' });
    expect(await api.board.byId.query({ boardId: b.boardId })).toMatchObject({ role: 'viewer' });
    const ownerWatch = watch(ws(server.url, { cookie: owner.cookie }), a.boardId);
    await until(() => ownerWatch.frames.length >= 1, 'owner subscribed');
    const pushed = await api.board.push.mutate({ boardId: a.boardId, ops: [addOp(rect(7, 7))] });
    expect(await outcome(() => api.board.push.mutate({ boardId: b.boardId, ops: [addOp(rect())] }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    // The op on A is Ann's (per-user undo follows the author).
    await until(() => eventsOf(ownerWatch).some((e) => e.type === 'op' && e.seq === pushed.acks[0]!.seq), 'the op reaches the owner');
    expect(eventsOf(ownerWatch).find((e) => e.type === 'op' && e.seq === pushed.acks[0]!.seq)).toMatchObject({ author: { id: ga.id, name: 'Ann' } });
    // HTTP routes name their board: each guest's own.
    for (const boardId of [a.boardId, b.boardId]) expect((await fetch(`${server.url}/api/boards/${boardId}/export.svg`, { headers: { cookie } })).status).toBe(200);

    // A socket naming board A acts as Ann there (presence, cursor through the lane, chat).
    const sock = ws(server.url, { cookie, guestBoard: a.boardId });
    const w = watch(sock, a.boardId);
    await until(() => w.frames.length >= 1, 'guest subscribed to A');
    await until(() => eventsOf(ownerWatch).some((e) => e.type === 'join' && e.client.user.id === ga.id), 'owner sees Ann join');
    sock.lane.cursor(a.boardId, 42, 24);
    await until(() => eventsOf(ownerWatch).some((e) => e.type === 'cursor' && e.x === 42), 'Ann\'s cursor through the lane');
    // A socket without a board acts as the newest (Ben), and its subscriptions act as each board's guest.
    const other = ws(server.url, { cookie });
    const wa = watch(other, a.boardId);
    const wb = watch(other, b.boardId);
    await until(() => wa.frames.length >= 1 && wb.frames.length >= 1, 'both subscriptions on one socket');
    expect(wa.error).toBeNull();
    expect(wb.error).toBeNull();

    // Removing Ann from A ends A only; Ben stays on B.
    await a.api.guest.remove.mutate({ boardId: a.boardId, guestId: ga.id });
    expect(await outcome(() => api.board.byId.query({ boardId: a.boardId }))).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
    expect(await api.board.byId.query({ boardId: b.boardId })).toMatchObject({ role: 'viewer' });
    expect(await api.guest.me.query({ boardId: a.boardId })).toBeNull();
  });

  it('joining the same board again replaces its entry; leave forgets one board; the cookie holds at most 10 boards', async () => {
    const boards = [];
    for (let i = 0; i < 11; i++) boards.push(await boardWithLink(server.url, owner, 'viewer', `Board ${i}`));
    let cookie: string | undefined;
    const ids: string[] = [];
    for (const [i, b] of boards.entries()) {
      const g = await join(b.code, `G${i}`, cookie);
      ids.push(g.id);
      cookie = g.cookie;
    }
    // The oldest dropped out: 10 entries, boards 1..10, newest last.
    const entries = cookieEntries(cookie!);
    expect(entries.map(([boardId]) => boardId)).toEqual(boards.slice(1).map((b) => b.boardId));
    const header = `Set-Cookie: ${cookie}`;
    expect(header.length).toBeLessThan(1_000);
    const api = httpClient(server.url, { cookie: cookie! });
    for (const b of boards.slice(1)) expect(await api.board.byId.query({ boardId: b.boardId })).toMatchObject({ id: b.boardId });
    // Board 0's guest is no longer on this device: the board is refused like any other.
    expect(await outcome(() => api.board.byId.query({ boardId: boards[0]!.boardId }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });

    // Joining board 1 again: a new guest replaces its entry, which becomes the newest.
    const again = await join(boards[1]!.code, 'Again', cookie);
    const after = cookieEntries(again.cookie);
    expect(after).toHaveLength(10);
    expect(after.at(-1)![0]).toBe(boards[1]!.boardId);
    expect(await httpClient(server.url, { cookie: again.cookie }).guest.me.query({ boardId: boards[1]!.boardId })).toMatchObject({ guest: { id: again.id, name: 'Again' } });

    // leave({boardId}) forgets that board only; leave() forgets every one.
    const left = await rawCall(server.url, 'guest.leave', { boardId: boards[2]!.boardId }, { cookie: again.cookie });
    const rest = guestCookie(left.setCookie);
    expect(cookieEntries(rest).map(([boardId]) => boardId)).not.toContain(boards[2]!.boardId);
    expect(cookieEntries(rest)).toHaveLength(9);
    const all = await rawCall(server.url, 'guest.leave', undefined, { cookie: rest });
    expect(all.setCookie.join('\n')).toMatch(new RegExp(`${GUEST_COOKIE}=;`));
  });

  it('claiming one board keeps the device a guest of the others; a cookie of the older form (one bare secret) still works and is kept on the next join', async () => {
    const a = await boardWithLink(server.url, owner, 'editor', 'Claimed');
    const b = await boardWithLink(server.url, owner, 'editor', 'Kept');
    const ga = await join(a.code, 'Cleo');
    const gb = await join(b.code, 'Cleo', ga.cookie);
    const account = await signUp(server.url, unique('cleo-'), PASSWORD, 'Cleo');
    const res = await rawCall(server.url, 'guest.claim', { boardId: a.boardId }, { cookie: `${account.cookie}; ${gb.cookie}` });
    expect(res.body.result?.data).toMatchObject({ boardId: a.boardId, role: 'editor' });
    const kept = guestCookie(res.setCookie);
    expect(cookieEntries(kept).map(([boardId]) => boardId)).toEqual([b.boardId]);
    expect(await httpClient(server.url, { cookie: kept }).guest.me.query({ boardId: b.boardId })).toMatchObject({ guest: { id: gb.id } });

    // The older form: the cookie was the bare secret. It still opens its board, and joining another keeps it, under its board.
    const legacy = `${GUEST_COOKIE}=${secretOf(gb)}`;
    expect(await httpClient(server.url, { cookie: legacy }).board.byId.query({ boardId: b.boardId })).toMatchObject({ role: 'editor' });
    const c = await boardWithLink(server.url, owner, 'viewer', 'Third');
    const gc = await join(c.code, 'Cleo', legacy);
    expect(cookieEntries(gc.cookie).map(([boardId]) => boardId)).toEqual([b.boardId, c.boardId]);
    expect(await httpClient(server.url, { cookie: gc.cookie }).guest.me.query({ boardId: b.boardId })).toMatchObject({ guest: { id: gb.id } });
  });
});

describe('guests: chat off reaches no guest', () => {
  let server: TestServer;
  let owner: SignedIn;
  beforeAll(async () => {
    server = await startServer();
    owner = await signUp(server.url, unique('owner-'), PASSWORD, 'Olive');
  });
  afterAll(async () => {
    await server.destroy();
  });

  const chatTexts = (w: Watch) => eventsOf(w).flatMap((e) => (e.type === 'chat' ? [e.message.text] : []));
  const typings = (w: Watch) => eventsOf(w).filter((e) => e.type === 'typing').length;
  const opSeqs = (w: Watch) => eventsOf(w).flatMap((e) => (e.type === 'op' ? [e.seq] : []));

  it("members' chat and typing are withheld from guests while the link has chat off, live as the owner switches it", async () => {
    const b = await boardWithLink(server.url, owner, 'editor', 'Quiet board');
    await b.api.guest.setLink.mutate({ boardId: b.boardId, role: 'editor', allowChat: false });
    const quiet = await joinGuest(server.url, b.code, 'Quiet');
    const ownerWatch = watch(ws(server.url, { cookie: owner.cookie }), b.boardId);
    const guestWatch = watch(ws(server.url, { cookie: quiet.cookie }), b.boardId);
    const ownerSocket = ws(server.url, { cookie: owner.cookie });
    const ownerLive = watch(ownerSocket, b.boardId);
    await until(() => ownerWatch.frames.length >= 1 && guestWatch.frames.length >= 1 && ownerLive.frames.length >= 1, 'subscribed');

    // Chat off: a message and typing (tRPC and the lane) in the same ticks as ops; the guest gets the ops only.
    const first = await b.api.board.push.mutate({ boardId: b.boardId, ops: [addOp(rect(1, 1))] });
    await Promise.all([b.api.chat.send.mutate({ boardId: b.boardId, text: 'members only 1' }), b.api.board.push.mutate({ boardId: b.boardId, ops: [addOp(rect(2, 2))] })]);
    await b.api.chat.typing.mutate({ boardId: b.boardId });
    ownerSocket.lane.typing(b.boardId);
    await b.api.chat.send.mutate({ boardId: b.boardId, text: 'members only 2' });
    const last = await b.api.board.push.mutate({ boardId: b.boardId, ops: [addOp(rect(3, 3))] });
    const lastSeq = last.acks[0]!.seq;
    await until(() => opSeqs(guestWatch).includes(lastSeq) && opSeqs(ownerWatch).includes(lastSeq) && typings(ownerWatch) >= 1, 'ops delivered');
    await sleep(150);
    expect(chatTexts(ownerWatch)).toEqual(['members only 1', 'members only 2']);
    expect(typings(ownerWatch)).toBeGreaterThanOrEqual(1);
    expect(chatTexts(guestWatch)).toEqual([]);
    expect(typings(guestWatch)).toBe(0);
    // Nothing else was lost: the guest has every op, in order, on the same subscription.
    expect(opSeqs(guestWatch)).toEqual(opSeqs(ownerWatch));
    expect(opSeqs(guestWatch)[0]).toBe(first.acks[0]!.seq);
    expect(guestWatch.error).toBeNull();

    // Chat on: the same subscription gets members' messages from then on.
    await b.api.guest.setLink.mutate({ boardId: b.boardId, role: 'editor', allowChat: true });
    await b.api.chat.send.mutate({ boardId: b.boardId, text: 'everyone' });
    await until(() => chatTexts(guestWatch).includes('everyone'), 'chat reaches the guest once on');
    await b.api.chat.typing.mutate({ boardId: b.boardId });
    await until(() => typings(guestWatch) >= 1, 'typing reaches the guest once on');

    // Off again: withheld at once (no message may slip through in between).
    await b.api.guest.setLink.mutate({ boardId: b.boardId, role: 'editor', allowChat: false });
    await b.api.chat.send.mutate({ boardId: b.boardId, text: 'members only 3' });
    const after = await b.api.board.push.mutate({ boardId: b.boardId, ops: [addOp(rect(4, 4))] });
    await until(() => opSeqs(guestWatch).includes(after.acks[0]!.seq) && chatTexts(ownerWatch).includes('members only 3'), 'later op delivered');
    await sleep(150);
    expect(chatTexts(guestWatch)).toEqual(['everyone']);
    expect(guestWatch.error).toBeNull();
  });

  it('a guest of a link with chat on gets the chat, as members do', async () => {
    const b = await boardWithLink(server.url, owner, 'viewer', 'Chatty board');
    const g = await joinGuest(server.url, b.code, 'Chatty');
    const guestWatch = watch(ws(server.url, { cookie: g.cookie }), b.boardId);
    await until(() => guestWatch.frames.length >= 1, 'subscribed');
    await b.api.chat.send.mutate({ boardId: b.boardId, text: 'hello guests' });
    await until(() => chatTexts(guestWatch).includes('hello guests'), 'chat reaches the guest');
  });
});

describe('guests: cut off', () => {
  let server: TestServer;
  let owner: SignedIn;
  beforeAll(async () => {
    server = await startServer();
    owner = await signUp(server.url, unique('owner-'), PASSWORD);
  });
  afterAll(async () => {
    await server.destroy();
  });

  const CASES: { name: string; act: (b: Awaited<ReturnType<typeof boardWithLink>>, g: Guest) => Promise<unknown> }[] = [
    { name: 'the owner turns the link off', act: (b) => b.api.guest.disable.mutate({ boardId: b.boardId }) },
    { name: 'the owner makes a new link', act: (b) => b.api.guest.regenerate.mutate({ boardId: b.boardId }) },
    { name: 'the owner removes the guest', act: (b, g) => b.api.guest.remove.mutate({ boardId: b.boardId, guestId: g.id }) },
    { name: 'the owner deletes the board', act: (b) => b.api.board.delete.mutate({ boardId: b.boardId }) },
  ];

  it.each(CASES)('$name: the guest subscription ends within a second, and every later call is refused', async ({ act }) => {
    const b = await boardWithLink(server.url, owner, 'editor');
    const g = await joinGuest(server.url, b.code, 'Gus');
    const client = ws(server.url, { cookie: g.cookie });
    const w = watch(client, b.boardId);
    await until(() => w.frames.length >= 1, 'guest subscribed');
    const api = httpClient(server.url, { cookie: g.cookie });
    await api.board.push.mutate({ boardId: b.boardId, ops: [addOp(rect())] });
    const started = Date.now();
    await act(b, g);
    await until(() => w.error !== null, 'guest cut off', 1_000);
    expect(w.error!.at - started).toBeLessThan(1_000);
    expect(w.error!.code).toBe('FORBIDDEN');
    // Over HTTP (a new request: the secret no longer names anybody, and the refusal says why) and over the open socket.
    const later = await outcome(() => api.board.push.mutate({ boardId: b.boardId, ops: [addOp(rect())] }));
    expect(later).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
    expect((later as { message: string }).message).toMatch(/guest access to this board ended/);
    const onSocket = await outcome(() => client.trpc.board.cursor.mutate({ boardId: b.boardId, x: 1, y: 1 }));
    expect(onSocket.ok).toBe(false);
  });

  it('after a new link, the old code joins nobody and the new one works', async () => {
    const b = await boardWithLink(server.url, owner, 'viewer');
    const fresh = await b.api.guest.regenerate.mutate({ boardId: b.boardId });
    expect((await rawCall(server.url, 'guest.join', { code: b.code, name: 'Late' })).body.error?.data?.code).toBe('NOT_FOUND');
    await joinGuest(server.url, fresh.code, 'Late');
    expect(await b.api.guest.list.query({ boardId: b.boardId })).toMatchObject([{ name: 'Late' }]);
  });
});

describe('guests: limits and claiming', () => {
  let server: TestServer;
  let owner: SignedIn;
  beforeAll(async () => {
    server = await startServer({ guests: { maxGuestsPerBoard: 3, joinsPerAddressPerMinute: 8, joinsPerMinute: 1_000 } });
    owner = await signUp(server.url, unique('owner-'), PASSWORD);
  });
  afterAll(async () => {
    await server.destroy();
  });

  it('guests per board: the fourth is refused until the owner removes one; guest creation per address is limited', async () => {
    const b = await boardWithLink(server.url, owner, 'viewer');
    const guests = [];
    for (const name of ['A', 'B', 'C']) guests.push(await joinGuest(server.url, b.code, name));
    const fourth = await rawCall(server.url, 'guest.join', { code: b.code, name: 'D' });
    expect(fourth.body.error?.data?.code).toBe('FORBIDDEN');
    expect(fourth.body.error?.message).toMatch(/3 guests/);
    await b.api.guest.remove.mutate({ boardId: b.boardId, guestId: guests[0]!.id });
    await joinGuest(server.url, b.code, 'D');
    expect((await b.api.guest.list.query({ boardId: b.boardId })).map((g) => g.name).sort()).toEqual(['B', 'C', 'D']);
    // 5 joins so far from this address (of 8 a minute): three more pass the rate (and hit the board limit), then the rate refuses.
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) codes.push((await rawCall(server.url, 'guest.join', { code: b.code, name: `E${i}` })).body.error?.data?.code);
    expect(codes).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'TOO_MANY_REQUESTS']);
  });

  it('joins racing at the guests-per-board limit: exactly the limit get in, over HTTP and the WebSocket at once', async () => {
    const racing = await startServer({ guests: { maxGuestsPerBoard: 3, joinsPerAddressPerMinute: 1_000, joinsPerMinute: 1_000 } });
    cleanups.push(() => racing.destroy());
    const owner2 = await signUp(racing.url, unique('owner-'), PASSWORD);
    const b = await boardWithLink(racing.url, owner2, 'editor');
    // 20 single joins, 2 HTTP batches of 20 (a batch's calls run concurrently) and 20 over a WebSocket, all at once.
    const sock = ws(racing.url, { allOverWebSocket: true });
    const batch = async (tag: string) => {
      const body = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [String(i), { code: b.code, name: `${tag}${i}` }]));
      const res = await fetch(`${racing.url}/trpc/${Array(20).fill('guest.join').join(',')}?batch=1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return ((await res.json()) as { error?: { data?: { code?: string } } }[]).map((r) => r.error?.data?.code ?? 'ok');
    };
    const results = (
      await Promise.all([
        ...Array.from({ length: 20 }, (_, i) => rawCall(racing.url, 'guest.join', { code: b.code, name: `H${i}` }).then((r) => [r.body.error?.data?.code ?? 'ok'])),
        batch('A'),
        batch('B'),
        ...Array.from({ length: 20 }, (_, i) => outcome(() => sock.trpc.guest.join.mutate({ code: b.code, name: `W${i}` })).then((r) => [r.ok ? 'ok' : r.code])),
      ])
    ).flat();
    expect(results).toHaveLength(80);
    expect(results.filter((r) => r === 'ok')).toHaveLength(3);
    expect(results.filter((r) => r !== 'ok').every((r) => r === 'FORBIDDEN')).toBe(true);
    expect(await b.api.guest.list.query({ boardId: b.boardId })).toHaveLength(3);
    // And 20 joins started together inside the server (their awaits interleave: each one's count
    // comes before the others' inserts): still none past the limit once one leaves room for one.
    const first = (await b.api.guest.list.query({ boardId: b.boardId }))[0]!;
    await b.api.guest.remove.mutate({ boardId: b.boardId, guestId: first.id });
    const inside = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => racing.app.guests.join(b.code, `I${i}`, '127.0.0.1')));
    expect(inside.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await b.api.guest.list.query({ boardId: b.boardId })).toHaveLength(3);
    expect((await b.api.guest.link.query({ boardId: b.boardId }))?.guests).toBe(3);
  });

  it('the clean-up forgets removed guests after a day and unseen guests after 30 days (they stop counting)', async () => {
    const limited = await startServer(); // the first test spent this address's joins on `server`
    cleanups.push(() => limited.destroy());
    const owner2 = await signUp(limited.url, unique('owner-'), PASSWORD);
    const b2 = await boardWithLink(limited.url, owner2, 'viewer');
    const [g1] = [await joinGuest(limited.url, b2.code, 'Gone'), await joinGuest(limited.url, b2.code, 'Stays')];
    await b2.api.guest.remove.mutate({ boardId: b2.boardId, guestId: g1!.id });
    const day = 86_400_000;
    expect(await limited.app.guests.prune(Date.now())).toBe(0);
    expect(await limited.app.guests.prune(Date.now() + 2 * day)).toBe(1);
    expect((await b2.api.guest.list.query({ boardId: b2.boardId })).map((g) => g.name)).toEqual(['Stays']);
    expect(await limited.app.guests.prune(Date.now() + 31 * day)).toBe(1);
    expect(await b2.api.guest.list.query({ boardId: b2.boardId })).toEqual([]);
  });

  it('a guest who signs up on the same device claims the board: member with the link role, guest identity ended, ops stay the guest\'s', async () => {
    const limited = await startServer(); // a server with default limits: the first test spent this address's joins
    cleanups.push(() => limited.destroy());
    const owner2 = await signUp(limited.url, unique('owner-'), PASSWORD);
    const b2 = await boardWithLink(limited.url, owner2, 'editor');
    const g = await joinGuest(limited.url, b2.code, 'Clara');
    const gApi = httpClient(limited.url, { cookie: g.cookie });
    await gApi.board.push.mutate({ boardId: b2.boardId, ops: [addOp(rect())] });
    const account = await signUp(limited.url, unique('clara-'), PASSWORD, 'Clara');
    const res = await rawCall(limited.url, 'guest.claim', undefined, { cookie: `${account.cookie}; ${g.cookie}` });
    expect(res.status).toBe(200);
    expect(res.body.result!.data).toMatchObject({ boardId: b2.boardId, role: 'editor', guestName: 'Clara' });
    expect(res.setCookie.join('\n')).toMatch(new RegExp(`${GUEST_COOKIE}=;`));
    const acct = httpClient(limited.url, { cookie: account.cookie });
    expect((await acct.board.list.query()).map((x) => x.id)).toContain(b2.boardId);
    expect(await outcome(() => gApi.board.byId.query({ boardId: b2.boardId }))).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
    // Claiming twice finds no guest.
    expect((await rawCall(limited.url, 'guest.claim', undefined, { cookie: `${account.cookie}; ${g.cookie}` })).body.error?.data?.code).toBe('NOT_FOUND');
  });
});

describe('guests: the read-only embed', () => {
  let server: TestServer;
  let owner: SignedIn;
  beforeAll(async () => {
    server = await startServer();
    owner = await signUp(server.url, unique('owner-'), PASSWORD);
  });
  afterAll(async () => {
    await server.destroy();
  });

  const headersOf = async (path: string) => {
    const res = await fetch(`${server.url}${path}`);
    await res.text();
    return { status: res.status, csp: res.headers.get('content-security-policy') ?? '', xfo: res.headers.get('x-frame-options') };
  };

  it('a view link embeds only on the origins the owner lists; everything else keeps framing refused', async () => {
    const b = await boardWithLink(server.url, owner, 'viewer', 'Embedded');
    // No origins listed: nobody may frame it.
    expect(await headersOf(`/embed/${b.code}`)).toMatchObject({ status: 200, csp: expect.stringContaining("frame-ancestors 'none'"), xfo: 'DENY' });
    await b.api.guest.setLink.mutate({ boardId: b.boardId, role: 'viewer', embedOrigins: ['https://school.example', 'http://localhost:8080/'] });
    const allowed = await headersOf(`/embed/${b.code}`);
    expect(allowed.status).toBe(200);
    expect(allowed.csp).toMatch(/frame-ancestors https:\/\/school\.example http:\/\/localhost:8080(;|$)/);
    expect(allowed.xfo).toBeNull();
    // The rest of the app, and the guest page of the same link, keep 'none'.
    for (const path of ['/', `/g/${b.code}`, '/healthz']) {
      const h = await headersOf(path);
      expect(h.csp).toContain("frame-ancestors 'none'");
      expect(h.xfo).toBe('DENY');
    }
    // The embed's data: title and elements, without any identity.
    const view = await httpClient(server.url).guest.embed.query({ code: b.code });
    expect(view).toMatchObject({ title: 'Embedded', elements: [{ id: b.elementId }] });
  });

  it('an edit link, an unknown code or a link turned off does not embed', async () => {
    const edit = await boardWithLink(server.url, owner, 'editor');
    await edit.api.guest.setLink.mutate({ boardId: edit.boardId, role: 'editor', embedOrigins: ['https://school.example'] });
    expect((await headersOf(`/embed/${edit.code}`)).status).toBe(404);
    expect(await outcome(() => httpClient(server.url).guest.embed.query({ code: edit.code }))).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect((await headersOf('/embed/abcdefghijklmnopqrst')).status).toBe(404);
    const view = await boardWithLink(server.url, owner, 'viewer');
    await view.api.guest.disable.mutate({ boardId: view.boardId });
    expect((await headersOf(`/embed/${view.code}`)).status).toBe(404);
  });

  it('embed origins must be origins', async () => {
    const b = await boardWithLink(server.url, owner, 'viewer');
    for (const bad of ['*', 'https://x.example/page', "'self'", 'javascript:alert(1)', 'https://a.example; script-src *']) {
      expect(await outcome(() => b.api.guest.setLink.mutate({ boardId: b.boardId, role: 'viewer', embedOrigins: [bad] }))).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    }
  });
});

describe('guests: logs', () => {
  it('no public link code or guest secret reaches the logs', async () => {
    const server = await startLoggedServer();
    try {
      const owner = await signUp(server.url, unique('owner-'), PASSWORD);
      const b = await boardWithLink(server.url, owner, 'viewer');
      const g = await joinGuest(server.url, b.code, 'Logged');
      const secret = secretOf(g);
      await fetch(`${server.url}/g/${b.code}`);
      await fetch(`${server.url}/embed/${b.code}`);
      await httpClient(server.url).guest.preview.query({ code: b.code });
      await httpClient(server.url, { token: secret }).board.byId.query({ boardId: b.boardId });
      await fetch(`${server.url}/trpc/board.byId?token=${secret}`);
      await httpClient(server.url, { token: `${secret}x` }).guest.me.query();
      await sleep(100);
      const text = server.logs.text();
      expect(text).toContain('guest joined');
      expect(text).not.toContain(b.code);
      expect(text).not.toContain(secret.slice(4));
    } finally {
      await server.destroy();
    }
  });
});
