/**
 * One shard of the classroom load generator, run in a worker thread. It owns some of the N clients:
 * every client moves its cursor, drawers also send previews and commit strokes. Most clients only
 * count bytes and pick op ids out of the raw frames (substring search, no JSON.parse); "sampled"
 * clients parse everything and measure latency from the send times embedded in the payloads.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { io as ioClient, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Frame } from '../../packages/protocol/src/events.js';
import { wsConnect } from './setup.js';
import { cursorSendTime, histAdd, makeOpId, newHist, parseOpId, stampX, strokePoints, wall, wsFrameBytes } from './util.js';

export type System = 'inkboard' | 'socketio';

export interface ShardConfig {
  system: System;
  /** Server processes: client idx connects to ports[idx % ports.length]. */
  ports: number[];
  /**
   * token: the client's API token on a server with accounts, else null; board: the board (socket.io:
   * the room) the client joins and sends to (one for a classroom, one per 10 clients for a school).
   */
  clients: { idx: number; board: string; drawer: boolean; sampled: boolean; token: string | null }[];
  cursorHz: number;
  previewHz: number;
  strokeMs: number;
  strokePoints: number;
  pointsPerPreview: number;
  connectConcurrency: number;
  /**
   * Cursor moves and previews over the ephemeral lane (`~[...]`, no reply), as the web app sends
   * them; false: as tRPC mutations. Default: the lane when the measured commit has it.
   */
  lane?: boolean;
  /** packages/protocol/src of the server measured (its wire format). */
  protocolDir: string;
  /**
   * Whether this shard's clients time the ops they receive (every member, not only the sampled).
   * False for the load threads when the sampled clients have a thread of their own: op latency is
   * then timed there, away from the load threads' event-loop lag.
   */
  timeOps: boolean;
}

export interface ClientReport {
  idx: number;
  sampled: boolean;
  /** Received in the measurement window (WebSocket frame bytes: payload + frame header). */
  bytes: number;
  msgs: number;
  /** Inkboard: subscription frames received in the window. */
  frames: number;
  /** Op ids received (any time). */
  seenOps: string[];
  /** Sampled clients: the last cursor x seen per sender index. */
  lastSeen?: [number, number][];
  subscriptionError: string | null;
  closed: boolean;
  maxBuffered: number;
}

export interface ShardReport {
  clients: ClientReport[];
  cursorHist: Uint32Array;
  opHist: Uint32Array;
  ackHist: Uint32Array;
  /** Last cursor x sent by each client of this shard. */
  lastSent: [number, number][];
  /** Ops whose push was sent in the window: op id and author index. */
  opsSent: { opId: string; author: number }[];
  sent: { cursors: number; previews: number; ops: number };
  expectedSends: { cursors: number; previews: number; ops: number };
  pushErrors: string[];
  mutationErrors: number;
  mutationErrorSample: string | null;
  previewsSeenSampled: number;
  bytesPerPointSample: number | null;
  opEventBytesSample: number | null;
  lag: { mean: number; p50: number; p99: number; max: number };
  connectMs: number;
  strayNegative: number;
}

const cfg = workerData as ShardConfig;
const port = parentPort!;
const portOf = (c: { idx: number }) => cfg.ports[c.idx % cfg.ports.length]!;
/** The lane when asked for, else when the measured commit has it (its protocol has lane.ts). */
const useLane = cfg.lane ?? existsSync(join(cfg.protocolDir, 'lane.ts'));

/** The measured server's `fromWireFrame` (committed strokes may travel packed); identity before it existed. */
const fromWireFrame: (wire: any) => Frame = await import(pathToFileURL(join(cfg.protocolDir, 'wire.ts')).href).then(
  (m: { fromWireFrame: (w: any) => Frame }) => m.fromWireFrame,
  () => (w: any) => w as Frame,
);

const OPID = Buffer.from('"opId":"');
const CURSOR_EV = Buffer.from('{"type":"cursor'); // "cursor" events, or one "cursors" event (the packed form)
const OP_MSG = Buffer.from('42["op"');
const NULL_REPLY = Buffer.from('"data":null}');

let tM0 = Infinity;
let tM1 = Infinity;
const inWindow = (t: number) => t >= tM0 && t <= tM1;

const cursorHist = newHist();
const opHist = newHist();
const ackHist = newHist();
let strayNegative = 0;
let previewsSeenSampled = 0;
let bytesPerPointSample: number | null = null;
let opEventBytesSample: number | null = null;
let mutationErrors = 0;
let mutationErrorSample: string | null = null;
const pushErrors: string[] = [];
const opsSent: { opId: string; author: number }[] = [];
const sent = { cursors: 0, previews: 0, ops: 0 };

