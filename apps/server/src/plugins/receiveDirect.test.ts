import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, type AddressInfo, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { receiveDirectly } from './receiveDirect.js';

/** One masked client frame (RFC 6455 5.2). */
function frame(opcode: number, payload: Buffer, fin = true): Buffer {
  const n = payload.length;
  const header = n < 126 ? Buffer.from([0, n]) : n < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = (fin ? 0x80 : 0) | opcode;
  if (n >= 126 && n < 65_536) {
    header[1] = 126;
    header.writeUInt16BE(n, 2);
  } else if (n >= 65_536) {
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(n), 2);
  }
  header[1]! |= 0x80;
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([header, mask, masked]);
}

interface Served {
  port: number;
  messages: string[];
  closed: Promise<number>;
  /** Chunks that went through the Writable (ws's own way) rather than straight to the parser. */
  viaWritable: () => number;
}

let servers: WebSocketServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

/** A ws server (maxPayload 1 KiB) whose one connection's messages are collected; direct = receiveDirectly on it. */
async function serve(direct: boolean): Promise<Served> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 1024 });
  servers.push(wss);
  await once(wss, 'listening');
  const messages: string[] = [];
  let viaWritable = 0;
  let resolveClosed!: (code: number) => void;
  const closed = new Promise<number>((r) => (resolveClosed = r));
  wss.on('connection', (ws: WebSocket) => {
    const receiver = (ws as unknown as { _receiver: { _write: (...a: unknown[]) => void; write: (...a: unknown[]) => boolean } })._receiver;
    // Counts the Writable's calls of _write (made inside its write), not the direct ones.
    const writableWrite = receiver.write;
    receiver.write = function (this: unknown, ...a: unknown[]) {
      viaWritable++;
      return writableWrite.apply(this, a);
    };
    if (direct) receiveDirectly(ws);
    ws.on('message', (data, isBinary) => messages.push(isBinary ? `bin:${(data as Buffer).toString('hex')}` : (data as Buffer).toString('utf8')));
    ws.on('close', (code) => resolveClosed(code));
    ws.on('error', () => {});
  });
  return { port: (wss.address() as AddressInfo).port, messages, closed, viaWritable: () => viaWritable };
}

/** What the server sent after the handshake, per client socket. */
const received = new WeakMap<Socket, Buffer[]>();

/** The code of the close frame the server sent first on `socket` (server frames are unmasked). */
async function closeCodeSent(socket: Socket): Promise<number> {
  let bytes = Buffer.alloc(0);
  await until(() => {
    bytes = Buffer.concat(received.get(socket)!);
    return bytes.length >= 4;
  });
  expect(bytes[0]).toBe(0x88);
  return bytes.readUInt16BE(2);
}

async function handshake(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.setNoDelay(true);
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const chunks: Buffer[] = [];
  received.set(socket, chunks);
  let head = Buffer.alloc(0);
  let end = -1;
  while (end < 0) {
    head = Buffer.concat([head, ((await once(socket, 'data')) as [Buffer])[0]]);
    end = head.indexOf('\r\n\r\n');
  }
  expect(head.toString('latin1')).toMatch(/^HTTP\/1.1 101/);
  chunks.push(head.subarray(end + 4));
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {});
  return socket;
}

/** Writes `bytes` cut at `cuts` (offsets), each piece on its own (waiting a little, so that reads see them apart). */
async function writeInPieces(socket: Socket, bytes: Buffer, cuts: number[]): Promise<void> {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...at, bytes.length]) {
    if (to <= from) continue;
    socket.write(bytes.subarray(from, to));
    from = to;
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function until(check: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('receiveDirectly', () => {
  it('delivers every message, whole and in order, however the frames are cut into reads (fragments, pings, binary)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 200 })), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.boolean(),
        async (payloads, cuts, fragmentFirst) => {
          const served = await serve(true);
          const socket = await handshake(served.port);
          const frames: Buffer[] = [];
          const expected: string[] = [];
          payloads.forEach((p, i) => {
            const isText = typeof p === 'string';
            const bytes = isText ? Buffer.from(p) : Buffer.from(p);
            expected.push(isText ? p : `bin:${bytes.toString('hex')}`);
            if (i === 0 && fragmentFirst && bytes.length >= 2) {
              // A fragmented message with a ping between its fragments.
              const half = bytes.length >> 1;
              frames.push(frame(isText ? 1 : 2, bytes.subarray(0, half), false), frame(9, Buffer.from('p')), frame(0, bytes.subarray(half), true));
            } else frames.push(frame(isText ? 1 : 2, bytes));
          });
          await writeInPieces(socket, Buffer.concat(frames), cuts);
          await until(() => served.messages.length === expected.length);
          expect(served.messages).toEqual(expected);
          socket.destroy();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('takes the direct way for ordinary reads: the Writable sees none of them', async () => {
    const served = await serve(true);
    const socket = await handshake(served.port);
    for (let i = 0; i < 50; i++) {
      socket.write(frame(1, Buffer.from(`~[{"type":"cursor","i":${i}}]`)));
      await new Promise((r) => setTimeout(r, 1));
    }
    await until(() => served.messages.length === 50);
    // The counting wrapper was placed before receiveDirectly: it sees only what falls back to ws's way.
    expect(served.viaWritable()).toBe(0);
    const plain = await serve(false);
    const other = await handshake(plain.port);
    other.write(frame(1, Buffer.from('x')));
    await until(() => plain.messages.length === 1);
    expect(plain.viaWritable()).toBe(1);
    expect(served.messages[49]).toBe('~[{"type":"cursor","i":49}]');
    socket.destroy();
    other.destroy();
  });

  it('closes with 1009 on a message over maxPayload, and 1007 on bad UTF-8, as ws does', async () => {
    for (const direct of [true, false]) {
      const big = await serve(direct);
      const s1 = await handshake(big.port);
      s1.write(Buffer.concat([frame(1, Buffer.from('ok')), frame(1, Buffer.alloc(2048, 97))]));
      expect(await closeCodeSent(s1)).toBe(1009);
      await big.closed;
      expect(big.messages).toEqual(['ok']);
      s1.destroy();

      const bad = await serve(direct);
      const s2 = await handshake(bad.port);
      s2.write(frame(1, Buffer.from([0xc3, 0x28])));
      expect(await closeCodeSent(s2)).toBe(1007);
      await bad.closed;
      expect(bad.messages).toEqual([]);
      s2.destroy();
    }
  });

  it('ends on a close frame: nothing after it is delivered', async () => {
    const served = await serve(true);
    const socket = await handshake(served.port);
    const code = Buffer.alloc(2);
    code.writeUInt16BE(1000);
    socket.write(Buffer.concat([frame(1, Buffer.from('before')), frame(8, code), frame(1, Buffer.from('after'))]));
    expect(await closeCodeSent(socket)).toBe(1000);
    expect(await served.closed).toBe(1000);
    expect(served.messages).toEqual(['before']);
    socket.destroy();
  });
});
