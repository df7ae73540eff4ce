/**
 * Server CPU per request, by kind: one client sends a fixed rate of one kind of request for a few
 * seconds (with S subscribers on the board) and the server's CPU time is read from /proc. Then, in
 * this process, the cost of the board lookup that every board procedure does (`BoardStore.getBoard`)
 * against the same lookup as a prepared statement.
 *   node --import tsx bench/request-cost.ts [--server PATH] [--rate 1000] [--seconds 5] [--subs 1] [--lookup]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { TrpcSocket } from './lib/join.js';
import { setupClassroom, wsConnect } from './lib/setup.js';
import { median, procCpuSeconds, sleep } from './lib/util.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (k: string, d: string) => (process.argv.includes(`--${k}`) ? process.argv[process.argv.indexOf(`--${k}`) + 1]! : d);
const serverPath = resolve(ROOT, arg('server', 'apps/server/dist/index.js'));
const rate = Number(arg('rate', '1000'));
const seconds = Number(arg('seconds', '5'));
const subs = Number(arg('subs', '1'));

async function measure(kind: 'cursor' | 'preview' | 'byId' | 'ping'): Promise<{ kind: string; requests: number; cpuUsPerRequest: number }> {
  // ping: the adapter's text PING -> PONG (no tRPC): the cost of a WebSocket message in and out.
  const port = await new Promise<number>((r) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address() as { port: number };
      srv.close(() => r(p));
    });
  });
  const tmp = mkdtempSync(join(os.tmpdir(), 'inkboard-cost-'));
  const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', INKBOARD_DB: join(tmp, 'db.sqlite'), INKBOARD_SCRYPT_LOG_N: '10', INKBOARD_UPGRADES_PER_MINUTE: '1000000' };
  const child = spawn(process.execPath, [serverPath], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((r, j) => {
      const t = setTimeout(() => j(new Error('server did not start')), 20_000);
      child.stdout!.on('data', (d) => String(d).includes('is running at') && (clearTimeout(t), r()));
    });
    // Requests are spread over enough users to stay under the per-user rate limits (cursor 60/s).
    const senders = Math.max(1, Math.ceil(rate / 40));
    const room = await setupClassroom(port, subs + senders, 'cost');
    const boardId = room.boardId;
    const sockets = await Promise.all(Array.from({ length: senders }, (_, i) => TrpcSocket.open(port, room.tokens[subs + i]!)));
    const subscribers: WebSocket[] = [];
    for (let i = 0; i < subs; i++) {
      const { url, first } = wsConnect(port, room.tokens[i]!);
      const ws = new WebSocket(url);
      await new Promise((r) => ws.once('open', r));
      if (first) ws.send(first);
      ws.on('message', (d: Buffer) => d.length === 4 && d.toString() === 'PING' && ws.send('PONG'));
      ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path: 'board.onEvents', input: { boardId } } }));
      subscribers.push(ws);
    }
    let replies = 0;
    let refused = 0;
    for (const s of sockets)
      s.ws.on('message', (d: Buffer) => {
        if (d[0] !== 0x7b) return;
        replies++;
        if (d.includes('"error"')) refused++;
      });
    await sleep(500);
    const c0 = procCpuSeconds(child.pid!)!;
    let id = 1000;
    const perTick = rate / 100;
    const timer = setInterval(() => {
      for (let i = 0; i < perTick; i++) {
        id++;
        const ws = sockets[id % senders]!.ws;
        if (kind === 'ping') ws.send('PING');
        else if (kind === 'cursor') ws.send(`{"id":${id},"method":"mutation","params":{"path":"board.cursor","input":{"boardId":"${boardId}","x":${id},"y":1}}}`);
        else if (kind === 'preview') ws.send(`{"id":${id},"method":"mutation","params":{"path":"board.preview","input":{"boardId":"${boardId}","elementId":"p1","append":[[1.5,2.5,0.5],[3.5,4.5,0.5]]}}}`);
        else ws.send(`{"id":${id},"method":"query","params":{"path":"board.byId","input":{"boardId":"${boardId}"}}}`);
      }
    }, 10);
    await sleep(seconds * 1000);
    clearInterval(timer);
    await sleep(300);
    const cpu = procCpuSeconds(child.pid!)! - c0;
    for (const s of subscribers) s.terminate();
    for (const s of sockets) s.close();
    if (refused) console.log(`  (${refused} ${kind} requests were refused)`);
    if (kind === 'ping') replies = id - 1000; // PONGs are not JSON: count what was sent
    return { kind, requests: replies, cpuUsPerRequest: Math.round((cpu / Math.max(1, replies)) * 1e6) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function lookupCost() {
  const dist = dirname(serverPath);
  const { openDatabase } = (await import(pathToFileURL(join(dist, 'plugins/db.js')).href)) as { openDatabase: (p: string) => any };
  const { BoardStore } = (await import(pathToFileURL(join(dist, 'boards/BoardStore.js')).href)) as { BoardStore: new (db: any) => any };
  const tmp = mkdtempSync(join(os.tmpdir(), 'inkboard-cost-'));
  try {
    const db = openDatabase(join(tmp, 'db.sqlite'));
    const store = new BoardStore(db);
    const row = store.createBoard('costboard', 'x');
    const stmt = db.$client.prepare('select * from boards where id = ?');
    const time = (f: () => unknown, n: number) => {
      const runs = [];
      for (let r = 0; r < 5; r++) {
        const t = performance.now();
        for (let i = 0; i < n; i++) f();
        runs.push(((performance.now() - t) / n) * 1000);
      }
      return Math.round(median(runs)! * 10) / 10;
    };
    time(() => store.getBoard(row.id), 2000); // warm up
    const drizzleUs = time(() => store.getBoard(row.id), 20_000);
    const preparedUs = time(() => stmt.get(row.id), 20_000);
    db.$client.close();
    return { getBoardUs: drizzleUs, preparedStatementUs: preparedUs };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const results = [];
for (const kind of ['ping', 'byId', 'cursor', 'preview'] as const) {
  const r = await measure(kind);
  results.push(r);
  console.log(`${kind.padEnd(8)} ${r.requests} requests at ${rate}/s (over ${Math.max(1, Math.ceil(rate / 40))} users) with ${subs} subscriber(s): ${r.cpuUsPerRequest} µs server CPU per request`);
}
if (process.argv.includes('--lookup')) {
  // Servers before the role cache (commit 3695fa4) looked the board up in SQLite on every call.
  const lookup = await lookupCost();
  console.log(`board lookup (BoardStore.getBoard, drizzle query built and prepared per call): ${lookup.getBoardUs} µs; same lookup as a prepared statement: ${lookup.preparedStatementUs} µs`);
}
console.log(`load average: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
process.exit(0);
