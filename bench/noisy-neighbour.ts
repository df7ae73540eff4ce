/**
 * The noisy-neighbour benchmark (issue 13): while an attacker runs each attack of the issue in turn,
 * N normal clients on another board draw (a ~120-point stroke every 2 s, with live previews) and
 * move their cursors at 30 Hz. Measured per phase: the normal clients' cursor round trip (p50/p99),
 * their committed ops (ack p99, seen by others p99), /healthz from a separate prober at 10 Hz, a
 * normal person's sign-in every 3 s, the frame gaps a viewer of the normal board sees, the server's
 * peak RSS, whether it is alive afterwards and how long it took to answer promptly again, and what
 * the server answered the attacker (refusals by kind). A baseline phase without attack comes first.
 *
 *   npx turbo run build && node --import tsx bench/noisy-neighbour.ts [--quick] [--attack-seconds 30]
 *        [--attacks unauth-lane,heavy-export,subscriptions,signup-flood,slowloris,expensive,disk,preview-flood]
 *        [--clients 20] [--drawers 5] [--sampled 4] [--no-baseline] [--seed 13] [--server apps/server/dist/index.js]
 *        [--attacker-address 127.0.0.2] [--server-nice N] [--attacker-nice N] [--rss-kill-mb 3072] [--recover-seconds 20]
 *        [--heavy-strokes 200] [--setup-seconds 60]
 *
 * The server runs as `npm start` would (default settings), only PORT, HOST=127.0.0.1 and a fresh
 * temporary INKBOARD_DB are set. Normal users sign up from their own loopback addresses
 * (127.0.1.x, as people on their own machines) and their sockets come from 127.0.0.1; the attacker
 * connects from --attacker-address, so per-address limits separate it from them as they would on
 * the internet (pass 127.0.0.1 to share the address). A server that dies (or passes --rss-kill-mb,
 * a safety limit for the shared machine) is reported and a fresh one is set up for the next attack.
 * Results: a table on stdout and JSON in bench/results/ (git-ignored). See docs/benchmarks.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import { ATTACKS, DEFAULT_SIZE, errorKind, heavyPushBody, heavyStroke, httpRequest, prng, trpcCall, type AttackerData, type AttackName, type AttackStats, type AttackTargets } from './lib/attacks.js';
import type { ShardConfig, ShardReport } from './lib/loadgen.js';
import { wsConnect } from './lib/setup.js';
import { histAdd, histSummary, newHist, procRssMb, round1, round2, sleep, wall, type HistSummary } from './lib/util.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------- options

function parseArgs(argv: string[]) {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`Unexpected argument ${a}`);
    const eq = a.indexOf('=');
    const [k, v] = eq < 0 ? [a.slice(2), undefined] : [a.slice(2, eq), a.slice(eq + 1)];
    if (v !== undefined) flags.set(k, v);
    else if (argv[i + 1] && !argv[i + 1]!.startsWith('--')) flags.set(k, argv[++i]!);
    else flags.set(k, true);
  }
  const known = ['quick', 'attack-seconds', 'attacks', 'clients', 'drawers', 'sampled', 'no-baseline', 'seed', 'server', 'attacker-address', 'server-nice', 'rss-kill-mb', 'recover-seconds', 'heavy-strokes', 'setup-seconds', 'warmup', 'attacker-nice', 'help'];
  for (const k of flags.keys()) if (!known.includes(k)) throw new Error(`Unknown option --${k} (see --help)`);
  if (flags.has('help')) {
    console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
    process.exit(0);
  }
  const quick = flags.has('quick');
  const num = (k: string, d: number) => {
    const v = flags.has(k) ? Number(flags.get(k)) : d;
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${k} takes a number`);
    return v;
  };
  const attacks = String(flags.get('attacks') ?? ATTACKS.join(','))
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  for (const a of attacks) if (!(ATTACKS as readonly string[]).includes(a)) throw new Error(`Unknown attack ${a}; the attacks are ${ATTACKS.join(', ')}`);
  const o = {
    quick,
    attackS: num('attack-seconds', quick ? 8 : 30),
    attacks: attacks as AttackName[],
    clients: num('clients', quick ? 10 : 20),
    drawers: num('drawers', quick ? 3 : 5),
    sampled: num('sampled', 4),
    baseline: !flags.has('no-baseline'),
    seed: num('seed', 13),
    server: resolve(ROOT, String(flags.get('server') ?? 'apps/server/dist/index.js')),
    attackerAddress: String(flags.get('attacker-address') ?? '127.0.0.2'),
    /** As bench/classroom.ts: the load generator stands in for other machines; -10 as root keeps it from preempting the server. */
    serverNice: flags.has('server-nice') ? Number(flags.get('server-nice')) : process.getuid?.() === 0 ? -10 : 0,
    /**
     * Priority of the attacker's thread alone (0: as the load generator). On a machine of two cores a
     * positive value keeps it from delaying the load generator's thread (whose lag is in the figures)
     * while it still takes every CPU cycle the others leave.
     */
    attackerNice: flags.has('attacker-nice') ? Number(flags.get('attacker-nice')) : 0,
    /** Safety limit for the shared machine: the server is killed above it (reported as a failure). */
    rssKillMb: num('rss-kill-mb', 3072),
    recoverS: num('recover-seconds', quick ? 10 : 20),
    heavyStrokes: num('heavy-strokes', quick ? 100 : 200),
    setupS: num('setup-seconds', quick ? 30 : 60),
    warmupS: num('warmup', 2),
  };
  if (o.clients < 2 || o.drawers > o.clients || o.sampled < 1) throw new Error('--clients needs at least 2, --drawers at most --clients, --sampled at least 1');
  for (const [k, v] of [['server-nice', o.serverNice], ['attacker-nice', o.attackerNice]] as const)
    if (!Number.isInteger(v) || v < -20 || v > 19) throw new Error(`--${k} takes an integer from -20 to 19`);
  if (!/^127\.\d+\.\d+\.\d+$/.test(o.attackerAddress)) throw new Error('--attacker-address must be a loopback address (127.x.x.x): the attacks only go to this machine');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const log = (s: string) => console.log(s);
