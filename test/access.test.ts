import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { newId } from '@inkboard/protocol';
import type { TRPCClient } from '@trpc/client';
import type { AppRouter } from '../apps/server/src/trpc/routers/_app.js';
import { addOp, rect } from './helpers/elements.js';
import { httpClient, outcome, signIn, signUp, sleep, until, watch, wsClient, type Watch, type WsClient } from './helpers/auth.js';
import { sqliteOf, startServer, testUser, type TestServer } from './helpers/server.js';

const PASSWORD = 'correct horse battery staple';

type Caller = 'anonymous' | 'nonMember' | 'viewer' | 'editor' | 'owner' | 'revokedToken' | 'expiredSession';
const CALLERS: Caller[] = ['anonymous', 'nonMember', 'viewer', 'editor', 'owner', 'revokedToken', 'expiredSession'];
/** Callers that are not signed in: every procedure that needs a user answers UNAUTHORIZED. */
const SIGNED_OUT = new Set<Caller>(['anonymous', 'revokedToken', 'expiredSession']);
const RANK: Record<'nonMember' | 'viewer' | 'editor' | 'owner', number> = { nonMember: 0, viewer: 1, editor: 2, owner: 3 };

type Least = 'public' | 'authed' | 'viewer' | 'editor' | 'owner';
type Person = 'owner' | 'editor' | 'viewer' | 'outsider' | 'target';

interface Fixture {
  boardId: string;
  elementId: string;
  linkId: string;
  linkCode: string;
  /** A fresh API token id of each person (token.revoke revokes the caller's own). */
  tokenIds: Record<Person, string>;
}

interface Row {
  path: string;
  type: 'query' | 'mutation';
  least: Least;
  input: (fx: Fixture, who: Person) => unknown;
  /** Outcomes that differ from what `least` implies. */
  special?: Partial<Record<Caller, string>>;
  /** Extra checks of an allowed call's result. */
  check?: (value: unknown, fx: Fixture, caller: Caller) => void;
}

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function ws(url: string, opts: Parameters<typeof wsClient>[1]): WsClient {
  const c = wsClient(url, opts);
  cleanups.push(() => c.close());
  return c;
}

let n = 0;
const unique = (base: string) => `${base}${++n}`;

/** Who a caller is (revoked token and expired session were the owner's). */
const personOf = (caller: Caller): Person =>
  caller === 'nonMember' ? 'outsider' : caller === 'viewer' || caller === 'editor' ? caller : 'owner';