interface Client {
  idx: number;
  board: string;
  drawer: boolean;
  sampled: boolean;
  token: string | null;
  ws: WebSocket | null;
  sio: Socket | null;
  reqId: number;
  ready: boolean;
  bytes: number;
  msgs: number;
  frames: number;
  seenOps: Set<string>;
  lastSeen: Map<number, number> | null;
  subscriptionError: string | null;
  closed: boolean;
  maxBuffered: number;
  lastCursorX: number;
  nextCursor: number;
  nextPreview: number;
  strokeStart: number;
  strokeNo: number;
  strokeOpen: boolean;
  pointCursor: number;
  pendingPush: Map<number, { opId: string; t: number }>;
  points: [number, number, number][];
}

const clients: Client[] = cfg.clients.map((c) => ({
  ...c,
  ws: null,
  sio: null,
  reqId: 1,
  ready: false,
  bytes: 0,
  msgs: 0,
  frames: 0,
  seenOps: new Set(),
  lastSeen: c.sampled ? new Map() : null,
  subscriptionError: null,
  closed: false,
  maxBuffered: 0,
  lastCursorX: NaN,
  nextCursor: 0,
  nextPreview: 0,
  strokeStart: 0,
  strokeNo: 0,
  strokeOpen: false,
  pointCursor: 0,
  pendingPush: new Map(),
  points: c.drawer ? strokePoints(cfg.strokePoints, c.idx + 1) : [],
}));

function count(c: Client, len: number, now: number) {
  if (now >= tM0 && now <= tM1) {
    c.bytes += wsFrameBytes(len);
    c.msgs++;
  }
}

/**
 * Cheap: op ids in a frame, looking only before the first cursor event (the hub puts cursors last).
 * Each is timed like a sampled client's when the shard times ops (`timeOps`: the op id carries its
 * author and send time), so the op latency can be measured at every member of every board, not only
 * at the sampled clients: ~2,700 receipts per 10 s at N = 600 instead of ~40, whose p99 was their
 * maximum. Every op is recorded as seen either way (the delivery check).
 */
function scanOps(c: Client, buf: Buffer, now: number) {
  const end = buf.indexOf(CURSOR_EV);
  const head = end < 0 ? buf : buf.subarray(0, end);
  let i = head.indexOf(OPID);
  while (i >= 0) {
    const s = i + OPID.length;
    const e = head.indexOf(0x22, s);
    const opId = head.toString('latin1', s, e);
    recordOp(c, opId, now);
    i = head.indexOf(OPID, e);
  }
}

/** The first receipt of an op (a duplicate, e.g. a resent frame, is not timed again). */
function recordOp(c: Client, opId: string, now: number) {
  if (c.seenOps.has(opId)) return;
  c.seenOps.add(opId);
  if (!cfg.timeOps) return;
  const { author, t } = parseOpId(opId);
  if (author !== c.idx && inWindow(t)) histAdd(opHist, now - t);
}

function recordCursor(c: Client, x: number, y: number, now: number) {
  c.lastSeen!.set(y, x);
  if (y === c.idx) return;
  const t = cursorSendTime(x, now);
  if (inWindow(t)) {
    if (now - t < 0) strayNegative++;
    histAdd(cursorHist, now - t);
  }
}

function noteMutationError(text: string) {
  mutationErrors++;
  mutationErrorSample ??= text.slice(0, 300);
}

/** Replies to this client's own mutations: nulls are skipped cheaply; push acks and errors are parsed. */
function onReply(c: Client, buf: Buffer, now: number) {
  if (buf.length < 72 && buf.indexOf(NULL_REPLY) > 0) return;
  const msg = JSON.parse(buf.toString()) as { id: number; error?: { message: string }; result?: unknown };
  const push = c.pendingPush.get(msg.id);
  if (push) {
    c.pendingPush.delete(msg.id);
    if (msg.error) pushErrors.push(`${push.opId}: ${msg.error.message}`);
    else if (inWindow(push.t)) histAdd(ackHist, now - push.t);
  } else if (msg.error) noteMutationError(JSON.stringify(msg.error));
}

// ---------------------------------------------------------------- Inkboard (tRPC over raw ws)