const resultsDir = join(ROOT, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
const commit = (() => {
  try {
    const head = readFileSync(join(ROOT, '.git', 'HEAD'), 'utf8').trim();
    return head.startsWith('ref: ') ? readFileSync(join(ROOT, '.git', head.slice(5)), 'utf8').trim() : head;
  } catch {
    return 'unknown';
  }
})();

/** Targets of the issue. */
const TARGET = { cursorP99Ms: 100, rssMb: 1024 };
const WORKLOAD = { cursorHz: 30, previewHz: 60, strokeMs: 2000, strokePoints: 120, pointsPerPreview: 2 };
const PASSWORD = 'benchmark-password';
/** Loopback address of normal user i (for sign-up; their sockets come from 127.0.0.1). */
const userAddress = (i: number) => `127.0.1.${(i % 250) + 1}`;

// ---------------------------------------------------------------- the server

interface Server {
  port: number;
  pid: number;
  child: ChildProcess;
  dir: string;
  logFile: string;
  exit: { code: number | null; signal: string | null; at: number } | null;
  killedForRss: boolean;
  stop: () => Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

const servers = new Set<Server>();

async function startServer(): Promise<Server> {
  if (!existsSync(opts.server)) throw new Error(`${opts.server} does not exist: build first (npx turbo run build) or pass --server`);
  const port = await freePort();
  const dir = mkdtempSync(join(os.tmpdir(), 'inkboard-noisy-'));
  const logFile = join(dir, 'server.log');
  // Default settings, as `npm start`: only where to listen and a fresh database. Its output goes to
  // a file, so that reading it costs the measuring process nothing.
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', INKBOARD_DB: join(dir, 'bench.db') };
  for (const k of Object.keys(env)) if (k.startsWith('INKBOARD_') && k !== 'INKBOARD_DB') delete env[k];
  delete env.NODE_OPTIONS;
  delete env.LOG_LEVEL;
  const fd = openSync(logFile, 'a');
  const args = [opts.server];
  const child = opts.serverNice
    ? spawn('nice', ['-n', String(opts.serverNice), process.execPath, ...args], { env, stdio: ['ignore', fd, fd] })
    : spawn(process.execPath, args, { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const server: Server = {
    port,
    pid: child.pid!,
    child,
    dir,
    logFile,
    exit: null,
    killedForRss: false,
    stop: async () => {
      servers.delete(server);
      if (!server.exit) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 8_000);
        await new Promise<void>((r) => (server.exit ? r() : child.once('exit', () => r())));
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  child.once('exit', (code, signal) => (server.exit = { code, signal, at: wall() }));
  servers.add(server);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.exit || Date.now() > deadline) {
      const tail = logTail(server);
      await server.stop();
      throw new Error(`the server did not start:\n${tail}`);
    }
    const res = await httpRequest({ port, address: '127.0.0.1', method: 'GET', path: '/healthz', timeoutMs: 2_000 }).catch(() => null);
    if (res?.status === 200) break;
    await sleep(100);
  }
  // `nice` execs node: the child's pid is the server's.
  return server;
}

function logTail(server: Server, lines = 12): string {
  try {
    return readFileSync(server.logFile, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Size of the database files (SQLite file, WAL, shared memory) in MB. */
function dbSizeMb(server: Server): number {
  let bytes = 0;
  for (const f of readdirSync(server.dir)) if (f.startsWith('bench.db')) bytes += statSync(join(server.dir, f)).size;
  return bytes / 1e6;
}

const alive = (s: Server) => s.exit === null;

// ---------------------------------------------------------------- setup

interface World {
  server: Server;
  normalBoardId: string;
  ownerToken: string;
  tokens: string[];
  targets: AttackTargets;
  heavy: { strokes: number; points: number; seconds: number; stoppedBy: string | null };
  setupS: number;
}

/** A tRPC call that waits out TOO_MANY_REQUESTS (honouring Retry-After) until `deadline`. */
async function callRetrying<T>(port: number, address: string, path: string, input: unknown, auth: { token?: string; cookie?: string }, deadline: number, kind: 'mutation' | 'query' = 'mutation') {
  for (;;) {
    const res = await trpcCall<T>({ port, address }, path, input, auth, kind, 60_000);
    if (res.data !== undefined || !res.error) return res;
    if (res.error.code !== 'TOO_MANY_REQUESTS' || Date.now() > deadline) throw new Error(`${path}: ${res.error.code}: ${res.error.message}`);
    await sleep(1_000 * Math.min(10, Math.max(0.2, res.retryAfter ?? 1)));
  }
}

/** Signs a user up from `address` and makes an API token for it. */
async function makeUser(port: number, address: string, username: string, deadline: number): Promise<string> {
  for (;;) {
    const res = await httpRequest({ port, address, method: 'POST', path: '/trpc/auth.signUp', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }), timeoutMs: 60_000 });
    const cookie = (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
    if (res.status === 200 && cookie) {
      // The server's own Origin, as the web app would send it (cookie-authenticated mutations may check it).
      const origin = `http://127.0.0.1:${port}`;
      const tok = await httpRequest({ port, address, method: 'POST', path: '/trpc/token.create', headers: { 'content-type': 'application/json', cookie, origin }, body: JSON.stringify({ name: 'benchmark' }), timeoutMs: 60_000 });
      const body = JSON.parse(tok.body!.toString()) as { result?: { data: { token: string } }; error?: { message: string } };
      if (!body.result) throw new Error(`token.create for ${username}: ${body.error?.message ?? tok.status}`);
      return body.result.data.token;
    }
    if (res.status !== 429 || Date.now() > deadline) throw new Error(`auth.signUp ${username}: http ${res.status} ${res.body?.toString().slice(0, 300)}`);
    await sleep(1_000 * Math.min(10, Number(res.headers['retry-after']) || 1));
  }
}

async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    for (let i = next++; i < count; i = next++) out[i] = await task(i);
  }));
  return out;
}

/** A fresh server with the normal clients' board and the attacker's accounts and boards. */
async function setupWorld(): Promise<World> {
  const t0 = wall();
  const server = await startServer();
  const { port } = server;
  const deadline = Date.now() + opts.setupS * 1000 + 60_000;
  const ownerToken = await makeUser(port, userAddress(0), 'teacher', deadline);
  const own = { port, address: userAddress(0) };
  const board = await callRetrying<{ id: string }>(port, own.address, 'board.create', { title: 'normal clients' }, { token: ownerToken }, deadline);
  const normalBoardId = board.data!.id;
  const link = await callRetrying<{ code: string }>(port, own.address, 'share.createLink', { boardId: normalBoardId, role: 'editor' }, { token: ownerToken }, deadline);
  const code = link.data!.code;
  // The attacker: one free account, and one that joined the normal board through its link.
  const at = { port, address: opts.attackerAddress };
  const token = await makeUser(port, at.address, 'mallory', deadline);
  const previewToken = await makeUser(port, at.address, 'mallory-editor', deadline);
  await callRetrying(port, at.address, 'share.accept', { code }, { token: previewToken }, deadline);
  const boardOf = async (title: string) => (await callRetrying<{ id: string }>(port, at.address, 'board.create', { title }, { token }, deadline)).data!.id;
  const heavyBoardId = await boardOf('heavy');
  const wideBoardId = await boardOf('wide');
  const pushBoardId = await boardOf('pushes');
  const diskBoardId = await boardOf('disk');
  const rect = (id: string, x: number, y: number) => ({ type: 'rectangle', id, x, y, z: 'a0', width: 10, height: 10, fillColor: '#a5d8ff', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 });
  await callRetrying(port, at.address, 'board.push', { boardId: wideBoardId, ops: [{ type: 'add', opId: 'wide', elements: [rect('w0', 0, 0), rect('w1', 7990, 7990)] }] }, { token }, deadline);
  // The heavy board fills (at the rate the server allows) while the normal users sign up.
  const filling = fillHeavyBoard(port, at.address, token, heavyBoardId);
  const tokens = await pool(opts.clients, 4, async (i) => {
    const token = await makeUser(port, userAddress(i + 1), `student${i}`, deadline);
    await callRetrying(port, userAddress(i + 1), 'share.accept', { code }, { token }, deadline);
    return token;
  });
  const heavy = await filling;
  const targets: AttackTargets = { port, address: at.address, token, previewToken, normalBoardId, heavyBoardId, wideBoardId, pushBoardId, diskBoardId, seed: opts.seed, size: DEFAULT_SIZE };
  return { server, normalBoardId, ownerToken, tokens, targets, heavy, setupS: round1((wall() - t0) / 1000) };
}

/** Adds up to --heavy-strokes strokes of 5,000 points to the heavy board, as many as the server accepts within --setup-seconds. */
async function fillHeavyBoard(port: number, address: string, token: string, boardId: string) {
  const t0 = wall();
  const until = t0 + opts.setupS * 1000;
  const pointsJson = JSON.stringify(heavyStroke('x', 0, 0, DEFAULT_SIZE.pointsPerStroke, prng(opts.seed)).points);
  let made = 0;
  let chunk = 20;
  let stoppedBy: string | null = null;
  while (made < opts.heavyStrokes && wall() < until) {
    const n = Math.min(chunk, opts.heavyStrokes - made);
    const ids = Array.from({ length: n }, (_, i) => `heavy${made + i}`);
    const body = heavyPushBody(boardId, `heavy${made}`, ids, pointsJson, made);
    const res = await httpRequest({ port, address, method: 'POST', path: '/trpc/board.push', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body, timeoutMs: 120_000 }).catch((err: unknown) => err as Error);
    if (res instanceof Error) {
      stoppedBy = errorKind(res);
      break;
    }
    if (res.status === 200) {
      made += n;
      continue;
    }
    const text = res.body?.toString() ?? '';
    if (res.status === 429) {
      await sleep(1_000 * Math.min(10, Number(res.headers['retry-after']) || 1));
      continue;
    }
    if (chunk > 1) {
      chunk = Math.ceil(chunk / 2); // too big a push? try smaller ones before calling the board full
      continue;
    }
    stoppedBy = `http ${res.status}: ${text.slice(0, 200)}`;
    break;
  }
  if (!stoppedBy && made < opts.heavyStrokes) stoppedBy = `--setup-seconds (${opts.setupS} s) ran out`;
  return { strokes: made, points: made * DEFAULT_SIZE.pointsPerStroke, seconds: round1((wall() - t0) / 1000), stoppedBy };
}

// ---------------------------------------------------------------- measuring threads

const workerBoot = (file: string) =>
  `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(file)}); })`;

function waitFor<T>(worker: Worker, type: string, timeoutMs: number, name: string): Promise<T> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${name}: no ${type} within ${timeoutMs} ms`)), timeoutMs);
    const onMsg = (m: { type: string; message?: string }) => {
      if (m.type === 'error' || m.type === type) {
        clearTimeout(timer);
        worker.off('message', onMsg);
        if (m.type === 'error') fail(new Error(`${name}: ${m.message}`));
        else ok(m as T);
      }
    };
    worker.on('message', onMsg);
    worker.once('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
  });
}

/** A request on a new connection every `periodMs` (at most 8 in flight); ones unanswered for over 1 s at the end count with the time they waited. */
function startHttpProbe(periodMs: number, request: () => Promise<number>) {
  const hist = newHist();
  const failures: Record<string, number> = {};
  const inFlight = new Set<number>();
  let sent = 0;
  const send = () => {
    if (inFlight.size >= 8) return;
    const t0 = performance.now();
    inFlight.add(t0);
    sent++;
    const rec = recording;
    request().then(
      (status) => {
        inFlight.delete(t0);
        if (!rec) return;
        if (status === 200) histAdd(hist, performance.now() - t0);
        else failures[`http ${status}`] = (failures[`http ${status}`] ?? 0) + 1;
      },
      (err: unknown) => {
        inFlight.delete(t0);
        if (!rec) return;
        failures[errorKind(err)] = (failures[errorKind(err)] ?? 0) + 1;
        histAdd(hist, performance.now() - t0);
      },
    );
  };
  let recording = true;
  const timer = setInterval(send, periodMs);
  send();
  return {
    stop: (): HistSummary & { failed: Record<string, number>; unanswered: number } => {
      recording = false;
      clearInterval(timer);
      // Requests still waiting after 1 s count with the time they waited (a lower bound of their
      // latency); younger ones were merely sent just before the end.
      const now = performance.now();
      const waiting = [...inFlight].filter((t0) => now - t0 > 1_000);
      for (const t0 of waiting) histAdd(hist, now - t0);
      return { ...histSummary(hist), failed: failures, unanswered: waiting.length };
    },
  };
}

/** A viewer of the normal board (the owner): frame gaps, bytes received, whether it was cut off. */
function startViewer(port: number, token: string, boardId: string) {
  const { url, first } = wsConnect(port, token);
  const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
  const gaps = newHist();
  let last = 0;
  let recording = false;
  let bytes = 0;
  let frames = 0;
  let closedWith: string | null = null;
  ws.on('open', () => {
    ws.send(first!);
    ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path: 'board.onEvents', input: { boardId } } }));
  });
  ws.on('message', (data: Buffer) => {
    if (data.length === 4 && data[0] === 0x50) return ws.send('PONG');
    if (!(data[0] === 0x7b && data[6] === 0x31 && data[7] === 0x2c) || data.length < 48) return;
    const now = performance.now();
    if (recording) {
      if (last) histAdd(gaps, now - last);
      bytes += data.length;
      frames++;
    }
    last = now;
  });
  ws.on('error', () => {});
  ws.on('close', (code, reason) => (closedWith ??= `${code} ${reason.toString()}`));
  return {
    start: () => {
      recording = true;
      last = performance.now();
    },
    stop: () => {
      recording = false;
      if (last) histAdd(gaps, performance.now() - last); // the time since the last frame, too
      ws.terminate();
      return { gap: histSummary(gaps), frames, mbReceived: round2(bytes / 1e6), closed: closedWith };
    },
  };
}

/** Whether a new subscription of the board gets its first frame within `timeoutMs`. */
function subscribes(port: number, token: string, boardId: string, timeoutMs: number): Promise<boolean> {
  return new Promise((done) => {
    const { url, first } = wsConnect(port, token);
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      ws.terminate();
      done(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    ws.on('open', () => {
      ws.send(first!);
      ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path: 'board.onEvents', input: { boardId } } }));
    });
    ws.on('message', (data: Buffer) => {
      if (data[0] === 0x7b && data[6] === 0x31 && data[7] === 0x2c) {
        if (data[9] === 0x65) finish(false); // {"id":1,"error":...}
        else if (data.length >= 48) finish(true); // not {"type":"started"}
      }
    });
    ws.on('error', () => finish(false));
    ws.on('close', () => finish(false));
  });
}

// ---------------------------------------------------------------- one phase

interface Phase {
  phase: 'baseline' | AttackName;
  ok: boolean;
  failReasons: string[];
  clients: number;
  cursor: HistSummary;
  opAck: HistSummary;
  opSeen: HistSummary;
  healthz: ReturnType<ReturnType<typeof startHttpProbe>['stop']>;
  signIn: ReturnType<ReturnType<typeof startHttpProbe>['stop']>;
  viewer: ReturnType<ReturnType<typeof startViewer>['stop']> | null;
  normalClientsCutOff: string[];
  normalRefusals: number;
  genLagP99Ms: number;
  rssIdleMb: number | null;
  rssPeakMb: number;
  serverAlive: boolean;
  exit: Server['exit'];
  killedForRss: boolean;
  logTail: string | null;
  recoverS: number | null;
  dbGrowthMbPerS: number | null;
  dbMb: number | null;
  attacker: AttackStats | null;
  attackerError: string | null;
  error: string | null;
}

async function runPhase(world: World, phase: 'baseline' | AttackName): Promise<Phase> {
  const { server } = world;
  const port = server.port;
  const n = opts.clients;
  const sampledEvery = Math.max(1, Math.floor(n / opts.sampled));
  const clients = Array.from({ length: n }, (_, idx) => ({ idx, board: world.normalBoardId, drawer: idx < opts.drawers, sampled: idx % sampledEvery === sampledEvery - 1 && idx / sampledEvery < opts.sampled, token: world.tokens[idx]! }));
  const cfg: ShardConfig = {
    system: 'inkboard',
    ports: [port],
    clients,
    ...WORKLOAD,
    connectConcurrency: 4,
    lane: existsSync(join(dirname(opts.server), 'plugins', 'lane.js')),
    protocolDir: join(ROOT, 'packages/protocol/src'),
    timeOps: true,
  };
  const result: Phase = {
    phase,
    ok: false,
    failReasons: [],
    clients: n,
    cursor: histSummary(newHist()),
    opAck: histSummary(newHist()),
    opSeen: histSummary(newHist()),
    healthz: { ...histSummary(newHist()), failed: {}, unanswered: 0 },
    signIn: { ...histSummary(newHist()), failed: {}, unanswered: 0 },
    viewer: null,
    normalClientsCutOff: [],
    normalRefusals: 0,
    genLagP99Ms: 0,
    rssIdleMb: procRssMb(server.pid),
    rssPeakMb: 0,
    serverAlive: true,
    exit: null,
    killedForRss: false,
    logTail: null,
    recoverS: null,
    dbGrowthMbPerS: null,
    dbMb: null,
    attacker: null,
    attackerError: null,
    error: null,
  };
  const loadgen = new Worker(workerBoot(new URL('./lib/loadgen.ts', import.meta.url).href), { eval: true, workerData: cfg });
  let attacker: Worker | null = null;
  const rssTimer = setInterval(() => {
    const rss = procRssMb(server.pid);
    if (rss === null) return;
    result.rssPeakMb = Math.max(result.rssPeakMb, rss);
    if (rss > opts.rssKillMb && alive(server)) {
      server.killedForRss = true;
      server.child.kill('SIGKILL');
      if (server.pid !== server.child.pid) process.kill(server.pid, 'SIGKILL');
    }
  }, 200);
  let healthz: ReturnType<typeof startHttpProbe> | null = null;
  let signIn: ReturnType<typeof startHttpProbe> | null = null;
  let viewer: ReturnType<typeof startViewer> | null = null;
  // The attacker's thread is loaded before the window (it starts on 'go').
  if (phase !== 'baseline') attacker = new Worker(workerBoot(new URL('./lib/attacks.ts', import.meta.url).href), { eval: true, workerData: { role: 'attacker', attack: phase, targets: world.targets, nice: opts.attackerNice } satisfies AttackerData });
  try {
    await Promise.all([waitFor(loadgen, 'ready', 60_000, 'normal clients'), attacker ? waitFor(attacker, 'ready', 60_000, 'attacker') : null]);
    viewer = startViewer(port, world.ownerToken, world.normalBoardId);
    const tStart = wall() + 300;
    const tM0 = tStart + opts.warmupS * 1000;
    const tM1 = tM0 + opts.attackS * 1000;
    loadgen.postMessage({ type: 'start', tStart, tM0, tM1 });
    await sleep(tM0 - wall());
    healthz = startHttpProbe(100, () => httpRequest({ port, address: '127.0.0.1', method: 'GET', path: '/healthz', timeoutMs: 10_000 }).then((r) => r.status));
    // A normal person signing in (student0, from its own address) every 3 s (each costs a password hash).
    signIn = startHttpProbe(3_000, () =>
      httpRequest({ port, address: userAddress(250), method: 'POST', path: '/trpc/auth.signIn', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'student0', password: PASSWORD }), timeoutMs: 30_000 }).then((r) => r.status),
    );
    viewer.start();
    result.rssPeakMb = procRssMb(server.pid) ?? 0;
    const db0 = dbSizeMb(server);
    let attackDone: Promise<{ stats: AttackStats }> | null = null;
    if (attacker) {
      attackDone = waitFor<{ stats: AttackStats }>(attacker, 'done', opts.attackS * 1000 + 60_000, 'attacker');
      attackDone.catch(() => {});
      attacker.postMessage({ type: 'go', until: tM1 });
    }
    await sleep(tM1 - wall());
    if (alive(server)) {
      result.dbMb = round2(dbSizeMb(server));
      result.dbGrowthMbPerS = round2((result.dbMb - db0) / opts.attackS);
    }
    result.healthz = healthz.stop();
    result.signIn = signIn.stop();
    healthz = signIn = null;
    result.viewer = viewer.stop();
    viewer = null;
    if (attacker && attackDone) {
      attacker.postMessage({ type: 'stop' });
      try {
        result.attacker = (await Promise.race([attackDone, sleep(15_000).then(() => Promise.reject(new Error('the attacker did not stop within 15 s (terminated)')))])).stats;
      } catch (err) {
        result.attackerError = (err as Error).message;
      }
    }
    const report = await Promise.race([
      (async () => {
        const p = waitFor<{ report: ShardReport }>(loadgen, 'report', 30_000, 'normal clients');
        loadgen.postMessage({ type: 'report' });
        return (await p).report;
      })(),
      sleep(35_000).then(() => null),
    ]);
    if (report) {
      result.cursor = histSummary(report.cursorHist);
      result.opAck = histSummary(report.ackHist);
      result.opSeen = histSummary(report.opHist);
      result.normalClientsCutOff = report.clients.filter((c) => c.closed || c.subscriptionError).map((c) => `client ${c.idx}: ${c.subscriptionError ?? 'closed'}`);
      result.normalRefusals = report.pushErrors.length + report.mutationErrors;
      result.genLagP99Ms = round2(report.lag.p99);
    } else result.error = 'the load generator did not report';
  } catch (err) {
    result.error = (err as Error).message;
    viewer?.stop();
    healthz?.stop();
    signIn?.stop();
  } finally {
    await attacker?.terminate();
    await loadgen.terminate();
  }
  // Alive, and how long until it serves promptly again: 3 /healthz in a row within 250 ms, then a
  // new subscription of the normal board answered within 2 s (the next phase's clients need both).
  const t0 = wall();
  let prompt = 0;
  while (alive(server) && wall() - t0 < opts.recoverS * 1000) {
    const r = await httpRequest({ port, address: '127.0.0.1', method: 'GET', path: '/healthz', timeoutMs: 10_000 }).catch(() => null);
    prompt = r?.status === 200 && r.ms < 250 ? prompt + 1 : 0;
    if (prompt >= 3) {
      if (await subscribes(port, world.ownerToken, world.normalBoardId, 2_000)) {
        result.recoverS = round1((wall() - t0) / 1000);
        break;
      }
      prompt = 0; // three more prompt answers before the next try (WebSocket upgrades are limited per address)
    }
    await sleep(200);
  }
  clearInterval(rssTimer);
  result.serverAlive = alive(server);
  result.exit = server.exit;
  result.killedForRss = server.killedForRss;
  if (!result.serverAlive) result.logTail = logTail(server, 8);
  const f = result.failReasons;
  if (!result.serverAlive) f.push(server.killedForRss ? `server killed at the --rss-kill-mb safety limit (${opts.rssKillMb} MB)` : `server died (${server.exit?.code ?? server.exit?.signal})`);
  else if (result.recoverS === null) f.push(`not answering promptly ${opts.recoverS} s after the attack`);
  if (result.cursor.p99 === null) f.push('no cursor measured');
  else if (result.cursor.p99 > TARGET.cursorP99Ms) f.push(`cursor p99 ${result.cursor.p99} ms > ${TARGET.cursorP99Ms}`);
  if (result.rssPeakMb > TARGET.rssMb) f.push(`peak RSS ${Math.round(result.rssPeakMb)} MB > ${TARGET.rssMb}`);
  if (result.error) f.push(result.error);
  result.rssPeakMb = round1(result.rssPeakMb);
  result.ok = f.length === 0;
  return result;
}

// ---------------------------------------------------------------- report

const ms = (v: number | null) => (v === null ? '-' : v >= 1000 ? `${round1(v / 1000)}s` : String(Math.round(v)));
const pad = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length));

function table(phases: Phase[]): string {
  const head = ['phase', 'cursor p50/p99', 'op ack p99', 'op seen p99', 'healthz p99 (fail)', 'sign-in p99', 'frame gap max', 'peak RSS MB', 'alive', 'recover s', 'refused/failed', 'target'];
  const rows = phases.map((p) => [
    p.phase,
    `${ms(p.cursor.p50)}/${ms(p.cursor.p99)}`,
    ms(p.opAck.p99),
    ms(p.opSeen.p99),
    `${ms(p.healthz.p99)} (${Object.values(p.healthz.failed).reduce((a, b) => a + b, 0) + p.healthz.unanswered})`,
    ms(p.signIn.p99),
    ms(p.viewer?.gap.max ?? null),
    String(Math.round(p.rssPeakMb)),
    p.serverAlive ? 'yes' : p.killedForRss ? 'KILLED' : 'DIED',
    p.recoverS === null ? '-' : String(p.recoverS),
    String(p.attacker ? Object.values(p.attacker.refused).reduce((a, b) => a + b, 0) : 0),
    p.ok ? 'pass' : 'FAIL',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => pad(c, widths[i]!)).join(' | ')).join('\n');
}

function details(p: Phase): string {
  const lines: string[] = [];
  if (p.attacker) {
    const kv = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${round2(v)}`).join(', ') || '-';
    lines.push(`  ${p.phase}: sent ${kv(p.attacker.sent)}`);
    lines.push(`    answered ok: ${kv(p.attacker.ok)}`);
    for (const [k, v] of Object.entries(p.attacker.refused)) lines.push(`    refused ${v} x ${k}${p.attacker.samples[k] ? `: "${p.attacker.samples[k]}"` : ''}`);
    if (Object.keys(p.attacker.figures).length) lines.push(`    figures: ${kv(p.attacker.figures)}`);
  }
  if (p.attackerError) lines.push(`  ${p.phase}: attacker: ${p.attackerError}`);
  if (p.phase === 'disk' && p.dbGrowthMbPerS !== null) lines.push(`    database grew ${p.dbGrowthMbPerS} MB/s (now ${p.dbMb} MB)`);
  if (p.viewer) lines.push(`    viewer of the normal board: ${p.viewer.frames} frames, ${p.viewer.mbReceived} MB, gap p99 ${ms(p.viewer.gap.p99)} max ${ms(p.viewer.gap.max)}${p.viewer.closed ? `, cut off (${p.viewer.closed})` : ''}`);
  if (p.normalClientsCutOff.length) lines.push(`    normal clients cut off: ${p.normalClientsCutOff.length} (${p.normalClientsCutOff[0]})`);
  if (p.normalRefusals) lines.push(`    normal clients' requests refused: ${p.normalRefusals}`);
  if (p.genLagP99Ms > 10) lines.push(`    load generator lag p99 ${p.genLagP99Ms} ms (its own latency is in the figures)`);
  if (Object.keys(p.healthz.failed).length || p.healthz.unanswered) lines.push(`    /healthz failures: ${JSON.stringify(p.healthz.failed)}, unanswered at the end ${p.healthz.unanswered}`);
  if (p.logTail) lines.push(`    server output at the end:\n${p.logTail.split('\n').map((l) => `      ${l.slice(0, 200)}`).join('\n')}`);
  if (p.failReasons.length) lines.push(`    misses: ${p.failReasons.join('; ')}`);
  return lines.join('\n');
}

