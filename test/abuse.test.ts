import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { addOp, rect } from './helpers/elements.js';
import { connect, openSession, startServer, testUser, waitFor, type TestServer } from './helpers/server.js';

let server: TestServer;
afterEach(async () => {
  await server.destroy();
});

/** A raw tRPC WebSocket speaking the wire protocol directly, so any bytes can be sent. */
async function rawSocket(token: string) {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/trpc?connectionParams=1`);
  const replies = new Map<number | null, unknown[]>();
  ws.on('message', (data) => {
    const text = data.toString();
    if (text === 'PONG' || text === 'PING') return;
    const msg = JSON.parse(text) as { id: number | null };
    replies.set(msg.id, [...(replies.get(msg.id) ?? []), msg]);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
  return { ws, replies };
}

describe('hostile input', () => {
  it('random and malformed messages: no crash, each refused with a clear error, board unchanged', async () => {
    server = await startServer();
    const owner = connect(server.url, 'owner');
    const { id: boardId } = await owner.trpc.board.create.mutate({ title: 'fuzz' });
    await owner.trpc.board.push.mutate({ boardId, ops: [addOp(rect())] });
    const seqBefore = server.app.boards.service.knownSeq(boardId);
    const { ws, replies } = await rawSocket(testUser(server.url, 'owner').token);

    const nasty = fc.oneof(
      fc.jsonValue(),
      fc.record({ type: fc.constantFrom('add', 'update', 'delete', 'clear', 'explode'), opId: fc.string(), elements: fc.array(fc.anything()), ids: fc.anything(), updates: fc.anything() }),
      fc.record({
        type: fc.constant('add'),
        opId: fc.constant('x1'),
        elements: fc.array(
          fc.record({
            type: fc.constantFrom('rectangle', 'stroke', 'text'),
            id: fc.oneof(fc.string(), fc.constant('__proto__')),
            x: fc.oneof(fc.double(), fc.constant(Number.NaN), fc.constant(1e308), fc.constant(-Infinity)),
            y: fc.double(),
            z: fc.string(),
            points: fc.array(fc.array(fc.double())),
            width: fc.double(),
          }),
        ),
      }),
    );
    let id = 1;
    const sent: number[] = [];
    await fc.assert(
      fc.asyncProperty(nasty, async (op) => {
        const n = id++;
        sent.push(n);
        const body = JSON.stringify({ id: n, method: 'mutation', params: { path: 'board.push', input: { boardId, ops: [op] } } })
          // Smuggle a __proto__ key past JSON.stringify.
          .replace('"input":{', '"input":{"__proto__":{"polluted":1},');
        ws.send(body);
      }),
      { numRuns: 300, seed: 4242 },
    );
    // Bytes that are not JSON, JSON that is not a request, a huge number, an unknown path.
    for (const junk of ['not json', '{"id":', '[]', '42', '{"id":9999,"method":"mutation","params":{"path":"nope","input":{}}}', `{"id":9998,"method":"query","params":{"path":"board.snapshot","input":{"boardId":"${'x'.repeat(10_000)}"}}}`]) {
      ws.send(junk);
    }
    await waitFor(() => sent.every((n) => replies.has(n)) && replies.has(9999) && replies.has(9998), 'a reply to every request', 20_000);
    const errors = sent.map((n) => (replies.get(n)![0] as { error?: { message: string; data: { code: string } } }).error);
    expect(errors.every((e) => e !== undefined), 'every fuzzed push was refused').toBe(true);
    for (const e of errors) {
      expect(['BAD_REQUEST']).toContain(e!.data.code);
      expect(e!.message.length).toBeGreaterThan(10);
      expect(e!.message).not.toMatch(/at .*\.js:\d+/);
    }
    expect(({}) as Record<string, unknown>).not.toHaveProperty('polluted');
    // An oversized frame closes that socket (1009), nothing else.
    const big = await rawSocket(testUser(server.url, 'owner').token);
    const closed = new Promise<number>((r) => big.ws.once('close', (code) => r(code)));
    big.ws.send('x'.repeat(600 * 1024));
    expect(await closed).toBe(1009);
    expect(server.app.boards.service.knownSeq(boardId)).toBe(seqBefore);
    expect((await server.app.inject('/healthz')).statusCode).toBe(200);
    // The first socket still works.
    ws.send(JSON.stringify({ id: 1_000_000, method: 'query', params: { path: 'board.snapshot', input: { boardId } } }));
    await waitFor(() => replies.has(1_000_000), 'valid request after the fuzz');
    ws.close();
    await owner.close();
    console.log(`fuzz: ${sent.length} random pushes + 6 junk messages + 1 oversized frame: 0 crashes, all refused, seq unchanged (${seqBefore})`);
  }, 60_000);

  it('a flood from one user is throttled while another user keeps their latency', async () => {
    server = await startServer();
    const owner = connect(server.url, 'owner');
    const { id: boardId } = await owner.trpc.board.create.mutate({ title: 'flood' });
    const calm = openSession(server.url, boardId, 'calm');
    const watcher = openSession(server.url, boardId, 'watcher');
    await waitFor(() => calm.session.status === 'live' && watcher.session.status === 'live', 'sessions live');
    const sample = async (n: number) => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        const seq = await calm.session.apply(addOp(rect(i, 0)));
        await waitFor(() => watcher.session.seq >= seq, 'watcher saw op');
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      return times[Math.floor(n / 2)]!;
    };
    await sample(10); // warm up
    const normal = await sample(40);
    const flooder = testUser(server.url, 'flooder');
    await server.app.boards.access.addMember(boardId, flooder.id, 'editor');
    // The flooder is its own process, as it would be on another machine.
    const child = spawn(process.execPath, [resolve(import.meta.dirname, 'helpers/flooder.mjs'), `${server.url.replace('http', 'ws')}/trpc`, flooder.token, boardId, '4'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise((r) => child.once('exit', r));
    await new Promise((r) => setTimeout(r, 700));
    const during = await sample(40);
    await exited;
    const { sent, ok: accepted, errors: refused, closes } = JSON.parse(out) as { sent: number; ok: number; errors: number; closes: number };
    console.log(`flood: cursor calls sent=${sent} accepted=${accepted} refused=${refused} flooding sockets closed=${closes}; calm user's median op latency normal=${normal.toFixed(1)} ms during=${during.toFixed(1)} ms`);
    // At most the bucket's burst plus its rate got through; the rest was refused or cut off.
    expect(accepted).toBeLessThan(sent / 5);
    // The flood's cost on the shared CPU is bounded: within 10% (+2 ms of timer noise) of normal.
    expect(during).toBeLessThanOrEqual(normal * 1.1 + 2);
    expect(closes).toBeGreaterThan(0);
    await Promise.all([calm.close(), watcher.close(), owner.close()]);
  }, 60_000);
});
