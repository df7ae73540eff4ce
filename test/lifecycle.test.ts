import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { Op } from '@inkboard/protocol';
import { BoardSession, createInkboardClient } from '../packages/client/src/index.js';
import { signInForToken } from '../packages/client/src/cli/login.js';
import { addOp, stroke } from './helpers/elements.js';
import { serverProcess, type ServerProcess } from './helpers/process.js';
import { startServer, testUser, waitFor, type TestServer } from './helpers/server.js';

let proc: ServerProcess | null = null;
let server: TestServer | null = null;
afterEach(async () => {
  await proc?.stop();
  await server?.destroy();
  proc = null;
  server = null;
});

describe('connection lifecycle', () => {
  it('SIGTERM: in-flight writes finish, clients are told to reconnect, the database closes cleanly, clients resume', async () => {
    proc = await serverProcess();
    const { token } = await signInForToken(proc.url, 'term', 'password-term', true, 'lifecycle');
    const client = createInkboardClient({ url: proc.url, token, WebSocket: WebSocket as never, allOverWebSocket: true });
    const { id: boardId } = await client.trpc.board.create.mutate({ title: 'term' });
    const session = new BoardSession(client, boardId).start();
    await waitFor(() => session.status === 'live', 'live');
    const acked: string[] = [];
    const ops: Op[] = Array.from({ length: 40 }, () => addOp(stroke(40)));
    const pending = ops.map((op) => session.apply(op).then(() => acked.push(op.opId)));
    await new Promise((r) => setTimeout(r, 5));
    const code = await proc.stop(); // SIGTERM while ops are in flight
    expect(code).toBe(0);
    // Cleanly closed: no WAL left to replay, and the file is consistent.
    const db = new Database(proc.dbPath, { readonly: true });
    const stored = new Set((db.prepare('select op_id from ops').all() as { op_id: string }[]).map((r) => r.op_id));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const ackedAtStop = acked.length;
    for (const opId of acked) expect(stored.has(opId)).toBe(true);
    // Back up: the session re-sends what was not acknowledged and resumes.
    await proc.start();
    await Promise.all(pending);
    await session.settled(20_000);
    await waitFor(() => session.seq === 40, 'resumed to seq 40', 20_000);
    const after = await client.trpc.board.snapshot.query({ boardId });
    expect(after.elements).toHaveLength(40);
    console.log(`sigterm: exit 0, ${ackedAtStop} of 40 ops acknowledged before the stop and all of them on disk; after the restart all 40 applied once (seq ${after.seq})`);
    session.close();
    await client.close();
  }, 60_000);

  it('a connection that stops answering pings is closed by the server within about 10 s', async () => {
    server = await startServer();
    const { token } = testUser(server.url, 'silent');
    // A raw socket that never answers tRPC's application-level "PING".
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/trpc?connectionParams=1`);
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
    const started = Date.now();
    const closed = await new Promise<number>((r) => ws.once('close', () => r(Date.now() - started)));
    console.log(`keep-alive: silent connection closed after ${(closed / 1000).toFixed(1)} s`);
    expect(closed).toBeLessThan(12_000);
    expect(closed).toBeGreaterThan(4_000);
  }, 30_000);

  it('/healthz answers when the database does, /metrics speaks Prometheus', async () => {
    server = await startServer();
    expect((await server.app.inject('/healthz')).json()).toEqual({ ok: true });
    const metrics = await server.app.inject('/metrics');
    expect(metrics.headers['content-type']).toMatch(/text\/plain/);
    for (const name of ['inkboard_ws_connections', 'inkboard_open_boards', 'inkboard_ops_total', 'inkboard_fanout_delay_seconds_bucket', 'nodejs_eventloop_lag_seconds']) {
      expect(metrics.body).toContain(name);
    }
  });

  it('on one CPU the server advises --single-threaded-gc, and says nothing once it has it', async () => {
    const advice = /one CPU: start it with `node --single-threaded-gc/;
    // The advice is logged before listening, so it is on stdout before the line saying where it runs.
    const started = () => /Inkboard is running at/.test(proc!.stdout());
    proc = await serverProcess({}, { cpus: '0' });
    await waitFor(started, 'the start line', 5_000);
    expect(proc.stdout()).toMatch(advice);
    await proc.stop();
    proc = await serverProcess({}, { cpus: '0', nodeArgs: ['--single-threaded-gc'] });
    await waitFor(started, 'the start line', 5_000);
    expect(proc.stdout()).not.toMatch(advice);
  });
});
