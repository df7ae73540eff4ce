/**
 * The attacks of issue 13 for the noisy-neighbour benchmark (bench/noisy-neighbour.ts), each the real
 * attack over loopback, bounded in time (it stops at `until`) and in count (every loop has its own
 * concurrency, every request its own timeout). The attacker connects from its own loopback address
 * (`address`, 127.0.0.2 by default) so that per-address limits tell it apart from the normal
 * clients, as they would on the internet. Run in a worker thread (see the bottom of this file) so
 * that building and reading its traffic does not delay the measuring threads.
 *
 * Refusals are expected from a fixed server: every answer is counted by kind (`http 429`,
 * `trpc TOO_MANY_REQUESTS`, `ws close 4408`, `lane BAD_REQUEST`, `timeout`, ...) with the first
 * message of each kind as a sample, so the report shows what the server said.
 */
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { sleep, wall } from './util.js';

export const ATTACKS = ['unauth-lane', 'heavy-export', 'subscriptions', 'signup-flood', 'slowloris', 'expensive', 'disk', 'preview-flood'] as const;
export type AttackName = (typeof ATTACKS)[number];

/** What the attacks aim at, made by the benchmark's setup. */
export interface AttackTargets {
  port: number;
  /** Source address of every attacker connection (a loopback address). */
  address: string;
  /** The attacker's API token (a free account). */
  token: string;
  /** Token of an editor of the normal clients' board (preview-flood). */
  previewToken: string;
  normalBoardId: string;
  /** The attacker's board with as many long strokes as the server accepted. */
  heavyBoardId: string;
  /** The attacker's small board spanning 8,000 x 8,000 (an 8192 x 8192 PNG at scale 4). */
  wideBoardId: string;
  /** The attacker's board for heavy pushes (expensive) and for the disk attack. */
  pushBoardId: string;
  diskBoardId: string;
  seed: number;
  size: AttackSize;
}

/** Sizes of the attacks (the issue's figures by default; `--quick` does not change them). */
export interface AttackSize {
  laneSockets: number;
  laneMessageBytes: number;
  exportConcurrency: number;
  subscriptions: number;
  signupBatch: number;
  signupConcurrency: number;
  signupWsCalls: number;
  slowlorisSockets: number;
  pngConcurrency: number;
  pushConnections: number;
  nestedConcurrency: number;
  nestedBytes: number;
  strokesPerPush: number;
  pointsPerStroke: number;
  previewsPerSecond: number;
}

export const DEFAULT_SIZE: AttackSize = {
  laneSockets: 4,
  laneMessageBytes: 500 * 1024,
  exportConcurrency: 4,
  subscriptions: 1_500,
  signupBatch: 40,
  signupConcurrency: 4,
  signupWsCalls: 400,
  slowlorisSockets: 2_000,
  pngConcurrency: 6,
  pushConnections: 4,
  nestedConcurrency: 8,
  nestedBytes: 2 * 1024 * 1024,
  strokesPerPush: 40,
  pointsPerStroke: 5_000,
  previewsPerSecond: 120,
};

/** What one attack did and what the server answered. */
export interface AttackStats {
  attack: AttackName;
  /** Requests, messages or sockets sent, by kind. */
  sent: Record<string, number>;
  /** Answers that did what was asked, by kind. */
  ok: Record<string, number>;
  /** Refusals and failures by kind (status, tRPC code, close code, network error). */
  refused: Record<string, number>;
  /** First message of each refusal kind. */
  samples: Record<string, string>;
  /** Attack-specific figures (bytes, hold times, ...). */
  figures: Record<string, number>;
}

export class Tally {
  readonly stats: AttackStats;
  constructor(attack: AttackName) {
    this.stats = { attack, sent: {}, ok: {}, refused: {}, samples: {}, figures: {} };
  }
  sent(kind: string, n = 1) {
    this.stats.sent[kind] = (this.stats.sent[kind] ?? 0) + n;
  }
  ok(kind: string, n = 1) {
    this.stats.ok[kind] = (this.stats.ok[kind] ?? 0) + n;
  }
  refused(kind: string, sample?: string) {
    this.stats.refused[kind] = (this.stats.refused[kind] ?? 0) + 1;
    if (sample !== undefined && !(kind in this.stats.samples)) this.stats.samples[kind] = sample.slice(0, 300);
  }
  figure(name: string, value: number) {
    this.stats.figures[name] = Math.round(value * 100) / 100;
  }
  add(name: string, value: number) {
    this.stats.figures[name] = (this.stats.figures[name] ?? 0) + value;
  }
  max(name: string, value: number) {
    this.stats.figures[name] = Math.max(this.stats.figures[name] ?? 0, value);
  }
}