const ROWS: Row[] = [
  { path: 'auth.signUp', type: 'mutation', least: 'public', input: () => ({ username: unique('matrix-user-'), password: PASSWORD }) },
  { path: 'auth.signIn', type: 'mutation', least: 'public', input: () => ({ username: 'signin-target', password: 'password' }) },
  { path: 'auth.signOut', type: 'mutation', least: 'public', input: () => undefined },
  {
    path: 'auth.me',
    type: 'query',
    least: 'public',
    input: () => undefined,
    check: (value, _fx, caller) => {
      if (SIGNED_OUT.has(caller)) expect(value).toBeNull();
      else expect((value as { id: string }).id).toBe(people[personOf(caller)].id);
    },
  },
  { path: 'auth.updateProfile', type: 'mutation', least: 'authed', input: () => ({ color: '#2f9e44' }) },
  {
    path: 'board.list',
    type: 'query',
    least: 'authed',
    input: () => undefined,
    check: (value, fx, caller) => {
      const mine = (value as { id: string; role: string }[]).find((b) => b.id === fx.boardId);
      if (caller === 'nonMember') expect(mine).toBeUndefined();
      else expect(mine?.role).toBe(caller);
    },
  },
  {
    path: 'board.byId',
    type: 'query',
    least: 'viewer',
    input: (fx) => ({ boardId: fx.boardId }),
    check: (value, _fx, caller) => expect((value as { role: string }).role).toBe(caller),
  },
  { path: 'board.create', type: 'mutation', least: 'authed', input: () => ({ title: 'Made in the matrix' }) },
  { path: 'board.rename', type: 'mutation', least: 'owner', input: (fx) => ({ boardId: fx.boardId, title: 'Renamed' }) },
  { path: 'board.delete', type: 'mutation', least: 'owner', input: (fx) => ({ boardId: fx.boardId }) },
  { path: 'board.leave', type: 'mutation', least: 'viewer', input: (fx) => ({ boardId: fx.boardId }), special: { owner: 'BAD_REQUEST' } },
  {
    path: 'board.snapshot',
    type: 'query',
    least: 'viewer',
    input: (fx) => ({ boardId: fx.boardId }),
    check: (value, fx) => expect((value as { elements: { id: string }[] }).elements.map((e) => e.id)).toEqual([fx.elementId]),
  },
  { path: 'board.push', type: 'mutation', least: 'editor', input: (fx) => ({ boardId: fx.boardId, ops: [addOp(rect(5, 5))] }) },
  { path: 'board.cursor', type: 'mutation', least: 'viewer', input: (fx) => ({ boardId: fx.boardId, x: 10, y: 20 }) },
  { path: 'board.preview', type: 'mutation', least: 'editor', input: (fx) => ({ boardId: fx.boardId, elementId: newId(), done: true }) },
  { path: 'chat.send', type: 'mutation', least: 'viewer', input: (fx) => ({ boardId: fx.boardId, text: 'hello' }) },
  { path: 'chat.history', type: 'query', least: 'viewer', input: (fx) => ({ boardId: fx.boardId }) },
  { path: 'chat.typing', type: 'mutation', least: 'viewer', input: (fx) => ({ boardId: fx.boardId }) },
  {
    path: 'share.createLink',
    type: 'mutation',
    least: 'owner',
    input: (fx) => ({ boardId: fx.boardId, role: 'editor' }),
    check: (value) => expect((value as { code: string }).code.length).toBeGreaterThanOrEqual(20),
  },
  {
    path: 'share.links',
    type: 'query',
    least: 'owner',
    input: (fx) => ({ boardId: fx.boardId }),
    check: (value, fx) => {
      expect((value as { id: string }[]).map((l) => l.id)).toEqual([fx.linkId]);
      expect(JSON.stringify(value)).not.toContain(fx.linkCode);
    },
  },
  { path: 'share.revokeLink', type: 'mutation', least: 'owner', input: (fx) => ({ boardId: fx.boardId, linkId: fx.linkId }) },
  {
    path: 'share.accept',
    type: 'mutation',
    least: 'authed',
    input: (fx) => ({ code: fx.linkCode }),
    // The link is a viewer link: a member keeps a higher role.
    check: (value, fx, caller) => expect(value).toEqual({ boardId: fx.boardId, role: caller === 'nonMember' ? 'viewer' : caller }),
  },
  { path: 'share.members', type: 'query', least: 'viewer', input: (fx) => ({ boardId: fx.boardId }) },
  { path: 'share.setRole', type: 'mutation', least: 'owner', input: (fx) => ({ boardId: fx.boardId, userId: people.target.id, role: 'viewer' }) },
  { path: 'share.removeMember', type: 'mutation', least: 'owner', input: (fx) => ({ boardId: fx.boardId, userId: people.target.id }) },
  { path: 'share.removed', type: 'query', least: 'owner', input: (fx) => ({ boardId: fx.boardId }) },
  // The target is a member, not removed: the owner is told so.
  { path: 'share.readmit', type: 'mutation', least: 'owner', input: (fx) => ({ boardId: fx.boardId, userId: people.target.id, role: 'viewer' }), special: { owner: 'NOT_FOUND' } },
  // The matrix's signed-in callers use API tokens, and a token cannot mint tokens.
  { path: 'token.create', type: 'mutation', least: 'authed', input: () => ({ name: 'matrix' }), special: { nonMember: 'FORBIDDEN', viewer: 'FORBIDDEN', editor: 'FORBIDDEN', owner: 'FORBIDDEN' } },
  { path: 'token.list', type: 'query', least: 'authed', input: () => undefined },
  { path: 'token.revoke', type: 'mutation', least: 'authed', input: (fx, who) => ({ tokenId: fx.tokenIds[who] }) },
];

function expected(row: Pick<Row, 'least' | 'special'>, caller: Caller): string {
  const special = row.special?.[caller];
  if (special) return special;
  if (row.least === 'public') return 'ok';
  if (SIGNED_OUT.has(caller)) return 'UNAUTHORIZED';
  if (row.least === 'authed') return 'ok';
  return RANK[caller as keyof typeof RANK] >= RANK[row.least] ? 'ok' : 'FORBIDDEN';
}

let people: Record<Person, { id: string; token: string }>;

function callProcedure(client: TRPCClient<AppRouter>, row: Row, input: unknown): Promise<unknown> {
  const [ns, name] = row.path.split('.') as [string, string];
  const proc = (client as unknown as Record<string, Record<string, { query(i: unknown): Promise<unknown>; mutate(i: unknown): Promise<unknown> }>>)[ns]![name]!;
  return row.type === 'query' ? proc.query(input) : proc.mutate(input);
}

