/**
 * Join benchmark: a board with 10,000 elements, then a new client subscribes; time from sending the
 * subscription to the snapshot received, JSON-parsed and applied into a Map with `receiveFrame`.
 */
import WebSocket from 'ws';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ClientBoard, FrameResult } from '../../packages/protocol/src/clientBoard.js';
import type { Frame } from '../../packages/protocol/src/events.js';
import { setupClassroom, wsConnect } from './setup.js';
import { median, round2, sleep, strokePoints } from './util.js';

export interface JoinResult {
  elements: number;
  strokes: number;
  rectangles: number;
  snapshotBytes: number;
  populateMs: number;
  warmupMs: number;
  /** parseMs: JSON.parse and unpacking of packed strokes (fromWireFrame). */
  trials: { totalMs: number; receiveMs: number; parseMs: number; applyMs: number }[];
  medianMs: number;
  medianReceiveMs: number;
  medianParseMs: number;
  medianApplyMs: number;
}

/** A tRPC-over-WebSocket connection with request/response for mutations. */
export class TrpcSocket {
  private nextId = 100;
  private waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  onSubscription: ((raw: Buffer, receivedAt: number) => void) | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const at = performance.now();
      if (data.length === 4 && data.toString() === 'PING') return ws.send('PONG');
      if (data[0] !== 0x7b) return; // PONG
      // Subscription traffic uses id 1; hand it over unparsed so that the caller times the parse.
      if (data[6] === 0x31 && data[7] === 0x2c) return this.onSubscription?.(data, at);
      const msg = JSON.parse(data.toString()) as { id: number; error?: { message: string }; result?: { data: unknown } };
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.error) w.reject(new Error(msg.error.message));
      else w.resolve(msg.result?.data);
    });
  }

  static open(port: number, token: string | null = null): Promise<TrpcSocket> {
    return new Promise((resolve, reject) => {
      const { url, first } = wsConnect(port, token);
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const timer = setTimeout(() => reject(new Error('WebSocket did not open within 10 s')), 10_000);
      ws.once('open', () => {
        clearTimeout(timer);
        if (first) ws.send(first);
        resolve(new TrpcSocket(ws));
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  mutation<T>(path: string, input: unknown, timeoutMs = 30_000): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${path}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.ws.send(JSON.stringify({ id, method: 'mutation', params: { path, input } }));
    });
  }

  close() {
    this.ws.terminate();
  }
}

const STYLE = { strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 } as const;

/**
 * `receiveFrame` (clientBoard.ts) and `fromWireFrame` (wire.ts) of the protocol the measured server
 * speaks: `protocolDir` is its packages/protocol/src.
 */
async function clientProtocol(protocolDir: string) {
  const load = (file: string) => import(pathToFileURL(join(protocolDir, file)).href);
  const board = (await load('clientBoard.ts')) as { receiveFrame: (b: ClientBoard, f: Frame) => FrameResult; emptyClientBoard: ClientBoard };
  const wire = (await load('wire.ts').catch(() => null)) as { fromWireFrame: (w: unknown) => Frame } | null;
  return { ...board, fromWireFrame: wire?.fromWireFrame ?? ((w: unknown) => w as Frame) };
}

export async function runJoin(port: number, opts: { elements: number; trials: number; protocolDir: string; log: (s: string) => void }): Promise<JoinResult> {
  const { receiveFrame, emptyClientBoard, fromWireFrame } = await clientProtocol(opts.protocolDir);
  const { boardId, ownerToken } = await setupClassroom(port, 0, 'join benchmark');
  const admin = await TrpcSocket.open(port, ownerToken);
  // 5 ops of 100 elements per push (about 0.3 MB, under the server's WebSocket message limit).
  const perOp = 100;
  const opsPerPush = 5;
  let made = 0;
  let strokes = 0;
  let rectangles = 0;
  const t0 = performance.now();
  let pushNo = 0;
  while (made < opts.elements) {
    const ops = [];
    for (let o = 0; o < opsPerPush && made < opts.elements; o++) {
      const elements = [];
      for (let e = 0; e < perOp && made < opts.elements; e++, made++) {
        const x = (made % 100) * 40;
        const y = Math.floor(made / 100) * 40;
        if (made % 2 === 0) {
          strokes++;
          elements.push({ type: 'stroke', id: `s${made}`, x, y, z: 'a0', points: strokePoints(50, made), ...STYLE });
        } else {
          rectangles++;
          elements.push({ type: 'rectangle', id: `r${made}`, x, y, z: 'a0', width: 30, height: 20, fillColor: 'transparent', ...STYLE });
        }
      }
      ops.push({ type: 'add', opId: `join${pushNo}_${o}`, elements });
    }
    // The server charges pushes by points and bytes (issue 13): past the budget it answers "Too many
    // ... slow down", and the setup waits and sends the same push again (same op ids, applied once).
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.mutation('board.push', { boardId, ops });
        break;
      } catch (err) {
        if (attempt >= 100 || !/too many|slow down|retry/i.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    pushNo++;
  }
  const populateMs = performance.now() - t0;
  admin.close();

  const trial = async () => {
    const client = await TrpcSocket.open(port, ownerToken);
    try {
      return await new Promise<{ totalMs: number; receiveMs: number; parseMs: number; applyMs: number; bytes: number }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no snapshot within 30 s')), 30_000);
        let sentAt = 0;
        client.onSubscription = (raw, receivedAt) => {
          if (raw.length < 48) return; // started
          const t1 = performance.now();
          const msg = JSON.parse(raw.toString()) as { result: { data: { data: unknown } } };
          const frame = fromWireFrame(msg.result.data.data);
          const t2 = performance.now();
          const { board, gap } = receiveFrame(emptyClientBoard, frame);
          const t3 = performance.now();
          clearTimeout(timer);
          if (gap || board.confirmed.size !== opts.elements) {
            reject(new Error(`snapshot had ${board.confirmed.size} elements (gap: ${gap}), expected ${opts.elements}`));
            return;
          }
          resolve({ totalMs: t3 - sentAt, receiveMs: receivedAt - sentAt, parseMs: t2 - t1, applyMs: t3 - t2, bytes: raw.length });
        };
        sentAt = performance.now();
        client.ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path: 'board.onEvents', input: { boardId } } }));
      });
    } finally {
      client.close();
    }
  };

  const warm = await trial();
  opts.log(`  join warm-up: ${round2(warm.totalMs)} ms (${(warm.bytes / 1e6).toFixed(2)} MB snapshot)`);
  const trials = [];
  for (let i = 0; i < opts.trials; i++) {
    await sleep(300);
    const r = await trial();
    trials.push({ totalMs: round2(r.totalMs), receiveMs: round2(r.receiveMs), parseMs: round2(r.parseMs), applyMs: round2(r.applyMs) });
    opts.log(`  join trial ${i + 1}: ${round2(r.totalMs)} ms (receive ${round2(r.receiveMs)}, parse ${round2(r.parseMs)}, apply ${round2(r.applyMs)})`);
  }
  return {
    elements: opts.elements,
    strokes,
    rectangles,
    snapshotBytes: warm.bytes,
    populateMs: round2(populateMs),
    warmupMs: round2(warm.totalMs),
    trials,
    medianMs: median(trials.map((t) => t.totalMs))!,
    medianReceiveMs: median(trials.map((t) => t.receiveMs))!,
    medianParseMs: median(trials.map((t) => t.parseMs))!,
    medianApplyMs: median(trials.map((t) => t.applyMs))!,
  };
}
