/**
 * Join benchmark through the real client: a board of 10,000 elements (5,000 strokes of 50 points
 * with pressure, 5,000 rectangles) in a server process; a new BoardSession subscribes, and the time
 * runs until the snapshot is received, unpacked and applied (status "live"). Median of 9 joins; the
 * first one also packs every stroke (cold). Run: node --import tsx bench/join-session.ts
 */
import WebSocket from 'ws';
import { newId, zRangeAbove, type Element, type Op } from '../packages/protocol/src/index.js';
import { BoardSession, createInkboardClient } from '../packages/client/src/index.js';
import { signInForToken } from '../packages/client/src/cli/login.js';
import { serverProcess } from '../test/helpers/process.js';

const proc = await serverProcess();
try {
  const { token } = await signInForToken(proc.url, 'joiner', 'password-join', true, 'join');
  const client = createInkboardClient({ url: proc.url, token, WebSocket: WebSocket as never });
  const { id: boardId } = await client.trpc.board.create.mutate({ title: 'join' });
  const zs = zRangeAbove(null, 10_000);
  let s = 7;
  const r = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const hundredths = (v: number) => Math.round(v * 100) / 100;
  const elements: Element[] = zs.map((z, i) =>
    i % 2
      ? { type: 'rectangle', id: newId(), x: hundredths(r() * 5000), y: hundredths(r() * 3000), z, width: 80, height: 50, strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1, fillColor: 'transparent' }
      : {
          type: 'stroke', id: newId(), x: hundredths(r() * 5000), y: hundredths(r() * 3000), z, strokeColor: '#1971c2', strokeWidth: 3, opacity: 1,
          points: Array.from({ length: 50 }, (_, k) => [k * 3, hundredths(Math.sin(k / 4) * 10), hundredths(0.4 + r() * 0.4)] as [number, number, number]),
        },
  );
  for (let i = 0; i < elements.length; i += 1000) {
    const op: Op = { type: 'add', opId: newId(), elements: elements.slice(i, i + 1000) };
    // Pushes are charged by points and bytes (issue 13): when refused as too many, wait and resend.
    for (let attempt = 0; ; attempt++) {
      try {
        await client.trpc.board.push.mutate({ boardId, ops: [op] });
        break;
      } catch (err) {
        if (attempt >= 100 || !/too many|slow down/i.test((err as Error).message)) throw err;
        await new Promise((done) => setTimeout(done, 500));
      }
    }
  }
  const times: number[] = [];
  for (let t = 0; t < 9; t++) {
    const c = createInkboardClient({ url: proc.url, token, WebSocket: WebSocket as never, allOverWebSocket: true });
    await c.trpc.auth.me.query(); // the connection is open: only the join is timed
    const start = performance.now();
    const session = new BoardSession(c, boardId, {
      change: (x) => {
        if (x.status === 'live' && times[t] === undefined) times[t] = performance.now() - start;
      },
    }).start();
    while (times[t] === undefined) await new Promise((done) => setTimeout(done, 5));
    if (session.elements.size !== 10_000) throw new Error(`joined with ${session.elements.size} elements`);
    session.close();
    await c.close();
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`join 10,000 elements: median ${sorted[4]!.toFixed(1)} ms of 9 (min ${sorted[0]!.toFixed(1)}, max ${sorted[8]!.toFixed(1)}); first (cold) ${times[0]!.toFixed(1)} ms`);
  await client.close();
} finally {
  await proc.stop();
}