/** Seeded PRNG (mulberry32): the same attack traffic on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------- HTTP

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body (its first 2 KiB or more when discarded). */
  body: Buffer | null;
  bytes: number;
  ms: number;
}

/** One HTTP request on its own connection from `address`; rejects with the network error (code ETIMEDOUT after `timeoutMs`). */
export function httpRequest(opts: {
  port: number;
  address: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs: number;
  discard?: boolean;
  signal?: AbortSignal;
}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    const req = http.request({ host: '127.0.0.1', port: opts.port, localAddress: opts.address, method: opts.method, path: opts.path, headers, agent: false });
    const fail = (code: string) => {
      const err = new Error(code) as Error & { code: string };
      err.code = code;
      req.destroy(err);
    };
    const timer = setTimeout(() => fail('ETIMEDOUT'), opts.timeoutMs);
    const onAbort = () => fail('ABORTED');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    req.on('error', (err) => {
      done();
      reject(err);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        // Discarded bodies keep their first 2 KiB (a refusal's message).
        if (!opts.discard || bytes < 2048) chunks.push(c);
        bytes += c.length;
      });
      res.on('error', (err) => {
        done();
        reject(err);
      });
      res.on('end', () => {
        done();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), bytes, ms: performance.now() - t0 });
      });
    });
    req.end(opts.body);
  });
}

/** Name of a network error for the tally. */
export const errorKind = (err: unknown): string => {
  const code = (err as { code?: string }).code;
  return code === 'ETIMEDOUT' ? 'timeout' : code === 'ABORTED' ? 'cut at the end of the attack' : code ?? (err as Error).message ?? String(err);
};

export interface TrpcAnswer<T> {
  status: number;
  data?: T;
  error?: { code: string; message: string };
  /** Seconds, from a Retry-After header. */
  retryAfter: number | null;
  ms: number;
}

/** A tRPC call over HTTP (v11, no transformer) from `address`. */
export async function trpcCall<T>(
  target: { port: number; address: string },
  path: string,
  input: unknown,
  auth: { token?: string; cookie?: string } = {},
  kind: 'mutation' | 'query' = 'mutation',
  timeoutMs = 30_000,
): Promise<TrpcAnswer<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  if (auth.cookie) headers.cookie = auth.cookie;
  const query = kind === 'query' ? (input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`) : '';
  const res = await httpRequest({
    port: target.port,
    address: target.address,
    method: kind === 'query' ? 'GET' : 'POST',
    path: `/trpc/${path}${query}`,
    headers,
    body: kind === 'mutation' ? JSON.stringify(input ?? null) : undefined,
    timeoutMs,
  });
  return parseTrpc<T>(res);
}

export function parseTrpc<T>(res: HttpAnswer): TrpcAnswer<T> {
  const ra = Number(res.headers['retry-after']);
  const retryAfter = Number.isFinite(ra) && ra >= 0 ? ra : null;
  type Body = { result?: { data: T }; error?: { message: string; data?: { code?: string } } } | null;
  let body: Body;
  try {
    body = JSON.parse(res.body!.toString()) as Body;
  } catch {
    return { status: res.status, error: { code: `HTTP ${res.status}`, message: res.body!.toString().slice(0, 200) }, retryAfter, ms: res.ms };
  }
  if (body?.error && typeof body.error === 'object') return { status: res.status, error: { code: body.error.data?.code ?? `HTTP ${res.status}`, message: body.error.message }, retryAfter, ms: res.ms };
  if (res.status >= 400 || !body || !('result' in body)) return { status: res.status, error: { code: `HTTP ${res.status}`, message: JSON.stringify(body).slice(0, 200) }, retryAfter, ms: res.ms };
  return { status: res.status, data: body.result!.data, retryAfter, ms: res.ms };
}

/** Counts an HTTP answer: 2xx as ok, else by status and (for JSON errors) tRPC code. */
function tallyHttp(t: Tally, what: string, res: HttpAnswer) {
  if (res.status >= 200 && res.status < 300) return t.ok(what);
  let code = '';
  let message = '';
  try {
    const body = JSON.parse(res.body?.toString() ?? '') as { error?: { message?: string; data?: { code?: string } } | string; message?: string };
    if (body.error && typeof body.error === 'object') {
      code = body.error.data?.code ?? '';
      message = body.error.message ?? '';
    } else {
      code = typeof body.error === 'string' ? body.error : '';
      message = body.message ?? '';
    }
  } catch {
    message = res.body?.toString().slice(0, 200) ?? '';
  }
  const retry = res.headers['retry-after'] ? ` (Retry-After ${res.headers['retry-after']})` : '';
  t.refused(`${what}: http ${res.status}${code ? ` ${code}` : ''}`, message + retry);
}

// ---------------------------------------------------------------- WebSocket

function openWs(target: { port: number; address: string }, url: string, t: Tally, what: string): WebSocket {
  const ws = new WebSocket(`ws://127.0.0.1:${target.port}${url}`, { perMessageDeflate: false, localAddress: target.address, handshakeTimeout: 10_000 });
  ws.on('unexpected-response', (_req, res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => t.refused(`${what}: upgrade refused http ${res.statusCode}`, Buffer.concat(chunks).toString().slice(0, 200)));
    ws.terminate();
  });
  ws.on('error', (err) => t.refused(`${what}: ${errorKind(err)}`, (err as Error).message));
  return ws;
}