describe('authorization matrix', () => {
  let server: TestServer;
  let revokedToken: string;
  let expiredCookie: string;

  beforeAll(async () => {
    // Short sessions, so that one can expire; the other callers use API tokens. Every case makes a
    // board of the same owner: more than the 200 one person may own by default.
    server = await startServer({ sessionMaxMs: 1_000, budgets: { maxOwnedBoards: 100_000 } });
    people = Object.fromEntries((['owner', 'editor', 'viewer', 'outsider', 'target'] as Person[]).map((p) => [p, testUser(server.url, p)])) as typeof people;
    testUser(server.url, 'signin-target');
    const expiring = await signIn(server.url, 'owner', 'password');
    expiredCookie = expiring.cookie;
    const extra = await server.app.boards.auth.createToken(people.owner.id, 'to be revoked');
    revokedToken = extra.token;
    // Both work before they end.
    expect((await httpClient(server.url, { token: revokedToken }).auth.me.query())?.id).toBe(people.owner.id);
    expect((await httpClient(server.url, { cookie: expiredCookie }).auth.me.query())?.id).toBe(people.owner.id);
    await httpClient(server.url, { token: people.owner.token }).token.revoke.mutate({ tokenId: extra.id });
    await sleep(1_100);
  });
  afterAll(async () => {
    await server.destroy();
  });

  function authOf(caller: Caller): { token?: string; cookie?: string } {
    switch (caller) {
      case 'anonymous':
        return {};
      case 'revokedToken':
        return { token: revokedToken };
      case 'expiredSession':
        return { cookie: expiredCookie };
      default:
        return { token: people[personOf(caller)].token };
    }
  }

  /** A fresh board (owner, editor, viewer, a target member, one element, a viewer link) for each case. */
  async function fixture(withTokens = false): Promise<Fixture> {
    const { service, access, auth } = server.app.boards;
    // One transaction (one fsync) for the setup: the SQLite store runs each call synchronously.
    const sqlite = sqliteOf(server.app);
    sqlite.exec('BEGIN');
    const { id: boardId } = await service.createBoard('Matrix board', people.owner.id);
    await access.addMember(boardId, people.editor.id, 'editor');
    await access.addMember(boardId, people.viewer.id, 'viewer');
    await access.addMember(boardId, people.target.id, 'editor');
    const link = await access.createLink(boardId, 'viewer', people.owner.id);
    const tokenIds = {} as Record<Person, string>;
    for (const p of Object.keys(people) as Person[]) tokenIds[p] = withTokens ? (await auth.createToken(people[p].id, 'matrix fixture')).id : 'none';
    sqlite.exec('COMMIT');
    const el = rect();
    await service.push(boardId, { id: people.owner.id, name: 'owner' }, [addOp(el)]);
    return { boardId, elementId: el.id, linkId: link.id, linkCode: link.code, tokenIds };
  }

  /** Everything a refused call must leave as it was. */
  function state() {
    const db = sqliteOf(server.app);
    const all = (sql: string) => db.prepare(sql).all();
    return {
      users: all('select id, username, name, color from users order by id'),
      boards: all('select id, title, owner_id, seq, element_count from boards order by id'),
      members: all('select board_id, user_id, role from board_members order by board_id, user_id'),
      links: all('select id, board_id, role from share_links order by id'),
      chat: all('select id, board_id, user_id, text from chat_messages order by id'),
      elements: all('select board_id, id, data from elements order by board_id, id'),
      ops: all('select board_id, seq, op_id from ops order by board_id, seq'),
      tokens: all('select id, user_id, name from api_tokens order by id'),
      sessions: all('select id_hash, user_id from sessions order by id_hash'),
    };
  }

  const cases = ROWS.flatMap((row) => CALLERS.map((caller) => ({ row, caller, want: expected(row, caller) })));

  describe.each(['http', 'websocket'] as const)('over %s', (transport) => {
    it.each(cases)(`$row.path as $caller: $want`, async ({ row, caller, want }) => {
      const fx = await fixture(row.path === 'token.revoke');
      let client: TRPCClient<AppRouter>;
      if (transport === 'http') client = httpClient(server.url, authOf(caller));
      else client = ws(server.url, { ...authOf(caller), allOverWebSocket: true }).trpc;
      const before = want === 'ok' ? null : state();
      const publish = vi.spyOn(server.app.boards.hub, 'publish');
      cleanups.push(() => publish.mockRestore());

      const result = await outcome(() => callProcedure(client, row, row.input(fx, personOf(caller))));
      if (want === 'ok') {
        expect(result, JSON.stringify(result)).toMatchObject({ ok: true });
        if (result.ok) row.check?.(result.value, fx, caller);
      } else {
        expect(result).toMatchObject({ ok: false, code: want });
        expect((result as { message: string }).message.length).toBeGreaterThan(10);
        // A refused call changes nothing and tells nobody on the board anything.
        expect(state()).toEqual(before);
        expect(publish.mock.calls.filter(([boardId]) => boardId === fx.boardId)).toEqual([]);
      }
    });
  });

  describe('board.onEvents (subscription over WebSocket)', () => {
    it.each(CALLERS.map((caller) => ({ caller, want: expected({ least: 'viewer' }, caller) })))('as $caller: $want', async ({ caller, want }) => {
      const fx = await fixture();
      const client = ws(server.url, authOf(caller));
      const w = watch(client, fx.boardId);
      const owner = httpClient(server.url, { token: people.owner.token });
      if (want === 'ok') {
        await until(() => w.frames.length >= 1, 'first frame');
        const first = w.frames[0]!.frame;
        expect(first.events[0]).toMatchObject({ type: 'snapshot', elements: [{ id: fx.elementId }] });
        await owner.board.push.mutate({ boardId: fx.boardId, ops: [addOp(rect(1, 1))] });
        await until(() => w.frames.some((f) => f.frame.events.some((e) => e.type === 'op')), 'an op');
        expect(w.error).toBeNull();
      } else {
        await until(() => w.error !== null, 'refusal');
        expect(w.error!.code).toBe(want);
        // The board goes on; the refused caller gets none of it.
        await owner.board.push.mutate({ boardId: fx.boardId, ops: [addOp(rect(2, 2))] });
        await owner.board.cursor.mutate({ boardId: fx.boardId, x: 3, y: 4 });
        await owner.chat.typing.mutate({ boardId: fx.boardId });
        await sleep(200);
        expect(w.frames).toEqual([]);
        expect((await server.app.boards.hub.presence(fx.boardId))).toEqual([]);
      }
    });
  });
});