function inkboardMessage(c: Client, buf: Buffer) {
  const now = wall();
  count(c, buf.length, now);
  if (buf.length === 4 && buf[0] === 0x50 && buf[1] === 0x49) return c.ws!.send('PONG'); // keep-alive "PING"
  if (buf[0] !== 0x7b) return; // "PONG" and other text
  // `{"id":1,` is the board subscription; other ids answer this client's mutations.
  if (!(buf[6] === 0x31 && buf[7] === 0x2c)) return onReply(c, buf, now);
  if (buf[9] === 0x65 /* "error" */) {
    c.subscriptionError = buf.toString().slice(0, 300);
    return;
  }
  if (buf.length < 48 && buf.toString().includes('"stopped"')) {
    c.subscriptionError ??= 'subscription stopped by the server';
    return;
  }
  if (buf.length < 48) return; // {"type":"started"}
  c.ready = true;
  if (inWindow(now)) c.frames++;
  if (!c.sampled) return scanOps(c, buf, now);
  const msg = JSON.parse(buf.toString()) as { result: { data: { data: { events: unknown[] } } } };
  const wire = msg.result.data.data;
  // Committed strokes may travel packed: unpack as a client does (a no-op for plain frames).
  const frame = fromWireFrame(wire);
  frame.events.forEach((ev, i) => {
    if (ev.type === 'cursor') recordCursor(c, ev.x, ev.y, now);
    else if (ev.type === 'op') {
      recordOp(c, ev.op.opId, now);
      if (bytesPerPointSample === null && ev.op.type === 'add' && ev.op.elements.length === 1 && ev.op.elements[0]!.type === 'stroke') {
        // The op event as it was on the wire, over the number of points it carries.
        opEventBytesSample = Buffer.byteLength(JSON.stringify(wire.events[i]));
        bytesPerPointSample = opEventBytesSample / ev.op.elements[0]!.points.length;
      }
    } else if (ev.type === 'preview') previewsSeenSampled++;
  });
}

function connectInkboard(c: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    const { url, first } = wsConnect(portOf(c), c.token);
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: !c.sampled });
    c.ws = ws;
    const timer = setTimeout(() => reject(new Error(`client ${c.idx}: no snapshot within 30 s`)), 30_000);
    ws.on('open', () => {
      if (first) ws.send(first);
      ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path: 'board.onEvents', input: { boardId: c.board } } }));
    });
    ws.on('message', (data: Buffer) => {
      inkboardMessage(c, data);
      if (c.ready) {
        clearTimeout(timer);
        resolve();
      }
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      c.closed = true;
      c.subscriptionError ??= `connection closed by the server: ${code} ${reason.toString()}`;
      reject(new Error(`client ${c.idx}: connection closed (${code} ${reason.toString()})`));
    });
  });
}

function inkboardMutation(c: Client, path: string, input: string): number {
  const id = ++c.reqId;
  c.ws!.send(`{"id":${id},"method":"mutation","params":{"path":"${path}","input":${input}}}`);
  return id;
}

// ---------------------------------------------------------------- socket.io (raw engine.io v4 or socket.io-client)

function sioRawMessage(c: Client, buf: Buffer) {
  const now = wall();
  count(c, buf.length, now);
  const b0 = buf[0];
  if (b0 === 0x32 && buf.length === 1) return c.ws!.send('3'); // engine.io ping -> pong
  if (b0 === 0x34 && buf[1] === 0x32) {
    if (buf[4] === 0x6f && buf[5] === 0x70 && buf[6] === 0x22 && buf.indexOf(OP_MSG) === 0) scanOps(c, buf, now);
    return;
  }
  if (b0 === 0x30) return c.ws!.send('40'); // engine.io open -> socket.io connect
  if (b0 === 0x34 && buf[1] === 0x30) return c.ws!.send(`420["join","${c.board}"]`); // connected -> join the room
  if (b0 === 0x34 && buf[1] === 0x33 && buf[2] === 0x30) c.ready = true; // ack of the join
}