const connectionParams = (token: string) => JSON.stringify({ method: 'connectionParams', data: { token } });

/** Waits for open; false when the socket closed or failed first. */
function opened(ws: WebSocket): Promise<boolean> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.OPEN) return resolve(true);
    ws.once('open', () => resolve(true));
    ws.once('close', () => resolve(false));
  });
}

const closed = (ws: WebSocket): Promise<{ code: number; reason: string }> =>
  new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve({ code: 1006, reason: '' });
    ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
  });

/** tRPC error replies on a socket ({"id":..,"error":{..}}) by code. */
function tallyReplies(ws: WebSocket, t: Tally, what: string, onOk?: (id: unknown) => void) {
  ws.on('message', (data: Buffer) => {
    if (data[0] !== 0x7b && data[0] !== 0x5b) {
      if (data.length === 4 && data.toString() === 'PING') ws.send('PONG');
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(data.toString());
    } catch {
      return;
    }
    for (const m of Array.isArray(msg) ? msg : [msg]) {
      const r = m as { id?: unknown; error?: { message?: string; data?: { code?: string } }; result?: { type?: string } };
      if (r.error) t.refused(`${what}: ${r.id === '~' ? 'lane' : 'trpc'} ${r.error.data?.code ?? 'error'}`, r.error.message ?? '');
      else if (r.result) onOk?.(r.id);
    }
  });
}

// ---------------------------------------------------------------- payloads

/** A long freehand stroke with compact integer points (about 8 bytes a point in JSON). */
export function heavyStroke(id: string, x: number, y: number, points: number, rand: () => number) {
  const pts: [number, number][] = [];
  let px = 0;
  let py = 0;
  for (let i = 0; i < points; i++) {
    px = Math.max(-99, Math.min(99, px + Math.round((rand() - 0.5) * 12)));
    py = Math.max(-99, Math.min(99, py + Math.round((rand() - 0.5) * 12)));
    pts.push([px, py]);
  }
  return { type: 'stroke', id, x, y, z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1, points: pts };
}

/** JSON of a push adding `count` heavy strokes (the points are made once and reused). */
export function heavyPushBody(boardId: string, opId: string, ids: string[], pointsJson: string, first = 0): string {
  const els = ids.map((id, k) => `{"type":"stroke","id":"${id}","x":${((first + k) % 10) * 200},"y":${Math.floor((first + k) / 10) * 200},"z":"a0","strokeColor":"#1e1e1e","strokeWidth":2,"opacity":1,"points":${pointsJson}}`);
  return `{"boardId":"${boardId}","ops":[{"type":"add","opId":"${opId}","elements":[${els.join(',')}]}]}`;
}

// ---------------------------------------------------------------- the attacks

interface Run {
  tg: AttackTargets;
  t: Tally;
  until: number;
  stop: AbortSignal;
  rand: () => number;
}

const live = (r: Run) => !r.stop.aborted && wall() < r.until;
/** Time left, for request timeouts that end with the attack. */
const left = (r: Run, extra = 0) => Math.max(1_000, r.until - wall() + extra);