describe('sharing, members and boards', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.destroy();
  });

  async function ownerWithBoard(title = 'Shared board') {
    const owner = await signUp(server.url, unique('owner-'), PASSWORD);
    const api = httpClient(server.url, { cookie: owner.cookie });
    const board = await api.board.create.mutate({ title });
    return { owner, api, boardId: board.id };
  }

  it('owner creates editor and viewer links; a signed-in user accepting becomes a member with that role', async () => {
    const { owner, api, boardId } = await ownerWithBoard();
    const editorLink = await api.share.createLink.mutate({ boardId, role: 'editor' });
    const viewerLink = await api.share.createLink.mutate({ boardId, role: 'viewer' });
    expect(editorLink.code).not.toBe(viewerLink.code);
    expect(Buffer.from(editorLink.code, 'base64url').length).toBeGreaterThanOrEqual(16);

    const ed = await signUp(server.url, unique('ed-'), PASSWORD);
    const vi_ = await signUp(server.url, unique('vi-'), PASSWORD);
    const edApi = httpClient(server.url, { cookie: ed.cookie });
    const viApi = httpClient(server.url, { cookie: vi_.cookie });
    // Before accepting: no access.
    expect(await outcome(() => edApi.board.snapshot.query({ boardId }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(await edApi.share.accept.mutate({ code: editorLink.code })).toEqual({ boardId, role: 'editor' });
    expect(await viApi.share.accept.mutate({ code: viewerLink.code })).toEqual({ boardId, role: 'viewer' });
    // Accepting a lower link does not demote.
    expect(await edApi.share.accept.mutate({ code: viewerLink.code })).toEqual({ boardId, role: 'editor' });

    expect((await edApi.board.byId.query({ boardId })).role).toBe('editor');
    expect((await viApi.board.byId.query({ boardId })).role).toBe('viewer');
    await edApi.board.push.mutate({ boardId, ops: [addOp(rect())] });
    expect(await outcome(() => viApi.board.push.mutate({ boardId, ops: [addOp(rect())] }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    // Viewers may move their cursor and chat.
    await viApi.board.cursor.mutate({ boardId, x: 1, y: 1 });
    await viApi.chat.send.mutate({ boardId, text: 'viewer here' });

    const members = await viApi.share.members.query({ boardId });
    expect(members.map((m) => ({ userId: m.userId, role: m.role })).sort((a, b) => a.role.localeCompare(b.role))).toEqual(
      [
        { userId: ed.user.id, role: 'editor' },
        { userId: owner.user.id, role: 'owner' },
        { userId: vi_.user.id, role: 'viewer' },
      ],
    );
    expect(JSON.stringify(members)).not.toMatch(/password|scrypt/i);

    // The links list never shows codes.
    const links = await api.share.links.query({ boardId });
    expect(links.map((l) => l.role).sort()).toEqual(['editor', 'viewer']);
    expect(JSON.stringify(links)).not.toContain(editorLink.code);
    expect(JSON.stringify(links)).not.toContain(viewerLink.code);
  });

  it('a revoked link is NOT_FOUND; non-owners cannot create or revoke links; anonymous cannot accept', async () => {
    const { api, boardId } = await ownerWithBoard();
    const link = await api.share.createLink.mutate({ boardId, role: 'editor' });
    const ed = await signUp(server.url, unique('ed-'), PASSWORD);
    const edApi = httpClient(server.url, { cookie: ed.cookie });
    expect(await outcome(() => httpClient(server.url).share.accept.mutate({ code: link.code }))).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
    await edApi.share.accept.mutate({ code: link.code });
    for (const role of ['editor', 'viewer'] as const) {
      expect(await outcome(() => edApi.share.createLink.mutate({ boardId, role }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    }
    expect(await outcome(() => edApi.share.revokeLink.mutate({ boardId, linkId: link.id }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(await outcome(() => edApi.share.links.query({ boardId }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });

    await api.share.revokeLink.mutate({ boardId, linkId: link.id });
    const late = await signUp(server.url, unique('late-'), PASSWORD);
    const lateApi = httpClient(server.url, { cookie: late.cookie });
    const refused = await outcome(() => lateApi.share.accept.mutate({ code: link.code }));
    expect(refused).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(await outcome(() => lateApi.board.byId.query({ boardId }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    // A made-up code is NOT_FOUND too, and revoking twice is NOT_FOUND.
    expect(await outcome(() => lateApi.share.accept.mutate({ code: 'A'.repeat(24) }))).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(await outcome(() => api.share.revokeLink.mutate({ boardId, linkId: link.id }))).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    // An owner cannot revoke another board's link through their own board.
    const other = await ownerWithBoard('Other');
    const otherLink = await other.api.share.createLink.mutate({ boardId: other.boardId, role: 'viewer' });
    expect(await outcome(() => api.share.revokeLink.mutate({ boardId, linkId: otherLink.id }))).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(await lateApi.share.accept.mutate({ code: otherLink.code })).toEqual({ boardId: other.boardId, role: 'viewer' });
  });

  it('setRole downgrade makes the next push FORBIDDEN; the demoted editor keeps watching', async () => {
    const { api, boardId } = await ownerWithBoard();
    const link = await api.share.createLink.mutate({ boardId, role: 'editor' });
    const ed = await signUp(server.url, unique('ed-'), PASSWORD);
    const edApi = httpClient(server.url, { cookie: ed.cookie });
    await edApi.share.accept.mutate({ code: link.code });
    const w = watch(ws(server.url, { cookie: ed.cookie, origin: server.url }), boardId);
    await until(() => w.frames.length >= 1, 'editor live');
    await edApi.board.push.mutate({ boardId, ops: [addOp(rect())] });

    expect(await outcome(() => edApi.share.setRole.mutate({ boardId, userId: ed.user.id, role: 'viewer' }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    await api.share.setRole.mutate({ boardId, userId: ed.user.id, role: 'viewer' });
    expect(await outcome(() => edApi.board.push.mutate({ boardId, ops: [addOp(rect())] }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(await outcome(() => edApi.board.preview.mutate({ boardId, elementId: newId(), done: true }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect((await edApi.board.byId.query({ boardId })).role).toBe('viewer');
    expect(server.app.boards.service.knownSeq(boardId)).toBe(1);
    // Still watching.
    await api.board.push.mutate({ boardId, ops: [addOp(rect(9, 9))] });
    await until(() => w.frames.some((f) => f.frame.events.some((e) => e.type === 'op' && e.seq === 2)), 'demoted editor sees the owner op');
    expect(w.error).toBeNull();
    // The owner's own role cannot be changed; nor can a non-member's.
    const ownerId = (await api.auth.me.query())!.id;
    expect(await outcome(() => api.share.setRole.mutate({ boardId, userId: ownerId, role: 'viewer' }))).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(await outcome(() => api.share.setRole.mutate({ boardId, userId: 'nobody', role: 'editor' }))).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    // Promoted again, the push goes through.
    await api.share.setRole.mutate({ boardId, userId: ed.user.id, role: 'editor' });
    await edApi.board.push.mutate({ boardId, ops: [addOp(rect())] });
  });

  it("removeMember ends the removed user's live subscription within 1 s (FORBIDDEN); nothing is delivered after", async () => {
    const { api, boardId } = await ownerWithBoard();
    const link = await api.share.createLink.mutate({ boardId, role: 'editor' });
    const ed = await signUp(server.url, unique('ed-'), PASSWORD);
    const stay = await signUp(server.url, unique('stay-'), PASSWORD);
    const edApi = httpClient(server.url, { cookie: ed.cookie });
    await edApi.share.accept.mutate({ code: link.code });
    await httpClient(server.url, { cookie: stay.cookie }).share.accept.mutate({ code: link.code });
    // The removed user has two live subscriptions (two tabs); another member stays.
    const tabs = [watch(ws(server.url, { cookie: ed.cookie, origin: server.url }), boardId), watch(ws(server.url, { cookie: ed.cookie }), boardId)];
    const other = watch(ws(server.url, { cookie: stay.cookie, origin: server.url }), boardId);
    await until(() => [...tabs, other].every((w) => w.frames.length >= 1), 'all live');
    await edApi.chat.send.mutate({ boardId, text: 'before' });
    await until(() => tabs.every((w) => w.frames.some((f) => f.frame.events.some((e) => e.type === 'chat'))), 'chat before removal');

    const removedAt = Date.now();
    await api.share.removeMember.mutate({ boardId, userId: ed.user.id });
    await until(() => tabs.every((w) => w.error !== null), 'subscriptions ended', 1_000);
    for (const w of tabs) {
      expect(w.error!.code).toBe('FORBIDDEN');
      expect(w.error!.at - removedAt).toBeLessThanOrEqual(1_000);
    }
    for (let i = 0; i < 3; i++) {
      await api.board.push.mutate({ boardId, ops: [addOp(rect(i * 10))] });
      await api.chat.send.mutate({ boardId, text: `after ${i}` });
    }
    await until(() => other.frames.flatMap((f) => f.frame.events).filter((e) => e.type === 'chat').length >= 4, 'remaining member sees everything');
    await sleep(200);
    for (const w of tabs) {
      expect(w.frames.filter((f) => f.at >= w.error!.at)).toEqual([]);
      const texts = w.frames.flatMap((f) => f.frame.events).flatMap((e) => (e.type === 'chat' ? [e.message.text] : []));
      expect(texts).toEqual(['before']);
    }
    expect(other.error).toBeNull();
    // The removed user has no access any more, and the board is gone from their list.
    expect(await outcome(() => edApi.board.push.mutate({ boardId, ops: [addOp(rect())] }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(await outcome(() => edApi.board.snapshot.query({ boardId }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect((await edApi.board.list.query()).map((b) => b.id)).not.toContain(boardId);
    const again = watch(ws(server.url, { cookie: ed.cookie }), boardId);
    await until(() => again.error !== null, 'resubscribe refused');
    expect(again.error!.code).toBe('FORBIDDEN');
    expect(again.frames).toEqual([]);
    // Their presence is gone too.
    await until(async () => (await server.app.boards.hub.presence(boardId)).every((p) => p.user.id !== ed.user.id), 'presence cleared');
  });

  it('board.list shows owned and shared boards with role, element count and an SVG thumbnail', async () => {
    const a = await ownerWithBoard('Alpha');
    const beta = await a.api.board.create.mutate({ title: 'Beta' });
    const b = await ownerWithBoard("Bob's board");
    const link = await b.api.share.createLink.mutate({ boardId: b.boardId, role: 'viewer' });
    await a.api.share.accept.mutate({ code: link.code });
    const els = [rect(0, 0), rect(100, 50), rect(200, 100)];
    await b.api.board.push.mutate({ boardId: b.boardId, ops: [addOp(els[0]!, els[1]!), addOp(els[2]!)] });
    const alphaEl = rect(7, 7);
    await a.api.board.push.mutate({ boardId: a.boardId, ops: [addOp(alphaEl)] });

    const list = await a.api.board.list.query();
    const byId = new Map(list.map((x) => [x.id, x]));
    expect([...byId.keys()].sort()).toEqual([a.boardId, beta.id, b.boardId].sort());
    expect(byId.get(a.boardId)).toMatchObject({ title: 'Alpha', role: 'owner', elementCount: 1 });
    expect(byId.get(beta.id)).toMatchObject({ title: 'Beta', role: 'owner', elementCount: 0 });
    expect(byId.get(b.boardId)).toMatchObject({ title: "Bob's board", role: 'viewer', elementCount: 3 });
    for (const x of list) {
      expect(x.thumbnail).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>[\s\S]*<\/svg>$/);
      expect(x.thumbnail).not.toMatch(/<script|on\w+=/i);
    }
    for (const el of els) expect(byId.get(b.boardId)!.thumbnail).toContain(`data-id="${el.id}"`);
    expect(byId.get(a.boardId)!.thumbnail).toContain(`data-id="${alphaEl.id}"`);
    expect(byId.get(a.boardId)!.thumbnail).not.toContain(els[0]!.id);
    // Bob sees only his board.
    expect((await b.api.board.list.query()).map((x) => x.id)).toEqual([b.boardId]);
  });

  it('rename and delete are for the owner only', async () => {
    const { api, boardId } = await ownerWithBoard('Original');
    const link = await api.share.createLink.mutate({ boardId, role: 'editor' });
    const ed = await signUp(server.url, unique('ed-'), PASSWORD);
    const edApi = httpClient(server.url, { cookie: ed.cookie });
    await edApi.share.accept.mutate({ code: link.code });
    expect(await outcome(() => edApi.board.rename.mutate({ boardId, title: 'Hijacked' }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(await outcome(() => edApi.board.delete.mutate({ boardId }))).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect((await edApi.board.byId.query({ boardId })).title).toBe('Original');
    await api.board.rename.mutate({ boardId, title: 'Renamed' });
    expect((await edApi.board.list.query()).find((b) => b.id === boardId)?.title).toBe('Renamed');
    await api.board.delete.mutate({ boardId });
    expect(await outcome(() => api.board.byId.query({ boardId }))).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect((await edApi.board.list.query()).map((b) => b.id)).not.toContain(boardId);
  });

  it('deleting a board ends its subscribers and clears their presence', async () => {
    const { owner, api, boardId } = await ownerWithBoard('Doomed');
    const link = await api.share.createLink.mutate({ boardId, role: 'editor' });
    const ed = await signUp(server.url, unique('ed-'), PASSWORD);
    await httpClient(server.url, { cookie: ed.cookie }).share.accept.mutate({ code: link.code });
    const watchers: Watch[] = [
      watch(ws(server.url, { cookie: owner.cookie, origin: server.url }), boardId),
      watch(ws(server.url, { cookie: ed.cookie, origin: server.url }), boardId),
    ];
    await until(() => watchers.every((w) => w.frames.length >= 1), 'live');
    await until(async () => (await server.app.boards.hub.presence(boardId)).length === 2, 'both present');
    const deletedAt = Date.now();
    await api.board.delete.mutate({ boardId });
    // Frames already in flight when the delete was sent may still land; none may after its answer.
    const answeredAt = Date.now();
    await until(() => watchers.every((w) => w.error !== null), 'subscribers ended', 1_000);
    for (const w of watchers) {
      expect(['FORBIDDEN', 'NOT_FOUND']).toContain(w.error!.code);
      expect(w.error!.at - deletedAt).toBeLessThanOrEqual(1_000);
    }
    await sleep(200);
    for (const w of watchers) expect(w.frames.filter((f) => f.at > answeredAt)).toEqual([]);
    expect((await server.app.boards.hub.presence(boardId))).toEqual([]);
    expect(server.app.boards.hub.subscriberCount(boardId)).toBe(0);
  });
});

describe('Origin check on WebSocket upgrades', () => {
  let server: TestServer;
  let member: Awaited<ReturnType<typeof signUp>>;
  let token: string;
  let boardId: string;
  beforeAll(async () => {
    server = await startServer({ allowedOrigins: ['https://app.example'] });
    member = await signUp(server.url, 'origin-member', PASSWORD);
    const api = httpClient(server.url, { cookie: member.cookie });
    boardId = (await api.board.create.mutate({ title: 'Origins' })).id;
    token = (await api.token.create.mutate({ name: 'origin' })).token;
  });
  afterAll(async () => {
    await server.destroy();
  });

  type Cred = 'cookie' | 'token' | 'none';
  type Org = 'own' | 'foreign' | 'none';
  const originOf = (o: Org) => (o === 'own' ? server.url : o === 'foreign' ? 'https://evil.example' : undefined);
  const credOf = (c: Cred) => (c === 'cookie' ? { cookie: member.cookie } : c === 'token' ? { token } : {});
  const want = (c: Cred, o: Org) => (c === 'cookie' && o === 'foreign' ? 'refused (403)' : c === 'none' ? 'connects, UNAUTHORIZED' : 'connects, live');
  const matrix = (['cookie', 'token', 'none'] as Cred[]).flatMap((cred) => (['own', 'foreign', 'none'] as Org[]).map((origin) => ({ cred, origin, want: want(cred, origin) })));

  it.each(matrix)('$cred credential, $origin origin: $want', async ({ cred, origin, want: expectation }) => {
    const o = originOf(origin);
    // The handshake itself, seen from a raw socket.
    const status = await upgradeStatus(`${server.url.replace('http', 'ws')}/trpc`, {
      ...(cred === 'cookie' ? { cookie: member.cookie } : {}),
      ...(o ? { origin: o } : {}),
    });
    // And the real client.
    const client = ws(server.url, { ...credOf(cred), ...(o ? { origin: o } : {}) });
    const states: string[] = [];
    const stateSub = client.ws.connectionState.subscribe({ next: (s) => states.push(s.state) });
    cleanups.push(() => stateSub.unsubscribe());
    const w = watch(client, boardId);
    if (expectation === 'refused (403)') {
      expect(status).toBe(403);
      await until(() => client.sockets.length >= 1 && client.sockets[0]!.errors.length >= 1, 'handshake refused');
      expect(client.sockets[0]!.errors[0]).toMatch(/403/);
      // The client is stuck connecting (with the error) and never gets to a live connection.
      await until(() => client.ws.connectionState.get().error !== null, 'connection error reported');
      expect(client.ws.connectionState.get().state).toBe('connecting');
      // Events happen on the board; the refused client never gets one (it would retry forever).
      await httpClient(server.url, { token }).board.push.mutate({ boardId, ops: [addOp(rect())] });
      await sleep(500);
      expect(client.sockets.every((s) => s.openedAt === null)).toBe(true);
      expect(w.frames).toEqual([]);
      expect(w.started).toBe(false);
      expect(states).not.toContain('pending');
      await client.close();
    } else {
      expect(status).toBe(101);
      await until(() => client.ws.connectionState.get().state === 'pending', 'connection open');
      if (expectation === 'connects, live') {
        await until(() => w.frames.length >= 1, 'first frame');
        expect(w.frames[0]!.frame.events[0]).toMatchObject({ type: 'snapshot' });
        expect(w.error).toBeNull();
      } else {
        await until(() => w.error !== null, 'refusal');
        expect(w.error!.code).toBe('UNAUTHORIZED');
        expect(client.sockets[0]!.openedAt).not.toBeNull();
        expect(w.frames).toEqual([]);
      }
    }
  });

  it('a configured allowed origin may open a cookie connection; a look-alike may not', async () => {
    expect(await upgradeStatus(`${server.url.replace('http', 'ws')}/trpc`, { cookie: member.cookie, origin: 'https://app.example' })).toBe(101);
    for (const origin of ['https://app.example.evil.example', 'http://app.example', 'null', `${server.url}.evil.example`, server.url.replace('127.0.0.1', 'localhost')]) {
      expect(await upgradeStatus(`${server.url.replace('http', 'ws')}/trpc`, { cookie: member.cookie, origin }), origin).toBe(403);
    }
    // A cookie plus a token from a foreign page is still refused: the browser sent the cookie.
    const client = ws(server.url, { cookie: member.cookie, origin: 'https://evil.example', token });
    const w = watch(client, boardId);
    await until(() => (client.sockets[0]?.errors.length ?? 0) >= 1, 'refused');
    expect(w.frames).toEqual([]);
  });
});

/** The HTTP status of a WebSocket handshake with these headers (101 when upgraded). */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = new WebSocket(url, { headers });
    const timer = setTimeout(() => {
      sock.terminate();
      reject(new Error('handshake timed out'));
    }, 5_000);
    sock.once('upgrade', (res) => {
      clearTimeout(timer);
      resolve(res.statusCode ?? 0);
      sock.terminate();
    });
    sock.once('unexpected-response', (req, res) => {
      clearTimeout(timer);
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    sock.once('error', () => {});
  });
}
