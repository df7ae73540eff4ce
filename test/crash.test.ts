import { isDeepStrictEqual } from 'node:util';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { newId, zAbove, type Element, type Op } from '@inkboard/protocol';
import { BoardSession, createInkboardClient } from '../packages/client/src/index.js';
import { signInForToken } from '../packages/client/src/cli/login.js';
import { serverProcess, type ServerProcess } from './helpers/process.js';
import { mulberry32 } from './helpers/fuzz.js';
import { waitFor } from './helpers/server.js';

const KILLS = Number(process.env.INKBOARD_CRASH_KILLS ?? 6);
const CLIENTS = 20;

let server: ServerProcess | null = null;
afterAll(async () => {
  await server?.stop();
});

describe('crash safety', () => {
  it(`kill -9 while ${CLIENTS} clients draw: every acknowledged stroke survives, complete and once`, async () => {
    const seed = Number(process.env.INKBOARD_CRASH_SEED ?? Date.now() % 100_000);
    const random = mulberry32(seed);
    server = await serverProcess();
    const url = server.url;
    const owner = await signInForToken(url, 'owner', 'password-owner', true, 'crash test');
    const guest = await signInForToken(url, 'guest', 'password-guest', true, 'crash test');
    const ownerClient = createInkboardClient({ url, token: owner.token, WebSocket: WebSocket as never });
    const { id: boardId } = await ownerClient.trpc.board.create.mutate({ title: 'crash' });
    const { code } = await ownerClient.trpc.share.createLink.mutate({ boardId, role: 'editor' });
    const guestClient = createInkboardClient({ url, token: guest.token, WebSocket: WebSocket as never });
    await guestClient.trpc.share.accept.mutate({ code });
    await ownerClient.close();
    await guestClient.close();

    const acked = new Map<string, Element>(); // opId -> the stroke it added
    const sessions = Array.from({ length: CLIENTS }, (_, i) => {
      const client = createInkboardClient({ url, token: i % 2 ? guest.token : owner.token, WebSocket: WebSocket as never, allOverWebSocket: true });
      return { client, session: new BoardSession(client, boardId).start() };
    });
    let drawing = true;
    const drawers = sessions.map(async ({ session }, i) => {
      let n = 0;
      while (drawing) {
        const points = Array.from({ length: 20 + Math.floor(random() * 100) }, (_, k) => [k, Math.round(random() * 50), 0.5] as [number, number, number]);
        const el: Element = { type: 'stroke', id: newId(), x: i * 100, y: n++, z: zAbove(null), points, strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
        const op: Op = { type: 'add', opId: newId(), elements: [el] };
        // apply() resolves only once the op is on disk (acknowledged or confirmed by a frame).
        const done = session.apply(op).then(() => acked.set(op.opId, el));
        if (random() < 0.7) await done.catch(() => undefined);
        await new Promise((r) => setTimeout(r, random() * 30));
      }
    });

    let kills = 0;
    for (let k = 0; k < KILLS; k++) {
      await new Promise((r) => setTimeout(r, 300 + random() * 700));
      await server.kill9();
      kills++;
      await server.start();
    }
    await new Promise((r) => setTimeout(r, 500));
    drawing = false;
    await Promise.all(drawers);
    await Promise.all(sessions.map(({ session }) => session.settled(30_000)));

    // Check the file itself after a clean stop.
    expect(await server.stop()).toBe(0);
    const db = new Database(server.dbPath, { readonly: true });
    try {
      const integrity = db.pragma('integrity_check', { simple: true });
      const rows = db.prepare('select id, data from elements where board_id = ?').all(boardId) as { id: string; data: string }[];
      const stored = new Map(rows.map((r) => [r.id, JSON.parse(r.data) as Element]));
      const opRows = db.prepare('select op_id, count(*) as n from ops where board_id = ? group by op_id').all(boardId) as { op_id: string; n: number }[];
      let lost = 0;
      let incomplete = 0;
      for (const el of acked.values()) {
        const got = stored.get(el.id);
        if (!got) lost++;
        else if (!isDeepStrictEqual(got, el)) incomplete++;
      }
      const dup = opRows.filter((r) => r.n > 1).length + (rows.length - new Set(rows.map((r) => r.id)).size);
      const summary = `crash: seed=${seed} kills=${kills} acknowledged=${acked.size} stored=${stored.size} lost=${lost} incomplete=${incomplete} dup=${dup} integrity=${integrity}`;
      console.log(summary);
      expect(integrity, summary).toBe('ok');
      expect(lost, summary).toBe(0);
      expect(incomplete, summary).toBe(0);
      expect(dup, summary).toBe(0);
      expect(acked.size, summary).toBeGreaterThan(CLIENTS * 2);
      // Every op applied is in the log once, and the board holds exactly the strokes of those ops.
      expect(stored.size, summary).toBe(opRows.length);
    } finally {
      db.close();
      for (const { session, client } of sessions) {
        session.close();
        await client.close();
      }
    }
  }, 180_000);
});