function connectSio(c: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`client ${c.idx}: not joined within 30 s`)), 30_000);
    if (c.sampled) {
      const socket = ioClient(`http://127.0.0.1:${portOf(c)}`, { transports: ['websocket'], forceNew: true, reconnection: false });
      c.sio = socket;
      socket.on('connect', () => {
        socket.emit('join', c.board, () => {
          c.ready = true;
          clearTimeout(timer);
          resolve();
        });
      });
      socket.on('cursor', (d: { x: number; y: number }) => {
        recordCursor(c, d.x, d.y, wall());
      });
      socket.on('preview', () => {
        previewsSeenSampled++;
      });
      socket.on('op', (d: { opId: string; elements: { points: unknown[] }[] }) => {
        const now = wall();
        recordOp(c, d.opId, now);
        if (bytesPerPointSample === null) {
          opEventBytesSample = Buffer.byteLength(`42${JSON.stringify(['op', d])}`);
          bytesPerPointSample = opEventBytesSample / d.elements[0]!.points.length;
        }
      });
      socket.on('connect_error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.on('disconnect', () => {
        c.closed = true;
      });
      return;
    }
    const ws = new WebSocket(`ws://127.0.0.1:${portOf(c)}/socket.io/?EIO=4&transport=websocket`, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
    });
    c.ws = ws;
    ws.on('message', (data: Buffer) => {
      sioRawMessage(c, data);
      if (c.ready) {
        clearTimeout(timer);
        resolve();
      }
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('close', () => {
      c.closed = true;
    });
  });
}

function sioEmit(c: Client, event: string, json: string, obj: () => unknown) {
  if (c.sio) c.sio.emit(event, obj());
  else c.ws!.send(`42["${event}",${json}]`);
}

// ---------------------------------------------------------------- the workload

const STYLE = '"strokeColor":"#1e1e1e","strokeWidth":2,"opacity":1';

function sendCursor(c: Client) {
  const t = wall();
  const x = stampX(t);
  c.lastCursorX = x;
  if (cfg.system === 'inkboard' && useLane) c.ws!.send(`~[{"type":"cursor","boardId":"${c.board}","x":${x},"y":${c.idx}}]`);
  else if (cfg.system === 'inkboard') inkboardMutation(c, 'board.cursor', `{"boardId":"${c.board}","x":${x},"y":${c.idx}}`);
  else sioEmit(c, 'cursor', `{"x":${x},"y":${c.idx}}`, () => ({ x, y: c.idx }));
  if (inWindow(t)) sent.cursors++;
}

function nextPoints(c: Client): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let i = 0; i < cfg.pointsPerPreview; i++) out.push(c.points[c.pointCursor++ % c.points.length]!);
  return out;
}

function sendPreview(c: Client, t: number) {
  const elementId = `p${c.idx}_${c.strokeNo}`;
  let body: string;
  if (!c.strokeOpen) {
    c.strokeOpen = true;
    c.pointCursor = 0;
    const pts = JSON.stringify(nextPoints(c));
    body = `"elementId":"${elementId}","element":{"type":"stroke","id":"${elementId}","x":${100 + c.idx},"y":200,"z":"a0","points":${pts},${STYLE}}`;
  } else body = `"elementId":"${elementId}","append":${JSON.stringify(nextPoints(c))}`;
  sendPreviewBody(c, body);
  if (inWindow(t)) sent.previews++;
}

function sendPreviewBody(c: Client, body: string) {
  if (cfg.system === 'inkboard' && useLane) c.ws!.send(`~[{"type":"preview","boardId":"${c.board}",${body}}]`);
  else if (cfg.system === 'inkboard') inkboardMutation(c, 'board.preview', `{"boardId":"${c.board}",${body}}`);
  else sioEmit(c, 'preview', `{${body}}`, () => JSON.parse(`{${body}}`));
}

function commitStroke(c: Client) {
  sendPreviewBody(c, `"elementId":"p${c.idx}_${c.strokeNo}","done":true`);
  c.strokeOpen = false;
  const t = wall();
  const opId = makeOpId(c.idx, c.strokeNo, t);
  const element = `{"type":"stroke","id":"k${opId.slice(1)}","x":${100 + c.idx},"y":200,"z":"a0","points":${JSON.stringify(c.points)},${STYLE}}`;
  const op = `{"type":"add","opId":"${opId}","elements":[${element}]}`;
  if (cfg.system === 'inkboard') {
    const id = inkboardMutation(c, 'board.push', `{"boardId":"${c.board}","ops":[${op}]}`);
    c.pendingPush.set(id, { opId, t });
  } else sioEmit(c, 'op', `{"opId":"${opId}","elements":[${element}]}`, () => JSON.parse(`{"opId":"${opId}","elements":[${element}]}`));
  if (inWindow(t)) {
    sent.ops++;
    opsSent.push({ opId, author: c.idx });
  }
  c.strokeNo++;
}

let stopAt = Infinity;