/** Repeats `task` with `concurrency` loops until the attack ends. */
async function loops(r: Run, concurrency: number, task: (loop: number) => Promise<void>) {
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      while (live(r)) await task(i).catch((err: unknown) => r.t.refused(`loop error: ${errorKind(err)}`, String(err)));
    }),
  );
}

/** 1. WebSockets that never send their connection params, streaming lane messages. */
async function unauthLane(r: Run) {
  const { tg, t } = r;
  const payload = `~[{"type":"typing","boardId":"b","pad":"${'x'.repeat(tg.size.laneMessageBytes - 50)}"}]`;
  const holds: number[] = [];
  await loops(r, tg.size.laneSockets, async () => {
    const ws = openWs(tg, '/trpc?connectionParams=1', t, 'socket');
    t.sent('sockets');
    if (!(await opened(ws))) return void (await sleep(500));
    const t0 = wall();
    const end = closed(ws);
    let open = true;
    void end.then(() => (open = false));
    while (open && live(r)) {
      // Keep a few MiB in flight: the attacker sends as fast as the server takes it.
      // (a few per turn: loopback often takes a whole message at once, leaving bufferedAmount at 0)
      for (let k = 0; k < 4 && ws.readyState === WebSocket.OPEN && ws.bufferedAmount < 4 * 1024 * 1024; k++) {
        ws.send(payload);
        t.sent('lane messages');
        t.add('MiB sent', payload.length / 1048576);
      }
      await sleep(1);
    }
    if (open) {
      ws.terminate();
      t.ok('sockets still open at the end');
      return;
    }
    const { code, reason } = await end;
    holds.push(wall() - t0);
    t.refused(`socket closed by the server: ${code}`, reason);
    t.figure('median seconds until closed', median(holds) / 1000);
    await sleep(100);
  });
}

/** 2. Repeated SVG, PNG (scale 4) exports and board lists of the heavy board, 4 at a time; the board's seq is bumped so no cache helps. */
async function heavyExport(r: Run) {
  const { tg, t } = r;
  const auth = { authorization: `Bearer ${tg.token}` };
  const kinds = [
    { what: 'export.svg', path: `/api/boards/${tg.heavyBoardId}/export.svg` },
    { what: 'export.png?scale=4', path: `/api/boards/${tg.heavyBoardId}/export.png?scale=4` },
    { what: 'board.list', path: '/trpc/board.list' },
  ];
  let next = 0;
  const bumper = bumpLoop(r, tg.heavyBoardId);
  await loops(r, tg.size.exportConcurrency, async () => {
    const k = kinds[next++ % kinds.length]!;
    t.sent(k.what);
    try {
      const res = await httpRequest({ port: tg.port, address: tg.address, method: 'GET', path: k.path, headers: auth, timeoutMs: left(r), discard: true, signal: r.stop });
      t.add('MB received', res.bytes / 1e6);
      t.max(`slowest ${k.what} s`, res.ms / 1000);
      tallyHttp(t, k.what, res);
    } catch (err) {
      t.refused(`${k.what}: ${errorKind(err)}`, String(err));
    }
  });
  await bumper;
}

/** Changes a board (add, then delete, a small rectangle) twice a second, so results cached by seq do not help. */
async function bumpLoop(r: Run, boardId: string) {
  let n = 0;
  while (live(r)) {
    const id = `bump${r.tg.seed}_${n++}`;
    const ops = [
      { type: 'add', opId: `${id}a`, elements: [{ type: 'rectangle', id, x: 10, y: 10, z: 'a0', width: 5, height: 5, fillColor: 'transparent', strokeColor: '#1e1e1e', strokeWidth: 1, opacity: 1 }] },
      { type: 'delete', opId: `${id}d`, ids: [id] },
    ];
    try {
      const res = await trpcCall(r.tg, 'board.push', { boardId, ops }, { token: r.tg.token }, 'mutation', left(r));
      if (res.error) r.t.refused(`seq bump: trpc ${res.error.code}`, res.error.message);
      else r.t.ok('seq bumps');
    } catch (err) {
      r.t.refused(`seq bump: ${errorKind(err)}`, String(err));
    }
    await sleep(500);
  }
}