// ---------------------------------------------------------------- main

async function main() {
  const phases: ('baseline' | AttackName)[] = [...(opts.baseline ? (['baseline'] as const) : []), ...opts.attacks];
  log(`noisy neighbour: ${opts.clients} normal clients (${opts.drawers} drawing), ${opts.attackS} s per phase, phases ${phases.join(', ')}; attacker from ${opts.attackerAddress}; commit ${commit.slice(0, 10)}`);
  const t0 = wall();
  const results: Phase[] = [];
  const setups: { setupS: number; heavy: World['heavy'] }[] = [];
  /** Phases whose normal clients could not connect (run again on a fresh server). */
  const retried: Phase[] = [];
  let world: World | null = null;
  // A server still degraded by the previous attack (not serving promptly again, or the normal
  // clients could not even connect) is replaced too, so that every attack meets a healthy server;
  // a phase whose normal clients could not connect is run once more on the fresh server.
  let degraded: string | null = null;
  for (const phase of phases) {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (!world || !alive(world.server) || degraded) {
        if (world) await world.server.stop();
        log(!world ? '  setting up' : degraded ? `  the server is still degraded (${degraded}): a fresh one` : '  the server is gone: a fresh one for the next phase');
        world = await setupWorld();
        degraded = null;
        setups.push({ setupS: world.setupS, heavy: world.heavy });
        log(`  setup ${world.setupS} s; heavy board: ${world.heavy.strokes} strokes (${world.heavy.points.toLocaleString('en')} points) in ${world.heavy.seconds} s${world.heavy.stoppedBy ? `, stopped by ${world.heavy.stoppedBy}` : ''}`);
      }
      log(`  ${phase} ...`);
      const r = await runPhase(world, phase);
      if (r.serverAlive && r.recoverS === null) degraded = `not serving promptly ${opts.recoverS} s after ${phase}`;
      const noClients = r.error?.startsWith('normal clients') ?? false;
      if (noClients) degraded = r.error;
      log(`  ${phase}: cursor p99 ${ms(r.cursor.p99)} ms, peak RSS ${Math.round(r.rssPeakMb)} MB, server ${r.serverAlive ? 'alive' : 'DOWN'}${r.failReasons.length ? ` (${r.failReasons.join('; ')})` : ''}`);
      if (noClients && attempt === 0) {
        r.phase = phase;
        retried.push(r);
        continue;
      }
      results.push(r);
      break;
    }
  }
  if (world) await world.server.stop();
  const totalS = round1((wall() - t0) / 1000);
  log(`\nNoisy neighbour, commit ${commit.slice(0, 10)}, ${opts.clients} normal clients, ${opts.attackS} s per attack${opts.quick ? ' (quick)' : ''}, ${totalS} s in all`);
  log(`targets: cursor p99 <= ${TARGET.cursorP99Ms} ms, peak RSS <= ${TARGET.rssMb} MB, server alive\n`);
  log(table(results));
  log('');
  for (const r of results) {
    const d = details(r);
    if (d) log(d);
  }
  for (const r of retried) log(`  ${r.phase} was run again on a fresh server: the first time, ${r.error}`);
  const file = join(resultsDir, `noisy-${stamp}.json`);
  writeFileSync(file, JSON.stringify({ commit, stamp, opts, target: TARGET, workload: WORKLOAD, size: DEFAULT_SIZE, machine: { cpus: os.cpus().length, load: os.loadavg() }, setups, totalS, phases: results, retried }, null, 2));
  log(`\nJSON: ${file}`);
}

const cleanup = async () => {
  await Promise.allSettled([...servers].map((s) => s.stop()));
};
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    void cleanup().then(() => process.exit(130));
  });
// Hard limit: whatever happens, nothing is left running.
const hardLimitMs = ((opts.baseline ? 1 : 0) + opts.attacks.length) * (opts.attackS + 90) * 1000 + 10 * 60_000;
setTimeout(() => {
  console.error(`time limit (${Math.round(hardLimitMs / 1000)} s) reached: stopping`);
  void cleanup().then(() => process.exit(2));
}, hardLimitMs).unref();

main().then(
  () => process.exit(0),
  async (err: Error) => {
    console.error(err.stack ?? err.message);
    await cleanup();
    process.exit(1);
  },
);