function tick() {
  const now = wall();
  if (now >= stopAt) return;
  const cursorPeriod = 1000 / cfg.cursorHz;
  const previewPeriod = 1000 / cfg.previewHz;
  for (const c of clients) {
    if (c.closed) continue;
    if (now >= c.nextCursor) {
      sendCursor(c);
      c.nextCursor += cursorPeriod;
      if (c.nextCursor <= now) c.nextCursor = now + cursorPeriod; // a missed slot is skipped, not caught up
    }
    if (!c.drawer) continue;
    if (now >= c.strokeStart + cfg.strokeMs) {
      commitStroke(c);
      c.strokeStart += cfg.strokeMs;
      if (c.strokeStart + cfg.strokeMs <= now) c.strokeStart = now;
      c.nextPreview = c.strokeStart;
    }
    if (now >= c.nextPreview && now >= c.strokeStart) {
      sendPreview(c, now);
      c.nextPreview += previewPeriod;
      if (c.nextPreview <= now) c.nextPreview = now + previewPeriod;
    }
  }
  setTimeout(tick, 1);
}

async function connectAll(): Promise<number> {
  const t0 = wall();
  const queue = [...clients];
  const connect = cfg.system === 'inkboard' ? connectInkboard : connectSio;
  await Promise.all(
    Array.from({ length: cfg.connectConcurrency }, async () => {
      for (let c = queue.shift(); c; c = queue.shift()) await connect(c);
    }),
  );
  return wall() - t0;
}

const LAG_RESOLUTION_MS = 5;
const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
let lagStats = { mean: 0, p50: 0, p99: 0, max: 0 };
let connectMs = 0;

port.on('message', (msg: { type: 'start'; tStart: number; tM0: number; tM1: number } | { type: 'report' }) => {
  if (msg.type === 'start') {
    tM0 = msg.tM0;
    tM1 = msg.tM1;
    stopAt = msg.tM1;
    const cursorPeriod = 1000 / cfg.cursorHz;
    for (const c of clients) {
      c.nextCursor = msg.tStart + Math.random() * cursorPeriod;
      c.strokeStart = msg.tStart + Math.random() * cfg.strokeMs;
      c.nextPreview = c.strokeStart;
    }
    setTimeout(tick, Math.max(0, msg.tStart - wall()));
    setTimeout(() => {
      lag.reset();
      lag.enable();
    }, Math.max(0, tM0 - wall()));
    setTimeout(() => {
      lag.disable();
      // The histogram records the interval between checks; the lag is what exceeds the resolution.
      const ms = (ns: number) => Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS);
      lagStats = { mean: ms(lag.mean), p50: ms(lag.percentile(50)), p99: ms(lag.percentile(99)), max: ms(lag.max) };
      for (const c of clients) c.maxBuffered = Math.max(c.maxBuffered, c.ws?.bufferedAmount ?? 0);
    }, Math.max(0, tM1 - wall()) + 5);
  } else if (msg.type === 'report') {
    const cursorPeriodS = 1 / cfg.cursorHz;
    const windowS = (tM1 - tM0) / 1000;
    const drawers = clients.filter((c) => c.drawer).length;
    const report: ShardReport = {
      clients: clients.map((c) => ({
        idx: c.idx,
        sampled: c.sampled,
        bytes: c.bytes,
        msgs: c.msgs,
        frames: c.frames,
        seenOps: [...c.seenOps],
        lastSeen: c.lastSeen ? [...c.lastSeen] : undefined,
        subscriptionError: c.subscriptionError,
        closed: c.closed,
        maxBuffered: c.maxBuffered,
      })),
      cursorHist,
      opHist,
      ackHist,
      lastSent: clients.map((c) => [c.idx, c.lastCursorX]),
      opsSent,
      sent,
      expectedSends: {
        cursors: Math.round((clients.length * windowS) / cursorPeriodS),
        previews: Math.round(drawers * windowS * cfg.previewHz),
        ops: Math.round((drawers * windowS * 1000) / cfg.strokeMs),
      },
      pushErrors,
      mutationErrors,
      mutationErrorSample,
      previewsSeenSampled,
      bytesPerPointSample,
      opEventBytesSample,
      lag: lagStats,
      connectMs,
      strayNegative,
    };
    port.postMessage({ type: 'report', report });
    for (const c of clients) {
      c.sio?.close();
      c.ws?.terminate();
    }
  }
});

connectAll().then(
  (ms) => {
    connectMs = ms;
    port.postMessage({ type: 'ready', connectMs: ms });
  },
  (err: Error) => port.postMessage({ type: 'error', message: err.message }),
);