/** 3. One socket that never reads, opening many subscriptions of the heavy board; a new socket every round. */
async function subscriptions(r: Run) {
  const { tg, t } = r;
  while (live(r)) {
    const ws = openWs(tg, '/trpc?connectionParams=1', t, 'socket');
    t.sent('sockets');
    if (!(await opened(ws))) {
      await sleep(500);
      continue;
    }
    let serverClosed: { code: number; reason: string } | null = null;
    const end = closed(ws).then((c) => (serverClosed = c));
    // Never read: the server's frames pile up in its send buffer (and in the kernel's).
    ws.pause();
    ws.send(connectionParams(tg.token));
    // One message per subscription (tRPC batches may be capped), 100 per turn.
    for (let i = 0; i < tg.size.subscriptions && live(r) && ws.readyState === WebSocket.OPEN; i++) {
      ws.send(`{"id":${i + 1},"method":"subscription","params":{"path":"board.onEvents","input":{"boardId":"${tg.heavyBoardId}"}}}`);
      t.sent('subscriptions');
      if (i % 100 === 99) await sleep(10);
    }
    // Hold (not reading) for the rest of the round, then read what came for up to 2 s and count it.
    const roundEnd = Math.min(r.until - 2_500, wall() + 15_000);
    while (live(r) && wall() < roundEnd) await sleep(100);
    const started = new Set<unknown>();
    let frames = 0;
    tallyReplies(ws, t, 'subscription', (id) => {
      if (started.has(id)) frames++;
      else started.add(id);
    });
    ws.resume();
    const readUntil = Math.min(wall() + 2_000, r.until + 1_000);
    while (wall() < readUntil && !serverClosed) await sleep(50);
    t.add('subscriptions answered (started or data)', started.size);
    t.add('frames read back', frames);
    if (serverClosed) t.refused(`socket closed by the server: ${(serverClosed as { code: number }).code}`, (serverClosed as { reason: string }).reason);
    else t.ok('rounds with the socket still open');
    ws.terminate();
    await end;
  }
}

/** 4. HTTP batches of 40 sign-ups in parallel, and one WebSocket message carrying many. */
async function signupFlood(r: Run) {
  const { tg, t } = r;
  let n = 0;
  const user = () => `flood${tg.seed}_${(n++).toString(36)}_${Math.floor(r.rand() * 1e6).toString(36)}`;
  const ws = (async () => {
    const sock = openWs(tg, '/trpc', t, 'ws batch');
    if (!(await opened(sock))) return;
    tallyReplies(sock, t, 'ws sign-up', () => t.ok('ws sign-ups'));
    const calls = Array.from({ length: tg.size.signupWsCalls }, (_, i) =>
      JSON.stringify({ id: i + 1, method: 'mutation', params: { path: 'auth.signUp', input: { username: user(), password: 'flood-password-123' } } }),
    );
    const msg = `[${calls.join(',')}]`;
    sock.send(msg);
    t.sent('ws sign-ups', calls.length);
    t.figure('ws message KiB', msg.length / 1024);
    const end = closed(sock);
    const c = await Promise.race([end, sleep(Math.max(0, r.until - wall())).then(() => null)]);
    if (c) t.refused(`ws batch socket closed by the server: ${c.code}`, c.reason);
    sock.terminate();
  })();
  await loops(r, tg.size.signupConcurrency, async () => {
    const count = tg.size.signupBatch;
    const input: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) input[i] = { username: user(), password: 'flood-password-123' };
    const path = `/trpc/${Array(count).fill('auth.signUp').join(',')}?batch=1`;
    t.sent('http batches');
    t.sent('http sign-ups', count);
    try {
      const res = await httpRequest({ port: tg.port, address: tg.address, method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(input), timeoutMs: left(r, 5_000), signal: r.stop });
      t.max('slowest batch s', res.ms / 1000);
      let answers: unknown;
      try {
        answers = JSON.parse(res.body!.toString());
      } catch {
        answers = null;
      }
      if (!Array.isArray(answers)) {
        tallyHttp(t, 'http batch', res);
        if (res.status === 429) await sleep(1_000 * Math.min(5, Number(res.headers['retry-after']) || 1));
        return;
      }
      for (const a of answers as { result?: unknown; error?: { message?: string; data?: { code?: string } } }[]) {
        if (a.error) t.refused(`http sign-up: trpc ${a.error.data?.code ?? 'error'}`, a.error.message ?? '');
        else t.ok('http sign-ups');
      }
    } catch (err) {
      t.refused(`http batch: ${errorKind(err)}`, String(err));
    }
  });
  await ws;
}

/** 5. POSTs with complete headers and a Content-Length, then no body; each socket closed by the server is opened again. */
async function slowloris(r: Run) {
  const { tg, t } = r;
  const head = `POST /trpc/auth.signIn HTTP/1.1\r\nHost: 127.0.0.1:${tg.port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
  const open = new Set<net.Socket>();
  const holds: number[] = [];
  let connecting = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      connecting++;
      t.sent('sockets');
      const s = net.connect({ host: '127.0.0.1', port: tg.port, localAddress: tg.address });
      let t0 = 0;
      let answer = '';
      let failed = false;
      s.setTimeout(10_000, () => {
        if (!t0) s.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' }));
      });
      s.on('connect', () => {
        connecting--;
        t0 = wall();
        open.add(s);
        t.max('most sockets open at once', open.size);
        s.setTimeout(0);
        s.write(head);
        resolve();
      });
      s.on('data', (d: Buffer) => {
        answer ||= d.toString('latin1').split('\r\n')[0] ?? '';
      });
      s.on('error', (err) => {
        failed = true;
        if (!t0) {
          connecting--;
          t.refused(`connect: ${errorKind(err)}`, err.message);
          resolve();
        } else if (live(r)) t.refused(`socket error: ${errorKind(err)}`, err.message);
      });
      s.on('close', () => {
        open.delete(s);
        if (!t0) {
          if (!failed) {
            connecting--;
            t.refused('connect: closed before connecting');
            resolve();
          }
          return;
        }
        if (!live(r)) return;
        holds.push(wall() - t0);
        t.refused(`closed by the server${answer ? ` after "${answer}"` : ' without an answer'}`, answer);
      });
    });
  // Keep `slowlorisSockets` open: (re)open up to 200 at a time, at most about 1,000 a second.
  while (live(r)) {
    const want = tg.size.slowlorisSockets - open.size - connecting;
    const batch = Math.min(want, 200);
    if (batch > 0) await Promise.all(Array.from({ length: batch }, one));
    await sleep(batch > 0 ? 200 : 100);
  }
  t.figure('sockets still open at the end', open.size);
  t.figure('median seconds held before the server closed', holds.length ? median(holds) / 1000 : 0);
  for (const s of open) s.destroy();
}

/** 6. 8192 x 8192 PNG exports in parallel, 2 MB pushes of 40 x 5,000-point strokes from 4 connections, 2 MiB deeply nested JSON to auth.signIn. */
async function expensive(r: Run) {
  const { tg, t } = r;
  const auth = { authorization: `Bearer ${tg.token}` };
  const bumper = bumpLoop(r, tg.wideBoardId);
  const png = loops(r, tg.size.pngConcurrency, async () => {
    t.sent('png 8192');
    try {
      const res = await httpRequest({ port: tg.port, address: tg.address, method: 'GET', path: `/api/boards/${tg.wideBoardId}/export.png?scale=4`, headers: auth, timeoutMs: left(r), discard: true, signal: r.stop });
      t.max('slowest png s', res.ms / 1000);
      tallyHttp(t, 'png 8192', res);
    } catch (err) {
      t.refused(`png: ${errorKind(err)}`, String(err));
    }
  });
  const pushes = heavyPushes(r, tg.pushBoardId, tg.size.pushConnections, 'push 2 MB', false);
  const depth = Math.floor((tg.size.nestedBytes - 20) / 2);
  const nested = `{"username":${'['.repeat(depth)}${']'.repeat(depth)}}`;
  const deep = loops(r, tg.size.nestedConcurrency, async () => {
    t.sent('nested 2 MiB');
    try {
      const res = await httpRequest({ port: tg.port, address: tg.address, method: 'POST', path: '/trpc/auth.signIn', headers: { 'content-type': 'application/json' }, body: nested, timeoutMs: left(r), signal: r.stop });
      t.max('slowest nested s', res.ms / 1000);
      tallyHttp(t, 'nested', res);
      if (res.status === 429) await sleep(500);
    } catch (err) {
      t.refused(`nested: ${errorKind(err)}`, String(err));
    }
  });
  await Promise.all([png, pushes, deep, bumper]);
}

/**
 * Rounds of `strokesPerPush` heavy strokes added over HTTP and then deleted by one push, in
 * `connections` loops. With `split`, a round is sent in as many pushes as the server's per-push
 * limit needs (a refusal naming "at most N points" sets the size); without, as one push (refused or not).
 */
async function heavyPushes(r: Run, boardId: string, connections: number, what: string, split: boolean) {
  const { tg, t } = r;
  const pointsJson = JSON.stringify(heavyStroke('x', 0, 0, tg.size.pointsPerStroke, prng(tg.seed)).points);
  let n = 0;
  let chunk = tg.size.strokesPerPush;
  await loops(r, connections, async (loop) => {
    const no = n++;
    const ids = Array.from({ length: tg.size.strokesPerPush }, (_, i) => `h${tg.seed}_${loop}_${no}_${i}`);
    const added: string[] = [];
    try {
      for (let i = 0; i < ids.length && live(r); ) {
        const part = ids.slice(i, i + chunk);
        const body = heavyPushBody(boardId, `hp${tg.seed}_${loop}_${no}_${i}`, part, pointsJson, i);
        t.sent(what);
        t.add('MB pushed', body.length / 1e6);
        const res = await httpRequest({ port: tg.port, address: tg.address, method: 'POST', path: '/trpc/board.push', headers: { 'content-type': 'application/json', authorization: `Bearer ${tg.token}` }, body, timeoutMs: left(r), signal: r.stop });
        t.max(`slowest ${what} s`, res.ms / 1000);
        tallyHttp(t, what, res);
        if (res.status === 200) {
          added.push(...part);
          t.add('strokes added', part.length);
          i += part.length;
          continue;
        }
        if (res.status === 429) {
          await sleep(1_000 * Math.min(5, Number(res.headers['retry-after']) || 1));
          continue;
        }
        const most = split ? /at most ([\d,]+) points/.exec(res.body?.toString() ?? '') : null;
        const fits = most ? Math.floor(Number(most[1]!.replace(/,/g, '')) / tg.size.pointsPerStroke) : 0;
        if (fits >= 1 && fits < chunk) {
          chunk = fits;
          continue;
        }
        break;
      }
      if (!added.length) return;
      const del = await trpcCall(tg, 'board.push', { boardId, ops: [{ type: 'delete', opId: `hd${tg.seed}_${loop}_${no}`, ids: added }] }, { token: tg.token }, 'mutation', left(r));
      if (del.error) t.refused(`delete: trpc ${del.error.code}`, del.error.message);
      else t.ok('deletes');
    } catch (err) {
      t.refused(`${what}: ${errorKind(err)}`, String(err));
    }
  });
}

/** 7. Add 40 heavy strokes (in as many pushes as the server requires), delete them, repeat (one connection); the benchmark measures the database's growth. */
async function disk(r: Run) {
  await heavyPushes(r, r.tg.diskBoardId, 1, 'push of heavy strokes', true);
}

/** 8. An editor of the normal board sends previews at the rate limit, each with as many points as are accepted. */
async function previewFlood(r: Run) {
  const { tg, t } = r;
  const pts = heavyStroke('x', 0, 0, tg.size.pointsPerStroke, prng(tg.seed + 1)).points;
  // Points per message, for a new preview stroke and for an append: as many as the server accepts
  // (a refusal naming "at most N points" at `.element` or `.append` sets them).
  const size = { element: pts.length, append: pts.length };
  const json = new Map<number, string>();
  const slice = (n: number) => json.get(n) ?? (json.set(n, JSON.stringify(pts.slice(0, n))), json.get(n)!);
  let element = 0;
  let fresh = true;
  while (live(r)) {
    const ws = openWs(tg, '/trpc?connectionParams=1', t, 'socket');
    t.sent('sockets');
    if (!(await opened(ws))) {
      await sleep(500);
      continue;
    }
    ws.send(connectionParams(tg.previewToken));
    ws.on('message', (data: Buffer) => {
      if (data.length === 4 && data.toString() === 'PING') return ws.send('PONG');
      if (data[0] !== 0x7b) return;
      let m: { id?: unknown; error?: { message?: string; data?: { code?: string } } };
      try {
        m = JSON.parse(data.toString()) as typeof m;
      } catch {
        return;
      }
      if (!m.error) return;
      const code = m.error.data?.code ?? 'error';
      const message = m.error.message ?? '';
      const most = /at most ([\d,]+)/.exec(message);
      const at = /\.(element|append)\b/.exec(message);
      t.refused(`preview: ${m.id === '~' ? 'lane' : 'trpc'} ${code}${at ? ` (${at[1]})` : ''}`, message);
      if (code === 'TOO_MANY_REQUESTS') return;
      if (most && at) {
        const n = Number(most[1]!.replace(/,/g, ''));
        if (n >= 1) size[at[1] as 'element' | 'append'] = Math.min(size[at[1] as 'element' | 'append'], n);
      }
      // Refused for its size, or the stroke is full: go on with a new stroke.
      fresh = true;
    });
    const end = closed(ws);
    let open = true;
    void end.then(() => (open = false));
    const period = 1000 / tg.size.previewsPerSecond;
    let due = wall();
    while (open && live(r)) {
      if (due < wall() - 1_000) due = wall(); // fell behind (a busy machine): no catching up in a burst
      while (open && wall() >= due) {
        let body: string;
        if (fresh) {
          if (element > 0) ws.send(`~[{"type":"preview","boardId":"${tg.normalBoardId}","elementId":"pf${tg.seed}_${element - 1}","done":true}]`);
          const id = `pf${tg.seed}_${element++}`;
          fresh = false;
          body = `"elementId":"${id}","element":{"type":"stroke","id":"${id}","x":300,"y":300,"z":"a0","strokeColor":"#e03131","strokeWidth":2,"opacity":1,"points":${slice(size.element)}}`;
          t.sent('preview strokes');
        } else body = `"elementId":"pf${tg.seed}_${element - 1}","append":${slice(size.append)}`;
        const msg = `~[{"type":"preview","boardId":"${tg.normalBoardId}",${body}}]`;
        ws.send(msg);
        t.sent('previews');
        t.add('MB sent', msg.length / 1e6);
        t.figure('points per new stroke (last)', size.element);
        t.figure('points per append (last)', size.append);
        due += period;
      }
      await sleep(1);
    }
    if (open) {
      ws.terminate();
      t.ok('sockets still open at the end');
    } else {
      const c = await end;
      t.refused(`socket closed by the server: ${c.code}`, c.reason);
      await sleep(200);
    }
  }
}

const RUNNERS: Record<AttackName, (r: Run) => Promise<void>> = {
  'unauth-lane': unauthLane,
  'heavy-export': heavyExport,
  subscriptions,
  'signup-flood': signupFlood,
  slowloris,
  expensive,
  disk,
  'preview-flood': previewFlood,
};

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  if (!v.length) return 0;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** Runs one attack until `until` (wall ms) or until `stop` aborts. */
export async function runAttack(attack: AttackName, tg: AttackTargets, until: number, stop: AbortSignal): Promise<AttackStats> {
  const t = new Tally(attack);
  const t0 = wall();
  await RUNNERS[attack]({ tg, t, until, stop, rand: prng(tg.seed) });
  t.figure('seconds attacking', (wall() - t0) / 1000);
  return t.stats;
}

// ---------------------------------------------------------------- worker entry

export interface AttackerData {
  role: 'attacker';
  attack: AttackName;
  targets: AttackTargets;
  /** Scheduling priority of the attacker's thread (Linux: `setpriority` on the calling thread only). */
  nice: number;
}

/**
 * In a worker thread with `workerData` of role 'attacker': posts 'ready' once loaded, runs the
 * attack on {type: 'go', until} (wall ms) and posts {type: 'done', stats}; {type: 'stop'} ends it early.
 */
if (!isMainThread && (workerData as AttackerData | undefined)?.role === 'attacker') {
  const data = workerData as AttackerData;
  if (data.nice) os.setPriority(data.nice);
  const ctl = new AbortController();
  setMaxListeners(0, ctl.signal); // one listener per request in flight
  parentPort!.on('message', (m: { type: string; until?: number }) => {
    if (m.type === 'stop') ctl.abort();
    if (m.type !== 'go' || m.until === undefined) return;
    // Ends with the deadline even if a loop is stuck in a request.
    setTimeout(() => ctl.abort(), Math.max(0, m.until - wall()) + 2_000).unref();
    runAttack(data.attack, data.targets, m.until, ctl.signal).then(
      (stats) => parentPort!.postMessage({ type: 'done', stats }),
      (err: Error) => parentPort!.postMessage({ type: 'error', message: err.stack ?? err.message }),
    );
  });
  parentPort!.postMessage({ type: 'ready' });
}
